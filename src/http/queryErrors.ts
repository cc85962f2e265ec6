// The query-protocol APIs (IAM, STS) answer a failed authentication or a bad body with their own
// error codes, not S3's. This is the one mapping both use; each service supplies its own code for
// a server-side failure (IAM ServiceFailure, STS InternalFailure).

import type { S3Error } from '../s3/errors.js';

/** Codes every query-protocol service shares. */
export type QueryAuthErrorCode =
  | 'InvalidClientTokenId'
  | 'ExpiredToken'
  | 'SignatureDoesNotMatch'
  | 'AccessDenied'
  | 'IncompleteBody'
  | 'RequestTimeout'
  | 'InsufficientStorage'
  | 'NotImplemented'
  | 'IncompleteSignature';

/** The query-protocol error (code, message) for an S3 authentication or body error. */
export function queryAuthError<F extends string>(e: S3Error, serverFailure: F): { code: QueryAuthErrorCode | F; message?: string } {
  switch (e.code) {
    case 'InvalidAccessKeyId':
    case 'InvalidToken':
      return { code: 'InvalidClientTokenId' };
    case 'ExpiredToken':
      return { code: 'ExpiredToken' };
    case 'SignatureDoesNotMatch':
      return { code: 'SignatureDoesNotMatch' };
    case 'RequestTimeTooSkewed':
      return { code: 'SignatureDoesNotMatch', message: `Signature expired: ${e.message}` };
    case 'XAmzContentSHA256Mismatch':
      return { code: 'SignatureDoesNotMatch', message: e.message };
    case 'AccessDenied':
    case 'IncompleteBody':
    case 'RequestTimeout':
    case 'InsufficientStorage':
    case 'NotImplemented':
      return { code: e.code, message: e.message };
    default:
      return e.status >= 500 ? { code: serverFailure } : { code: 'IncompleteSignature', message: e.message };
  }
}
