// The one place where the store's refusals (StoreError) become S3's errors: code, message, the
// extra elements inside <Error> and extra headers, exactly as S3 answers them. Every catch site
// that renders or inspects an S3 error goes through asS3Error.

import { StoreError } from '../store/errors.js';
import { S3Error } from './errors.js';

const OBJECT_LOCKED = 'Access Denied because object protected by object lock.';

export function fromStoreError(e: StoreError): S3Error {
  const d = e.details;
  switch (e.code) {
    case 'NoSuchBucket':
      return new S3Error('NoSuchBucket');
    case 'BucketAlreadyExists':
    case 'BucketAlreadyOwnedByYou':
    case 'BucketNotEmpty':
      return new S3Error(e.code, undefined, { BucketName: d.bucket });
    case 'InvalidBucketState':
      return new S3Error(
        'InvalidBucketState',
        d.reason === 'object-lock-present'
          ? 'An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.'
          : "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration",
      );
    case 'PreconditionFailed':
      return new S3Error('PreconditionFailed', undefined, { Condition: d.condition });
    case 'NoSuchKey':
      return new S3Error('NoSuchKey', undefined, { Key: d.key });
    case 'NoSuchVersion':
      return new S3Error('NoSuchVersion', undefined, { Key: d.key, VersionId: d.versionId });
    case 'MethodNotAllowed':
      return new S3Error('MethodNotAllowed', undefined, {}, { 'x-amz-delete-marker': 'true', allow: 'DELETE' });
    case 'NoSuchUpload':
      return new S3Error('NoSuchUpload', undefined, { UploadId: d.uploadId });
    case 'InvalidPart':
      return new S3Error('InvalidPart', undefined, { UploadId: d.uploadId, PartNumber: d.partNumber });
    case 'ObjectLocked':
      return new S3Error('AccessDenied', OBJECT_LOCKED);
    case 'SourceGone':
      return new S3Error('NoSuchKey', 'The source object was deleted while it was being copied.');
    case 'QuotaExceeded':
      return new S3Error(
        'QuotaExceeded',
        d.quotaScope === 'account'
          ? "This write would exceed the storage quota of the bucket owner's account (bytes or objects)."
          : "This write would exceed the bucket's storage quota (bytes or objects).",
      );
    case 'InsufficientDrives':
      return new S3Error('ServiceUnavailable', "Too few of the bucket storage policy's drives are available to store the object durably; retry later.");
  }
}

/** The S3 error a failure is (an S3Error, or a StoreError in S3's words); undefined for any other. */
export function asS3Error(e: unknown): S3Error | undefined {
  if (e instanceof S3Error) return e;
  if (e instanceof StoreError) return fromStoreError(e);
  return undefined;
}
