// The raw request body as the pipeline reads it: the bytes the socket delivers, pulled one chunk
// at a time (backpressure reaches the client), and failed rather than left hanging when they stop
// coming:
//  - the client sends nothing for `idleMs` while we wait for bytes → RequestTimeout (S3: ~20 s);
//  - the client closes its side (TCP FIN) before the body is complete → IncompleteBody; the
//    connection layer reports it through fail(), since Node then never ends the request stream;
//  - the connection is reset → IncompleteBody.
// Whoever iterates sees an S3Error, aborts what it was writing and answers; nothing waits forever.
//
// This replaces Node's own async iterator over the request (same read() loop, no extra layer),
// so the timer and the failure cost nothing per chunk but a timer refresh.

import type { IncomingMessage } from 'node:http';
import { S3Error } from '../s3/errors.js';

interface Waiter {
  resolve: (r: IteratorResult<Buffer>) => void;
  reject: (e: unknown) => void;
}

const DONE: IteratorResult<Buffer> = { done: true, value: undefined };

export class RequestBody implements AsyncIterable<Buffer> {
  private failure: S3Error | undefined;
  private waiter: Waiter | undefined;
  private ended = false;
  private started = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly req: IncomingMessage,
    private readonly idleMs: number,
  ) {}

  /** Fails the body: a read waiting for bytes, and every later one, throws `e`. */
  fail(e: S3Error): void {
    if (this.failure || this.ended) return;
    this.failure = e;
    this.stopTimer();
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(e);
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    if (this.started) throw new Error('request body can only be read once');
    this.started = true;
    const req = this.req;
    req.on('readable', this.onReadable);
    req.once('end', this.onEnd);
    req.once('error', this.onGone);
    req.once('close', this.onGone);
    return {
      next: () => this.next(),
      return: async () => {
        this.detach();
        return DONE;
      },
    };
  }

  private next(): Promise<IteratorResult<Buffer>> {
    if (this.failure) return Promise.reject(this.failure);
    const chunk = this.req.read() as Buffer | null;
    if (chunk !== null) return Promise.resolve({ done: false, value: chunk });
    if (this.ended) return Promise.resolve(DONE);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.armTimer();
    });
  }

  private readonly onReadable = (): void => {
    const w = this.waiter;
    if (!w) return;
    const chunk = this.req.read() as Buffer | null;
    if (chunk === null) return;
    this.waiter = undefined;
    w.resolve({ done: false, value: chunk });
  };

  private readonly onEnd = (): void => {
    this.ended = true;
    this.stopTimer();
    const w = this.waiter;
    this.waiter = undefined;
    w?.resolve(DONE);
    this.detach();
  };

  private readonly onGone = (): void => {
    if (!this.ended) this.fail(new S3Error('IncompleteBody'));
  };

  /**
   * The idle clock runs only while a read waits for the client: a consumer that is slow itself
   * (a disk applying backpressure) never makes the client look idle. One timer, refreshed per
   * wait; when it fires with no read waiting it does nothing.
   */
  private armTimer(): void {
    if (this.idleMs <= 0) return;
    if (this.timer) this.timer.refresh();
    else this.timer = setTimeout(this.onIdle, this.idleMs).unref();
  }

  private readonly onIdle = (): void => {
    if (this.waiter) this.fail(new S3Error('RequestTimeout'));
  };

  private stopTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private detach(): void {
    this.stopTimer();
    const req = this.req;
    req.off('readable', this.onReadable);
    req.off('end', this.onEnd);
    req.off('error', this.onGone);
    req.off('close', this.onGone);
  }
}
