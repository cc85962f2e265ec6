// Blob garbage collection: deletes blob files that no metadata references any more (overwritten
// or deleted objects, aborted uploads, replaced parts), in small batches, after the metadata
// transaction that released them is durable. Also sweeps orphans a crash may have left.
// A failed pass is retried after a while: deleting files needs no space, so on a full disk this is
// how space comes back, and it must not wait for the next delete to ask again.

import type { Logger } from 'pino';
import type { MetaStore } from '../store/meta/types.js';
import type { BlobStore } from '../store/blob/types.js';

const BATCH = 256;
const RETRY_MS = 1000;

export class BlobGc {
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly meta: MetaStore,
    private readonly blobs: BlobStore,
    private readonly log: Logger,
    private readonly retryMs = RETRY_MS,
  ) {}

  /** Asks for a collection pass soon (coalesced; never blocks the caller). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.run().finally(() => {
      this.running = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        this.kick();
      }
    });
  }

  /** Runs passes until no garbage is left (used at start-up and by tests). */
  async drain(): Promise<void> {
    while (this.running) await this.running;
    await this.run();
  }

  private async run(): Promise<void> {
    try {
      for (;;) {
        const ids = await this.meta.takeGarbage(BATCH);
        if (ids.length === 0) return;
        await Promise.all(ids.map((id) => this.blobs.delete(id)));
        await this.meta.forgetBlobs(ids);
        if (this.stopped || ids.length < BATCH) return;
      }
    } catch (e) {
      this.log.error({ err: e }, 'blob garbage collection failed; retrying');
      if (!this.stopped && !this.retry) {
        this.retry = setTimeout(() => {
          this.retry = undefined;
          this.kick();
        }, this.retryMs).unref();
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    while (this.running) await this.running;
  }
}
