// The client side of a tier: any S3 endpoint, through the AWS SDK. Uploads are verified (the
// remote checks each body's Content-MD5 on receipt, and what it then reports having stored — its
// size and SHA-256 checksum, or its MD5 ETag — must be what was sent), reads are ranged and
// streamed into the caller's buffers, never buffered whole.

import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { PooledBody } from '../common/body.js';
import type { Tier } from './tiers.js';

/** Bodies up to this size go in one PutObject; larger ones in parts of this size. */
export const PART_SIZE = 16 * 1024 * 1024;

export class RemoteVerifyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RemoteVerifyError';
  }
}

export interface Uploaded {
  /** Bytes the remote holds. */
  size: number;
  /** SHA-256 (base64) of the bytes, or of the parts' SHA-256s followed by "-N" (S3's composite form). */
  sha256: string;
}

export class RemoteTier {
  readonly client: S3Client;
  constructor(readonly tier: Tier) {
    this.client = new S3Client({
      endpoint: tier.endpoint,
      region: tier.region,
      forcePathStyle: true,
      credentials: { accessKeyId: tier.accessKey, secretAccessKey: tier.secretKey },
      // Checksums are ours to choose (SHA-256, sent and compared explicitly).
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
      requestHandler: { connectionTimeout: 5_000, requestTimeout: 120_000 },
    });
  }

  /** The remote key of a copy: under the tier's prefix, opaque (object keys may be 1024 bytes). */
  remoteKey(bucket: string, id: string): string {
    return `${this.tier.prefix}${bucket}/${id}`;
  }

  /**
   * Uploads `size` bytes from `source` to `key` (one PutObject up to PART_SIZE, a multipart upload
   * above) and verifies what the remote stored. Throws (after cleaning up what it could) when the
   * source does not yield exactly `size` bytes or the remote's copy does not verify.
   */
  async upload(key: string, source: AsyncIterable<Buffer>, size: number, signal?: AbortSignal): Promise<Uploaded> {
    const opts = signal ? { abortSignal: signal } : {};
    const parts = partsOf(source);
    if (size <= PART_SIZE) {
      const body = (await parts.next()).value ?? Buffer.alloc(0);
      if (body.length !== size || !(await parts.next()).done) throw new Error(`local data is not ${size} bytes`);
      const sha256 = createHash('sha256').update(body).digest('base64');
      const md5 = createHash('md5').update(body).digest();
      await this.client.send(
        new PutObjectCommand({ Bucket: this.tier.bucket, Key: key, Body: body, ContentLength: size, ContentMD5: md5.toString('base64'), ChecksumSHA256: sha256 }),
        opts,
      );
      await this.verify(key, size, sha256, md5.toString('hex'));
      return { size, sha256 };
    }
    const { UploadId } = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.tier.bucket, Key: key, ChecksumAlgorithm: 'SHA256' }), opts);
    if (!UploadId) throw new Error('the remote answered no upload id');
    try {
      const done: { PartNumber: number; ETag: string; ChecksumSHA256: string }[] = [];
      const digests: Buffer[] = [];
      const md5s: Buffer[] = [];
      let total = 0;
      for await (const body of partsIterable(parts)) {
        total += body.length;
        if (total > size) throw new Error(`local data is longer than ${size} bytes`);
        const sha = createHash('sha256').update(body).digest();
        const md5 = createHash('md5').update(body).digest();
        const n = done.length + 1;
        const r = await this.client.send(
          new UploadPartCommand({ Bucket: this.tier.bucket, Key: key, UploadId, PartNumber: n, Body: body, ContentLength: body.length, ContentMD5: md5.toString('base64'), ChecksumSHA256: sha.toString('base64') }),
          opts,
        );
        if (!r.ETag) throw new Error(`the remote answered no ETag for part ${n}`);
        done.push({ PartNumber: n, ETag: r.ETag, ChecksumSHA256: sha.toString('base64') });
        digests.push(sha);
        md5s.push(md5);
      }
      if (total !== size) throw new Error(`local data is ${total} bytes, not ${size}`);
      await this.client.send(new CompleteMultipartUploadCommand({ Bucket: this.tier.bucket, Key: key, UploadId, MultipartUpload: { Parts: done } }), opts);
      const sha256 = `${createHash('sha256').update(Buffer.concat(digests)).digest('base64')}-${done.length}`;
      const etag = `${createHash('md5').update(Buffer.concat(md5s)).digest('hex')}-${done.length}`;
      await this.verify(key, size, sha256, etag);
      return { size, sha256 };
    } catch (e) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.tier.bucket, Key: key, UploadId })).catch(() => undefined);
      throw e;
    }
  }

  /**
   * What the remote says it holds must be what was sent: the size, and the SHA-256 checksum when
   * it reports one, else an MD5 ETag when it has that form (an ETag of another form — a remote
   * encrypting with KMS — leaves the checksum the remote verified on receipt).
   */
  async verify(key: string, size: number, sha256: string, md5Etag: string): Promise<void> {
    const h = await this.client.send(new HeadObjectCommand({ Bucket: this.tier.bucket, Key: key, ChecksumMode: 'ENABLED' }));
    if (h.ContentLength !== size) throw new RemoteVerifyError(`remote copy ${key} holds ${h.ContentLength} bytes, not ${size}`);
    if (h.ChecksumSHA256) {
      if (h.ChecksumSHA256 !== sha256) throw new RemoteVerifyError(`remote copy ${key}: SHA-256 ${h.ChecksumSHA256}, sent ${sha256}`);
      return;
    }
    const etag = (h.ETag ?? '').replace(/"/g, '');
    if (/^[0-9a-f]{32}(-\d+)?$/.test(etag) && etag !== md5Etag) throw new RemoteVerifyError(`remote copy ${key}: ETag ${etag}, sent ${md5Etag}`);
  }

  /** Size of the remote copy, or undefined when it is not there. */
  async size(key: string): Promise<number | undefined> {
    try {
      return (await this.client.send(new HeadObjectCommand({ Bucket: this.tier.bucket, Key: key }))).ContentLength;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /** Bytes [from, to] of the remote copy, streamed. */
  async openRange(key: string, from: number, to: number): Promise<PooledBody> {
    const r = await this.client.send(new GetObjectCommand({ Bucket: this.tier.bucket, Key: key, Range: `bytes=${from}-${to}` }));
    const expected = to - from + 1;
    if (r.ContentLength !== undefined && r.ContentLength !== expected) {
      (r.Body as Readable | undefined)?.destroy?.();
      throw new RemoteVerifyError(`remote copy ${key}: asked for ${expected} bytes, answered ${r.ContentLength}`);
    }
    return streamBody(r.Body as Readable, expected, key);
  }

  /** Deletes the remote copy (a copy already gone is fine). */
  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.tier.bucket, Key: key }));
  }

  close(): void {
    this.client.destroy();
  }
}

export function isNotFound(e: unknown): boolean {
  const x = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return x?.name === 'NotFound' || x?.name === 'NoSuchKey' || x?.$metadata?.httpStatusCode === 404;
}

/** Chunks of `source` regrouped into buffers of PART_SIZE (the last one shorter). */
async function* partsOf(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer, void> {
  let pending: Buffer[] = [];
  let n = 0;
  for await (let chunk of source) {
    while (n + chunk.length >= PART_SIZE) {
      const take = PART_SIZE - n;
      pending.push(chunk.subarray(0, take));
      yield Buffer.concat(pending);
      pending = [];
      n = 0;
      chunk = chunk.subarray(take);
    }
    if (chunk.length) {
      // Copy: the source may reuse its buffers.
      pending.push(Buffer.from(chunk));
      n += chunk.length;
    }
  }
  if (n > 0 || pending.length) yield Buffer.concat(pending);
}

function partsIterable(g: AsyncGenerator<Buffer, void>): AsyncIterable<Buffer> {
  return { [Symbol.asyncIterator]: () => g };
}

/** A response stream as a PooledBody: exactly `expected` bytes, or the read fails. */
export function streamBody(stream: Readable, expected: number, what: string): PooledBody {
  const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let left: Buffer | undefined;
  let got = 0;
  let ended = false;
  return {
    async read(buf: Buffer): Promise<number> {
      if (!left || left.length === 0) {
        if (ended) return 0;
        const r = await it.next();
        if (r.done) {
          ended = true;
          if (got !== expected) throw new RemoteVerifyError(`remote copy ${what} ended after ${got} of ${expected} bytes`);
          return 0;
        }
        left = r.value;
        got += left.length;
        if (got > expected) throw new RemoteVerifyError(`remote copy ${what} sent more than ${expected} bytes`);
      }
      const n = left.copy(buf, 0, 0, Math.min(buf.length, left.length));
      left = left.subarray(n);
      return n;
    },
    async close(): Promise<void> {
      ended = true;
      stream.destroy();
    },
  };
}
