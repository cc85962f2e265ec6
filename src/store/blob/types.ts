// BlobStore: object bytes by opaque id. Ids are minted by the store and never derived from keys.

import type { PooledBody } from '../../http/pooled.js';

export interface BlobWriter {
  readonly id: string;
  /** Bytes written so far. */
  readonly size: number;
  /** Queues bytes; resolves when the caller may send more (backpressure). */
  write(chunk: Buffer): Promise<void>;
  /** Makes the blob durable and visible under its id. After this resolves the blob exists. */
  commit(): Promise<void>;
  /** Discards the blob (safe to call after a failed write or commit). */
  abort(): Promise<void>;
}

export interface BlobStore {
  create(): Promise<BlobWriter>;
  /**
   * Bytes [start, end] (inclusive) of a blob, read on demand into the caller's buffers. The blob
   * is leased from this call until close(): deleting it meanwhile only takes effect afterwards.
   */
  openRange(id: string, start: number, end: number): PooledBody;
  delete(id: string): Promise<void>;
  close(): Promise<void>;
}
