// MetaStore: the ordered, transactional metadata store behind Trove. SQLite is the embedded
// default; PostgreSQL implements the same interface for scale-out. Protocol code talks only to
// this interface.
//
// Keys compare as UTF-8 bytes everywhere. Every object record carries a version id ('null' for the
// null version); the latest version of each key is found by an index. Every write method resolves
// only once its transaction is durable.

import type { ChecksumAlgorithm } from '../../auth/checksums.js';

export type VersioningState = 'Unversioned' | 'Enabled' | 'Suspended';

export interface Bucket {
  id: number;
  name: string;
  /** Canonical user id of the owner. */
  owner: string;
  /** ms since epoch */
  createdAt: number;
  region: string;
  versioning: VersioningState;
  objectLock: boolean;
}

/** Per-bucket configuration documents (stored as opaque strings, usually JSON or XML). */
export type BucketConfigKind =
  | 'tagging'
  | 'object-lock'
  | 'policy'
  | 'cors'
  | 'lifecycle'
  | 'acl'
  | 'encryption'
  | 'website'
  | 'ownership'
  | 'public-access-block'
  | 'notification'
  | 'logging'
  | 'accelerate'
  | 'request-payment'
  | 'replication';

export type ChecksumType = 'FULL_OBJECT' | 'COMPOSITE';

export interface StoredChecksum {
  algorithm: ChecksumAlgorithm;
  /** base64 of the digest; for COMPOSITE multipart checksums "…-N" as S3 shows it. */
  value: string;
  type: ChecksumType;
}

export interface Retention {
  mode: 'GOVERNANCE' | 'COMPLIANCE';
  /** ms since epoch */
  until: number;
}

/** The content of an object version, as written by PutObject / Copy / Complete. */
export interface ObjectContent {
  size: number;
  /** ETag without quotes: hex MD5, or "<hex>-N" for multipart. */
  etag: string;
  /** ms since epoch */
  lastModified: number;
  owner: string;
  storageClass: string;
  /** Stored representation headers (lower-case names): content-type, content-encoding,
   *  content-disposition, content-language, cache-control, expires, x-amz-website-redirect-location. */
  headers: Record<string, string>;
  /** x-amz-meta-* with the prefix removed (lower-case names). */
  userMeta: Record<string, string>;
  checksum?: StoredChecksum;
  tags?: [string, string][];
  retention?: Retention;
  legalHold?: boolean;
  /** Serialised ACL (owned by authz/). */
  acl?: string;
  /** Exactly one of inline / blobId / parts describes where the bytes are. */
  inline?: Buffer;
  blobId?: string;
  /** Multipart objects: parts in order, each its own blob. */
  parts?: ObjectPart[];
  /**
   * The blobs already belong to other records (a copy, a completed upload's parts): the write
   * takes another reference and fails with NoSuchKey if they were released meanwhile. Otherwise
   * they are fresh blobs written for this request.
   */
  sharedData?: boolean;
}

export interface ObjectPart {
  partNumber: number;
  /** Offset of this part's first byte within the object. */
  offset: number;
  size: number;
  etag: string;
  checksum?: string;
  blobId: string;
}

export interface ObjectVersion extends Omit<ObjectContent, 'parts'> {
  bucketId: number;
  key: string;
  /** 'null' for the null version. */
  versionId: string;
  isLatest: boolean;
  deleteMarker: boolean;
  /** Number of parts for multipart objects (fetch them with getObjectParts). */
  partsCount?: number;
  /** CRC32 of `inline`, recorded when it was written (absent in rows older than the checksums). */
  inlineCrc?: number;
  /** Store-internal identity of this version row (used to fetch parts). */
  rowId: number;
}

/** Write preconditions, checked inside the transaction (compare-and-swap). */
export interface WriteConditions {
  /** '*' (key must not exist) … */
  ifNoneMatch?: string;
  /** … or an ETag (without quotes) the current object must have. */
  ifMatch?: string;
}

export interface PutResult {
  versionId: string;
  /** The version this write displaced as latest, if any. */
  previous?: { versionId: string; deleteMarker: boolean };
}

export interface DeleteOptions {
  /** Delete this exact version; without it, the S3 "simple delete" semantics apply. */
  versionId?: string;
  /** x-amz-bypass-governance-retention: true, from a caller allowed to bypass. */
  bypassGovernance?: boolean;
  /** ms since epoch, for retention checks. */
  now: number;
  conditions?: WriteConditions;
}

export interface DeleteResult {
  /** The version removed or the delete marker created (undefined if nothing existed). */
  versionId?: string;
  /** True when a delete marker was created, or the deleted version was a delete marker. */
  deleteMarker: boolean;
}

export interface ListedObject {
  key: string;
  versionId: string;
  isLatest: boolean;
  deleteMarker: boolean;
  size: number;
  etag: string;
  lastModified: number;
  owner: string;
  storageClass: string;
  checksumAlgorithm?: ChecksumAlgorithm;
  checksumType?: ChecksumType;
}

export interface ListObjectsQuery {
  /** Only keys starting with this prefix. */
  prefix: string;
  /** Start at this key … */
  start?: string;
  /** … including it (default: exclusive). */
  startInclusive?: boolean;
  limit: number;
}

export interface ListVersionsQuery {
  prefix: string;
  /** Resume after (keyMarker, versionIdMarker) in listing order; without versionIdMarker after every version of keyMarker. */
  keyMarker?: string;
  versionIdMarker?: string;
  /** Start at this key (inclusive), used to seek past a common prefix. */
  startKey?: string;
  limit: number;
}

export interface User {
  id: string;
  displayName: string;
  createdAt: number;
}

export interface AccessKey {
  accessKeyId: string;
  secretAccessKey: string;
  userId: string;
  createdAt: number;
}

export interface Upload {
  uploadId: string;
  bucketId: number;
  key: string;
  /** ms since epoch */
  initiated: number;
  owner: string;
  storageClass: string;
  headers: Record<string, string>;
  userMeta: Record<string, string>;
  checksumAlgorithm?: ChecksumAlgorithm;
  checksumType?: ChecksumType;
  tags?: [string, string][];
  retention?: Retention;
  legalHold?: boolean;
  acl?: string;
}

export interface UploadPart {
  partNumber: number;
  size: number;
  etag: string;
  /** base64 checksum of the part in the upload's algorithm */
  checksum?: string;
  lastModified: number;
  blobId: string;
  /** The blob already belongs to an object (UploadPartCopy of a whole single-blob object). */
  shared?: boolean;
}

/** What a completed upload answered, so that repeating the same Complete answers the same. */
export interface CompletedUpload {
  uploadId: string;
  bucketId: number;
  key: string;
  versionId: string;
  etag: string;
  checksum?: StoredChecksum;
  /** Fingerprint of the part list the upload was completed with. */
  partsDigest: string;
  completedAt: number;
}

export interface ListUploadsQuery {
  prefix: string;
  keyMarker?: string;
  uploadIdMarker?: string;
  /** Start at this key (inclusive), used to seek past a common prefix. */
  startKey?: string;
  limit: number;
}

/**
 * Setting present ('1') when the data directory holds blob files written before blob files had
 * checksums (recorded when its metadata was upgraded): such files are served unverified.
 */
export const LEGACY_BLOBS_SETTING = 'legacy-blobs';

export interface MetaStore {
  close(): Promise<void>;

  /** Small server-wide settings (e.g. the root user's id). */
  getSetting(name: string): Promise<string | undefined>;
  putSetting(name: string, value: string): Promise<void>;

  // users and keys
  getAccessKey(accessKeyId: string): Promise<AccessKey | undefined>;
  getUser(id: string): Promise<User | undefined>;
  putUser(user: User): Promise<void>;
  putAccessKey(key: AccessKey): Promise<void>;
  listUsers(): Promise<User[]>;

  // buckets
  createBucket(b: Omit<Bucket, 'id'>): Promise<Bucket>;
  getBucket(name: string): Promise<Bucket | undefined>;
  listBuckets(owner: string | undefined, opts: { prefix?: string; after?: string; limit: number }): Promise<Bucket[]>;
  /** Fails with BucketNotEmpty when any object version remains; aborts open multipart uploads. */
  deleteBucket(bucketId: number): Promise<void>;
  /** Fails with InvalidBucketState when suspending a bucket that has object lock. */
  setVersioning(bucketId: number, state: VersioningState): Promise<void>;
  /** Turns object lock on for good; fails with InvalidBucketState unless versioning is Enabled. */
  enableObjectLock(bucketId: number): Promise<void>;
  getBucketConfig(bucketId: number, kind: BucketConfigKind): Promise<string | undefined>;
  /** value undefined deletes the document. */
  putBucketConfig(bucketId: number, kind: BucketConfigKind, value: string | undefined): Promise<void>;

  // objects
  /** Latest version (which may be a delete marker), or the given version. */
  getObject(bucketId: number, key: string, versionId?: string): Promise<ObjectVersion | undefined>;
  getObjectParts(rowId: number, fromPart?: number, limit?: number): Promise<ObjectPart[]>;
  /**
   * Writes a new version following the bucket's versioning state (read inside the transaction):
   * Unversioned/Suspended replace the 'null' version, Enabled adds a new version id.
   * Conditions are checked atomically (PreconditionFailed / NoSuchKey).
   */
  putObject(bucketId: number, key: string, content: ObjectContent, conditions?: WriteConditions): Promise<PutResult>;
  deleteObject(bucketId: number, key: string, opts: DeleteOptions): Promise<DeleteResult>;
  /**
   * Updates tags / retention / legal hold / acl of one version in place (the latest when no
   * version id is given). `check`, if given, sees the current version inside the transaction and
   * may throw to refuse the change (e.g. shortening a retention period).
   */
  updateObject(
    bucketId: number,
    key: string,
    versionId: string | undefined,
    patch: Partial<Pick<ObjectContent, 'tags' | 'retention' | 'legalHold' | 'acl'>>,
    check?: (current: ObjectVersion) => void,
  ): Promise<ObjectVersion>;
  /** Latest, non-delete-marker versions in key (UTF-8 byte) order. */
  listObjects(bucketId: number, q: ListObjectsQuery): Promise<ListedObject[]>;
  /** Every version and delete marker: key ascending, newest first within a key. */
  listVersions(bucketId: number, q: ListVersionsQuery): Promise<ListedObject[]>;

  // multipart uploads
  createUpload(u: Upload): Promise<void>;
  getUpload(bucketId: number, uploadId: string): Promise<Upload | undefined>;
  /** Adds or replaces a part. Fails with NoSuchUpload if the upload is gone. */
  putPart(bucketId: number, uploadId: string, part: UploadPart): Promise<void>;
  listParts(uploadId: string, afterPart: number, limit: number): Promise<UploadPart[]>;
  listUploads(bucketId: number, q: ListUploadsQuery): Promise<Upload[]>;
  /** Removes the upload and releases its parts. Fails with NoSuchUpload. */
  abortUpload(bucketId: number, uploadId: string): Promise<void>;
  /**
   * Atomically turns the upload into an object version made of the given parts (which must be
   * the upload's current parts, else InvalidPart); releases parts not used; removes the upload
   * and records `completion` (with the new version id) for getCompletedUpload.
   */
  completeUpload(
    bucketId: number,
    uploadId: string,
    content: ObjectContent,
    completion: Omit<CompletedUpload, 'versionId'>,
    conditions?: WriteConditions,
  ): Promise<PutResult>;
  /** A completion recorded by completeUpload (kept for a day). */
  getCompletedUpload(bucketId: number, uploadId: string): Promise<CompletedUpload | undefined>;

  // blob garbage: blobs no longer referenced by any record, to be deleted from the BlobStore
  takeGarbage(limit: number): Promise<string[]>;
  forgetBlobs(blobIds: string[]): Promise<void>;
  /** True if the blob id is known (referenced or awaiting deletion). */
  hasBlob(blobId: string): Promise<boolean>;
}
