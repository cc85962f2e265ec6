// Rows as SQLite returns them, and their mapping to the MetaStore's records.

import type { ChecksumAlgorithm } from '../../../common/checksums.js';
import { objectMetaInto, uploadFromJson } from '../common/json.js';
import { keyBounds, s3VersionId } from '../common/rules.js';
import type { TierState, Account, Bucket, ChecksumType, ListedObject, ObjectPart, ObjectVersion, Upload, UploadPart, VersioningState } from '../types.js';

export interface ObjectRow {
  id: number;
  bucket_id: number;
  key: string;
  vid: string;
  is_null: number;
  is_latest: number;
  delete_marker: number;
  size: number;
  etag: string;
  last_modified: number;
  owner: string;
  storage_class: string;
  checksum_alg: string | null;
  checksum_type: string | null;
  meta: string | null;
  inline: Buffer | null;
  inline_crc: number | null;
  blob_id: string | null;
  parts_count: number | null;
  tier: string | null;
}

export type ListedRow = Pick<
  ObjectRow,
  'key' | 'vid' | 'is_null' | 'is_latest' | 'delete_marker' | 'size' | 'etag' | 'last_modified' | 'owner' | 'storage_class' | 'checksum_alg' | 'checksum_type'
>;

export const LISTED_COLUMNS = 'key, vid, is_null, is_latest, delete_marker, size, etag, last_modified, owner, storage_class, checksum_alg, checksum_type';

export interface AccountRow {
  id: string;
  display_name: string;
  created_at: number;
  account_id: string;
  email: string | null;
}

export interface BucketRow {
  id: number;
  name: string;
  owner: string;
  created_at: number;
  region: string;
  versioning: string;
  object_lock: number;
}

export interface UploadRow {
  upload_id: string;
  bucket_id: number;
  key: string;
  initiated: number;
  owner: string;
  meta: string;
}

export interface UploadPartRow {
  part_number: number;
  size: number;
  etag: string;
  checksum: string | null;
  last_modified: number;
  blob_id: string;
}

export interface ObjectPartRow {
  part_number: number;
  part_offset: number;
  size: number;
  etag: string;
  checksum: string | null;
  blob_id: string;
}

export interface CompletedRow {
  upload_id: string;
  bucket_id: number;
  key: string;
  version_id: string;
  etag: string;
  checksum: string | null;
  parts_digest: string;
  completed_at: number;
}

export function toAccount(r: AccountRow): Account {
  const a: Account = { id: r.id, accountId: r.account_id, displayName: r.display_name, createdAt: r.created_at };
  if (r.email !== null) a.email = r.email;
  return a;
}

export function toBucket(r: BucketRow): Bucket {
  return {
    id: r.id,
    name: r.name,
    owner: r.owner,
    createdAt: r.created_at,
    region: r.region,
    versioning: r.versioning as VersioningState,
    objectLock: r.object_lock === 1,
  };
}

/** The S3 version id of a row. */
export function versionIdOf(r: { vid: string; is_null: number }): string {
  return s3VersionId(r.vid, r.is_null === 1);
}

/** The columns a listed entry and a full version have in common. */
function rowBasics(r: ListedRow) {
  return {
    key: r.key,
    versionId: versionIdOf(r),
    isLatest: r.is_latest === 1,
    deleteMarker: r.delete_marker === 1,
    size: r.size,
    etag: r.etag,
    lastModified: r.last_modified,
    owner: r.owner,
    storageClass: r.storage_class,
  };
}

export function toListed(r: ListedRow): ListedObject {
  const o: ListedObject = rowBasics(r);
  if (r.checksum_alg) o.checksumAlgorithm = r.checksum_alg as ChecksumAlgorithm;
  if (r.checksum_type) o.checksumType = r.checksum_type as ChecksumType;
  return o;
}

export function toVersion(r: ObjectRow): ObjectVersion {
  const v: ObjectVersion = {
    ...rowBasics(r),
    rowId: r.id,
    bucketId: r.bucket_id,
    headers: {},
    userMeta: {},
  };
  objectMetaInto(v, r.meta, r.checksum_alg, r.checksum_type);
  if (r.inline) v.inline = r.inline;
  if (r.inline_crc !== null) v.inlineCrc = r.inline_crc;
  if (r.blob_id) v.blobId = r.blob_id;
  if (r.parts_count) v.partsCount = r.parts_count;
  if (r.tier) v.tier = JSON.parse(r.tier) as TierState;
  return v;
}

export function toUpload(r: UploadRow): Upload {
  return uploadFromJson({ uploadId: r.upload_id, bucketId: r.bucket_id, key: r.key, initiated: r.initiated, owner: r.owner }, r.meta);
}

export function toUploadPart(r: UploadPartRow): UploadPart {
  const p: UploadPart = { partNumber: r.part_number, size: r.size, etag: r.etag, lastModified: r.last_modified, blobId: r.blob_id };
  if (r.checksum !== null) p.checksum = r.checksum;
  return p;
}

export function toObjectPart(r: ObjectPartRow): ObjectPart {
  const p: ObjectPart = { partNumber: r.part_number, offset: r.part_offset, size: r.size, etag: r.etag, blobId: r.blob_id };
  if (r.checksum !== null) p.checksum = r.checksum;
  return p;
}

/** SQL bounds on `key` for "keys with this prefix, from `start` on" (see keyBounds). */
export function keyRange(prefix: string, start: string | undefined, startInclusive: boolean): { sql: string; args: string[] } {
  const b = keyBounds(prefix, start, startInclusive);
  let sql = '';
  const args: string[] = [];
  if (b.lower) {
    sql += b.lower.inclusive ? ' AND key >= ?' : ' AND key > ?';
    args.push(b.lower.key);
  }
  if (b.upper !== undefined) {
    sql += ' AND key < ?';
    args.push(b.upper);
  }
  return { sql, args };
}
