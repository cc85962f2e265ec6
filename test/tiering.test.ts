// Tiering to any S3: a second Trove, started here, is the remote tier. Versions move there
// (transition), are read through (ranges too) or, in an archive tier, restored for some days;
// deleting a version deletes its remote copy; a remote that is down keeps the local copy.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import fs from 'node:fs';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  RestoreObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { ACCESS_KEY, SECRET_KEY, bodyBytes, countBlobFiles, s3error, startServer, tempDir, testMetaUrl, uniqueBucket, type TestServer } from './helpers.js';
import type { App } from '../src/app.js';
import { transition } from '../src/tiering/work.js';

const MASTER = randomBytes(32).toString('hex');
const REMOTE_BUCKET = 'tier-target';

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function remoteKeys(remote: TestServer): Promise<string[]> {
  const r = await remote.s3.send(new ListObjectsV2Command({ Bucket: REMOTE_BUCKET }));
  return (r.Contents ?? []).map((o) => o.Key!);
}

async function get(s: TestServer, bucket: string, key: string, range?: string, versionId?: string): Promise<Buffer> {
  const r = await s.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(range ? { Range: range } : {}), ...(versionId ? { VersionId: versionId } : {}) }));
  return bodyBytes(r.Body);
}

async function version(app: App, bucket: string, key: string, versionId?: string) {
  const b = (await app.meta.getBucket(bucket))!;
  return (await app.meta.getObject(b.id, key, versionId))!;
}

/** Records a `transition` work item, as lifecycle does, and waits for the engine to run it. */
async function move(app: App, bucket: string, key: string, storageClass: string, versionId?: string): Promise<void> {
  const v = await version(app, bucket, key, versionId);
  await app.engine.enqueue([{ kind: 'transition', payload: { bucketId: v.bucketId, key, versionId: v.versionId, storageClass, etag: v.etag } }]);
  await waitFor(`${key} in ${storageClass}`, async () => (await version(app, bucket, key, v.versionId)).storageClass === storageClass);
}

async function failing(app: App, kind: string): Promise<boolean> {
  return ((await app.meta.workStats()).kinds.find((k) => k.kind === kind)?.failing ?? 0) > 0;
}

async function multipart(s: TestServer, bucket: string, key: string, parts: Buffer[], extra: Record<string, string> = {}): Promise<void> {
  const { UploadId } = await s.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...extra }));
  const done = [];
  for (let i = 0; i < parts.length; i++) {
    const r = await s.s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: i + 1, Body: parts[i] }));
    done.push({ PartNumber: i + 1, ETag: r.ETag });
  }
  await s.s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: done } }));
}

describe('tiering to a second Trove', () => {
  let remote: TestServer;
  let local: TestServer;
  let remoteDir: string;
  let remotePort: number;
  let app: App;

  before(async () => {
    remoteDir = await tempDir();
    remote = await startServer({ dataDir: remoteDir });
    remotePort = remote.port;
    await remote.s3.send(new CreateBucketCommand({ Bucket: REMOTE_BUCKET }));
    // A lifecycle day (and a restore's day) of two seconds.
    local = await startServer({ masterKeyEnv: MASTER, inlineThreshold: 1024, lifecycleDayMs: 2000 });
    app = local.trove.app;
    const endpoint = remote.url;
    await app.tiers.registry.add({ name: 'warm', endpoint, bucket: REMOTE_BUCKET, prefix: 'warm/', accessKey: ACCESS_KEY, secretKey: SECRET_KEY, storageClasses: ['STANDARD_IA', 'WARM'] });
    await app.tiers.registry.add({ name: 'cold', endpoint, bucket: REMOTE_BUCKET, prefix: 'cold/', accessKey: ACCESS_KEY, secretKey: SECRET_KEY, archive: true, storageClasses: ['GLACIER'] });
    await app.tiers.refresh();
  });
  after(async () => {
    await local?.stop();
    await remote?.stop();
  });

  it('moves a version to the tier and reads it through, ranges included; metadata, tags and ETag stay', async () => {
    const bucket = uniqueBucket('tier');
    await local.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const data = randomBytes(300 * 1024 + 7);
    const put = await local.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'a/one', Body: data, ContentType: 'text/x-test', Metadata: { colour: 'blue' }, Tagging: 'k=v' }));
    const big = [randomBytes(5 * 1024 * 1024), randomBytes(1024 * 1024 + 3)];
    await multipart(local, bucket, 'a/two', big);
    const blobsBefore = countBlobFiles(local.dataDir);
    const before = await remoteKeys(remote);

    await move(app, bucket, 'a/one', 'STANDARD_IA');
    await move(app, bucket, 'a/two', 'WARM');
    const keys = (await remoteKeys(remote)).filter((k) => !before.includes(k));
    assert.equal(keys.length, 2);
    assert.ok(keys.every((k) => k.startsWith('warm/')));
    // The local blobs are released (three: one object, two parts).
    await waitFor('local blobs released', async () => countBlobFiles(local.dataDir) === blobsBefore - 3);

    const h = await local.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'a/one' }));
    assert.equal(h.StorageClass, 'STANDARD_IA');
    assert.equal(h.ETag, put.ETag);
    assert.equal(h.ContentLength, data.length);
    assert.equal(h.ContentType, 'text/x-test');
    assert.equal(h.Metadata?.colour, 'blue');
    assert.equal(h.TagCount, 1);
    assert.equal(h.Restore, undefined);
    assert.deepEqual(await get(local, bucket, 'a/one'), data);
    assert.deepEqual(await get(local, bucket, 'a/one', 'bytes=1000-200000'), data.subarray(1000, 200001));
    assert.deepEqual(await get(local, bucket, 'a/one', 'bytes=-10'), data.subarray(data.length - 10));
    const whole = Buffer.concat(big);
    assert.deepEqual(await get(local, bucket, 'a/two'), whole);
    assert.deepEqual(await get(local, bucket, 'a/two', `bytes=${5 * 1024 * 1024 - 5}-${5 * 1024 * 1024 + 5}`), whole.subarray(5 * 1024 * 1024 - 5, 5 * 1024 * 1024 + 6));
    const part2 = await local.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'a/two', PartNumber: 2 }));
    assert.deepEqual(await bodyBytes(part2.Body), big[1]);
    const list = await local.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    assert.deepEqual(list.Contents?.map((o) => [o.Key, o.StorageClass]), [['a/one', 'STANDARD_IA'], ['a/two', 'WARM']]);

    // A copy reads the data through and stores it here.
    await local.s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'a/copy', CopySource: `${bucket}/a/one` }));
    assert.deepEqual(await get(local, bucket, 'a/copy'), data);
    assert.equal((await local.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'a/copy' }))).StorageClass, undefined);
    // Writes may name a tier's own class (the object is written here); unknown ones are refused.
    await local.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'a/warm', Body: 'w', StorageClass: 'WARM' as 'STANDARD' }));
    assert.equal((await local.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'a/warm' }))).StorageClass, 'WARM');
    const bad = await s3error(local.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'a/x', Body: 'x', StorageClass: 'LUKEWARM' as 'STANDARD' })));
    assert.equal(bad.name, 'InvalidStorageClass');
    // Moving again is a no-op.
    await move(app, bucket, 'a/one', 'STANDARD_IA');
    assert.equal((await remoteKeys(remote)).length, before.length + 2);
  });

  it('moves small objects kept in their metadata record too (plain, encrypted, empty); archived ones are refused until restored', async () => {
    const bucket = uniqueBucket('tier');
    await local.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const tiny = randomBytes(300);
    await local.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'tiny', Body: tiny }));
    await local.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'tiny-sse', Body: tiny, ServerSideEncryption: 'AES256' }));
    await local.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'empty', Body: '' }));
    assert.ok((await version(app, bucket, 'tiny')).inline);
    await move(app, bucket, 'tiny', 'STANDARD_IA');
    await move(app, bucket, 'tiny-sse', 'STANDARD_IA');
    await move(app, bucket, 'empty', 'GLACIER');
    const v = await version(app, bucket, 'tiny');
    assert.equal(v.inline, undefined);
    assert.equal(v.tier?.size, 300);
    assert.equal((await version(app, bucket, 'tiny-sse')).tier?.size, 300 + 16);
    assert.deepEqual(await get(local, bucket, 'tiny'), tiny);
    assert.deepEqual(await get(local, bucket, 'tiny', 'bytes=7-9'), tiny.subarray(7, 10));
    assert.deepEqual(await get(local, bucket, 'tiny-sse'), tiny);
    assert.deepEqual(await get(local, bucket, 'tiny-sse', 'bytes=290-'), tiny.subarray(290));
    assert.equal((await s3error(local.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'empty' })))).name, 'InvalidObjectState');
    assert.equal((await local.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'empty' }))).ContentLength, 0);
  });

  it('keeps encrypted objects sealed on the tier and reads them back (SSE-S3, single and multipart)', async () => {
    const bucket = uniqueBucket('tier');
    await local.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const data = randomBytes(200 * 1024 + 11);
    await local.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'secret', Body: data, ServerSideEncryption: 'AES256' }));
    const parts = [randomBytes(5 * 1024 * 1024), randomBytes(100 * 1024)];
    await multipart(local, bucket, 'secret-mp', parts, { ServerSideEncryption: 'AES256' } as Record<string, string>);
    const before = await remoteKeys(remote);
    await move(app, bucket, 'secret', 'STANDARD_IA');
    await move(app, bucket, 'secret-mp', 'STANDARD_IA');
    const keys = (await remoteKeys(remote)).filter((k) => !before.includes(k));
    assert.equal(keys.length, 2);
    for (const k of keys) {
      const stored = await bodyBytes((await remote.s3.send(new GetObjectCommand({ Bucket: REMOTE_BUCKET, Key: k }))).Body);
      assert.equal(stored.includes(data.subarray(0, 64)), false, 'plaintext on the tier');
      assert.equal(stored.includes(parts[0]!.subarray(0, 64)), false, 'plaintext on the tier');
    }
    assert.deepEqual(await get(local, bucket, 'secret'), data);
    assert.deepEqual(await get(local, bucket, 'secret', 'bytes=65530-131080'), data.subarray(65530, 131081));
    const whole = Buffer.concat(parts);
    assert.deepEqual(await get(local, bucket, 'secret-mp'), whole);
    const at = 5 * 1024 * 1024;
    assert.deepEqual(await get(local, bucket, 'secret-mp', `bytes=${at - 70000}-${at + 70000}`), whole.subarray(at - 70000, at + 70001));
    const h = await local.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'secret' }));
    assert.equal(h.ServerSideEncryption, 'AES256');
  });

  it('archives: InvalidObjectState until restored, 202 then 409 while the restore runs, readable until it expires', async () => {
    const bucket = uniqueBucket('tier');
    await local.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const data = randomBytes(64 * 1024);
    await local.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'frozen', Body: data }));
    await move(app, bucket, 'frozen', 'GLACIER');
    const h = await local.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'frozen' }));
    assert.equal(h.StorageClass, 'GLACIER');
    assert.equal(h.ContentLength, data.length);
    let e = await s3error(local.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'frozen' })));
    assert.equal(e.name, 'InvalidObjectState');
    assert.equal(e.$metadata.httpStatusCode, 403);
    e = await s3error(local.s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'thawed', CopySource: `${bucket}/frozen` })));
    assert.equal(e.name, 'InvalidObjectState');

    // The tier is down while the restore is asked for: it stays in progress (and is retried).
    await remote.stop();
    try {
      const r1 = await local.s3.send(new RestoreObjectCommand({ Bucket: bucket, Key: 'frozen', RestoreRequest: { Days: 3, GlacierJobParameters: { Tier: 'Standard' } } }));
      assert.equal(r1.$metadata.httpStatusCode, 202);
      e = await s3error(local.s3.send(new RestoreObjectCommand({ Bucket: bucket, Key: 'frozen', RestoreRequest: { Days: 3 } })));
      assert.equal(e.name, 'RestoreAlreadyInProgress');
      assert.equal(e.$metadata.httpStatusCode, 409);
      assert.equal((await local.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'frozen' }))).Restore, 'ongoing-request="true"');
      await waitFor('a failed restore attempt', () => failing(app, 'restore'));
      e = await s3error(local.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'frozen' })));
      assert.equal(e.name, 'InvalidObjectState');
    } finally {
      remote = await startServer({ dataDir: remoteDir, port: remotePort });
    }
    const blobs = countBlobFiles(local.dataDir);
    const restored = await waitFor('the restore', async () => {
      const r = await local.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'frozen' }));
      return r.Restore?.startsWith('ongoing-request="false"') && r;
    });
    assert.match(restored.Restore ?? '', /^ongoing-request="false", expiry-date="[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT"$/);
    assert.equal(restored.StorageClass, 'GLACIER');
    assert.equal(countBlobFiles(local.dataDir), blobs + 1);
    assert.deepEqual(await get(local, bucket, 'frozen'), data);
    assert.deepEqual(await get(local, bucket, 'frozen', 'bytes=10-19'), data.subarray(10, 20));
    // Restoring a restored object moves its expiry (200): one day (two seconds) from now.
    const r2 = await local.s3.send(new RestoreObjectCommand({ Bucket: bucket, Key: 'frozen', RestoreRequest: { Days: 1 } }));
    assert.equal(r2.$metadata.httpStatusCode, 200);
    const expiry = Date.parse(/expiry-date="([^"]+)"/.exec((await local.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'frozen' }))).Restore ?? '')![1]!);
    assert.ok(expiry < Date.parse(/expiry-date="([^"]+)"/.exec(restored.Restore!)![1]!));
    // The copy goes when its days are over: archived again, the local blob released.
    await waitFor('the restored copy to expire', async () => (await local.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'frozen' }))).Restore === undefined);
    assert.ok(Date.now() >= expiry - 1000);
    e = await s3error(local.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'frozen' })));
    assert.equal(e.name, 'InvalidObjectState');
    await waitFor('the restored blob released', async () => countBlobFiles(local.dataDir) === blobs);
    // A version that is not archived cannot be restored.
    await local.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'here', Body: 'x' }));
    e = await s3error(local.s3.send(new RestoreObjectCommand({ Bucket: bucket, Key: 'here', RestoreRequest: { Days: 1 } })));
    assert.equal(e.name, 'InvalidObjectState');
    e = await s3error(local.s3.send(new RestoreObjectCommand({ Bucket: bucket, Key: 'frozen', RestoreRequest: {} })));
    assert.equal(e.name, 'MalformedXML');
  });

  it('moves objects larger than a part with a multipart upload to the tier, and restores them (composite checksum)', async () => {
    const bucket = uniqueBucket('tier');
    await local.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const parts = [randomBytes(5 * 1024 * 1024), randomBytes(5 * 1024 * 1024), randomBytes(5 * 1024 * 1024), randomBytes(2 * 1024 * 1024 + 5)];
    await multipart(local, bucket, 'large', parts);
    await move(app, bucket, 'large', 'GLACIER');
    const v = await version(app, bucket, 'large');
    assert.match(v.tier!.sha256, /-2$/);
    const rh = await remote.s3.send(new HeadObjectCommand({ Bucket: REMOTE_BUCKET, Key: v.tier!.key }));
    assert.equal(rh.ContentLength, 17 * 1024 * 1024 + 5);
    await local.s3.send(new RestoreObjectCommand({ Bucket: bucket, Key: 'large', RestoreRequest: { Days: 30 } }));
    await waitFor('the restore', async () => (await local.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'large' }))).Restore?.startsWith('ongoing-request="false"'));
    const whole = Buffer.concat(parts);
    assert.deepEqual(await get(local, bucket, 'large'), whole);
    assert.deepEqual(await get(local, bucket, 'large', 'bytes=16777200-16777300'), whole.subarray(16777200, 16777301));
  });

  it('a restore refuses remote bytes that do not match the checksum verified at transition', async () => {
    const bucket = uniqueBucket('tier');
    await local.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const data = randomBytes(10_000);
    await local.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: data }));
    await move(app, bucket, 'k', 'GLACIER');
    const v = await version(app, bucket, 'k');
    const forged = Buffer.from(data);
    forged[5000]! ^= 1;
    await remote.s3.send(new PutObjectCommand({ Bucket: REMOTE_BUCKET, Key: v.tier!.key, Body: forged }));
    const blobs = countBlobFiles(local.dataDir);
    await local.s3.send(new RestoreObjectCommand({ Bucket: bucket, Key: 'k', RestoreRequest: { Days: 1 } }));
    await waitFor('a failed restore attempt', async () => ((await app.meta.workStats()).kinds.find((k) => k.kind === 'restore')?.failing ?? 0) > 0);
    assert.equal((await local.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }))).Restore, 'ongoing-request="true"');
    assert.equal(countBlobFiles(local.dataDir), blobs);
    // Deleting the version ends the retries (the item finds nothing to restore) and the remote copy goes.
    await local.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k' }));
    await waitFor('the restore item gone', async () => !(await app.meta.workStats()).kinds.some((k) => k.kind === 'restore' && k.depth > 0), 40_000);
    await waitFor('the remote copy deleted', async () => !(await remoteKeys(remote)).includes(v.tier!.key));
  });

  it('a remote that is down fails the transition and keeps the local copy; it succeeds once the remote is back', async () => {
    const bucket = uniqueBucket('tier');
    await local.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const data = randomBytes(100 * 1024);
    await local.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: data }));
    await local.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'through', Body: data }));
    await move(app, bucket, 'through', 'STANDARD_IA');
    await remote.stop();
    try {
      // Read-through while the tier is down: 503 (clients retry), HEAD answers from here.
      const e = await s3error(local.client({ maxAttempts: 1 }).send(new GetObjectCommand({ Bucket: bucket, Key: 'through' })));
      assert.equal(e.$metadata.httpStatusCode, 503);
      assert.equal((await local.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'through' }))).ContentLength, data.length);
      // The handler fails (the engine retries it) and nothing local is dropped.
      const v = await version(app, bucket, 'k');
      await assert.rejects(transition(app, { bucketId: v.bucketId, key: 'k', versionId: v.versionId, storageClass: 'STANDARD_IA', etag: v.etag }));
      await app.engine.enqueue([{ kind: 'transition', payload: { bucketId: v.bucketId, key: 'k', versionId: v.versionId, storageClass: 'STANDARD_IA', etag: v.etag } }]);
      await waitFor('a failed transition attempt', () => failing(app, 'transition'));
      const still = await version(app, bucket, 'k');
      assert.equal(still.tier, undefined);
      assert.equal(still.storageClass, 'STANDARD');
      assert.deepEqual(await get(local, bucket, 'k'), data);
    } finally {
      remote = await startServer({ dataDir: remoteDir, port: remotePort });
    }
    // The retry succeeds once the tier is back.
    await waitFor('the retried transition', async () => (await version(app, bucket, 'k')).tier !== undefined, 40_000);
    assert.deepEqual(await get(local, bucket, 'k'), data);
    assert.deepEqual(await get(local, bucket, 'through'), data);
  });

  it('deleting a tiered version, or overwriting a null one, deletes its remote copy (the work item is recorded with the delete)', async () => {
    const bucket = uniqueBucket('tier');
    await local.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await local.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'gone', Body: randomBytes(5000) }));
    await local.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'over', Body: randomBytes(5000) }));
    await move(app, bucket, 'gone', 'STANDARD_IA');
    await move(app, bucket, 'over', 'GLACIER');
    const t1 = (await version(app, bucket, 'gone')).tier!;
    const t2 = (await version(app, bucket, 'over')).tier!;
    assert.ok((await remoteKeys(remote)).includes(t1.key) && (await remoteKeys(remote)).includes(t2.key));
    await local.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'gone' }));
    await local.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'over', Body: 'new' }));
    await waitFor('the remote copies deleted', async () => {
      const keys = await remoteKeys(remote);
      return !keys.includes(t1.key) && !keys.includes(t2.key);
    });
    assert.equal(await bodyBytes((await local.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'over' }))).Body).then(String), 'new');
    // In a versioned bucket, a delete marker keeps the version (and its copy); deleting the version removes it.
    const vb = uniqueBucket('tier');
    await local.s3.send(new CreateBucketCommand({ Bucket: vb }));
    await local.s3.send(new PutBucketVersioningCommand({ Bucket: vb, VersioningConfiguration: { Status: 'Enabled' } }));
    const put = await local.s3.send(new PutObjectCommand({ Bucket: vb, Key: 'v', Body: randomBytes(3000) }));
    await move(app, vb, 'v', 'STANDARD_IA', put.VersionId);
    const t3 = (await version(app, vb, 'v', put.VersionId)).tier!;
    await local.s3.send(new DeleteObjectCommand({ Bucket: vb, Key: 'v' }));
    await new Promise((r) => setTimeout(r, 1500));
    assert.ok((await remoteKeys(remote)).includes(t3.key));
    await local.s3.send(new DeleteObjectCommand({ Bucket: vb, Key: 'v', VersionId: put.VersionId }));
    await waitFor('the version\'s remote copy deleted', async () => !(await remoteKeys(remote)).includes(t3.key));
  });

  it('moves a tiered version to another class of its tier (a label) or to another tier (copied, the old copy deleted)', async () => {
    const bucket = uniqueBucket('tier');
    await local.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const data = randomBytes(50_000);
    await local.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'm', Body: data }));
    await move(app, bucket, 'm', 'STANDARD_IA');
    const first = (await version(app, bucket, 'm')).tier!;
    await move(app, bucket, 'm', 'WARM');
    assert.equal((await version(app, bucket, 'm')).tier!.key, first.key);
    await move(app, bucket, 'm', 'GLACIER');
    const second = (await version(app, bucket, 'm')).tier!;
    assert.equal(second.tier, 'cold');
    assert.ok(second.archive && second.key.startsWith('cold/'));
    await waitFor('the old copy deleted', async () => !(await remoteKeys(remote)).includes(first.key));
    // The clean-up item of an upload spares the copy the version points at, and deletes one it does not.
    const { deleteRemote } = await import('../src/tiering/work.js');
    const owner = { bucketId: (await version(app, bucket, 'm')).bucketId, key: 'm', versionId: 'null' };
    await deleteRemote(app, { tier: 'cold', key: second.key, unless: owner });
    assert.ok((await remoteKeys(remote)).includes(second.key));
    await remote.s3.send(new PutObjectCommand({ Bucket: REMOTE_BUCKET, Key: 'cold/orphan', Body: 'x' }));
    await deleteRemote(app, { tier: 'cold', key: 'cold/orphan', unless: owner });
    assert.equal((await remoteKeys(remote)).includes('cold/orphan'), false);
    assert.equal((await s3error(local.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'm' })))).name, 'InvalidObjectState');
    await local.s3.send(new RestoreObjectCommand({ Bucket: bucket, Key: 'm', RestoreRequest: { Days: 30 } }));
    await waitFor('the restore', async () => (await local.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'm' }))).Restore?.startsWith('ongoing-request="false"'));
    assert.deepEqual(await get(local, bucket, 'm'), data);
  });

  it('a lifecycle Transition rule moves objects to the tier its storage class names', async () => {
    const bucket = uniqueBucket('tier');
    await local.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const data = randomBytes(200 * 1024);
    await local.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'old/a', Body: data }));
    await local.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'keep/b', Body: data }));
    // A class no tier (and not S3) names is refused.
    const bad = await s3error(
      local.s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: { Rules: [{ ID: 'r', Status: 'Enabled', Filter: { Prefix: 'old/' }, Transitions: [{ Days: 1, StorageClass: 'NOPE' as 'GLACIER' }] }] } })),
    );
    assert.equal(bad.name, 'InvalidStorageClass');
    await local.s3.send(
      new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: { Rules: [{ ID: 'r', Status: 'Enabled', Filter: { Prefix: 'old/' }, Transitions: [{ Days: 1, StorageClass: 'WARM' as 'GLACIER' }] }] } }),
    );
    await waitFor('the transition', async () => (await version(app, bucket, 'old/a')).tier?.tier === 'warm', 40_000);
    const h = await local.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'old/a' }));
    assert.equal(h.StorageClass, 'WARM');
    assert.deepEqual(await get(local, bucket, 'old/a'), data);
    assert.equal((await version(app, bucket, 'keep/b')).tier, undefined);
  });
});

describe('trove admin tier', () => {
  const run = promisify(execFile);
  const main = path.resolve('dist/src/main.js');

  it('adds, lists and removes tiers; the secret is sealed under the master key and never printed', async () => {
    const dataDir = await tempDir();
    const metaUrl = await testMetaUrl(dataDir);
    const where = ['--data-dir', dataDir, ...(metaUrl ? ['--meta', metaUrl] : [])];
    const env = { ...process.env, TROVE_MASTER_KEY: MASTER };
    const secret = 'very/secret+key/0123456789abcdefghijklmnop';
    const add = await run('node', [main, 'admin', 'tier', 'add', 'cold', '--endpoint', 'http://127.0.0.1:9', '--bucket', 'b', '--prefix', 'p/', '--access-key', 'AK', '--secret-key', secret, '--archive', '--storage-class', 'GLACIER', '--storage-class', 'COLD,DEEP_ARCHIVE', ...where], { env });
    assert.equal(add.stdout.includes(secret), false);
    assert.match(add.stdout, /^cold\thttp:\/\/127\.0\.0\.1:9\tb\/p\/\tus-east-1\tAK\tsecret:sealed\tarchive\tGLACIER,COLD,DEEP_ARCHIVE\n$/);
    // A class names one tier only; names are checked.
    await assert.rejects(run('node', [main, 'admin', 'tier', 'add', 'other', '--endpoint', 'http://x', '--bucket', 'b', '--access-key', 'A', '--secret-key', 'S', '--storage-class', 'COLD', ...where], { env }), /COLD already names tier cold/);
    await assert.rejects(run('node', [main, 'admin', 'tier', 'add', 'bad', '--endpoint', 'ftp://x', '--bucket', 'b', '--access-key', 'A', '--secret-key', 'S', ...where], { env }), /http/);
    const list = await run('node', [main, 'admin', 'tier', 'list', ...where], { env });
    assert.equal(list.stdout, add.stdout);
    // The sealed secret opens with the master key only.
    const srv = await startServer({ dataDir, masterKeyEnv: MASTER });
    try {
      assert.equal((await srv.trove.app.tiers.registry.get('cold'))?.secretKey, secret);
      const { knownStorageClasses } = await import('../src/tiering/tiers.js');
      const known = await knownStorageClasses(srv.trove.app.meta);
      assert.ok(known.has('COLD') && known.has('GLACIER') && known.has('STANDARD_IA') && !known.has('WARM'));
      assert.equal(JSON.stringify(await srv.trove.app.meta.getSetting('tier:cold')).includes(secret), false);
    } finally {
      await srv.stop();
    }
    // Rotating the master key re-seals the tier's secret: it opens with the new key only.
    const nextKey = randomBytes(32).toString('hex');
    const keyFile = path.join(dataDir, 'next-master');
    await fs.promises.writeFile(keyFile, nextKey, { mode: 0o600 });
    const rotated = await run('node', [main, 'admin', 'kms', 'rotate-master', '--new-master-key-file', keyFile, ...where], { env });
    assert.match(rotated.stdout, /, 1 tier secrets/);
    const again = await startServer({ dataDir, masterKeyEnv: nextKey });
    try {
      assert.equal((await again.trove.app.tiers.registry.get('cold'))?.secretKey, secret);
    } finally {
      await again.stop();
    }
    await run('node', [main, 'admin', 'tier', 'remove', 'cold', ...where], { env: { ...env, TROVE_MASTER_KEY: nextKey } });
    assert.equal((await run('node', [main, 'admin', 'tier', 'list', ...where], { env: { ...env, TROVE_MASTER_KEY: nextKey } })).stdout, '');
  });
});
