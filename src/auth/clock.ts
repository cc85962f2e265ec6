// Request timestamps: parsing the formats clients send and checking them against the server
// clock the way S3 does.

import { S3Error } from '../s3/errors.js';

/** S3 refuses requests whose time differs from its own by more than 15 minutes. */
export const MAX_SKEW_MS = 15 * 60 * 1000;

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/**
 * Parses the ISO 8601 basic format of x-amz-date / X-Amz-Date ("20130524T000000Z"). Rejects
 * impossible dates (month 13, Feb 30…) and years before 1970, which S3 answers as an invalid
 * date rather than as a skewed one.
 */
let lastAmzInput = '';
let lastAmzDate: Date | undefined;

export function parseAmzDate(s: string): Date | undefined {
  // Consecutive requests mostly carry the same second: keep the last answer.
  if (s === lastAmzInput) return lastAmzDate;
  const d = parseAmzDateUncached(s);
  lastAmzInput = s;
  lastAmzDate = d;
  return d;
}

function parseAmzDateUncached(s: string): Date | undefined {
  const m = AMZ_DATE.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  if (y < 1970) return undefined;
  const t = Date.UTC(y, mo - 1, d, h, mi, se);
  const date = new Date(t);
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || h > 23 || mi > 59 || se > 59) {
    return undefined;
  }
  return date;
}

let lastScopeDate = '';

/** Parses an 8-digit credential scope date ("20130524"). */
export function isValidScopeDate(s: string): boolean {
  if (s === lastScopeDate) return true;
  // Its own memo: going through parseAmzDate's would evict the request date remembered there.
  const ok = /^\d{8}$/.test(s) && parseAmzDateUncached(`${s}T000000Z`) !== undefined;
  if (ok) lastScopeDate = s;
  return ok;
}

/**
 * Parses an HTTP date (RFC 7231 IMF-fixdate, RFC 850, asctime; also the RFC 2822 variants old
 * clients send with numeric zones). Used for the Date header, and for x-amz-date under SigV2.
 */
export function parseHttpDate(s: string): Date | undefined {
  const trimmed = s.trim();
  // Date.parse accepts far more than HTTP dates (e.g. bare numbers); require a weekday or month
  // name so that garbage like "Bad Date" or "\x07" is refused.
  if (!/[A-Za-z]{3}/.test(trimmed) || !/\d{1,2}:\d{2}:\d{2}/.test(trimmed)) return undefined;
  const t = Date.parse(trimmed);
  if (Number.isNaN(t) || t < 0) return undefined;
  return new Date(t);
}

/** "20130524T000000Z" */
export function formatAmzDate(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** "2013-05-24T00:00:00Z", as S3 writes ServerTime. */
export function formatIsoSeconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Throws RequestTimeTooSkewed when `requestTime` is more than 15 minutes from `now`. */
export function checkSkew(requestTime: Date, rawRequestTime: string, now: Date): void {
  if (Math.abs(requestTime.getTime() - now.getTime()) > MAX_SKEW_MS) {
    throw new S3Error('RequestTimeTooSkewed', undefined, {
      RequestTime: rawRequestTime,
      ServerTime: formatIsoSeconds(now),
      MaxAllowedSkewMilliseconds: MAX_SKEW_MS,
    });
  }
}

export function missingDate(): S3Error {
  return new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
}
