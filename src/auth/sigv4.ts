// Authentication of a request: which mechanism it uses (SigV4 header, SigV4 presigned URL,
// SigV2 header or query, or none), whether its signature holds, and how its body must be read.
// Authorisation (may this identity do this?) is decided elsewhere.

import { S3Error } from '../s3/errors.js';
import { checkSkew, formatAmzDate, missingDate, parseAmzDate, parseHttpDate } from './clock.js';
import { identityOf, parseAuthRequest, type ParsedAuthRequest } from './context.js';
import { parseContentSha256, payloadModeFor } from './payload.js';
import { authenticatePresigned } from './presign.js';
import { authenticateV2Header, authenticateV2Query } from './sigv2.js';
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
import type { AuthRequest, AuthResult, CredentialLookup } from './types.js';

/** Query parameters that carry credentials or signatures (SigV4 presigned and SigV2 query). */
const AUTH_PARAMS = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders', 'X-Amz-Expires', 'X-Amz-Security-Token', 'AWSAccessKeyId', 'Signature', 'Expires'];

export async function authenticate(req: AuthRequest, lookup: CredentialLookup): Promise<AuthResult> {
  const parsed = parseAuthRequest(req);
  const authorization = parsed.header('authorization');
  const hasParam = parsed.hasQueryParam;
  const v4Query = hasParam('X-Amz-Algorithm') || hasParam('X-Amz-Credential') || hasParam('X-Amz-Signature');
  const v2Query = hasParam('AWSAccessKeyId') || hasParam('Signature');
  // A second Authorization header or signature parameter could make two parts of a stack (a
  // proxy, a policy check, the verifier) read different credentials: refuse the request.
  if ((parsed.headers.get('authorization')?.length ?? 0) > 1) {
    throw new S3Error('InvalidArgument', 'Only one Authorization header is allowed', { ArgumentName: 'Authorization' });
  }
  for (const name of AUTH_PARAMS) {
    if (parsed.query.filter((p) => p.name === name).length > 1) {
      throw new S3Error('InvalidArgument', `The ${name} query parameter may be given only once`, { ArgumentName: name });
    }
  }
  const mechanisms = Number(authorization !== undefined) + Number(v4Query) + Number(v2Query);
  if (mechanisms > 1) {
    throw new S3Error(
      'InvalidArgument',
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
      { ArgumentName: 'Authorization', ArgumentValue: authorization },
    );
  }

  // The IAM and STS APIs are served for SigV4 header signatures only (what the SDKs and the CLI send).
  if ((req.service ?? 's3') !== 's3' && (authorization === undefined || !authorization.startsWith(`${ALGORITHM} `))) {
    throw new S3Error('AccessDenied', `${req.service === 'sts' ? 'STS' : 'IAM'} requests must be signed with AWS4-HMAC-SHA256 in the Authorization header.`);
  }
  if (authorization !== undefined) return authenticateHeader(parsed, authorization, lookup);
  if (v4Query) return authenticatePresigned(parsed, lookup);
  if (v2Query) return authenticateV2Query(parsed, lookup);

  // Anonymous. The body may still announce a hash (verified) or aws-chunked framing with
  // unsigned trailers (decoded); signed streaming needs a signature to chain from.
  const payload = payloadModeFor(parseContentSha256(parsed.header('x-amz-content-sha256')), parsed.header, undefined);
  return { method: 'anonymous', identity: null, payload };
}

async function authenticateHeader(parsed: ParsedAuthRequest, authorization: string, lookup: CredentialLookup): Promise<AuthResult> {
  const space = authorization.indexOf(' ');
  const scheme = space < 0 ? authorization : authorization.slice(0, space);
  switch (scheme) {
    case ALGORITHM:
      return authenticateV4Header(parsed, authorization.slice(ALGORITHM.length), lookup);
    case 'AWS':
      if (space < 0) break;
      return authenticateV2Header(parsed, authorization.slice(4), lookup);
    case 'AWS4-ECDSA-P256-SHA256':
      throw new S3Error('NotImplemented', 'The AWS4-ECDSA-P256-SHA256 (SigV4a) signing algorithm is not implemented.');
    default:
      throw new S3Error('InvalidArgument', 'Unsupported Authorization Type', {
        ArgumentName: 'Authorization',
        ArgumentValue: authorization,
      });
  }
  throw new S3Error('InvalidArgument', "Authorization header is invalid -- one and only one ' ' (space) required", {
    ArgumentName: 'Authorization',
    ArgumentValue: authorization,
  });
}

interface V4Authorization {
  credential: string;
  signedHeaders: string;
  signature: string;
}

/** Parses " Credential=…, SignedHeaders=…, Signature=…" (any order, optional spaces). */
function parseV4Authorization(rest: string): V4Authorization {
  const fields = new Map<string, string>();
  for (const part of rest.split(',')) {
    const component = part.trim();
    if (component === '') continue;
    const eq = component.indexOf('=');
    const name = eq < 0 ? '' : component.slice(0, eq).trim();
    if (!['Credential', 'SignedHeaders', 'Signature'].includes(name) || fields.has(name)) {
      throw new S3Error('AuthorizationHeaderMalformed', `The authorization header is malformed; the authorization component "${component}" is malformed.`);
    }
    fields.set(name, component.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (credential === undefined || signedHeaders === undefined || signature === undefined) {
    throw new S3Error(
      'AuthorizationHeaderMalformed',
      'The authorization header is malformed; the authorization header requires three components: Credential, SignedHeaders, and Signature.',
    );
  }
  return { credential, signedHeaders, signature };
}

export interface RequestTime {
  /** The timestamp as it goes into the string to sign ("20130524T000000Z"). */
  amzDate: string;
  time: Date;
  /** The header value as sent, for RequestTimeTooSkewed. */
  raw: string;
}

/**
 * The request time of a SigV4 header-signed request: x-amz-date when present (then the Date
 * header is just another header), else the Date header.
 */
function requestTime(parsed: ParsedAuthRequest): RequestTime {
  const amz = parsed.header('x-amz-date');
  if (amz !== undefined) {
    const time = parseAmzDate(amz.trim());
    if (!time) throw missingDate();
    return { amzDate: amz.trim(), time, raw: amz };
  }
  const date = parsed.header('date');
  const time = date === undefined ? undefined : parseHttpDate(date);
  if (!time || date === undefined) throw missingDate();
  return { amzDate: formatAmzDate(time), time, raw: date };
}

/** x-amz-content-sha256 is hashed into the canonical request in its own right. */
const CONTENT_SHA256_EXEMPT: ReadonlySet<string> = new Set(['x-amz-content-sha256']);

async function authenticateV4Header(parsed: ParsedAuthRequest, rest: string, lookup: CredentialLookup): Promise<AuthResult> {
  const { req } = parsed;
  const auth = parseV4Authorization(rest);
  const service = req.service ?? 's3';
  const scope = parseCredentialScope(auth.credential, 'header', { regions: [req.region, ...(req.extraRegions ?? [])], service });
  const signedHeaders = parseSignedHeaders(auth.signedHeaders, 'header');
  const when = requestTime(parsed);
  checkScopeDate(scope, when.amzDate, 'header');

  const declaredHash = parsed.header('x-amz-content-sha256');
  let payloadHash: string;
  if (service === 's3') {
    if (declaredHash === undefined) throw new S3Error('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
    payloadHash = declaredHash;
  } else {
    // The body was read and hashed before authentication; a declared hash must be that one.
    if (req.payloadHash === undefined) throw new Error(`the payload hash of a ${service} request must be computed before authentication`);
    if (declaredHash !== undefined && declaredHash !== req.payloadHash) throw new S3Error('XAmzContentSHA256Mismatch', undefined, { ClientComputedContentSHA256: declaredHash, S3ComputedContentSHA256: req.payloadHash });
    payloadHash = req.payloadHash;
  }
  const content = parseContentSha256(payloadHash);
  checkHeadersSigned(signedHeaders, parsed.headers.keys(), CONTENT_SHA256_EXEMPT);
  const sessionToken = sessionTokenOf(parsed, 'header');

  const credential = await lookupCredential(lookup, scope.accessKeyId, sessionToken, req.now);
  checkSkew(when.time, when.raw, req.now);

  const key = signingKey(credential.secretAccessKey, scope.date, scope.region, service);
  const computed = computeV4Signature(
    {
      method: req.method,
      rawPath: req.rawPath,
      query: parsed.query,
      headers: parsed.headers,
      signedHeaders,
      payloadHash,
      amzDate: when.amzDate,
      scope: scope.scope,
    },
    key,
  );
  checkV4Signature(computed, auth.signature, scope.accessKeyId);

  const payload = payloadModeFor(content, parsed.header, {
    signingKey: key,
    amzDate: when.amzDate,
    scope: scope.scope,
    // Verified above (exactly equal): the signature the client chains its chunks from.
    seedSignature: auth.signature,
  });
  return { method: 'sigv4-header', identity: identityOf(credential), payload };
}
