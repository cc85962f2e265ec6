// Signature Version 2 (HMAC-SHA1): `Authorization: AWS AKID:signature`, or the query string
// AWSAccessKeyId / Signature / Expires. Deprecated by AWS, but still spoken by old clients
// (boto2, s3cmd in v2 mode) and by part of the ceph s3-tests suite.

import { createHmac } from 'node:crypto';
import { S3Error } from '../s3/errors.js';
import { percentDecodeBytes } from './canonical.js';
import { checkSkew, formatIsoSeconds, missingDate, parseAmzDate, parseHttpDate } from './clock.js';
import { identityOf, type ParsedAuthRequest } from './context.js';
import { parseContentSha256, payloadModeFor } from './payload.js';
import { hexBytes, signaturesEqual } from './signing.js';
import { MAX_PRESIGN_EXPIRES_SECONDS } from './presign.js';
import { lookupCredential, sessionTokenOf } from './v4common.js';
import type { AuthResult, CredentialLookup } from './types.js';

/**
 * Query parameters that are part of the signed resource. This is botocore's list (HmacV1Auth),
 * which is what SigV2 clients sign in practice; S3 documents a subset of it.
 */
export const SIGNED_SUBRESOURCES: ReadonlySet<string> = new Set([
  'accelerate', 'acl', 'analytics', 'cors', 'defaultObjectAcl', 'delete', 'inventory', 'lifecycle', 'location',
  'logging', 'metrics', 'notification', 'object-lock', 'partNumber', 'policy', 'replication', 'requestPayment',
  'response-cache-control', 'response-content-disposition', 'response-content-encoding', 'response-content-language',
  'response-content-type', 'response-expires', 'restore', 'select', 'select-type', 'storageClass', 'tagging',
  'torrent', 'uploadId', 'uploads', 'versionId', 'versioning', 'versions', 'website',
]);

/**
 * CanonicalizedResource: "/bucket" for virtual-hosted requests, the path as sent, then the signed
 * sub-resources sorted by name, with their values decoded ("?acl&versionId=3").
 */
export function canonicalizedResource(parsed: ParsedAuthRequest, bucketSlash = false): string {
  const { req } = parsed;
  let resource = (req.virtualHostBucket ? '/' + req.virtualHostBucket : '') + (req.rawPath === '' ? '/' : req.rawPath);
  if (bucketSlash) resource += '/';
  const subresources: { name: string; text: string }[] = [];
  for (const p of parsed.query) {
    // Decoded without turning '+' into ' ': clients unquote these values, they do not form-decode.
    const name = percentDecodeBytes(p.rawName, false).toString('utf8');
    if (!SIGNED_SUBRESOURCES.has(name)) continue;
    const text = p.hasValue ? `${name}=${percentDecodeBytes(p.rawValue, false).toString('utf8')}` : name;
    subresources.push({ name, text });
  }
  if (subresources.length > 0) {
    // Array.prototype.sort is stable: repeated names keep their order.
    subresources.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    resource += '?' + subresources.map((s) => s.text).join('&');
  }
  return resource;
}

/** CanonicalizedAmzHeaders: "x-amz-name:v1,v2\n" for each x-amz-* header, sorted by name. */
export function canonicalizedAmzHeaders(headers: Map<string, string[]>): string {
  const names = [...headers.keys()].filter((n) => n.startsWith('x-amz-')).sort();
  let out = '';
  for (const name of names) {
    const values = headers.get(name)!.map((v) => v.trim().replace(/\s*\r?\n\s*/g, ' '));
    out += `${name}:${values.join(',')}\n`;
  }
  return out;
}

/**
 * The SigV2 string to sign; `dateOrExpires` is the Date header (or '') or the Expires parameter.
 * `amzHeaders` are the headers whose x-amz-* ones are signed (the request's, by default).
 */
export function stringToSignV2(parsed: ParsedAuthRequest, dateOrExpires: string, bucketSlash = false, amzHeaders: Map<string, string[]> = parsed.headers): string {
  return [
    parsed.req.method,
    parsed.header('content-md5') ?? '',
    parsed.header('content-type') ?? '',
    dateOrExpires,
    canonicalizedAmzHeaders(amzHeaders) + canonicalizedResource(parsed, bucketSlash),
  ].join('\n');
}

/**
 * The strings to sign a real client may have used. Besides the documented form: botocore signs a
 * path-style bucket request ("/bucket") as "/bucket/", and keeps the Date header in its string to
 * sign even when x-amz-date is present (the docs leave that line empty).
 */
function v2Candidates(parsed: ParsedAuthRequest, dateLines: string[], amzHeaders: Map<string, string[]> = parsed.headers): string[] {
  const out: string[] = [];
  const bucketOnly = !parsed.req.virtualHostBucket && /^\/[^/]+$/.test(parsed.req.rawPath);
  for (const d of dateLines) {
    out.push(stringToSignV2(parsed, d, false, amzHeaders));
    if (bucketOnly) out.push(stringToSignV2(parsed, d, true, amzHeaders));
  }
  return out;
}

export function signV2(secret: string, stringToSign: string): string {
  return createHmac('sha1', secret).update(stringToSign, 'utf8').digest('base64');
}

function checkV2Signature(secret: string, candidates: string[], provided: string, accessKeyId: string): void {
  if (candidates.some((c) => signaturesEqual(signV2(secret, c), provided))) return;
  const sts = candidates[0]!;
  throw new S3Error('SignatureDoesNotMatch', undefined, {
    AWSAccessKeyId: accessKeyId,
    StringToSign: sts,
    SignatureProvided: provided,
    StringToSignBytes: hexBytes(sts),
  });
}

/** Request body handling is the same as for anonymous requests: no signature to chain from. */
function payloadOf(parsed: ParsedAuthRequest): AuthResult['payload'] {
  return payloadModeFor(parseContentSha256(parsed.header('x-amz-content-sha256')), parsed.header, undefined);
}

/** `rest` is what follows "AWS " in the Authorization header. */
export async function authenticateV2Header(parsed: ParsedAuthRequest, rest: string, lookup: CredentialLookup): Promise<AuthResult> {
  const { req } = parsed;
  const colon = rest.lastIndexOf(':');
  if (colon <= 0 || colon === rest.length - 1) {
    throw new S3Error('InvalidArgument', 'AWS authorization header is invalid.  Expected AwsAccessKeyId:signature', {
      ArgumentName: 'Authorization',
      ArgumentValue: `AWS ${rest}`,
    });
  }
  const accessKeyId = rest.slice(0, colon).trim();
  const signature = rest.slice(colon + 1).trim();

  // x-amz-date overrides Date (browsers cannot set Date); it is then signed among the amz headers
  // and the Date line of the string to sign is empty.
  const amzDate = parsed.header('x-amz-date');
  const dateHeader = parsed.header('date');
  const rawTime = amzDate ?? dateHeader;
  const time = rawTime === undefined ? undefined : (parseHttpDate(rawTime) ?? parseAmzDate(rawTime.trim()));
  if (!time || rawTime === undefined) throw missingDate();
  // A signed x-amz-* header; SigV2 does not sign a query parameter of that name, so none is taken.
  const sessionToken = sessionTokenOf(parsed, 'header');

  const credential = await lookupCredential(lookup, accessKeyId, sessionToken, req.now);
  checkSkew(time, rawTime, req.now);
  const dateLines = amzDate !== undefined ? ['', ...(dateHeader !== undefined ? [dateHeader] : [])] : [dateHeader ?? ''];
  checkV2Signature(credential.secretAccessKey, v2Candidates(parsed, dateLines), signature, accessKeyId);
  return { method: 'sigv2-header', identity: identityOf(credential), payload: payloadOf(parsed) };
}

export async function authenticateV2Query(parsed: ParsedAuthRequest, lookup: CredentialLookup): Promise<AuthResult> {
  const { req } = parsed;
  const accessKeyId = parsed.queryParam('AWSAccessKeyId');
  const expires = parsed.queryParam('Expires');
  // Base64 may arrive with an unescaped '+', which form-decoding turned into a space.
  const signature = parsed.queryParam('Signature')?.replace(/ /g, '+');
  if (accessKeyId === undefined || expires === undefined || signature === undefined) {
    throw new S3Error('AccessDenied', 'Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters');
  }
  if (!/^\d{1,15}$/.test(expires.trim())) {
    throw new S3Error('AccessDenied', `Invalid date (should be seconds since epoch): ${expires}`);
  }
  const expiresAt = new Date(Number(expires.trim()) * 1000);
  if (req.now.getTime() > expiresAt.getTime()) {
    throw new S3Error('AccessDenied', 'Request has expired', {
      Expires: formatIsoSeconds(expiresAt),
      ServerTime: formatIsoSeconds(req.now),
    });
  }
  // SigV2 itself sets no limit: a leaked URL expiring in 2100 would be a permanent credential.
  // Hold it to SigV4's week (or the server's setting).
  const maxSeconds = req.presignMaxSeconds ?? MAX_PRESIGN_EXPIRES_SECONDS;
  if (expiresAt.getTime() - req.now.getTime() > maxSeconds * 1000) {
    throw new S3Error('AccessDenied', `Expires must be at most ${maxSeconds} seconds after the current time`, {
      Expires: formatIsoSeconds(expiresAt),
      ServerTime: formatIsoSeconds(req.now),
    });
  }
  const sessionToken = sessionTokenOf(parsed, 'header-or-query');

  const credential = await lookupCredential(lookup, accessKeyId, sessionToken, req.now);
  // botocore and boto sign the token as an x-amz-security-token header, then move it to the query
  // string: sign it that way, so that a token added to a signed URL fails the signature.
  const tokenParam = parsed.query.find((p) => p.name.toLowerCase() === 'x-amz-security-token');
  const amzHeaders = tokenParam ? new Map(parsed.headers).set('x-amz-security-token', [tokenParam.value]) : parsed.headers;
  checkV2Signature(credential.secretAccessKey, v2Candidates(parsed, [expires], amzHeaders), signature, accessKeyId);
  return { method: 'sigv2-query', identity: identityOf(credential), payload: payloadOf(parsed) };
}
