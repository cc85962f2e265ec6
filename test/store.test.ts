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
import { SqliteMetaStore } from '../src/store/meta/sqlite.js';
import type { Bucket, ObjectContent } from '../src/store/meta/types.js';
import { S3Error } from '../src/s3/errors.js';
import { tempDir } from './helpers.js';

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
  await assert.rejects(p, (e: unknown) => e instanceof S3Error && e.code === code);
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
    await rejectsWith(meta.putObject(bucket.id, 'late-copy', content('x2', { inline: undefined, blobId: id2, size: 10, sharedData: true })), 'NoSuchKey');
    // Nor can a copy reference a blob that was never written.
    await rejectsWith(meta.putObject(bucket.id, 'ghost-copy', content('x3', { inline: undefined, blobId: 'c'.repeat(32), size: 10, sharedData: true })), 'NoSuchKey');
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

  it('clears temp files at open and sweeps old unreferenced blobs', async () => {
    fs.writeFileSync(path.join(blobs.tmpDir, 'e'.repeat(32)), 'torn');
    const w = await blobs.create();
    await w.write(Buffer.from('orphan'));
    await w.commit();
    const old = new Date(Date.now() - 2 * 3600 * 1000);
    fs.utimesSync(blobs.pathOf(w.id), old, old);
    const keep = await blobs.create();
    await keep.write(Buffer.from('kept'));
    await keep.commit();
    fs.utimesSync(blobs.pathOf(keep.id), old, old);
    const reopened = await FsBlobStore.open({ root: dir, fsync: true });
    assert.equal(fs.existsSync(path.join(blobs.tmpDir, 'e'.repeat(32))), false);
    const removed = await reopened.sweepOrphans(async (id) => id === keep.id, Date.now() - 3600 * 1000);
    assert.equal(removed, 1);
    assert.equal(fs.existsSync(blobs.pathOf(w.id)), false);
    assert.equal(fs.existsSync(blobs.pathOf(keep.id)), true);
  });
});
