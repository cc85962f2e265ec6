// Objects, versions, multipart uploads and blob references in PostgreSQL. Every write runs in
// one transaction that first locks what it decides on (db.ts explains the locks); every listing
// is one index range scan that starts at its first result and stops after its last.

import { crc32 } from 'node:zlib';
import { StoreError } from '../../errors.js';
import { timeOrderedIdAfter } from '../../ids.js';
import { compareKeys } from '../../keys.js';
import { objectMetaJson, uploadMetaJson } from '../common/json.js';
import { checkConditions, checkDeletable, checkDeleteConditions, COMPLETION_MEMORY_MS, keyBounds, type DeleteTarget } from '../common/rules.js';
import type {
  CompletedUpload,
  DeleteOptions,
  DeleteResult,
  ListedObject,
  ListObjectsQuery,
  ListUploadsQuery,
  ListVersionsQuery,
  ObjectContent,
  ObjectPart,
  ObjectVersion,
  PutResult,
  StoredChecksum,
  TierChange,
  TierState,
  Upload,
  UploadPart,
  WorkSpec,
  WriteConditions,
  WriteOptions,
} from '../types.js';
import { tierDeleteWork, tierEffects } from '../common/tier.js';
import type { Db, Tx } from './db.js';
import { recordWork, recordWriteWork } from './work.js';
import {
  keyBytes,
  LISTED_COLUMNS,
  lockOf,
  toListed,
  toUpload,
  toVersion,
  versionIdOf,
  type BucketRow,
  type ListedRow,
  type ObjectRow,
  type UploadRow,
} from './rows.js';

/** Positional parameters of a statement being built. */
class Params {
  readonly values: unknown[] = [];
  add(v: unknown): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
}

/**
 * SQL bounds on `key` for "keys with this prefix, from `start` on": the lower bound is the greater
 * of the prefix (inclusive) and start; the upper bound is the prefix's successor. Both bound the
 * index scan, so a page reads its own rows and no others.
 */
function keyRange(p: Params, prefix: string, start: string | undefined, startInclusive: boolean): string {
  const b = keyBounds(prefix, start, startInclusive);
  let sql = '';
  if (b.lower) sql += ` AND key ${b.lower.inclusive ? '>=' : '>'} ${p.add(keyBytes(b.lower.key))}`;
  if (b.upper !== undefined) sql += ` AND key < ${p.add(keyBytes(b.upper))}`;
  return sql;
}

/** What a conditional delete compares of a row (see checkDeleteConditions). */
function deleteTarget(r: ObjectRow): DeleteTarget {
  return { deleteMarker: r.delete_marker, etag: r.etag, size: Number(r.size), lastModified: Number(r.last_modified) };
}

const LATEST = 'SELECT * FROM objects WHERE bucket_id = $1 AND key = $2 ORDER BY vid DESC LIMIT 1';
const NULL_VERSION = 'SELECT * FROM objects WHERE bucket_id = $1 AND key = $2 AND is_null LIMIT 1';
const VERSION_BY_ID = 'SELECT * FROM objects WHERE bucket_id = $1 AND key = $2 AND vid = $3 AND NOT is_null';

export class PgObjects {
  constructor(
    private readonly db: Db,
    private readonly onGarbage: (() => void) | undefined,
  ) {}

  /** A write transaction; tells the owner about garbage once it committed. */
  async write<T>(fn: (t: Tx) => Promise<T>, opts: { notify?: boolean } = {}): Promise<T> {
    let released = false;
    const v = await this.db.tx(async (t) => {
      const r = await fn(t);
      released = t.released;
      return r;
    }, opts);
    if (released) this.onGarbage?.();
    return v;
  }

  /**
   * The bucket row, locked against deletion (FOR KEY SHARE: writers of one bucket do not wait for
   * each other, DeleteBucket waits for them and they for it).
   */
  async bucketState(t: Tx, bucketId: number): Promise<BucketRow> {
    const b = await t.row<BucketRow>('SELECT * FROM buckets WHERE id = $1 FOR KEY SHARE', [bucketId]);
    if (!b) throw new StoreError('NoSuchBucket');
    return b;
  }

  // ---------------------------------------------------------------- reads

  async getObject(bucketId: number, key: string, versionId?: string): Promise<ObjectVersion | undefined> {
    const r = versionId === undefined ? await this.db.row<ObjectRow>(LATEST, [bucketId, keyBytes(key)]) : await this.versionRow(this.db, bucketId, key, versionId);
    return r && toVersion(r);
  }

  private versionRow(q: Db | Tx, bucketId: number, key: string, versionId: string): Promise<ObjectRow | undefined> {
    return versionId === 'null' ? q.row<ObjectRow>(NULL_VERSION, [bucketId, keyBytes(key)]) : q.row<ObjectRow>(VERSION_BY_ID, [bucketId, keyBytes(key), versionId]);
  }

  async getObjectParts(rowId: number, fromPart = 1, limit = 10000): Promise<ObjectPart[]> {
    const rows = await this.db.rows<{ part_number: number; part_offset: number; size: number; etag: string; checksum: string | null; blob_id: string }>(
      'SELECT * FROM object_parts WHERE object_id = $1 AND part_number >= $2 ORDER BY part_number LIMIT $3',
      [rowId, fromPart, limit],
    );
    return rows.map((r) => {
      const p: ObjectPart = { partNumber: r.part_number, offset: r.part_offset, size: r.size, etag: r.etag, blobId: r.blob_id };
      if (r.checksum !== null) p.checksum = r.checksum;
      return p;
    });
  }

  async listObjects(bucketId: number, q: ListObjectsQuery): Promise<ListedObject[]> {
    const p = new Params();
    const b = p.add(bucketId);
    const range = keyRange(p, q.prefix, q.start, q.startInclusive === true);
    const sql = `SELECT ${LISTED_COLUMNS} FROM objects WHERE bucket_id = ${b} AND is_latest AND NOT delete_marker${range} ORDER BY key LIMIT ${p.add(q.limit)}`;
    return (await this.db.rows<ListedRow>(sql, p.values)).map(toListed);
  }

  async listVersions(bucketId: number, q: ListVersionsQuery): Promise<ListedObject[]> {
    const out: ListedObject[] = [];
    const startKey = q.startKey;
    // First the rest of the marker key: its versions older than the version-id marker. A minted
    // version id is the row's vid, so this holds even if that version was deleted meanwhile; a
    // vanished null marker lists the key again.
    if (q.keyMarker !== undefined && q.versionIdMarker !== undefined && q.keyMarker.startsWith(q.prefix) && (startKey === undefined || compareKeys(startKey, q.keyMarker) <= 0)) {
      const bound = q.versionIdMarker === 'null' ? (await this.db.row<ObjectRow>(NULL_VERSION, [bucketId, keyBytes(q.keyMarker)]))?.vid : q.versionIdMarker;
      const rows =
        bound === undefined
          ? await this.db.rows<ListedRow>(`SELECT ${LISTED_COLUMNS} FROM objects WHERE bucket_id = $1 AND key = $2 ORDER BY vid DESC LIMIT $3`, [bucketId, keyBytes(q.keyMarker), q.limit])
          : await this.db.rows<ListedRow>(`SELECT ${LISTED_COLUMNS} FROM objects WHERE bucket_id = $1 AND key = $2 AND vid < $3 ORDER BY vid DESC LIMIT $4`, [
              bucketId,
              keyBytes(q.keyMarker),
              bound,
              q.limit,
            ]);
      for (const r of rows) out.push(toListed(r));
    }
    if (out.length >= q.limit) return out;
    // Then whole keys after the marker key (or from startKey).
    const p = new Params();
    const b = p.add(bucketId);
    const afterMarker = q.keyMarker !== undefined && (startKey === undefined || compareKeys(q.keyMarker, startKey) >= 0);
    const range = afterMarker ? keyRange(p, q.prefix, q.keyMarker, false) : keyRange(p, q.prefix, startKey, true);
    const sql = `SELECT ${LISTED_COLUMNS} FROM objects WHERE bucket_id = ${b}${range} ORDER BY key, vid DESC LIMIT ${p.add(q.limit - out.length)}`;
    for (const r of await this.db.rows<ListedRow>(sql, p.values)) out.push(toListed(r));
    return out;
  }

  // ---------------------------------------------------------------- writes

  /** The write conditions against a latest row (common/rules.ts decides). */
  private checkConditions(latest: ObjectRow | undefined, c: WriteConditions | undefined, key: string): void {
    checkConditions(latest && { deleteMarker: latest.delete_marker, etag: latest.etag }, c, key);
  }

  /**
   * Takes a reference on a blob: a fresh one (just written for this request) gets its first
   * reference; a shared one must still be referenced, else its source was deleted meanwhile (and
   * its file may be gone), and the write fails.
   */
  private async addRef(t: Tx, blobId: string, shared: boolean): Promise<void> {
    if (!shared) {
      // Cannot fail but by an error, which fails the commit: not waited for (Db.tx).
      t.send('INSERT INTO blobs (id, refs) VALUES ($1, 1)', [blobId]);
      return;
    }
    if ((await t.run('UPDATE blobs SET refs = refs + 1 WHERE id = $1 AND refs > 0', [blobId])) === 0) {
      throw new StoreError('SourceGone');
    }
  }

  private release(t: Tx, blobId: string): void {
    t.send('UPDATE blobs SET refs = refs - 1, released_at = CASE WHEN refs <= 1 THEN $2 ELSE released_at END WHERE id = $1', [blobId, Date.now()]);
    t.released = true;
  }

  /**
   * Deletes a version row and drops its references to blobs. A tiered version's parts name blobs it
   * released when it moved (its restored copy, if any, is its only local blob), and its remote copy
   * is deleted by a `tier.delete` work item recorded here, in the same transaction.
   */
  private async removeRow(t: Tx, r: ObjectRow): Promise<void> {
    await this.dropRowRefs(t, r);
    t.send('DELETE FROM objects WHERE id = $1', [r.id]);
  }

  /**
   * What removing a version row entails besides the DELETE itself: it is reported to the write's
   * work (WriteOptions.work as a function), its blobs are released, its parts' rows deleted, and a
   * tiered version's remote copy queued for deletion. placeVersion's overwrite path deletes the row
   * itself (first, in the same round trip) and calls this.
   */
  private async dropRowRefs(t: Tx, r: ObjectRow): Promise<void> {
    t.removed?.push(toVersion(r));
    if (r.blob_id) this.release(t, r.blob_id);
    const tier = r.tier ? (JSON.parse(r.tier) as TierState) : undefined;
    if (r.parts_count) {
      for (const p of await t.rows<{ blob_id: string }>('DELETE FROM object_parts WHERE object_id = $1 RETURNING blob_id', [r.id])) if (!tier) this.release(t, p.blob_id);
    }
    if (tier) {
      if (tier.restore?.blob) this.release(t, tier.restore.blob);
      await this.tierReleased(t, tier);
    }
  }

  /** A tiered version is gone: its remote copy is to be deleted (a work item, same transaction). */
  private async tierReleased(t: Tx, tier: TierState): Promise<void> {
    await recordWork(t, [tierDeleteWork(tier)]);
  }

  updateTier(bucketId: number, key: string, versionId: string, rowId: number, change: (v: ObjectVersion) => TierChange | undefined): Promise<ObjectVersion | undefined> {
    return this.write(async (t) => {
      const row = await t.row<ObjectRow>('SELECT * FROM objects WHERE id = $1 FOR UPDATE', [rowId]);
      if (!row || row.bucket_id !== bucketId || row.key.toString('utf8') !== key || versionIdOf(row) !== versionId || row.delete_marker) return undefined;
      const v = toVersion(row);
      const next = change(v);
      if (!next) return v;
      const e = tierEffects(v, next);
      if (e.releaseLocal) {
        if (row.blob_id) this.release(t, row.blob_id);
        if (row.parts_count) for (const p of await t.rows<{ blob_id: string }>('SELECT blob_id FROM object_parts WHERE object_id = $1', [row.id])) this.release(t, p.blob_id);
      }
      if (e.addBlob) await this.addRef(t, e.addBlob, false);
      if (e.releaseBlob) this.release(t, e.releaseBlob);
      if (next.work) await recordWork(t, next.work);
      const storageClass = next.storageClass ?? row.storage_class;
      const tier = next.tier ? JSON.stringify(next.tier) : row.tier;
      if (e.releaseLocal) {
        await t.run('UPDATE objects SET tier = $1, storage_class = $2, blob_id = NULL, inline = NULL, inline_crc = NULL WHERE id = $3', [tier, storageClass, row.id]);
        return toVersion({ ...row, tier, storage_class: storageClass, blob_id: null, inline: null, inline_crc: null });
      }
      await t.run('UPDATE objects SET tier = $1, storage_class = $2 WHERE id = $3', [tier, storageClass, row.id]);
      return toVersion({ ...row, tier, storage_class: storageClass });
    });
  }

  /** Waits for the database only when it must (shared blobs are checked, parts need the row id). */
  private async insertRow(t: Tx, bucketId: number, key: string, vid: string, isNull: boolean, deleteMarker: boolean, c: ObjectContent, latest = true): Promise<void> {
    const inserted = t.row<{ id: number }>(
      `INSERT INTO objects (bucket_id, key, vid, is_null, is_latest, delete_marker, size, etag, last_modified, owner, storage_class,
         checksum_alg, checksum_type, meta, inline, inline_crc, blob_id, parts_count)
       VALUES ($1, $2, $3, $4, ${latest ? 'true' : 'false'}, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING id`,
      [
        bucketId,
        keyBytes(key),
        vid,
        isNull,
        deleteMarker,
        c.size,
        c.etag,
        c.lastModified,
        c.owner,
        c.storageClass,
        c.checksum?.algorithm ?? null,
        c.checksum?.type ?? null,
        objectMetaJson(c),
        c.inline ?? null,
        c.inline ? crc32(c.inline) : null,
        c.blobId ?? null,
        c.parts?.length ?? null,
      ],
    );
    const shared = c.sharedData === true;
    if (c.blobId) await this.addRef(t, c.blobId, shared);
    if (c.parts && c.parts.length) {
      const id = (await inserted)!.id;
      t.send(
        `INSERT INTO object_parts (object_id, part_number, part_offset, size, etag, checksum, blob_id)
         SELECT $1, * FROM unnest($2::int[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[])`,
        [
          id,
          c.parts.map((p) => p.partNumber),
          c.parts.map((p) => p.offset),
          c.parts.map((p) => p.size),
          c.parts.map((p) => p.etag),
          c.parts.map((p) => p.checksum ?? null),
          c.parts.map((p) => p.blobId),
        ],
      );
      for (const p of c.parts) await this.addRef(t, p.blobId, shared);
    }
  }

  /**
   * The heart of every write: places a new version (or delete marker) for `key` according to the
   * bucket's versioning state. Runs inside a transaction holding the key's lock.
   */
  private async placeVersion(t: Tx, bucket: BucketRow, key: string, content: ObjectContent, deleteMarker: boolean, latest: ObjectRow | undefined): Promise<PutResult> {
    if (content.replicaVersionId !== undefined) return this.placeReplica(t, bucket, key, content, deleteMarker, latest, content.replicaVersionId);
    const isNull = bucket.versioning !== 'Enabled';
    // Unversioned and Suspended buckets keep at most one 'null' version: the new one replaces it
    // (in an unversioned bucket it can only be the latest).
    const existingNull = !isNull
      ? undefined
      : latest?.is_null
        ? latest
        : bucket.versioning === 'Unversioned'
          ? undefined
          : await t.row<ObjectRow>(NULL_VERSION, [bucket.id, keyBytes(key)]);
    // The latest version replaced whole (the null version, without parts): its row goes first,
    // so the new one needs no is_latest update of the old (one statement fewer per overwrite).
    const replaced = latest !== undefined && existingNull === latest && !latest.parts_count;
    if (replaced) t.send('DELETE FROM objects WHERE id = $1', [latest.id]);
    else if (latest) t.send('UPDATE objects SET is_latest = false WHERE id = $1', [latest.id]);
    const vid = timeOrderedIdAfter(latest?.vid);
    // The new row takes its blob references before the old one drops its own: an object copied
    // onto itself shares its blobs, which must never reach zero references in between.
    await this.insertRow(t, bucket.id, key, vid, isNull, deleteMarker, content);
    if (replaced) await this.dropRowRefs(t, latest);
    else if (existingNull) await this.removeRow(t, existingNull);
    const res: PutResult = { versionId: isNull ? 'null' : vid };
    if (latest) res.previous = { versionId: versionIdOf(latest), deleteMarker: latest.delete_marker };
    return res;
  }

  /**
   * A replica's version (ObjectContent.replicaVersionId): inserted with its own id where it sorts
   * among the key's versions, the latest only if newest; idempotent (a version of that id already
   * there is kept, and the write reports it existed).
   */
  private async placeReplica(t: Tx, bucket: BucketRow, key: string, content: ObjectContent, deleteMarker: boolean, latest: ObjectRow | undefined, vid: string): Promise<PutResult> {
    if (bucket.versioning !== 'Enabled') throw new StoreError('InvalidBucketState', { key, reason: 'versioning-not-enabled' });
    if (await this.versionRow(t, bucket.id, key, vid)) return { versionId: vid, existed: true };
    const newest = !latest || vid > latest.vid;
    if (newest && latest) await t.run('UPDATE objects SET is_latest = false WHERE id = $1', [latest.id]);
    // (One latest row per key is an index constraint: an older replica goes in as not latest.)
    await this.insertRow(t, bucket.id, key, vid, false, deleteMarker, content, newest);
    const res: PutResult = { versionId: vid };
    if (newest && latest) res.previous = { versionId: versionIdOf(latest), deleteMarker: latest.delete_marker };
    return res;
  }

  /** The latest version of a key, once this transaction holds the key's lock. */
  private lockedLatest(t: Tx, bucketId: number, key: string): Promise<ObjectRow | undefined> {
    // Pipelined: the server runs the read after the lock is granted, with a snapshot taken then.
    t.lockKey(bucketId, key);
    return t.row<ObjectRow>(LATEST, [bucketId, keyBytes(key)]);
  }

  /**
   * A write transaction with follow-up work (WriteOptions.work): the versions it removes are
   * collected when the work is a function of them, and the work is recorded in the same
   * transaction.
   */
  private writeWithWork<T extends { versionId?: string }>(work: WorkSpec | undefined, fn: (t: Tx) => Promise<T>): Promise<T> {
    if (!work) return this.write(fn);
    return this.write(async (t) => {
      const removed: ObjectVersion[] = [];
      if (typeof work === 'function') t.removed = removed;
      const res = await fn(t);
      t.removed = undefined;
      await recordWriteWork(t, work, () => ({ versionId: res.versionId, removed }));
      return res;
    });
  }

  putObject(bucketId: number, key: string, content: ObjectContent, conditions?: WriteConditions, opts?: WriteOptions): Promise<PutResult> {
    return this.writeWithWork(opts?.work, async (t) => {
      // One round trip: [BEGIN,] bucket lock, key lock, latest version.
      const [bucket, latest] = await Promise.all([this.bucketState(t, bucketId), this.lockedLatest(t, bucketId, key)]);
      this.checkConditions(latest, conditions, key);
      return this.placeVersion(t, bucket, key, content, false, latest);
    });
  }

  deleteObject(bucketId: number, key: string, opts: DeleteOptions): Promise<DeleteResult> {
    return this.writeWithWork(opts.work, async (t): Promise<DeleteResult> => {
      const [bucket, latest] = await Promise.all([this.bucketState(t, bucketId), this.lockedLatest(t, bucketId, key)]);
      if (opts.versionId !== undefined) {
        const row = await this.versionRow(t, bucketId, key, opts.versionId);
        if (!checkDeleteConditions(row && deleteTarget(row), opts.conditions, key, true) || !row) return { versionId: opts.versionId, deleteMarker: false };
        checkDeletable(lockOf(row), opts);
        await this.removeRow(t, row);
        if (row.is_latest) {
          const next = await t.row<ObjectRow>(LATEST, [bucketId, keyBytes(key)]);
          if (next) t.send('UPDATE objects SET is_latest = true WHERE id = $1', [next.id]);
        }
        return { versionId: versionIdOf(row), deleteMarker: row.delete_marker };
      }
      if (!checkDeleteConditions(latest && deleteTarget(latest), opts.conditions, key, false)) return { deleteMarker: false };
      if (bucket.versioning === 'Unversioned') {
        if (latest) await this.removeRow(t, latest);
        return { deleteMarker: false };
      }
      const marker: ObjectContent = { size: 0, etag: '', lastModified: opts.now, owner: bucket.owner, storageClass: '', headers: {}, userMeta: {} };
      if (opts.markerVersionId !== undefined) marker.replicaVersionId = opts.markerVersionId;
      if (opts.markerReplicationStatus !== undefined) marker.replicationStatus = opts.markerReplicationStatus;
      const res = await this.placeVersion(t, bucket, key, marker, true, latest);
      return { versionId: res.versionId, deleteMarker: true };
    });
  }

  updateObject(
    bucketId: number,
    key: string,
    versionId: string | undefined,
    patch: Partial<Pick<ObjectContent, 'tags' | 'retention' | 'legalHold' | 'acl' | 'replicationStatus'>>,
    check?: (current: ObjectVersion) => void,
    opts?: WriteOptions,
  ): Promise<ObjectVersion> {
    return this.writeWithWork(opts?.work, async (t) => {
      const latest = await this.lockedLatest(t, bucketId, key);
      const row = versionId === undefined ? latest : await this.versionRow(t, bucketId, key, versionId);
      if (!row || (versionId === undefined && row.delete_marker)) {
        throw versionId === undefined ? new StoreError('NoSuchKey', { key }) : new StoreError('NoSuchVersion', { key, versionId });
      }
      if (row.delete_marker) throw new StoreError('MethodNotAllowed', { key, versionId });
      const v = toVersion(row);
      check?.(v);
      if ('tags' in patch) v.tags = patch.tags;
      if ('retention' in patch) v.retention = patch.retention;
      if ('legalHold' in patch) v.legalHold = patch.legalHold;
      if ('acl' in patch) v.acl = patch.acl;
      if ('replicationStatus' in patch) v.replicationStatus = patch.replicationStatus;
      await t.run('UPDATE objects SET meta = $1 WHERE id = $2', [objectMetaJson(v), row.id]);
      return v;
    });
  }

  // ---------------------------------------------------------------- multipart uploads

  async createUpload(u: Upload): Promise<void> {
    await this.write(async (t) => {
      await this.bucketState(t, u.bucketId);
      await t.run('INSERT INTO uploads (upload_id, bucket_id, key, initiated, owner, meta) VALUES ($1, $2, $3, $4, $5, $6)', [
        u.uploadId,
        u.bucketId,
        keyBytes(u.key),
        u.initiated,
        u.owner,
        uploadMetaJson(u),
      ]);
    });
  }

  async getUpload(bucketId: number, uploadId: string): Promise<Upload | undefined> {
    const r = await this.db.row<UploadRow>('SELECT * FROM uploads WHERE upload_id = $1 AND bucket_id = $2', [uploadId, bucketId]);
    return r && toUpload(r);
  }

  /** The upload row, locked: its parts change one writer at a time (putPart, complete, abort). */
  private async lockedUpload(t: Tx, bucketId: number, uploadId: string): Promise<UploadRow> {
    const up = await t.row<UploadRow>('SELECT * FROM uploads WHERE upload_id = $1 AND bucket_id = $2 FOR UPDATE', [uploadId, bucketId]);
    if (!up) throw new StoreError('NoSuchUpload', { uploadId });
    return up;
  }

  async putPart(bucketId: number, uploadId: string, part: UploadPart): Promise<void> {
    await this.write(async (t) => {
      await this.lockedUpload(t, bucketId, uploadId);
      const old = await t.row<{ blob_id: string }>('SELECT blob_id FROM upload_parts WHERE upload_id = $1 AND part_number = $2', [uploadId, part.partNumber]);
      await this.addRef(t, part.blobId, part.shared === true);
      if (old) this.release(t, old.blob_id);
      await t.run(
        `INSERT INTO upload_parts (upload_id, part_number, size, etag, checksum, last_modified, blob_id) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (upload_id, part_number) DO UPDATE SET size = excluded.size, etag = excluded.etag, checksum = excluded.checksum,
         last_modified = excluded.last_modified, blob_id = excluded.blob_id`,
        [uploadId, part.partNumber, part.size, part.etag, part.checksum ?? null, part.lastModified, part.blobId],
      );
    });
  }

  async listParts(uploadId: string, afterPart: number, limit: number): Promise<UploadPart[]> {
    const rows = await this.db.rows<{ part_number: number; size: number; etag: string; checksum: string | null; last_modified: number; blob_id: string }>(
      'SELECT * FROM upload_parts WHERE upload_id = $1 AND part_number > $2 ORDER BY part_number LIMIT $3',
      [uploadId, afterPart, limit],
    );
    return rows.map((r) => {
      const p: UploadPart = { partNumber: r.part_number, size: r.size, etag: r.etag, lastModified: r.last_modified, blobId: r.blob_id };
      if (r.checksum !== null) p.checksum = r.checksum;
      return p;
    });
  }

  async listUploads(bucketId: number, q: ListUploadsQuery): Promise<Upload[]> {
    const p = new Params();
    const b = p.add(bucketId);
    let range: string;
    let marker = '';
    if (q.keyMarker !== undefined && (q.startKey === undefined || compareKeys(q.keyMarker, q.startKey) >= 0)) {
      if (q.uploadIdMarker !== undefined) {
        range = keyRange(p, q.prefix, q.keyMarker, true);
        marker = ` AND (key, upload_id) > (${p.add(keyBytes(q.keyMarker))}, ${p.add(q.uploadIdMarker)})`;
      } else {
        range = keyRange(p, q.prefix, q.keyMarker, false);
      }
    } else {
      range = keyRange(p, q.prefix, q.startKey, true);
    }
    const sql = `SELECT * FROM uploads WHERE bucket_id = ${b}${range}${marker} ORDER BY key, upload_id LIMIT ${p.add(q.limit)}`;
    return (await this.db.rows<UploadRow>(sql, p.values)).map(toUpload);
  }

  async abortUpload(bucketId: number, uploadId: string, opts?: WriteOptions): Promise<void> {
    await this.writeWithWork(opts?.work, async (t) => {
      await this.lockedUpload(t, bucketId, uploadId);
      await this.dropUpload(t, uploadId);
      return {};
    });
  }

  async dropUpload(t: Tx, uploadId: string): Promise<void> {
    for (const p of await t.rows<{ blob_id: string }>('DELETE FROM upload_parts WHERE upload_id = $1 RETURNING blob_id', [uploadId])) this.release(t, p.blob_id);
    await t.run('DELETE FROM uploads WHERE upload_id = $1', [uploadId]);
  }

  completeUpload(
    bucketId: number,
    uploadId: string,
    content: ObjectContent,
    completion: Omit<CompletedUpload, 'versionId'>,
    conditions?: WriteConditions,
    opts?: WriteOptions,
  ): Promise<PutResult> {
    return this.writeWithWork(opts?.work, async (t) => {
      const bucket = await this.bucketState(t, bucketId);
      const up = await this.lockedUpload(t, bucketId, uploadId);
      const key = up.key.toString('utf8');
      // The parts the caller chose must still be the upload's parts (a part re-uploaded since it
      // was read would otherwise slip in or out).
      const current = new Map(
        (await t.rows<{ part_number: number; blob_id: string }>('SELECT part_number, blob_id FROM upload_parts WHERE upload_id = $1', [uploadId])).map((r) => [r.part_number, r.blob_id]),
      );
      for (const p of content.parts ?? []) {
        if (current.get(p.partNumber) !== p.blobId) throw new StoreError('InvalidPart', { uploadId, partNumber: p.partNumber });
      }
      const latest = await this.lockedLatest(t, bucketId, key);
      this.checkConditions(latest, conditions, key);
      // The object takes its own references on the chosen parts' blobs before the upload (and
      // with it every part's reference) goes away, so unused parts become garbage.
      const res = await this.placeVersion(t, bucket, key, { ...content, sharedData: true }, false, latest);
      await this.dropUpload(t, uploadId);
      await t.run('DELETE FROM completed_uploads WHERE completed_at < $1', [Date.now() - COMPLETION_MEMORY_MS]);
      await t.run(
        `INSERT INTO completed_uploads (upload_id, bucket_id, key, version_id, etag, checksum, parts_digest, completed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (upload_id) DO NOTHING`,
        [uploadId, bucketId, up.key, res.versionId, completion.etag, completion.checksum ? JSON.stringify(completion.checksum) : null, completion.partsDigest, completion.completedAt],
      );
      return res;
    });
  }

  async getCompletedUpload(bucketId: number, uploadId: string): Promise<CompletedUpload | undefined> {
    const r = await this.db.row<{ upload_id: string; bucket_id: number; key: Buffer; version_id: string; etag: string; checksum: string | null; parts_digest: string; completed_at: number }>(
      'SELECT * FROM completed_uploads WHERE upload_id = $1 AND bucket_id = $2',
      [uploadId, bucketId],
    );
    if (!r || r.completed_at < Date.now() - COMPLETION_MEMORY_MS) return undefined;
    const c: CompletedUpload = {
      uploadId: r.upload_id,
      bucketId: r.bucket_id,
      key: r.key.toString('utf8'),
      versionId: r.version_id,
      etag: r.etag,
      partsDigest: r.parts_digest,
      completedAt: r.completed_at,
    };
    if (r.checksum) c.checksum = JSON.parse(r.checksum) as StoredChecksum;
    return c;
  }

  // ---------------------------------------------------------------- blob garbage

  /**
   * Blobs at zero references, released at or before `releasedBefore` (committed is durable here).
   * Release times are the releasing node's clock, as the grace period is measured by this one's.
   */
  async takeGarbage(limit: number, releasedBefore = Number.MAX_SAFE_INTEGER): Promise<string[]> {
    return (await this.db.rows<{ id: string }>('SELECT id FROM blobs WHERE refs <= 0 AND coalesce(released_at, 0) <= $1 LIMIT $2', [releasedBefore, limit])).map((r) => r.id);
  }

  async forgetBlobs(blobIds: string[]): Promise<void> {
    if (blobIds.length === 0) return;
    await this.db.tx((t) => t.run('DELETE FROM blobs WHERE id = ANY($1::text[]) AND refs <= 0', [blobIds]));
  }

  async hasBlob(blobId: string): Promise<boolean> {
    return (await this.db.row('SELECT 1 FROM blobs WHERE id = $1', [blobId])) !== undefined;
  }
}
