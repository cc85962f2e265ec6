// MetaStore conformance suite: the semantics every metadata store must have, written against the
// MetaStore / IamStore interface only (src/store/meta/types.ts). Each store's test file calls
// describeMetaStore with a factory that opens a fresh, empty store:
//
//   describeMetaStore('SQLite', async () => { const store = …; return { store, cleanup } });
//
// Every test gets its own store. Errors are asserted by their store-level codes (StoreError,
// IamStoreError), never by S3's rendering of them.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { StoreError, type StoreErrorCode } from '../../src/store/errors.js';
import {
  IamStoreError,
  type Bucket,
  type IamEntity,
  type IamStoreErrorCode,
  type ListedObject,
  type MetaStore,
  type ObjectContent,
  type TierState,
  type Upload,
  type VersioningState,
} from '../../src/store/meta/types.js';

export interface OpenedStore {
  store: MetaStore;
  cleanup: () => Promise<void>;
}

export type MetaStoreFactory = () => Promise<OpenedStore>;

/** Rejects with a StoreError of `code` (and details containing `details`, when given). */
export async function rejectsStore(p: Promise<unknown>, code: StoreErrorCode, details?: Record<string, unknown>): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof StoreError, `expected StoreError ${code}, got ${String(e)}`);
    assert.equal(e.code, code);
    if (details) for (const [k, v] of Object.entries(details)) assert.deepEqual((e.details as Record<string, unknown>)[k], v, `details.${k}`);
    return true;
  });
}

export async function rejectsIam(p: Promise<unknown>, code: IamStoreErrorCode): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof IamStoreError, `expected IamStoreError ${code}, got ${String(e)}`);
    assert.equal(e.code, code);
    return true;
  });
}

/** A fresh blob id, as the BlobStore mints them (32 hex). */
export function blobId(): string {
  return randomBytes(16).toString('hex');
}

export function content(etag: string, extra: Partial<ObjectContent> = {}): ObjectContent {
  return {
    size: 3,
    etag,
    lastModified: 1_700_000_000_000,
    owner: 'owner-1',
    storageClass: 'STANDARD',
    headers: {},
    userMeta: {},
    inline: Buffer.from(etag.slice(0, 3).padEnd(3, '.')),
    ...extra,
  };
}

/** Keys in UTF-8 byte order (the order every listing must have): not UTF-16 order, not locale order. */
export const BYTE_ORDER_KEYS = ['\u0001', 'Z', 'a', 'a/b', 'ab', 'a\u007f', '\u00e9', '\uff61', '\u{1f600}'];

function byteSorted(keys: string[]): string[] {
  return [...keys].sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
}

const ACCT = '111122223333';

export function describeMetaStore(name: string, open: MetaStoreFactory): void {
  /** Runs `fn` on a fresh store, closed and removed afterwards whatever happens. */
  async function withStore(fn: (s: MetaStore) => Promise<void>): Promise<void> {
    const { store, cleanup } = await open();
    try {
      await fn(store);
    } finally {
      await cleanup();
    }
  }

  let n = 0;
  async function newBucket(s: MetaStore, versioning: VersioningState = 'Unversioned', extra: Partial<Bucket> = {}): Promise<Bucket> {
    return s.createBucket({ name: `bucket-${++n}`, owner: 'owner-1', createdAt: 1_700_000_000_000, region: 'us-east-1', versioning, objectLock: false, ...extra });
  }

  const keysOf = (l: ListedObject[]) => l.map((o) => o.key);

  describe(`MetaStore conformance: ${name}`, () => {
    describe('settings', () => {
      it('reads, writes and initialises settings; of racing initialisers one value wins', () =>
        withStore(async (s) => {
          assert.equal(await s.getSetting('absent'), undefined);
          await s.putSetting('a', '1');
          await s.putSetting('a', '2');
          assert.equal(await s.getSetting('a'), '2');
          assert.equal(await s.initSetting('a', '3'), '2');
          assert.equal(await s.getSetting('a'), '2');
          const values = await Promise.all(Array.from({ length: 10 }, (_, i) => s.initSetting('race', `v${i}`)));
          assert.equal(new Set(values).size, 1);
          assert.equal(await s.getSetting('race'), values[0]);
        }));
    });

    describe('accounts and keys', () => {
      it('stores accounts, renames them, refuses another account id, lists by name', () =>
        withStore(async (s) => {
          await s.putAccount({ id: 'c'.repeat(64), accountId: '000000000003', displayName: 'carol', createdAt: 3 });
          await s.putAccount({ id: 'a'.repeat(64), accountId: '000000000001', displayName: 'zed', email: 'a@example.com', createdAt: 1 });
          await s.putAccount({ id: 'b'.repeat(64), accountId: '000000000002', displayName: 'bob', createdAt: 2 });
          assert.deepEqual(await s.getAccount('a'.repeat(64)), { id: 'a'.repeat(64), accountId: '000000000001', displayName: 'zed', email: 'a@example.com', createdAt: 1 });
          assert.equal((await s.getAccountById('000000000002'))?.id, 'b'.repeat(64));
          assert.equal(await s.getAccount('d'.repeat(64)), undefined);
          assert.equal(await s.getAccountById('999999999999'), undefined);
          // Renaming keeps the account id; an account id belongs to one account only.
          await s.putAccount({ id: 'a'.repeat(64), accountId: '000000000001', displayName: 'alice', createdAt: 1 });
          assert.equal((await s.getAccountById('000000000001'))?.displayName, 'alice');
          await assert.rejects(s.putAccount({ id: 'e'.repeat(64), accountId: '000000000001', displayName: 'eve', createdAt: 5 }));
          assert.equal(await s.getAccount('e'.repeat(64)), undefined);
          assert.deepEqual((await s.listAccounts()).map((a) => a.displayName), ['alice', 'bob', 'carol']);
        }));

      it('stores access keys of root users and IAM users', () =>
        withStore(async (s) => {
          await s.putAccessKey({ accessKeyId: 'AKROOT', secretAccessKey: 'secret', userId: 'a'.repeat(64), createdAt: 10 });
          await s.putAccessKey({ accessKeyId: 'AKUSER', secretAccessKey: 's2', userId: 'a'.repeat(64), iamUserId: 'AIDAUSER', status: 'Inactive', createdAt: 11 });
          assert.deepEqual(await s.getAccessKey('AKROOT'), { accessKeyId: 'AKROOT', secretAccessKey: 'secret', userId: 'a'.repeat(64), status: 'Active', createdAt: 10 });
          const k = await s.getAccessKey('AKUSER');
          assert.equal(k?.iamUserId, 'AIDAUSER');
          assert.equal(k?.status, 'Inactive');
          assert.equal(await s.getAccessKey('AKNONE'), undefined);
          // putAccessKey replaces.
          await s.putAccessKey({ accessKeyId: 'AKROOT', secretAccessKey: 'rotated', userId: 'a'.repeat(64), createdAt: 10 });
          assert.equal((await s.getAccessKey('AKROOT'))?.secretAccessKey, 'rotated');
        }));
    });

    describe('buckets', () => {
      it('creates buckets once: BucketAlreadyOwnedByYou for the owner, BucketAlreadyExists for others', () =>
        withStore(async (s) => {
          const b = await s.createBucket({ name: 'one', owner: 'o1', createdAt: 5, region: 'eu-west-1', versioning: 'Unversioned', objectLock: false });
          assert.equal(typeof b.id, 'number');
          assert.deepEqual(await s.getBucket('one'), b);
          assert.deepEqual(b, { id: b.id, name: 'one', owner: 'o1', createdAt: 5, region: 'eu-west-1', versioning: 'Unversioned', objectLock: false });
          await rejectsStore(s.createBucket({ ...b, owner: 'o1' }), 'BucketAlreadyOwnedByYou', { bucket: 'one' });
          await rejectsStore(s.createBucket({ ...b, owner: 'o2' }), 'BucketAlreadyExists', { bucket: 'one' });
          const racers = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => s.createBucket({ ...b, name: 'raced', owner: `o${i}` })));
          assert.equal(racers.filter((r) => r.status === 'fulfilled').length, 1);
          assert.equal(await s.getBucket('absent'), undefined);
        }));

      it('lists buckets by owner, prefix, after and limit, in name order', () =>
        withStore(async (s) => {
          for (const [name, owner] of [['b-2', 'x'], ['a-1', 'x'], ['b-1', 'y'], ['c-1', 'x'], ['b-3', 'x']] as const) {
            await s.createBucket({ name, owner, createdAt: 1, region: 'us-east-1', versioning: 'Unversioned', objectLock: false });
          }
          const names = (bs: Bucket[]) => bs.map((b) => b.name);
          assert.deepEqual(names(await s.listBuckets(undefined, { limit: 100 })), ['a-1', 'b-1', 'b-2', 'b-3', 'c-1']);
          assert.deepEqual(names(await s.listBuckets('x', { limit: 100 })), ['a-1', 'b-2', 'b-3', 'c-1']);
          assert.deepEqual(names(await s.listBuckets('x', { prefix: 'b-', limit: 100 })), ['b-2', 'b-3']);
          assert.deepEqual(names(await s.listBuckets(undefined, { prefix: 'b-', after: 'b-1', limit: 1 })), ['b-2']);
          assert.deepEqual(names(await s.listBuckets(undefined, { after: 'b-3', limit: 10 })), ['c-1']);
          assert.deepEqual(names(await s.listBuckets('nobody', { limit: 10 })), []);
        }));

      it('refuses to delete a bucket with any version (a delete marker too), aborts its uploads, never reuses its id', () =>
        withStore(async (s) => {
          const b = await newBucket(s, 'Enabled');
          await s.putObject(b.id, 'k', content('e1'));
          await s.deleteObject(b.id, 'k', { now: Date.now() });
          await rejectsStore(s.deleteBucket(b.id), 'BucketNotEmpty', { bucket: b.name });
          for (const v of await s.listVersions(b.id, { prefix: '', limit: 10 })) await s.deleteObject(b.id, 'k', { versionId: v.versionId, now: Date.now() });
          await s.createUpload(upload(b.id, 'u1', 'k'));
          await s.putBucketConfig(b.id, 'tagging', '<Tagging/>');
          await s.deleteBucket(b.id);
          assert.equal(await s.getBucket(b.name), undefined);
          assert.equal(await s.getUpload(b.id, 'u1'), undefined);
          await rejectsStore(s.deleteBucket(b.id), 'NoSuchBucket');
          await rejectsStore(s.putObject(b.id, 'late', content('e2')), 'NoSuchBucket');
          const again = await s.createBucket({ name: b.name, owner: b.owner, createdAt: 2, region: 'us-east-1', versioning: 'Unversioned', objectLock: false });
          assert.notEqual(again.id, b.id);
          assert.equal(await s.getBucketConfig(again.id, 'tagging'), undefined);
        }));

      it('keeps versioning and object lock state, and refuses the changes object lock forbids', () =>
        withStore(async (s) => {
          const b = await newBucket(s);
          await rejectsStore(s.enableObjectLock(b.id), 'InvalidBucketState', { reason: 'versioning-not-enabled' });
          await s.setVersioning(b.id, 'Enabled');
          assert.equal((await s.getBucket(b.name))?.versioning, 'Enabled');
          await s.setVersioning(b.id, 'Suspended');
          assert.equal((await s.getBucket(b.name))?.versioning, 'Suspended');
          await s.setVersioning(b.id, 'Enabled');
          await s.enableObjectLock(b.id);
          assert.equal((await s.getBucket(b.name))?.objectLock, true);
          await rejectsStore(s.setVersioning(b.id, 'Suspended'), 'InvalidBucketState', { reason: 'object-lock-present' });
          assert.equal((await s.getBucket(b.name))?.versioning, 'Enabled');
          await rejectsStore(s.setVersioning(987654, 'Enabled'), 'NoSuchBucket');
        }));

      it('stores configuration documents per bucket and kind', () =>
        withStore(async (s) => {
          const b1 = await newBucket(s);
          const b2 = await newBucket(s);
          assert.equal(await s.getBucketConfig(b1.id, 'policy'), undefined);
          await s.putBucketConfig(b1.id, 'policy', '{"p":1}');
          await s.putBucketConfig(b1.id, 'tagging', 't');
          await s.putBucketConfig(b1.id, 'policy', '{"p":2}');
          assert.equal(await s.getBucketConfig(b1.id, 'policy'), '{"p":2}');
          assert.equal(await s.getBucketConfig(b1.id, 'tagging'), 't');
          assert.equal(await s.getBucketConfig(b2.id, 'policy'), undefined);
          await s.putBucketConfig(b1.id, 'policy', undefined);
          assert.equal(await s.getBucketConfig(b1.id, 'policy'), undefined);
          assert.equal(await s.getBucketConfig(b1.id, 'tagging'), 't');
          await s.putBucketConfig(b1.id, 'cors', undefined);
        }));
    });

    describe('objects', () => {
      it('round-trips everything a version records', () =>
        withStore(async (s) => {
          const b = await newBucket(s, 'Enabled');
          const c = content('0123456789abcdef0123456789abcdef', {
            size: 5,
            inline: Buffer.from('hello'),
            storageClass: 'STANDARD_IA',
            headers: { 'content-type': 'text/plain', 'cache-control': 'no-cache' },
            userMeta: { colour: 'blue', 'ünï': 'cödé' },
            checksum: { algorithm: 'CRC32', value: 'NhCmhg==', type: 'FULL_OBJECT' },
            tags: [['a', '1'], ['b', '']],
            retention: { mode: 'GOVERNANCE', until: 1_900_000_000_000 },
            legalHold: false,
            acl: '{"grants":[]}',
          });
          const put = await s.putObject(b.id, 'k', c);
          assert.notEqual(put.versionId, 'null');
          assert.equal(put.previous, undefined);
          const v = await s.getObject(b.id, 'k');
          assert.ok(v);
          assert.equal(v.key, 'k');
          assert.equal(v.bucketId, b.id);
          assert.equal(v.versionId, put.versionId);
          assert.equal(v.isLatest, true);
          assert.equal(v.deleteMarker, false);
          assert.equal(v.size, 5);
          assert.equal(v.etag, c.etag);
          assert.equal(v.lastModified, c.lastModified);
          assert.equal(v.owner, c.owner);
          assert.equal(v.storageClass, 'STANDARD_IA');
          assert.deepEqual(v.headers, c.headers);
          assert.deepEqual(v.userMeta, c.userMeta);
          assert.deepEqual(v.checksum, c.checksum);
          assert.deepEqual(v.tags, c.tags);
          assert.deepEqual(v.retention, c.retention);
          assert.equal(v.legalHold, false);
          assert.equal(v.acl, c.acl);
          assert.deepEqual(v.inline, Buffer.from('hello'));
          assert.equal(typeof v.inlineCrc, 'number');
          assert.equal(v.blobId, undefined);
          assert.equal(v.partsCount, undefined);
          // A version without any of the optional parts has none of them.
          await s.putObject(b.id, 'plain', content('e2', { inline: undefined, blobId: blobId(), size: 100 }));
          const p = await s.getObject(b.id, 'plain');
          assert.deepEqual([p?.checksum, p?.tags, p?.retention, p?.legalHold, p?.acl, p?.inline], [undefined, undefined, undefined, undefined, undefined, undefined]);
          assert.deepEqual([p?.headers, p?.userMeta], [{}, {}]);
          const listed = await s.listObjects(b.id, { prefix: '', limit: 10 });
          assert.deepEqual(listed.find((o) => o.key === 'k'), {
            key: 'k',
            versionId: put.versionId,
            isLatest: true,
            deleteMarker: false,
            size: 5,
            etag: c.etag,
            lastModified: c.lastModified,
            owner: c.owner,
            storageClass: 'STANDARD_IA',
            checksumAlgorithm: 'CRC32',
            checksumType: 'FULL_OBJECT',
          });
        }));

      it('stores multipart objects part by part', () =>
        withStore(async (s) => {
          const b = await newBucket(s);
          const parts = [1, 2, 3].map((i) => ({ partNumber: i, offset: (i - 1) * 10, size: 10, etag: `p${i}`, blobId: blobId(), ...(i === 2 ? { checksum: 'abc=' } : {}) }));
          await s.putObject(b.id, 'mp', content('x-3', { inline: undefined, size: 30, parts }));
          const v = await s.getObject(b.id, 'mp');
          assert.equal(v?.partsCount, 3);
          assert.deepEqual(await s.getObjectParts(v!.rowId), parts);
          assert.deepEqual(await s.getObjectParts(v!.rowId, 2, 1), [parts[1]]);
          assert.deepEqual(await s.getObjectParts(v!.rowId, 4), []);
        }));

      it('unversioned: one null version, replaced by each write, removed by a delete', () =>
        withStore(async (s) => {
          const b = await newBucket(s);
          const r1 = await s.putObject(b.id, 'k', content('e1'));
          assert.equal(r1.versionId, 'null');
          const r2 = await s.putObject(b.id, 'k', content('e2'));
          assert.deepEqual(r2, { versionId: 'null', previous: { versionId: 'null', deleteMarker: false } });
          assert.equal((await s.getObject(b.id, 'k'))?.etag, 'e2');
          assert.equal((await s.getObject(b.id, 'k', 'null'))?.etag, 'e2');
          assert.deepEqual((await s.listVersions(b.id, { prefix: '', limit: 10 })).map((v) => [v.versionId, v.etag]), [['null', 'e2']]);
          assert.deepEqual(await s.deleteObject(b.id, 'k', { now: Date.now() }), { deleteMarker: false });
          assert.equal(await s.getObject(b.id, 'k'), undefined);
          assert.deepEqual(await s.listVersions(b.id, { prefix: '', limit: 10 }), []);
          assert.deepEqual(await s.deleteObject(b.id, 'k', { now: Date.now() }), { deleteMarker: false });
        }));

      it('replicas: written with their own version id, in order whatever the arrival, once, with their status', () =>
        withStore(async (s) => {
          const b = await newBucket(s, 'Enabled');
          const [v1, v2, v3] = ['0000018c000000000000000000000001', '0000018c000000000000000000000002', '0000018c000000000000000000000003'];
          // The newest arrives first; older ones slot in below it and never become the latest.
          assert.deepEqual(await s.putObject(b.id, 'k', content('e3', { replicaVersionId: v3, replicationStatus: 'REPLICA' })), { versionId: v3 });
          assert.deepEqual(await s.putObject(b.id, 'k', content('e1', { replicaVersionId: v1, replicationStatus: 'REPLICA' })), { versionId: v1 });
          assert.equal((await s.getObject(b.id, 'k'))?.versionId, v3);
          // A delete marker replica in between.
          assert.deepEqual(await s.deleteObject(b.id, 'k', { now: Date.now(), markerVersionId: v2, markerReplicationStatus: 'REPLICA' }), { versionId: v2, deleteMarker: true });
          assert.deepEqual((await s.listVersions(b.id, { prefix: '', limit: 10 })).map((v) => [v.versionId, v.isLatest, v.deleteMarker]), [[v3, true, false], [v2, false, true], [v1, false, false]]);
          // Again: nothing written, the write says the version existed.
          assert.deepEqual(await s.putObject(b.id, 'k', content('other', { replicaVersionId: v1 })), { versionId: v1, existed: true });
          assert.equal((await s.getObject(b.id, 'k', v1))?.etag, 'e1');
          assert.equal((await s.getObject(b.id, 'k', v1))?.replicationStatus, 'REPLICA');
          // A newer ordinary write goes on top; the status of a version is updated in place.
          const own = await s.putObject(b.id, 'k', content('e4', { replicationStatus: 'PENDING' }));
          assert.ok(own.versionId > v3);
          await s.updateObject(b.id, 'k', own.versionId, { replicationStatus: 'COMPLETED' });
          assert.equal((await s.getObject(b.id, 'k'))?.replicationStatus, 'COMPLETED');
          // Only versioned buckets take replicas.
          const u = await newBucket(s);
          await rejectsStore(s.putObject(u.id, 'k', content('e', { replicaVersionId: v1 })), 'InvalidBucketState');
        }));

      it('versioned: versions accumulate newest first, delete markers hide and reveal', () =>
        withStore(async (s) => {
          const b = await newBucket(s, 'Enabled');
          const ids: string[] = [];
          for (const e of ['e1', 'e2', 'e3']) ids.push((await s.putObject(b.id, 'k', content(e))).versionId);
          assert.equal(new Set(ids).size, 3);
          assert.ok(!ids.includes('null'));
          const versions = await s.listVersions(b.id, { prefix: '', limit: 10 });
          assert.deepEqual(versions.map((v) => [v.versionId, v.etag, v.isLatest]), [[ids[2], 'e3', true], [ids[1], 'e2', false], [ids[0], 'e1', false]]);
          assert.equal((await s.getObject(b.id, 'k', ids[0]))?.etag, 'e1');
          assert.equal((await s.getObject(b.id, 'k', ids[0]))?.isLatest, false);
          assert.equal(await s.getObject(b.id, 'k', 'null'), undefined);
          assert.equal(await s.getObject(b.id, 'k', 'no-such-version'), undefined);

          const del = await s.deleteObject(b.id, 'k', { now: 5 });
          assert.equal(del.deleteMarker, true);
          assert.ok(del.versionId && del.versionId !== 'null' && !ids.includes(del.versionId));
          const latest = await s.getObject(b.id, 'k');
          assert.equal(latest?.deleteMarker, true);
          assert.equal(latest?.versionId, del.versionId);
          assert.equal(latest?.lastModified, 5);
          assert.deepEqual(await s.listObjects(b.id, { prefix: '', limit: 10 }), []);
          const after = await s.listVersions(b.id, { prefix: '', limit: 10 });
          assert.deepEqual(after.map((v) => [v.versionId, v.deleteMarker, v.isLatest]), [[del.versionId, true, true], [ids[2], false, false], [ids[1], false, false], [ids[0], false, false]]);
          // A write after a marker displaces it.
          const again = await s.putObject(b.id, 'k', content('e4'));
          assert.deepEqual(again.previous, { versionId: del.versionId, deleteMarker: true });

          // Deleting the marker (now not latest) and the latest version brings the next one back.
          assert.deepEqual(await s.deleteObject(b.id, 'k', { versionId: del.versionId!, now: 6 }), { versionId: del.versionId, deleteMarker: true });
          assert.deepEqual(await s.deleteObject(b.id, 'k', { versionId: again.versionId, now: 6 }), { versionId: again.versionId, deleteMarker: false });
          const back = await s.getObject(b.id, 'k');
          assert.equal(back?.etag, 'e3');
          assert.equal(back?.isLatest, true);
          assert.equal((await s.listVersions(b.id, { prefix: '', limit: 1 }))[0]?.isLatest, true);
          assert.deepEqual(keysOf(await s.listObjects(b.id, { prefix: '', limit: 10 })), ['k']);
          // Deleting a version that does not exist answers it, and changes nothing.
          assert.deepEqual(await s.deleteObject(b.id, 'k', { versionId: 'nope', now: 7 }), { versionId: 'nope', deleteMarker: false });
          assert.equal((await s.listVersions(b.id, { prefix: '', limit: 10 })).length, 3);
        }));

      it('suspended: the null version is replaced, other versions stay', () =>
        withStore(async (s) => {
          const b = await newBucket(s);
          await s.putObject(b.id, 'k', content('n1'));
          await s.setVersioning(b.id, 'Enabled');
          const v1 = await s.putObject(b.id, 'k', content('v1'));
          await s.setVersioning(b.id, 'Suspended');
          const n2 = await s.putObject(b.id, 'k', content('n2'));
          assert.deepEqual(n2, { versionId: 'null', previous: { versionId: v1.versionId, deleteMarker: false } });
          const list = await s.listVersions(b.id, { prefix: '', limit: 10 });
          assert.deepEqual(list.map((v) => [v.versionId, v.etag, v.isLatest]), [['null', 'n2', true], [v1.versionId, 'v1', false]]);
          // A simple delete places a null delete marker, replacing the null version.
          const del = await s.deleteObject(b.id, 'k', { now: 9 });
          assert.deepEqual(del, { versionId: 'null', deleteMarker: true });
          const after = await s.listVersions(b.id, { prefix: '', limit: 10 });
          assert.deepEqual(after.map((v) => [v.versionId, v.deleteMarker]), [['null', true], [v1.versionId, false]]);
          await s.putObject(b.id, 'k', content('n3'));
          assert.deepEqual((await s.listVersions(b.id, { prefix: '', limit: 10 })).map((v) => [v.versionId, v.etag]), [['null', 'n3'], [v1.versionId, 'v1']]);
          // Re-enabled: new versions beside the null one.
          await s.setVersioning(b.id, 'Enabled');
          const v2 = await s.putObject(b.id, 'k', content('v2'));
          assert.deepEqual((await s.listVersions(b.id, { prefix: '', limit: 10 })).map((v) => v.versionId), [v2.versionId, 'null', v1.versionId]);
          assert.equal((await s.getObject(b.id, 'k', 'null'))?.etag, 'n3');
        }));

      it('lists keys in UTF-8 byte order with prefix, start and limit', () =>
        withStore(async (s) => {
          const b = await newBucket(s);
          for (const k of [...BYTE_ORDER_KEYS].reverse()) await s.putObject(b.id, k, content('e'));
          const all = byteSorted(BYTE_ORDER_KEYS);
          assert.deepEqual(all, ['\u0001', 'Z', 'a', 'a/b', 'ab', 'a\u007f', '\u00e9', '\uff61', '\u{1f600}']);
          assert.deepEqual(keysOf(await s.listObjects(b.id, { prefix: '', limit: 100 })), all);
          assert.deepEqual(keysOf(await s.listObjects(b.id, { prefix: 'a', limit: 100 })), ['a', 'a/b', 'ab', 'a\u007f']);
          assert.deepEqual(keysOf(await s.listObjects(b.id, { prefix: 'a', start: 'a', limit: 100 })), ['a/b', 'ab', 'a\u007f']);
          assert.deepEqual(keysOf(await s.listObjects(b.id, { prefix: 'a', start: 'a', startInclusive: true, limit: 2 })), ['a', 'a/b']);
          assert.deepEqual(keysOf(await s.listObjects(b.id, { prefix: '', start: 'a/b', limit: 3 })), ['ab', 'a\u007f', '\u00e9']);
          // Seeking past a common prefix: the successor of "a/" skips every key under it.
          assert.deepEqual(keysOf(await s.listObjects(b.id, { prefix: '', start: 'a0', startInclusive: true, limit: 100 })), ['ab', 'a\u007f', '\u00e9', '\uff61', '\u{1f600}']);
          // A start before the prefix does not widen it; one after it empties the page.
          assert.deepEqual(keysOf(await s.listObjects(b.id, { prefix: 'a/', start: 'Z', limit: 100 })), ['a/b']);
          assert.deepEqual(keysOf(await s.listObjects(b.id, { prefix: 'a/', start: 'b', limit: 100 })), []);
          assert.deepEqual(keysOf(await s.listObjects(b.id, { prefix: '\u00e9', limit: 100 })), ['\u00e9']);
          assert.deepEqual(keysOf(await s.listObjects(b.id, { prefix: '', start: '\uff61', limit: 100 })), ['\u{1f600}']);
          assert.deepEqual(keysOf(await s.listObjects(b.id, { prefix: 'nothing', limit: 100 })), []);
          // Page by page gives everything once.
          const paged: string[] = [];
          let start: string | undefined;
          for (;;) {
            const page = await s.listObjects(b.id, { prefix: '', ...(start !== undefined ? { start } : {}), limit: 2 });
            if (page.length === 0) break;
            paged.push(...keysOf(page));
            start = page[page.length - 1]!.key;
          }
          assert.deepEqual(paged, all);
        }));

      it('lists versions by key (byte order) then newest first, resuming at markers', () =>
        withStore(async (s) => {
          const b = await newBucket(s, 'Enabled');
          const ids: Record<string, string[]> = {};
          for (const k of ['\u00e9', 'a/b', 'a', 'Z']) {
            ids[k] = [];
            for (let i = 0; i < 3; i++) ids[k].unshift((await s.putObject(b.id, k, content(`${k}${i}`))).versionId);
          }
          const expected = byteSorted(Object.keys(ids)).flatMap((k) => ids[k]!.map((v) => [k, v]));
          const pairs = (l: ListedObject[]) => l.map((o) => [o.key, o.versionId]);
          assert.deepEqual(pairs(await s.listVersions(b.id, { prefix: '', limit: 100 })), expected);
          assert.deepEqual(pairs(await s.listVersions(b.id, { prefix: 'a', limit: 100 })), expected.filter(([k]) => k!.startsWith('a')));
          // After (key, version): the rest of that key's older versions, then later keys.
          assert.deepEqual(pairs(await s.listVersions(b.id, { prefix: '', keyMarker: 'a', versionIdMarker: ids['a']![0], limit: 3 })), [['a', ids['a']![1]], ['a', ids['a']![2]], ['a/b', ids['a/b']![0]]]);
          // After a key without a version marker: every version of it is skipped.
          assert.deepEqual(pairs(await s.listVersions(b.id, { prefix: '', keyMarker: 'a', limit: 1 })), [['a/b', ids['a/b']![0]]]);
          // startKey seeks (inclusive).
          assert.deepEqual(pairs(await s.listVersions(b.id, { prefix: '', startKey: 'a0', limit: 1 })), [['\u00e9', ids['\u00e9']![0]]]);
          // Page by page (marker pairs) gives everything once.
          const paged: string[][] = [];
          let marker: { keyMarker: string; versionIdMarker: string } | undefined;
          for (;;) {
            const page = await s.listVersions(b.id, { prefix: '', ...(marker ?? {}), limit: 2 });
            if (page.length === 0) break;
            paged.push(...pairs(page).map((p) => p.map(String)));
            const last = page[page.length - 1]!;
            marker = { keyMarker: last.key, versionIdMarker: last.versionId };
          }
          assert.deepEqual(paged, expected);
          // A version marker that was deleted meanwhile still resumes after it.
          await s.deleteObject(b.id, 'a', { versionId: ids['a']![1]!, now: 1 });
          assert.deepEqual(pairs(await s.listVersions(b.id, { prefix: '', keyMarker: 'a', versionIdMarker: ids['a']![1], limit: 1 })), [['a', ids['a']![2]]]);
        }));

      it('decides conditional writes atomically: of 20 racing If-None-Match: * one wins', () =>
        withStore(async (s) => {
          const b = await newBucket(s, 'Enabled');
          const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => s.putObject(b.id, 'lock', content(`w${i}`), { ifNoneMatch: '*' })));
          const won = results.filter((r) => r.status === 'fulfilled');
          assert.equal(won.length, 1);
          for (const r of results) {
            if (r.status === 'rejected') assert.ok(r.reason instanceof StoreError && r.reason.code === 'PreconditionFailed' && r.reason.details.condition === 'If-None-Match', String(r.reason));
          }
          assert.equal((await s.listVersions(b.id, { prefix: 'lock', limit: 100 })).length, 1);
          const winner = (await s.getObject(b.id, 'lock'))!.etag;
          // If-None-Match with the current ETag fails too; with another ETag it passes.
          await rejectsStore(s.putObject(b.id, 'lock', content('x'), { ifNoneMatch: winner }), 'PreconditionFailed', { condition: 'If-None-Match' });
          await s.putObject(b.id, 'other', content('o1'), { ifNoneMatch: 'zzz' });
          // If-Match: the current ETag passes, another fails, a missing key is NoSuchKey.
          await rejectsStore(s.putObject(b.id, 'lock', content('x'), { ifMatch: 'not-' + winner }), 'PreconditionFailed', { condition: 'If-Match' });
          await rejectsStore(s.putObject(b.id, 'missing', content('x'), { ifMatch: '*' }), 'NoSuchKey', { key: 'missing' });
          const cas = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => s.putObject(b.id, 'lock', content(`c${i}`), { ifMatch: winner })));
          assert.equal(cas.filter((r) => r.status === 'fulfilled').length, 1);
          // A delete marker counts as absent.
          await s.deleteObject(b.id, 'lock', { now: 1 });
          await rejectsStore(s.putObject(b.id, 'lock', content('x'), { ifMatch: '*' }), 'NoSuchKey');
          await s.putObject(b.id, 'lock', content('after-marker'), { ifNoneMatch: '*' });
          // Conditional deletes.
          await rejectsStore(s.deleteObject(b.id, 'lock', { now: 1, conditions: { ifMatch: 'wrong' } }), 'PreconditionFailed');
          assert.equal((await s.deleteObject(b.id, 'lock', { now: 1, conditions: { ifMatch: 'after-marker' } })).deleteMarker, true);
        }));

      it('updates tags, retention, legal hold and ACL in place', () =>
        withStore(async (s) => {
          const b = await newBucket(s, 'Enabled');
          const v1 = await s.putObject(b.id, 'k', content('e1', { tags: [['a', '1']] }));
          const v2 = await s.putObject(b.id, 'k', content('e2'));
          // Read first, so that a cached latest version must be forgotten.
          assert.equal((await s.getObject(b.id, 'k'))?.tags, undefined);
          const u = await s.updateObject(b.id, 'k', undefined, { tags: [['x', 'y']], acl: 'acl-doc' });
          assert.equal(u.versionId, v2.versionId);
          assert.deepEqual(u.tags, [['x', 'y']]);
          assert.deepEqual((await s.getObject(b.id, 'k'))?.tags, [['x', 'y']]);
          assert.equal((await s.getObject(b.id, 'k'))?.acl, 'acl-doc');
          assert.equal((await s.getObject(b.id, 'k'))?.etag, 'e2');
          await s.updateObject(b.id, 'k', v1.versionId, { tags: undefined, legalHold: true, retention: { mode: 'GOVERNANCE', until: 5 } });
          const old = await s.getObject(b.id, 'k', v1.versionId);
          assert.equal(old?.tags, undefined);
          assert.equal(old?.legalHold, true);
          assert.deepEqual(old?.retention, { mode: 'GOVERNANCE', until: 5 });
          // `check` sees the current version inside the transaction and may refuse the change.
          await assert.rejects(
            s.updateObject(b.id, 'k', undefined, { tags: [] }, (cur) => {
              assert.deepEqual(cur.tags, [['x', 'y']]);
              throw new Error('refused');
            }),
            /refused/,
          );
          assert.deepEqual((await s.getObject(b.id, 'k'))?.tags, [['x', 'y']]);
          await rejectsStore(s.updateObject(b.id, 'absent', undefined, { tags: [] }), 'NoSuchKey', { key: 'absent' });
          await rejectsStore(s.updateObject(b.id, 'k', 'no-such-version', { tags: [] }), 'NoSuchVersion', { key: 'k', versionId: 'no-such-version' });
          const marker = await s.deleteObject(b.id, 'k', { now: 1 });
          await rejectsStore(s.updateObject(b.id, 'k', undefined, { tags: [] }), 'NoSuchKey');
          await rejectsStore(s.updateObject(b.id, 'k', marker.versionId, { tags: [] }), 'MethodNotAllowed');
        }));

      it('object lock: a retained or held version cannot be deleted, unless governance is bypassed', () =>
        withStore(async (s) => {
          const b = await newBucket(s, 'Enabled', { objectLock: true });
          const now = 1_800_000_000_000;
          const gov = await s.putObject(b.id, 'g', content('g', { retention: { mode: 'GOVERNANCE', until: now + 1000 } }));
          const comp = await s.putObject(b.id, 'c', content('c', { retention: { mode: 'COMPLIANCE', until: now + 1000 } }));
          const held = await s.putObject(b.id, 'h', content('h', { legalHold: true }));
          const expired = await s.putObject(b.id, 'e', content('e', { retention: { mode: 'COMPLIANCE', until: now - 1 } }));
          await rejectsStore(s.deleteObject(b.id, 'g', { versionId: gov.versionId, now }), 'ObjectLocked');
          await rejectsStore(s.deleteObject(b.id, 'c', { versionId: comp.versionId, now, bypassGovernance: true }), 'ObjectLocked');
          await rejectsStore(s.deleteObject(b.id, 'h', { versionId: held.versionId, now, bypassGovernance: true }), 'ObjectLocked');
          assert.equal((await s.getObject(b.id, 'g', gov.versionId))?.etag, 'g');
          // A simple delete only adds a marker: allowed.
          assert.equal((await s.deleteObject(b.id, 'c', { now })).deleteMarker, true);
          assert.equal((await s.getObject(b.id, 'c', comp.versionId))?.etag, 'c');
          await s.deleteObject(b.id, 'g', { versionId: gov.versionId, now, bypassGovernance: true });
          assert.equal(await s.getObject(b.id, 'g', gov.versionId), undefined);
          await s.deleteObject(b.id, 'e', { versionId: expired.versionId, now });
          // Lifting the hold makes the version deletable.
          await s.updateObject(b.id, 'h', held.versionId, { legalHold: false });
          await s.deleteObject(b.id, 'h', { versionId: held.versionId, now });
        }));
    });

    describe('multipart uploads', () => {
      it('creates uploads and keeps what the object will get', () =>
        withStore(async (s) => {
          const b = await newBucket(s);
          const u: Upload = {
            ...upload(b.id, 'up-1', 'k'),
            headers: { 'content-type': 'image/png' },
            userMeta: { a: 'b' },
            checksumAlgorithm: 'CRC64NVME',
            checksumType: 'FULL_OBJECT',
            tags: [['t', 'v']],
            retention: { mode: 'COMPLIANCE', until: 9 },
            legalHold: true,
            acl: 'acl',
          };
          await s.createUpload(u);
          assert.deepEqual(await s.getUpload(b.id, 'up-1'), u);
          assert.equal(await s.getUpload(b.id + 1000, 'up-1'), undefined);
          await rejectsStore(s.createUpload(upload(987654, 'up-2', 'k')), 'NoSuchBucket');
        }));

      it('adds, replaces and lists parts', () =>
        withStore(async (s) => {
          const b = await newBucket(s);
          await s.createUpload(upload(b.id, 'u', 'k'));
          for (const n of [3, 1, 2]) await s.putPart(b.id, 'u', part(n, `p${n}`));
          const replaced = { ...part(2, 'p2b'), checksum: 'c2=' };
          await s.putPart(b.id, 'u', replaced);
          const listed = await s.listParts('u', 0, 100);
          assert.deepEqual(listed.map((p) => [p.partNumber, p.etag]), [[1, 'p1'], [2, 'p2b'], [3, 'p3']]);
          assert.deepEqual(listed[1], { partNumber: 2, size: replaced.size, etag: 'p2b', checksum: 'c2=', lastModified: replaced.lastModified, blobId: replaced.blobId });
          assert.deepEqual((await s.listParts('u', 1, 1)).map((p) => p.partNumber), [2]);
          await rejectsStore(s.putPart(b.id, 'nope', part(1, 'x')), 'NoSuchUpload', { uploadId: 'nope' });
        }));

      it('lists uploads by key (byte order) then upload id, resuming at markers', () =>
        withStore(async (s) => {
          const b = await newBucket(s);
          const made: [string, string][] = [
            ['\u00e9', 'u5'],
            ['a', 'u3'],
            ['a', 'u1'],
            ['a/b', 'u2'],
            ['Z', 'u4'],
          ];
          for (const [k, id] of made) await s.createUpload(upload(b.id, id, k));
          const pairs = (l: Upload[]) => l.map((u) => [u.key, u.uploadId]);
          const all = [['Z', 'u4'], ['a', 'u1'], ['a', 'u3'], ['a/b', 'u2'], ['\u00e9', 'u5']];
          assert.deepEqual(pairs(await s.listUploads(b.id, { prefix: '', limit: 100 })), all);
          assert.deepEqual(pairs(await s.listUploads(b.id, { prefix: 'a', limit: 100 })), all.slice(1, 4));
          assert.deepEqual(pairs(await s.listUploads(b.id, { prefix: '', keyMarker: 'a', uploadIdMarker: 'u1', limit: 100 })), all.slice(2));
          assert.deepEqual(pairs(await s.listUploads(b.id, { prefix: '', keyMarker: 'a', limit: 100 })), all.slice(3));
          assert.deepEqual(pairs(await s.listUploads(b.id, { prefix: '', startKey: 'a0', limit: 1 })), [['\u00e9', 'u5']]);
        }));

      it('completes with the current parts only, once; remembers the completion', () =>
        withStore(async (s) => {
          const b = await newBucket(s, 'Enabled');
          await s.createUpload(upload(b.id, 'u', 'obj'));
          const p1 = part(1, 'p1');
          const p2 = part(2, 'p2');
          const unused = part(3, 'p3');
          for (const p of [p1, p2, unused]) await s.putPart(b.id, 'u', p);
          const objectParts = [p1, p2].map((p, i) => ({ partNumber: p.partNumber, offset: i * p1.size, size: p.size, etag: p.etag, blobId: p.blobId }));
          const mp = content('abc-2', { inline: undefined, size: p1.size + p2.size, parts: objectParts });
          const completion = { uploadId: 'u', bucketId: b.id, key: 'obj', etag: 'abc-2', partsDigest: 'digest', completedAt: Date.now() };
          // A part that is not the upload's current part of that number.
          await rejectsStore(s.completeUpload(b.id, 'u', { ...mp, parts: [objectParts[0]!, { ...objectParts[1]!, blobId: blobId() }] }, completion), 'InvalidPart', { uploadId: 'u', partNumber: 2 });
          await rejectsStore(s.completeUpload(b.id, 'u', { ...mp, parts: [...objectParts, { ...objectParts[1]!, partNumber: 4 }] }, completion), 'InvalidPart', { partNumber: 4 });
          await rejectsStore(s.completeUpload(b.id, 'u', mp, completion, { ifNoneMatch: '*' }).then(() => s.completeUpload(b.id, 'u', mp, completion)), 'NoSuchUpload');
          const v = await s.getObject(b.id, 'obj');
          assert.equal(v?.etag, 'abc-2');
          assert.equal(v?.partsCount, 2);
          assert.deepEqual((await s.getObjectParts(v!.rowId)).map((p) => p.blobId), [p1.blobId, p2.blobId]);
          assert.equal(await s.getUpload(b.id, 'u'), undefined);
          assert.deepEqual(await s.listParts('u', 0, 10), []);
          const done = await s.getCompletedUpload(b.id, 'u');
          assert.deepEqual(done, { ...completion, versionId: v!.versionId });
          assert.equal(await s.getCompletedUpload(b.id, 'other'), undefined);
          // The part left out is garbage; the chosen ones belong to the object.
          const garbage = await s.takeGarbage(100);
          assert.ok(garbage.includes(unused.blobId));
          assert.ok(!garbage.includes(p1.blobId) && !garbage.includes(p2.blobId));
        }));

      it('checks write conditions at completion', () =>
        withStore(async (s) => {
          const b = await newBucket(s);
          await s.putObject(b.id, 'obj', content('existing'));
          await s.createUpload(upload(b.id, 'u', 'obj'));
          const p = part(1, 'p1');
          await s.putPart(b.id, 'u', p);
          const mp = content('m-1', { inline: undefined, size: p.size, parts: [{ partNumber: 1, offset: 0, size: p.size, etag: p.etag, blobId: p.blobId }] });
          const completion = { uploadId: 'u', bucketId: b.id, key: 'obj', etag: 'm-1', partsDigest: 'd', completedAt: Date.now() };
          await rejectsStore(s.completeUpload(b.id, 'u', mp, completion, { ifNoneMatch: '*' }), 'PreconditionFailed');
          assert.ok(await s.getUpload(b.id, 'u'), 'a refused completion leaves the upload');
          await s.completeUpload(b.id, 'u', mp, completion, { ifMatch: 'existing' });
          assert.equal((await s.getObject(b.id, 'obj'))?.etag, 'm-1');
        }));

      it('aborts uploads and releases their parts', () =>
        withStore(async (s) => {
          const b = await newBucket(s);
          await s.createUpload(upload(b.id, 'u', 'k'));
          const p = part(1, 'p1');
          await s.putPart(b.id, 'u', p);
          const replaced = part(2, 'p2');
          await s.putPart(b.id, 'u', replaced);
          await s.putPart(b.id, 'u', part(2, 'p2b'));
          assert.ok((await s.takeGarbage(100)).includes(replaced.blobId), 'a replaced part is garbage');
          await rejectsStore(s.abortUpload(b.id + 1000, 'u'), 'NoSuchUpload');
          await s.abortUpload(b.id, 'u');
          assert.equal(await s.getUpload(b.id, 'u'), undefined);
          assert.ok((await s.takeGarbage(100)).includes(p.blobId));
          await rejectsStore(s.abortUpload(b.id, 'u'), 'NoSuchUpload', { uploadId: 'u' });
          await rejectsStore(s.putPart(b.id, 'u', part(3, 'p3')), 'NoSuchUpload');
        }));
    });

    describe('blob garbage', () => {
      it('counts references: a blob shared by a copy is garbage only when the last reference goes', () =>
        withStore(async (s) => {
          const b = await newBucket(s);
          const id = blobId();
          await s.putObject(b.id, 'src', content('e', { inline: undefined, blobId: id, size: 100 }));
          assert.equal(await s.hasBlob(id), true);
          assert.equal(await s.hasBlob(blobId()), false);
          await s.putObject(b.id, 'copy', content('e', { inline: undefined, blobId: id, size: 100, sharedData: true }));
          // Copied onto itself: the blob must never reach zero references in between.
          await s.putObject(b.id, 'src', content('e', { inline: undefined, blobId: id, size: 100, sharedData: true }));
          await s.deleteObject(b.id, 'src', { now: 1 });
          assert.ok(!(await s.takeGarbage(100)).includes(id));
          await s.putObject(b.id, 'copy', content('inline'));
          assert.deepEqual(await s.takeGarbage(100), [id]);
          assert.equal(await s.hasBlob(id), true, 'garbage is known until forgotten');
          // Sharing released data fails: its file may be gone.
          await rejectsStore(s.putObject(b.id, 'late', content('e', { inline: undefined, blobId: id, size: 100, sharedData: true })), 'SourceGone');
          await rejectsStore(s.putObject(b.id, 'ghost', content('e', { inline: undefined, blobId: blobId(), size: 100, sharedData: true })), 'SourceGone');
          assert.equal(await s.getObject(b.id, 'late'), undefined);
          await s.forgetBlobs([id]);
          await s.forgetBlobs([]);
          assert.equal(await s.hasBlob(id), false);
          assert.deepEqual(await s.takeGarbage(100), []);
        }));

      it('forgets only blobs that are garbage, and a shared part of an upload', () =>
        withStore(async (s) => {
          const b = await newBucket(s);
          const live = blobId();
          await s.putObject(b.id, 'k', content('e', { inline: undefined, blobId: live, size: 100 }));
          await s.forgetBlobs([live]);
          assert.equal(await s.hasBlob(live), true, 'a referenced blob is never forgotten');
          // UploadPartCopy of a whole object shares its blob.
          await s.createUpload(upload(b.id, 'u', 'dst'));
          await s.putPart(b.id, 'u', { ...part(1, 'e'), blobId: live, shared: true });
          await s.deleteObject(b.id, 'k', { now: 1 });
          assert.deepEqual(await s.takeGarbage(100), []);
          await s.abortUpload(b.id, 'u');
          assert.deepEqual(await s.takeGarbage(100), [live]);
          const limited = [blobId(), blobId(), blobId()];
          for (const [i, id] of limited.entries()) await s.putObject(b.id, `x${i}`, content('e', { inline: undefined, blobId: id, size: 1 }));
          for (let i = 0; i < 3; i++) await s.deleteObject(b.id, `x${i}`, { now: 1 });
          assert.equal((await s.takeGarbage(2)).length, 2);
        }));
    });

    describe('blob garbage grace and leases', () => {
      it('hands out garbage only once released before the given time', () =>
        withStore(async (s) => {
          const b = await newBucket(s);
          const id = blobId();
          await s.putObject(b.id, 'k', content('e', { inline: undefined, blobId: id, size: 100 }));
          const before = Date.now();
          await s.deleteObject(b.id, 'k', { now: 1 });
          // The store's clock may be another machine's (PostgreSQL): a minute either way.
          assert.deepEqual(await s.takeGarbage(100, before - 60_000), [], 'released after the cut-off');
          assert.deepEqual(await s.takeGarbage(100, Date.now() + 60_000), [id]);
          assert.deepEqual(await s.takeGarbage(100), [id], 'without a cut-off: all garbage');
        }));

      it('gives a lease to one holder at a time until it expires or is given up', () =>
        withStore(async (s) => {
          assert.equal(await s.tryLease('job', 'a', 60_000), true);
          assert.equal(await s.tryLease('job', 'b', 60_000), false);
          assert.equal(await s.tryLease('job', 'a', 60_000), true, 'its holder renews it');
          assert.equal(await s.tryLease('other', 'b', 60_000), true, 'leases are per job');
          await s.releaseLease('job', 'b');
          assert.equal(await s.tryLease('job', 'b', 60_000), false, 'only the holder gives a lease up');
          await s.releaseLease('job', 'a');
          assert.equal(await s.tryLease('job', 'b', 1), true, 'given up: taken at once');
          await new Promise((r) => setTimeout(r, 20));
          assert.equal(await s.tryLease('job', 'a', 60_000), true, 'expired: taken over');
          await s.releaseLease('job', 'a');
          const wins = await Promise.all(['x', 'y', 'z', 'w'].map((h) => s.tryLease('job', h, 60_000)));
          assert.equal(wins.filter(Boolean).length, 1, 'of racing takers one wins');
        }));
    });

    describe('work queue', () => {
      const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

      it('enqueues, claims due items of the asked kinds oldest first, completes them', () =>
        withStore(async (s) => {
          const ids = await s.enqueueWork([
            { kind: 'a', payload: { n: 1, key: 'k\u00e9' } },
            { kind: 'b', payload: [2] },
            { kind: 'a', payload: 'three', orderKey: '7/k' },
            { kind: 'a', payload: null, notBefore: Date.now() + 3_600_000 },
          ]);
          assert.equal(ids.length, 4);
          assert.equal(new Set(ids).size, 4);
          const got = await s.claimWork(['a'], 'h1', 10, 60_000);
          assert.deepEqual(got.map((w) => w.payload), [{ n: 1, key: 'k\u00e9' }, 'three'], 'due items of kind a only, in order; the future one waits');
          assert.deepEqual(got.map((w) => w.id), [ids[0], ids[2]]);
          assert.equal(got[0]!.kind, 'a');
          assert.equal(got[0]!.attempts, 1);
          assert.equal(got[1]!.orderKey, '7/k');
          assert.equal(got[0]!.orderKey, undefined);
          assert.deepEqual(await s.claimWork(['a'], 'h2', 10, 60_000), [], 'claimed items are not handed out again');
          const b = await s.claimWork(['a', 'b'], 'h2', 10, 60_000);
          assert.deepEqual(b.map((w) => w.payload), [[2]]);
          await s.completeWork([got[0]!.id, got[1]!.id, b[0]!.id]);
          const st = await s.workStats();
          assert.equal(st.depth, 1, 'the scheduled item remains');
          assert.deepEqual(st.kinds.map((k) => [k.kind, k.depth, k.due]), [['a', 1, 0]]);
          assert.equal(await s.claimWork([], 'h', 10, 1000).then((l) => l.length), 0);
        }));

      it('items with one ordering key are claimed one at a time, in order, even while the first waits for a retry', () =>
        withStore(async (s) => {
          const ids = await s.enqueueWork([
            { kind: 'o', payload: 1, orderKey: 'k1' },
            { kind: 'o', payload: 2, orderKey: 'k1' },
            { kind: 'o', payload: 3, orderKey: 'k2' },
            { kind: 'o', payload: 4 },
            { kind: 'o', payload: 5, orderKey: 'k1' },
          ]);
          const first = await s.claimWork(['o'], 'h', 10, 60_000);
          assert.deepEqual(first.map((w) => w.payload), [1, 3, 4], 'the head of each key, and unkeyed items');
          assert.deepEqual(await s.claimWork(['o'], 'h2', 10, 60_000), [], 'later items of a key wait while its head is claimed');
          await s.retryWork(ids[0]!, 'target down', Date.now() + 3_600_000);
          assert.deepEqual(await s.claimWork(['o'], 'h2', 10, 60_000), [], '… and while it waits for its retry');
          await s.retryWork(ids[0]!, 'target down', 0);
          const again = await s.claimWork(['o'], 'h2', 10, 60_000);
          assert.deepEqual(again.map((w) => w.payload), [1]);
          await s.completeWork([ids[0]!]);
          assert.deepEqual((await s.claimWork(['o'], 'h2', 10, 60_000)).map((w) => w.payload), [2], 'then the next of the key');
          await s.completeWork([ids[1]!]);
          assert.deepEqual((await s.claimWork(['o'], 'h2', 10, 60_000)).map((w) => w.payload), [5]);
        }));

      it('an expired claim is due again (a crashed worker), a renewed one is not; attempts count', () =>
        withStore(async (s) => {
          const [id] = await s.enqueueWork([{ kind: 'k', payload: 1 }]);
          // Leases long enough for a loaded machine's slow commits, short enough to wait out.
          const [first] = await s.claimWork(['k'], 'dead', 5, 500);
          assert.equal(first!.id, id);
          assert.deepEqual(await s.claimWork(['k'], 'other', 5, 60_000), []);
          await sleep(600);
          assert.deepEqual(await s.renewWork([id!], 'other', 60_000), [], 'only the holder renews');
          const [again] = await s.claimWork(['k'], 'other', 5, 1000);
          assert.equal(again?.id, id, 'expired: claimed by another');
          assert.equal(again!.attempts, 2);
          await sleep(50);
          assert.deepEqual(await s.renewWork([id!], 'other', 60_000), [id], 'the holder renews before expiry');
          await sleep(1100);
          assert.deepEqual(await s.claimWork(['k'], 'third', 5, 60_000), [], 'renewed: still held');
          const st = await s.workStats();
          assert.equal(st.kinds[0]!.running, 1);
          assert.equal(st.kinds[0]!.maxAttempts, 2);
        }));

      it('retries later with the error recorded; stats show depth, lag and failures by kind', () =>
        withStore(async (s) => {
          await s.enqueueWork([{ kind: 'x', payload: 1 }, { kind: 'y', payload: 2 }, { kind: 'y', payload: 3 }]);
          const [x] = await s.claimWork(['x'], 'h', 1, 60_000);
          await s.retryWork(x!.id, 'remote said 503', Date.now() + 3_600_000);
          assert.deepEqual(await s.claimWork(['x'], 'h', 1, 60_000), [], 'not before its retry time');
          await sleep(30);
          let st = await s.workStats();
          assert.equal(st.depth, 3);
          assert.equal(st.failing, 1);
          const [sx, sy] = st.kinds;
          assert.deepEqual([sx!.kind, sx!.depth, sx!.due, sx!.failing, sx!.running], ['x', 1, 0, 1, 0]);
          assert.deepEqual([sy!.kind, sy!.depth, sy!.due, sy!.failing], ['y', 2, 2, 0]);
          assert.ok(sy!.lagMs >= 20 && sy!.lagMs < 60_000, `lag ${sy!.lagMs}`);
          assert.equal(st.lagMs, sy!.lagMs);
          await s.retryWork(x!.id, 'again', 0);
          const [x2] = await s.claimWork(['x'], 'h', 1, 60_000);
          assert.equal(x2!.lastError, 'again');
          assert.equal(x2!.attempts, 2);
          await s.completeWork([x2!.id]);
          st = await s.workStats();
          assert.equal(st.failing, 0);
          assert.deepEqual(st.kinds.map((k) => k.kind), ['y']);
        }));

      it('records one queued item per dedupe key; once it is done another may be recorded', () =>
        withStore(async (s) => {
          const [first] = await s.enqueueWork([{ kind: 'd', payload: 1, dedupeKey: 'pass:1' }]);
          const again = await s.enqueueWork([{ kind: 'd', payload: 2, dedupeKey: 'pass:1' }, { kind: 'd', payload: 3, dedupeKey: 'pass:2' }, { kind: 'd', payload: 4 }]);
          assert.equal(again[0], first, 'the queued item answers');
          assert.equal(new Set(again).size, 3);
          const racing = await Promise.all(Array.from({ length: 6 }, (_, i) => s.enqueueWork([{ kind: 'd', payload: 10 + i, dedupeKey: 'pass:3' }])));
          assert.equal(new Set(racing.flat()).size, 1, 'of racing recorders one item is recorded');
          const items = await s.claimWork(['d'], 'h', 100, 60_000);
          assert.equal(items.length, 4);
          assert.deepEqual(items.slice(0, 3).map((w) => [w.payload, w.dedupeKey]), [[1, 'pass:1'], [3, 'pass:2'], [4, undefined]]);
          assert.deepEqual(await s.enqueueWork([{ kind: 'd', payload: 5, dedupeKey: 'pass:1' }]), [first], 'claimed still counts as queued');
          await s.completeWork([first!]);
          const [next] = await s.enqueueWork([{ kind: 'd', payload: 6, dedupeKey: 'pass:1' }]);
          assert.notEqual(next, first, 'done: a new one is recorded');
        }));

      it('of racing claimers each item goes to exactly one', () =>
        withStore(async (s) => {
          const ids = await s.enqueueWork(Array.from({ length: 60 }, (_, i) => ({ kind: 'r', payload: i })));
          const claims = await Promise.all(Array.from({ length: 8 }, (_, i) => s.claimWork(['r'], `h${i}`, 10, 60_000)));
          const got = claims.flat().map((w) => w.id);
          assert.equal(got.length, 60, 'every item claimed');
          assert.equal(new Set(got).size, 60, 'none twice');
          assert.deepEqual([...got].sort((a, b) => a - b), [...ids].sort((a, b) => a - b));
        }));

      it('object writes record their work in the same transaction, and not when they fail', () =>
        withStore(async (s) => {
          const b = await newBucket(s);
          const v = await newBucket(s, 'Enabled');
          await s.putObject(b.id, 'k', content('e1'), undefined, { work: [{ kind: 'w', payload: 'put' }] });
          await rejectsStore(s.putObject(b.id, 'k', content('e2'), { ifNoneMatch: '*' }, { work: [{ kind: 'w', payload: 'refused' }] }), 'PreconditionFailed');
          // A function of the effect: the overwritten null version is handed over.
          await s.putObject(b.id, 'k', content('e3'), undefined, {
            work: (e) => [{ kind: 'w', payload: { put: e.versionId, removed: e.removed.map((r) => [r.versionId, r.etag]) } }],
          });
          await s.updateObject(b.id, 'k', undefined, { tags: [['t', '1']] }, undefined, { work: [{ kind: 'w', payload: 'tagged' }] });
          const put = await s.putObject(v.id, 'k', content('v1'));
          await s.deleteObject(v.id, 'k', { now: 5, work: (e) => [{ kind: 'w', payload: { marker: e.versionId, removed: e.removed.length } }] });
          await s.deleteObject(v.id, 'k', {
            now: 6,
            versionId: put.versionId,
            work: (e) => [{ kind: 'w', payload: { removed: e.removed.map((r) => r.versionId) } }],
          });
          await s.createUpload({ uploadId: 'u1', bucketId: b.id, key: 'mp', initiated: 1, owner: 'owner-1', storageClass: 'STANDARD', headers: {}, userMeta: {} });
          await s.abortUpload(b.id, 'u1', { work: [{ kind: 'w', payload: 'aborted' }] });
          await s.createUpload({ uploadId: 'u2', bucketId: b.id, key: 'mp', initiated: 1, owner: 'owner-1', storageClass: 'STANDARD', headers: {}, userMeta: {} });
          const part = blobId();
          await s.putPart(b.id, 'u2', { partNumber: 1, size: 5, etag: 'p1', lastModified: 1, blobId: part });
          const parts = [{ partNumber: 1, offset: 0, size: 5, etag: 'p1', blobId: part }];
          await s.completeUpload(b.id, 'u2', content('m-1', { inline: undefined, size: 5, parts }), { uploadId: 'u2', bucketId: b.id, key: 'mp', etag: 'm-1', partsDigest: 'd', completedAt: Date.now() }, undefined, {
            work: (e) => [{ kind: 'w', payload: { completed: e.versionId } }],
          });
          const items = await s.claimWork(['w'], 'h', 100, 60_000);
          const marker = (items[3]!.payload as { marker: string }).marker;
          assert.ok(marker && marker !== 'null');
          assert.deepEqual(items.map((w) => w.payload), [
            'put',
            { put: 'null', removed: [['null', 'e1']] },
            'tagged',
            { marker, removed: 0 },
            { removed: [put.versionId] },
            'aborted',
            { completed: 'null' },
          ]);
        }));
    });

    describe('tiering', () => {
      it('moves a version to a tier only while it is the same row, releases its blobs, counts a restored copy, records tier.delete when it goes', () =>
        withStore(async (s) => {
          const b = await newBucket(s);
          const single = blobId();
          await s.putObject(b.id, 'one', content('e1', { inline: undefined, blobId: single, size: 100 }));
          const p1 = blobId();
          const p2 = blobId();
          const parts = [
            { partNumber: 1, offset: 0, size: 5, etag: 'p1', blobId: p1 },
            { partNumber: 2, offset: 5, size: 3, etag: 'p2', blobId: p2 },
          ];
          await s.putObject(b.id, 'mp', content('m-2', { inline: undefined, size: 8, parts }));
          const one = (await s.getObject(b.id, 'one'))!;
          const mp = (await s.getObject(b.id, 'mp'))!;
          const state = (key: string): TierState => ({ tier: 't', key, size: 100, sha256: 'x', archive: true });
          // Another row (the null version was overwritten since it was read): no change.
          assert.equal(await s.updateTier(b.id, 'one', 'null', one.rowId + 1000, () => ({ tier: state('r0') })), undefined);
          const moved = await s.updateTier(b.id, 'one', 'null', one.rowId, (cur) => {
            assert.equal(cur.blobId, single);
            return { tier: state('r1'), storageClass: 'GLACIER' };
          });
          assert.deepEqual(moved?.tier, state('r1'));
          assert.equal(moved?.blobId, undefined);
          await s.updateTier(b.id, 'mp', 'null', mp.rowId, () => ({ tier: state('r2'), storageClass: 'GLACIER' }));
          assert.deepEqual((await s.takeGarbage(100)).sort(), [single, p1, p2].sort());
          const read = (await s.getObject(b.id, 'one'))!;
          assert.equal(read.storageClass, 'GLACIER');
          assert.deepEqual(read.tier, state('r1'));
          // The parts keep their offsets (ranges, partNumber reads).
          assert.deepEqual((await s.getObjectParts(mp.rowId)).map((p) => [p.offset, p.size]), [[0, 5], [5, 3]]);
          assert.equal((await s.listObjects(b.id, { prefix: '', limit: 10 }))[0]!.storageClass, 'GLACIER');
          // A restored copy is a fresh blob with one reference; dropping it releases it.
          const restoredBlob = blobId();
          await s.updateTier(b.id, 'one', 'null', one.rowId, (cur) => ({ tier: { ...cur.tier!, restore: { ongoing: false, days: 1, expiry: 5, blob: restoredBlob } }, work: [{ kind: 'restore.expire', payload: 'one', notBefore: 5 }] }));
          assert.equal(await s.hasBlob(restoredBlob), true);
          assert.ok(!(await s.takeGarbage(100)).includes(restoredBlob));
          // Deleting the versions: the restored copy is released (the parts were already), and
          // each remote copy gets a tier.delete item, recorded with the delete.
          await s.deleteObject(b.id, 'one', { now: 1 });
          await s.deleteObject(b.id, 'mp', { now: 1 });
          assert.ok((await s.takeGarbage(100)).includes(restoredBlob));
          const items = await s.claimWork(['tier.delete', 'restore.expire'], 'h', 10, 60_000);
          assert.deepEqual(items.map((w) => [w.kind, w.payload]).sort(), [
            ['restore.expire', 'one'],
            ['tier.delete', { tier: 't', key: 'r1' }],
            ['tier.delete', { tier: 't', key: 'r2' }],
          ]);
        }));
    });

    describe('usage reports', () => {
      it('adds request counters into hourly rows, snapshots storage by class (tier moves included), filters and prunes', () =>
        withStore(async (s) => {
          const H = 1_700_000_000_000 - (1_700_000_000_000 % 3_600_000);
          const row = (hour: number, bucket: string, principal: string, opClass: string, n: number) => ({ hour, account: 'owner-1', bucket, principal, opClass, requests: n, errors4xx: 1, errors5xx: 0, bytesIn: 10 * n, bytesOut: 100 * n });
          await s.addUsageRequests([row(H, 'b', 'u1', 'A', 2), row(H, 'b', 'u2', 'B', 1)]);
          // A second process's flush adds to the same rows.
          await s.addUsageRequests([row(H, 'b', 'u1', 'A', 3), row(H + 3_600_000, 'b', 'u1', 'A', 1)]);
          const all = await s.listUsage({ from: H, to: H + 7_200_000 });
          assert.deepEqual(all.requests.map((r) => [r.hour, r.principal, r.opClass, r.requests, r.errors4xx, r.bytesIn, r.bytesOut]), [
            [H, 'u1', 'A', 5, 2, 50, 500],
            [H, 'u2', 'B', 1, 1, 10, 100],
            [H + 3_600_000, 'u1', 'A', 1, 1, 10, 100],
          ]);
          assert.deepEqual((await s.listUsage({ from: H, to: H + 3_600_000, principal: 'u2' })).requests.map((r) => r.principal), ['u2']);
          assert.deepEqual((await s.listUsage({ from: H, to: H + 7_200_000, bucket: 'other' })).requests, []);

          const b = await newBucket(s);
          await s.putObject(b.id, 'std', content('e1', { size: 5, inline: Buffer.alloc(5) }));
          await s.putObject(b.id, 'ia', content('e2', { size: 7, inline: Buffer.alloc(7), storageClass: 'STANDARD_IA' }));
          // An overwrite replaces the version (and its bytes) in its class.
          await s.putObject(b.id, 'ia', content('e3', { size: 11, inline: Buffer.alloc(11), storageClass: 'STANDARD_IA' }));
          await s.putObject(b.id, 'cold', content('e4', { size: 13, inline: Buffer.alloc(13) }));
          await s.putObject(b.id, 'gone', content('e6', { size: 17, inline: Buffer.alloc(17), storageClass: 'STANDARD_IA' }));
          await s.deleteObject(b.id, 'gone', { now: 2 });
          // A transition relabels the version: its bytes move from STANDARD to GLACIER.
          const cold = (await s.getObject(b.id, 'cold'))!;
          await s.updateTier(b.id, 'cold', 'null', cold.rowId, () => ({ storageClass: 'GLACIER' }));
          assert.equal(await s.snapshotUsageStorage(H), 3);
          const classes = (await s.listUsage({ from: H, to: H + 3_600_000, bucket: b.name })).storage.map((r) => [r.account, r.storageClass, r.bytes, r.objects]);
          assert.deepEqual(classes, [
            ['owner-1', 'GLACIER', 13, 1],
            ['owner-1', 'STANDARD', 5, 1],
            ['owner-1', 'STANDARD_IA', 11, 1],
          ]);
          // The hour's first snapshot stays.
          await s.putObject(b.id, 'more', content('e5', { size: 1, inline: Buffer.alloc(1) }));
          assert.equal(await s.snapshotUsageStorage(H), 0);
          assert.equal(await s.snapshotUsageStorage(H + 3_600_000), 3);
          assert.deepEqual((await s.listUsage({ from: H + 3_600_000, to: H + 7_200_000, bucket: b.name })).storage.find((r) => r.storageClass === 'STANDARD')?.bytes, 6);
          // Rows of hours before H + 1 h go.
          assert.equal(await s.pruneUsage(H + 3_600_000), 2 + 3);
          const left = await s.listUsage({ from: 0, to: H + 7_200_000 });
          assert.deepEqual([left.requests.length, left.storage.filter((r) => r.bucket === b.name).length], [1, 3]);
          // A deleted bucket's class counters go with it.
          for (const k of ['ia', 'cold', 'more', 'std']) await s.deleteObject(b.id, k, { now: 3 });
          await s.deleteBucket(b.id);
          assert.equal(await s.snapshotUsageStorage(H + 7_200_000), 0);
        }));
    });

    describe('IAM', () => {
      const entity = (name: string, id: string, path = '/'): IamEntity => ({ accountId: ACCT, id, name, path, createdAt: 1 });

      it('users: unique names whatever their case, renames, pagination, path prefixes', () =>
        withStore(async (s) => {
          await s.iam.createUser(entity('Bob', 'AIDACONF000000000001'));
          await rejectsIam(s.iam.createUser(entity('bob', 'AIDACONF000000000002')), 'EntityAlreadyExists');
          await s.iam.createUser({ ...entity('bob', 'AIDACONF000000000003'), accountId: '999988887777' });
          assert.equal((await s.iam.getUser(ACCT, 'BOB'))?.id, 'AIDACONF000000000001');
          assert.deepEqual(await s.iam.getUserById('AIDACONF000000000001'), entity('Bob', 'AIDACONF000000000001'));
          await s.iam.createUser(entity('alice', 'AIDACONF000000000004', '/eng/'));
          await s.iam.createUser(entity('Carol', 'AIDACONF000000000005', '/eng/ops/'));
          await rejectsIam(s.iam.updateUser('AIDACONF000000000004', { name: 'BOB' }), 'EntityAlreadyExists');
          await s.iam.updateUser('AIDACONF000000000004', { name: 'dave' });
          assert.equal(await s.iam.getUser(ACCT, 'alice'), undefined);
          assert.equal((await s.iam.getUser(ACCT, 'dave'))?.path, '/eng/');
          const names = (l: IamEntity[]) => l.map((u) => u.name);
          assert.deepEqual(names(await s.iam.listUsers(ACCT, { limit: 10 })), ['Bob', 'Carol', 'dave']);
          assert.deepEqual(names(await s.iam.listUsers(ACCT, { limit: 1 })), ['Bob']);
          assert.deepEqual(names(await s.iam.listUsers(ACCT, { after: 'Bob', limit: 1 })), ['Carol']);
          assert.deepEqual(names(await s.iam.listUsers(ACCT, { pathPrefix: '/eng/', limit: 10 })), ['Carol', 'dave']);
          assert.deepEqual(names(await s.iam.listUsers(ACCT, { pathPrefix: '/eng/ops/', limit: 10 })), ['Carol']);
          await rejectsIam(s.iam.createUser(entity('eve', 'AIDACONF000000000006'), 3), 'LimitExceeded');
          await s.iam.deleteUser('AIDACONF000000000005');
          assert.equal(await s.iam.getUserById('AIDACONF000000000005'), undefined);
        }));

      it('groups, memberships, and the conflicts they make', () =>
        withStore(async (s) => {
          const u = entity('u', 'AIDACONF000000000011');
          const g = entity('g', 'AGPACONF000000000011');
          await s.iam.createUser(u);
          await s.iam.createGroup(g);
          await rejectsIam(s.iam.createGroup(entity('G', 'AGPACONF000000000012')), 'EntityAlreadyExists');
          await s.iam.addUserToGroup(g.id, u.id, 10);
          await s.iam.addUserToGroup(g.id, u.id, 10);
          assert.deepEqual((await s.iam.listGroupMembers(g.id, { limit: 10 })).map((x) => x.id), [u.id]);
          assert.deepEqual((await s.iam.listGroupsOfUser(u.id, { limit: 10 })).map((x) => x.id), [g.id]);
          await rejectsIam(s.iam.deleteUser(u.id), 'DeleteConflict');
          await rejectsIam(s.iam.deleteGroup(g.id), 'DeleteConflict');
          await s.iam.createGroup(entity('h', 'AGPACONF000000000013'));
          await rejectsIam(s.iam.addUserToGroup('AGPACONF000000000013', u.id, 1), 'LimitExceeded');
          await s.iam.removeUserFromGroup(g.id, u.id);
          await rejectsIam(s.iam.removeUserFromGroup(g.id, u.id), 'NoSuchEntity');
          await s.iam.updateGroup(g.id, { name: 'renamed', path: '/x/' });
          assert.equal((await s.iam.getGroup(ACCT, 'RENAMED'))?.path, '/x/');
          await s.iam.deleteGroup(g.id);
          await s.iam.deleteUser(u.id);
          assert.deepEqual(await s.iam.listGroups(ACCT, { limit: 10 }), [entity('h', 'AGPACONF000000000013')]);
        }));

      it('roles', () =>
        withStore(async (s) => {
          const r = { ...entity('Deployer', 'AROACONF000000000001'), assumeRolePolicy: '{"trust":1}', maxSessionDuration: 3600 };
          await s.iam.createRole(r);
          await rejectsIam(s.iam.createRole({ ...r, id: 'AROACONF000000000002', name: 'deployer' }), 'EntityAlreadyExists');
          assert.deepEqual(await s.iam.getRole(ACCT, 'deployer'), r);
          await s.iam.updateRole(r.id, { description: 'ships', maxSessionDuration: 7200, assumeRolePolicy: '{"trust":2}' });
          const got = await s.iam.getRoleById(r.id);
          assert.deepEqual([got?.description, got?.maxSessionDuration, got?.assumeRolePolicy], ['ships', 7200, '{"trust":2}']);
          await s.iam.putInlinePolicy({ kind: 'role', id: r.id }, 'inline', '{}');
          await rejectsIam(s.iam.deleteRole(r.id), 'DeleteConflict');
          await s.iam.deleteInlinePolicy(r.id, 'inline');
          await s.iam.deleteRole(r.id);
          assert.deepEqual(await s.iam.listRoles(ACCT, { limit: 10 }), []);
        }));

      it('inline policies', () =>
        withStore(async (s) => {
          const u = entity('u', 'AIDACONF000000000021');
          await s.iam.createUser(u);
          const ref = { kind: 'user' as const, id: u.id };
          await s.iam.putInlinePolicy(ref, 'b', '{"v":1}');
          await s.iam.putInlinePolicy(ref, 'a', '{"v":2}');
          await s.iam.putInlinePolicy(ref, 'b', '{"v":3}');
          assert.equal(await s.iam.getInlinePolicy(u.id, 'b'), '{"v":3}');
          assert.equal(await s.iam.getInlinePolicy(u.id, 'c'), undefined);
          assert.deepEqual(await s.iam.listInlinePolicies(u.id, { limit: 10 }), [{ name: 'a', document: '{"v":2}' }, { name: 'b', document: '{"v":3}' }]);
          assert.deepEqual((await s.iam.listInlinePolicies(u.id, { after: 'a', limit: 10 })).map((p) => p.name), ['b']);
          await rejectsIam(s.iam.deleteUser(u.id), 'DeleteConflict');
          await s.iam.deleteInlinePolicy(u.id, 'a');
          await rejectsIam(s.iam.deleteInlinePolicy(u.id, 'a'), 'NoSuchEntity');
          assert.deepEqual(await s.iam.identityPolicyDocuments(u.id, () => undefined), ['{"v":3}']);
        }));

      it('managed policies: versions, default, attachments and their conflicts', () =>
        withStore(async (s) => {
          const u = entity('u', 'AIDACONF000000000031');
          const g = entity('g', 'AGPACONF000000000031');
          await s.iam.createUser(u);
          await s.iam.createGroup(g);
          await s.iam.addUserToGroup(g.id, u.id, 10);
          const p = await s.iam.createPolicy({ ...entity('ReadAll', 'ANPACONF000000000031'), description: 'reads' }, '{"v":1}');
          assert.equal(p.defaultVersionId, 'v1');
          assert.equal(p.attachmentCount, 0);
          await rejectsIam(s.iam.createPolicy(entity('readall', 'ANPACONF000000000032'), '{}'), 'EntityAlreadyExists');
          const v2 = await s.iam.createPolicyVersion(p.id, '{"v":2}', false, 2, 5);
          assert.deepEqual([v2.versionId, v2.isDefault], ['v2', false]);
          const v3 = await s.iam.createPolicyVersion(p.id, '{"v":3}', true, 3, 5);
          assert.deepEqual([v3.versionId, v3.isDefault], ['v3', true]);
          assert.equal(await s.iam.defaultPolicyDocument(p.id), '{"v":3}');
          assert.deepEqual((await s.iam.listPolicyVersions(p.id)).map((v) => [v.versionId, v.isDefault]), [['v1', false], ['v2', false], ['v3', true]]);
          await rejectsIam(s.iam.createPolicyVersion(p.id, '{}', false, 4, 3), 'LimitExceeded');
          await rejectsIam(s.iam.deletePolicyVersion(p.id, 'v3'), 'DeleteConflict');
          await rejectsIam(s.iam.deletePolicyVersion(p.id, 'v9'), 'NoSuchEntity');
          await rejectsIam(s.iam.setDefaultPolicyVersion(p.id, 'v9', 5), 'NoSuchEntity');
          await s.iam.setDefaultPolicyVersion(p.id, 'v1', 5);
          assert.equal((await s.iam.getPolicyVersion(p.id, 'v1'))?.isDefault, true);
          await s.iam.deletePolicyVersion(p.id, 'v2');
          assert.equal(await s.iam.getPolicyVersion(p.id, 'v2'), undefined);
          // A version never reuses a number.
          assert.equal((await s.iam.createPolicyVersion(p.id, '{"v":4}', false, 6, 5)).versionId, 'v4');

          await s.iam.attachPolicy({ kind: 'group', id: g.id }, p.id, 10);
          await s.iam.attachPolicy({ kind: 'group', id: g.id }, p.id, 10);
          await s.iam.attachPolicy({ kind: 'user', id: u.id }, 'arn:aws:iam::aws:policy/ReadOnlyAccess', 10, true);
          assert.equal((await s.iam.getPolicy(ACCT, 'READALL'))?.attachmentCount, 1);
          assert.equal(await s.iam.countPolicyAttachments(p.id, ACCT), 1);
          assert.deepEqual((await s.iam.listAttachedPolicies(g.id, { limit: 10 })).map((x) => x.name), ['ReadAll']);
          assert.deepEqual(await s.iam.attachedPolicyIds(u.id), ['arn:aws:iam::aws:policy/ReadOnlyAccess']);
          assert.deepEqual((await s.iam.listPolicies(ACCT, { limit: 10, onlyAttached: true })).map((x) => x.name), ['ReadAll']);
          await rejectsIam(s.iam.deletePolicy(p.id), 'DeleteConflict');
          // A user's documents: its own, and its groups'; AWS managed ones through the resolver.
          const docs = await s.iam.identityPolicyDocuments(u.id, (id) => (id.startsWith('arn:aws:iam::aws:') ? '{"aws":1}' : undefined));
          assert.deepEqual([...docs].sort(), ['{"aws":1}', '{"v":1}']);
          await s.iam.detachPolicy(g.id, p.id);
          await rejectsIam(s.iam.detachPolicy(g.id, p.id), 'NoSuchEntity');
          await rejectsIam(s.iam.deletePolicy(p.id), 'DeleteConflict');
          await s.iam.deletePolicyVersion(p.id, 'v3');
          await s.iam.deletePolicyVersion(p.id, 'v4');
          await s.iam.deletePolicy(p.id);
          assert.equal(await s.iam.getPolicy(ACCT, 'ReadAll'), undefined);
        }));

      it('access keys of root users and IAM users, with limits and pagination', () =>
        withStore(async (s) => {
          const u = entity('u', 'AIDACONF000000000041');
          await s.iam.createUser(u);
          const key = (id: string, iamUserId?: string) => ({ accessKeyId: id, secretAccessKey: 's', userId: 'r'.repeat(64), createdAt: 1, ...(iamUserId ? { iamUserId } : {}) });
          await s.iam.createAccessKey(key('AKIAB', u.id), 2);
          await s.iam.createAccessKey(key('AKIAA', u.id), 2);
          await rejectsIam(s.iam.createAccessKey(key('AKIAC', u.id), 2), 'LimitExceeded');
          await s.iam.createAccessKey(key('AKIAROOT'), 2);
          assert.deepEqual((await s.iam.listAccessKeys({ iamUserId: u.id }, { limit: 10 })).map((k) => k.accessKeyId), ['AKIAA', 'AKIAB']);
          assert.deepEqual((await s.iam.listAccessKeys({ iamUserId: u.id }, { after: 'AKIAA', limit: 10 })).map((k) => k.accessKeyId), ['AKIAB']);
          assert.deepEqual((await s.iam.listAccessKeys({ root: 'r'.repeat(64) }, { limit: 10 })).map((k) => k.accessKeyId), ['AKIAROOT']);
          await rejectsIam(s.iam.deleteUser(u.id), 'DeleteConflict');
          await s.iam.setAccessKeyStatus('AKIAA', 'Inactive');
          assert.equal((await s.getAccessKey('AKIAA'))?.status, 'Inactive');
          await s.iam.recordAccessKeyUse('AKIAA', { at: 99, service: 's3', region: 'us-east-1' });
          assert.deepEqual((await s.getAccessKey('AKIAA'))?.lastUsed, { at: 99, service: 's3', region: 'us-east-1' });
          await s.iam.deleteAccessKey('AKIAA');
          await s.iam.deleteAccessKey('AKIAB');
          assert.equal(await s.getAccessKey('AKIAA'), undefined);
          await s.iam.deleteUser(u.id);
          const summary = await s.iam.accountSummary(ACCT, 'r'.repeat(64));
          assert.deepEqual([summary.users, summary.rootAccessKeys], [0, 1]);
        }));
    });
  });

  function upload(bucketId: number, uploadId: string, key: string): Upload {
    return { uploadId, bucketId, key, initiated: 1_700_000_000_000, owner: 'owner-1', storageClass: 'STANDARD', headers: {}, userMeta: {} };
  }

  function part(partNumber: number, etag: string) {
    return { partNumber, size: 5 * 1024 * 1024, etag, lastModified: 1_700_000_000_000 + partNumber, blobId: blobId() };
  }
}
