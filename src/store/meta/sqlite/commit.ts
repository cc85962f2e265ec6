// Group commit on the one SQLite connection: writes queue up, run together in one transaction
// (each in its own savepoint), and are acknowledged after one WAL fdatasync (WalBarrier) covers
// the batch. Reads wait for the sync in progress (`unsynced`) so nothing is visible before it is
// durable.

import type Database from 'better-sqlite3';
import { isOutOfSpace } from '../../space.js';
import { quotaError } from './quota.js';
import type { WalBarrier } from '../../durability.js';
import { metaTelemetry } from '../telemetry.js';

/** Group commit under load: event-loop turns to wait for more writes, and the batch size that ends the wait. */
const HOLD_TURNS = 2;
const HOLD_UNTIL = 16;
/** The connection's busy timeout (reads, and writes when alone). */
export const BUSY_TIMEOUT_MS = 5000;
/** Shared file: how long a batch waits for another process's write lock before it fails. */
const SHARED_LOCK_WAIT_MS = 60_000;

/**
 * The change sequence, in the key-value table `meta`: incremented by every transaction with a
 * write that may change what caches above the store hold (accounts, keys, IAM, settings, buckets
 * and their configurations; every write not marked objects-only). Other processes read it when
 * PRAGMA data_version says the file changed (cache.ts ForeignWrites), to tell a commit of object
 * writes only, which leaves their caches of IAM, policies and buckets valid, from the others.
 */
export const CHANGE_SEQ_KEY = 'change-seq';

/** Another connection holds the write lock (BEGIN IMMEDIATE answered SQLITE_BUSY). */
class Busy extends Error {}

interface PendingWrite {
  fn: () => unknown;
  /** May change what the caches above the store hold (see CHANGE_SEQ). */
  changesCaches: boolean;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export interface CommitHooks {
  /** Called (after commit) when a transaction released blobs that are now garbage. */
  onGarbage?: () => void;
  /** Called when the WAL cannot be synced: the process should stop. */
  onFatal?: (e: Error) => void;
  /** Called, synchronously, when a batch fails for lack of space, before its writes are retried one by one. */
  onFull?: () => void;
}

/** The transaction-control statements the group commit runs. */
export interface TransactionStatements {
  begin: Database.Statement;
  commit: Database.Statement;
  rollback: Database.Statement;
  savepoint: Database.Statement;
  releaseSavepoint: Database.Statement;
  rollbackTo: Database.Statement;
}

export class GroupCommit {
  /** Told of the change sequence number each of this connection's own commits took (cache.ts). */
  onOwnChange: ((seq: number) => void) | undefined;
  /** Set by a write that released a blob; the batch's commit then calls onGarbage. */
  garbageReleased = false;
  private closed = false;

  constructor(
    private readonly db: Database.Database,
    private readonly tx: TransactionStatements,
    private readonly barrier: WalBarrier | undefined,
    private readonly hooks: CommitHooks,
    /** Other processes write the file too: a busy write lock is waited for off the event loop. */
    private readonly shared = false,
  ) {
    this.noWait = db.prepare('PRAGMA busy_timeout = 0');
    this.bump = db.prepare(`INSERT INTO meta (k, v) VALUES ('${CHANGE_SEQ_KEY}', '1') ON CONFLICT(k) DO UPDATE SET v = CAST(v AS INTEGER) + 1 RETURNING CAST(v AS INTEGER)`).pluck();
    this.wait = db.prepare(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
  }

  private readonly noWait: Database.Statement;
  private readonly wait: Database.Statement;
  private readonly bump: Database.Statement;

  /** Waits until the batch committed last is durable (what every read does first). */
  async synced(): Promise<void> {
    if (this.unsynced) await this.unsynced;
  }

  /**
   * Runs `fn` as one atomic write and resolves once it is durable.
   *
   * Group commit: writes queue up and are committed together in one SQLite transaction, each in
   * its own savepoint (one failing rolls back only itself), and one WAL fdatasync then covers the
   * whole batch. A batch is committed as soon as the previous batch's sync has finished, so batch
   * size follows the load: one write when idle, everything that arrived during an fsync when
   * busy. Each write still sees every earlier write (one connection, in order).
   *
   * `objectsOnly`: the write changes objects, versions, uploads, blobs or leases only, nothing a
   * cache above the store holds (the batch then need not increment CHANGE_SEQ).
   */
  write<T>(fn: () => T, opts: { objectsOnly?: boolean } = {}): Promise<T> {
    if (this.closed) return Promise.reject(new Error('metadata store is closed'));
    if (this.failed) return Promise.reject(new Error('metadata store failed to sync its log; restart required'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, changesCaches: opts.objectsOnly !== true, resolve: resolve as (v: unknown) => void, reject });
      if (!this.draining) {
        this.draining = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private queue: PendingWrite[] = [];
  private draining = false;
  private failed: Error | undefined;

  /**
   * The sync of the batch committed last, while it runs. Reads share the connection, so between
   * a batch's COMMIT and the end of its WAL fdatasync they would see writes that a crash can still
   * take away, and a client could be shown (or act on) an object whose PUT then fails or is lost.
   * Every read waits for that sync first: nothing is visible before it is durable, as with
   * PostgreSQL's commit. A read waits at most one fdatasync, and only while one is running.
   */
  unsynced: Promise<void> | undefined;

  private async drain(): Promise<void> {
    try {
      let first = true;
      let busySince: number | undefined;
      let busyDelay = 1;
      while (this.queue.length > 0) {
        // Writes that arrived while the previous batch synced mean load: let a few more
        // event-loop turns bring in writes before committing, so one fsync covers more of them.
        // The first batch of a drain (an idle store) is committed at once.
        // At least one turn always passes between batches, so that reads which waited for the
        // previous batch's sync run before the next batch commits (see `unsynced`).
        if (!first && this.barrier) for (let i = 0; i < HOLD_TURNS && (i === 0 || this.queue.length < HOLD_UNTIL); i++) await new Promise((r) => setImmediate(r));
        first = false;
        const batch = this.queue;
        this.queue = [];
        const batchStarted = performance.now();
        let outcomes: Outcome[];
        try {
          outcomes = this.commitBatch(batch);
        } catch (e) {
          if (e instanceof Busy) {
            // Another process is committing (with its fsync: milliseconds). Wait for it without
            // blocking this process's event loop, with the writes that arrived meanwhile joining
            // the batch; SQLITE_BUSY never reaches a client unless the lock stays taken a minute.
            busySince ??= Date.now();
            if (Date.now() - busySince > SHARED_LOCK_WAIT_MS) {
              busySince = undefined;
              for (const w of batch) w.reject(new Error('the metadata store stayed locked by another process for a minute'));
              continue;
            }
            this.queue = batch.concat(this.queue);
            await new Promise((r) => setTimeout(r, busyDelay));
            busyDelay = Math.min(busyDelay * 2, 16);
            continue;
          }
          if (!isOutOfSpace(e)) {
            for (const w of batch) w.reject(e);
            continue;
          }
          // Out of space, and the whole batch rolled back. Let the owner free some room, then
          // commit each write on its own: one that needs room (a new object) must not sink those
          // that need none (deletes, which are how space comes back). Nothing is marked failed.
          this.hooks.onFull?.();
          outcomes = batch.map((w) => {
            try {
              return this.commitBatch([w])[0]!;
            } catch (error) {
              return { ok: false, error };
            }
          });
        }
        if (this.barrier) {
          const sync = this.barrier.sync();
          this.unsynced = sync;
          try {
            await sync;
            this.unsynced = undefined;
          } catch (e) {
            // Committed but not known to be durable, and after a failed fsync the page cache
            // cannot be trusted: refuse to go on (as PostgreSQL does). Nothing is acknowledged.
            this.failed = e as Error;
            for (const w of batch) w.reject(new Error('metadata store failed to sync its log; restart required'));
            this.hooks.onFatal?.(e as Error);
            continue;
          }
        }
        busySince = undefined;
        busyDelay = 1;
        metaTelemetry.batch(batch.length, performance.now() - batchStarted);
        for (const [i, w] of batch.entries()) {
          const o = outcomes[i]!;
          if (o.ok) w.resolve(o.value);
          else w.reject(o.error);
        }
        if (this.garbageReleased) {
          this.garbageReleased = false;
          this.hooks.onGarbage?.();
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private commitBatch(batch: PendingWrite[]): Outcome[] {
    const out: Outcome[] = [];
    const tx = this.tx;
    if (this.shared) {
      // Try the write lock once, without SQLite's busy handler (it sleeps on the event loop).
      this.noWait.get();
      try {
        tx.begin.run();
      } catch (e) {
        if ((e as { code?: string }).code === 'SQLITE_BUSY') throw new Busy();
        throw e;
      } finally {
        this.wait.get();
      }
    } else tx.begin.run();
    try {
      for (const w of batch) {
        tx.savepoint.run();
        try {
          const value = w.fn();
          tx.releaseSavepoint.run();
          out.push({ ok: true, value });
        } catch (error) {
          // Out of space fails the batch as a whole (see drain), and SQLite may have rolled the
          // transaction back already, savepoint included.
          if (isOutOfSpace(error) || !this.db.inTransaction) throw error;
          tx.rollbackTo.run();
          tx.releaseSavepoint.run();
          out.push({ ok: false, error: quotaError(error) });
        }
      }
      const seq = batch.some((w) => w.changesCaches) ? (this.bump.get() as number) : undefined;
      tx.commit.run();
      if (seq !== undefined) this.onOwnChange?.(seq);
    } catch (e) {
      if (this.db.inTransaction) tx.rollback.run();
      throw e;
    }
    return out;
  }

  /** Refuses new writes and resolves once the queue is empty. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.draining || this.queue.length > 0) await new Promise((r) => setTimeout(r, 5));
  }
}
