// Receiving object bytes: stream the decoded body into memory (small objects, stored inline in
// the metadata record) or into a new blob (everything else), computing the MD5 (the ETag) and the
// requested flexible checksum on the way, and verifying Content-MD5 and the checksum before the
// caller may commit anything.

import { createHash, randomBytes } from 'node:crypto';
import { blobKey, sealAll, Sealer } from '../../sse/packages.js';
import { checksumHeader, createChecksum, type ChecksumAlgorithm } from '../../auth/checksums.js';
import type { App } from '../../app.js';
import type { StoragePolicySpec } from '../../store/blob/policy.js';
import type { BlobWriter } from '../../store/blob/types.js';
import { StoreError } from '../../store/errors.js';
import { isOutOfSpace } from '../../store/space.js';
import { S3Error } from '../errors.js';
import type { S3Context } from '../handler.js';
import { isValidChecksumValue, type ChecksumSpec } from './headers.js';

export interface Ingested {
  size: number;
  /** hex MD5 of the bytes */
  md5: string;
  /** base64 flexible checksum, when one was requested */
  checksum?: { algorithm: ChecksumAlgorithm; value: string };
  /** The bytes, when stored inline. */
  inline?: Buffer;
  /** The committed blob holding the bytes, otherwise. Delete it if the metadata commit fails. */
  blobId?: string;
  /** Sealed inline bytes: the id their key was derived from (the descriptor's `n`). */
  inlineId?: string;
  /** Shards (replicas) of the blob its policy wanted that could not be written (healed later). */
  degraded?: number;
}

export interface IngestOptions {
  contentMd5?: Buffer | undefined;
  checksum?: ChecksumSpec | undefined;
  /** Compute this algorithm even when the client sent no checksum (multipart parts). */
  computeAlgorithm?: ChecksumAlgorithm | undefined;
  /** Keep the bytes in memory when the declared length is at most this. */
  inlineThreshold: number;
  /** Refuse (EntityTooLarge) a body that grows beyond this many bytes. */
  maxSize: number;
  /** Refuse (EntityTooSmall) a body shorter than this, before anything is committed. */
  minSize?: number | undefined;
  /**
   * Server-side encryption: seal the bytes under keys derived from this data key, in packages of
   * `p` bytes (the descriptor's; sse/packages.ts).
   */
  seal?: { dataKey: Buffer; p: number } | undefined;
  /** The bucket's storage policy (storage/policies.ts): how a blob is placed on the drives. */
  policy?: StoragePolicySpec | undefined;
}

/** Reads the request body into storage (see storeBytes). */
export async function ingest(ctx: S3Context, o: IngestOptions): Promise<Ingested> {
  const body = ctx.body();
  return storeBytes(ctx.app, body, ctx.contentLength, () => body.trailers, o);
}

/**
 * Streams bytes into memory (when `declared` is within the inline threshold, or while a body of
 * unknown length has not outgrown it) or a new blob,
 * hashing as they pass, and verifies Content-MD5 and the checksum (from a header, or from a
 * trailer read through `trailers` once the source is exhausted) before returning.
 */
export async function storeBytes(
  app: App,
  source: AsyncIterable<Buffer>,
  declared: number | undefined,
  trailers: () => Record<string, string>,
  o: IngestOptions,
): Promise<Ingested> {
  // A body of unknown length (chunked transfer, a POST form's file) starts in memory and moves
  // to a blob once it outgrows the inline threshold.
  const inline = o.inlineThreshold >= 0 && (declared === undefined || declared <= o.inlineThreshold);
  const md5 = createHash('md5');
  const algorithm = o.checksum?.algorithm ?? o.computeAlgorithm;
  const sum = algorithm ? createChecksum(algorithm) : undefined;
  const chunks: Buffer[] = [];
  let writer: BlobWriter | undefined;
  let sealer: Sealer | undefined;
  let size = 0;
  // With encryption, what the blob receives is sealed packages (sse/packages.ts).
  const toBlob = async (w: BlobWriter, chunk: Buffer): Promise<void> => {
    if (!o.seal) return w.write(chunk);
    sealer ??= new Sealer(blobKey(o.seal.dataKey, w.id), o.seal.p);
    for (const p of sealer.push(chunk)) await w.write(p);
  };
  try {
    const create = () => app.blobs.create(o.policy ? { policy: o.policy } : {});
    if (!inline) writer = await create();
    for await (const chunk of source) {
      size += chunk.length;
      if (size > o.maxSize) throw new S3Error('EntityTooLarge', undefined, { MaxSizeAllowed: o.maxSize });
      md5.update(chunk);
      sum?.update(chunk);
      if (writer) await toBlob(writer, chunk);
      else {
        chunks.push(chunk);
        if (size > o.inlineThreshold) {
          writer = await create();
          for (const c of chunks) await toBlob(writer, c);
          chunks.length = 0;
        }
      }
    }
    if (writer && sealer) for (const p of sealer.end()) await writer.write(p);
    if (o.minSize !== undefined && size < o.minSize) throw new S3Error('EntityTooSmall', undefined, { ProposedSize: size, MinSizeAllowed: o.minSize });
    const md5Bytes = md5.digest();
    if (o.contentMd5 && !md5Bytes.equals(o.contentMd5)) {
      throw new S3Error('BadDigest', undefined, { ExpectedDigest: o.contentMd5.toString('base64'), CalculatedDigest: md5Bytes.toString('base64') });
    }
    const result: Ingested = { size, md5: md5Bytes.toString('hex') };
    if (sum && algorithm) {
      const value = sum.digest().toString('base64');
      let expected = o.checksum?.expected;
      if (o.checksum?.trailer) {
        const name = checksumHeader(algorithm);
        expected = trailers()[name];
        if (expected === undefined) throw new S3Error('InvalidRequest', `The trailer ${name} was announced but not sent.`);
        if (!isValidChecksumValue(algorithm, expected)) throw new S3Error('InvalidRequest', `Value for ${name} trailing header is invalid.`);
      }
      if (expected !== undefined && expected !== value) {
        throw new S3Error('BadDigest', `The ${algorithm} you specified did not match the calculated checksum.`);
      }
      result.checksum = { algorithm, value };
    }
    if (writer) {
      await writer.commit();
      result.blobId = writer.id;
      if (writer.degraded) result.degraded = writer.degraded;
    } else {
      result.inline = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      if (o.seal) {
        result.inlineId = randomBytes(16).toString('hex');
        result.inline = sealAll(blobKey(o.seal.dataKey, result.inlineId), result.inline, o.seal.p);
      }
    }
    return result;
  } catch (e) {
    await writer?.abort();
    throw e;
  }
}

/**
 * Removes a blob written for a request whose metadata write was refused (an S3 error) or ran out
 * of space (SQLITE_FULL): either way the transaction rolled back. On any other failure the
 * commit's outcome is unknown and the blob is left alone: the orphan sweep at the next start
 * removes it if nothing references it. (On a full disk that would hold its space until then.)
 */
export async function discardBlob(app: App, blobId: string | undefined, cause: unknown): Promise<void> {
  if (blobId === undefined || !(cause instanceof S3Error || cause instanceof StoreError || isOutOfSpace(cause))) return;
  await app.blobs.delete(blobId).catch((e: unknown) => app.log.warn({ err: e, blobId }, 'could not remove an uncommitted blob'));
}
