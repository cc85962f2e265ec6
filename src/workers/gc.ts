// Blob garbage collection: deletes blob files that no metadata references any more (overwritten
// or deleted objects, aborted uploads, replaced parts), in small batches, after the metadata
// transaction that released them is durable.
// A failed pass is retried after a while: deleting files needs no space, so on a full disk this is
// how space comes back, and it must not wait for the next delete to ask again.
//
// Several processes and nodes: one collects at a time, the holder of the 'gc' lease in the
// metadata store; the others look every `pollMs` whether the lease is free (its holder stopped
// or died and the lease expired) and take over. The holder also looks every `pollMs` for garbage
// that other processes released. Should two ever collect at once (a holder that stalled beyond
// the lease's TTL), nothing breaks: released blobs never come back (a new reference needs
// refs > 0), deleting a missing file and forgetting a forgotten blob are no-ops.
//
// The grace period (`graceMs`): a read finds a blob id in the metadata, then opens the file. In
// this process the blob store's read leases keep a file from being unlinked while it is being
// read (and an open descriptor survives an unlink on a local filesystem anyway). A read in another
// process or on another node is invisible here: it may have found the id a moment before the
// release and not have opened the file yet — and on NFS an open descriptor does not even survive
// an unlink made by another client (no silly rename across clients), so the whole read is at risk
// there. A released blob is therefore deleted only `graceMs` after its release (the metadata
// records when): reads that looked it up before the release have that long to open (local
// filesystems) or to finish (NFS) it. With one process the grace can be 0 (the default then).

import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { MetaStore } from '../store/meta/types.js';
import type { BlobStore } from '../store/blob/types.js';

const BATCH = 256;
const RETRY_MS = 1000;
const POLL_MS = 10_000;
/** Lease on collecting, renewed when half of it has passed. */
export const GC_LEASE = 'gc';
const LEASE_TTL_MS = 30_000;

export interface GcOptions {
  /** Retry a failed pass after this long (ms). */
  retryMs?: number;
  /** Delete a released blob only this long after its release (ms). */
  graceMs?: number;
  /** Lease holder id (this node's id). */
  holder?: string;
  /** Look for a free lease / others' garbage this often (ms). */
  pollMs?: number;
}

export class BlobGc {
  /** Blob files this collector deleted (metrics). */
  collected = 0;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;
  /** Until when this process surely holds the lease (its clock; renewed past half of it). */
  private leaseUntil = 0;
  private readonly retryMs: number;
  private readonly graceMs: number;
  private readonly holder: string;
  private readonly pollMs: number;

  constructor(
    private readonly meta: MetaStore,
    private readonly blobs: BlobStore,
    private readonly log: Logger,
    opts: GcOptions = {},
  ) {
    this.retryMs = opts.retryMs ?? RETRY_MS;
    this.graceMs = opts.graceMs ?? 0;
    this.holder = opts.holder ?? randomBytes(8).toString('hex');
    this.pollMs = opts.pollMs ?? POLL_MS;
  }

  /** Asks for a collection pass soon (coalesced; never blocks the caller). */
  kick(): void {
    if (this.stopped) return;
    this.poll ??= setInterval(() => this.kick(), this.pollMs).unref();
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

  /** Takes or renews the lease when less than half of it is left; false if another holds it. */
  private async lease(): Promise<boolean> {
    const now = Date.now();
    if (now < this.leaseUntil - LEASE_TTL_MS / 2) return true;
    const held = await this.meta.tryLease(GC_LEASE, this.holder, LEASE_TTL_MS);
    this.leaseUntil = held ? now + LEASE_TTL_MS : 0;
    return held;
  }

  private async run(): Promise<void> {
    try {
      if (!(await this.lease())) return;
      for (;;) {
        const ids = await this.meta.takeGarbage(BATCH, Date.now() - this.graceMs);
        if (ids.length === 0) return;
        await Promise.all(ids.map((id) => this.blobs.delete(id)));
        await this.meta.forgetBlobs(ids);
        this.collected += ids.length;
        if (this.stopped || ids.length < BATCH) return;
        if (!(await this.lease())) return;
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

  /** Stops collecting and gives the lease up, so another process takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    if (this.poll) clearInterval(this.poll);
    while (this.running) await this.running;
    if (this.leaseUntil > 0) {
      this.leaseUntil = 0;
      await this.meta.releaseLease(GC_LEASE, this.holder).catch((e: unknown) => this.log.warn({ err: e }, 'cannot give the GC lease up'));
    }
  }
}
