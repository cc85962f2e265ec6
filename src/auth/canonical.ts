// The pieces of a SigV4 canonical request that are derived from the request as received:
// URI, query string and headers. Everything here works on what came over the wire (rawPath,
// rawQuery, rawHeaders), never on a parsed-and-reassembled form, so that what we hash is what
// the client hashed.

import type { AuthRequest } from './types.js';

/** Bytes that SigV4's UriEncode leaves alone: A-Z a-z 0-9 - . _ ~ */
const UNRESERVED = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~') UNRESERVED[c.charCodeAt(0)] = 1;

const HEX_UPPER = '0123456789ABCDEF';

/**
 * UriEncode of the AWS spec on raw bytes: every byte except the unreserved set becomes %XY
 * (upper-case hex); '/' is kept when `keepSlash` (object key paths), encoded otherwise.
 */
export function uriEncodeBytes(bytes: Uint8Array, keepSlash: boolean): string {
  let out = '';
  for (const b of bytes) {
    if (UNRESERVED[b] === 1 || (keepSlash && b === 0x2f)) out += String.fromCharCode(b);
    else out += '%' + HEX_UPPER[b >> 4] + HEX_UPPER[b & 15];
  }
  return out;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/**
 * Percent-decodes to raw bytes. Malformed escapes ('%' not followed by two hex digits) are kept
 * literally, as a lenient decoder would; the client then signed them re-encoded as %25.
 * Characters outside ASCII (Node rejects them on the wire, but callers may pass decoded text)
 * are taken as UTF-8. With `plusIsSpace`, '+' means ' ' (query strings are form-encoded).
 */
export function percentDecodeBytes(s: string, plusIsSpace: boolean): Buffer {
  // Fast path: nothing to decode.
  if (!/[%+\u0080-\uffff]/.test(s)) return Buffer.from(s, 'latin1');
  const text = Buffer.from(s, 'utf8');
  const out = Buffer.allocUnsafe(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === 0x25 && i + 2 < text.length) {
      const hi = hexValue(text[i + 1]!);
      const lo = hexValue(text[i + 2]!);
      if (hi >= 0 && lo >= 0) {
        out[n++] = (hi << 4) | lo;
        i += 2;
        continue;
      }
    }
    out[n++] = plusIsSpace && c === 0x2b ? 0x20 : c;
  }
  return out.subarray(0, n);
}

/** Decodes a query component to a string (UTF-8; invalid sequences become U+FFFD). */
export function decodeQueryComponent(s: string): string {
  return percentDecodeBytes(s, true).toString('utf8');
}

/**
 * Canonical URI for S3: percent-decode the raw path once, then encode each byte (keeping '/').
 * No normalisation of '.', '..' or '//' segments and no double encoding: S3 keys may contain all
 * of those and the SDKs sign them as they are.
 */
export function canonicalUri(rawPath: string): string {
  if (rawPath === '') return '/';
  return uriEncodeBytes(percentDecodeBytes(rawPath, false), true);
}

export interface QueryParam {
  /** Raw (still encoded) name and value, as received. */
  rawName: string;
  rawValue: string;
  /** False for a bare name ("?acl"), true when an '=' followed ("?acl=", "?a=1"). */
  hasValue: boolean;
  /** Decoded name and value. */
  name: string;
  value: string;
}

/** Splits a raw query string into its parameters, in order, keeping both raw and decoded forms. */
export function parseQuery(rawQuery: string): QueryParam[] {
  if (rawQuery === '') return [];
  const params: QueryParam[] = [];
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const rawName = eq < 0 ? part : part.slice(0, eq);
    const rawValue = eq < 0 ? '' : part.slice(eq + 1);
    params.push({ rawName, rawValue, hasValue: eq >= 0, name: decodeQueryComponent(rawName), value: decodeQueryComponent(rawValue) });
  }
  return params;
}

/**
 * Canonical query string: each name and value decoded and re-encoded with UriEncode ('/' too),
 * sorted by encoded name, then by encoded value; empty values keep their '='. `exclude` drops a
 * parameter by its decoded name (X-Amz-Signature of a presigned URL).
 */
export function canonicalQuery(params: readonly QueryParam[], exclude?: string): string {
  const pairs: [string, string][] = [];
  for (const p of params) {
    if (exclude !== undefined && p.name === exclude) continue;
    pairs.push([
      uriEncodeBytes(percentDecodeBytes(p.rawName, true), false),
      uriEncodeBytes(percentDecodeBytes(p.rawValue, true), false),
    ]);
  }
  // Encoded forms are ASCII, so code-unit order is byte order, as AWS sorts.
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

/**
 * All values of each header, by lower-case name, in the order received. Built from rawHeaders so
 * that repeated headers are kept apart (Node's `headers` object merges or drops some of them).
 */
export function headerValues(req: Pick<AuthRequest, 'headers' | 'rawHeaders'>): Map<string, string[]> {
  const map = new Map<string, string[]>();
  const raw = req.rawHeaders;
  if (raw.length > 0) {
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]!.toLowerCase();
      const list = map.get(name);
      if (list) list.push(raw[i + 1]!);
      else map.set(name, [raw[i + 1]!]);
    }
    return map;
  }
  // No rawHeaders (synthetic requests): fall back to the parsed object.
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    map.set(name.toLowerCase(), Array.isArray(value) ? [...value] : [String(value)]);
  }
  return map;
}

/** Trim and collapse internal whitespace runs to one space, as SigV4 canonical headers require. */
export function canonicalHeaderValue(value: string): string {
  return value.trim().replace(/\s+/g, ' ');
}

/**
 * Canonical headers block ("name:value\n" for each signed header, in the order of SignedHeaders)
 * with repeated headers joined by ','. A signed header that is absent contributes "name:\n",
 * which then fails the signature comparison, as it should.
 */
export function canonicalHeaders(values: Map<string, string[]>, signedHeaders: readonly string[]): string {
  let out = '';
  for (const name of signedHeaders) {
    const list = values.get(name.toLowerCase()) ?? [];
    out += `${name}:${list.map(canonicalHeaderValue).join(',')}\n`;
  }
  return out;
}

/** First value of a header (lower-case name), or undefined. */
export function firstHeader(values: Map<string, string[]>, name: string): string | undefined {
  return values.get(name)?.[0];
}
