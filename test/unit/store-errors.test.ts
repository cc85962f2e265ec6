// StoreError → S3Error: every code the store throws becomes the S3 error (code, status, message,
// extra <Error> elements, headers) that the store itself used to throw before it had its own type.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ERRORS, S3Error } from '../../src/s3/errors.js';
import { asS3Error, fromStoreError } from '../../src/s3/store-errors.js';
import { StoreError, type StoreErrorCode } from '../../src/store/errors.js';

type Expected = [code: keyof typeof ERRORS, message: string | undefined, details: Record<string, unknown>, headers?: Record<string, string>];

const CASES: [StoreError, Expected][] = [
  [new StoreError('NoSuchBucket'), ['NoSuchBucket', undefined, {}]],
  [new StoreError('BucketAlreadyExists', { bucket: 'b' }), ['BucketAlreadyExists', undefined, { BucketName: 'b' }]],
  [new StoreError('BucketAlreadyOwnedByYou', { bucket: 'b' }), ['BucketAlreadyOwnedByYou', undefined, { BucketName: 'b' }]],
  [new StoreError('BucketNotEmpty', { bucket: 'b' }), ['BucketNotEmpty', undefined, { BucketName: 'b' }]],
  [
    new StoreError('InvalidBucketState', { bucket: 'b', reason: 'object-lock-present' }),
    ['InvalidBucketState', 'An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.', {}],
  ],
  [
    new StoreError('InvalidBucketState', { bucket: 'b', reason: 'versioning-not-enabled' }),
    ['InvalidBucketState', "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration", {}],
  ],
  [new StoreError('PreconditionFailed', { condition: 'If-None-Match' }), ['PreconditionFailed', undefined, { Condition: 'If-None-Match' }]],
  [new StoreError('PreconditionFailed', { condition: 'If-Match' }), ['PreconditionFailed', undefined, { Condition: 'If-Match' }]],
  [new StoreError('NoSuchKey', { key: 'k' }), ['NoSuchKey', undefined, { Key: 'k' }]],
  [new StoreError('NoSuchVersion', { key: 'k', versionId: 'v' }), ['NoSuchVersion', undefined, { Key: 'k', VersionId: 'v' }]],
  [new StoreError('MethodNotAllowed', { key: 'k', versionId: 'v' }), ['MethodNotAllowed', undefined, {}, { 'x-amz-delete-marker': 'true', allow: 'DELETE' }]],
  [new StoreError('NoSuchUpload', { uploadId: 'u' }), ['NoSuchUpload', undefined, { UploadId: 'u' }]],
  [new StoreError('InvalidPart', { uploadId: 'u', partNumber: 3 }), ['InvalidPart', undefined, { UploadId: 'u', PartNumber: 3 }]],
  [new StoreError('ObjectLocked'), ['AccessDenied', 'Access Denied because object protected by object lock.', {}]],
  [new StoreError('SourceGone'), ['NoSuchKey', 'The source object was deleted while it was being copied.', {}]],
];

describe('StoreError → S3Error', () => {
  it('covers every store error code', () => {
    const codes = new Set<StoreErrorCode>(CASES.map(([e]) => e.code));
    assert.equal(codes.size, 13);
  });

  for (const [e, [code, message, details, headers]] of CASES) {
    it(`${e.code}${e.details.reason ? ` (${e.details.reason})` : ''} → ${code}`, () => {
      const s = fromStoreError(e);
      assert.ok(s instanceof S3Error);
      assert.equal(s.code, code);
      assert.equal(s.status, ERRORS[code][0]);
      assert.equal(s.message, message ?? ERRORS[code][1]);
      // Rendered elements are the defined ones, in this order.
      assert.deepEqual(Object.entries(s.details).filter(([, v]) => v !== undefined), Object.entries(details));
      assert.deepEqual(s.headers, headers ?? {});
    });
  }

  it('asS3Error passes S3 errors through and leaves other failures alone', () => {
    const s3 = new S3Error('SlowDown');
    assert.equal(asS3Error(s3), s3);
    assert.equal(asS3Error(new Error('disk on fire')), undefined);
    assert.equal(asS3Error(new StoreError('NoSuchKey', { key: 'x' }))?.code, 'NoSuchKey');
  });
});
