// Response bodies read from files into recycled buffers.
//
// A stream of fresh 512 KiB buffers per GET made V8 run major collections constantly. Here a body
// fills buffers taken from a small pool, each handed back when the socket has written it (the
// write callback), so a busy GET path allocates nothing per chunk. Reads run ahead of the socket
// (the next read starts as soon as a write is queued) until Node signals backpressure.

import type { ServerResponse } from 'node:http';

export interface PooledBody {
  /** Fills `buf` with the next bytes and returns how many; 0 at the end. */
  read(buf: Buffer): Promise<number>;
  close(): Promise<void>;
}

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

function drained(res: ServerResponse): Promise<void> {
  // The 'close' may already have happened (the client left while we were reading).
  if (res.destroyed || res.closed) return Promise.reject(gone());
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      res.off('close', onClose);
      resolve();
    };
    const onClose = () => {
      res.off('drain', onDrain);
      reject(gone());
    };
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}

/**
 * Streams a body to the response. If reading fails part-way, the bytes already written are let
 * out to the socket (for a second at most) before the error is rethrown: the caller then cuts the
 * connection, and the client has every byte that was read without error and nothing after.
 */
export async function sendPooled(body: PooledBody, res: ServerResponse): Promise<void> {
  let unflushed = 0;
  let onFlushed: (() => void) | undefined;
  try {
    for (;;) {
      if (res.destroyed || res.closed) throw gone();
      const buf = take();
      let n: number;
      try {
        n = await body.read(buf);
      } catch (e) {
        give(buf);
        if (unflushed > 0) await flushed(res, (f) => (onFlushed = f));
        throw e;
      }
      if (n === 0) {
        give(buf);
        break;
      }
      unflushed++;
      const ok = res.write(n === buf.length ? buf : buf.subarray(0, n), () => {
        give(buf);
        if (--unflushed === 0) onFlushed?.();
      });
      if (!ok) await drained(res);
    }
    res.end();
  } finally {
    await body.close();
  }
}

/** Waits until every write has been handed to the socket (bounded: a stuck client is not waited for). */
function flushed(res: ServerResponse, register: (f: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 1000);
    const done = () => {
      clearTimeout(timer);
      res.off('close', done);
      resolve();
    };
    register(done);
    res.once('close', done);
  });
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
