// BlobStore: object bytes by opaque id. Ids are minted by the store and never derived from keys.

import type { PooledBody } from '../../common/body.js';
import type { StoragePolicySpec } from './policy.js';

export interface CreateOptions {
  /** Spread the blob over the drives as this policy says (drives.ts); default: one file in the data directory. */
  policy?: StoragePolicySpec;
}

export interface BlobWriter {
  readonly id: string;
  /** Data bytes written so far. */
  readonly size: number;
  /** After commit: shards (replicas) the policy wanted that could not be written (healed later). */
  readonly degraded?: number;
  /** Queues bytes; resolves when the caller may send more (backpressure). */
  write(chunk: Buffer): Promise<void>;
  /** Makes the blob durable and visible under its id. After this resolves the blob exists. */
  commit(): Promise<void>;
  /** Discards the blob (safe to call after a failed write or commit). */
  abort(): Promise<void>;
}

/**
 * A blob's stored bytes are not what was written: the file is missing, has the wrong length, its
 * checksums are damaged, or a block does not match its checksum. Nothing of the damaged part has
 * been handed out.
 */
export class BlobDamagedError extends Error {
  constructor(
    readonly blobId: string,
    /** Offset (within the blob's data) of the first byte that could not be verified. */
    readonly offset: number,
    readonly reason: string,
    /** The file does not exist (as opposed to existing with damaged contents). */
    readonly missing = false,
  ) {
    super(`blob ${blobId} is damaged at offset ${offset}: ${reason}`);
    this.name = 'BlobDamagedError';
  }
}

export interface OpenOptions {
  /**
   * Check only that the file is there with the right length now (a stat, no file descriptor
   * held); open it and check its checksums when reading starts.
   */
  lazy?: boolean;
  /**
   * The caller authenticates every byte it reads with a check of its own that is at least as
   * strong as the block CRCs (the GCM tags of sealed packages, sse/packages.ts), before handing
   * any of it out: blocks are then not checked against their CRCs as they are read. Everything
   * else still is: presence, length, and the CRC table and trailer (on open).
   */
  authenticated?: boolean;
}

export interface BlobStore {
  create(opts?: CreateOptions): Promise<BlobWriter>;
  /**
   * Bytes [start, end] (inclusive) of a blob holding `size` bytes of data, read on demand into
   * the caller's buffers, each verified against its checksum before it is handed out. Resolves once
   * the blob is known to be present with the length `size` implies and valid checksums; rejects
   * with BlobDamagedError otherwise (and read() rejects with it at a damaged block). The blob is
   * leased from this call until close(): deleting it meanwhile only takes effect afterwards.
   */
  openRange(id: string, size: number, start: number, end: number, opts?: OpenOptions): Promise<PooledBody>;
  /** The checks openRange makes before its first read (BlobDamagedError), without reading data. */
  check(id: string, size: number, opts?: OpenOptions): Promise<void>;
  delete(id: string): Promise<void>;
  close(): Promise<void>;
}
