// What a store refuses, in its own words. Every MetaStore implementation throws these from inside
// its transactions; the S3 layer turns them into S3's errors in one place (s3/store-errors.ts).
// The store knows nothing of HTTP statuses, S3 messages or XML.

export type StoreErrorCode =
  /** The bucket does not exist (or was deleted meanwhile). */
  | 'NoSuchBucket'
  /** Creating a bucket whose name another owner has. */
  | 'BucketAlreadyExists'
  /** Creating a bucket whose name the same owner has. */
  | 'BucketAlreadyOwnedByYou'
  /** Deleting a bucket that still has an object version. */
  | 'BucketNotEmpty'
  /** A versioning / object-lock change the bucket's state forbids (see `reason`). */
  | 'InvalidBucketState'
  /** A write condition (If-None-Match / If-Match, see `condition`) did not hold. */
  | 'PreconditionFailed'
  /** The key has no current version (If-Match on a missing key, updating a missing object). */
  | 'NoSuchKey'
  /** The version does not exist. */
  | 'NoSuchVersion'
  /** Updating a delete marker. */
  | 'MethodNotAllowed'
  /** The multipart upload does not exist (aborted, completed, never created). */
  | 'NoSuchUpload'
  /** A part chosen for completion is not the upload's current part of that number. */
  | 'InvalidPart'
  /** Deleting a version under legal hold or unexpired retention. */
  | 'ObjectLocked'
  /** A write that shares existing data (a copy) found it released meanwhile. */
  | 'SourceGone'
  /** A write would take a bucket or its owner account past a quota (see `quotaScope`). */
  | 'QuotaExceeded'
  /** Fewer drives than a storage policy's write quorum could take a write (store/blob/drives.ts). */
  | 'InsufficientDrives';

export interface StoreErrorDetails {
  bucket?: string;
  key?: string;
  versionId?: string;
  uploadId?: string;
  partNumber?: number;
  condition?: 'If-None-Match' | 'If-Match' | 'x-amz-if-match-last-modified-time' | 'x-amz-if-match-size';
  /** InvalidBucketState: object lock forbids leaving Enabled, or object lock needs Enabled. */
  reason?: 'object-lock-present' | 'versioning-not-enabled';
  /** QuotaExceeded: whose quota. */
  quotaScope?: 'bucket' | 'account';
}

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    readonly details: StoreErrorDetails = {},
  ) {
    super(`${code}${details.key !== undefined ? ` (key ${JSON.stringify(details.key)})` : ''}`);
    this.name = 'StoreError';
  }
}

export function isStoreError(e: unknown): e is StoreError {
  return e instanceof StoreError;
}
