// Rows of the PostgreSQL schema and their mapping to the MetaStore types. The JSON documents in
// `meta` columns are the SQLite store's, so both stores hold the same data the same way.

import type { ChecksumAlgorithm } from '../../../auth/checksums.js';
import type {
  Account,
  Bucket,
  ChecksumType,
  ListedObject,
  ObjectContent,
  ObjectVersion,
  Retention,
  Upload,
  VersioningState,
} from '../types.js';

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
}

export type ListedRow = Pick<
  ObjectRow,
  'key' | 'vid' | 'is_null' | 'is_latest' | 'delete_marker' | 'size' | 'etag' | 'last_modified' | 'owner' | 'storage_class' | 'checksum_alg' | 'checksum_type'
>;

export const LISTED_COLUMNS = 'key, vid, is_null, is_latest, delete_marker, size, etag, last_modified, owner, storage_class, checksum_alg, checksum_type';

/** Tags, retention, legal hold and ACL, as objects and uploads store them in their JSON. */
interface GovernanceJson {
  t?: [string, string][];
  r?: Retention;
  l?: boolean;
  a?: string;
}

type Governance = Pick<ObjectContent, 'tags' | 'retention' | 'legalHold' | 'acl'>;

export function governanceToJson(g: Governance, into: GovernanceJson): void {
  if (g.tags && g.tags.length) into.t = g.tags;
  if (g.retention) into.r = g.retention;
  if (g.legalHold !== undefined) into.l = g.legalHold;
  if (g.acl !== undefined) into.a = g.acl;
}

function governanceFromJson(j: GovernanceJson, into: Governance): void {
  if (j.t) into.tags = j.t;
  if (j.r) into.retention = j.r;
  if (j.l !== undefined) into.legalHold = j.l;
  if (j.a !== undefined) into.acl = j.a;
}

export interface ObjectMetaJson extends GovernanceJson {
  h?: Record<string, string>;
  m?: Record<string, string>;
  c?: string;
}

export interface UploadMetaJson extends GovernanceJson {
  sc: string;
  h: Record<string, string>;
  m: Record<string, string>;
  ca?: ChecksumAlgorithm;
  ct?: ChecksumType;
}

export function metaJson(c: Pick<ObjectContent, 'headers' | 'userMeta' | 'checksum' | 'tags' | 'retention' | 'legalHold' | 'acl'>): string | null {
  const m: ObjectMetaJson = {};
  if (Object.keys(c.headers).length) m.h = c.headers;
  if (Object.keys(c.userMeta).length) m.m = c.userMeta;
  if (c.checksum) m.c = c.checksum.value;
  governanceToJson(c, m);
  return Object.keys(m).length ? JSON.stringify(m) : null;
}

export function uploadMetaJson(u: Upload): string {
  const m: UploadMetaJson = { sc: u.storageClass, h: u.headers, m: u.userMeta };
  if (u.checksumAlgorithm) m.ca = u.checksumAlgorithm;
  if (u.checksumType) m.ct = u.checksumType;
  governanceToJson(u, m);
  return JSON.stringify(m);
}

/** The S3 version id of a row. */
export function versionIdOf(r: { vid: string; is_null: boolean }): string {
  return r.is_null ? 'null' : r.vid;
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
  const m: ObjectMetaJson = r.meta ? (JSON.parse(r.meta) as ObjectMetaJson) : {};
  const v: ObjectVersion = {
    ...rowBasics(r),
    rowId: r.id,
    bucketId: r.bucket_id,
    headers: m.h ?? {},
    userMeta: m.m ?? {},
  };
  if (r.checksum_alg && m.c !== undefined) {
    v.checksum = { algorithm: r.checksum_alg as ChecksumAlgorithm, value: m.c, type: (r.checksum_type ?? 'FULL_OBJECT') as ChecksumType };
  }
  governanceFromJson(m, v);
  if (r.inline) v.inline = r.inline;
  if (r.inline_crc !== null) v.inlineCrc = r.inline_crc;
  if (r.blob_id) v.blobId = r.blob_id;
  if (r.parts_count) v.partsCount = r.parts_count;
  return v;
}

/** Legal hold and retention of a row, for object lock checks. */
export function lockOf(r: Pick<ObjectRow, 'meta'>): { legalHold?: boolean; retention?: Retention } {
  if (!r.meta) return {};
  const m = JSON.parse(r.meta) as ObjectMetaJson;
  const out: { legalHold?: boolean; retention?: Retention } = {};
  if (m.l !== undefined) out.legalHold = m.l;
  if (m.r) out.retention = m.r;
  return out;
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
  const m = JSON.parse(r.meta) as UploadMetaJson;
  const u: Upload = {
    uploadId: r.upload_id,
    bucketId: r.bucket_id,
    key: r.key.toString('utf8'),
    initiated: r.initiated,
    owner: r.owner,
    storageClass: m.sc,
    headers: m.h,
    userMeta: m.m,
  };
  if (m.ca) u.checksumAlgorithm = m.ca;
  if (m.ct) u.checksumType = m.ct;
  governanceFromJson(m, u);
  return u;
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
