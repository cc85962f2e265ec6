// The SQLite MetaStore and the filesystem BlobStore, on a real database and a real directory.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FsBlobStore } from '../src/store/blob/fs.js';
import { BLOCK_SIZE, fileSize } from '../src/store/blob/layout.js';
import { BlobDamagedError } from '../src/store/blob/types.js';
import { compareKeys, prefixSuccessor } from '../src/store/keys.js';
import { SqliteMetaStore } from '../src/store/meta/sqlite/index.js';
import { SCHEMA_VERSION } from '../src/store/meta/sqlite/schema.js';
import { IamStoreError, type Bucket, type ObjectContent } from '../src/store/meta/types.js';
import { StoreError } from '../src/store/errors.js';
import { tempDir } from './helpers.js';
import Database from 'better-sqlite3';

function content(etag: string, extra: Partial<ObjectContent> = {}): ObjectContent {
  return { size: 1, etag, lastModified: Date.now(), owner: 'u1', storageClass: 'STANDARD', headers: {}, userMeta: {}, inline: Buffer.from('x'), ...extra };
}

function flipByte(file: string, offset: number): void {
  const fd = fs.openSync(file, 'r+');
  try {
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, offset);
    b[0]! ^= 0xff;
    fs.writeSync(fd, b, 0, 1, offset);
  } finally {
    fs.closeSync(fd);
  }
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof StoreError && e.code === code);
}

describe('key order helpers', () => {
  it('compares in UTF-8 byte order, not UTF-16 order', () => {
    // U+FF61 (EF BD A1) sorts before U+1F600 (F0 9F 98 80) in UTF-8, after it in UTF-16.
    const a = '\uff61';
    const b = '\u{1f600}';
    assert.ok(compareKeys(a, b) < 0);
    assert.ok(Buffer.compare(Buffer.from(a), Buffer.from(b)) < 0);
    assert.equal(compareKeys('abc', 'abc'), 0);
    assert.ok(compareKeys('ab', 'abc') < 0);
  });

  it('computes prefix successors that bound exactly the keys with the prefix', () => {
    assert.equal(prefixSuccessor('a/'), 'a0');
    assert.equal(prefixSuccessor(''), undefined);
    assert.equal(prefixSuccessor('a\u{10ffff}'), 'b');
    assert.equal(prefixSuccessor('\ud7ff'), '\ue000');
    const p = 'photos/\u00e9';
    const succ = prefixSuccessor(p)!;
    for (const k of [p, p + '\u{10ffff}\u{10ffff}', p + '\u0000', p + 'zzz']) assert.ok(compareKeys(k, succ) < 0, k);
    assert.ok(compareKeys('photos/\u00ea', succ) >= 0);
  });
});

describe('SqliteMetaStore', () => {
  let dir: string;
  let meta: SqliteMetaStore;
  let garbage = 0;
  let bucket: Bucket;

  before(async () => {
    dir = await tempDir();
    meta = await SqliteMetaStore.open({ dir, fsync: true, onGarbage: () => garbage++ });
    bucket = await meta.createBucket({ name: 'b1', owner: 'u1', createdAt: Date.now(), region: 'us-east-1', versioning: 'Unversioned', objectLock: false });
  });
  after(async () => {
    await meta.close();
    await fs.promises.rm(dir, { recursive: true, force: true });
  });

  it('refuses a second bucket of the same name, telling owners apart', async () => {
    await rejectsWith(meta.createBucket({ ...bucket, owner: 'u1' }), 'BucketAlreadyOwnedByYou');
    await rejectsWith(meta.createBucket({ ...bucket, owner: 'u2' }), 'BucketAlreadyExists');
  });

  it('overwrites the null version in an unversioned bucket', async () => {
    const r1 = await meta.putObject(bucket.id, 'k', content('e1'));
    const r2 = await meta.putObject(bucket.id, 'k', content('e2'));
    assert.equal(r1.versionId, 'null');
    assert.equal(r2.versionId, 'null');
    const v = await meta.getObject(bucket.id, 'k');
    assert.equal(v?.etag, 'e2');
    const versions = await meta.listVersions(bucket.id, { prefix: 'k', limit: 10 });
    assert.equal(versions.length, 1);
  });

  it('never serves a cached latest version that a write has replaced', async () => {
    await meta.putObject(bucket.id, 'cached', content('c1'));
    assert.equal((await meta.getObject(bucket.id, 'cached'))?.etag, 'c1');
    assert.equal((await meta.getObject(bucket.id, 'cached'))?.etag, 'c1', 'second read (from the cache)');
    await meta.putObject(bucket.id, 'cached', content('c2'));
    assert.equal((await meta.getObject(bucket.id, 'cached'))?.etag, 'c2');
    await meta.updateObject(bucket.id, 'cached', undefined, { tags: [['t', '1']] });
    assert.deepEqual((await meta.getObject(bucket.id, 'cached'))?.tags, [['t', '1']]);
    await assert.rejects(meta.putObject(bucket.id, 'cached', content('c3'), { ifMatch: 'nope' }));
    assert.equal((await meta.getObject(bucket.id, 'cached'))?.etag, 'c2', 'a refused write changes nothing');
    await meta.deleteObject(bucket.id, 'cached', { now: Date.now() });
    assert.equal(await meta.getObject(bucket.id, 'cached'), undefined);
  });

  it('checks write conditions inside the transaction', async () => {
    await rejectsWith(meta.putObject(bucket.id, 'k', content('e3'), { ifNoneMatch: '*' }), 'PreconditionFailed');
    await rejectsWith(meta.putObject(bucket.id, 'k', content('e3'), { ifMatch: 'nope' }), 'PreconditionFailed');
    await rejectsWith(meta.putObject(bucket.id, 'absent', content('e3'), { ifMatch: 'e1' }), 'NoSuchKey');
    await meta.putObject(bucket.id, 'k', content('e3'), { ifMatch: 'e2' });
    await meta.putObject(bucket.id, 'fresh', content('f1'), { ifNoneMatch: '*' });
    assert.equal((await meta.getObject(bucket.id, 'k'))?.etag, 'e3');
  });

  it('exactly one of many concurrent If-None-Match writers wins', async () => {
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => meta.putObject(bucket.id, 'race', content('r' + i), { ifNoneMatch: '*' })));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  });

  it('keeps versions, delete markers and the latest pointer right when versioning is enabled', async () => {
    const b = await meta.createBucket({ name: 'vb', owner: 'u1', createdAt: Date.now(), region: 'us-east-1', versioning: 'Unversioned', objectLock: false });
    await meta.putObject(b.id, 'k', content('old'));
    await meta.setVersioning(b.id, 'Enabled');
    const v1 = await meta.putObject(b.id, 'k', content('v1'));
    const v2 = await meta.putObject(b.id, 'k', content('v2'));
    assert.notEqual(v1.versionId, 'null');
    assert.ok(v2.versionId > v1.versionId, 'version ids sort by time');
    const del = await meta.deleteObject(b.id, 'k', { now: Date.now() });
    assert.equal(del.deleteMarker, true);
    assert.equal((await meta.getObject(b.id, 'k'))?.deleteMarker, true);
    assert.deepEqual(await meta.listObjects(b.id, { prefix: '', limit: 10 }), []);
    const versions = await meta.listVersions(b.id, { prefix: '', limit: 10 });
    assert.deepEqual(
      versions.map((v) => [v.versionId === del.versionId ? 'marker' : v.versionId === 'null' ? 'null' : v.etag, v.isLatest]),
      [['marker', true], ['v2', false], ['v1', false], ['null', false]],
    );
    // Removing the marker promotes v2 back.
    await meta.deleteObject(b.id, 'k', { versionId: del.versionId!, now: Date.now() });
    assert.equal((await meta.getObject(b.id, 'k'))?.etag, 'v2');
    // Removing v2 (latest) promotes v1.
    await meta.deleteObject(b.id, 'k', { versionId: v2.versionId, now: Date.now() });
    const cur = await meta.getObject(b.id, 'k');
    assert.equal(cur?.etag, 'v1');
    assert.equal(cur?.isLatest, true);
    // Version-id marker pagination.
    const page1 = await meta.listVersions(b.id, { prefix: '', limit: 1 });
    const page2 = await meta.listVersions(b.id, { prefix: '', keyMarker: 'k', versionIdMarker: page1[0]!.versionId, limit: 10 });
    assert.deepEqual(page2.map((v) => v.versionId), ['null']);
  });

  it('replaces the null version in a suspended bucket and keeps the others', async () => {
    const b = await meta.createBucket({ name: 'sb', owner: 'u1', createdAt: Date.now(), region: 'us-east-1', versioning: 'Enabled', objectLock: false });
    const v1 = await meta.putObject(b.id, 'k', content('v1'));
    await meta.setVersioning(b.id, 'Suspended');
    await meta.putObject(b.id, 'k', content('n1'));
    await meta.putObject(b.id, 'k', content('n2'));
    const versions = await meta.listVersions(b.id, { prefix: '', limit: 10 });
    assert.deepEqual(versions.map((v) => [v.versionId === 'null' ? 'null' : v.versionId, v.etag, v.isLatest]), [
      ['null', 'n2', true],
      [v1.versionId, 'v1', false],
    ]);
    const d = await meta.deleteObject(b.id, 'k', { now: Date.now() });
    assert.deepEqual(d, { versionId: 'null', deleteMarker: true });
    const after = await meta.listVersions(b.id, { prefix: '', limit: 10 });
    assert.deepEqual(after.map((v) => [v.versionId === 'null' ? 'null' : 'v1', v.deleteMarker]), [
      ['null', true],
      ['v1', false],
    ]);
  });

  it('counts blob references and hands unreferenced blobs to garbage collection', async () => {
    const id1 = 'a'.repeat(32);
    const id2 = 'b'.repeat(32);
    await meta.putObject(bucket.id, 'blobby', content('x1', { inline: undefined, blobId: id1, size: 10 }));
    await meta.putObject(bucket.id, 'copy', content('x1', { inline: undefined, blobId: id1, size: 10, sharedData: true }));
    const before = garbage;
    await meta.putObject(bucket.id, 'blobby', content('x2', { inline: undefined, blobId: id2, size: 10 }));
    assert.deepEqual(await meta.takeGarbage(10), [], 'id1 is still referenced by the copy');
    await meta.deleteObject(bucket.id, 'copy', { now: Date.now() });
    assert.ok(garbage > before);
    assert.deepEqual(await meta.takeGarbage(10), [id1]);
    await meta.forgetBlobs([id1]);
    assert.equal(await meta.hasBlob(id1), false);
    // A copy that races a delete of its source cannot resurrect a released blob.
    await meta.deleteObject(bucket.id, 'blobby', { now: Date.now() });
    await rejectsWith(meta.putObject(bucket.id, 'late-copy', content('x2', { inline: undefined, blobId: id2, size: 10, sharedData: true })), 'SourceGone');
    // Nor can a copy reference a blob that was never written.
    await rejectsWith(meta.putObject(bucket.id, 'ghost-copy', content('x3', { inline: undefined, blobId: 'c'.repeat(32), size: 10, sharedData: true })), 'SourceGone');
  });

  it('hands out garbage only once its grace period since the release has passed', async () => {
    const id = '9'.repeat(32);
    await meta.putObject(bucket.id, 'graced', content('g1', { inline: undefined, blobId: id, size: 10 }));
    const released = Date.now();
    await meta.deleteObject(bucket.id, 'graced', { now: Date.now() });
    assert.equal((await meta.takeGarbage(100, released - 1)).includes(id), false, 'released after the cut-off');
    assert.ok((await meta.takeGarbage(100, Date.now())).includes(id));
    await meta.forgetBlobs([id]);
  });

  it('gives a lease to one holder at a time, across connections, until it expires or is released', async () => {
    const other = await SqliteMetaStore.open({ dir, fsync: true });
    try {
      assert.equal(await meta.tryLease('job', 'node-a', 60_000), true);
      assert.equal(await other.tryLease('job', 'node-b', 60_000), false);
      assert.equal(await meta.tryLease('job', 'node-a', 60_000), true, 'its holder renews it');
      assert.equal(await other.tryLease('other-job', 'node-b', 60_000), true, 'leases are per job');
      await other.releaseLease('job', 'node-b');
      assert.equal(await other.tryLease('job', 'node-b', 60_000), false, 'only the holder gives a lease up');
      await meta.releaseLease('job', 'node-a');
      assert.equal(await other.tryLease('job', 'node-b', 1), true, 'released: taken at once');
      await new Promise((r) => setTimeout(r, 5));
      assert.equal(await meta.tryLease('job', 'node-a', 60_000), true, 'expired: taken over');
      // Racing takers: exactly one wins.
      await meta.releaseLease('job', 'node-a');
      const wins = await Promise.all([meta.tryLease('job', 'x', 60_000), other.tryLease('job', 'y', 60_000), meta.tryLease('job', 'z', 60_000)]);
      assert.equal(wins.filter(Boolean).length, 1);
    } finally {
      await other.close();
    }
  });

  it('shared with other processes: commits are synced before others can see them, and foreign commits reach the caches', async () => {
    // A second connection stands for another worker process.
    const shared = await SqliteMetaStore.open({ dir, fsync: true, shared: true });
    const other = await SqliteMetaStore.open({ dir, fsync: true, shared: true });
    try {
      // synchronous=FULL: SQLite syncs the WAL inside COMMIT, before it publishes the commit in
      // the wal-index that other connections read (the argument in SqliteOptions.shared).
      const db = (s: SqliteMetaStore) => (s as unknown as { db: Database.Database }).db;
      assert.equal(db(shared).pragma('synchronous', { simple: true }), 2);
      assert.equal(db(meta).pragma('synchronous', { simple: true }), 1, 'alone: NORMAL and the off-thread group-commit sync');
      let changes = 0;
      shared.onChange(() => changes++);
      const b = await shared.createBucket({ name: 'shared-b', owner: 'u1', createdAt: Date.now(), region: 'us-east-1', versioning: 'Unversioned', objectLock: false });
      await shared.putObject(b.id, 'k', content('one'));
      assert.equal((await shared.getObject(b.id, 'k'))?.etag, 'one', 'cached now');
      await shared.getBucket('shared-b');
      const beforeObjects = changes;
      await other.putObject(b.id, 'k', content('two'));
      // As a request does: its bucket first (which notices foreign commits), then the object.
      assert.ok(await shared.getBucket('shared-b'));
      assert.equal((await shared.getObject(b.id, 'k'))?.etag, 'two', 'the cached version was dropped');
      // Object writes change nothing the caches above the store hold (IAM, policies, bucket
      // settings): another worker's PUTs leave them alone (the change sequence did not move).
      assert.equal(changes, beforeObjects, 'an object write does not clear the caches above the store');
      await other.putBucketConfig(b.id, 'policy', '{}');
      assert.ok(await shared.getBucket('shared-b'));
      assert.equal(changes, beforeObjects + 1, 'a configuration write does: the change listeners heard of it');
      await other.putBucketConfig(b.id, 'policy', undefined);
      await other.deleteObject(b.id, 'k', { now: Date.now() });
      await other.deleteBucket(b.id);
      assert.equal(await shared.getBucket('shared-b'), undefined, 'the cached bucket was dropped');
    } finally {
      await shared.close();
      await other.close();
    }
  });

  it('never reuses a bucket id: a write for a deleted bucket cannot land in a new one', async () => {
    const old = await meta.createBucket({ name: 'reuse-a', owner: 'u1', createdAt: Date.now(), region: 'us-east-1', versioning: 'Unversioned', objectLock: false });
    await meta.deleteBucket(old.id);
    const fresh = await meta.createBucket({ name: 'reuse-b', owner: 'u2', createdAt: Date.now(), region: 'us-east-1', versioning: 'Unversioned', objectLock: false });
    assert.notEqual(fresh.id, old.id);
    await rejectsWith(meta.putObject(old.id, 'late', content('x')), 'NoSuchBucket');
  });

  it('refuses to delete a bucket with objects, and aborts its open uploads', async () => {
    const b = await meta.createBucket({ name: 'db', owner: 'u1', createdAt: Date.now(), region: 'us-east-1', versioning: 'Unversioned', objectLock: false });
    await meta.putObject(b.id, 'k', content('e'));
    await rejectsWith(meta.deleteBucket(b.id), 'BucketNotEmpty');
    await meta.deleteObject(b.id, 'k', { now: Date.now() });
    await meta.createUpload({ uploadId: 'c'.repeat(32), bucketId: b.id, key: 'u', initiated: Date.now(), owner: 'u1', storageClass: 'STANDARD', headers: {}, userMeta: {} });
    await meta.putPart(b.id, 'c'.repeat(32), { partNumber: 1, size: 5, etag: 'p', lastModified: Date.now(), blobId: 'd'.repeat(32) });
    await meta.deleteBucket(b.id);
    assert.equal(await meta.getBucket('db'), undefined);
    assert.ok((await meta.takeGarbage(100)).includes('d'.repeat(32)));
  });

  it('lists keys in UTF-8 byte order within a prefix range', async () => {
    const b = await meta.createBucket({ name: 'lb', owner: 'u1', createdAt: Date.now(), region: 'us-east-1', versioning: 'Unversioned', objectLock: false });
    const keys = ['a', 'a/b', 'a/c', 'a0', '\uff61', '\u{1f600}', 'Z', 'a/\u00e9'];
    for (const k of keys) await meta.putObject(b.id, k, content('e'));
    const all = (await meta.listObjects(b.id, { prefix: '', limit: 100 })).map((o) => o.key);
    assert.deepEqual(all, [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
    const under = (await meta.listObjects(b.id, { prefix: 'a/', limit: 100 })).map((o) => o.key);
    assert.deepEqual(under, ['a/b', 'a/c', 'a/\u00e9']);
    const after = (await meta.listObjects(b.id, { prefix: 'a/', start: 'a/b', limit: 100 })).map((o) => o.key);
    assert.deepEqual(after, ['a/c', 'a/\u00e9']);
    const at = (await meta.listObjects(b.id, { prefix: '', start: 'a/c', startInclusive: true, limit: 2 })).map((o) => o.key);
    assert.deepEqual(at, ['a/c', 'a/\u00e9']);
  });

  it('survives a reopen (committed writes are on disk)', async () => {
    await meta.putObject(bucket.id, 'durable', content('d1'));
    const other = await SqliteMetaStore.open({ dir, fsync: true });
    try {
      assert.equal((await other.getObject(bucket.id, 'durable'))?.etag, 'd1');
    } finally {
      await other.close();
    }
  });
});

/** Turns a data dir of this version back into one written before IAM existed (schema 2). */
function downgradeToSchema2(db: Database.Database): void {
  db.exec(`
    DROP INDEX access_keys_of_iam_user; DROP INDEX access_keys_of_root;
    ALTER TABLE access_keys DROP COLUMN iam_user_id; ALTER TABLE access_keys DROP COLUMN status;
    ALTER TABLE access_keys DROP COLUMN last_used_at; ALTER TABLE access_keys DROP COLUMN last_used_service;
    ALTER TABLE access_keys DROP COLUMN last_used_region;
    DROP TABLE iam_users; DROP TABLE iam_groups; DROP TABLE iam_group_members; DROP TABLE iam_roles;
    DROP TABLE iam_policies; DROP TABLE iam_policy_versions; DROP TABLE iam_attachments; DROP TABLE iam_inline_policies;
    DROP TABLE iam_oidc_providers;
    UPDATE meta SET v = '2' WHERE k = 'schema_version'`);
}

describe('SqliteMetaStore upgrades', () => {
  it('makes every user of a data dir from before accounts an account with a 12-digit id, keys kept', async () => {
    const dir = await tempDir();
    try {
      let meta = await SqliteMetaStore.open({ dir, fsync: false });
      await meta.putAccount({ id: 'c'.repeat(64), accountId: '123412341234', displayName: 'old user', createdAt: 1 });
      await meta.putAccessKey({ accessKeyId: 'OLDKEY', secretAccessKey: 'old-secret', userId: 'c'.repeat(64), createdAt: 1 });
      await meta.close();
      // Turn it back into a data dir written before accounts existed (schema 1).
      const db = new Database(path.join(dir, 'meta.db'));
      downgradeToSchema2(db);
      db.exec("DROP INDEX users_account_id; ALTER TABLE users DROP COLUMN account_id; ALTER TABLE users DROP COLUMN email; UPDATE meta SET v = '1' WHERE k = 'schema_version'");
      db.close();
      meta = await SqliteMetaStore.open({ dir, fsync: false });
      try {
        const account = await meta.getAccount('c'.repeat(64));
        assert.match(account?.accountId ?? '', /^[1-9]\d{11}$/);
        assert.equal(account?.displayName, 'old user');
        assert.equal((await meta.getAccessKey('OLDKEY'))?.userId, 'c'.repeat(64));
        assert.equal((await meta.getAccountById(account!.accountId))?.id, 'c'.repeat(64));
      } finally {
        await meta.close();
      }
    } finally {
      await fs.promises.rm(dir, { recursive: true, force: true });
    }
  });

  it('upgrades a data dir from before IAM: tables created, root keys kept and active', async () => {
    const dir = await tempDir();
    try {
      let meta = await SqliteMetaStore.open({ dir, fsync: false });
      await meta.putAccount({ id: 'd'.repeat(64), accountId: '222211113333', displayName: 'acct', createdAt: 1 });
      await meta.putAccessKey({ accessKeyId: 'ROOTKEY', secretAccessKey: 'root-secret', userId: 'd'.repeat(64), createdAt: 1 });
      await meta.close();
      const db = new Database(path.join(dir, 'meta.db'));
      downgradeToSchema2(db);
      assert.deepEqual(db.prepare('SELECT * FROM access_keys').all(), [{ access_key_id: 'ROOTKEY', secret: 'root-secret', user_id: 'd'.repeat(64), created_at: 1 }]);
      db.close();
      meta = await SqliteMetaStore.open({ dir, fsync: false });
      try {
        assert.deepEqual(await meta.getAccessKey('ROOTKEY'), { accessKeyId: 'ROOTKEY', secretAccessKey: 'root-secret', userId: 'd'.repeat(64), status: 'Active', createdAt: 1 });
        await meta.iam.createUser({ accountId: '222211113333', id: 'AIDAUPGRADED000000001', name: 'alice', path: '/', createdAt: 2 });
        await meta.iam.createAccessKey({ accessKeyId: 'ALICEKEY', secretAccessKey: 's', userId: 'd'.repeat(64), iamUserId: 'AIDAUPGRADED000000001', createdAt: 2 }, 2);
        assert.deepEqual((await meta.iam.listAccessKeys({ root: 'd'.repeat(64) }, { limit: 10 })).map((k) => k.accessKeyId), ['ROOTKEY']);
        assert.deepEqual((await meta.iam.listAccessKeys({ iamUserId: 'AIDAUPGRADED000000001' }, { limit: 10 })).map((k) => k.accessKeyId), ['ALICEKEY']);
      } finally {
        await meta.close();
      }
      const after = new Database(path.join(dir, 'meta.db'));
      assert.equal((after.prepare("SELECT v FROM meta WHERE k = 'schema_version'").get() as { v: string }).v, String(SCHEMA_VERSION));
      after.close();
    } finally {
      await fs.promises.rm(dir, { recursive: true, force: true });
    }
  });

  it('upgrades a data dir from before usage counters (schema 12): counters computed from what exists', async () => {
    const dir = await tempDir();
    try {
      let meta = await SqliteMetaStore.open({ dir, fsync: false });
      const b = await meta.createBucket({ name: 'counted', owner: 'o1', createdAt: 1, region: 'us-east-1', versioning: 'Enabled', objectLock: false });
      const obj = (size: number): ObjectContent => ({ size, etag: 'e', lastModified: 1, owner: 'o1', storageClass: 'STANDARD', headers: {}, userMeta: {}, inline: Buffer.alloc(size) });
      await meta.putObject(b.id, 'a', obj(5));
      await meta.putObject(b.id, 'a', obj(7));
      await meta.putObject(b.id, 'b', obj(11));
      await meta.deleteObject(b.id, 'b', { now: 2 });
      await meta.close();
      const db = new Database(path.join(dir, 'meta.db'));
      db.exec("DROP TRIGGER usage_insert; DROP TRIGGER usage_delete; DROP TRIGGER usage_update; DROP TRIGGER usage_part; DROP TRIGGER usage_bucket_gone; DROP TABLE usage_buckets; DROP TABLE usage_accounts; DROP TABLE quotas; UPDATE meta SET v = '7' WHERE k = 'schema_version'");
      db.close();
      meta = await SqliteMetaStore.open({ dir, fsync: false });
      try {
        assert.deepEqual(await meta.getUsage('bucket', String(b.id)), { bytes: 23, objects: 3, stagedBytes: 0 });
        assert.deepEqual(await meta.getUsage('account', 'o1'), { bytes: 23, objects: 3, stagedBytes: 0 });
        await meta.putObject(b.id, 'c', obj(1));
        assert.equal((await meta.getUsage('bucket', String(b.id))).bytes, 24);
      } finally {
        await meta.close();
      }
    } finally {
      await fs.promises.rm(dir, { recursive: true, force: true });
    }
  });

  it('upgrades a data dir from before usage reports (schema 16): storage-class counters computed from what exists', async () => {
    const dir = await tempDir();
    try {
      let meta = await SqliteMetaStore.open({ dir, fsync: false });
      const b = await meta.createBucket({ name: 'classes', owner: 'o1', createdAt: 1, region: 'us-east-1', versioning: 'Enabled', objectLock: false });
      const obj = (size: number, storageClass: string): ObjectContent => ({ size, etag: 'e', lastModified: 1, owner: 'o1', storageClass, headers: {}, userMeta: {}, inline: Buffer.alloc(size) });
      await meta.putObject(b.id, 'a', obj(5, 'STANDARD'));
      await meta.putObject(b.id, 'b', obj(7, 'STANDARD_IA'));
      await meta.putObject(b.id, 'b', obj(11, 'STANDARD_IA'));
      await meta.close();
      const db = new Database(path.join(dir, 'meta.db'));
      db.exec("DROP TRIGGER usage_class_insert; DROP TRIGGER usage_class_delete; DROP TRIGGER usage_class_update; DROP TRIGGER usage_classes_gone; DROP TABLE usage_classes; DROP TABLE usage_requests; DROP TABLE usage_storage; UPDATE meta SET v = '12' WHERE k = 'schema_version'");
      db.close();
      meta = await SqliteMetaStore.open({ dir, fsync: false });
      try {
        await meta.putObject(b.id, 'c', obj(1, 'STANDARD_IA'));
        assert.equal(await meta.snapshotUsageStorage(3_600_000), 2);
        const rows = (await meta.listUsage({ from: 0, to: 7_200_000 })).storage.map((r) => [r.storageClass, r.bytes, r.objects]);
        assert.deepEqual(rows, [['STANDARD', 5, 1], ['STANDARD_IA', 19, 3]]);
      } finally {
        await meta.close();
      }
    } finally {
      await fs.promises.rm(dir, { recursive: true, force: true });
    }
  });

  it('upgrades a data dir from before OpenID Connect providers: IAM kept, providers storable', async () => {
    const dir = await tempDir();
    try {
      let meta = await SqliteMetaStore.open({ dir, fsync: false });
      await meta.iam.createUser({ accountId: '444455556666', id: 'AIDAKEPT0000000000001', name: 'kept', path: '/', createdAt: 1 });
      await meta.close();
      // Turn it back into a data dir of schema 3.
      const db = new Database(path.join(dir, 'meta.db'));
      db.exec("DROP TABLE iam_oidc_providers; UPDATE meta SET v = '3' WHERE k = 'schema_version'");
      db.close();
      meta = await SqliteMetaStore.open({ dir, fsync: false });
      try {
        assert.equal((await meta.iam.getUser('444455556666', 'kept'))?.id, 'AIDAKEPT0000000000001');
        const p = { accountId: '444455556666', url: 'idp.example.com', clientIds: ['a'], thumbprints: [], createdAt: 2 };
        await meta.iam.createOidcProvider(p, 100);
        assert.deepEqual(await meta.iam.listOidcProviders('444455556666'), [p]);
      } finally {
        await meta.close();
      }
      const after = new Database(path.join(dir, 'meta.db'));
      assert.equal((after.prepare("SELECT v FROM meta WHERE k = 'schema_version'").get() as { v: string }).v, String(SCHEMA_VERSION));
      after.close();
    } finally {
      await fs.promises.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('SqliteMetaStore IAM', () => {
  const ACCT = '333344445555';
  const CANON = 'e'.repeat(64);
  let dir: string;
  let meta: SqliteMetaStore;
  before(async () => {
    dir = await tempDir();
    meta = await SqliteMetaStore.open({ dir, fsync: false });
  });
  after(async () => {
    await meta.close();
    await fs.promises.rm(dir, { recursive: true, force: true });
  });
  const rejectsIam = (p: Promise<unknown>, code: string) => assert.rejects(p, (e: unknown) => e instanceof IamStoreError && e.code === code);
  const user = (name: string, id: string) => ({ accountId: ACCT, id, name, path: '/', createdAt: 1 });

  it('keeps names unique per account whatever their case, and renames atomically', async () => {
    await meta.iam.createUser(user('Bob', 'AIDASTORE000000000001'));
    await rejectsIam(meta.iam.createUser(user('bob', 'AIDASTORE000000000002')), 'EntityAlreadyExists');
    await meta.iam.createUser({ ...user('bob', 'AIDASTORE000000000003'), accountId: '999988887777' });
    assert.equal((await meta.iam.getUser(ACCT, 'BOB'))?.id, 'AIDASTORE000000000001');
    await meta.iam.createUser(user('carol', 'AIDASTORE000000000004'));
    await rejectsIam(meta.iam.updateUser('AIDASTORE000000000004', { name: 'BOB' }), 'EntityAlreadyExists');
    await meta.iam.updateUser('AIDASTORE000000000004', { name: 'dave', path: '/eng/' });
    assert.deepEqual(await meta.iam.getUserById('AIDASTORE000000000004'), { ...user('dave', 'AIDASTORE000000000004'), path: '/eng/' });
    assert.deepEqual((await meta.iam.listUsers(ACCT, { limit: 10 })).map((u) => u.name), ['Bob', 'dave']);
    assert.deepEqual((await meta.iam.listUsers(ACCT, { limit: 10, pathPrefix: '/eng' })).map((u) => u.name), ['dave']);
    assert.deepEqual((await meta.iam.listUsers(ACCT, { limit: 10, after: 'bob' })).map((u) => u.name), ['dave']);
  });

  it('numbers policy versions as AWS does, never reusing one, and keeps at most the limit', async () => {
    const p = await meta.iam.createPolicy({ accountId: ACCT, id: 'ANPASTORE000000000001', name: 'p', path: '/', createdAt: 1 }, '{"v":1}');
    assert.equal(p.defaultVersionId, 'v1');
    await meta.iam.createPolicyVersion(p.id, '{"v":2}', false, 2, 3);
    await meta.iam.createPolicyVersion(p.id, '{"v":3}', true, 3, 3);
    await rejectsIam(meta.iam.createPolicyVersion(p.id, '{"v":4}', false, 4, 3), 'LimitExceeded');
    await rejectsIam(meta.iam.deletePolicyVersion(p.id, 'v3'), 'DeleteConflict');
    await meta.iam.deletePolicyVersion(p.id, 'v2');
    const v4 = await meta.iam.createPolicyVersion(p.id, '{"v":4}', false, 4, 3);
    assert.equal(v4.versionId, 'v4');
    assert.deepEqual((await meta.iam.listPolicyVersions(p.id)).map((v) => [v.versionId, v.isDefault]), [['v1', false], ['v3', true], ['v4', false]]);
    await rejectsIam(meta.iam.deletePolicy(p.id), 'DeleteConflict');
  });

  it('gathers a user’s identity documents: inline, attached default versions, and its groups’', async () => {
    const u = user('erin', 'AIDASTORE000000000010');
    await meta.iam.createUser(u);
    await meta.iam.createGroup({ accountId: ACCT, id: 'AGPASTORE000000000001', name: 'readers', path: '/', createdAt: 1 });
    await meta.iam.addUserToGroup('AGPASTORE000000000001', u.id, 10);
    await meta.iam.putInlinePolicy({ kind: 'user', id: u.id }, 'mine', 'user-inline');
    await meta.iam.putInlinePolicy({ kind: 'group', id: 'AGPASTORE000000000001' }, 'theirs', 'group-inline');
    const p = await meta.iam.createPolicy({ accountId: ACCT, id: 'ANPASTORE000000000002', name: 'managed', path: '/', createdAt: 1 }, 'managed-v1');
    await meta.iam.createPolicyVersion(p.id, 'managed-v2', true, 2, 5);
    await meta.iam.attachPolicy({ kind: 'group', id: 'AGPASTORE000000000001' }, p.id, 10);
    assert.deepEqual(await meta.iam.identityPolicyDocuments(u.id, () => undefined), ['user-inline', 'group-inline', 'managed-v2']);
    assert.equal((await meta.iam.getPolicy(ACCT, 'MANAGED'))?.attachmentCount, 1);
    await rejectsIam(meta.iam.deleteGroup('AGPASTORE000000000001'), 'DeleteConflict');
    await rejectsIam(meta.iam.deleteUser(u.id), 'DeleteConflict');
    await meta.iam.createAccessKey({ accessKeyId: 'ERINKEY1', secretAccessKey: 's', userId: CANON, iamUserId: u.id, createdAt: 1 }, 2);
    await meta.iam.createAccessKey({ accessKeyId: 'ERINKEY2', secretAccessKey: 's', userId: CANON, iamUserId: u.id, createdAt: 1 }, 2);
    await rejectsIam(meta.iam.createAccessKey({ accessKeyId: 'ERINKEY3', secretAccessKey: 's', userId: CANON, iamUserId: u.id, createdAt: 1 }, 2), 'LimitExceeded');
    await meta.iam.setAccessKeyStatus('ERINKEY1', 'Inactive');
    assert.equal((await meta.getAccessKey('ERINKEY1'))?.status, 'Inactive');
  });

  it('finds roles and managed policies by unique id, and gathers a role’s identity documents', async () => {
    const role = { accountId: ACCT, id: 'AROASTORE000000000001', name: 'reader', path: '/svc/', createdAt: 1, assumeRolePolicy: 'trust', maxSessionDuration: 3600 };
    await meta.iam.createRole(role);
    assert.deepEqual(await meta.iam.getRoleById(role.id), role);
    assert.equal(await meta.iam.getRoleById('AROASTORE000000000999'), undefined);
    const p = await meta.iam.createPolicy({ accountId: ACCT, id: 'ANPASTORE000000000003', name: 'session', path: '/', createdAt: 1 }, 'session-v1');
    assert.equal(await meta.iam.defaultPolicyDocument(p.id), 'session-v1');
    await meta.iam.createPolicyVersion(p.id, 'session-v2', true, 2, 5);
    assert.equal(await meta.iam.defaultPolicyDocument(p.id), 'session-v2');
    assert.equal(await meta.iam.defaultPolicyDocument('ANPASTORE000000000999'), undefined);
    await meta.iam.putInlinePolicy({ kind: 'role', id: role.id }, 'inline', 'role-inline');
    await meta.iam.attachPolicy({ kind: 'role', id: role.id }, p.id, 10);
    assert.deepEqual(await meta.iam.identityPolicyDocuments(role.id, () => undefined), ['role-inline', 'session-v2']);
  });

  it('initialises a setting once: the first value stays', async () => {
    assert.equal(await meta.initSetting('once', 'first'), 'first');
    const [a, b] = await Promise.all([meta.initSetting('race', 'a'), meta.initSetting('race', 'b')]);
    assert.equal(a, b);
    assert.equal(await meta.initSetting('once', 'second'), 'first');
    assert.equal(await meta.getSetting('once'), 'first');
  });

  it('keeps AWS managed policies attached by id, resolving their documents through the caller', async () => {
    const u = user('frank', 'AIDASTORE000000000020');
    await meta.iam.createUser(u);
    await rejectsIam(meta.iam.attachPolicy({ kind: 'user', id: u.id }, 'ANPAAWSMANAGED0000001', 10), 'NoSuchEntity');
    await meta.iam.attachPolicy({ kind: 'user', id: u.id }, 'ANPAAWSMANAGED0000001', 10, true);
    assert.deepEqual(await meta.iam.attachedPolicyIds(u.id), ['ANPAAWSMANAGED0000001']);
    assert.deepEqual(await meta.iam.listAttachedPolicies(u.id, { limit: 10 }), []);
    assert.deepEqual(await meta.iam.identityPolicyDocuments(u.id, (id) => (id === 'ANPAAWSMANAGED0000001' ? 'aws-doc' : undefined)), ['aws-doc']);
    assert.deepEqual(await meta.iam.identityPolicyDocuments(u.id, () => undefined), []);
    assert.equal(await meta.iam.countPolicyAttachments('ANPAAWSMANAGED0000001', ACCT), 1);
    assert.equal(await meta.iam.countPolicyAttachments('ANPAAWSMANAGED0000001', '999988887777'), 0);
    await rejectsIam(meta.iam.deleteUser(u.id), 'DeleteConflict');
    await meta.iam.detachPolicy(u.id, 'ANPAAWSMANAGED0000001');
    await meta.iam.deleteUser(u.id);
  });

  it('enforces the per-account quotas it is given, and counts an account for its summary', async () => {
    const acct = '121212121212';
    const entity = (name: string, id: string) => ({ accountId: acct, id, name, path: '/', createdAt: 1 });
    await meta.iam.createUser(entity('u1', 'AIDAQUOTA000000000001'), 2);
    await meta.iam.createUser(entity('u2', 'AIDAQUOTA000000000002'), 2);
    await assert.rejects(meta.iam.createUser(entity('u3', 'AIDAQUOTA000000000003'), 2), (e: unknown) => e instanceof IamStoreError && e.code === 'LimitExceeded' && e.message === 'Cannot exceed quota for UsersPerAccount: 2');
    await meta.iam.createGroup(entity('g1', 'AGPAQUOTA000000000001'), 1);
    await assert.rejects(meta.iam.createGroup(entity('g2', 'AGPAQUOTA000000000002'), 1), /GroupsPerAccount: 1/);
    await meta.iam.createRole({ ...entity('r1', 'AROAQUOTA000000000001'), assumeRolePolicy: '{}', maxSessionDuration: 3600 }, 1);
    await assert.rejects(meta.iam.createRole({ ...entity('r2', 'AROAQUOTA000000000002'), assumeRolePolicy: '{}', maxSessionDuration: 3600 }, 1), /RolesPerAccount: 1/);
    const p = await meta.iam.createPolicy(entity('p1', 'ANPAQUOTA000000000001'), 'v1-doc', 1);
    await meta.iam.createPolicyVersion(p.id, 'v2-doc', false, 2, 5);
    await assert.rejects(meta.iam.createPolicy(entity('p2', 'ANPAQUOTA000000000002'), 'doc', 1), /PoliciesPerAccount: 1/);
    await meta.iam.createOidcProvider({ accountId: acct, url: 'idp.example.com', clientIds: [], thumbprints: [], createdAt: 1 }, 100);
    await meta.iam.createAccessKey({ accessKeyId: 'QUOTAROOTKEY', secretAccessKey: 's', userId: 'q'.repeat(64), createdAt: 1 }, 2);
    assert.deepEqual(await meta.iam.accountSummary(acct, 'q'.repeat(64)), { users: 2, groups: 1, roles: 1, policies: 1, policyVersions: 2, oidcProviders: 1, rootAccessKeys: 1 });
    assert.deepEqual(await meta.iam.accountSummary('343434343434', 'z'.repeat(64)), { users: 0, groups: 0, roles: 0, policies: 0, policyVersions: 0, oidcProviders: 0, rootAccessKeys: 0 });
  });
});

describe('SqliteMetaStore durability of reads', () => {
  it('shows no write to a reader before its WAL sync has finished', async () => {
    const dir = await tempDir();
    const meta = await SqliteMetaStore.open({ dir, fsync: true });
    try {
      const bucket = await meta.createBucket({ name: 'sync-b', owner: 'u1', createdAt: Date.now(), region: 'us-east-1', versioning: 'Unversioned', objectLock: false });
      await meta.putObject(bucket.id, 'k', content('old'));
      // Make the WAL fdatasync slow, so that a batch stays committed-but-not-durable for a while.
      const barrier = (meta as unknown as { barrier: { syncOnce(): Promise<void> } }).barrier;
      const realSync = barrier.syncOnce.bind(barrier);
      let syncing = false;
      barrier.syncOnce = async () => {
        syncing = true;
        await new Promise((r) => setTimeout(r, 150));
        await realSync();
        syncing = false;
      };
      const put = meta.putObject(bucket.id, 'k', content('new'));
      const bucket2 = meta.createBucket({ name: 'sync-b2', owner: 'u1', createdAt: Date.now(), region: 'us-east-1', versioning: 'Unversioned', objectLock: false });
      while (!syncing) await new Promise((r) => setImmediate(r));
      // The batch is committed in SQLite and its sync is running: reads must wait for it.
      const seen = await Promise.all([
        meta.getObject(bucket.id, 'k').then((v) => `${v?.etag} (sync running: ${syncing})`),
        meta.listObjects(bucket.id, { prefix: '', limit: 10 }).then((l) => `${l.map((o) => o.etag).join()} (sync running: ${syncing})`),
        meta.getBucket('sync-b2').then((b) => `${b?.name} (sync running: ${syncing})`),
      ]);
      await put;
      await bucket2;
      assert.deepEqual(seen, ['new (sync running: false)', 'new (sync running: false)', 'sync-b2 (sync running: false)']);
    } finally {
      await meta.close();
      await fs.promises.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('FsBlobStore', () => {
  let dir: string;
  let blobs: FsBlobStore;
  before(async () => {
    dir = await tempDir();
    blobs = await FsBlobStore.open({ root: dir, fsync: true });
  });
  after(async () => {
    await fs.promises.rm(dir, { recursive: true, force: true });
  });

  it('writes through a temp file and exposes the blob only after commit', async () => {
    const w = await blobs.create();
    const data = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
    for (let i = 0; i < data.length; i += 65536) await w.write(data.subarray(i, i + 65536));
    assert.equal(fs.existsSync(blobs.pathOf(w.id)), false);
    await w.commit();
    assert.equal(fs.existsSync(blobs.pathOf(w.id)), true);
    assert.deepEqual(await fs.promises.readdir(blobs.tmpDir), []);
    const range = await blobs.openRange(w.id, data.length, 10, 20);
    const buf = Buffer.alloc(100);
    const n = await range.read(buf);
    assert.equal(await range.read(buf.subarray(n)), 0);
    await range.close();
    assert.deepEqual(buf.subarray(0, n), data.subarray(10, 21));
  });

  /** Reads bytes [start, end] through openRange into buffers of `bufSize`. */
  async function readRange(id: string, size: number, start: number, end: number, bufSize = 256 * 1024): Promise<Buffer> {
    const body = await blobs.openRange(id, size, start, end);
    const out: Buffer[] = [];
    try {
      for (;;) {
        const buf = Buffer.alloc(bufSize);
        const n = await body.read(buf);
        if (n === 0) break;
        out.push(buf.subarray(0, n));
      }
    } finally {
      await body.close();
    }
    return Buffer.concat(out);
  }

  it('checksums blocks whatever the write chunking, and reads back verified ranges', async () => {
    const BS = BLOCK_SIZE;
    for (const size of [0, 1, BS - 1, BS, BS + 1, 5 * BS + 3]) {
      const data = randomBytes(size);
      const w = await blobs.create();
      // Chunks of awkward sizes that straddle block boundaries.
      for (let i = 0, k = 0; i < size; k++) {
        const n = [1, 1000, BS - 1, 3 * BS + 2, 7][k % 5]!;
        await w.write(data.subarray(i, i + n));
        i += n;
      }
      await w.commit();
      assert.equal(w.size, size);
      assert.equal(fs.statSync(blobs.pathOf(w.id)).size, fileSize(size));
      await blobs.check(w.id, size);
      if (size === 0) continue;
      for (const [start, end] of [
        [0, size - 1],
        [Math.min(BS - 1, size - 1), size - 1],
        [Math.floor(size / 2), Math.floor(size / 2)],
        [Math.min(BS + 1, size - 1), Math.min(3 * BS, size - 1)],
      ] as const) {
        assert.deepEqual(await readRange(w.id, size, start, end), data.subarray(start, end + 1), `size ${size} range ${start}-${end}`);
        // Buffers smaller than a block work too.
        assert.deepEqual(await readRange(w.id, size, start, end, 1000), data.subarray(start, end + 1), `size ${size} range ${start}-${end}, small buffers`);
      }
      // The metadata's size must be the blob's.
      await assert.rejects(blobs.check(w.id, size + 1), BlobDamagedError);
    }
  });

  it('refuses a missing, short or damaged blob before reading, and a damaged block when reading it', async () => {
    const BS = BLOCK_SIZE;
    const size = 4 * BS + 10;
    const data = randomBytes(size);
    const put = async () => {
      const w = await blobs.create();
      await w.write(data);
      await w.commit();
      return w.id;
    };
    const missing = await put();
    fs.unlinkSync(blobs.pathOf(missing));
    await assert.rejects(blobs.openRange(missing, size, 0, size - 1), (e) => e instanceof BlobDamagedError && e.missing);
    await assert.rejects(blobs.openRange(missing, size, 0, size - 1, { lazy: true }), (e) => e instanceof BlobDamagedError && e.missing);
    const short = await put();
    fs.truncateSync(blobs.pathOf(short), size);
    await assert.rejects(blobs.openRange(short, size, 0, 0), (e) => e instanceof BlobDamagedError && !e.missing);
    await assert.rejects(blobs.check(short, size, { lazy: true }), BlobDamagedError);
    const trailer = await put();
    flipByte(blobs.pathOf(trailer), fileSize(size) - 3);
    await assert.rejects(blobs.openRange(trailer, size, 0, 0), /trailer checksum/);
    await blobs.check(trailer, size, { lazy: true }); // a stat cannot tell
    // A lazily opened body checks the trailer on its first read.
    const lazy = await blobs.openRange(trailer, size, 0, 10, { lazy: true });
    await assert.rejects(lazy.read(Buffer.alloc(BS)), /trailer checksum/);
    await lazy.close();

    const block = await put();
    flipByte(blobs.pathOf(block), 2 * BS + 100);
    await blobs.check(block, size);
    assert.deepEqual(await readRange(block, size, 0, 2 * BS - 1), data.subarray(0, 2 * BS));
    assert.deepEqual(await readRange(block, size, 3 * BS, size - 1), data.subarray(3 * BS));
    // Reading across the damaged block hands out what precedes it, then fails.
    const body = await blobs.openRange(block, size, 10, size - 1);
    const buf = Buffer.alloc(4 * BS);
    assert.equal(await body.read(buf), 2 * BS - 10);
    assert.deepEqual(buf.subarray(0, 2 * BS - 10), data.subarray(10, 2 * BS));
    await assert.rejects(body.read(buf), (e) => e instanceof BlobDamagedError && e.offset === 2 * BS);
    await body.close();
  });

  it('serves a legacy blob (no checksums, exactly its data) unverified only in a legacy store', async () => {
    const legacy = await FsBlobStore.open({ root: dir, fsync: false, legacy: true });
    const data = randomBytes(BLOCK_SIZE + 5);
    const w = await blobs.create();
    await w.write(data);
    await w.commit();
    fs.truncateSync(blobs.pathOf(w.id), data.length);
    await assert.rejects(blobs.check(w.id, data.length), BlobDamagedError);
    const body = await legacy.openRange(w.id, data.length, 3, data.length - 1);
    const buf = Buffer.alloc(256 * 1024);
    const n = await body.read(buf);
    await body.close();
    assert.deepEqual(buf.subarray(0, n), data.subarray(3));
    // Any other length is still damage.
    fs.truncateSync(blobs.pathOf(w.id), data.length - 1);
    await assert.rejects(legacy.check(w.id, data.length), BlobDamagedError);
  });

  it('leaves nothing behind on abort', async () => {
    const w = await blobs.create();
    await w.write(Buffer.from('hello'));
    await w.abort();
    assert.equal(fs.existsSync(blobs.pathOf(w.id)), false);
    assert.deepEqual(await fs.promises.readdir(blobs.tmpDir), []);
  });

  it('empties its own node directory at open, removes dead nodes\' and keeps live nodes\' temp files', async () => {
    const root = await tempDir();
    try {
      const a = await FsBlobStore.open({ root, fsync: false, nodeId: 'a' });
      const live = await FsBlobStore.open({ root, fsync: false, nodeId: 'live' });
      const inFlight = await live.create();
      await inFlight.write(Buffer.from('uploading'));
      fs.writeFileSync(path.join(a.tmpDir, 'e'.repeat(32)), 'torn');
      // A node of this machine whose process is gone (a pid that cannot exist), and one of another
      // machine silent for longer than the stale age, and one of another machine heard from lately.
      const tmp = path.join(root, 'tmp');
      const dead = (name: string, owner: object, age: number) => {
        fs.mkdirSync(path.join(tmp, name));
        fs.writeFileSync(path.join(tmp, name, 'f'.repeat(32)), 'left');
        fs.writeFileSync(path.join(tmp, name + '.node'), JSON.stringify(owner));
        const t = new Date(Date.now() - age);
        fs.utimesSync(path.join(tmp, name + '.node'), t, t);
      };
      const here = JSON.parse(fs.readFileSync(path.join(tmp, 'a.node'), 'utf8')) as { host: string; bootId: string };
      dead('crashed', { ...here, pid: 2 ** 22 + 7, start: '1' }, 0);
      dead('far-silent', { host: 'elsewhere', bootId: 'x', pid: 1, start: '1' }, 2 * 3600 * 1000);
      dead('far-alive', { host: 'elsewhere', bootId: 'x', pid: 1, start: '1' }, 60 * 1000);
      // A second start of node 'a' while 'a' runs (this process) is the same process: allowed here;
      // its previous temp files go.
      const again = await FsBlobStore.open({ root, fsync: false, nodeId: 'a' });
      assert.deepEqual(fs.readdirSync(again.tmpDir), []);
      assert.equal(fs.existsSync(path.join(tmp, 'crashed')), false);
      assert.equal(fs.existsSync(path.join(tmp, 'crashed.node')), false);
      assert.equal(fs.existsSync(path.join(tmp, 'far-silent')), false);
      assert.equal(fs.existsSync(path.join(tmp, 'far-alive', 'f'.repeat(32))), true);
      // The live node's upload finishes after another node's start-up.
      await inFlight.write(Buffer.from(' and done'));
      await inFlight.commit();
      assert.equal(fs.existsSync(live.pathOf(inFlight.id)), true);
      // A node id held by a live process elsewhere on this machine is refused.
      fs.writeFileSync(path.join(tmp, 'taken.node'), JSON.stringify({ ...here, pid: 1, start: fs.readFileSync('/proc/1/stat', 'utf8').split(') ')[1]!.split(' ')[19] }));
      await assert.rejects(FsBlobStore.open({ root, fsync: false, nodeId: 'taken' }), /in use by process 1/);
      // A clean close leaves nothing of the node behind.
      await live.close();
      assert.equal(fs.existsSync(path.join(tmp, 'live')), false);
      assert.equal(fs.existsSync(path.join(tmp, 'live.node')), false);
      await a.close();
      await again.close();
    } finally {
      await fs.promises.rm(root, { recursive: true, force: true });
    }
  });

  it('sweeps unreferenced blobs only when older than the grace period', async () => {
    const w = await blobs.create();
    await w.write(Buffer.from('orphan'));
    await w.commit();
    const old = new Date(Date.now() - 2 * 3600 * 1000);
    fs.utimesSync(blobs.pathOf(w.id), old, old);
    const keep = await blobs.create();
    await keep.write(Buffer.from('kept'));
    await keep.commit();
    fs.utimesSync(blobs.pathOf(keep.id), old, old);
    // Unreferenced but young: another node may be about to commit its metadata.
    const young = await blobs.create();
    await young.write(Buffer.from('young'));
    await young.commit();
    const reopened = await FsBlobStore.open({ root: dir, fsync: true });
    const removed = await reopened.sweepOrphans(async (id) => id === keep.id, Date.now() - 3600 * 1000);
    assert.equal(removed, 1);
    assert.equal(fs.existsSync(blobs.pathOf(w.id)), false);
    assert.equal(fs.existsSync(blobs.pathOf(keep.id)), true);
    assert.equal(fs.existsSync(blobs.pathOf(young.id)), true);
    await reopened.close();
  });

});
