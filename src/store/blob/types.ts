// BlobStore: object bytes by opaque id. Ids are minted by the store and never derived from keys.

import type { Readable } from 'node:stream';

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
  /** Streams bytes [start, end] (inclusive) of a blob; the whole blob by default. */
  read(id: string, start?: number, end?: number): Readable;
  delete(id: string): Promise<void>;
  close(): Promise<void>;
}
