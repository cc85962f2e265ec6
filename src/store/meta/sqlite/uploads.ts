// Multipart uploads: create, parts, listing, abort, completion into an object version, and the
// memory of recent completions (for idempotent re-completion).

import { StoreError } from '../../errors.js';
import { compareKeys } from '../../keys.js';
import { uploadMetaJson } from '../common/json.js';
import { COMPLETION_MEMORY_MS } from '../common/rules.js';
import type { CompletedUpload, ListUploadsQuery, ObjectContent, PutResult, StoredChecksum, Upload, UploadPart, WriteConditions, WriteOptions } from '../types.js';
import { addRef, release } from './blobs.js';
import { bucketState } from './buckets.js';
import { OBJECTS_ONLY, type Ctx } from './context.js';
import { checkRowConditions, latestRow, placeVersion, withWork } from './objects.js';
import { keyRange, toUpload, toUploadPart, type CompletedRow, type UploadPartRow, type UploadRow } from './rows.js';

export async function createUpload(c: Ctx, u: Upload): Promise<void> {
  const meta = uploadMetaJson(u);
  await c.commit.write(() => {
    bucketState(c, u.bucketId);
    c.stmt.insertUpload.run(u.uploadId, u.bucketId, u.key, u.initiated, u.owner, meta);
  }, OBJECTS_ONLY);
}

export async function getUpload(c: Ctx, bucketId: number, uploadId: string): Promise<Upload | undefined> {
  if (c.commit.unsynced) await c.commit.unsynced;
  const r = c.stmt.getUpload.get(uploadId, bucketId) as UploadRow | undefined;
  return r && toUpload(r);
}

export async function putPart(c: Ctx, bucketId: number, uploadId: string, part: UploadPart): Promise<void> {
  await c.commit.write(() => {
    if (!c.stmt.getUpload.get(uploadId, bucketId)) throw new StoreError('NoSuchUpload', { uploadId });
    const old = c.stmt.getPart.get(uploadId, part.partNumber) as { blob_id: string } | undefined;
    addRef(c, part.blobId, part.shared === true);
    if (old) release(c, old.blob_id);
    c.stmt.putPart.run(uploadId, part.partNumber, part.size, part.etag, part.checksum ?? null, part.lastModified, part.blobId);
  }, OBJECTS_ONLY);
}

export async function listParts(c: Ctx, uploadId: string, afterPart: number, limit: number): Promise<UploadPart[]> {
  if (c.commit.unsynced) await c.commit.unsynced;
  return (c.stmt.listParts.all(uploadId, afterPart, limit) as UploadPartRow[]).map(toUploadPart);
}

export async function listUploads(c: Ctx, bucketId: number, q: ListUploadsQuery): Promise<Upload[]> {
  if (c.commit.unsynced) await c.commit.unsynced;
  let w = keyRange(q.prefix, q.startKey, true);
  let markerSql = '';
  const markerArgs: string[] = [];
  if (q.keyMarker !== undefined && (q.startKey === undefined || compareKeys(q.keyMarker, q.startKey) >= 0)) {
    if (q.uploadIdMarker !== undefined) {
      w = keyRange(q.prefix, q.keyMarker, true);
      markerSql = ' AND (key > ? OR upload_id > ?)';
      markerArgs.push(q.keyMarker, q.uploadIdMarker);
    } else {
      w = keyRange(q.prefix, q.keyMarker, false);
    }
  }
  const sql = `SELECT * FROM uploads WHERE bucket_id = ?${w.sql}${markerSql} ORDER BY key, upload_id LIMIT ?`;
  return (c.cached(sql).all(bucketId, ...w.args, ...markerArgs, q.limit) as UploadRow[]).map(toUpload);
}

export async function abortUpload(c: Ctx, bucketId: number, uploadId: string, opts?: WriteOptions): Promise<void> {
  await c.commit.write(() =>
    withWork(c, opts?.work, () => {
      if (!c.stmt.getUpload.get(uploadId, bucketId)) throw new StoreError('NoSuchUpload', { uploadId });
      dropUpload(c, uploadId);
      return {};
    }),
    OBJECTS_ONLY,
  );
}

/** Removes an upload and releases its parts (inside a write). */
export function dropUpload(c: Ctx, uploadId: string): void {
  for (const p of c.stmt.uploadPartBlobs.all(uploadId) as { blob_id: string }[]) release(c, p.blob_id);
  c.stmt.deleteUploadParts.run(uploadId);
  c.stmt.deleteUpload.run(uploadId);
}

export function completeUpload(
  c: Ctx,
  bucketId: number,
  uploadId: string,
  content: ObjectContent,
  completion: Omit<CompletedUpload, 'versionId'>,
  conditions?: WriteConditions,
  opts?: WriteOptions,
): Promise<PutResult> {
  return c.commit.write(() => withWork(c, opts?.work, () => {
    const bucket = bucketState(c, bucketId);
    const up = c.stmt.getUpload.get(uploadId, bucketId) as { key: string } | undefined;
    if (!up) throw new StoreError('NoSuchUpload', { uploadId });
    // The parts the caller chose must still be the upload's parts (a part re-uploaded since it
    // was read would otherwise slip in or out).
    for (const p of content.parts ?? []) {
      const cur = c.stmt.getPart.get(uploadId, p.partNumber) as { blob_id: string } | undefined;
      if (!cur || cur.blob_id !== p.blobId) throw new StoreError('InvalidPart', { uploadId, partNumber: p.partNumber });
    }
    const latest = latestRow(c, bucketId, up.key);
    checkRowConditions(latest, conditions, up.key);
    // The object takes its own references on the chosen parts' blobs before the upload (and
    // with it every part's reference) goes away, so unused parts become garbage.
    const res = placeVersion(c, bucket, up.key, { ...content, sharedData: true }, false, latest);
    dropUpload(c, uploadId);
    c.stmt.expireCompleted.run(Date.now() - COMPLETION_MEMORY_MS);
    c.stmt.insertCompleted.run(
      uploadId,
      bucketId,
      up.key,
      res.versionId,
      completion.etag,
      completion.checksum ? JSON.stringify(completion.checksum) : null,
      completion.partsDigest,
      completion.completedAt,
    );
    return res;
  }), OBJECTS_ONLY);
}

export async function getCompletedUpload(c: Ctx, bucketId: number, uploadId: string): Promise<CompletedUpload | undefined> {
  if (c.commit.unsynced) await c.commit.unsynced;
  const r = c.stmt.getCompleted.get(uploadId, bucketId) as CompletedRow | undefined;
  if (!r || r.completed_at < Date.now() - COMPLETION_MEMORY_MS) return undefined;
  const done: CompletedUpload = {
    uploadId: r.upload_id,
    bucketId: r.bucket_id,
    key: r.key,
    versionId: r.version_id,
    etag: r.etag,
    partsDigest: r.parts_digest,
    completedAt: r.completed_at,
  };
  if (r.checksum) done.checksum = JSON.parse(r.checksum) as StoredChecksum;
  return done;
}
