// Response bodies read from files into recycled buffers.
//
// A stream of fresh 512 KiB buffers per GET made V8 run major collections constantly. Here a body
// fills buffers taken from a small pool, each handed back when the socket has written it (the
// write callback), so a busy GET path allocates nothing per chunk. Reads run ahead of the socket
// (the next read starts as soon as a write is queued) while at most AHEAD chunks are queued.

import type { ServerResponse } from 'node:http';
import type { PooledBody } from '../common/body.js';

export type { PooledBody };

const CHUNK = 256 * 1024;
const POOL_MAX = 64;
const pool: Buffer[] = [];

function take(): Buffer {
  return pool.pop() ?? Buffer.allocUnsafeSlow(CHUNK);
}

function give(b: Buffer): void {
  if (pool.length < POOL_MAX) pool.push(b);
}

function gone(): Error {
  return Object.assign(new Error('client went away'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}

/**
 * Chunks queued on the socket before the next read waits for the oldest to be written. With the
 * one being read, 16 concurrent GETs hold POOL_MAX buffers.
 */
const AHEAD = 3;
/** How long the kernel is given to send what was written before a connection is reset. */
const LINGER_MS = 50;

/** Writes handed to the response and not yet to the socket, and a way to wait for the next. */
class Unwritten {
  count = 0;
  private wake: (() => void) | undefined;

  written(): void {
    this.count--;
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Resolves when the next write completes; rejects if the response closes first. */
  next(res: ServerResponse): Promise<void> {
    // The 'close' may already have happened (the client left while we were reading).
    if (res.destroyed || res.closed) return Promise.reject(gone());
    return new Promise((resolve, reject) => {
      const onClose = () => reject(gone());
      res.once('close', onClose);
      this.wake = () => {
        res.off('close', onClose);
        resolve();
      };
    });
  }
}

/**
 * Streams a body to the response, reading the next chunk while the previous ones are written
 * (at most AHEAD chunks queued), so that the socket never waits for a read and its checks.
 * If reading fails part-way, the bytes already written are let out first (see letOut) and the
 * error is rethrown: the caller then cuts the connection, and the client has the bytes that
 * were read without error and nothing after.
 */
export async function sendPooled(body: PooledBody, res: ServerResponse): Promise<void> {
  const unwritten = new Unwritten();
  let wrote = false;
  try {
    for (;;) {
      if (res.destroyed || res.closed) throw gone();
      const buf = take();
      let n: number;
      try {
        n = await body.read(buf);
      } catch (e) {
        give(buf);
        if (wrote) await letOut(res, unwritten);
        throw e;
      }
      if (n === 0) {
        give(buf);
        break;
      }
      unwritten.count++;
      wrote = true;
      res.write(n === buf.length ? buf : buf.subarray(0, n), () => {
        give(buf);
        unwritten.written();
      });
      while (unwritten.count >= AHEAD) await unwritten.next(res);
    }
    res.end();
  } finally {
    await body.close();
  }
}

/**
 * Before a connection is cut: waits (a second at most) until the writes are handed to the socket,
 * then gives the kernel a moment to send them, since a reset discards what it has not sent yet.
 */
async function letOut(res: ServerResponse, unwritten: Unwritten): Promise<void> {
  const deadline = Date.now() + 1000;
  while (unwritten.count > 0 && Date.now() < deadline) {
    await Promise.race([unwritten.next(res), sleep(deadline - Date.now())]).catch(() => undefined);
    if (res.destroyed) return;
  }
  await sleep(LINGER_MS);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** The same bytes as an async iterable of fresh buffers (for server-side copies). */
export async function* pooledChunks(body: PooledBody): AsyncGenerator<Buffer> {
  try {
    for (;;) {
      const buf = Buffer.allocUnsafe(CHUNK);
      const n = await body.read(buf);
      if (n === 0) return;
      yield n === buf.length ? buf : buf.subarray(0, n);
    }
  } finally {
    await body.close();
  }
}
