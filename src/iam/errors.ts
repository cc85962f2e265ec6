// The one table of IAM API errors: code → HTTP status, fault type and default message, rendered in
// IAM's query-protocol format:
//   <ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type>
//   <Code>NoSuchEntity</Code><Message>…</Message></Error><RequestId>…</RequestId></ErrorResponse>
// Failures of the shared pipeline (authentication, the body) arrive as S3Errors and are reworded
// here as IAM answers them (an unknown key or an invalid session token is InvalidClientTokenId, not
// InvalidAccessKeyId; an expired session is ExpiredToken, 403, where S3 answers 400).

import { S3Error } from '../s3/errors.js';
import { IamStoreError } from '../store/meta/types.js';
import { escapeXml } from '../s3/xml.js';
import { IAM_NAMESPACE } from './names.js';
import { queryAuthError } from '../http/queryErrors.js';

type Fault = 'Sender' | 'Receiver';

export const IAM_ERRORS = {
  AccessDenied: [403, 'Sender', 'Access denied'],
  DeleteConflict: [409, 'Sender', 'The request was rejected because it attempted to delete a resource that has attached subordinate entities.'],
  ExpiredToken: [403, 'Sender', 'The security token included in the request is expired'],
  EntityAlreadyExists: [409, 'Sender', 'The request was rejected because it attempted to create a resource that already exists.'],
  IncompleteBody: [400, 'Sender', 'You did not provide the number of bytes specified by the Content-Length HTTP header.'],
  IncompleteSignature: [400, 'Sender', 'The request signature does not conform to AWS standards.'],
  InsufficientStorage: [507, 'Receiver', "The server's storage is full. Delete objects or add capacity, then retry."],
  InvalidAction: [400, 'Sender', 'The action or operation requested is invalid. Verify that the action is typed correctly.'],
  InvalidClientTokenId: [403, 'Sender', 'The security token included in the request is invalid.'],
  InvalidInput: [400, 'Sender', 'The request was rejected because an invalid or out-of-range value was supplied for an input parameter.'],
  LimitExceeded: [409, 'Sender', 'The request was rejected because it attempted to create resources beyond the current AWS account limits.'],
  MalformedPolicyDocument: [400, 'Sender', 'The policy document was malformed.'],
  MissingAction: [400, 'Sender', 'The request is missing an action or a required parameter.'],
  MissingAuthenticationToken: [403, 'Sender', 'Request is missing Authentication Token'],
  MissingParameter: [400, 'Sender', 'A required parameter for the specified action is not supplied.'],
  NoSuchEntity: [404, 'Sender', 'The request was rejected because it referenced a resource entity that does not exist.'],
  NotImplemented: [501, 'Receiver', 'This IAM action is not implemented by this server.'],
  RequestEntityTooLarge: [413, 'Sender', 'Request body too large.'],
  RequestTimeout: [400, 'Sender', 'Your socket connection to the server was not read from or written to within the timeout period.'],
  ServiceFailure: [500, 'Receiver', 'The request processing has failed because of an unknown error, exception or failure.'],
  SignatureDoesNotMatch: [
    403,
    'Sender',
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
  ],
  ValidationError: [400, 'Sender', 'The input fails to satisfy the constraints specified by an AWS service.'],
} as const satisfies Record<string, readonly [number, Fault, string]>;

export type IamErrorCode = keyof typeof IAM_ERRORS;

export class IamError extends Error {
  readonly status: number;
  readonly type: Fault;

  constructor(
    readonly code: IamErrorCode,
    message?: string,
  ) {
    const [status, type, defaultMessage] = IAM_ERRORS[code];
    super(message ?? defaultMessage);
    this.name = 'IamError';
    this.status = status;
    this.type = type;
  }
}

/** The IAM error for a failure of authentication, of the request body or of the store. */
export function toIamError(e: S3Error | IamStoreError): IamError {
  if (e instanceof IamStoreError) return new IamError(e.code, e.message);
  const { code, message } = queryAuthError(e, 'ServiceFailure');
  return new IamError(code, message);
}

/** IAM's error document. */
export function iamErrorXml(e: IamError, requestId: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${IAM_NAMESPACE}"><Error><Type>${e.type}</Type><Code>${e.code}</Code>` +
    `<Message>${escapeXml(e.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`
  );
}
