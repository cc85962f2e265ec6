// The admin API's errors: one table of codes → HTTP status, rendered as JSON
// `{ "code": "...", "message": "...", "requestId": "..." }`. Handlers throw AdminError; failures of
// the services they call (IAM, registries, the store) are translated here; anything else is a 500
// whose details go to the log, never to the client.

import { IamError, toIamError } from '../iam/errors.js';
import { KeyError } from '../sse/keys.js';
import { TierError } from '../tiering/tiers.js';
import { RemoteError } from '../replication/remotes.js';
import { TargetError } from '../notify/targets.js';
import { S3Error } from '../s3/errors.js';
import { IamStoreError } from '../store/meta/types.js';

export const ADMIN_ERRORS = {
  AccessDenied: 403,
  BadRequest: 400,
  Conflict: 409,
  ExpiredToken: 401,
  InternalError: 500,
  InvalidToken: 401,
  MethodNotAllowed: 405,
  MissingAuthentication: 401,
  NoSuchAccount: 404,
  NoSuchBucket: 404,
  NoSuchRoute: 404,
  NotFound: 404,
  NotImplemented: 501,
  RequestTooLarge: 413,
  ServiceUnavailable: 503,
  UnsupportedMediaType: 415,
} as const satisfies Record<string, number>;

export type AdminErrorCode = keyof typeof ADMIN_ERRORS | string;

export class AdminError extends Error {
  constructor(
    readonly status: number,
    readonly code: AdminErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AdminError';
  }

  static of(code: keyof typeof ADMIN_ERRORS, message: string): AdminError {
    return new AdminError(ADMIN_ERRORS[code], code, message);
  }
}

/** The AdminError a failure answers as; undefined for the unexpected (a 500, logged). */
export function asAdminError(e: unknown): AdminError | undefined {
  if (e instanceof AdminError) return e;
  if (e instanceof IamStoreError) e = toIamError(e);
  // IAM's own codes and statuses (NoSuchEntity 404, EntityAlreadyExists 409, ValidationError 400…).
  if (e instanceof IamError) return new AdminError(e.status, e.code, e.message);
  if (e instanceof KeyError) return e.reason === 'not-found' ? new AdminError(404, 'NotFound', e.message) : new AdminError(e.reason === 'no-master-key' ? 409 : 400, 'BadRequest', e.message);
  if (e instanceof TierError || e instanceof RemoteError || e instanceof TargetError) return new AdminError(400, 'BadRequest', e.message);
  // Authentication failures (the shared SigV4 verifier speaks S3: SignatureDoesNotMatch 403…) and
  // the store's (InsufficientStorage 507): S3's code and status.
  if (e instanceof S3Error) return new AdminError(e.status, e.code, e.message);
  return undefined;
}
