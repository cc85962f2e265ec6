// SigV4 presigned URLs: the signature and its parameters travel in the query string
// (X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders,
// X-Amz-Signature, optional X-Amz-Security-Token).

import { S3Error } from '../s3/errors.js';
import { formatIsoSeconds, MAX_SKEW_MS, parseAmzDate } from './clock.js';
import { identityOf, type ParsedAuthRequest } from './context.js';
import { parseContentSha256, payloadModeFor, UNSIGNED_PAYLOAD } from './payload.js';
import { ALGORITHM, signingKey } from './signing.js';
import {
  checkHeadersSigned,
  checkScopeDate,
  checkV4Signature,
  computeV4Signature,
  lookupCredential,
  parseCredentialScope,
  parseSignedHeaders,
  sessionTokenOf,
} from './v4common.js';
import type { AuthResult, CredentialLookup } from './types.js';

/** A presigned URL lives at most a week. */
export const MAX_PRESIGN_EXPIRES_SECONDS = 7 * 24 * 60 * 60;

function queryError(message: string): S3Error {
  return new S3Error('AuthorizationQueryParametersError', message);
}

/** X-Amz-Expires: whole seconds, 1..max (604800 at most), with S3's messages. */
function parseExpires(value: string, max: number): number {
  const v = value.trim();
  if (!/^-?\d+$/.test(v)) throw queryError('X-Amz-Expires should be a number');
  const seconds = Number(v);
  // S3's own wording for a negative value; zero (a URL that is never valid) is refused with it too.
  if (seconds <= 0) throw queryError('X-Amz-Expires must be non-negative');
  if (seconds > MAX_PRESIGN_EXPIRES_SECONDS) {
    throw queryError(
      `X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than ${MAX_PRESIGN_EXPIRES_SECONDS} seconds`,
    );
  }
  if (seconds > max) throw queryError(`X-Amz-Expires must be at most ${max} seconds on this server`);
  return seconds;
}

/**
 * The payload hash that was signed: an X-Amz-Content-Sha256 query parameter (signed as part of
 * the query), else an x-amz-content-sha256 header (as S3 does, so that an unsigned one fails the
 * signature rather than being ignored), else UNSIGNED-PAYLOAD.
 */
function presignedPayloadHash(parsed: ParsedAuthRequest): string {
  const fromQuery = parsed.query.find((p) => p.name.toLowerCase() === 'x-amz-content-sha256');
  return fromQuery?.value ?? parsed.header('x-amz-content-sha256') ?? UNSIGNED_PAYLOAD;
}

const CONTENT_SHA256_EXEMPT: ReadonlySet<string> = new Set(['x-amz-content-sha256']);

export async function authenticatePresigned(parsed: ParsedAuthRequest, lookup: CredentialLookup): Promise<AuthResult> {
  const { req } = parsed;
  const q = parsed.queryParam;
  const algorithm = q('X-Amz-Algorithm');
  const credentialParam = q('X-Amz-Credential');
  const signature = q('X-Amz-Signature');
  const amzDate = q('X-Amz-Date');
  const signedHeadersParam = q('X-Amz-SignedHeaders');
  const expiresParam = q('X-Amz-Expires');
  if (
    algorithm === undefined ||
    credentialParam === undefined ||
    signature === undefined ||
    amzDate === undefined ||
    signedHeadersParam === undefined ||
    expiresParam === undefined
  ) {
    throw queryError(
      'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
    );
  }
  if (algorithm === 'AWS4-ECDSA-P256-SHA256') {
    throw new S3Error('NotImplemented', 'The AWS4-ECDSA-P256-SHA256 (SigV4a) signing algorithm is not implemented.');
  }
  if (algorithm !== ALGORITHM) throw queryError(`X-Amz-Algorithm only supports "${ALGORITHM}"`);

  const scope = parseCredentialScope(credentialParam, 'query', { regions: [req.region], service: 's3' });
  const time = parseAmzDate(amzDate);
  if (!time) throw queryError(`X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`);
  checkScopeDate(scope, amzDate, 'query');
  const expires = parseExpires(expiresParam, req.presignMaxSeconds ?? MAX_PRESIGN_EXPIRES_SECONDS);
  const signedHeaders = parseSignedHeaders(signedHeadersParam, 'query');

  // Validity window: [X-Amz-Date, X-Amz-Date + X-Amz-Expires], tolerating clock skew at the start
  // only; a URL dated further in the future would otherwise extend its own lifetime.
  const now = req.now.getTime();
  if (time.getTime() - now > MAX_SKEW_MS) throw new S3Error('AccessDenied', 'Request is not valid yet');
  const expiresAt = new Date(time.getTime() + expires * 1000);
  if (now > expiresAt.getTime()) {
    throw new S3Error('AccessDenied', 'Request has expired', {
      'X-Amz-Expires': expires,
      Expires: formatIsoSeconds(expiresAt),
      ServerTime: formatIsoSeconds(req.now),
    });
  }

  const payloadHash = presignedPayloadHash(parsed);
  const content = parseContentSha256(payloadHash);
  checkHeadersSigned(signedHeaders, parsed.headers.keys(), CONTENT_SHA256_EXEMPT);
  // In the query string the token is part of the canonical query; as a header it must be signed.
  const sessionToken = sessionTokenOf(parsed, 'header-or-query');

  const credential = await lookupCredential(lookup, scope.accessKeyId, sessionToken, req.now);
  const key = signingKey(credential.secretAccessKey, scope.date, scope.region);
  const computed = computeV4Signature(
    {
      method: req.method,
      rawPath: req.rawPath,
      query: parsed.query,
      excludeQuery: 'X-Amz-Signature',
      headers: parsed.headers,
      signedHeaders,
      payloadHash,
      amzDate,
      scope: scope.scope,
    },
    key,
  );
  checkV4Signature(computed, signature, scope.accessKeyId);

  const payload = payloadModeFor(content, parsed.header, {
    signingKey: key,
    amzDate,
    scope: scope.scope,
    // Verified above (exactly equal): the signature the client chains its chunks from.
    seedSignature: signature,
  });
  return { method: 'sigv4-query', identity: identityOf(credential), payload };
}
