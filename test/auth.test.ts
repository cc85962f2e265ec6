// Authentication end to end: SigV4 headers, presigned URLs, every streaming payload mode, SigV2.
// Requests are signed by @smithy/signature-v4 or by the small independent chunk signer below,
// never by the server's own code.

import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import zlib from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { ACCESS_KEY, bodyBytes, errorCode, raw, REGION, s3error, SECRET_KEY, signer, startServer, uniqueBucket, type TestServer } from './helpers.js';

const sha256hex = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

function signingKey(date: string): Buffer {
  return hmac(hmac(hmac(hmac('AWS4' + SECRET_KEY, date), REGION), 's3'), 'aws4_request');
}

interface Streamed {
  body: Buffer;
  headers: Record<string, string>;
}

/**
 * Builds an aws-chunked upload as the AWS docs describe it: headers signed by @smithy/signature-v4
 * with the STREAMING-* payload hash, then chunks (and trailer) signed in a chain from that seed.
 */
async function streamingUpload(
  srv: TestServer,
  path: string,
  data: Buffer,
  opts: { signed: boolean; trailer?: { name: string; value: string }; chunkSize: number; tamper?: (chunks: Buffer[]) => void },
): Promise<Streamed> {
  const mode = opts.signed ? (opts.trailer ? 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER' : 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD') : 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
  const headers: Record<string, string> = {
    host: `127.0.0.1:${srv.port}`,
    'content-encoding': 'aws-chunked',
    'x-amz-decoded-content-length': String(data.length),
    'x-amz-content-sha256': mode,
  };
  if (opts.trailer) headers['x-amz-trailer'] = opts.trailer.name;
  const signed = await signer().sign({ method: 'PUT', protocol: 'http:', hostname: '127.0.0.1', port: srv.port, path, query: {}, headers });
  const out: Record<string, string> = { ...(signed.headers as Record<string, string>) };
  const auth = out['authorization'] ?? out['Authorization']!;
  let prev = /Signature=([0-9a-f]{64})/.exec(auth)![1]!;
  const amzDate = out['x-amz-date']!;
  const date = amzDate.slice(0, 8);
  const scope = `${date}/${REGION}/s3/aws4_request`;
  const key = signingKey(date);
  const pieces: Buffer[] = [];
  const sizes: number[] = [];
  for (let i = 0; i < data.length; i += opts.chunkSize) sizes.push(Math.min(opts.chunkSize, data.length - i));
  sizes.push(0);
  let offset = 0;
  const chunkPayloads: Buffer[] = [];
  for (const n of sizes) {
    const chunk = data.subarray(offset, offset + n);
    offset += n;
    chunkPayloads.push(Buffer.from(chunk));
  }
  opts.tamper?.(chunkPayloads);
  for (const [i, chunk] of chunkPayloads.entries()) {
    const n = sizes[i]!;
    if (opts.signed) {
      const sts = ['AWS4-HMAC-SHA256-PAYLOAD', amzDate, scope, prev, sha256hex(''), sha256hex(data.subarray(i * opts.chunkSize, i * opts.chunkSize + n))].join('\n');
      prev = hmac(key, sts).toString('hex');
      pieces.push(Buffer.from(`${n.toString(16)};chunk-signature=${prev}\r\n`));
    } else {
      pieces.push(Buffer.from(`${n.toString(16)}\r\n`));
    }
    if (n > 0) pieces.push(chunk, Buffer.from('\r\n'));
  }
  if (opts.trailer) {
    const line = `${opts.trailer.name}:${opts.trailer.value}`;
    pieces.push(Buffer.from(line + '\r\n'));
    if (opts.signed) {
      const sts = ['AWS4-HMAC-SHA256-TRAILER', amzDate, scope, prev, sha256hex(line + '\n')].join('\n');
      pieces.push(Buffer.from(`x-amz-trailer-signature:${hmac(key, sts).toString('hex')}\r\n`));
    }
  }
  pieces.push(Buffer.from('\r\n'));
  const body = Buffer.concat(pieces);
  out['content-length'] = String(body.length);
  return { body, headers: out };
}

async function send(srv: TestServer, method: string, path: string, headers: Record<string, string>, body?: Buffer, split = 1000): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: srv.port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    if (!body) return void req.end();
    // Write in awkward pieces to exercise the incremental decoder.
    let i = 0;
    const writeMore = () => {
      while (i < body.length) {
        const ok = req.write(body.subarray(i, i + split));
        i += split;
        if (!ok) return void req.once('drain', writeMore);
      }
      req.end();
    };
    writeMore();
  });
}

describe('authentication', () => {
  let srv: TestServer;
  let bucket: string;
  before(async () => {
    srv = await startServer({ inlineThreshold: 100 });
    bucket = uniqueBucket();
    await srv.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  after(async () => srv.stop());

  it('refuses anonymous, unknown-key, wrong-secret and tampered requests', async () => {
    await raw(srv, { method: 'PUT', path: `/${bucket}/k`, body: 'v' });
    const anon = await raw(srv, { method: 'GET', path: `/${bucket}/k`, sign: false });
    assert.equal(anon.status, 403);
    assert.equal(errorCode(anon.text), 'AccessDenied');
    assert.equal(anon.headers['x-amz-request-id'], /<RequestId>([^<]*)</.exec(anon.text)?.[1]);
    const unknown = await raw(srv, { method: 'GET', path: `/${bucket}/k`, accessKeyId: 'NOSUCHKEY00000000000' });
    assert.equal(errorCode(unknown.text), 'InvalidAccessKeyId');
    const wrong = await raw(srv, { method: 'GET', path: `/${bucket}/k`, secretAccessKey: 'not-the-secret-000000' });
    assert.equal(wrong.status, 403);
    assert.equal(errorCode(wrong.text), 'SignatureDoesNotMatch');
    for (const tamper of [
      (r: { path: string }) => (r.path = `/${bucket}/K`),
      (r: { method: string }) => (r.method = 'DELETE'),
      (r: { query: Record<string, string> }) => (r.query['x'] = '1'),
      (r: { headers: Record<string, string> }) => (r.headers['x-amz-date'] = r.headers['x-amz-date']!.replace(/(\d)Z$/, (_m, d: string) => `${(Number(d) + 1) % 10}Z`)),
    ]) {
      const r = await raw(srv, { method: 'GET', path: `/${bucket}/k`, afterSign: tamper as never });
      assert.ok(r.status === 403 || r.status === 400, `tampered request got ${r.status}`);
    }
  });

  it('refuses requests dated more than 15 minutes away', async () => {
    const headers = { host: `127.0.0.1:${srv.port}`, 'x-amz-content-sha256': sha256hex('') };
    const req = await signer().sign({ method: 'GET', protocol: 'http:', hostname: '127.0.0.1', port: srv.port, path: `/${bucket}/k`, query: {}, headers }, { signingDate: new Date(Date.now() - 20 * 60 * 1000) });
    const r = await send(srv, 'GET', `/${bucket}/k`, req.headers as Record<string, string>);
    assert.equal(r.status, 403);
    assert.equal(errorCode(r.text), 'RequestTimeTooSkewed');
  });

  it('serves presigned GET and PUT URLs, and refuses expired or over-long ones', async () => {
    const presign = async (method: string, key: string, expiresIn: number, signingDate?: Date) => {
      const req = await signer().presign(
        // As @aws-sdk/s3-request-presigner does: S3 presigned URLs carry UNSIGNED-PAYLOAD.
        { method, protocol: 'http:', hostname: '127.0.0.1', port: srv.port, path: `/${bucket}/${key}`, query: {}, headers: { host: `127.0.0.1:${srv.port}`, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } },
        { expiresIn, ...(signingDate ? { signingDate } : {}) },
      );
      const qs = Object.entries(req.query ?? {})
        .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
        .join('&');
      return `/${bucket}/${key}?${qs}`;
    };
    const putUrl = await presign('PUT', 'presigned', 600);
    const put = await send(srv, 'PUT', putUrl, { 'content-length': '5' }, Buffer.from('hello'));
    assert.equal(put.status, 200, put.text);
    const get = await send(srv, 'GET', await presign('GET', 'presigned', 600), {});
    assert.equal(get.status, 200);
    assert.equal(get.text, 'hello');
    const expired = await send(srv, 'GET', await presign('GET', 'presigned', 60, new Date(Date.now() - 3600_000)), {});
    assert.equal(expired.status, 403);
    assert.equal(errorCode(expired.text), 'AccessDenied');
    assert.match(expired.text, /expired/);
    const tooLong = (await presign('GET', 'presigned', 600)).replace(/X-Amz-Expires=600/, 'X-Amz-Expires=604801');
    const r = await send(srv, 'GET', tooLong, {});
    assert.ok(r.status === 400 || r.status === 403);
    assert.equal(errorCode(r.text), 'AuthorizationQueryParametersError');
    const tampered = (await presign('GET', 'presigned', 600)).replace('/presigned?', '/other?');
    assert.equal(errorCode((await send(srv, 'GET', tampered, {})).text), 'SignatureDoesNotMatch');
  });

  for (const size of [0, 50, 70_000, 1_000_000]) {
    it(`accepts STREAMING-AWS4-HMAC-SHA256-PAYLOAD uploads with every chunk verified (${size} bytes)`, async () => {
      const data = Buffer.alloc(size, 'abcdefghij');
      const path = `/${bucket}/signed-chunks-${size}`;
      const up = await streamingUpload(srv, path, data, { signed: true, chunkSize: 65536 });
      const r = await send(srv, 'PUT', path, up.headers, up.body, 777);
      assert.equal(r.status, 200, r.text);
      const got = await srv.s3.send(new GetObjectCommand({ Bucket: bucket, Key: path.split('/')[2]! }));
      assert.deepEqual(await bodyBytes(got.Body), data);
      assert.equal(got.ContentEncoding, undefined, 'aws-chunked is not stored as the object encoding');
    });
  }

  it('rejects a signed chunk whose data was altered, and stores nothing', async () => {
    const data = Buffer.alloc(200_000, 'x');
    const path = `/${bucket}/bad-chunk`;
    const up = await streamingUpload(srv, path, data, { signed: true, chunkSize: 65536, tamper: (c) => (c[1]![5] = 0x79) });
    const r = await send(srv, 'PUT', path, up.headers, up.body);
    assert.equal(r.status, 403);
    assert.equal(errorCode(r.text), 'SignatureDoesNotMatch');
    const e = await s3error(srv.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'bad-chunk' })));
    assert.equal(e.$metadata.httpStatusCode, 404);
  });

  it('accepts signed and unsigned trailers with checksums, and rejects a wrong trailer checksum', async () => {
    const data = Buffer.alloc(150_000, 'q');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(data));
    for (const signed of [true, false]) {
      const path = `/${bucket}/trailer-${signed}`;
      const up = await streamingUpload(srv, path, data, { signed, chunkSize: 64 * 1024, trailer: { name: 'x-amz-checksum-crc32', value: crc.toString('base64') } });
      const r = await send(srv, 'PUT', path, up.headers, up.body, 4096);
      assert.equal(r.status, 200, r.text);
      const head = await srv.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `trailer-${signed}`, ChecksumMode: 'ENABLED' }));
      assert.equal(head.ChecksumCRC32, crc.toString('base64'));
      assert.equal(head.ContentLength, data.length);
    }
    const path = `/${bucket}/trailer-bad`;
    const up = await streamingUpload(srv, path, data, { signed: false, chunkSize: 64 * 1024, trailer: { name: 'x-amz-checksum-crc32', value: 'AAAAAA==' } });
    const r = await send(srv, 'PUT', path, up.headers, up.body);
    assert.equal(r.status, 400);
    assert.equal(errorCode(r.text), 'BadDigest');
  });

  it('accepts SigV2 bucket requests signed the way botocore signs them ("/bucket/" for path-style)', async () => {
    const date = new Date().toUTCString();
    const name = uniqueBucket('v2');
    const sig = createHmac('sha1', SECRET_KEY).update(`PUT\n\n\n${date}\n/${name}/`).digest('base64');
    const r = await send(srv, 'PUT', `/${name}`, { date, authorization: `AWS ${ACCESS_KEY}:${sig}`, 'content-length': '0' });
    assert.equal(r.status, 200, r.text);
  });

  it('refuses SigV2 for operations selected by a sub-resource SigV2 does not sign', async () => {
    const date = new Date().toUTCString();
    // A correctly signed SigV2 GetObject, with ?attributes appended (SigV2 does not sign it).
    const sts = `GET\n\n\n${date}\nx-amz-object-attributes:ETag\n/${bucket}/k`;
    const sig = createHmac('sha1', SECRET_KEY).update(sts).digest('base64');
    const r = await send(srv, 'GET', `/${bucket}/k?attributes`, { date, authorization: `AWS ${ACCESS_KEY}:${sig}`, 'x-amz-object-attributes': 'ETag' });
    assert.equal(r.status, 400);
    assert.equal(errorCode(r.text), 'InvalidRequest');
  });

  it('accepts SigV2 header authentication', async () => {
    const date = new Date().toUTCString();
    const path = `/${bucket}/k`;
    const sts = `GET\n\n\n${date}\n${path}`;
    const sig = createHmac('sha1', SECRET_KEY).update(sts).digest('base64');
    const r = await send(srv, 'GET', path, { date, authorization: `AWS ${ACCESS_KEY}:${sig}` });
    assert.equal(r.status, 200, r.text);
    const bad = await send(srv, 'GET', path, { date, authorization: `AWS ${ACCESS_KEY}:${sig.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'))}` });
    assert.equal(bad.status, 403);
  });
});
