// Reading objects: conditional request rules, byte ranges, and the stream of an object's bytes
// whether they live inline, in one blob, or across the blobs of a multipart object's parts,
// verified before they are handed out.

import type { IncomingHttpHeaders } from 'node:http';
import { crc32 } from 'node:zlib';
import type { App } from '../../app.js';
import type { ObjectVersion } from '../../store/meta/types.js';
import { BlobDamagedError, type OpenOptions } from '../../store/blob/types.js';
import { blobKey, openAll, openingBody, packageSizeOf, sealedRange, sealedSize } from '../../sse/packages.js';
import { pooledChunks, type PooledBody } from '../../http/pooled.js';
import { S3Error } from '../errors.js';
import { quoteEtag } from '../common.js';
import { httpDate } from '../xml.js';
import { unquoteEtag } from './headers.js';
import { invalidObjectState, readable, restored, tieredBody } from '../../tiering/read.js';

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

/** How many part blobs are checked at once before a multipart object is served. */
const CHECK_CONCURRENCY = 16;

const DAMAGED = "The object's stored data is missing or damaged.";

/**
 * The bytes [start, end] of an object version: a buffer when inline, read on demand otherwise.
 * Nothing is handed out unverified: inline bytes are checked against their CRC now; a blob is
 * checked (present, right length, valid checksum trailer) now and each block as it is read; the
 * part blobs of a multipart object in the range are checked for presence and length now (a stat
 * each, no file descriptor held) and opened and checked as the stream reaches them. Damage found
 * now is an InternalError; found while reading, read() fails with one. Every blob involved is
 * leased before this returns, so a concurrent overwrite or delete cannot cut the body short or
 * swap its parts. `bucket` is the bucket's name, for the log.
 */
export async function objectBody(app: App, bucket: string, v: ObjectVersion, start: number, end: number, dataKey?: Buffer): Promise<Buffer | PooledBody> {
  if (v.sse && !dataKey) throw new Error(`object ${v.key} is encrypted: its data key is needed`);
  if (v.tier) {
    if (!readable(v.tier)) throw invalidObjectState(v);
    if (v.size === 0 || end < start) return Buffer.alloc(0);
    return tieredBody(app, v, start, end, dataKey);
  }
  if (v.inline) {
    const stored = verifiedInline(app, bucket, v);
    if (!dataKey) return stored.subarray(start, end + 1);
    try {
      return openAll(blobKey(dataKey, v.sse!.n!), stored, packageSizeOf(v.sse!)).subarray(start, end + 1);
    } catch {
      report(app, bucket, v, { reason: 'inline data does not authenticate' });
      throw new S3Error('InternalError', DAMAGED);
    }
  }
  if (v.size === 0 || end < start) return Buffer.alloc(0);
  const seal = dataKey ? { dataKey, p: packageSizeOf(v.sse!) } : undefined;
  try {
    if (v.blobId) return reporting(app, bucket, v, await openBlob(app, v.blobId, v.size, start, end, seal));
    if (v.partsCount) {
      const parts = (await app.meta.getObjectParts(v.rowId, 1, v.partsCount)).filter((p) => p.size > 0 && p.offset <= end && p.offset + p.size - 1 >= start);
      const bodies: PooledBody[] = [];
      try {
        await forEachBounded(parts.length, async (i) => {
          const p = parts[i]!;
          bodies[i] = await openBlob(app, p.blobId, p.size, Math.max(start, p.offset) - p.offset, Math.min(end, p.offset + p.size - 1) - p.offset, seal, { lazy: true });
        });
      } catch (e) {
        await Promise.all(bodies.map((b) => b?.close()));
        throw e;
      }
      return reporting(app, bucket, v, concat(bodies));
    }
  } catch (e) {
    throw await damaged(app, bucket, v, e);
  }
  // An object with no bytes recorded anywhere: only valid when it is empty.
  throw new Error(`object ${v.key} (${v.versionId}) has no data`);
}

/**
 * Plaintext bytes [start, end] of a blob holding `size` bytes: read as they are, or, with a data
 * key, the sealed packages covering them, each authenticated before a byte of it is handed out.
 */
async function openBlob(app: App, blobId: string, size: number, start: number, end: number, seal: { dataKey: Buffer; p: number } | undefined, opts?: OpenOptions): Promise<PooledBody> {
  if (!seal) return app.blobs.openRange(blobId, size, start, end, opts);
  const r = sealedRange(start, end, size, seal.p);
  // The GCM tags stand in for the blob's block CRCs (the argument: sse/packages.ts).
  const sealed = await app.blobs.openRange(blobId, sealedSize(size, seal.p), r.from, r.to, { ...opts, authenticated: true });
  return openingBody(blobKey(seal.dataKey, blobId), sealed, start, end, size, blobId, seal.p);
}

/**
 * Checks an object's stored data before it is shared or copied: inline bytes against their CRC,
 * every blob for presence, length and checksum trailer (InternalError otherwise).
 */
export async function checkStoredData(app: App, bucket: string, v: ObjectVersion): Promise<void> {
  if (v.tier) {
    // A tiered version's data is read (and verified) as it is copied; an archived one must be restored.
    if (!readable(v.tier)) throw invalidObjectState(v);
    if (restored(v.tier)) await app.blobs.check(v.tier.restore!.blob!, v.tier.size).catch(async (e: unknown) => Promise.reject(await damaged(app, bucket, v, e)));
    return;
  }
  if (v.inline) {
    verifiedInline(app, bucket, v);
    return;
  }
  try {
    const stored = (n: number) => (v.sse ? sealedSize(n, packageSizeOf(v.sse)) : n);
    if (v.blobId) await app.blobs.check(v.blobId, stored(v.size));
    else if (v.partsCount) {
      const parts = await app.meta.getObjectParts(v.rowId, 1, v.partsCount);
      await forEachBounded(parts.length, (i) => app.blobs.check(parts[i]!.blobId, stored(parts[i]!.size)));
    }
  } catch (e) {
    throw await damaged(app, bucket, v, e);
  }
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

/**
 * The error to answer for a failure to open an object's data: InternalError for a damaged blob
 * (logged and counted), NoSuchKey when the blob is missing because the object was deleted since it
 * was looked up; any other error unchanged.
 */
async function damaged(app: App, bucket: string, v: ObjectVersion, e: unknown): Promise<unknown> {
  if (!(e instanceof BlobDamagedError)) return e;
  if (e.missing && !(await app.meta.getObject(v.bucketId, v.key, v.versionId))) return new S3Error('NoSuchKey', undefined, { Key: v.key });
  report(app, bucket, v, { blobId: e.blobId, offset: e.offset, reason: e.reason });
  return new S3Error('InternalError', DAMAGED);
}

/** A body whose damaged blocks are logged and counted, and fail the read with InternalError. */
function reporting(app: App, bucket: string, v: ObjectVersion, body: PooledBody): PooledBody {
  return {
    read: async (buf) => {
      try {
        return await body.read(buf);
      } catch (e) {
        if (!(e instanceof BlobDamagedError)) throw e;
        report(app, bucket, v, { blobId: e.blobId, offset: e.offset, reason: e.reason });
        throw new S3Error('InternalError', DAMAGED);
      }
    },
    close: () => body.close(),
  };
}

/** Runs fn(0 … n-1), CHECK_CONCURRENCY at a time; stops starting new ones after a failure and rethrows it. */
async function forEachBounded(n: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < n) {
      const i = next++;
      try {
        await fn(i);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CHECK_CONCURRENCY, n) }, worker));
  if (failure) throw failure.error;
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
