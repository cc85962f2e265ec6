// Server-side encryption: SSE-S3, SSE-C and SSE-KMS with real SDK clients; ranges across package
// boundaries; multipart with parts of different sizes; copies between every mode; bucket default
// encryption; tampering with a package on disk; wrong and missing keys; the master key at start-up.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketEncryptionCommand,
  GetBucketEncryptionCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketEncryptionCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { crc, encodeTail, BLOCK_SIZE, tailSize } from '../src/store/blob/layout.js';
import { PACKAGE, TAG } from '../src/sse/packages.js';
import { loadConfig } from '../src/config.js';
import { openStores } from '../src/trove.js';
import { BuiltinKeyService } from '../src/sse/keys.js';
import { ACCESS_KEY, bodyBytes, errorCode, raw, s3error, startServer, tempDir, testMetaUrl, uniqueBucket, type TestServer } from './helpers.js';

const MASTER = randomBytes(32).toString('hex');
const MiB = 1024 * 1024;

function customerKey() {
  const key = randomBytes(32);
  return { SSECustomerAlgorithm: 'AES256', SSECustomerKey: key.toString('base64'), SSECustomerKeyMD5: createHash('md5').update(key).digest('base64') };
}
type Ck = ReturnType<typeof customerKey>;
const copySourceKey = (k: Ck) => ({ CopySourceSSECustomerAlgorithm: k.SSECustomerAlgorithm, CopySourceSSECustomerKey: k.SSECustomerKey, CopySourceSSECustomerKeyMD5: k.SSECustomerKeyMD5 });
const md5hex = (b: Buffer) => createHash('md5').update(b).digest('hex');

async function getBytes(s3: S3Client, input: ConstructorParameters<typeof GetObjectCommand>[0]) {
  const r = await s3.send(new GetObjectCommand(input));
  return { r, body: await bodyBytes(r.Body) };
}

async function blobFiles(srv: TestServer, bucket: string, key: string): Promise<string[]> {
  const { meta } = srv.trove.app;
  const b = await meta.getBucket(bucket);
  const v = await meta.getObject(b!.id, key);
  assert.ok(v && !v.inline, `${key} is stored in blobs`);
  const ids = v.blobId ? [v.blobId] : (await meta.getObjectParts(v.rowId)).map((p) => p.blobId);
  return ids.map((id) => path.join(srv.dataDir, 'blobs', id.slice(0, 2), id));
}

describe('server-side encryption', () => {
  let srv: TestServer;
  let s3: S3Client;
  let bucket: string;
  before(async () => {
    srv = await startServer({ masterKeyEnv: MASTER });
    s3 = srv.client({ maxAttempts: 1 });
    bucket = uniqueBucket();
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  after(async () => srv.stop());

  it('SSE-S3: stored sealed, served plain, ETag the MD5, ranges across packages', async () => {
    const data = randomBytes(3 * PACKAGE + 1234);
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 's3', Body: data, ServerSideEncryption: 'AES256' }));
    assert.equal(put.ServerSideEncryption, 'AES256');
    assert.equal(put.ETag, `"${md5hex(data)}"`);
    const [file] = await blobFiles(srv, bucket, 's3');
    const stored = fs.readFileSync(file!);
    assert.equal(stored.length, data.length + 4 * TAG + tailSize(data.length + 4 * TAG));
    assert.equal(stored.indexOf(data.subarray(0, 64)), -1, 'no plaintext on disk');

    const { r, body } = await getBytes(s3, { Bucket: bucket, Key: 's3' });
    assert.equal(r.ServerSideEncryption, 'AES256');
    assert.deepEqual(body, data);
    const h = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 's3' }));
    assert.equal(h.ServerSideEncryption, 'AES256');
    assert.equal(h.ContentLength, data.length);
    for (const [a, b] of [
      [0, 0],
      [PACKAGE - 1, PACKAGE],
      [PACKAGE - 10, 2 * PACKAGE + 10],
      [3 * PACKAGE, data.length - 1],
      [5, data.length - 1],
    ] as const) {
      const g = await getBytes(s3, { Bucket: bucket, Key: 's3', Range: `bytes=${a}-${b}` });
      assert.deepEqual(g.body, data.subarray(a, b + 1), `${a}-${b}`);
    }
  });

  it('SSE-S3: small (inline) objects are sealed too', async () => {
    const data = Buffer.from('inline secret '.repeat(10));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'small', Body: data, ServerSideEncryption: 'AES256' }));
    const b = await srv.trove.app.meta.getBucket(bucket);
    const v = await srv.trove.app.meta.getObject(b!.id, 'small');
    assert.ok(v?.inline && v.sse?.n);
    assert.equal(v.inline.length, data.length + TAG);
    assert.equal(v.inline.indexOf('inline secret'), -1);
    const { body } = await getBytes(s3, { Bucket: bucket, Key: 'small', Range: 'bytes=7-20' });
    assert.deepEqual(body, data.subarray(7, 21));
  });

  it('SSE-C: the key is needed to read; missing is 400, another is 403; the ETag is not the MD5', async () => {
    const k = customerKey();
    const data = randomBytes(2 * PACKAGE + 17);
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'c', Body: data, ...k }));
    assert.equal(put.SSECustomerAlgorithm, 'AES256');
    assert.equal(put.SSECustomerKeyMD5, k.SSECustomerKeyMD5);
    assert.notEqual(put.ETag, `"${md5hex(data)}"`);

    const missing = await s3error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'c' })));
    assert.equal(missing.$metadata.httpStatusCode, 400);
    assert.equal(missing.name, 'InvalidRequest');
    const wrong = await s3error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'c', ...customerKey() })));
    assert.equal(wrong.$metadata.httpStatusCode, 403);
    const headMissing = await s3error(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'c' })));
    assert.equal(headMissing.$metadata.httpStatusCode, 400);

    const { r, body } = await getBytes(s3, { Bucket: bucket, Key: 'c', ...k });
    assert.deepEqual(body, data);
    assert.equal(r.SSECustomerKeyMD5, k.SSECustomerKeyMD5);
    const g = await getBytes(s3, { Bucket: bucket, Key: 'c', Range: `bytes=${PACKAGE - 3}-${PACKAGE + 3}`, ...k });
    assert.deepEqual(g.body, data.subarray(PACKAGE - 3, PACKAGE + 4));
    const h = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'c', ...k }));
    assert.equal(h.ContentLength, data.length);

    const attrs = await raw(srv, { method: 'GET', path: `/${bucket}/c`, query: { attributes: '' }, headers: { 'x-amz-object-attributes': 'ETag,ObjectSize' } });
    assert.equal(attrs.status, 400, 'GetObjectAttributes of an SSE-C object needs its key');
    // A key for an object that has none is refused.
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain', Body: 'x' }));
    const notApplicable = await s3error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'plain', ...k })));
    assert.equal(notApplicable.$metadata.httpStatusCode, 400);
  });

  it('SSE-C: malformed key headers are refused as S3 does', async () => {
    const k = customerKey();
    const cases: [Record<string, string>, number][] = [
      [{ 'x-amz-server-side-encryption-customer-algorithm': 'AES256' }, 400],
      [{ 'x-amz-server-side-encryption-customer-key': k.SSECustomerKey, 'x-amz-server-side-encryption-customer-key-md5': k.SSECustomerKeyMD5 }, 400],
      [{ 'x-amz-server-side-encryption-customer-algorithm': 'AES256', 'x-amz-server-side-encryption-customer-key': k.SSECustomerKey }, 400],
      [{ 'x-amz-server-side-encryption-customer-algorithm': 'AES256', 'x-amz-server-side-encryption-customer-key': k.SSECustomerKey, 'x-amz-server-side-encryption-customer-key-md5': 'AAAAAAAAAAAAAAAAAAAAAA==' }, 400],
      [{ 'x-amz-server-side-encryption-customer-algorithm': 'AES128', 'x-amz-server-side-encryption-customer-key': k.SSECustomerKey, 'x-amz-server-side-encryption-customer-key-md5': k.SSECustomerKeyMD5 }, 400],
      [{ 'x-amz-server-side-encryption': 'bogus' }, 400],
      [{ 'x-amz-server-side-encryption': 'aws:kms:dsse' }, 501],
    ];
    for (const [headers, status] of cases) {
      const r = await raw(srv, { method: 'PUT', path: `/${bucket}/bad`, headers, body: Buffer.from('data') });
      assert.equal(r.status, status, JSON.stringify(headers) + ' ' + r.text);
    }
    const r = await raw(srv, { method: 'GET', path: `/${bucket}/bad` });
    assert.equal(errorCode(r.text), 'NoSuchKey', 'nothing was stored');
  });

  it('multipart with SSE-C: the key on every part, parts of different sizes, ranges across parts', async () => {
    const k = customerKey();
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp', ...k }));
    assert.equal(up.SSECustomerKeyMD5, k.SSECustomerKeyMD5);
    const p1 = randomBytes(5 * MiB + 3);
    const p2 = randomBytes(PACKAGE * 2 + 99);
    const noKey = await s3error(s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId: up.UploadId, PartNumber: 1, Body: p1 })));
    assert.equal(noKey.$metadata.httpStatusCode, 400);
    const otherKey = await s3error(s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId: up.UploadId, PartNumber: 1, Body: p1, ...customerKey() })));
    assert.equal(otherKey.$metadata.httpStatusCode, 400, 'a part with another key than its upload is a bad request');
    // Part 1 uploaded twice: each upload is sealed under its own blob key.
    await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId: up.UploadId, PartNumber: 1, Body: randomBytes(5 * MiB + 3), ...k }));
    const r1 = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId: up.UploadId, PartNumber: 1, Body: p1, ...k }));
    const r2 = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId: up.UploadId, PartNumber: 2, Body: p2, ...k }));
    assert.equal(r2.SSECustomerKeyMD5, k.SSECustomerKeyMD5);
    const parts = { Parts: [{ PartNumber: 1, ETag: r1.ETag }, { PartNumber: 2, ETag: r2.ETag }] };
    const completeNoKey = await s3error(s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'mp', UploadId: up.UploadId, MultipartUpload: parts })));
    assert.equal(completeNoKey.$metadata.httpStatusCode, 400, 'Complete needs the key too');
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'mp', UploadId: up.UploadId, MultipartUpload: parts, ...k }));
    const all = Buffer.concat([p1, p2]);
    const { body } = await getBytes(s3, { Bucket: bucket, Key: 'mp', ...k });
    assert.deepEqual(body, all);
    const a = p1.length - PACKAGE - 5;
    const b = p1.length + PACKAGE + 5;
    const g = await getBytes(s3, { Bucket: bucket, Key: 'mp', Range: `bytes=${a}-${b}`, ...k });
    assert.deepEqual(g.body, all.subarray(a, b + 1));
    const none = await s3error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp' })));
    assert.equal(none.$metadata.httpStatusCode, 400);
  });

  it('copies between modes, with independent source and destination keys', async () => {
    const k1 = customerKey();
    const k2 = customerKey();
    const data = randomBytes(PACKAGE + 500);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'src-plain', Body: data }));
    // plain → SSE-C
    const c1 = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'cp-c', CopySource: `${bucket}/src-plain`, ...k1 }));
    assert.equal(c1.SSECustomerKeyMD5, k1.SSECustomerKeyMD5);
    assert.deepEqual((await getBytes(s3, { Bucket: bucket, Key: 'cp-c', ...k1 })).body, data);
    // SSE-C → SSE-C with another key
    const noSrcKey = await s3error(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'cp-c2', CopySource: `${bucket}/cp-c`, ...k2 })));
    assert.equal(noSrcKey.$metadata.httpStatusCode, 400);
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'cp-c2', CopySource: `${bucket}/cp-c`, ...copySourceKey(k1), ...k2 }));
    assert.deepEqual((await getBytes(s3, { Bucket: bucket, Key: 'cp-c2', ...k2 })).body, data);
    assert.equal((await s3error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cp-c2', ...k1 })))).$metadata.httpStatusCode, 403);
    // SSE-C → SSE-S3
    const c3 = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'cp-s3', CopySource: `${bucket}/cp-c2`, ...copySourceKey(k2), ServerSideEncryption: 'AES256' }));
    assert.equal(c3.ServerSideEncryption, 'AES256');
    const s = await getBytes(s3, { Bucket: bucket, Key: 'cp-s3' });
    assert.deepEqual(s.body, data);
    assert.equal(s.r.ETag, `"${md5hex(data)}"`);
    // SSE-S3 → plain
    const c4 = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'cp-plain', CopySource: `${bucket}/cp-s3` }));
    assert.equal(c4.ServerSideEncryption, undefined);
    assert.deepEqual((await getBytes(s3, { Bucket: bucket, Key: 'cp-plain' })).body, data);
    // SSE-C → part of an SSE-S3 upload (UploadPartCopy)
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'upc', ServerSideEncryption: 'AES256' }));
    const pc = await s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'upc', UploadId: up.UploadId, PartNumber: 1, CopySource: `${bucket}/cp-c`, CopySourceRange: 'bytes=10-66000', ...copySourceKey(k1) }));
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'upc', UploadId: up.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: pc.CopyPartResult!.ETag }] } }));
    const u = await getBytes(s3, { Bucket: bucket, Key: 'upc' });
    assert.equal(u.r.ServerSideEncryption, 'AES256');
    assert.deepEqual(u.body, data.subarray(10, 66001));
  });

  it('bucket default encryption applies to new objects; Get/Delete', async () => {
    const b2 = uniqueBucket();
    await s3.send(new CreateBucketCommand({ Bucket: b2 }));
    const none = await s3error(s3.send(new GetBucketEncryptionCommand({ Bucket: b2 })));
    assert.equal(none.name, 'ServerSideEncryptionConfigurationNotFoundError');
    await s3.send(new PutBucketEncryptionCommand({ Bucket: b2, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: false }] } }));
    const got = await s3.send(new GetBucketEncryptionCommand({ Bucket: b2 }));
    assert.equal(got.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm, 'AES256');
    const put = await s3.send(new PutObjectCommand({ Bucket: b2, Key: 'k', Body: 'hello' }));
    assert.equal(put.ServerSideEncryption, 'AES256');
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: b2, Key: 'k' }))).ServerSideEncryption, 'AES256');
    await s3.send(new DeleteBucketEncryptionCommand({ Bucket: b2 }));
    const plain = await s3.send(new PutObjectCommand({ Bucket: b2, Key: 'k2', Body: 'hello' }));
    assert.equal(plain.ServerSideEncryption, undefined);
  });

  it('a tampered package is detected and never served, even with its CRCs recomputed', async () => {
    const data = randomBytes(4 * PACKAGE);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'tamper', Body: data, ServerSideEncryption: 'AES256' }));
    const [file] = await blobFiles(srv, bucket, 'tamper');
    const stored = fs.readFileSync(file!);
    const sealedLen = data.length + 4 * TAG;
    const pkg = 2;
    stored[pkg * (PACKAGE + TAG) + 100]! ^= 0x01;
    // Rewrite the block CRC table and trailer so that only the GCM tag can tell.
    const crcs: number[] = [];
    for (let off = 0; off < sealedLen; off += BLOCK_SIZE) crcs.push(crc(stored.subarray(off, Math.min(off + BLOCK_SIZE, sealedLen))));
    const tail = encodeTail(crcs, sealedLen);
    fs.writeFileSync(file!, Buffer.concat([stored.subarray(0, sealedLen), tail]));
    await srv.trove.app.blobs.close(); // forget the validated open file

    const r = await raw(srv, { method: 'GET', path: `/${bucket}/tamper`, partial: true });
    assert.ok(r.error || r.status === 500, 'the read fails');
    assert.ok(r.body.length <= pkg * PACKAGE, 'nothing of the tampered package is sent');
    assert.deepEqual(r.body, data.subarray(0, r.body.length));
    const inRange = await raw(srv, { method: 'GET', path: `/${bucket}/tamper`, headers: { range: `bytes=${pkg * PACKAGE + 5}-${pkg * PACKAGE + 10}` }, partial: true });
    assert.ok(inRange.error || inRange.status === 500);
    assert.equal(inRange.body.length, 0);
    const other = await getBytes(s3, { Bucket: bucket, Key: 'tamper', Range: `bytes=0-${PACKAGE * 2 - 1}` });
    assert.deepEqual(other.body, data.subarray(0, PACKAGE * 2), 'untouched packages are served');
  });
});

describe('server-side encryption: the master key', () => {
  it('is required at start-up once anything is encrypted, and must be the right one', async () => {
    const dataDir = await tempDir();
    const srv = await startServer({ dataDir, masterKeyEnv: MASTER });
    const b = uniqueBucket();
    await srv.s3.send(new CreateBucketCommand({ Bucket: b }));
    await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'secret', ServerSideEncryption: 'AES256' }));
    await srv.stop();
    await assert.rejects(startServer({ dataDir }), /master/i);
    await assert.rejects(startServer({ dataDir, masterKeyEnv: randomBytes(32).toString('hex') }), /wrong master key/);
    const again = await startServer({ dataDir, masterKeyEnv: MASTER });
    try {
      const { body } = await getBytes(again.s3, { Bucket: b, Key: 'k' });
      assert.equal(body.toString(), 'secret');
    } finally {
      await again.stop();
    }
  });

  it('rotating the master key re-wraps the keys: objects read with the new one, the old one is refused', async () => {
    const dataDir = await tempDir();
    const srv = await startServer({ dataDir, masterKeyEnv: MASTER });
    const b = uniqueBucket();
    await srv.s3.send(new CreateBucketCommand({ Bucket: b }));
    await srv.trove.app.kms.create({ id: 'rot-1' });
    await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 's3', Body: 'sse-s3 data', ServerSideEncryption: 'AES256' }));
    await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'kms', Body: 'kms data', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'rot-1' }));
    await srv.stop();
    const next = randomBytes(32);
    const { meta, blobs } = await openStores({ ...loadConfig([], {}), dataDir, metaUrl: await testMetaUrl(dataDir) });
    try {
      assert.equal(await new BuiltinKeyService(meta, Buffer.from(MASTER, 'hex'), 'us-east-1').rewrapAll(next), 2);
    } finally {
      await meta.close();
      await blobs.close();
    }
    await assert.rejects(startServer({ dataDir, masterKeyEnv: MASTER }), /wrong master key/);
    const again = await startServer({ dataDir, masterKeyEnv: next.toString('base64') });
    try {
      assert.equal((await getBytes(again.s3, { Bucket: b, Key: 's3' })).body.toString(), 'sse-s3 data');
      assert.equal((await getBytes(again.s3, { Bucket: b, Key: 'kms' })).body.toString(), 'kms data');
    } finally {
      await again.stop();
    }
  });

  it('a key file must be readable by its owner only', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'master.key');
    fs.writeFileSync(file, MASTER, { mode: 0o644 });
    fs.chmodSync(file, 0o644);
    await assert.rejects(startServer({ masterKeyFile: file }), /chmod 600/);
    fs.chmodSync(file, 0o600);
    const srv = await startServer({ masterKeyFile: file });
    await srv.stop();
  });

  it('without a master key, SSE-S3 answers NotImplemented and SSE-C still works', async () => {
    const srv = await startServer();
    try {
      const b = uniqueBucket();
      await srv.s3.send(new CreateBucketCommand({ Bucket: b }));
      const e = await s3error(srv.client({ maxAttempts: 1 }).send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x', ServerSideEncryption: 'AES256' })));
      assert.equal(e.$metadata.httpStatusCode, 501);
      const k = customerKey();
      await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'c', Body: 'x', ...k }));
      assert.equal((await getBytes(srv.s3, { Bucket: b, Key: 'c', ...k })).body.toString(), 'x');
    } finally {
      await srv.stop();
    }
  });
});

describe('server-side encryption: SSE-KMS with the built-in key service', () => {
  let srv: TestServer;
  let s3: S3Client;
  let bucket: string;
  before(async () => {
    srv = await startServer({ masterKeyEnv: MASTER });
    s3 = srv.client({ maxAttempts: 1 });
    bucket = uniqueBucket();
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await srv.trove.app.kms.create({ id: 'testkey-1' });
    await srv.trove.app.kms.create({ id: 'testkey-2', alias: 'second' });
  });
  after(async () => srv.stop());

  it('encrypts with the named key (id, alias or ARN), echoes it as named, and decrypts', async () => {
    const data = randomBytes(PACKAGE + 7);
    const arn = srv.trove.app.kms.arn('testkey-1');
    for (const ref of ['testkey-1', arn]) {
      const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: data, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: ref, BucketKeyEnabled: true }));
      assert.equal(put.ServerSideEncryption, 'aws:kms');
      assert.equal(put.SSEKMSKeyId, ref);
      assert.equal(put.BucketKeyEnabled, true);
      assert.notEqual(put.ETag, `"${md5hex(data)}"`);
    }
    const g = await getBytes(s3, { Bucket: bucket, Key: 'k' });
    assert.deepEqual(g.body, data);
    assert.equal(g.r.SSEKMSKeyId, arn);
    const put2 = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k2', Body: data, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'alias/second' }));
    assert.equal(put2.SSEKMSKeyId, 'alias/second');
    const b = await srv.trove.app.meta.getBucket(bucket);
    assert.equal((await srv.trove.app.meta.getObject(b!.id, 'k2'))?.sse?.i, 'testkey-2');
    // Without a key id: the default key, answered by its ARN.
    const put3 = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k4', Body: data, ServerSideEncryption: 'aws:kms' }));
    assert.match(put3.SSEKMSKeyId ?? '', /^arn:aws:kms:us-east-1:\d{12}:key\//);
    assert.deepEqual((await getBytes(s3, { Bucket: bucket, Key: 'k4' })).body, data);
    // A read names no encryption of its own.
    const declared = await raw(srv, { method: 'GET', path: `/${bucket}/k4`, headers: { 'x-amz-server-side-encryption': 'aws:kms' } });
    assert.equal(declared.status, 400);
    assert.equal(errorCode(declared.text), 'InvalidArgument');
    const unknown = await s3error(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k3', Body: data, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'nope' })));
    assert.equal(unknown.$metadata.httpStatusCode, 400);
    assert.equal(unknown.name, 'KMS.NotFoundException');
  });

  it('the encryption context is bound to the data key and echoed', async () => {
    const context = Buffer.from(JSON.stringify({ project: 'x' })).toString('base64');
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ctx', Body: 'hello', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'testkey-1', SSEKMSEncryptionContext: context }));
    assert.equal(put.SSEKMSEncryptionContext, context);
    assert.equal((await getBytes(s3, { Bucket: bucket, Key: 'ctx' })).body.toString(), 'hello');
    const bad = await raw(srv, { method: 'PUT', path: `/${bucket}/ctx2`, headers: { 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-context': 'not json' }, body: Buffer.from('x') });
    assert.equal(bad.status, 400);
  });

  it('rotation: new objects use the new version, old ones still decrypt; a disabled key refuses', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'v1', Body: 'one', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'testkey-2' }));
    const k = await srv.trove.app.kms.rotate('testkey-2');
    assert.equal(k.versions.length, 2);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'v2', Body: 'two', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'testkey-2' }));
    const meta = srv.trove.app.meta;
    const b = await meta.getBucket(bucket);
    assert.equal((await meta.getObject(b!.id, 'v1'))?.sse?.v, 1);
    assert.equal((await meta.getObject(b!.id, 'v2'))?.sse?.v, 2);
    assert.equal((await getBytes(s3, { Bucket: bucket, Key: 'v1' })).body.toString(), 'one');
    assert.equal((await getBytes(s3, { Bucket: bucket, Key: 'v2' })).body.toString(), 'two');
    await srv.trove.app.kms.setEnabled('testkey-2', false);
    const e = await s3error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'v1' })));
    assert.equal(e.name, 'KMS.DisabledException');
    await srv.trove.app.kms.setEnabled('testkey-2', true);
    assert.equal((await getBytes(s3, { Bucket: bucket, Key: 'v1' })).body.toString(), 'one');
  });

  it('bucket default SSE-KMS with a key id; multipart and copy SSE-C → SSE-KMS', async () => {
    const b2 = uniqueBucket();
    await s3.send(new CreateBucketCommand({ Bucket: b2 }));
    const missing = await s3error(s3.send(new PutBucketEncryptionCommand({ Bucket: b2, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'nope' } }] } })));
    assert.equal(missing.$metadata.httpStatusCode, 400);
    await s3.send(new PutBucketEncryptionCommand({ Bucket: b2, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'testkey-1' }, BucketKeyEnabled: true }] } }));
    const got = await s3.send(new GetBucketEncryptionCommand({ Bucket: b2 }));
    assert.equal(got.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.KMSMasterKeyID, 'testkey-1');
    assert.equal(got.ServerSideEncryptionConfiguration?.Rules?.[0]?.BucketKeyEnabled, true);
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: b2, Key: 'mp' }));
    assert.equal(up.ServerSideEncryption, 'aws:kms');
    const p1 = randomBytes(5 * MiB);
    const p2 = randomBytes(12345);
    const r1 = await s3.send(new UploadPartCommand({ Bucket: b2, Key: 'mp', UploadId: up.UploadId, PartNumber: 1, Body: p1 }));
    const r2 = await s3.send(new UploadPartCommand({ Bucket: b2, Key: 'mp', UploadId: up.UploadId, PartNumber: 2, Body: p2 }));
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: b2, Key: 'mp', UploadId: up.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: r1.ETag }, { PartNumber: 2, ETag: r2.ETag }] } }));
    const g = await getBytes(s3, { Bucket: b2, Key: 'mp', Range: `bytes=${p1.length - 100}-${p1.length + 100}` });
    assert.deepEqual(g.body, Buffer.concat([p1, p2]).subarray(p1.length - 100, p1.length + 101));
    assert.equal(g.r.SSEKMSKeyId, 'testkey-1');

    const k = customerKey();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ssec', Body: 'customer data', ...k }));
    const c = await s3.send(new CopyObjectCommand({ Bucket: b2, Key: 'from-ssec', CopySource: `${bucket}/ssec`, ...copySourceKey(k), ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'testkey-2' }));
    assert.equal(c.SSEKMSKeyId, 'testkey-2');
    assert.equal((await getBytes(s3, { Bucket: b2, Key: 'from-ssec' })).body.toString(), 'customer data');
  });
});

describe('server-side encryption: KMS key use is authorised', () => {
  const doc = (...statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
  let srv: TestServer;
  let bucket: string;
  before(async () => {
    srv = await startServer({ masterKeyEnv: MASTER });
    bucket = uniqueBucket();
    await srv.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await srv.trove.app.kms.create({ id: 'testkey-1' });
    await srv.trove.app.kms.create({ id: 'testkey-2' });
  });
  after(async () => srv.stop());

  it('an IAM user needs kms:GenerateDataKey to write and kms:Decrypt to read with a KMS key', async () => {
    const meta = srv.trove.app.meta;
    const canonical = (await meta.getAccessKey(ACCESS_KEY))!.userId;
    const account = { id: canonical, accountId: (await meta.getAccount(canonical))!.accountId };
    const u = await srv.trove.app.iam.createUser(account.accountId, 'kms-user', '/');
    const k = await srv.trove.app.iam.createAccessKey(account, u);
    const s3 = srv.client({ maxAttempts: 1, credentials: { accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey } });
    const setPolicy = async (...statements: object[]) => {
      await meta.iam.putInlinePolicy({ kind: 'user', id: u.id }, 'p', doc(...statements));
      srv.trove.app.iam.changed(account.accountId);
    };
    const s3rw = { Effect: 'Allow', Action: ['s3:PutObject', 's3:GetObject'], Resource: `arn:aws:s3:::${bucket}/*` };
    await setPolicy(s3rw);
    // SSE-S3 needs no KMS permission; SSE-KMS does.
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'a', Body: 'x', ServerSideEncryption: 'AES256' }));
    const denied = await s3error(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'b', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'testkey-1' })));
    assert.equal(denied.name, 'AccessDenied');
    await setPolicy(s3rw, { Effect: 'Allow', Action: 'kms:GenerateDataKey', Resource: 'arn:aws:kms:*:*:key/testkey-1' });
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'b', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'testkey-1' }));
    assert.equal((await s3error(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'c', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'testkey-2' })))).name, 'AccessDenied');
    assert.equal((await s3error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'b' })))).name, 'AccessDenied');
    await setPolicy(s3rw, { Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: 'arn:aws:kms:*:*:key/testkey-1' });
    assert.equal((await getBytes(s3, { Bucket: bucket, Key: 'b' })).body.toString(), 'x');
    // The account's root needs no grant.
    assert.equal((await getBytes(srv.s3, { Bucket: bucket, Key: 'b' })).body.toString(), 'x');
  });
});

describe('server-side encryption: customer keys and plain HTTP', () => {
  const k = customerKey();
  const ssec = {
    'x-amz-server-side-encryption-customer-algorithm': k.SSECustomerAlgorithm,
    'x-amz-server-side-encryption-customer-key': k.SSECustomerKey,
    'x-amz-server-side-encryption-customer-key-md5': k.SSECustomerKeyMD5,
  };
  // The test client is on loopback; a trusted proxy on loopback stands for a remote client.
  const remote = { 'x-forwarded-for': '203.0.113.5' };

  it('refuses a customer key from a remote client over plain HTTP, accepts it through https or with --sse-c-allow-http', async () => {
    const srv = await startServer({ trustedProxies: loadConfig(['--trusted-proxies', '127.0.0.0/8'], {}).trustedProxies });
    try {
      const b = uniqueBucket();
      await srv.s3.send(new CreateBucketCommand({ Bucket: b }));
      const plain = await raw(srv, { method: 'PUT', path: `/${b}/k`, headers: { ...ssec, ...remote }, body: Buffer.from('x') });
      assert.equal(plain.status, 400);
      assert.match(plain.text, /secure connection/);
      const viaTls = await raw(srv, { method: 'PUT', path: `/${b}/k`, headers: { ...ssec, ...remote, 'x-forwarded-proto': 'https' }, body: Buffer.from('x') });
      assert.equal(viaTls.status, 200);
      const read = await raw(srv, { method: 'GET', path: `/${b}/k`, headers: { ...ssec, ...remote } });
      assert.equal(read.status, 400, 'reads too');
      const local = await raw(srv, { method: 'GET', path: `/${b}/k`, headers: ssec });
      assert.equal(local.status, 200, 'a loopback client may');
    } finally {
      await srv.stop();
    }
    const open = await startServer({ sseCAllowHttp: true, trustedProxies: loadConfig(['--trusted-proxies', '127.0.0.0/8'], {}).trustedProxies });
    try {
      const b = uniqueBucket();
      await open.s3.send(new CreateBucketCommand({ Bucket: b }));
      const r = await raw(open, { method: 'PUT', path: `/${b}/k`, headers: { ...ssec, ...remote }, body: Buffer.from('x') });
      assert.equal(r.status, 200);
    } finally {
      await open.stop();
    }
  });
});

describe('server-side encryption: blocking SSE-C (BlockedEncryptionTypes)', () => {
  let srv: TestServer;
  let s3: S3Client;
  before(async () => {
    srv = await startServer({ masterKeyEnv: MASTER });
    s3 = srv.client({ maxAttempts: 1 });
  });
  after(async () => srv.stop());

  const block = (types: string[], by?: { SSEAlgorithm: 'AES256' }) => ({ ServerSideEncryptionConfiguration: { Rules: [{ ...(by ? { ApplyServerSideEncryptionByDefault: by } : {}), BlockedEncryptionTypes: { EncryptionType: types as ('SSE-C' | 'NONE')[] } }] } });
  async function denied(p: Promise<unknown>, what: string): Promise<void> {
    const e = await s3error(p);
    assert.equal(e.name, 'AccessDenied', what);
    assert.equal(e.$metadata.httpStatusCode, 403, what);
  }

  it('refuses every write of new SSE-C data once blocked, still reads what is stored, and unblocks with NONE', async () => {
    const b = uniqueBucket();
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const k = customerKey();
    // Before the block: an SSE-C object and an SSE-C multipart upload.
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'old', Body: 'stored before', ...k }));
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp-old', ...k }));

    await s3.send(new PutBucketEncryptionCommand({ Bucket: b, ...block(['SSE-C']) }));
    const got = await s3.send(new GetBucketEncryptionCommand({ Bucket: b }));
    const rule = got.ServerSideEncryptionConfiguration?.Rules?.[0];
    assert.deepEqual(rule?.BlockedEncryptionTypes?.EncryptionType, ['SSE-C']);
    assert.equal(rule?.ApplyServerSideEncryptionByDefault, undefined, 'no default encryption was put');

    await denied(s3.send(new PutObjectCommand({ Bucket: b, Key: 'new', Body: 'x', ...k })), 'PutObject');
    await denied(s3.send(new CopyObjectCommand({ Bucket: b, Key: 'copy', CopySource: `${b}/old`, ...copySourceKey(k), ...k })), 'CopyObject to SSE-C');
    await denied(s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp', ...k })), 'CreateMultipartUpload');
    await denied(s3.send(new UploadPartCommand({ Bucket: b, Key: 'mp-old', UploadId: up.UploadId, PartNumber: 1, Body: 'part', ...k })), 'UploadPart of an upload begun before the block');
    await denied(
      s3.send(new UploadPartCopyCommand({ Bucket: b, Key: 'mp-old', UploadId: up.UploadId, PartNumber: 1, CopySource: `${b}/old`, ...copySourceKey(k), ...k })),
      'UploadPartCopy of an upload begun before the block',
    );
    assert.equal((await srv.trove.app.meta.getObject((await srv.trove.app.meta.getBucket(b))!.id, 'new')), undefined, 'nothing was written');

    // Reads of what is stored, and writes without customer keys, go on.
    const old = await getBytes(s3, { Bucket: b, Key: 'old', ...k });
    assert.equal(old.body.toString(), 'stored before');
    await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'decrypted', CopySource: `${b}/old`, ...copySourceKey(k) }));
    assert.equal((await getBytes(s3, { Bucket: b, Key: 'decrypted' })).body.toString(), 'stored before');
    assert.equal((await s3.send(new PutObjectCommand({ Bucket: b, Key: 's3', Body: 'x', ServerSideEncryption: 'AES256' }))).ServerSideEncryption, 'AES256');
    assert.equal((await s3.send(new PutObjectCommand({ Bucket: b, Key: 'plain', Body: 'x' }))).ServerSideEncryption, undefined);

    // NONE unblocks; a default encryption and the block live in one rule.
    await s3.send(new PutBucketEncryptionCommand({ Bucket: b, ...block(['NONE'], { SSEAlgorithm: 'AES256' }) }));
    const none = (await s3.send(new GetBucketEncryptionCommand({ Bucket: b }))).ServerSideEncryptionConfiguration?.Rules?.[0];
    assert.deepEqual(none?.BlockedEncryptionTypes?.EncryptionType, ['NONE']);
    assert.equal(none?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm, 'AES256');
    assert.equal((await s3.send(new PutObjectCommand({ Bucket: b, Key: 'new', Body: 'x', ...k }))).SSECustomerAlgorithm, 'AES256');
    await s3.send(new UploadPartCommand({ Bucket: b, Key: 'mp-old', UploadId: up.UploadId, PartNumber: 1, Body: 'part', ...k }));
    // A configuration without BlockedEncryptionTypes replaces the whole configuration: nothing blocked.
    await s3.send(new PutBucketEncryptionCommand({ Bucket: b, ...block(['SSE-C']) }));
    await s3.send(new PutBucketEncryptionCommand({ Bucket: b, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'again', Body: 'x', ...k }));
  });

  it('validates BlockedEncryptionTypes', async () => {
    const b = uniqueBucket();
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const bad = async (xml: string) => {
      const r = await raw(srv, { method: 'PUT', path: `/${b}`, query: { encryption: '' }, body: `<ServerSideEncryptionConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule>${xml}</Rule></ServerSideEncryptionConfiguration>` });
      return { status: r.status, code: errorCode(r.text) };
    };
    assert.deepEqual(await bad('<BlockedEncryptionTypes><EncryptionType>SSE-KMS</EncryptionType></BlockedEncryptionTypes>'), { status: 400, code: 'MalformedXML' });
    assert.deepEqual(await bad('<BlockedEncryptionTypes></BlockedEncryptionTypes>'), { status: 400, code: 'MalformedXML' });
    assert.deepEqual(await bad('<BlockedEncryptionTypes><EncryptionType>NONE</EncryptionType><EncryptionType>SSE-C</EncryptionType></BlockedEncryptionTypes>'), { status: 400, code: 'InvalidArgument' });
    assert.deepEqual(await bad(''), { status: 400, code: 'MalformedXML' });
    assert.equal((await bad('<BlockedEncryptionTypes><EncryptionType>SSE-C</EncryptionType></BlockedEncryptionTypes>')).status, 200);
  });

  it('--bucket-defaults aws: new buckets block SSE-C until PutBucketEncryption unblocks it; compatible keeps it allowed', async () => {
    const aws = await startServer({ masterKeyEnv: MASTER, bucketDefaults: 'aws' });
    try {
      const c = aws.client({ maxAttempts: 1 });
      const b = uniqueBucket();
      await c.send(new CreateBucketCommand({ Bucket: b }));
      const got = await c.send(new GetBucketEncryptionCommand({ Bucket: b }));
      assert.deepEqual(got.ServerSideEncryptionConfiguration?.Rules?.[0]?.BlockedEncryptionTypes?.EncryptionType, ['SSE-C']);
      const k = customerKey();
      await denied(c.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x', ...k })), 'PutObject on a new bucket');
      await c.send(new PutObjectCommand({ Bucket: b, Key: 'plain', Body: 'x' }));
      await c.send(new PutBucketEncryptionCommand({ Bucket: b, ...block(['NONE']) }));
      assert.equal((await c.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x', ...k }))).SSECustomerKeyMD5, k.SSECustomerKeyMD5);
    } finally {
      await aws.stop();
    }
    // The compatible default (this suite's server): a new bucket has no encryption configuration and takes customer keys.
    const b = uniqueBucket();
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    assert.equal((await s3error(s3.send(new GetBucketEncryptionCommand({ Bucket: b })))).name, 'ServerSideEncryptionConfigurationNotFoundError');
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x', ...customerKey() }));
  });
});
