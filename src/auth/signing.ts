// Cryptographic primitives of SigV4: hashing, the derived signing key (cached), signatures and
// their constant-time comparison.

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const SERVICE = 's3';
export const TERMINAL = 'aws4_request';
/** SHA-256 of the empty string, hex. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

export function hmacHex(key: Buffer, data: string): string {
  return createHmac('sha256', key).update(data, 'utf8').digest('hex');
}

// Derived keys are valid for a day and a region; a busy client signs thousands of requests with
// the same one, and deriving costs four HMACs. Bounded so that a stream of distinct keys (or an
// attacker cycling dates) cannot grow memory without limit.
const KEY_CACHE_MAX = 1024;
const keyCache = new Map<string, Buffer>();

/** kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request"). */
export function signingKey(secret: string, date: string, region: string, service = SERVICE): Buffer {
  const cacheKey = `${date}\n${region}\n${service}\n${secret}`;
  const cached = keyCache.get(cacheKey);
  if (cached) return cached;
  const kDate = hmac('AWS4' + secret, date);
  const kRegion = hmac(kDate, region);
  const kService = hmac(kRegion, service);
  const key = hmac(kService, TERMINAL);
  if (keyCache.size >= KEY_CACHE_MAX) {
    // Maps iterate in insertion order: drop the oldest entry.
    const oldest = keyCache.keys().next().value;
    if (oldest !== undefined) keyCache.delete(oldest);
  }
  keyCache.set(cacheKey, key);
  return key;
}

export function credentialScope(date: string, region: string): string {
  return `${date}/${region}/${SERVICE}/${TERMINAL}`;
}

/**
 * The canonical request is hashed as the bytes the client sent. Node hands header values over as
 * latin1 strings (one char per wire byte) and every other component is ASCII once canonically
 * encoded, so latin1 reproduces the wire bytes exactly: a UTF-8 metadata value is hashed as the
 * UTF-8 bytes that botocore (and AWS) sign.
 */
export function stringToSign(amzDate: string, scope: string, canonicalRequest: string): string {
  return `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(Buffer.from(canonicalRequest, 'latin1'))}`;
}

/** Constant-time comparison of two ASCII signatures; different lengths compare unequal. */
export function signaturesEqual(expected: string, provided: string): boolean {
  const a = Buffer.from(expected, 'latin1');
  const b = Buffer.from(provided, 'latin1');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** "41 57 53 34" — the byte dump S3 puts next to StringToSign and CanonicalRequest. */
export function hexBytes(s: string): string {
  const hex = Buffer.from(s, 'utf8').toString('hex');
  let out = '';
  for (let i = 0; i < hex.length; i += 2) out += (i ? ' ' : '') + hex.slice(i, i + 2);
  return out;
}
