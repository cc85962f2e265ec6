// A body read on demand into the caller's buffers: what the blob store hands out and what
// http/pooled.ts writes to a socket. Below both, so that neither imports the other.

export interface PooledBody {
  /** Fills `buf` with the next bytes and returns how many; 0 at the end. */
  read(buf: Buffer): Promise<number>;
  close(): Promise<void>;
}
