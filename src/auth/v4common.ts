// What SigV4 header authentication and presigned URLs share: the credential scope, the rules on
// which headers must be signed, the credential lookup and the signature check itself.

import { S3Error } from '../s3/errors.js';
import { canonicalHeaders, canonicalQuery, canonicalUri, type QueryParam } from './canonical.js';
import { isValidScopeDate } from './clock.js';
import { ALGORITHM, hexBytes, hmacHex, sha256Hex, signaturesEqual, stringToSign, TERMINAL } from './signing.js';
import type { ParsedAuthRequest } from './context.js';
import type { Credential, CredentialLookup, SignedService } from './types.js';

/** Where the SigV4 parameters came from; S3 words its errors differently for each. */
export type V4Style = 'header' | 'query';

export interface CredentialScope {
  accessKeyId: string;
  date: string;
  region: string;
  service: SignedService;
  /** "date/region/s3/aws4_request" */
  scope: string;
}

/** Where a scope is checked: the regions it may name (the server's first) and its service. */
export interface ScopeRules {
  regions: readonly string[];
  service: SignedService;
}

/**
 * The service named by a request's SigV4 credential scope (Authorization header or X-Amz-Credential
 * query parameter), before anything is verified: the pipeline routes IAM requests by it.
 */
export function scopeService(authorization: string | undefined, credentialParam: string | undefined): string | undefined {
  const credential = authorization?.startsWith(`${ALGORITHM} `) ? /Credential=([^,\s]+)/.exec(authorization)?.[1] : credentialParam;
  return credential?.split('/')[3];
}

/** The S3 error for a malformed SigV4 parameter, worded for the header or the query string. */
export function malformed(style: V4Style, detail: string, details: Record<string, string> = {}): S3Error {
  return style === 'header'
    ? new S3Error('AuthorizationHeaderMalformed', `The authorization header is malformed; ${detail}`, details)
    : new S3Error('AuthorizationQueryParametersError', `Error parsing the X-Amz-Credential parameter; ${detail}`, details);
}

/** Parses "AKID/20130524/us-east-1/s3/aws4_request" and checks it against this server. */
export function parseCredentialScope(value: string, style: V4Style, rules: ScopeRules): CredentialScope {
  const serverRegion = rules.regions[0]!;
  const SERVICE = rules.service;
  const parts = value.split('/');
  if (parts.length !== 5 || parts[0] === '') {
    throw malformed(style, 'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".');
  }
  const [accessKeyId, date, region, service, terminal] = parts as [string, string, string, string, string];
  if (!isValidScopeDate(date)) {
    throw malformed(style, `incorrect date format "${date}". This date in the credential must be in the format "yyyyMMdd".`);
  }
  if (!rules.regions.includes(region)) {
    throw malformed(style, `the region '${region}' is wrong; expecting '${serverRegion}'`, { Region: serverRegion });
  }
  if (service !== SERVICE) {
    throw malformed(style, `incorrect service "${service}". This endpoint belongs to "${SERVICE}".`);
  }
  if (terminal !== TERMINAL) {
    throw malformed(style, `incorrect terminal "${terminal}". This endpoint uses "${TERMINAL}".`);
  }
  return { accessKeyId, date, region, service: SERVICE, scope: `${date}/${region}/${SERVICE}/${TERMINAL}` };
}

/** The scope date must be the day of the request timestamp. */
export function checkScopeDate(scope: CredentialScope, amzDate: string, style: V4Style): void {
  const day = amzDate.slice(0, 8);
  if (scope.date !== day) {
    const message = `Invalid credential date "${scope.date}". This date is not the same as X-Amz-Date: "${day}".`;
    throw style === 'header'
      ? new S3Error('AuthorizationHeaderMalformed', `The authorization header is malformed; ${message}`)
      : new S3Error('AuthorizationQueryParametersError', message);
  }
}

/**
 * Parses SignedHeaders ("host;range;x-amz-date"). The list is kept as sent, since the client
 * hashed it as sent; lookups use lower-case names.
 */
export function parseSignedHeaders(value: string, style: V4Style): string[] {
  const names = value.split(';');
  if (value === '' || names.some((n) => n === '' || /[\s:]/.test(n))) {
    throw style === 'header'
      ? new S3Error('AuthorizationHeaderMalformed', `The authorization header is malformed; the authorization component "SignedHeaders=${value}" is malformed.`)
      : new S3Error('AuthorizationQueryParametersError', 'X-Amz-SignedHeaders is malformed.');
  }
  return names;
}

/**
 * S3 requires `host` and every x-amz-* header present in the request to be signed, and answers
 * AccessDenied with the offending names in HeadersNotSigned. `exempt` lists x-amz-* headers that
 * are covered otherwise (x-amz-content-sha256 is part of the canonical request as the payload hash).
 */
export function checkHeadersSigned(signed: readonly string[], present: Iterable<string>, exempt: ReadonlySet<string>): void {
  const signedSet = new Set(signed.map((n) => n.toLowerCase()));
  const missing: string[] = [];
  if (!signedSet.has('host')) missing.push('host');
  for (const name of present) {
    if (name.startsWith('x-amz-') && !signedSet.has(name) && !exempt.has(name)) missing.push(name);
  }
  if (missing.length > 0) {
    throw new S3Error('AccessDenied', 'There were headers present in the request which were not signed', {
      HeadersNotSigned: missing.join(', '),
    });
  }
}

/** Where a mechanism reads the session token of temporary credentials. */
export type TokenPlace = 'header' | 'header-or-query';

/**
 * The session token of a request: the x-amz-security-token header, or, for the query-string
 * mechanisms, the X-Amz-Security-Token (SigV4) / x-amz-security-token (SigV2) query parameter.
 * Both places are covered by the signature (the header as a signed x-amz-* header; the parameter
 * in SigV4's canonical query, and in SigV2's string to sign as botocore signs it). A token given
 * twice, or where the mechanism does not read it (a query parameter beside an Authorization
 * header, which SigV2 does not sign), is refused rather than ignored. An empty token is what some
 * tools send when none is configured: it means none.
 */
export function sessionTokenOf(parsed: ParsedAuthRequest, place: TokenPlace): string | undefined {
  const headers = parsed.headers.get('x-amz-security-token') ?? [];
  const params = parsed.query.filter((p) => p.name.toLowerCase() === 'x-amz-security-token');
  if (headers.length + params.length > 1) {
    throw new S3Error('InvalidArgument', 'The security token may be given only once', { ArgumentName: 'x-amz-security-token' });
  }
  if (params.length > 0 && place === 'header') {
    throw new S3Error('InvalidArgument', 'With an Authorization header, the security token goes in the x-amz-security-token header', { ArgumentName: params[0]!.name });
  }
  const token = headers[0] ?? params[0]?.value;
  return token === '' ? undefined : token;
}

/**
 * The credential of an access key id, given the request's session token. Temporary credentials
 * are valid only with their own token and until they expire: a temporary key without its token is
 * unknown (InvalidAccessKeyId); a token with another key, a long-term key or no valid session is
 * InvalidToken; an expired session is ExpiredToken — whatever the lookup answered.
 */
export async function lookupCredential(lookup: CredentialLookup, accessKeyId: string, sessionToken: string | undefined, now: Date): Promise<Credential> {
  const credential = await lookup(accessKeyId, sessionToken);
  if (sessionToken === undefined) {
    if (!credential || credential.sessionToken !== undefined) throw new S3Error('InvalidAccessKeyId', undefined, { AWSAccessKeyId: accessKeyId });
    return credential;
  }
  if (!credential || credential.sessionToken !== sessionToken || credential.accessKeyId !== accessKeyId || !credential.session) throw new S3Error('InvalidToken');
  if (now.getTime() >= credential.session.expiresAt) throw new S3Error('ExpiredToken');
  return credential;
}

export interface V4SignatureInput {
  method: string;
  rawPath: string;
  query: readonly QueryParam[];
  /** Query parameter left out of the canonical query (X-Amz-Signature of a presigned URL). */
  excludeQuery?: string;
  headers: Map<string, string[]>;
  signedHeaders: readonly string[];
  payloadHash: string;
  amzDate: string;
  scope: string;
}

export interface V4Signature {
  canonicalRequest: string;
  stringToSign: string;
  signature: string;
  /**
   * When a header value holds non-ASCII bytes: the signature of the canonical request hashed as
   * UTF-8 of the latin1-decoded text. Clients disagree here: botocore sends UTF-8 bytes and signs
   * those bytes (`signature`), Node clients such as the JS SDK send "é" as the byte E9 but sign
   * its UTF-8 form. Both are HMACs under the caller's secret, so accepting either is safe.
   */
  alternate?: string;
}

/** Computes the signature the client should have sent. */
export function computeV4Signature(input: V4SignatureInput, key: Buffer): V4Signature {
  const canonicalRequest = [
    input.method,
    canonicalUri(input.rawPath),
    canonicalQuery(input.query, input.excludeQuery),
    canonicalHeaders(input.headers, input.signedHeaders),
    input.signedHeaders.join(';'),
    input.payloadHash,
  ].join('\n');
  const sts = stringToSign(input.amzDate, input.scope, canonicalRequest);
  const out: V4Signature = { canonicalRequest, stringToSign: sts, signature: hmacHex(key, sts) };
  if (/[\x80-\xff]/.test(canonicalRequest)) {
    out.alternate = hmacHex(key, `${ALGORITHM}\n${input.amzDate}\n${input.scope}\n${sha256Hex(Buffer.from(canonicalRequest, 'utf8'))}`);
  }
  return out;
}

/** Throws SignatureDoesNotMatch, with the diagnostics S3 includes, unless `provided` matches. */
export function checkV4Signature(computed: V4Signature, provided: string, accessKeyId: string): void {
  if (signaturesEqual(computed.signature, provided)) return;
  if (computed.alternate !== undefined && signaturesEqual(computed.alternate, provided)) return;
  throw new S3Error('SignatureDoesNotMatch', undefined, {
    AWSAccessKeyId: accessKeyId,
    StringToSign: computed.stringToSign,
    SignatureProvided: provided,
    StringToSignBytes: hexBytes(computed.stringToSign),
    CanonicalRequest: computed.canonicalRequest,
    CanonicalRequestBytes: hexBytes(computed.canonicalRequest),
  });
}
