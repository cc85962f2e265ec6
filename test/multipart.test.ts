// Multipart uploads, UploadPartCopy, CopyObject and GetObjectAttributes through the real SDK
// and @aws-sdk/lib-storage.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type ChecksumAlgorithm,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createChecksum, combineCrc } from '../src/auth/checksums.js';
import { bodyBytes, countBlobFiles, errorCode, raw, s3error, startServer, uniqueBucket, type TestServer } from './helpers.js';

const MiB = 1024 * 1024;
const md5 = (b: Buffer) => createHash('md5').update(b).digest();

function expectedEtag(parts: Buffer[]): string {
  return `"${createHash('md5').update(Buffer.concat(parts.map(md5))).digest('hex')}-${parts.length}"`;
}


describe('multipart uploads', () => {
  let srv: TestServer;
  let bucket: string;
  before(async () => {
    srv = await startServer();
    bucket = uniqueBucket();
    await srv.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  after(async () => srv.stop());

  async function uploadParts(key: string, parts: Buffer[], opts: { checksum?: ChecksumAlgorithm; type?: 'COMPOSITE' | 'FULL_OBJECT'; order?: number[] } = {}) {
    const created = await srv.s3.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: 'text/x-mp', Metadata: { m: '1' }, ...(opts.checksum ? { ChecksumAlgorithm: opts.checksum } : {}), ...(opts.type ? { ChecksumType: opts.type } : {}) }),
    );
    const uploadId = created.UploadId!;
    const order = opts.order ?? parts.map((_, i) => i);
    const done: CompletedPart[] = new Array(parts.length);
    await Promise.all(
      order.map(async (i) => {
        const r = await srv.s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: i + 1, Body: parts[i], ...(opts.checksum ? { ChecksumAlgorithm: opts.checksum } : {}) }));
        done[i] = { PartNumber: i + 1, ETag: r.ETag, ...(opts.checksum ? { [`Checksum${opts.checksum}`]: r[`Checksum${opts.checksum}` as const] } : {}) };
      }),
    );
    return { uploadId, done };
  }

  it('uploads with lib-storage Upload (parallel parts, default checksums) and reads back across part boundaries', async () => {
    const data = randomBytes(23 * MiB + 123);
    const up = new Upload({ client: srv.s3, params: { Bucket: bucket, Key: 'lib-storage', Body: Readable.from([data]) }, partSize: 5 * MiB, queueSize: 4 });
    const res = await up.done();
    assert.match(res.ETag ?? '', /^"[0-9a-f]{32}-5"$/);
    const got = await srv.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'lib-storage' }));
    assert.ok((await bodyBytes(got.Body)).equals(data));
    // A range spanning parts 2 to 4.
    const start = 5 * MiB - 10;
    const end = 15 * MiB + 10;
    const ranged = await srv.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'lib-storage', Range: `bytes=${start}-${end}` }));
    assert.ok((await bodyBytes(ranged.Body)).equals(data.subarray(start, end + 1)));
  });

  it('assembles parts uploaded out of order and in parallel, without copying their bytes', async () => {
    const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(1000)];
    await srv.trove.app.gc.drain();
    const blobsBefore = countBlobFiles(srv.dataDir);
    const { uploadId, done } = await uploadParts('ooo', parts, { order: [2, 0, 1] });
    const res = await srv.s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'ooo', UploadId: uploadId, MultipartUpload: { Parts: done } }));
    assert.equal(res.ETag, expectedEtag(parts));
    await srv.trove.app.gc.drain();
    assert.equal(countBlobFiles(srv.dataDir), blobsBefore + 3, 'the object is its three part blobs');
    const got = await srv.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'ooo' }));
    assert.ok((await bodyBytes(got.Body)).equals(Buffer.concat(parts)));
    assert.equal(got.ContentType, 'text/x-mp');
    assert.deepEqual(got.Metadata, { m: '1' });
    for (const [i, p] of parts.entries()) {
      const part = await srv.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'ooo', PartNumber: i + 1 }));
      assert.equal(part.PartsCount, 3);
      assert.equal(part.ETag, res.ETag);
      assert.ok((await bodyBytes(part.Body)).equals(p));
      const head = await srv.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'ooo', PartNumber: i + 1 }));
      assert.equal(head.ContentLength, p.length);
    }
    const e = await s3error(srv.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'ooo', PartNumber: 4 })));
    assert.equal(e.name, 'InvalidPart');
  });

  it('validates Complete as S3 does', async () => {
    const parts = [randomBytes(5 * MiB), randomBytes(100)];
    const { uploadId, done } = await uploadParts('errors', parts);
    const complete = (Parts: CompletedPart[], UploadId = uploadId) => srv.s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'errors', UploadId, MultipartUpload: { Parts } }));
    assert.equal((await s3error(complete(done, 'f'.repeat(32)))).name, 'NoSuchUpload');
    assert.equal((await s3error(complete([{ PartNumber: 1, ETag: '"' + '0'.repeat(32) + '"' }, done[1]!]))).name, 'InvalidPart');
    assert.equal((await s3error(complete([done[0]!, { PartNumber: 3, ETag: done[1]!.ETag }]))).name, 'InvalidPart');
    assert.equal((await s3error(complete([done[1]!, done[0]!]))).name, 'InvalidPartOrder');
    const empty = await raw(srv, { method: 'POST', path: `/${bucket}/errors`, query: { uploadId }, body: '' });
    assert.equal(errorCode(empty.text), 'MalformedXML');
    // Every part but the last must be at least 5 MiB.
    const small = await uploadParts('small', [randomBytes(100), randomBytes(100)]);
    const tooSmall = await s3error(srv.s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'small', UploadId: small.uploadId, MultipartUpload: { Parts: small.done } })));
    assert.equal(tooSmall.name, 'EntityTooSmall');
    // A correct Complete still works afterwards, and repeating it answers the same.
    const ok = await complete(done);
    const again = await complete(done);
    assert.equal(again.ETag, ok.ETag);
    assert.equal((await s3error(complete([done[0]!], uploadId))).name, 'NoSuchUpload', 'a different part list is not a repeat');
  });

  it('replaces a re-uploaded part and never leaks the blobs of replaced parts or aborted uploads', async () => {
    await srv.trove.app.gc.drain();
    const blobsBefore = countBlobFiles(srv.dataDir);
    const created = await srv.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'replace' }));
    const id = created.UploadId!;
    await srv.s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'replace', UploadId: id, PartNumber: 1, Body: 'first' }));
    const second = await srv.s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'replace', UploadId: id, PartNumber: 1, Body: 'second' }));
    const listed = await srv.s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'replace', UploadId: id }));
    assert.deepEqual(listed.Parts?.map((p) => [p.PartNumber, p.ETag, p.Size]), [[1, second.ETag, 6]]);
    await srv.trove.app.gc.drain();
    assert.equal(countBlobFiles(srv.dataDir), blobsBefore + 1);
    await srv.s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'replace', UploadId: id }));
    await srv.trove.app.gc.drain();
    assert.equal(countBlobFiles(srv.dataDir), blobsBefore);
    const gone = await s3error(srv.s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'replace', UploadId: id, PartNumber: 2, Body: 'x' })));
    assert.equal(gone.name, 'NoSuchUpload');
    assert.equal((await s3error(srv.s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'replace', UploadId: id })))).name, 'NoSuchUpload');
    const bad = await raw(srv, { method: 'PUT', path: `/${bucket}/replace`, query: { uploadId: id, partNumber: '10001' }, body: 'x' });
    assert.equal(errorCode(bad.text), 'InvalidArgument');
  });

  it('computes COMPOSITE and FULL_OBJECT checksums as S3 does', async () => {
    const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(777)];
    const whole = Buffer.concat(parts);
    const digest = (alg: Parameters<typeof createChecksum>[0], b: Buffer) => {
      const h = createChecksum(alg);
      h.update(b);
      return h.digest();
    };
    const cases: [ChecksumAlgorithm, 'COMPOSITE' | 'FULL_OBJECT', string][] = [
      ['SHA256', 'COMPOSITE', `${digest('SHA256', Buffer.concat(parts.map((p) => digest('SHA256', p)))).toString('base64')}-3`],
      ['CRC32', 'COMPOSITE', `${digest('CRC32', Buffer.concat(parts.map((p) => digest('CRC32', p)))).toString('base64')}-3`],
      ['CRC32', 'FULL_OBJECT', digest('CRC32', whole).toString('base64')],
      ['CRC32C', 'FULL_OBJECT', digest('CRC32C', whole).toString('base64')],
      ['CRC64NVME', 'FULL_OBJECT', digest('CRC64NVME', whole).toString('base64')],
    ];
    for (const [alg, type, expected] of cases) {
      const key = `ck-${alg}-${type}`;
      const { uploadId, done } = await uploadParts(key, parts, { checksum: alg, type });
      const res = await srv.s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: done } }));
      const field = `Checksum${alg}` as const;
      assert.equal(res[field], expected, `${alg} ${type}`);
      assert.equal(res.ChecksumType, type);
      const head = await srv.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
      assert.equal(head[field], expected);
      const attrs = await srv.s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: key, ObjectAttributes: ['Checksum', 'ObjectParts', 'ETag', 'ObjectSize', 'StorageClass'] }));
      assert.equal(attrs.Checksum?.[field], expected);
      assert.equal(attrs.Checksum?.ChecksumType, type);
      assert.equal(attrs.ObjectParts?.TotalPartsCount, 3);
      assert.equal(attrs.ObjectSize, whole.length);
      assert.equal(attrs.StorageClass, 'STANDARD');
      assert.equal(`"${attrs.ETag}"`, expectedEtag(parts));
    }
    // A wrong whole-object checksum on Complete is refused.
    const { uploadId, done } = await uploadParts('ck-bad', parts, { checksum: 'SHA256' });
    const bad = await s3error(srv.s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'ck-bad', UploadId: uploadId, ChecksumSHA256: createHash('sha256').update('x').digest('base64'), MultipartUpload: { Parts: done } })));
    assert.equal(bad.name, 'BadDigest');
    // The CRC combination itself, on odd sizes.
    const a = randomBytes(1001);
    const b = randomBytes(77777);
    const crc = (x: Buffer) => {
      const o = Buffer.alloc(4);
      o.writeUInt32BE(zlib.crc32(x));
      return o;
    };
    assert.deepEqual(combineCrc('CRC32', crc(a), crc(b), b.length), crc(Buffer.concat([a, b])));
  });

  it('honours If-None-Match and If-Match on Complete', async () => {
    await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond-mp', Body: 'exists' }));
    const { uploadId, done } = await uploadParts('cond-mp', [randomBytes(10)]);
    const e = await s3error(srv.s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'cond-mp', UploadId: uploadId, IfNoneMatch: '*', MultipartUpload: { Parts: done } })));
    assert.equal(e.$metadata.httpStatusCode, 412);
    const head = await srv.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'cond-mp' }));
    await srv.s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'cond-mp', UploadId: uploadId, IfMatch: head.ETag, MultipartUpload: { Parts: done } }));
  });

  it('lists parts and uploads with pagination, prefixes and markers', async () => {
    const created = await srv.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'list/parts' }));
    const id = created.UploadId!;
    for (let n = 1; n <= 5; n++) await srv.s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'list/parts', UploadId: id, PartNumber: n, Body: 'p' + n }));
    const seen: number[] = [];
    let marker: string | undefined;
    for (;;) {
      const r = await srv.s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'list/parts', UploadId: id, MaxParts: 2, ...(marker ? { PartNumberMarker: marker } : {}) }));
      seen.push(...(r.Parts ?? []).map((p) => p.PartNumber!));
      assert.equal(r.Initiator?.DisplayName, 'root');
      if (!r.IsTruncated) break;
      marker = r.NextPartNumberMarker;
    }
    assert.deepEqual(seen, [1, 2, 3, 4, 5]);

    const b2 = uniqueBucket('uploads');
    await srv.s3.send(new CreateBucketCommand({ Bucket: b2 }));
    const keys = ['a/1', 'a/2', 'b', 'c/d/1', 'c/d/2', 'e'];
    const ids: Record<string, string> = {};
    for (const Key of keys) ids[Key] = (await srv.s3.send(new CreateMultipartUploadCommand({ Bucket: b2, Key }))).UploadId!;
    const second = (await srv.s3.send(new CreateMultipartUploadCommand({ Bucket: b2, Key: 'b' }))).UploadId!;
    const all: string[] = [];
    let km: string | undefined;
    let um: string | undefined;
    for (;;) {
      const r = await srv.s3.send(new ListMultipartUploadsCommand({ Bucket: b2, MaxUploads: 2, ...(km ? { KeyMarker: km } : {}), ...(um ? { UploadIdMarker: um } : {}) }));
      all.push(...(r.Uploads ?? []).map((u) => `${u.Key}:${u.UploadId}`));
      if (!r.IsTruncated) break;
      km = r.NextKeyMarker;
      um = r.NextUploadIdMarker;
    }
    assert.deepEqual(all, ['a/1', 'a/2', 'b', 'b', 'c/d/1', 'c/d/2', 'e'].map((k, i) => `${k}:${i === 3 ? second : ids[k]}`));
    const folded = await srv.s3.send(new ListMultipartUploadsCommand({ Bucket: b2, Delimiter: '/' }));
    assert.deepEqual(folded.CommonPrefixes?.map((p) => p.Prefix), ['a/', 'c/']);
    assert.deepEqual(folded.Uploads?.map((u) => u.Key), ['b', 'b', 'e']);
    const nested = await srv.s3.send(new ListMultipartUploadsCommand({ Bucket: b2, Prefix: 'c/', Delimiter: '/' }));
    assert.deepEqual(nested.CommonPrefixes?.map((p) => p.Prefix), ['c/d/']);
  });

  it('copies parts from other objects, whole or by range', async () => {
    const src = randomBytes(6 * MiB);
    await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'copy-src', Body: src }));
    const created = await srv.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'copied-parts' }));
    const id = created.UploadId!;
    const p1 = await srv.s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'copied-parts', UploadId: id, PartNumber: 1, CopySource: `${bucket}/copy-src` }));
    const p2 = await srv.s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'copied-parts', UploadId: id, PartNumber: 2, CopySource: `${bucket}/copy-src`, CopySourceRange: 'bytes=10-1009' }));
    assert.equal(p1.CopyPartResult?.ETag, `"${md5(src).toString('hex')}"`);
    assert.equal(p2.CopyPartResult?.ETag, `"${md5(src.subarray(10, 1010)).toString('hex')}"`);
    await srv.s3.send(
      new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'copied-parts', UploadId: id, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.CopyPartResult!.ETag }, { PartNumber: 2, ETag: p2.CopyPartResult!.ETag }] } }),
    );
    const got = await srv.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'copied-parts' }));
    assert.ok((await bodyBytes(got.Body)).equals(Buffer.concat([src, src.subarray(10, 1010)])));
    const created2 = await srv.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'copied-parts-2' }));
    for (const range of ['0-2', 'bytes=0', 'bytes=0-2,3-5', 'bytes=hello-', 'bytes=5-1']) {
      const e = await s3error(srv.s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'copied-parts-2', UploadId: created2.UploadId!, PartNumber: 3, CopySource: `${bucket}/copy-src`, CopySourceRange: range })));
      assert.equal(e.$metadata.httpStatusCode, 400, range);
      assert.equal(e.name, 'InvalidArgument', range);
    }
    const past = await s3error(srv.s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'copied-parts-2', UploadId: created2.UploadId!, PartNumber: 1, CopySource: `${bucket}/copy-src`, CopySourceRange: `bytes=0-${src.length}` })));
    assert.equal(past.name, 'InvalidRange');
  });
});

describe('CopyObject', () => {
  let srv: TestServer;
  let bucket: string;
  let other: string;
  before(async () => {
    srv = await startServer({ inlineThreshold: 1024 });
    bucket = uniqueBucket();
    other = uniqueBucket('other');
    await srv.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await srv.s3.send(new CreateBucketCommand({ Bucket: other }));
  });
  after(async () => srv.stop());

  it('copies inline and blob objects within and across buckets, keeping or replacing metadata', async () => {
    for (const size of [10, 50_000]) {
      const data = randomBytes(size);
      const src = `src-${size}`;
      await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: src, Body: data, ContentType: 'text/src', Metadata: { a: '1' } }));
      const kept = await srv.s3.send(new CopyObjectCommand({ Bucket: other, Key: `kept-${size}`, CopySource: `${bucket}/${src}` }));
      assert.equal(kept.CopyObjectResult?.ETag, `"${md5(data).toString('hex')}"`);
      assert.ok(kept.CopyObjectResult?.LastModified instanceof Date);
      const k = await srv.s3.send(new GetObjectCommand({ Bucket: other, Key: `kept-${size}` }));
      assert.ok((await bodyBytes(k.Body)).equals(data));
      assert.equal(k.ContentType, 'text/src');
      assert.deepEqual(k.Metadata, { a: '1' });
      await srv.s3.send(new CopyObjectCommand({ Bucket: bucket, Key: `replaced-${size}`, CopySource: `${bucket}/${src}`, MetadataDirective: 'REPLACE', ContentType: 'text/new', Metadata: { b: '2' } }));
      const r = await srv.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `replaced-${size}` }));
      assert.equal(r.ContentType, 'text/new');
      assert.deepEqual(r.Metadata, { b: '2' });
    }
  });

  it('shares blobs with the source instead of rewriting them, and survives the source being deleted', async () => {
    const data = randomBytes(3 * MiB);
    await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'big-src', Body: data }));
    await srv.trove.app.gc.drain();
    const before = countBlobFiles(srv.dataDir);
    await srv.s3.send(new CopyObjectCommand({ Bucket: other, Key: 'big-copy', CopySource: `${bucket}/big-src` }));
    assert.equal(countBlobFiles(srv.dataDir), before, 'no bytes were written');
    await srv.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'big-src' }));
    await srv.trove.app.gc.drain();
    assert.equal(countBlobFiles(srv.dataDir), before, 'the copy still holds the blob');
    const got = await srv.s3.send(new GetObjectCommand({ Bucket: other, Key: 'big-copy' }));
    assert.ok((await bodyBytes(got.Body)).equals(data));
    await srv.s3.send(new DeleteObjectCommand({ Bucket: other, Key: 'big-copy' }));
    await srv.trove.app.gc.drain();
    assert.equal(countBlobFiles(srv.dataDir), before - 1);
  });

  it('copies multipart objects, keys needing URL encoding, and honours copy-source conditions', async () => {
    const parts = [randomBytes(5 * MiB), randomBytes(10)];
    const up = new Upload({ client: srv.s3, params: { Bucket: bucket, Key: 'mp src/ü+%?', Body: Buffer.concat(parts) }, partSize: 5 * MiB });
    await up.done();
    await srv.s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'mp-copy', CopySource: `${bucket}/${encodeURIComponent('mp src/ü+%?')}` }));
    const got = await srv.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp-copy' }));
    assert.ok((await bodyBytes(got.Body)).equals(Buffer.concat(parts)));
    const part2 = await srv.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp-copy', PartNumber: 2 }));
    assert.equal(part2.PartsCount, 2);

    await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond-src', Body: 'c' }));
    const head = await srv.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'cond-src' }));
    const copy = (extra: Record<string, unknown>) => srv.s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'cond-dst', CopySource: `${bucket}/cond-src`, ...extra }));
    await copy({ CopySourceIfMatch: head.ETag });
    assert.equal((await s3error(copy({ CopySourceIfMatch: '"ABCORZ"' }))).$metadata.httpStatusCode, 412);
    assert.equal((await s3error(copy({ CopySourceIfNoneMatch: head.ETag }))).$metadata.httpStatusCode, 412);
    assert.equal((await s3error(copy({ CopySourceIfModifiedSince: new Date(Date.now() + 3600_000) }))).$metadata.httpStatusCode, 412);
    assert.equal((await s3error(copy({ CopySourceIfUnmodifiedSince: new Date(Date.now() - 3600_000) }))).$metadata.httpStatusCode, 412);
    const missing = await s3error(srv.s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'x', CopySource: `${bucket}/nope` })));
    assert.equal(missing.name, 'NoSuchKey');
  });

  it('copies a blob-backed object onto itself with REPLACE (its shared blob never drops to zero references)', async () => {
    const data = randomBytes(200 * 1024);
    for (const b of [bucket, other]) {
      await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'self-big', Body: data, Metadata: { v: '1' } }));
      await srv.s3.send(new CopyObjectCommand({ Bucket: b, Key: 'self-big', CopySource: `${b}/self-big`, MetadataDirective: 'REPLACE', Metadata: { v: '2' } }));
      const got = await srv.s3.send(new GetObjectCommand({ Bucket: b, Key: 'self-big' }));
      assert.deepEqual(got.Metadata, { v: '2' });
      assert.ok((await bodyBytes(got.Body)).equals(data));
    }
  });

  it('refuses to copy an object onto itself without a change', async () => {
    await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'self', Body: 'same', Metadata: { v: '1' } }));
    const e = await s3error(srv.s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'self', CopySource: `${bucket}/self` })));
    assert.equal(e.name, 'InvalidRequest');
    await srv.s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'self', CopySource: `${bucket}/self`, MetadataDirective: 'REPLACE', Metadata: { v: '2' } }));
    const h = await srv.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'self' }));
    assert.deepEqual(h.Metadata, { v: '2' });
  });

  it('answers GetObjectAttributes for single-part objects and validates the attribute list', async () => {
    await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'attrs', Body: 'hello', ChecksumAlgorithm: 'CRC32' }));
    const a = await srv.s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: 'attrs', ObjectAttributes: ['ETag', 'ObjectSize', 'Checksum', 'ObjectParts'] }));
    assert.equal(a.ETag, md5(Buffer.from('hello')).toString('hex'));
    assert.equal(a.ObjectSize, 5);
    assert.ok(a.Checksum?.ChecksumCRC32);
    assert.equal(a.ObjectParts, undefined);
    assert.equal(a.VersionId, undefined);
    const bad = await raw(srv, { method: 'GET', path: `/${bucket}/attrs`, query: { attributes: '' }, headers: { 'x-amz-object-attributes': 'ETag,Colour' } });
    assert.equal(errorCode(bad.text), 'InvalidArgument');
    const missing = await s3error(srv.s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: 'nope', ObjectAttributes: ['ETag'] })));
    assert.equal(missing.$metadata.httpStatusCode, 404);
  });
});
