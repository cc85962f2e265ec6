// Hostile and unlucky clients: bodies that stop or are cut off, slow headers, huge or odd XML
// (as Go's encoding/xml writes it), duplicated credentials, odd paths. Each case was a way to hang,
// exhaust or fool the server.

import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateMultipartUploadCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { ACCESS_KEY, SECRET_KEY, errorCode, raw, rawSocket, s3error, signedHead, startServer, tempFiles, uniqueBucket, type TestServer } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function openFds(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

function tmpFiles(dataDir: string): string[] {
  return tempFiles(dataDir);
}

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Opens a connection, sends `head` and `body`, and resolves with what the server answers and whether it closed. */
function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
}

function collect(s: net.Socket): { text: () => string; closed: Promise<void> } {
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(c));
  const closed = new Promise<void>((resolve) => s.on('close', () => resolve()));
  return { text: () => Buffer.concat(chunks).toString('latin1'), closed };
}

function completeXml(parts: { n: number; etag: string }[], extra = ''): string {
  // As Go's encoding/xml writes it: quotes as &#34;, child order ETag before PartNumber.
  const body = parts.map((p) => `<Part><ETag>&#34;${p.etag}&#34;</ETag><PartNumber>${p.n}</PartNumber>${extra}</Part>`).join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${body}</CompleteMultipartUpload>`;
}

function md5b64(b: Buffer | string): string {
  return createHash('md5').update(b).digest('base64');
}

describe('hardening: connections', () => {
  let srv: TestServer;
  const bucket = uniqueBucket('conn');
  before(async () => {
    srv = await startServer({ idleTimeoutMs: 600 });
    await raw(srv, { method: 'PUT', path: `/${bucket}` });
  });
  after(() => srv.stop());

  it('frees everything when a client half-closes (FIN) part-way through a body', async () => {
    const fdsBefore = openFds();
    const N = 200;
    const results = await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const s = await connect(srv.port);
        const out = collect(s);
        const head = await signedHead(srv, 'PUT', `/${bucket}/fin-${i}`, { 'content-length': '1000000', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' });
        s.write(head);
        s.write(Buffer.alloc(10, 'x'));
        await sleep(50);
        s.end();
        await Promise.race([out.closed, sleep(5000)]);
        const closed = s.destroyed || s.readableEnded;
        s.destroy();
        return { closed, text: out.text() };
      }),
    );
    assert.ok(results.every((r) => r.closed), 'the server closed every half-closed connection');
    // The client can still read the answer on its half-open connection.
    assert.ok(results.every((r) => r.text.startsWith('HTTP/1.1 400') && r.text.includes('<Code>IncompleteBody</Code>')), results[0]!.text);
    await until('fds back to their count before', () => openFds() <= fdsBefore + 5);
    await until('no temp file left', () => tmpFiles(srv.dataDir).length === 0);
    const conns = await new Promise<number>((r) => srv.trove.server.getConnections((_e, n) => r(n)));
    assert.ok(conns <= 2, `open connections: ${conns}`);
    // Nothing of the cut uploads was stored.
    const e = await s3error(srv.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'fin-0' })));
    assert.equal(e.$metadata.httpStatusCode, 404);
  });

  it('answers RequestTimeout to a body that stops arriving, and frees its temp file', async () => {
    const s = await connect(srv.port);
    const out = collect(s);
    s.write(await signedHead(srv, 'PUT', `/${bucket}/stalled`, { 'content-length': '1000000', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }));
    s.write(Buffer.alloc(200_000, 'y'));
    const started = Date.now();
    await Promise.race([out.closed, sleep(5000)]);
    const elapsed = Date.now() - started;
    s.destroy();
    assert.match(out.text(), /^HTTP\/1\.1 400/);
    assert.equal(errorCode(out.text()), 'RequestTimeout');
    assert.ok(elapsed >= 500 && elapsed < 3000, `timed out after ${elapsed} ms (idle timeout 600 ms)`);
    await until('no temp file left', () => tmpFiles(srv.dataDir).length === 0);
  });

  it('does not time out a body that arrives slowly but steadily', async () => {
    const data = Buffer.alloc(5000, 'z');
    const s = await connect(srv.port);
    const out = collect(s);
    s.write(await signedHead(srv, 'PUT', `/${bucket}/slow`, { 'content-length': String(data.length), 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }));
    for (let i = 0; i < 5; i++) {
      s.write(data.subarray(i * 1000, (i + 1) * 1000));
      await sleep(300);
    }
    await until('a response', () => out.text().includes('\r\n\r\n'));
    s.destroy();
    assert.match(out.text(), /^HTTP\/1\.1 200/);
  });

  it('times out a header section that never finishes', async () => {
    const started = Date.now();
    const text = await rawSocket(srv.port, `PUT /${bucket}/k HTTP/1.1\r\nHost: x\r\nx-slow: `, 5000);
    assert.ok(Date.now() - started < 4000, 'the server closed the connection');
    assert.match(text, /^HTTP\/1\.1 400/);
    assert.equal(errorCode(text), 'RequestTimeout');
  });
});

describe('hardening: XML bodies', () => {
  let srv: TestServer;
  const bucket = uniqueBucket('xml');
  before(async () => {
    srv = await startServer();
    await raw(srv, { method: 'PUT', path: `/${bucket}` });
  });
  after(() => srv.stop());

  it('completes an upload whose ETags are written as Go writes them (&#34;), children in any order', async () => {
    const key = 'go-mp';
    const up = await srv.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const part1 = Buffer.alloc(5 * 1024 * 1024, 'a');
    const part2 = Buffer.from('tail');
    const e1 = (await srv.s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: up.UploadId, PartNumber: 1, Body: part1 }))).ETag!;
    const e2 = (await srv.s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: up.UploadId, PartNumber: 2, Body: part2 }))).ETag!;
    const xml = completeXml([
      { n: 1, etag: e1.replace(/"/g, '') },
      { n: 2, etag: e2.replace(/"/g, '') },
    ]);
    const r = await raw(srv, { method: 'POST', path: `/${bucket}/${key}`, query: { uploadId: up.UploadId! }, body: xml });
    assert.equal(r.status, 200, r.text);
    const got = await srv.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    assert.equal(got.ContentLength, part1.length + part2.length);
  });

  it('deletes keys with quotes, apostrophes and tabs sent as character references (minio-go)', async () => {
    const keys = ['say "hi"', "it's", 'tab\there', 'amp&lt'];
    for (const k of keys) await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: 'x' }));
    const refs = (k: string) => k.replace(/&/g, '&amp;').replace(/"/g, '&#34;').replace(/'/g, '&#39;').replace(/\t/g, '&#x9;');
    const xml = `<Delete><Object><Key>${refs(keys[0]!)}</Key></Object><Object><Key>${refs(keys[1]!)}</Key></Object><Object><VersionId>null</VersionId><Key>${refs(keys[2]!)}</Key></Object><Object><Key>${refs(keys[3]!)}</Key></Object><Quiet>false</Quiet></Delete>`;
    const r = await raw(srv, { method: 'POST', path: `/${bucket}`, query: { delete: '' }, headers: { 'content-md5': md5b64(xml) }, body: xml });
    assert.equal(r.status, 200, r.text);
    assert.equal((r.text.match(/<Deleted>/g) ?? []).length, 4, r.text);
    for (const k of keys) {
      const e = await s3error(srv.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: k })));
      assert.equal(e.$metadata.httpStatusCode, 404, `${k} was deleted`);
    }
  });

  it('refuses a Delete whose key is not UTF-8 or holds NUL, and deletes nothing', async () => {
    const mangled = 'a\uFFFDb';
    await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: mangled, Body: 'keep' }));
    const bodies = [
      Buffer.concat([Buffer.from('<Delete><Object><Key>a'), Buffer.from([0xff]), Buffer.from('b</Key></Object></Delete>')]),
      Buffer.from('<Delete><Object><Key>a&#0;b</Key></Object></Delete>'),
      Buffer.from('<Delete><Object><Key>a\u0000b</Key></Object></Delete>'),
      Buffer.from('<!DOCTYPE d [<!ENTITY k "a\uFFFDb">]><Delete><Object><Key>&k;</Key></Object></Delete>'),
    ];
    for (const body of bodies) {
      const r = await raw(srv, { method: 'POST', path: `/${bucket}`, query: { delete: '' }, headers: { 'content-md5': md5b64(body) }, body });
      assert.equal(r.status, 400, r.text);
      assert.equal(errorCode(r.text), 'MalformedXML');
    }
    const still = await srv.s3.send(new GetObjectCommand({ Bucket: bucket, Key: mangled }));
    assert.equal(await still.Body!.transformToString(), 'keep');
  });

  it('refuses an over-long part list as soon as the 10,001st part arrives', async () => {
    const parts = Array.from({ length: 10_001 }, (_, i) => ({ n: i + 1, etag: 'd41d8cd98f00b204e9800998ecf8427e' }));
    const xml = Buffer.from(completeXml(parts));
    const s = await connect(srv.port);
    const out = collect(s);
    // Declare more than is sent: the answer must not wait for the rest of the body.
    s.write(await signedHead(srv, 'POST', `/${bucket}/big?uploadId=00000000000000000000000000000000`, { 'content-length': String(xml.length + 100_000), 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }));
    s.write(xml);
    await until('an answer before the body ends', () => out.text().includes('</Error>'));
    s.destroy();
    assert.equal(errorCode(out.text()), 'MalformedXML');
  });

  it('refuses more than 1000 keys in one Delete', async () => {
    const xml = `<Delete>${Array.from({ length: 1001 }, (_, i) => `<Object><Key>k${i}</Key></Object>`).join('')}</Delete>`;
    const r = await raw(srv, { method: 'POST', path: `/${bucket}`, query: { delete: '' }, headers: { 'content-md5': md5b64(xml) }, body: xml });
    assert.equal(r.status, 400);
    assert.equal(errorCode(r.text), 'MalformedXML');
  });

  it('stays responsive while four clients send maximal XML bodies', async (t) => {
    await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'probe', Body: 'p' }));
    const up = await srv.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'maximal' }));
    // 10,000 parts, each with every checksum element (long values), ~7 MB: the worst legal document.
    const sums = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'].map((a) => `\n  <Checksum${a}>${'A'.repeat(110)}=</Checksum${a}>`).join('');
    const complete = Buffer.from(completeXml(Array.from({ length: 10_000 }, (_, i) => ({ n: i + 1, etag: '0123456789abcdef0123456789abcdef' })), sums));
    assert.ok(complete.length > 7_000_000 && complete.length < 10 * 1024 * 1024, `${complete.length} bytes`);
    const key = 'k'.repeat(1000);
    const del = Buffer.from(`<Delete>${Array.from({ length: 1000 }, (_, i) => `<Object><Key>${key}${i}</Key><VersionId>null</VersionId></Object>`).join('\n')}</Delete>`);
    const delMd5 = md5b64(del);
    const latencies: number[] = [];
    let sending = true;
    const probe = (async () => {
      while (sending) {
        const t = performance.now();
        const r = await raw(srv, { method: 'GET', path: `/${bucket}/probe`, sign: false, headers: {} });
        latencies.push(performance.now() - t);
        assert.ok(r.status === 403 || r.status === 200);
        await sleep(5);
      }
    })();
    const clients = [0, 1, 2, 3].map(async (i) => {
      const r =
        i % 2 === 0
          ? await raw(srv, { method: 'POST', path: `/${bucket}/maximal`, query: { uploadId: up.UploadId! }, body: complete, payloadHash: 'UNSIGNED-PAYLOAD' })
          : await raw(srv, { method: 'POST', path: `/${bucket}`, query: { delete: '' }, headers: { 'content-md5': delMd5 }, body: del, payloadHash: 'UNSIGNED-PAYLOAD' });
      return r;
    });
    const answers = await Promise.all(clients);
    sending = false;
    await probe;
    assert.equal(errorCode(answers[0]!.text), 'InvalidPart');
    assert.equal(answers[1]!.status, 200, answers[1]!.text);
    latencies.sort((a, b) => a - b);
    const worst = latencies[latencies.length - 1]!;
    // The target is 50 ms; the assertion leaves room for a loaded CI machine (the
    // synchronous parser held the loop ~1 s per document).
    t.diagnostic(`probe GET latency: ${latencies.length} probes, p50 ${latencies[latencies.length >> 1]!.toFixed(1)} ms, max ${worst.toFixed(1)} ms`);
    assert.ok(latencies.length >= 5, `${latencies.length} probes`);
    assert.ok(worst < 250, `worst probe latency ${worst.toFixed(1)} ms (p50 ${latencies[latencies.length >> 1]!.toFixed(1)} ms)`);
  });
});

describe('hardening: requests', () => {
  let srv: TestServer;
  const bucket = uniqueBucket('req');
  before(async () => {
    srv = await startServer();
    await raw(srv, { method: 'PUT', path: `/${bucket}` });
    await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'v' }));
  });
  after(() => srv.stop());

  it('answers PutBucketTagging with 200, as minio-js requires', async () => {
    const xml = '<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>';
    const r = await raw(srv, { method: 'PUT', path: `/${bucket}`, query: { tagging: '' }, headers: { 'content-md5': md5b64(xml) }, body: xml });
    assert.equal(r.status, 200, r.text);
  });

  it('refuses a path with an empty first segment instead of listing buckets', async () => {
    for (const p of [`//${bucket}/k`, '//']) {
      const r = await raw(srv, { method: 'GET', path: p });
      assert.equal(r.status, 400, `${p}: ${r.text}`);
      assert.equal(errorCode(r.text), 'InvalidURI');
    }
  });

  it('refuses two Authorization headers', async () => {
    const head = await signedHead(srv, 'GET', `/${bucket}/k`, { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' });
    const auth = /authorization: (.*)\r\n/i.exec(head)![1]!;
    const doubled = head.replace('\r\n\r\n', `\r\nauthorization: ${auth.replace(ACCESS_KEY, 'SOMEONEELSE000000000')}\r\n\r\n`);
    const text = await rawSocket(srv.port, doubled);
    assert.match(text, /^HTTP\/1\.1 400/);
    assert.equal(errorCode(text), 'InvalidArgument');
  });

  it('refuses a second X-Amz-Signature or SigV2 Signature parameter', async () => {
    const date = new Date().toUTCString();
    const expires = String(Math.floor(Date.now() / 1000) + 600);
    const sig = createHmac('sha1', SECRET_KEY).update(`GET\n\n\n${expires}\n/${bucket}/k`).digest('base64');
    const q = `AWSAccessKeyId=${ACCESS_KEY}&Expires=${expires}&Signature=${encodeURIComponent(sig)}`;
    const ok = await rawSocket(srv.port, `GET /${bucket}/k?${q} HTTP/1.1\r\nHost: x\r\nDate: ${date}\r\nConnection: close\r\n\r\n`);
    assert.match(ok, /^HTTP\/1\.1 200/, ok);
    const twice = await rawSocket(srv.port, `GET /${bucket}/k?${q}&Signature=AAAA HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.match(twice, /^HTTP\/1\.1 400/);
    assert.equal(errorCode(twice), 'InvalidArgument');
    const v4 = `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${ACCESS_KEY}%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20260101T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=${'0'.repeat(64)}&X-Amz-Signature=${'1'.repeat(64)}`;
    const v4twice = await rawSocket(srv.port, `GET /${bucket}/k?${v4} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.equal(errorCode(v4twice), 'InvalidArgument');
  });

  it('caps SigV2 presigned URLs at seven days', async () => {
    const url = (expires: number) => {
      const sig = createHmac('sha1', SECRET_KEY).update(`GET\n\n\n${expires}\n/${bucket}/k`).digest('base64');
      return `/${bucket}/k?AWSAccessKeyId=${ACCESS_KEY}&Expires=${expires}&Signature=${encodeURIComponent(sig)}`;
    };
    const get = (p: string) => rawSocket(srv.port, `GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    const now = Math.floor(Date.now() / 1000);
    assert.match(await get(url(now + 6 * 24 * 3600)), /^HTTP\/1\.1 200/);
    const year2100 = await get(url(Date.UTC(2100, 0, 1) / 1000));
    assert.match(year2100, /^HTTP\/1\.1 403/);
    assert.equal(errorCode(year2100), 'AccessDenied');
    assert.match(await get(url(now + 8 * 24 * 3600)), /^HTTP\/1\.1 403/);
  });
});

describe('hardening: data at rest', () => {
  it('creates the data directory 0700 and its files 0600 whatever the umask, and tightens an old one', async () => {
    const old = process.umask(0o022);
    try {
      const dataDir = fs.mkdtempSync(path.join(fs.realpathSync('/tmp'), 'trove-perm-'));
      fs.chmodSync(dataDir, 0o755);
      const first = await startServer({ dataDir });
      await raw(first, { method: 'PUT', path: '/perm-bucket' });
      await first.s3.send(new PutObjectCommand({ Bucket: 'perm-bucket', Key: 'small', Body: 'secret' }));
      await first.s3.send(new PutObjectCommand({ Bucket: 'perm-bucket', Key: 'big', Body: Buffer.alloc(300_000, 1) }));
      const loose = (dir: string): string[] => {
        const out: string[] = [];
        const walk = (d: string) => {
          for (const e of fs.readdirSync(d, { withFileTypes: true })) {
            const p = path.join(d, e.name);
            if ((fs.lstatSync(p).mode & 0o077) !== 0) out.push(p);
            if (e.isDirectory()) walk(p);
          }
        };
        if ((fs.statSync(dir).mode & 0o077) !== 0) out.push(dir);
        walk(dir);
        return out;
      };
      assert.deepEqual(loose(dataDir), []);
      assert.ok(fs.existsSync(path.join(dataDir, 'meta', 'meta.db-wal')));
      await first.stop();
      // An older Trove left everything readable: the next start tightens it.
      fs.chmodSync(dataDir, 0o755);
      for (const f of ['meta', 'meta/meta.db', 'meta/meta.db-wal', 'blobs', 'blobs/00']) {
        if (fs.existsSync(path.join(dataDir, f))) fs.chmodSync(path.join(dataDir, f), f.includes('.') ? 0o644 : 0o755);
      }
      const second = await startServer({ dataDir });
      try {
        assert.deepEqual(loose(dataDir), []);
        const got = await second.s3.send(new GetObjectCommand({ Bucket: 'perm-bucket', Key: 'small' }));
        assert.equal(await got.Body!.transformToString(), 'secret');
      } finally {
        await second.stop();
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
    } finally {
      process.umask(old);
    }
  });
});
