// Object versions: reads (the latest through the cache), writes that place a version according to
// the bucket's versioning state, deletes, in-place updates and listings in UTF-8 byte order.

import { crc32 } from 'node:zlib';
import { StoreError } from '../../errors.js';
import { timeOrderedIdAfter } from '../../ids.js';
import { compareKeys } from '../../keys.js';
import { objectMetaJson, parseObjectMeta } from '../common/json.js';
import { checkConditions, checkDeletable, checkDeleteConditions, type DeleteTarget } from '../common/rules.js';
import type {
  DeleteOptions,
  DeleteResult,
  ListedObject,
  ListObjectsQuery,
  ListVersionsQuery,
  ObjectContent,
  ObjectPart,
  ObjectVersion,
  PutResult,
  TierChange,
  TierState,
  WorkSpec,
  WriteConditions,
  WriteOptions,
} from '../types.js';
import { tierDeleteWork, tierEffects } from '../common/tier.js';
import { addRef, release } from './blobs.js';
import { bucketState } from './buckets.js';
import { OBJECTS_ONLY, type Ctx } from './context.js';
import { recordWork, recordWriteWork } from './work.js';
import { LISTED_COLUMNS, keyRange, toListed, toObjectPart, toVersion, versionIdOf, type BucketRow, type ListedRow, type ObjectPartRow, type ObjectRow } from './rows.js';

/** The latest row of a key, in the shape the shared write rules take. */
export function latestRow(c: Ctx, bucketId: number, key: string): ObjectRow | undefined {
  return c.stmt.latest.get(bucketId, key) as ObjectRow | undefined;
}

/** The write conditions against a latest row (see checkConditions). */
export function checkRowConditions(latest: ObjectRow | undefined, conditions: WriteConditions | undefined, key: string): void {
  if (!conditions) return;
  checkConditions(latest && { deleteMarker: latest.delete_marker === 1, etag: latest.etag }, conditions, key);
}

/** What a conditional delete compares of a row (see checkDeleteConditions). */
function deleteTarget(r: ObjectRow): DeleteTarget {
  return { deleteMarker: r.delete_marker === 1, etag: r.etag, size: r.size, lastModified: r.last_modified };
}

export async function getObject(c: Ctx, bucketId: number, key: string, versionId?: string): Promise<ObjectVersion | undefined> {
  if (c.commit.unsynced) await c.commit.unsynced;
  if (versionId !== undefined) {
    const r = versionRow(c, bucketId, key, versionId);
    return r && toVersion(r);
  }
  // No foreign-write check here: a bucket id comes from getBucket, which checks first, and a request
  // resolves its bucket before it reads an object (http/server.ts, website.ts, copySource.ts). A
  // write acknowledged before the request arrived is therefore noticed by then, and the cache
  // dropped: the request sees it. (PRAGMA data_version costs a few µs: once per request, not twice.)
  const hit = c.latest.get(bucketId, key);
  if (hit) return hit;
  const r = latestRow(c, bucketId, key);
  if (!r) return undefined;
  const v = Object.freeze(toVersion(r));
  c.latest.remember(bucketId, key, v);
  return v;
}

/** The row of an S3 version id ('null' included). */
function versionRow(c: Ctx, bucketId: number, key: string, versionId: string): ObjectRow | undefined {
  return (versionId === 'null' ? c.stmt.nullVersion.get(bucketId, key) : c.stmt.versionById.get(bucketId, key, versionId)) as ObjectRow | undefined;
}

export async function getObjectParts(c: Ctx, rowId: number, fromPart = 1, limit = 10000): Promise<ObjectPart[]> {
  if (c.commit.unsynced) await c.commit.unsynced;
  return (c.stmt.partsOf.all(rowId, fromPart, limit) as ObjectPartRow[]).map(toObjectPart);
}

/**
 * Deletes a version row and drops its references to blobs. A tiered version's parts name blobs it
 * released when it moved (its restored copy, if any, is its only local blob), and its remote copy
 * is deleted by a `tier.delete` work item recorded here, in the same transaction.
 */
function removeRow(c: Ctx, r: ObjectRow): void {
  c.effects.removed?.push(toVersion(r));
  if (r.blob_id) release(c, r.blob_id);
  const tier = r.tier ? (JSON.parse(r.tier) as TierState) : undefined;
  if (r.parts_count) {
    if (!tier) for (const p of c.stmt.partBlobs.all(r.id) as { blob_id: string }[]) release(c, p.blob_id);
    c.stmt.deleteParts.run(r.id);
  }
  if (tier) {
    if (tier.restore?.blob) release(c, tier.restore.blob);
    tierReleased(c, tier);
  }
  c.stmt.deleteObjectRow.run(r.id);
}

/** A tiered version is gone: its remote copy is to be deleted (a work item, same transaction). */
function tierReleased(c: Ctx, tier: TierState): void {
  recordWork(c, [tierDeleteWork(tier)]);
}

export function updateTier(c: Ctx, bucketId: number, key: string, versionId: string, rowId: number, change: (v: ObjectVersion) => TierChange | undefined): Promise<ObjectVersion | undefined> {
  return c.commit.write(() => {
    const row = versionRow(c, bucketId, key, versionId);
    if (!row || row.id !== rowId || row.delete_marker === 1) return undefined;
    const v = toVersion(row);
    const next = change(v);
    if (!next) return v;
    c.latest.forget(bucketId, key);
    const e = tierEffects(v, next);
    if (e.releaseLocal) {
      if (row.blob_id) release(c, row.blob_id);
      if (row.parts_count) for (const p of c.stmt.partBlobs.all(row.id) as { blob_id: string }[]) release(c, p.blob_id);
    }
    if (e.addBlob) addRef(c, e.addBlob, false);
    if (e.releaseBlob) release(c, e.releaseBlob);
    if (next.work) recordWork(c, next.work);
    const storageClass = next.storageClass ?? row.storage_class;
    const tier = next.tier ? JSON.stringify(next.tier) : row.tier;
    const local = e.releaseLocal ? { blob_id: null, inline: null, inline_crc: null } : { blob_id: row.blob_id, inline: row.inline, inline_crc: row.inline_crc };
    c.stmt.updateTier.run(tier, storageClass, local.blob_id, local.inline, local.inline_crc, row.id);
    return toVersion({ ...row, tier, storage_class: storageClass, ...local });
  });
}

function insertRow(c: Ctx, bucketId: number, key: string, vid: string, isNull: boolean, deleteMarker: boolean, o: ObjectContent): number {
  const info = c.stmt.insertObject.run(
    bucketId,
    key,
    vid,
    isNull ? 1 : 0,
    deleteMarker ? 1 : 0,
    o.size,
    o.etag,
    o.lastModified,
    o.owner,
    o.storageClass,
    o.checksum?.algorithm ?? null,
    o.checksum?.type ?? null,
    objectMetaJson(o),
    o.inline ?? null,
    o.inline ? crc32(o.inline) : null,
    o.blobId ?? null,
    o.parts?.length ?? null,
  );
  const id = Number(info.lastInsertRowid);
  const shared = o.sharedData === true;
  if (o.blobId) addRef(c, o.blobId, shared);
  if (o.parts) {
    for (const p of o.parts) {
      c.stmt.insertPart.run(id, p.partNumber, p.offset, p.size, p.etag, p.checksum ?? null, p.blobId);
      addRef(c, p.blobId, shared);
    }
  }
  return id;
}

/**
 * The heart of every write: places a new version (or delete marker) for `key` according to the
 * bucket's versioning state. Must run inside a transaction.
 */
export function placeVersion(c: Ctx, bucket: BucketRow, key: string, content: ObjectContent, deleteMarker: boolean, latest: ObjectRow | undefined): PutResult {
  c.latest.forget(bucket.id, key);
  if (content.replicaVersionId !== undefined) return placeReplica(c, bucket, key, content, deleteMarker, latest, content.replicaVersionId);
  const isNull = bucket.versioning !== 'Enabled';
  // Unversioned and Suspended buckets keep at most one 'null' version: the new one replaces it
  // (in an unversioned bucket it can only be the latest).
  const existingNull = !isNull
    ? undefined
    : latest?.is_null === 1
      ? latest
      : bucket.versioning === 'Unversioned'
        ? undefined
        : (c.stmt.nullVersion.get(bucket.id, key) as ObjectRow | undefined);
  if (latest) c.stmt.setLatest.run(0, latest.id);
  const vid = timeOrderedIdAfter(latest?.vid);
  // The new row takes its blob references before the old one drops its own: an object copied
  // onto itself shares its blobs, which must never reach zero references in between.
  insertRow(c, bucket.id, key, vid, isNull, deleteMarker, content);
  if (existingNull) removeRow(c, existingNull);
  const res: PutResult = { versionId: isNull ? 'null' : vid };
  if (latest) res.previous = { versionId: versionIdOf(latest), deleteMarker: latest.delete_marker === 1 };
  return res;
}

/**
 * A replica's version (ObjectContent.replicaVersionId): inserted with its own id where it sorts
 * among the key's versions, the latest only if newest; idempotent (a version of that id already
 * there is kept, and the write reports it existed).
 */
function placeReplica(c: Ctx, bucket: BucketRow, key: string, content: ObjectContent, deleteMarker: boolean, latest: ObjectRow | undefined, vid: string): PutResult {
  if (bucket.versioning !== 'Enabled') throw new StoreError('InvalidBucketState', { key, reason: 'versioning-not-enabled' });
  if (c.stmt.versionById.get(bucket.id, key, vid)) return { versionId: vid, existed: true };
  const newest = !latest || vid > latest.vid;
  if (newest && latest) c.stmt.setLatest.run(0, latest.id);
  const id = insertRow(c, bucket.id, key, vid, false, deleteMarker, content);
  if (!newest) c.stmt.setLatest.run(0, id);
  const res: PutResult = { versionId: vid };
  if (newest && latest) res.previous = { versionId: versionIdOf(latest), deleteMarker: latest.delete_marker === 1 };
  return res;
}

/**
 * Runs a write's body with its follow-up work (WriteOptions.work): the versions it removes are
 * collected when the work is a function of them, and the work is recorded in the same
 * transaction. Must run inside a write.
 */
export function withWork<T extends { versionId?: string }>(c: Ctx, work: WorkSpec | undefined, body: () => T): T {
  if (!work) return body();
  const collect = typeof work === 'function';
  const removed: ObjectVersion[] = [];
  if (collect) c.effects.removed = removed;
  try {
    const res = body();
    recordWriteWork(c, work, () => ({ versionId: res.versionId, removed }));
    return res;
  } finally {
    if (collect) c.effects.removed = undefined;
  }
}

export function putObject(c: Ctx, bucketId: number, key: string, content: ObjectContent, conditions?: WriteConditions, opts?: WriteOptions): Promise<PutResult> {
  return c.commit.write(() =>
    withWork(c, opts?.work, () => {
      const bucket = bucketState(c, bucketId);
      const latest = latestRow(c, bucketId, key);
      checkRowConditions(latest, conditions, key);
      return placeVersion(c, bucket, key, content, false, latest);
    }),
    OBJECTS_ONLY,
  );
}

export function deleteObject(c: Ctx, bucketId: number, key: string, opts: DeleteOptions): Promise<DeleteResult> {
  return c.commit.write(() => withWork(c, opts.work, (): DeleteResult => {
    const bucket = bucketState(c, bucketId);
    c.latest.forget(bucketId, key);
    const latest = latestRow(c, bucketId, key);
    if (opts.versionId !== undefined) {
      const row = versionRow(c, bucketId, key, opts.versionId);
      if (!checkDeleteConditions(row && deleteTarget(row), opts.conditions, key, true) || !row) return { versionId: opts.versionId, deleteMarker: false };
      if (row.meta) {
        const m = parseObjectMeta(row.meta);
        checkDeletable({ legalHold: m.l, retention: m.r }, opts);
      }
      removeRow(c, row);
      if (row.is_latest === 1) {
        const next = latestRow(c, bucketId, key);
        if (next) c.stmt.setLatest.run(1, next.id);
      }
      return { versionId: versionIdOf(row), deleteMarker: row.delete_marker === 1 };
    }
    if (!checkDeleteConditions(latest && deleteTarget(latest), opts.conditions, key, false)) return { deleteMarker: false };
    if (bucket.versioning === 'Unversioned') {
      if (!latest) return { deleteMarker: false };
      removeRow(c, latest);
      return { deleteMarker: false };
    }
    const marker: ObjectContent = {
      size: 0,
      etag: '',
      lastModified: opts.now,
      owner: bucket.owner,
      storageClass: '',
      headers: {},
      userMeta: {},
    };
    if (opts.markerVersionId !== undefined) marker.replicaVersionId = opts.markerVersionId;
    if (opts.markerReplicationStatus !== undefined) marker.replicationStatus = opts.markerReplicationStatus;
    const res = placeVersion(c, bucket, key, marker, true, latest);
    return { versionId: res.versionId, deleteMarker: true };
  }), OBJECTS_ONLY);
}

export function updateObject(
  c: Ctx,
  bucketId: number,
  key: string,
  versionId: string | undefined,
  patch: Partial<Pick<ObjectContent, 'tags' | 'retention' | 'legalHold' | 'acl' | 'replicationStatus'>>,
  check?: (current: ObjectVersion) => void,
  opts?: WriteOptions,
): Promise<ObjectVersion> {
  return c.commit.write(() => withWork(c, opts?.work, () => {
    const row = versionId === undefined ? latestRow(c, bucketId, key) : versionRow(c, bucketId, key, versionId);
    if (!row || (versionId === undefined && row.delete_marker === 1)) {
      throw versionId === undefined ? new StoreError('NoSuchKey', { key }) : new StoreError('NoSuchVersion', { key, versionId });
    }
    if (row.delete_marker === 1) throw new StoreError('MethodNotAllowed', { key, versionId });
    c.latest.forget(bucketId, key);
    const v = toVersion(row);
    check?.(v);
    if ('tags' in patch) v.tags = patch.tags;
    if ('retention' in patch) v.retention = patch.retention;
    if ('legalHold' in patch) v.legalHold = patch.legalHold;
    if ('acl' in patch) v.acl = patch.acl;
    if ('replicationStatus' in patch) v.replicationStatus = patch.replicationStatus;
    c.stmt.updateMeta.run(objectMetaJson(v), row.id);
    return v;
  }), OBJECTS_ONLY);
}

export async function listObjects(c: Ctx, bucketId: number, q: ListObjectsQuery): Promise<ListedObject[]> {
  if (c.commit.unsynced) await c.commit.unsynced;
  const w = keyRange(q.prefix, q.start, q.startInclusive === true);
  const sql = `SELECT ${LISTED_COLUMNS} FROM objects WHERE bucket_id = ? AND is_latest = 1 AND delete_marker = 0${w.sql} ORDER BY key LIMIT ?`;
  return (c.cached(sql).all(bucketId, ...w.args, q.limit) as ListedRow[]).map(toListed);
}

export async function listVersions(c: Ctx, bucketId: number, q: ListVersionsQuery): Promise<ListedObject[]> {
  if (c.commit.unsynced) await c.commit.unsynced;
  const out: ListedObject[] = [];
  const startKey = q.startKey;
  // First the rest of the marker key: its versions older than the version-id marker. A minted
  // version id is the row's vid, so this holds even if that version was deleted meanwhile (a
  // list-delete-list loop must not skip versions); a vanished null marker lists the key again.
  if (q.keyMarker !== undefined && q.versionIdMarker !== undefined && q.keyMarker.startsWith(q.prefix) && (startKey === undefined || compareKeys(startKey, q.keyMarker) <= 0)) {
    const bound = q.versionIdMarker === 'null' ? (c.stmt.nullVersion.get(bucketId, q.keyMarker) as ObjectRow | undefined)?.vid : q.versionIdMarker;
    const sql = bound === undefined
      ? `SELECT ${LISTED_COLUMNS} FROM objects WHERE bucket_id = ? AND key = ? ORDER BY vid DESC LIMIT ?`
      : `SELECT ${LISTED_COLUMNS} FROM objects WHERE bucket_id = ? AND key = ? AND vid < ? ORDER BY vid DESC LIMIT ?`;
    const args = bound === undefined ? [bucketId, q.keyMarker, q.limit] : [bucketId, q.keyMarker, bound, q.limit];
    for (const r of c.cached(sql).all(...args) as ListedRow[]) out.push(toListed(r));
  }
  if (out.length >= q.limit) return out;
  // Then whole keys after the marker key (or from startKey).
  let w = keyRange(q.prefix, startKey, true);
  if (q.keyMarker !== undefined && (startKey === undefined || compareKeys(q.keyMarker, startKey) >= 0)) w = keyRange(q.prefix, q.keyMarker, false);
  const sql = `SELECT ${LISTED_COLUMNS} FROM objects WHERE bucket_id = ?${w.sql} ORDER BY key, vid DESC LIMIT ?`;
  for (const r of c.cached(sql).all(bucketId, ...w.args, q.limit - out.length) as ListedRow[]) out.push(toListed(r));
  return out;
}
