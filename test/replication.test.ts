// Bucket replication between two real Trove servers (SQLite; PostgreSQL with
// TROVE_TEST_META=postgres), driven by the AWS SDK: the configuration API and its errors; puts,
// overwrites, user metadata, tags, multipart and locked objects and delete markers replicate with
// identical ETags and version ids, statuses COMPLETED / REPLICA; a destination stopped under load
// catches up with nothing missing; two buckets replicating to each other converge without loops;
// ordinary clients cannot write replicas; trove admin remote / replication.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketReplicationCommand,
  DeleteObjectCommand,
  GetBucketReplicationCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketReplicationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  UploadPartCommand,
  type ReplicationConfiguration,
} from '@aws-sdk/client-s3';
import { ACCESS_KEY, SECRET_KEY, TEST_META, countBlobFiles, freePort, s3error, startServer, tempDir, testMetaUrl, uniqueBucket, type TestServer } from './helpers.js';
import { REPLICATE_KIND } from '../src/replication/service.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MAIN = path.resolve(import.meta.dirname, '../src/main.js');

async function until(cond: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Replication work still queued on a server. */
async function queued(srv: TestServer): Promise<number> {
  const st = await srv.trove.app.meta.workStats();
  return st.kinds.find((k) => k.kind === REPLICATE_KIND)?.depth ?? 0;
}

interface Row {
  key: string;
  versionId: string;
  etag?: string;
  latest: boolean;
  marker: boolean;
}

/** Every version and delete marker of a bucket, in listing order. */
async function versions(s3: S3Client, bucket: string): Promise<Row[]> {
  const out: Row[] = [];
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    const r = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }));
    const rows: Row[] = [
      ...(r.Versions ?? []).map((v) => ({ key: v.Key!, versionId: v.VersionId!, etag: v.ETag!, latest: v.IsLatest!, marker: false })),
      ...(r.DeleteMarkers ?? []).map((d) => ({ key: d.Key!, versionId: d.VersionId!, latest: d.IsLatest!, marker: true })),
    ];
    out.push(...rows);
    if (!r.IsTruncated) break;
    keyMarker = r.NextKeyMarker;
    versionIdMarker = r.NextVersionIdMarker;
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.versionId < b.versionId ? 1 : -1));
}

async function md5Of(s3: S3Client, bucket: string, key: string, versionId: string): Promise<string> {
  const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
  return createHash('md5').update(Buffer.from(await r.Body!.transformToByteArray())).digest('hex');
}

function rule(dest: string, extra: Partial<NonNullable<ReplicationConfiguration['Rules']>[number]> = {}): NonNullable<ReplicationConfiguration['Rules']>[number] {
  return { ID: 'all', Priority: 1, Status: 'Enabled', Filter: { Prefix: '' }, DeleteMarkerReplication: { Status: 'Enabled' }, Destination: { Bucket: `arn:aws:s3:::${dest}` }, ...extra };
}

const ROLE = 'arn:aws:iam::123456789012:role/replication';

async function versionedBucket(s3: S3Client, name: string, lock = false): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: name, ...(lock ? { ObjectLockEnabledForBucket: true } : {}) }));
  if (!lock) await s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
}

/** Registers `dest` (on `to`) as a remote of `from` and replicates `src` there. */
async function replicate(from: TestServer, src: string, to: TestServer, dest: string, name = `r-${dest}`): Promise<void> {
  await from.trove.app.replication.remotes.add({ name, endpoint: to.url, accessKey: ACCESS_KEY, secretKey: SECRET_KEY, buckets: [dest] });
  await from.s3.send(new PutBucketReplicationCommand({ Bucket: src, ReplicationConfiguration: { Role: ROLE, Rules: [rule(dest)] } }));
}

describe(`replication between two servers (${TEST_META})`, () => {
  let a: TestServer;
  let b: TestServer;
  let bDir: string;
  /** The destination restarts on the same address (its remote record names it): a port picked once. */
  let destPort: number;

  before(async () => {
    destPort = await freePort();
    a = await startServer();
    bDir = await tempDir('trove-repl-dest-');
    b = await startServer({ dataDir: bDir, port: destPort });
  });
  after(async () => {
    await a.stop();
    await b.stop();
    await fs.promises.rm(bDir, { recursive: true, force: true });
  });

  it('configuration: put, get, delete, and S3’s errors', async () => {
    const src = uniqueBucket('cfg');
    const dest = uniqueBucket('cfgd');
    await a.s3.send(new CreateBucketCommand({ Bucket: src }));
    await versionedBucket(b.s3, dest);
    const config: ReplicationConfiguration = { Role: ROLE, Rules: [rule(dest, { ID: 'logs', Filter: { And: { Prefix: 'logs/', Tags: [{ Key: 'k', Value: 'v' }] } }, DeleteMarkerReplication: { Status: 'Disabled' } })] };
    // Versioning is required on the source.
    let e = await s3error(a.s3.send(new PutBucketReplicationCommand({ Bucket: src, ReplicationConfiguration: config })));
    assert.equal(e.name, 'InvalidRequest');
    await a.s3.send(new PutBucketVersioningCommand({ Bucket: src, VersioningConfiguration: { Status: 'Enabled' } }));
    // The destination must be a registered remote.
    e = await s3error(a.s3.send(new PutBucketReplicationCommand({ Bucket: src, ReplicationConfiguration: config })));
    assert.equal(e.name, 'InvalidRequest');
    assert.match(e.message, /Destination bucket/);
    await a.trove.app.replication.remotes.add({ name: 'cfg', endpoint: b.url, accessKey: ACCESS_KEY, secretKey: SECRET_KEY, buckets: [dest] });
    e = await s3error(a.s3.send(new GetBucketReplicationCommand({ Bucket: src })));
    assert.equal(e.name, 'ReplicationConfigurationNotFoundError');
    assert.equal(e.$metadata.httpStatusCode, 404);
    await a.s3.send(new PutBucketReplicationCommand({ Bucket: src, ReplicationConfiguration: config }));
    const got = (await a.s3.send(new GetBucketReplicationCommand({ Bucket: src }))).ReplicationConfiguration!;
    assert.equal(got.Role, ROLE);
    assert.equal(got.Rules![0]!.ID, 'logs');
    assert.deepEqual(got.Rules![0]!.Filter, { And: { Prefix: 'logs/', Tags: [{ Key: 'k', Value: 'v' }] } });
    assert.equal(got.Rules![0]!.DeleteMarkerReplication!.Status, 'Disabled');
    assert.equal(got.Rules![0]!.Destination!.Bucket, `arn:aws:s3:::${dest}`);
    // V2 rules need DeleteMarkerReplication; tag filters cannot replicate delete markers;
    // priorities are unique; an ARN must name a bucket.
    const bad: [ReplicationConfiguration, string][] = [
      [{ Role: ROLE, Rules: [{ ...rule(dest), DeleteMarkerReplication: undefined }] }, 'InvalidRequest'],
      [{ Role: ROLE, Rules: [rule(dest, { Filter: { Tag: { Key: 'k', Value: 'v' } } })] }, 'InvalidRequest'],
      [{ Role: ROLE, Rules: [rule(dest, { ID: 'x' }), rule(dest, { ID: 'y' })] }, 'InvalidRequest'],
      [{ Role: ROLE, Rules: [rule(dest, { ID: 'x' }), rule(dest, { ID: 'x', Priority: 2 })] }, 'InvalidRequest'],
      [{ Role: ROLE, Rules: [rule(dest, { Destination: { Bucket: 'not-an-arn' } })] }, 'InvalidArgument'],
      [{ Role: ROLE, Rules: [rule(dest, { Status: 'Sometimes' as 'Enabled' })] }, 'MalformedXML'],
    ];
    // The V1 schema (a rule-level Prefix) reads back as written; it cannot be mixed with V2 rules.
    bad.push([{ Role: ROLE, Rules: [{ ID: 'v1', Prefix: 'a/', Status: 'Enabled', Destination: { Bucket: `arn:aws:s3:::${dest}` } }, rule(dest, { ID: 'v2' })] }, 'InvalidRequest']);
    for (const [c, code] of bad) {
      e = await s3error(a.s3.send(new PutBucketReplicationCommand({ Bucket: src, ReplicationConfiguration: c })));
      assert.equal(e.name, code, JSON.stringify(c));
    }
    await a.s3.send(new PutBucketReplicationCommand({ Bucket: src, ReplicationConfiguration: { Role: ROLE, Rules: [{ ID: 'v1', Prefix: 'a/', Status: 'Enabled', Destination: { Bucket: `arn:aws:s3:::${dest}`, StorageClass: 'STANDARD_IA' } }] } }));
    const v1 = (await a.s3.send(new GetBucketReplicationCommand({ Bucket: src }))).ReplicationConfiguration!.Rules![0]!;
    assert.equal(v1.Prefix, 'a/');
    assert.equal(v1.Filter, undefined);
    assert.equal(v1.Destination!.StorageClass, 'STANDARD_IA');
    // A replicating bucket stays versioned.
    e = await s3error(a.s3.send(new PutBucketVersioningCommand({ Bucket: src, VersioningConfiguration: { Status: 'Suspended' } })));
    assert.equal(e.name, 'InvalidBucketState');
    await a.s3.send(new DeleteBucketReplicationCommand({ Bucket: src }));
    await a.s3.send(new PutBucketVersioningCommand({ Bucket: src, VersioningConfiguration: { Status: 'Suspended' } }));
    e = await s3error(a.s3.send(new GetBucketReplicationCommand({ Bucket: src })));
    assert.equal(e.name, 'ReplicationConfigurationNotFoundError');
  });

  it('puts, overwrites, metadata, tags, multipart, locked objects and delete markers replicate with the same ETags and version ids', async () => {
    const src = uniqueBucket('src');
    const dest = uniqueBucket('dst');
    await versionedBucket(a.s3, src, true);
    await versionedBucket(b.s3, dest, true);
    await replicate(a, src, b, dest);

    const put1 = await a.s3.send(new PutObjectCommand({ Bucket: src, Key: 'k1', Body: 'one', ContentType: 'text/plain', Metadata: { colour: 'blue' }, Tagging: 'a=1&b=2' }));
    await a.s3.send(new PutObjectCommand({ Bucket: src, Key: 'k1', Body: 'one, overwritten' }));
    await a.s3.send(new PutObjectCommand({ Bucket: src, Key: 'dir/ü 2', Body: Buffer.alloc(200_000, 7) }));
    // A multipart object of three parts (5 MiB, 5 MiB, 1 byte): its ETag is md5(part md5s)-3.
    const { UploadId } = await a.s3.send(new CreateMultipartUploadCommand({ Bucket: src, Key: 'big', Metadata: { m: 'p' } }));
    const parts = [];
    for (const [i, size] of [5 * 1024 * 1024, 5 * 1024 * 1024, 1].entries()) {
      const r = await a.s3.send(new UploadPartCommand({ Bucket: src, Key: 'big', UploadId, PartNumber: i + 1, Body: Buffer.alloc(size, i + 1) }));
      parts.push({ PartNumber: i + 1, ETag: r.ETag! });
    }
    const big = await a.s3.send(new CompleteMultipartUploadCommand({ Bucket: src, Key: 'big', UploadId, MultipartUpload: { Parts: parts } }));
    assert.match(big.ETag!, /-3"$/);
    // A locked object: its retention travels with it.
    const retainUntil = new Date(Date.now() + 3600_000);
    await a.s3.send(new PutObjectCommand({ Bucket: src, Key: 'locked', Body: 'keep me', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: retainUntil, ObjectLockLegalHoldStatus: 'ON' }));
    // A delete marker.
    await a.s3.send(new PutObjectCommand({ Bucket: src, Key: 'gone', Body: 'soon deleted' }));
    const del = await a.s3.send(new DeleteObjectCommand({ Bucket: src, Key: 'gone' }));
    assert.equal(del.DeleteMarker, true);

    const head = await a.s3.send(new HeadObjectCommand({ Bucket: src, Key: 'k1', VersionId: put1.VersionId }));
    assert.ok(['PENDING', 'COMPLETED'].includes(head.ReplicationStatus!), head.ReplicationStatus);

    await until(async () => (await queued(a)) === 0, 30_000, 'replication to finish');
    const source = await versions(a.s3, src);
    assert.equal(source.length, 7);
    assert.deepEqual(await versions(b.s3, dest), source);
    for (const v of source.filter((r) => !r.marker)) {
      const s = await a.s3.send(new HeadObjectCommand({ Bucket: src, Key: v.key, VersionId: v.versionId }));
      const d = await b.s3.send(new HeadObjectCommand({ Bucket: dest, Key: v.key, VersionId: v.versionId }));
      assert.equal(s.ReplicationStatus, 'COMPLETED', v.key);
      assert.equal(d.ReplicationStatus, 'REPLICA', v.key);
      assert.equal(d.ETag, s.ETag);
      assert.equal(d.ContentLength, s.ContentLength);
      assert.deepEqual(d.Metadata, s.Metadata);
      assert.equal(d.ContentType, s.ContentType);
      assert.equal(await md5Of(b.s3, dest, v.key, v.versionId), await md5Of(a.s3, src, v.key, v.versionId));
    }
    const lockedHead = await b.s3.send(new HeadObjectCommand({ Bucket: dest, Key: 'locked' }));
    assert.equal(lockedHead.ObjectLockMode, 'GOVERNANCE');
    assert.equal(lockedHead.ObjectLockRetainUntilDate?.toISOString(), retainUntil.toISOString());
    assert.equal(lockedHead.ObjectLockLegalHoldStatus, 'ON');
    const tags = await b.s3.send(new GetObjectTaggingCommand({ Bucket: dest, Key: 'k1', VersionId: put1.VersionId }));
    assert.deepEqual(tags.TagSet, [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }]);

    // A tag change later is replicated too, and does not bounce back.
    await a.s3.send(new PutObjectTaggingCommand({ Bucket: src, Key: 'k1', VersionId: put1.VersionId, Tagging: { TagSet: [{ Key: 'c', Value: '3' }] } }));
    await until(async () => (await b.s3.send(new GetObjectTaggingCommand({ Bucket: dest, Key: 'k1', VersionId: put1.VersionId }))).TagSet?.[0]?.Key === 'c', 20_000, 'the tag change');
    assert.equal(await queued(b), 0);
  });

  it('encrypted versions are not replicated yet: they show FAILED, and nothing is retried', async () => {
    const src = uniqueBucket('sse');
    const dest = uniqueBucket('ssed');
    await versionedBucket(a.s3, src);
    await versionedBucket(b.s3, dest);
    await replicate(a, src, b, dest);
    const key = Buffer.alloc(32, 9);
    await a.s3.send(new PutObjectCommand({ Bucket: src, Key: 'secret', Body: 'hidden', SSECustomerAlgorithm: 'AES256', SSECustomerKey: key.toString('base64') }));
    await a.s3.send(new PutObjectCommand({ Bucket: src, Key: 'plain', Body: 'open' }));
    await until(async () => (await queued(a)) === 0, 20_000, 'the items to settle');
    const head = await a.s3.send(new HeadObjectCommand({ Bucket: src, Key: 'secret', SSECustomerAlgorithm: 'AES256', SSECustomerKey: key.toString('base64') }));
    assert.equal(head.ReplicationStatus, 'FAILED');
    assert.deepEqual((await versions(b.s3, dest)).map((v) => v.key), ['plain']);
  });

  it('a destination stopped under load catches up with nothing missing', async () => {
    const src = uniqueBucket('load');
    const dest = uniqueBucket('loadd');
    await versionedBucket(a.s3, src);
    await versionedBucket(b.s3, dest);
    await replicate(a, src, b, dest);
    const write = async (from: number, to: number) => {
      for (let i = from; i < to; i += 10) {
        await Promise.all(
          Array.from({ length: 10 }, (_, j) => a.s3.send(new PutObjectCommand({ Bucket: src, Key: `obj/${String(i + j).padStart(4, '0')}`, Body: createHash('sha256').update(String(i + j)).digest().toString('hex').repeat(20 + ((i + j) % 50)) }))),
        );
      }
    };
    await write(0, 60);
    await b.stop();
    // Writes go on while the destination is down (and overwrites and deletes of keys already sent).
    await write(60, 200);
    await write(0, 20);
    for (let i = 20; i < 30; i++) await a.s3.send(new DeleteObjectCommand({ Bucket: src, Key: `obj/${String(i).padStart(4, '0')}` }));
    // After a few failed attempts a version shows FAILED (and is still retried).
    await until(async () => (await a.s3.send(new HeadObjectCommand({ Bucket: src, Key: 'obj/0150' }))).ReplicationStatus === 'FAILED', 30_000, 'FAILED on the source');
    const failing = (await a.trove.app.meta.workStats()).kinds.find((k) => k.kind === REPLICATE_KIND);
    assert.ok(failing && failing.depth > 0, 'work waits while the destination is down');
    // The backlog is visible per rule.
    const url = await testMetaUrl(a.dataDir);
    const { stdout } = await promisify(execFile)(process.execPath, [MAIN, 'admin', 'replication', 'status', '--json', '--data-dir', a.dataDir, ...(url ? ['--meta', url] : [])]);
    const backlog = (JSON.parse(stdout) as { bucket: string; rule: string; pending: number; bytes: number }[]).find((r) => r.bucket === src);
    assert.ok(backlog && backlog.pending > 0 && backlog.bytes > 0, stdout);
    assert.equal(backlog.rule, 'all');

    b = await startServer({ dataDir: bDir, port: destPort });
    await until(async () => (await queued(a)) === 0, 120_000, 'the backlog to drain');
    const source = await versions(a.s3, src);
    assert.equal(source.filter((r) => !r.marker).length, 220);
    assert.equal(source.filter((r) => r.marker).length, 10);
    assert.deepEqual(await versions(b.s3, dest), source);
    assert.equal((await a.s3.send(new HeadObjectCommand({ Bucket: src, Key: 'obj/0150' }))).ReplicationStatus, 'COMPLETED');
    for (const v of source.filter((r) => !r.marker && r.latest).slice(0, 40)) {
      assert.equal(await md5Of(b.s3, dest, v.key, v.versionId), v.etag!.replace(/"/g, ''));
    }
  });

  it('two buckets replicating to each other converge, without loops', async () => {
    const left = uniqueBucket('left');
    const right = uniqueBucket('right');
    await versionedBucket(a.s3, left);
    await versionedBucket(b.s3, right);
    await replicate(a, left, b, right);
    await replicate(b, right, a, left);
    await Promise.all([
      ...Array.from({ length: 20 }, (_, i) => a.s3.send(new PutObjectCommand({ Bucket: left, Key: `k${i % 7}`, Body: `left ${i}` }))),
      ...Array.from({ length: 20 }, (_, i) => b.s3.send(new PutObjectCommand({ Bucket: right, Key: `k${i % 5}`, Body: `right ${i}` }))),
    ]);
    await b.s3.send(new DeleteObjectCommand({ Bucket: right, Key: 'k1' }));
    await until(async () => (await queued(a)) === 0 && (await queued(b)) === 0, 60_000, 'both sides to drain');
    // Nothing bounced: replicas recorded no work of their own.
    await sleep(1500);
    assert.equal(await queued(a), 0);
    assert.equal(await queued(b), 0);
    const l = await versions(a.s3, left);
    assert.equal(l.length, 41);
    assert.deepEqual(await versions(b.s3, right), l);
    // The same latest version on both sides.
    for (const k of ['k0', 'k1', 'k2', 'k6']) {
      const x = await a.s3.send(new ListObjectVersionsCommand({ Bucket: left, Prefix: k }));
      const y = await b.s3.send(new ListObjectVersionsCommand({ Bucket: right, Prefix: k }));
      assert.deepEqual(
        [...(x.Versions ?? []), ...(x.DeleteMarkers ?? [])].filter((v) => v.IsLatest).map((v) => v.VersionId),
        [...(y.Versions ?? []), ...(y.DeleteMarkers ?? [])].filter((v) => v.IsLatest).map((v) => v.VersionId),
      );
    }
  });

  it('ordinary clients cannot write replicas; a caller allowed s3:ReplicateObject can', async () => {
    const dest = uniqueBucket('inj');
    await versionedBucket(b.s3, dest);
    const meta = b.trove.app.meta;
    const canonical = (await meta.getAccessKey(ACCESS_KEY))!.userId;
    const account = { id: canonical, accountId: (await meta.getAccount(canonical))!.accountId };
    const mk = async (name: string, actions: string[]) => {
      const u = await b.trove.app.iam.createUser(account.accountId, name, '/');
      const k = await b.trove.app.iam.createAccessKey(account, u);
      await meta.iam.putInlinePolicy({ kind: 'user', id: u.id }, 'p', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: `arn:aws:s3:::${dest}/*` }] }));
      b.trove.app.iam.changed(account.accountId);
      return b.client({ credentials: { accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey } });
    };
    const writer = await mk(`writer-${Date.now()}`, ['s3:PutObject', 's3:GetObject', 's3:DeleteObject']);
    const replicator = await mk(`replicator-${Date.now()}`, ['s3:PutObject', 's3:GetObject', 's3:GetObjectVersion', 's3:ReplicateObject']);
    const vid = '0000018c0000000000000000deadbeef';
    const injected = (s3: S3Client, key: string, header: Record<string, string>) => {
      const cmd = new PutObjectCommand({ Bucket: dest, Key: key, Body: 'forged' });
      cmd.middlewareStack.add((next) => async (args) => {
        Object.assign((args.request as { headers: Record<string, string> }).headers, header);
        return next(args);
      }, { step: 'build' });
      return s3.send(cmd);
    };
    // A writer without s3:ReplicateObject: refused.
    let e = await s3error(injected(writer, 'x', { 'x-trove-replica-version-id': vid }));
    assert.equal(e.name, 'AccessDenied');
    // A delete marker with a chosen id: refused without s3:ReplicateDelete.
    const del = new DeleteObjectCommand({ Bucket: dest, Key: 'x' });
    del.middlewareStack.add((next) => async (args) => {
      (args.request as { headers: Record<string, string> }).headers['x-trove-replica-version-id'] = vid;
      return next(args);
    }, { step: 'build' });
    e = await s3error(writer.send(del));
    assert.equal(e.name, 'AccessDenied');
    // x-amz-replication-status from a client is never stored.
    const put = await injected(writer, 'y', { 'x-amz-replication-status': 'REPLICA' });
    const h = await writer.send(new HeadObjectCommand({ Bucket: dest, Key: 'y' }));
    assert.equal(h.ReplicationStatus, undefined);
    assert.notEqual(put.VersionId, vid);
    // The replication identity writes the version id it names, as a replica; a malformed id is refused.
    const r = await injected(replicator, 'x', { 'x-trove-replica-version-id': vid });
    assert.equal(r.VersionId, vid);
    assert.equal((await replicator.send(new HeadObjectCommand({ Bucket: dest, Key: 'x', VersionId: vid }))).ReplicationStatus, 'REPLICA');
    // The same replica again (a retried replication): the first stays, the second's bytes are not kept.
    const bigVid = '0000018c0000000000000000deadbee2';
    const putBig = (fill: number) => {
      const cmd = new PutObjectCommand({ Bucket: dest, Key: 'big', Body: Buffer.alloc(300_000, fill) });
      cmd.middlewareStack.add((next) => async (args) => {
        (args.request as { headers: Record<string, string> }).headers['x-trove-replica-version-id'] = bigVid;
        return next(args);
      }, { step: 'build' });
      return replicator.send(cmd);
    };
    const first = await putBig(1);
    const files = countBlobFiles(b.dataDir);
    const second = await putBig(1);
    assert.equal(second.VersionId, bigVid);
    assert.equal(second.ETag, first.ETag);
    assert.equal(countBlobFiles(b.dataDir), files);
    e = await s3error(injected(replicator, 'x', { 'x-trove-replica-version-id': 'null' }));
    assert.equal(e.name, 'InvalidArgument');
  });

  it('trove admin remote add, list and remove never print the secret; resync copies existing objects', async () => {
    const src = uniqueBucket('rs');
    const dest = uniqueBucket('rsd');
    await versionedBucket(a.s3, src);
    await versionedBucket(b.s3, dest);
    for (let i = 0; i < 5; i++) await a.s3.send(new PutObjectCommand({ Bucket: src, Key: `old/${i}`, Body: `old ${i}` }));
    const url = await testMetaUrl(a.dataDir);
    const store = ['--data-dir', a.dataDir, ...(url ? ['--meta', url] : [])];
    const run = (args: string[]) => promisify(execFile)(process.execPath, [MAIN, 'admin', ...args, ...store]);
    const secret = 'very/secret+key/for/the/remote/00000000';
    let r = await run(['remote', 'add', 'cli-remote', '--endpoint', b.url, '--access-key', ACCESS_KEY, '--secret-key', SECRET_KEY, '--buckets', dest]);
    assert.ok(!r.stdout.includes(SECRET_KEY));
    await run(['remote', 'add', 'other', '--endpoint', 'http://127.0.0.1:1', '--access-key', 'AK', '--secret-key', secret, '--buckets', 'elsewhere-bucket']);
    r = await run(['remote', 'list']);
    assert.match(r.stdout, /cli-remote/);
    assert.match(r.stdout, /other/);
    assert.ok(!r.stdout.includes(secret) && !r.stdout.includes(SECRET_KEY), r.stdout);
    const dup = await run(['remote', 'add', 'again', '--endpoint', b.url, '--access-key', 'x', '--secret-key', 'y', '--buckets', dest]).catch((err: { stderr: string }) => err);
    assert.match((dup as { stderr: string }).stderr, /already served by remote cli-remote/);
    await run(['remote', 'remove', 'other']);
    assert.doesNotMatch((await run(['remote', 'list'])).stdout, /other/);

    await a.s3.send(new PutBucketReplicationCommand({ Bucket: src, ReplicationConfiguration: { Role: ROLE, Rules: [rule(dest, { ExistingObjectReplication: { Status: 'Enabled' } })] } }));
    await a.s3.send(new PutObjectCommand({ Bucket: src, Key: 'new', Body: 'new' }));
    await until(async () => (await queued(a)) === 0, 20_000, 'the new object');
    // Objects written before the configuration are not replicated by it…
    assert.equal((await versions(b.s3, dest)).length, 1);
    // … until a resync.
    r = await promisify(execFile)(process.execPath, [MAIN, 'admin', 'replication', 'resync', src, ...store]);
    assert.match(r.stdout, /queued 6 versions/);
    await until(async () => (await queued(a)) === 0, 20_000, 'the resync');
    assert.deepEqual(await versions(b.s3, dest), await versions(a.s3, src));
  });
});
