// Quotas and usage counters through the real SDK, on the store the run uses (npm test runs this
// file on SQLite and again on PostgreSQL): counters stay exact across overwrites, deletes,
// versions and multipart uploads (compared with listings), concurrent uploads never take a bucket
// past its quota, and `trove admin quota|usage` work on a running server's store.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ACCESS_KEY, s3error, startServer, testMetaUrl, uniqueBucket, type TestServer } from './helpers.js';
import type { MetaStore, Usage } from '../src/store/meta/types.js';

const run = promisify(execFile);
const MAIN = path.join(import.meta.dirname, '..', 'src', 'main.js');

/** What a full version listing says the bucket holds (delete markers are not objects). */
async function listed(s3: S3Client, bucket: string): Promise<{ bytes: number; objects: number }> {
  let bytes = 0;
  let objects = 0;
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    const r = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }));
    for (const v of r.Versions ?? []) {
      bytes += v.Size ?? 0;
      objects++;
    }
    if (!r.IsTruncated) return { bytes, objects };
    keyMarker = r.NextKeyMarker;
    versionIdMarker = r.NextVersionIdMarker;
  }
}

describe('quotas and usage counters', () => {
  let server: TestServer;
  let s3: S3Client;
  let meta: MetaStore;
  let owner: string;

  before(async () => {
    server = await startServer();
    s3 = server.s3;
    meta = server.trove.app.meta;
    owner = (await meta.getAccessKey(ACCESS_KEY))!.userId;
  });
  after(() => server.stop());

  async function bucket(versioned = false): Promise<{ name: string; id: string }> {
    const name = uniqueBucket('q');
    await s3.send(new CreateBucketCommand({ Bucket: name }));
    if (versioned) await s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
    return { name, id: String((await meta.getBucket(name))!.id) };
  }

  async function assertExact(b: { name: string; id: string }): Promise<Usage> {
    const u = await meta.getUsage('bucket', b.id);
    assert.deepEqual({ bytes: u.bytes, objects: u.objects }, await listed(s3, b.name));
    return u;
  }

  it('keeps counters exact through puts, overwrites, copies and deletes (unversioned)', async () => {
    const b = await bucket();
    await s3.send(new PutObjectCommand({ Bucket: b.name, Key: 'a', Body: Buffer.alloc(1000) }));
    await s3.send(new PutObjectCommand({ Bucket: b.name, Key: 'b', Body: Buffer.alloc(200_000) }));
    assert.deepEqual(await assertExact(b), { bytes: 201_000, objects: 2, stagedBytes: 0 });
    await s3.send(new PutObjectCommand({ Bucket: b.name, Key: 'a', Body: Buffer.alloc(10) }));
    await s3.send(new CopyObjectCommand({ Bucket: b.name, Key: 'c', CopySource: `${b.name}/b` }));
    assert.equal((await assertExact(b)).bytes, 400_010);
    await s3.send(new DeleteObjectCommand({ Bucket: b.name, Key: 'b' }));
    await s3.send(new DeleteObjectsCommand({ Bucket: b.name, Delete: { Objects: [{ Key: 'a' }, { Key: 'missing' }] } }));
    assert.deepEqual(await assertExact(b), { bytes: 200_000, objects: 1, stagedBytes: 0 });
  });

  it('counts every version and no delete marker (versioned)', async () => {
    const b = await bucket(true);
    const vids: string[] = [];
    for (const n of [100, 2000, 300_000]) vids.push((await s3.send(new PutObjectCommand({ Bucket: b.name, Key: 'k', Body: Buffer.alloc(n) }))).VersionId!);
    await s3.send(new DeleteObjectCommand({ Bucket: b.name, Key: 'k' }));
    assert.deepEqual(await assertExact(b), { bytes: 302_100, objects: 3, stagedBytes: 0 });
    await s3.send(new DeleteObjectCommand({ Bucket: b.name, Key: 'k', VersionId: vids[1] }));
    assert.deepEqual(await assertExact(b), { bytes: 300_100, objects: 2, stagedBytes: 0 });
    await s3.send(new PutBucketVersioningCommand({ Bucket: b.name, VersioningConfiguration: { Status: 'Suspended' } }));
    await s3.send(new PutObjectCommand({ Bucket: b.name, Key: 'k', Body: Buffer.alloc(7) }));
    await s3.send(new PutObjectCommand({ Bucket: b.name, Key: 'k', Body: Buffer.alloc(9) }));
    assert.deepEqual(await assertExact(b), { bytes: 300_109, objects: 3, stagedBytes: 0 });
  });

  it('counts parts while they accumulate and the object at completion', async () => {
    const b = await bucket();
    const part = Buffer.alloc(5 * 1024 * 1024, 1);
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: b.name, Key: 'm' }));
    const e1 = await s3.send(new UploadPartCommand({ Bucket: b.name, Key: 'm', UploadId, PartNumber: 1, Body: part }));
    const e2 = await s3.send(new UploadPartCommand({ Bucket: b.name, Key: 'm', UploadId, PartNumber: 2, Body: Buffer.alloc(100) }));
    assert.deepEqual(await meta.getUsage('bucket', b.id), { bytes: 0, objects: 0, stagedBytes: part.length + 100 });
    // A part that would take stored + staged bytes past the quota is refused.
    await meta.setQuota('bucket', b.id, { maxBytes: part.length + 150 });
    const e = await s3error(s3.send(new UploadPartCommand({ Bucket: b.name, Key: 'm', UploadId, PartNumber: 3, Body: Buffer.alloc(100) })));
    assert.equal(e.name, 'QuotaExceeded');
    assert.equal(e.$metadata.httpStatusCode, 403);
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: b.name, Key: 'm', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: e1.ETag }, { PartNumber: 2, ETag: e2.ETag }] } }));
    assert.deepEqual(await assertExact(b), { bytes: part.length + 100, objects: 1, stagedBytes: 0 });
    const other = await s3.send(new CreateMultipartUploadCommand({ Bucket: b.name, Key: 'n' }));
    await s3.send(new UploadPartCommand({ Bucket: b.name, Key: 'n', UploadId: other.UploadId, PartNumber: 1, Body: Buffer.alloc(50) }));
    assert.equal((await meta.getUsage('bucket', b.id)).stagedBytes, 50);
    await s3.send(new AbortMultipartUploadCommand({ Bucket: b.name, Key: 'n', UploadId: other.UploadId }));
    assert.equal((await meta.getUsage('bucket', b.id)).stagedBytes, 0);
  });

  it('never lets 10 concurrent uploads pass a byte quota', async () => {
    const b = await bucket();
    const size = 200_000;
    await meta.setQuota('bucket', b.id, { maxBytes: 3 * size + size / 2 });
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => s3.send(new PutObjectCommand({ Bucket: b.name, Key: `k${i}`, Body: Buffer.alloc(size, i) }))),
    );
    const refused = results.filter((r) => r.status === 'rejected');
    for (const r of refused) assert.equal((r.reason as Error).name, 'QuotaExceeded');
    assert.equal(results.length - refused.length, 3);
    const u = await assertExact(b);
    assert.equal(u.bytes, 3 * size);
    // At the quota: an overwrite that does not grow the bucket, and a delete, still succeed.
    const ok = results.findIndex((r) => r.status === 'fulfilled');
    await s3.send(new PutObjectCommand({ Bucket: b.name, Key: `k${ok}`, Body: Buffer.alloc(size) }));
    assert.equal((await s3error(s3.send(new PutObjectCommand({ Bucket: b.name, Key: `k${ok}`, Body: Buffer.alloc(size * 2) })))).name, 'QuotaExceeded');
    await s3.send(new DeleteObjectCommand({ Bucket: b.name, Key: `k${ok}` }));
    await s3.send(new PutObjectCommand({ Bucket: b.name, Key: 'again', Body: Buffer.alloc(size) }));
    assert.equal((await assertExact(b)).bytes, 3 * size);
  });

  it('never lets 10 concurrent uploads pass an object quota, and clears', async () => {
    const b = await bucket(true);
    await meta.setQuota('bucket', b.id, { maxObjects: 4 });
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => s3.send(new PutObjectCommand({ Bucket: b.name, Key: `k${i % 3}`, Body: `v${i}` }))));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 4);
    assert.equal((await assertExact(b)).objects, 4);
    // A delete marker is no object: deleting in a full versioned bucket works.
    await s3.send(new DeleteObjectCommand({ Bucket: b.name, Key: 'k0' }));
    await meta.setQuota('bucket', b.id, undefined);
    await s3.send(new PutObjectCommand({ Bucket: b.name, Key: 'k9', Body: 'x' }));
    assert.equal((await assertExact(b)).objects, 5);
  });

  it('counts concurrent writes exactly, and a quota set while writes are in flight counts them all', async () => {
    // Without a quota, concurrent writers of one bucket add to different counter rows (PostgreSQL
    // spreads them over shards); the usage is their sum. A quota set meanwhile waits for the
    // writes in flight, and the writes after it see every byte before it.
    const b = await bucket();
    const size = 50_000;
    const put = (key: string) => s3.send(new PutObjectCommand({ Bucket: b.name, Key: key, Body: Buffer.alloc(size, 1) }));
    const first = Array.from({ length: 10 }, (_, i) => put(`a${i}`));
    await new Promise((r) => setTimeout(r, 5));
    await meta.setQuota('bucket', b.id, { maxBytes: 15 * size });
    const second = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => put(`b${i}`)));
    await Promise.all(first);
    const refused = second.filter((r) => r.status === 'rejected');
    for (const r of refused) assert.equal((r.reason as Error).name, 'QuotaExceeded');
    assert.equal(second.length - refused.length, 5);
    assert.equal((await assertExact(b)).bytes, 15 * size);
    await meta.setQuota('bucket', b.id, undefined);
    await Promise.all(Array.from({ length: 16 }, (_, i) => put(`c${i}`)));
    await Promise.all(Array.from({ length: 8 }, (_, i) => s3.send(new DeleteObjectCommand({ Bucket: b.name, Key: `c${i}` }))));
    assert.equal((await assertExact(b)).bytes, 23 * size);
  });

  it("enforces the owner account's quota across its buckets", async () => {
    const b1 = await bucket();
    const b2 = await bucket();
    const before = await meta.getUsage('account', owner);
    await meta.setQuota('account', owner, { maxBytes: before.bytes + before.stagedBytes + 1500 });
    try {
      await s3.send(new PutObjectCommand({ Bucket: b1.name, Key: 'x', Body: Buffer.alloc(1000) }));
      const e = await s3error(s3.send(new PutObjectCommand({ Bucket: b2.name, Key: 'y', Body: Buffer.alloc(1000) })));
      assert.equal(e.name, 'QuotaExceeded');
      assert.match(e.message, /account/);
      assert.equal((await meta.getUsage('account', owner)).bytes, before.bytes + 1000);
    } finally {
      await meta.setQuota('account', owner, undefined);
    }
  });

  it('trove admin quota and usage work on the store of a running server', async () => {
    const b = await bucket();
    const metaUrl = await testMetaUrl(server.dataDir);
    const store = ['--data-dir', server.dataDir, ...(metaUrl ? ['--meta', metaUrl] : [])];
    const set = await run(process.execPath, [MAIN, 'admin', 'quota', 'set', '--bucket', b.name, '--max-bytes', '100', ...store]);
    assert.match(set.stdout, /max-bytes 100 max-objects unlimited/);
    await s3.send(new PutObjectCommand({ Bucket: b.name, Key: 'a', Body: Buffer.alloc(60) }));
    assert.equal((await s3error(s3.send(new PutObjectCommand({ Bucket: b.name, Key: 'b', Body: Buffer.alloc(60) })))).name, 'QuotaExceeded');
    const usage = await run(process.execPath, [MAIN, 'admin', 'usage', '--bucket', b.name, '--json', ...store]);
    assert.deepEqual(JSON.parse(usage.stdout), { bytes: 60, objects: 1, stagedBytes: 0, quota: { maxBytes: 100 } });
    await run(process.execPath, [MAIN, 'admin', 'quota', 'clear', '--bucket', b.name, ...store]);
    await s3.send(new PutObjectCommand({ Bucket: b.name, Key: 'b', Body: Buffer.alloc(60) }));
    const all = await run(process.execPath, [MAIN, 'admin', 'usage', ...store]);
    assert.match(all.stdout, new RegExp(`bucket ${b.name}\\tbytes 120\\tobjects 2\\t.*quota none`));
  });
});
