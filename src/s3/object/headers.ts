// Request headers that describe an object being written: representation headers, user metadata,
// storage class, Content-MD5, flexible checksums and write conditions.

import type { IncomingHttpHeaders } from 'node:http';
import { CHECKSUM_ALGORITHMS, checksumByteLength, checksumHeader, parseChecksumAlgorithm, type ChecksumAlgorithm } from '../../auth/checksums.js';
import type { PayloadMode } from '../../auth/types.js';
import type { ChecksumType, DeleteConditions, WriteConditions } from '../../store/meta/types.js';
import { S3Error } from '../errors.js';

/** Representation headers stored with an object and returned on GET/HEAD. */
export const STORED_HEADERS = [
  'content-type',
  'content-encoding',
  'content-disposition',
  'content-language',
  'cache-control',
  'expires',
  'x-amz-website-redirect-location',
] as const;

export const STORAGE_CLASSES = new Set([
  'STANDARD',
  'REDUCED_REDUNDANCY',
  'STANDARD_IA',
  'ONEZONE_IA',
  'INTELLIGENT_TIERING',
  'GLACIER',
  'DEEP_ARCHIVE',
  'OUTPOSTS',
  'GLACIER_IR',
  'SNOW',
  'EXPRESS_ONEZONE',
  'FSX_OPENZFS',
]);

/** InvalidStorageClass unless S3 has the class or this server's tiers name it. */
export function checkStorageClass(storageClass: string, extraClasses?: ReadonlySet<string>): void {
  if (!STORAGE_CLASSES.has(storageClass) && !extraClasses?.has(storageClass)) throw new S3Error('InvalidStorageClass', undefined, { StorageClassRequested: storageClass });
}

/** S3 limits user-defined metadata to 2 KB (names and values, UTF-8 bytes). */
export const MAX_USER_METADATA = 2048;

export interface WriteHeaders {
  headers: Record<string, string>;
  userMeta: Record<string, string>;
  storageClass: string;
}

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(',') : v;
}

/** x-amz-website-redirect-location: a path on the site or an absolute http(s) URL, at most 2 KB. */
export function checkRedirectLocation(v: string): void {
  if (!(v.startsWith('/') || v.startsWith('http://') || v.startsWith('https://'))) throw new S3Error('InvalidRedirectLocation');
  if (v.length > 2048) throw new S3Error('InvalidRedirectLocation', 'The length of website redirect location cannot exceed 2,048 characters.');
}

/**
 * `extraClasses`: storage classes configured on this server besides S3's (tiers' own names).
 */
export function parseWriteHeaders(h: IncomingHttpHeaders, extraClasses?: ReadonlySet<string>): WriteHeaders {
  const headers: Record<string, string> = {};
  for (const name of STORED_HEADERS) {
    let v = header(h, name);
    if (v === undefined) continue;
    if (name === 'content-encoding' && /aws-chunked/i.test(v)) {
      // aws-chunked describes the transfer, not the object.
      v = v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s && s.toLowerCase() !== 'aws-chunked')
        .join(', ');
      if (!v) continue;
    }
    if (name === 'x-amz-website-redirect-location') checkRedirectLocation(v);
    headers[name] = v;
  }
  const userMeta: Record<string, string> = {};
  let metaBytes = 0;
  for (const [name, value] of Object.entries(h)) {
    if (!name.startsWith('x-amz-meta-') || value === undefined) continue;
    const key = name.slice('x-amz-meta-'.length);
    const v = decodeHeaderText(Array.isArray(value) ? value.join(',') : value);
    userMeta[key] = v;
    metaBytes += Buffer.byteLength(key) + Buffer.byteLength(v);
  }
  if (metaBytes > MAX_USER_METADATA) throw new S3Error('MetadataTooLarge', undefined, { MaxSizeAllowed: MAX_USER_METADATA, Size: metaBytes });
  const storageClass = header(h, 'x-amz-storage-class') ?? 'STANDARD';
  checkStorageClass(storageClass, extraClasses);
  return { headers, userMeta, storageClass };
}

/**
 * Header values arrive as latin1 strings (one char per byte). A value whose bytes are valid UTF-8
 * is stored as the text it encodes; anything else is kept byte for byte.
 */
export function decodeHeaderText(v: string): string {
  if (!/[\x80-\xff]/.test(v)) return v;
  const bytes = Buffer.from(v, 'latin1');
  const text = bytes.toString('utf8');
  return Buffer.from(text, 'utf8').equals(bytes) ? text : v;
}

/** Values that do not fit in a header's latin1 bytes go out RFC 2047-encoded, as S3 sends them. */
export function encodeHeaderText(v: string): string {
  return /[^\x00-\xff]/.test(v) ? `=?UTF-8?B?${Buffer.from(v, 'utf8').toString('base64')}?=` : v;
}

/** Content-MD5 as 16 bytes; InvalidDigest when it is not base64 of 16 bytes. */
export function parseContentMd5(h: IncomingHttpHeaders): Buffer | undefined {
  const v = header(h, 'content-md5');
  if (v === undefined) return undefined;
  const b = Buffer.from(v, 'base64');
  if (b.length !== 16 || b.toString('base64') !== v.trim()) throw new S3Error('InvalidDigest', undefined, { 'Content-MD5': v });
  return b;
}

/** What the client says about the object's flexible checksum. */
export interface ChecksumSpec {
  algorithm: ChecksumAlgorithm;
  /** base64 value sent in a header (undefined when it comes in a trailer or not at all). */
  expected: string | undefined;
  /** The value arrives as an aws-chunked trailer. */
  trailer: boolean;
  type: ChecksumType;
}

export function isValidChecksumValue(alg: ChecksumAlgorithm, value: string): boolean {
  const b = Buffer.from(value, 'base64');
  return b.length === checksumByteLength(alg) && b.toString('base64') === value;
}

/**
 * Reads x-amz-checksum-*, x-amz-sdk-checksum-algorithm and x-amz-trailer. Returns undefined when
 * the client asks for no checksum.
 */
export function parseChecksumSpec(h: IncomingHttpHeaders, payload: PayloadMode): ChecksumSpec | undefined {
  const given = CHECKSUM_ALGORITHMS.filter((a) => h[checksumHeader(a)] !== undefined);
  if (given.length > 1) throw new S3Error('InvalidRequest', 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
  const sdkRaw = header(h, 'x-amz-sdk-checksum-algorithm');
  const sdk = parseChecksumAlgorithm(sdkRaw);
  if (sdkRaw !== undefined && !sdk) throw new S3Error('InvalidRequest', 'Value for x-amz-sdk-checksum-algorithm header is invalid.');
  let trailerAlg: ChecksumAlgorithm | undefined;
  if (payload.kind === 'chunked') {
    for (const name of payload.trailerNames) {
      if (!name.startsWith('x-amz-checksum-')) continue;
      const a = parseChecksumAlgorithm(name.slice('x-amz-checksum-'.length));
      if (!a) throw new S3Error('InvalidRequest', `The value specified in the x-amz-trailer header is not supported`);
      trailerAlg = a;
    }
  }
  const type = parseChecksumType(h) ?? 'FULL_OBJECT';
  if (given.length === 1) {
    const alg = given[0]!;
    const value = header(h, checksumHeader(alg))!;
    if (!isValidChecksumValue(alg, value)) throw new S3Error('BadDigest', `The ${alg} you specified did not match the calculated checksum.`);
    if (sdk && sdk !== alg) throw new S3Error('InvalidRequest', 'Value for x-amz-sdk-checksum-algorithm header is invalid.');
    if (trailerAlg) throw new S3Error('InvalidRequest', 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
    return { algorithm: alg, expected: value, trailer: false, type };
  }
  if (trailerAlg) {
    if (sdk && sdk !== trailerAlg) throw new S3Error('InvalidRequest', 'Value for x-amz-sdk-checksum-algorithm header is invalid.');
    return { algorithm: trailerAlg, expected: undefined, trailer: true, type };
  }
  if (sdk) {
    throw new S3Error('InvalidRequest', 'x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.');
  }
  return undefined;
}

export function parseChecksumType(h: IncomingHttpHeaders): ChecksumType | undefined {
  const v = header(h, 'x-amz-checksum-type');
  if (v === undefined) return undefined;
  const u = v.toUpperCase();
  if (u !== 'FULL_OBJECT' && u !== 'COMPOSITE') throw new S3Error('InvalidRequest', 'Value for x-amz-checksum-type header is invalid.');
  return u;
}

/** Strips quotes (and a weak prefix) from an ETag as sent in a condition header. */
export function unquoteEtag(s: string): string {
  let t = s.trim();
  if (t.startsWith('W/')) t = t.slice(2);
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) t = t.slice(1, -1);
  return t;
}

/** If-None-Match / If-Match on writes: compare-and-swap conditions checked inside the transaction. */
export function parseWriteConditions(h: IncomingHttpHeaders): WriteConditions | undefined {
  const inm = header(h, 'if-none-match');
  const im = header(h, 'if-match');
  if (inm === undefined && im === undefined) return undefined;
  const c: WriteConditions = {};
  if (inm !== undefined) c.ifNoneMatch = inm.trim() === '*' ? '*' : unquoteEtag(inm);
  if (im !== undefined) c.ifMatch = im.trim() === '*' ? '*' : unquoteEtag(im);
  return c;
}

/** A conditional delete's timestamp (x-amz-if-match-last-modified-time, <LastModifiedTime>): RFC 822 or ISO 8601. */
export function parseMatchTime(s: string, name: string): number {
  const t = Date.parse(s.trim());
  if (!Number.isFinite(t)) throw new S3Error('InvalidArgument', `Invalid ${name}: ${s}`, { ArgumentName: name, ArgumentValue: s });
  return t;
}

/** A conditional delete's size (x-amz-if-match-size, <Size>): a non-negative integer. */
export function parseMatchSize(s: string, name: string): number {
  const t = s.trim();
  if (!/^[0-9]{1,16}$/.test(t)) throw new S3Error('InvalidArgument', `Invalid ${name}: ${s}`, { ArgumentName: name, ArgumentValue: s });
  return Number(t);
}

/** If-Match, x-amz-if-match-last-modified-time and x-amz-if-match-size on DeleteObject: checked inside the transaction. */
export function parseDeleteConditions(h: IncomingHttpHeaders): DeleteConditions | undefined {
  const im = header(h, 'if-match');
  const lm = header(h, 'x-amz-if-match-last-modified-time');
  const size = header(h, 'x-amz-if-match-size');
  if (im === undefined && lm === undefined && size === undefined) return undefined;
  const c: DeleteConditions = {};
  if (im !== undefined) c.ifMatch = im.trim() === '*' ? '*' : unquoteEtag(im);
  if (lm !== undefined) c.ifMatchLastModified = parseMatchTime(lm, 'x-amz-if-match-last-modified-time');
  if (size !== undefined) c.ifMatchSize = parseMatchSize(size, 'x-amz-if-match-size');
  return c;
}
