// The one table of STS API errors: code → HTTP status, fault type and default message, rendered in
// STS's query-protocol format:
//   <ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>
//   <Code>AccessDenied</Code><Message>…</Message></Error><RequestId>…</RequestId></ErrorResponse>
// Failures of the shared pipeline (authentication, the body) arrive as S3Errors and are reworded as
// STS answers them: an unknown key or an invalid session token is InvalidClientTokenId, an
// expired session ExpiredToken (403, as STS and IAM answer it; S3 answers 400).

import { escapeXml } from '../s3/xml.js';
import type { S3Error } from '../s3/errors.js';
import { STS_NAMESPACE } from './names.js';
import { queryAuthError } from '../http/queryErrors.js';

type Fault = 'Sender' | 'Receiver';

export const STS_ERRORS = {
  AccessDenied: [403, 'Sender', 'Access denied'],
  ExpiredToken: [403, 'Sender', 'The security token included in the request is expired'],
  ExpiredTokenException: [400, 'Sender', 'The web identity token that was passed is expired or is not valid. Get a new identity token from the identity provider and then retry the request.'],
  IDPCommunicationError: [400, 'Sender', 'The request could not be fulfilled because the identity provider (IDP) that was asked to verify the incoming identity token could not be reached.'],
  IDPRejectedClaim: [403, 'Sender', 'The identity provider (IdP) reported that authentication failed.'],
  IncompleteBody: [400, 'Sender', 'You did not provide the number of bytes specified by the Content-Length HTTP header.'],
  IncompleteSignature: [400, 'Sender', 'The request signature does not conform to AWS standards.'],
  InsufficientStorage: [507, 'Receiver', "The server's storage is full. Delete objects or add capacity, then retry."],
  InternalFailure: [500, 'Receiver', 'The request processing has failed because of an unknown error, exception or failure.'],
  InvalidAction: [400, 'Sender', 'The action or operation requested is invalid. Verify that the action is typed correctly.'],
  InvalidClientTokenId: [403, 'Sender', 'The security token included in the request is invalid.'],
  InvalidIdentityToken: [400, 'Sender', 'The web identity token that was passed could not be validated. Get a new identity token from the identity provider and then retry the request.'],
  /** MinIO's answer to a failed LDAP login (AssumeRoleWithLDAPIdentity). */
  InvalidParameterValue: [400, 'Sender', 'An invalid or out-of-range value was supplied for the input parameter.'],
  MalformedPolicyDocument: [400, 'Sender', 'The request was rejected because the policy document was malformed.'],
  MissingAction: [400, 'Sender', 'The request is missing an action or a required parameter.'],
  MissingAuthenticationToken: [403, 'Sender', 'Request is missing Authentication Token'],
  MissingParameter: [400, 'Sender', 'A required parameter for the specified action is not supplied.'],
  NotImplemented: [501, 'Receiver', 'This STS action is not implemented by this server.'],
  PackedPolicyTooLarge: [400, 'Sender', 'The request was rejected because the total packed size of the session policies and session tags combined was too large.'],
  RequestEntityTooLarge: [413, 'Sender', 'Request body too large.'],
  RequestTimeout: [400, 'Sender', 'Your socket connection to the server was not read from or written to within the timeout period.'],
  SignatureDoesNotMatch: [
    403,
    'Sender',
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
  ],
  ValidationError: [400, 'Sender', 'The input fails to satisfy the constraints specified by an AWS service.'],
} as const satisfies Record<string, readonly [number, Fault, string]>;

export type StsErrorCode = keyof typeof STS_ERRORS;

export class StsError extends Error {
  readonly status: number;
  readonly type: Fault;

  constructor(
    readonly code: StsErrorCode,
    message?: string,
  ) {
    const [status, type, defaultMessage] = STS_ERRORS[code];
    super(message ?? defaultMessage);
    this.name = 'StsError';
    this.status = status;
    this.type = type;
  }
}

/** The STS error for a failure of authentication or of the request body. */
export function toStsError(e: S3Error): StsError {
  const { code, message } = queryAuthError(e, 'InternalFailure');
  return new StsError(code, message);
}

/** STS's error document. */
export function stsErrorXml(e: StsError, requestId: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${STS_NAMESPACE}"><Error><Type>${e.type}</Type><Code>${e.code}</Code>` +
    `<Message>${escapeXml(e.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`
  );
}
