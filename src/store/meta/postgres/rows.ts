// Rows of the PostgreSQL schema and their mapping to the MetaStore types. The JSON documents in
// `meta` columns are the SQLite store's (common/json.ts), so both stores hold the same data the
// same way.

import type { ChecksumAlgorithm } from '../../../common/checksums.js';
import { objectMetaInto, parseObjectMeta, uploadFromJson } from '../common/json.js';
import { s3VersionId } from '../common/rules.js';
import type { TierState, Account, Bucket, ChecksumType, ListedObject, ObjectVersion, Retention, Upload, VersioningState } from '../types.js';

/** Object and upload keys are stored as their UTF-8 bytes. */
export function keyBytes(key: string): Buffer {
  return Buffer.from(key, 'utf8');
}

export interface ObjectRow {
  id: number;
  bucket_id: number;
  key: Buffer;
  vid: string;
  is_null: boolean;
  is_latest: boolean;
  delete_marker: boolean;
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

/** The S3 version id of a row. */
export function versionIdOf(r: { vid: string; is_null: boolean }): string {
  return s3VersionId(r.vid, r.is_null);
}

function rowBasics(r: ListedRow) {
  return {
    key: r.key.toString('utf8'),
    versionId: versionIdOf(r),
    isLatest: r.is_latest,
    deleteMarker: r.delete_marker,
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
  const v: ObjectVersion = { ...rowBasics(r), rowId: r.id, bucketId: r.bucket_id, headers: {}, userMeta: {} };
  objectMetaInto(v, r.meta, r.checksum_alg, r.checksum_type);
  if (r.inline) v.inline = r.inline;
  if (r.inline_crc !== null) v.inlineCrc = r.inline_crc;
  if (r.blob_id) v.blobId = r.blob_id;
  if (r.parts_count) v.partsCount = r.parts_count;
  if (r.tier) v.tier = JSON.parse(r.tier) as TierState;
  return v;
}

/** Legal hold and retention of a row, for object lock checks. */
export function lockOf(r: Pick<ObjectRow, 'meta'>): { legalHold?: boolean | undefined; retention?: Retention | undefined } {
  const m = parseObjectMeta(r.meta);
  return { legalHold: m.l, retention: m.r };
}

export interface UploadRow {
  upload_id: string;
  bucket_id: number;
  key: Buffer;
  initiated: number;
  owner: string;
  meta: string;
}

export function toUpload(r: UploadRow): Upload {
  return uploadFromJson({ uploadId: r.upload_id, bucketId: r.bucket_id, key: r.key.toString('utf8'), initiated: r.initiated, owner: r.owner }, r.meta);
}

export interface AccountRow {
  id: string;
  display_name: string;
  created_at: number;
  account_id: string;
  email: string | null;
}

export function toAccount(r: AccountRow): Account {
  const a: Account = { id: r.id, accountId: r.account_id, displayName: r.display_name, createdAt: r.created_at };
  if (r.email !== null) a.email = r.email;
  return a;
}

export interface BucketRow {
  id: number;
  name: string;
  owner: string;
  created_at: number;
  region: string;
  versioning: string;
  object_lock: boolean;
}

export function toBucket(r: BucketRow): Bucket {
  return {
    id: r.id,
    name: r.name,
    owner: r.owner,
    createdAt: r.created_at,
    region: r.region,
    versioning: r.versioning as VersioningState,
    objectLock: r.object_lock,
  };
}
