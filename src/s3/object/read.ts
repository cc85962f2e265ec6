// Reading objects: conditional request rules, byte ranges, and the stream of an object's bytes
// whether they live inline, in one blob, or across the blobs of a multipart object's parts.

import type { IncomingHttpHeaders } from 'node:http';
import { crc32 } from 'node:zlib';
import type { App } from '../../app.js';
import type { ObjectVersion } from '../../store/meta/types.js';
import { pooledChunks, type PooledBody } from '../../http/pooled.js';
import { S3Error } from '../errors.js';
import { quoteEtag } from '../common.js';
import { httpDate } from '../xml.js';
import { unquoteEtag } from './headers.js';

export function etagMatches(headerValue: string, etag: string): boolean {
  return headerValue.split(',').some((t) => {
    const s = t.trim();
    return s === '*' || unquoteEtag(s) === etag;
  });
}

export function parseHttpDate(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

/**
 * S3's rules for GET/HEAD conditions (RFC 7232, as S3 applies them): If-Match beats
 * If-Unmodified-Since (412), If-None-Match beats If-Modified-Since (304). Dates compare at
 * one-second resolution. Unparseable dates are ignored.
 */
export function checkReadConditions(h: IncomingHttpHeaders, etag: string, lastModified: number): void {
  const lm = Math.floor(lastModified / 1000) * 1000;
  const ifMatch = h['if-match'];
  const ifNoneMatch = h['if-none-match'];
  const headers = { ETag: quoteEtag(etag), 'Last-Modified': httpDate(lastModified) };
  if (ifMatch !== undefined) {
    if (!etagMatches(ifMatch, etag)) throw new S3Error('PreconditionFailed', undefined, { Condition: 'If-Match' });
  } else {
    const ius = parseHttpDate(h['if-unmodified-since']);
    if (ius !== undefined && lm > ius) throw new S3Error('PreconditionFailed', undefined, { Condition: 'If-Unmodified-Since' });
  }
  if (ifNoneMatch !== undefined) {
    if (etagMatches(ifNoneMatch, etag)) throw new S3Error('NotModified', undefined, {}, headers);
  } else {
    const ims = parseHttpDate(h['if-modified-since']);
    if (ims !== undefined && lm <= ims) throw new S3Error('NotModified', undefined, {}, headers);
  }
}

/** Inclusive byte range. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Parses a Range header against an object size. Returns undefined when the header is absent or
 * not a single byte range S3 honours (it then serves the whole object); throws InvalidRange (416)
 * when the range cannot be satisfied.
 */
export function parseRange(v: string | undefined, size: number): ByteRange | undefined {
  if (v === undefined) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(v);
  if (!m) return undefined;
  const [, a, b] = m;
  const unsatisfiable = () =>
    new S3Error('InvalidRange', undefined, { RangeRequested: v, ActualObjectSize: size }, { 'Content-Range': `bytes */${size}` });
  if (a === '' && b === '') return undefined;
  if (a === '') {
    const n = Number(b);
    if (n === 0 || size === 0) throw unsatisfiable();
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  if (b !== '' && Number(b) < start) return undefined;
  if (start >= size) throw unsatisfiable();
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  return { start, end };
}

const DAMAGED = "The object's stored data is missing or damaged.";

/**
 * The bytes [start, end] of an object version: a buffer when inline, read on demand otherwise.
 * Inline bytes are checked against their CRC first. Every blob involved is leased before this
 * returns (multipart objects: the whole part list is read now), so a concurrent overwrite or
 * delete cannot cut the body short or swap its parts. `bucket` is the bucket's name, for the log.
 */
export async function objectBody(app: App, bucket: string, v: ObjectVersion, start: number, end: number): Promise<Buffer | PooledBody> {
  if (v.inline) return verifiedInline(app, bucket, v).subarray(start, end + 1);
  if (v.size === 0 || end < start) return Buffer.alloc(0);
  if (v.blobId) return app.blobs.openRange(v.blobId, start, end);
  if (v.partsCount) {
    const parts = await app.meta.getObjectParts(v.rowId, 1, v.partsCount);
    const ranges: PooledBody[] = [];
    for (const p of parts) {
      const pEnd = p.offset + p.size - 1;
      if (pEnd < start || p.size === 0) continue;
      if (p.offset > end) break;
      ranges.push(app.blobs.openRange(p.blobId, Math.max(start, p.offset) - p.offset, Math.min(end, pEnd) - p.offset));
    }
    return concat(ranges);
  }
  // An object with no bytes recorded anywhere: only valid when it is empty.
  throw new Error(`object ${v.key} (${v.versionId}) has no data`);
}

/** Checks an object's stored data before it is shared or copied: inline bytes against their CRC (InternalError otherwise). */
export async function checkStoredData(app: App, bucket: string, v: ObjectVersion): Promise<void> {
  if (v.inline) verifiedInline(app, bucket, v);
}

function verifiedInline(app: App, bucket: string, v: ObjectVersion): Buffer {
  const bytes = v.inline!;
  if (v.inlineCrc !== undefined && crc32(bytes) !== v.inlineCrc) {
    report(app, bucket, v, { reason: 'inline data does not match its CRC' });
    throw new S3Error('InternalError', DAMAGED);
  }
  return bytes;
}

/** Logs and counts damaged data found while serving an object. */
function report(app: App, bucket: string, v: ObjectVersion, what: { blobId?: string; offset?: number; reason: string }): void {
  app.counters.integrityFailures++;
  app.log.error({ bucket, key: v.key, versionId: v.versionId, ...what }, 'stored object data is damaged; not served');
}

/** Several bodies, one after the other. */
function concat(bodies: PooledBody[]): PooledBody {
  let i = 0;
  return {
    async read(buf: Buffer): Promise<number> {
      while (i < bodies.length) {
        const n = await bodies[i]!.read(buf);
        if (n > 0) return n;
        await bodies[i++]!.close();
      }
      return 0;
    },
    async close(): Promise<void> {
      for (; i < bodies.length; i++) await bodies[i]!.close();
    },
  };
}

/** Releases a body obtained from objectBody (idempotent). */
export async function closeBody(body: Buffer | PooledBody): Promise<void> {
  if (!Buffer.isBuffer(body)) await body.close();
}

/** An object's bytes as an async iterable (for server-side copies). */
export function bodyChunks(body: Buffer | PooledBody): AsyncIterable<Buffer> {
  return Buffer.isBuffer(body) ? single(body) : pooledChunks(body);
}

async function* single(b: Buffer): AsyncGenerator<Buffer> {
  yield b;
}
