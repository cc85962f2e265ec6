// Object operations through the real SDK (default checksums and WHEN_REQUIRED) and raw HTTP.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { bodyBytes, countBlobFiles, errorCode, raw, rawSocket, s3error, signedHead, startServer, uniqueBucket, type TestServer } from './helpers.js';

const md5hex = (b: Buffer) => createHash('md5').update(b).digest('hex');

describe('objects', () => {
  let srv: TestServer;
  let bucket: string;
  before(async () => {
    srv = await startServer({ inlineThreshold: 1024 });
    bucket = uniqueBucket();
    await srv.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  after(async () => srv.stop());

  for (const [label, size] of [
    ['empty', 0],
    ['inline', 1024],
    ['blob', 1025],
    ['multi-MiB blob', 3 * 1024 * 1024 + 5],
  ] as const) {
    it(`round-trips a ${label} object (${size} bytes) with metadata, with both checksum settings`, async () => {
      for (const client of [srv.s3, srv.s3WhenRequired]) {
        const key = `obj/${label}/${client === srv.s3 ? 'default' : 'when-required'}`;
        const data = randomBytes(size);
        const put = await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: data,
            ContentType: 'text/x-test',
            ContentDisposition: 'attachment; filename="x.txt"',
            CacheControl: 'max-age=60',
            ContentLanguage: 'fr',
            Metadata: { colour: 'blue', empty: '' },
          }),
        );
        assert.equal(put.ETag, `"${md5hex(data)}"`);
        const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        assert.deepEqual(await bodyBytes(got.Body), data);
        assert.equal(got.ETag, `"${md5hex(data)}"`);
        assert.equal(got.ContentType, 'text/x-test');
        assert.equal(got.ContentDisposition, 'attachment; filename="x.txt"');
        assert.equal(got.CacheControl, 'max-age=60');
        assert.equal(got.ContentLanguage, 'fr');
        assert.equal(got.ContentLength, size);
        assert.deepEqual(got.Metadata, { colour: 'blue', empty: '' });
        assert.ok(got.LastModified instanceof Date);
        const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        assert.equal(head.ContentLength, size);
        assert.equal(head.ETag, put.ETag);
      }
    });
  }

  it('streams a body of unknown shape through the SDK (aws-chunked with a CRC32 trailer)', async () => {
    const data = randomBytes(5 * 1024 * 1024 + 3);
    const chunks = [data.subarray(0, 1000), data.subarray(1000, 4_000_000), data.subarray(4_000_000)];
    await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'streamed', Body: Readable.from(chunks), ContentLength: data.length }));
    const got = await srv.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'streamed', ChecksumMode: 'ENABLED' }));
    assert.deepEqual(await bodyBytes(got.Body), data);
    assert.ok(got.ChecksumCRC32, 'the checksum the SDK sent is stored and returned');
  });

  it('stores and returns every flexible checksum algorithm', async () => {
    const data = Buffer.from('123456789');
    for (const alg of ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const) {
      const key = 'ck-' + alg;
      const put = await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data, ChecksumAlgorithm: alg }));
      const field = `Checksum${alg}` as const;
      assert.ok(put[field], `${alg} echoed on PUT`);
      const head = await srv.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
      assert.equal(head[field], put[field]);
      const plain = await srv.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      assert.equal(plain[field], undefined, 'only returned when asked for');
    }
    const expected = { CRC32: 'y/Q5Jg==', SHA256: createHash('sha256').update(data).digest('base64') };
    const h = await srv.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'ck-CRC32', ChecksumMode: 'ENABLED' }));
    assert.equal(h.ChecksumCRC32, expected.CRC32);
    const h2 = await srv.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'ck-SHA256', ChecksumMode: 'ENABLED' }));
    assert.equal(h2.ChecksumSHA256, expected.SHA256);
  });

  it('rejects a wrong checksum or Content-MD5 with BadDigest and stores nothing', async () => {
    const bad = await raw(srv, { method: 'PUT', path: `/${bucket}/bad-crc`, body: 'hello', headers: { 'x-amz-checksum-crc32': 'AAAAAA==' } });
    assert.equal(bad.status, 400);
    assert.equal(errorCode(bad.text), 'BadDigest');
    const badMd5 = await raw(srv, { method: 'PUT', path: `/${bucket}/bad-md5`, body: 'hello', headers: { 'content-md5': createHash('md5').update('other').digest('base64') } });
    assert.equal(errorCode(badMd5.text), 'BadDigest');
    const invalidMd5 = await raw(srv, { method: 'PUT', path: `/${bucket}/bad-md5`, body: 'hello', headers: { 'content-md5': 'abc' } });
    assert.equal(errorCode(invalidMd5.text), 'InvalidDigest');
    for (const key of ['bad-crc', 'bad-md5']) {
      const e = await s3error(srv.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));
      assert.equal(e.$metadata.httpStatusCode, 404);
    }
    const good = await raw(srv, { method: 'PUT', path: `/${bucket}/good-md5`, body: 'hello', headers: { 'content-md5': createHash('md5').update('hello').digest('base64') } });
    assert.equal(good.status, 200);
  });

  it('rejects a body that does not match the signed payload hash', async () => {
    const r = await raw(srv, { method: 'PUT', path: `/${bucket}/tampered`, body: 'hello', payloadHash: createHash('sha256').update('HELLO').digest('hex') });
    assert.equal(r.status, 400);
    assert.equal(errorCode(r.text), 'XAmzContentSHA256Mismatch');
    const e = await s3error(srv.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'tampered' })));
    assert.equal(e.$metadata.httpStatusCode, 404);
  });

  it('serves byte ranges as S3 does', async () => {
    const data = Buffer.from('0123456789abcdefghij');
    for (const key of ['range-inline', 'range-blob']) {
      const body = key === 'range-blob' ? Buffer.concat([data, Buffer.alloc(2000, 'z')]) : data;
      await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      const get = async (range: string) => srv.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range }));
      let r = await get('bytes=2-5');
      assert.equal((await bodyBytes(r.Body)).toString(), '2345');
      assert.equal(r.ContentRange, `bytes 2-5/${body.length}`);
      assert.equal(r.$metadata.httpStatusCode, 206);
      r = await get('bytes=-3');
      assert.deepEqual(await bodyBytes(r.Body), body.subarray(body.length - 3));
      r = await get('bytes=15-');
      assert.deepEqual(await bodyBytes(r.Body), body.subarray(15));
      r = await get(`bytes=10-${body.length + 100}`);
      assert.deepEqual(await bodyBytes(r.Body), body.subarray(10));
      const e = await s3error(get(`bytes=${body.length}-`));
      assert.equal(e.name, 'InvalidRange');
      assert.equal(e.$metadata.httpStatusCode, 416);
      // Multiple ranges are not honoured: the whole object comes back.
      r = await get('bytes=0-1,4-5');
      assert.equal(r.$metadata.httpStatusCode, 200);
      assert.equal(r.ContentLength, body.length);
    }
    await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'range-empty', Body: Buffer.alloc(0) }));
    const e = await s3error(srv.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range-empty', Range: 'bytes=0-' })));
    assert.equal(e.$metadata.httpStatusCode, 416);
  });

  it('applies GET conditions with S3 precedence rules', async () => {
    const put = await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond', Body: 'x' }));
    const etag = put.ETag!;
    const head = await srv.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'cond' }));
    const lm = head.LastModified!;
    const past = new Date(lm.getTime() - 3600_000);
    const future = new Date(lm.getTime() + 3600_000);
    const status = async (h: Record<string, string>) => (await raw(srv, { method: 'GET', path: `/${bucket}/cond`, headers: h })).status;
    assert.equal(await status({ 'if-match': etag }), 200);
    assert.equal(await status({ 'if-match': '"nope"' }), 412);
    assert.equal(await status({ 'if-none-match': etag }), 304);
    assert.equal(await status({ 'if-none-match': '"nope"' }), 200);
    assert.equal(await status({ 'if-modified-since': future.toUTCString() }), 304);
    assert.equal(await status({ 'if-modified-since': lm.toUTCString() }), 304);
    assert.equal(await status({ 'if-modified-since': past.toUTCString() }), 200);
    assert.equal(await status({ 'if-unmodified-since': past.toUTCString() }), 412);
    assert.equal(await status({ 'if-unmodified-since': future.toUTCString() }), 200);
    // If-Match true wins over If-Unmodified-Since false; If-None-Match false wins over If-Modified-Since true.
    assert.equal(await status({ 'if-match': etag, 'if-unmodified-since': past.toUTCString() }), 200);
    assert.equal(await status({ 'if-none-match': '"nope"', 'if-modified-since': future.toUTCString() }), 200);
    const r304 = await raw(srv, { method: 'GET', path: `/${bucket}/cond`, headers: { 'if-none-match': etag } });
    assert.equal(r304.headers.etag, etag);
    assert.equal(r304.body.length, 0);
  });

  it('honours conditional writes: If-None-Match: * and If-Match, with exactly one winner in a race', async () => {
    await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cas', Body: 'one', IfNoneMatch: '*' }));
    const e = await s3error(srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cas', Body: 'two', IfNoneMatch: '*' })));
    assert.equal(e.name, 'PreconditionFailed');
    assert.equal(e.$metadata.httpStatusCode, 412);
    const cur = await srv.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'cas' }));
    await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cas', Body: 'three', IfMatch: cur.ETag }));
    const stale = await s3error(srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cas', Body: 'four', IfMatch: cur.ETag })));
    assert.equal(stale.$metadata.httpStatusCode, 412);
    const missing = await s3error(srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cas-missing', Body: 'x', IfMatch: cur.ETag })));
    assert.equal(missing.name, 'NoSuchKey');

    const writers = await Promise.allSettled(
      Array.from({ length: 16 }, (_, i) => srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'lock', Body: 'writer ' + i + ' '.repeat(i * 200), IfNoneMatch: '*' }))),
    );
    assert.equal(writers.filter((w) => w.status === 'fulfilled').length, 1);
    for (const w of writers) if (w.status === 'rejected') assert.equal((w.reason as S3ServiceException).$metadata.httpStatusCode, 412);
  });

  it('overrides response headers with response-* parameters', async () => {
    await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ovr', Body: 'x', ContentType: 'text/plain' }));
    const r = await srv.s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: 'ovr', ResponseContentType: 'application/json', ResponseContentDisposition: 'inline', ResponseCacheControl: 'no-cache' }),
    );
    assert.equal(r.ContentType, 'application/json');
    assert.equal(r.ContentDisposition, 'inline');
    assert.equal(r.CacheControl, 'no-cache');
  });

  it('encodes override values that do not fit in a header, and refuses control characters', async () => {
    await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ovr2', Body: 'x' }));
    const r = await raw(srv, { method: 'GET', path: `/${bucket}/ovr2`, query: { 'response-content-disposition': 'attachment; filename="日本.txt"' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-disposition'], `=?UTF-8?B?${Buffer.from('attachment; filename="日本.txt"').toString('base64')}?=`);
    const bad = await raw(srv, { method: 'GET', path: `/${bucket}/ovr2`, query: { 'response-content-type': 'text/plain\r\nX-Injected: 1' } });
    assert.equal(bad.status, 400);
    assert.equal(errorCode(bad.text), 'InvalidArgument');
  });

  it('releases file handles of downloads the client abandons', async () => {
    await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'abandoned', Body: randomBytes(8 * 1024 * 1024) }));
    const { meta } = srv.trove.app;
    const blobId = (await meta.getObject((await meta.getBucket(bucket))!.id, 'abandoned'))!.blobId!;
    const blobFds = () =>
      fs.readdirSync('/proc/self/fd').filter((f) => {
        try {
          return fs.readlinkSync(`/proc/self/fd/${f}`).includes(blobId);
        } catch {
          return false;
        }
      }).length;
    const head = await signedHead(srv, 'GET', `/${bucket}/abandoned`, { 'x-amz-content-sha256': createHash('sha256').update('').digest('hex') });
    // Clients that vanish in the middle of the body, some while the server is reading the blob.
    for (let i = 0; i < 60; i++) {
      await new Promise<void>((resolve) => {
        const sock = net.connect(srv.port, '127.0.0.1');
        let got = 0;
        const limit = 100_000 + ((i * 7919) % 30) * 100_000;
        sock.on('data', (c: Buffer) => {
          got += c.length;
          if (got > limit) {
            sock.destroy();
            setTimeout(resolve, 20);
          }
        });
        sock.on('error', () => resolve());
        sock.write(head);
      });
    }
    await new Promise((r) => setTimeout(r, 500));
    // The store keeps a validated file open for the next reader; deleting the blob closes it.
    assert.ok(blobFds() <= 1, 'blob files left open by abandoned downloads');
    await srv.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'abandoned' }));
    await srv.trove.app.gc.drain();
    assert.equal(blobFds(), 0, 'blob files left open by abandoned downloads');
  });

  it('finishes a download that started before the object was overwritten and collected', async () => {
    // Multipart: later parts are opened only when the download reaches them.
    const parts = [randomBytes(5 * 1024 * 1024), randomBytes(5 * 1024 * 1024), randomBytes(5 * 1024 * 1024)];
    const original = Buffer.concat(parts);
    const up = await srv.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'racing-read' }));
    const etags = [];
    for (const [i, p] of parts.entries()) etags.push((await srv.s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'racing-read', UploadId: up.UploadId, PartNumber: i + 1, Body: p }))).ETag);
    await srv.s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'racing-read', UploadId: up.UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }));
    const head = await signedHead(srv, 'GET', `/${bucket}/racing-read`, { 'x-amz-content-sha256': createHash('sha256').update('').digest('hex') });
    const received = await new Promise<Buffer>((resolve, reject) => {
      const s = net.connect(srv.port, '127.0.0.1');
      const chunks: Buffer[] = [];
      let paused = false;
      s.on('data', (c: Buffer) => {
        chunks.push(c);
        if (!paused) {
          // Stop reading after the first bytes; overwrite and collect the old blob meanwhile.
          paused = true;
          s.pause();
          (async () => {
            await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'racing-read', Body: 'replaced' }));
            await srv.trove.app.gc.drain();
            s.resume();
          })().catch(reject);
        }
      });
      s.on('end', () => resolve(Buffer.concat(chunks)));
      s.on('error', reject);
      s.write(head.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n'));
    });
    const body = received.subarray(received.indexOf('\r\n\r\n') + 4);
    assert.ok(body.equals(original), `got ${body.length} bytes of the original ${original.length}`);
    const now = await srv.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'racing-read' }));
    assert.equal((await bodyBytes(now.Body)).toString(), 'replaced');
  });

  it('takes keys of any UTF-8 up to 1024 bytes', async () => {
    const keys = ['sp ace', 'plus+sign', 'per%cent', 'quote"\'<&>', 'unicode/é/日本/😀', 'a//double//slash', 'trailing/', '?question', '#hash', '~tilde', 'x'.repeat(1024)];
    for (const key of keys) {
      await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
      const got = await srv.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      assert.equal((await bodyBytes(got.Body)).toString(), key);
    }
    const e = await s3error(srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'y'.repeat(1025), Body: 'x' })));
    assert.equal(e.name, 'KeyTooLongError');
  });

  it('round-trips non-ASCII metadata from the JS SDK (latin1 on the wire, UTF-8 in its signature)', async () => {
    await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'meta-latin1', Body: 'x', Metadata: { word: 'café' } }));
    const head = await srv.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'meta-latin1' }));
    assert.equal(head.Metadata?.word, 'café');
  });

  it('limits user metadata to 2 KB', async () => {
    const e = await s3error(srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'meta', Body: 'x', Metadata: { big: 'v'.repeat(2100) } })));
    assert.equal(e.name, 'MetadataTooLarge');
  });

  it('requires a Content-Length on PUT, unless the body is sent with Transfer-Encoding: chunked', async () => {
    const chunked = await raw(srv, { method: 'PUT', path: `/${bucket}/te-chunked`, body: 'abc', headers: { 'transfer-encoding': 'chunked' }, payloadHash: 'UNSIGNED-PAYLOAD' });
    assert.equal(chunked.status, 200);
    const got = await srv.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'te-chunked' }));
    assert.equal((await bodyBytes(got.Body)).toString(), 'abc');
    const head = await signedHead(srv, 'PUT', `/${bucket}/nolen`, { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' });
    const none = await rawSocket(srv.port, head);
    assert.match(none, /^HTTP\/1.1 411/);
    assert.match(none, /MissingContentLength/);
  });

  it('deletes objects, one at a time and in batches', async () => {
    await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'del1', Body: 'x' }));
    const d = await srv.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'del1' }));
    assert.equal(d.$metadata.httpStatusCode, 204);
    await srv.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'never-existed' }));
    const keys = Array.from({ length: 30 }, (_, i) => `batch/${i}`);
    for (const k of keys) await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: k }));
    const res = await srv.s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [...keys, 'batch/missing'].map((Key) => ({ Key })) } }));
    assert.equal(res.Deleted?.length, 31);
    assert.equal(res.Errors, undefined);
    const quiet = await srv.s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Quiet: true, Objects: [{ Key: 'batch/0' }] } }));
    assert.equal(quiet.Deleted, undefined);
    for (const k of keys) {
      const e = await s3error(srv.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: k })));
      assert.equal(e.$metadata.httpStatusCode, 404);
    }
    const tooMany = `<Delete>${Array.from({ length: 1001 }, (_, i) => `<Object><Key>k${i}</Key></Object>`).join('')}</Delete>`;
    const r = await raw(srv, { method: 'POST', path: `/${bucket}`, query: { delete: '' }, body: tooMany, headers: { 'content-md5': createHash('md5').update(tooMany).digest('base64') } });
    assert.equal(errorCode(r.text), 'MalformedXML');
    const noDigest = await raw(srv, { method: 'POST', path: `/${bucket}`, query: { delete: '' }, body: '<Delete><Object><Key>a</Key></Object></Delete>' });
    assert.equal(errorCode(noDigest.text), 'InvalidRequest');
  });

  it('never leaves a blob behind for an overwritten or deleted object', async () => {
    const countBlobs = () => countBlobFiles(srv.dataDir);
    await srv.trove.app.gc.drain();
    const before = countBlobs();
    const big = randomBytes(5000);
    await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'gc', Body: big }));
    await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'gc', Body: big }));
    await srv.trove.app.gc.drain();
    assert.equal(countBlobs(), before + 1);
    await srv.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'gc' }));
    await srv.trove.app.gc.drain();
    assert.equal(countBlobs(), before);
  });
});
