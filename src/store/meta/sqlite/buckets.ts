// Buckets: create, look up (cached), list, delete, versioning and object-lock state, and their
// configuration documents.

import { StoreError } from '../../errors.js';
import { prefixSuccessor } from '../../keys.js';
import type { Bucket, BucketConfigKind, VersioningState } from '../types.js';
import type { Ctx } from './context.js';
import { toBucket, type BucketRow } from './rows.js';
import { dropUpload } from './uploads.js';

/** The bucket's row, read inside a write (NoSuchBucket when it is gone). */
export function bucketState(c: Ctx, bucketId: number): BucketRow {
  const b = c.stmt.getBucketById.get(bucketId) as BucketRow | undefined;
  if (!b) throw new StoreError('NoSuchBucket');
  return b;
}

export function createBucket(c: Ctx, b: Omit<Bucket, 'id'>): Promise<Bucket> {
  return c.commit.write(() => {
    const existing = c.stmt.getBucket.get(b.name) as BucketRow | undefined;
    if (existing) throw new StoreError(existing.owner === b.owner ? 'BucketAlreadyOwnedByYou' : 'BucketAlreadyExists', { bucket: b.name });
    const info = c.stmt.insertBucket.run(b.name, b.owner, b.createdAt, b.region, b.versioning, b.objectLock ? 1 : 0);
    return { ...b, id: Number(info.lastInsertRowid) };
  });
}

export async function getBucket(c: Ctx, name: string): Promise<Bucket | undefined> {
  if (c.commit.unsynced) await c.commit.unsynced;
  c.foreign.beforeCachedRead();
  const hit = c.buckets.get(name);
  if (hit) return hit;
  const r = c.stmt.getBucket.get(name) as BucketRow | undefined;
  if (!r) return undefined;
  const b = toBucket(r);
  c.buckets.set(name, b);
  return b;
}

export async function listBuckets(c: Ctx, owner: string | undefined, opts: { prefix?: string; after?: string; limit: number }): Promise<Bucket[]> {
  if (c.commit.unsynced) await c.commit.unsynced;
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (owner !== undefined) {
    where.push('owner = ?');
    args.push(owner);
  }
  const prefix = opts.prefix ?? '';
  if (prefix) {
    where.push('name >= ?');
    args.push(prefix);
    const end = prefixSuccessor(prefix);
    if (end !== undefined) {
      where.push('name < ?');
      args.push(end);
    }
  }
  if (opts.after !== undefined) {
    where.push('name > ?');
    args.push(opts.after);
  }
  args.push(opts.limit);
  const sql = `SELECT * FROM buckets ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY name LIMIT ?`;
  return (c.cached(sql).all(...args) as BucketRow[]).map(toBucket);
}

export async function deleteBucket(c: Ctx, bucketId: number): Promise<void> {
  await c.commit.write(() => {
    c.buckets.forget(bucketId);
    const b = c.stmt.getBucketById.get(bucketId) as BucketRow | undefined;
    if (!b) throw new StoreError('NoSuchBucket');
    if (c.stmt.anyObject.get(bucketId)) throw new StoreError('BucketNotEmpty', { bucket: b.name });
    // Incomplete multipart uploads do not keep a bucket alive (as in S3): they are aborted.
    for (const u of c.stmt.uploadsOf.all(bucketId) as { upload_id: string }[]) dropUpload(c, u.upload_id);
    c.stmt.deleteBucketConfigs.run(bucketId);
    c.stmt.deleteBucketCompletions.run(bucketId);
    c.stmt.deleteBucket.run(bucketId);
  });
}

export async function setVersioning(c: Ctx, bucketId: number, state: VersioningState): Promise<void> {
  await c.commit.write(() => {
    c.buckets.forget(bucketId);
    const b = bucketState(c, bucketId);
    if (b.object_lock === 1 && state !== 'Enabled') throw new StoreError('InvalidBucketState', { bucket: b.name, reason: 'object-lock-present' });
    c.stmt.setVersioning.run(state, bucketId);
  });
}

export async function enableObjectLock(c: Ctx, bucketId: number): Promise<void> {
  await c.commit.write(() => {
    c.buckets.forget(bucketId);
    const b = bucketState(c, bucketId);
    if (b.versioning !== 'Enabled') throw new StoreError('InvalidBucketState', { bucket: b.name, reason: 'versioning-not-enabled' });
    c.stmt.enableObjectLock.run(bucketId);
  });
}

export async function getBucketConfig(c: Ctx, bucketId: number, kind: BucketConfigKind): Promise<string | undefined> {
  if (c.commit.unsynced) await c.commit.unsynced;
  const r = c.stmt.getConfig.get(bucketId, kind) as { value: string } | undefined;
  return r?.value;
}

export async function putBucketConfig(c: Ctx, bucketId: number, kind: BucketConfigKind, value: string | undefined): Promise<void> {
  await c.commit.write(() => {
    if (value === undefined) c.stmt.deleteConfig.run(bucketId, kind);
    else c.stmt.putConfig.run(bucketId, kind, value);
  });
}
