// The change feed (MetaStore.onChange) on PostgreSQL: LISTEN/NOTIFY.
//
// As the interface says, it reports changes made by other processes and nodes: this process's
// own writes reach its caches directly. Each store's notifications carry its origin id, which its
// own feed ignores.
//
// Notifications arrive milliseconds after the commit. For read-after-write through those caches,
// every such transaction also increments change_seq, which getBucket (and getBucketWithLatest)
// reads in the same query as the bucket (once per request, no extra round trip): when it moved by
// a change not this store's own, the store's own caches (addInternal: bucket configurations) and
// the listeners are called before the request goes on (seen()), so a request never uses a cache
// entry older than a change committed before the request began.
//
// Every transaction that changes what the caches above the store hold — IAM entities, policies
// and keys, accounts, settings, buckets and their configurations — sends a notification on
// CHANGE_CHANNEL inside the transaction (db.ts), which PostgreSQL delivers to every listening
// session when, and only if, it commits. Each node keeps one connection listening and calls its
// listeners when a notification arrives. Correctness argument: a cache entry loaded before a
// commit elsewhere is dropped when that commit's notification arrives (milliseconds after the
// commit: that is the window in which a cache above the store may serve the old value); a load
// that raced the commit may cache the old value, but the notification comes after the commit, so
// it drops that entry too. Notifications are coalesced: the first calls the listeners at once,
// more within 20 ms call them once more when the 20 ms are over. If the listening connection breaks, notifications may have been missed: the listeners
// are called at once (everything is dropped) and again once listening has resumed.

import pg from 'pg';
import { CHANGE_CHANNEL } from './db.js';

const COALESCE_MS = 20;
const RECONNECT_MS = 1000;

export class ChangeFeed {
  private readonly listeners: Array<() => void> = [];
  /** The store's own caches (index.ts): told as the listeners are, but they start no listening. */
  private readonly internal: Array<() => void> = [];
  private client: pg.Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reconnect: NodeJS.Timeout | undefined;
  private closed = false;
  private starting: Promise<void> | undefined;

  constructor(
    private readonly url: string,
    /** Notifications with this payload are this store's own. */
    private readonly origin: string,
  ) {}

  /** Adds a listener; the first one starts listening. */
  add(listener: () => void): void {
    this.listeners.push(listener);
    this.starting ??= this.connect();
  }

  /**
   * Adds a cache of the store itself. It is told of every change the listeners are told of, but
   * does not start listening: the change sequence read with every request's bucket keeps it
   * coherent alone (seen()); notifications only drop it sooner.
   */
  addInternal(listener: () => void): void {
    this.internal.push(listener);
  }

  /** Resolves once the feed listens (tests). */
  async ready(): Promise<void> {
    await this.starting;
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.url, application_name: 'trove-changes' });
    client.on('notification', (n) => {
      if (n.payload !== this.origin) this.changed();
    });
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGE_CHANNEL}`);
      if (this.closed) {
        await client.end().catch(() => undefined);
        return;
      }
      this.client = client;
      // Whatever changed while not listening is unknown: drop everything once more.
      this.fire();
    } catch {
      this.lost(client);
    }
  }

  private lost(client: pg.Client): void {
    if (this.client === client) this.client = undefined;
    client.removeAllListeners('end');
    client.end().catch(() => undefined);
    if (this.closed || this.reconnect) return;
    this.fire();
    this.reconnect = setTimeout(() => {
      this.reconnect = undefined;
      this.starting = this.connect();
    }, RECONNECT_MS);
    this.reconnect.unref();
  }

  private pending = false;

  /** A notification: listeners now, then at most once per COALESCE_MS while more arrive. */
  private changed(): void {
    if (this.timer) {
      this.pending = true;
      return;
    }
    this.fire();
    const tick = () => {
      if (!this.pending) {
        this.timer = undefined;
        return;
      }
      this.pending = false;
      this.fire();
      this.timer = setTimeout(tick, COALESCE_MS);
      this.timer.unref();
    };
    this.timer = setTimeout(tick, COALESCE_MS);
    this.timer.unref();
  }

  private lastSeq: number | undefined;

  /**
   * The change sequence read at the start of a request: calls the listeners at once when another
   * store's change was committed since the last one seen. `own` holds this store's sequence numbers.
   */
  seen(seq: number, own: Set<number>): void {
    const last = this.lastSeq;
    if (last !== undefined && seq <= last) return;
    this.lastSeq = seq;
    if (last === undefined) {
      // Anything loaded before the first sequence read is of unknown age.
      for (const l of this.internal) l();
      return;
    }
    let foreign = false;
    for (let s = last + 1; s <= seq; s++) {
      if (!own.delete(s)) foreign = true;
    }
    if (foreign) this.fire();
  }

  private fire(): void {
    for (const l of this.internal) l();
    for (const l of this.listeners) l();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.reconnect) clearTimeout(this.reconnect);
    await this.starting;
    const c = this.client;
    this.client = undefined;
    if (c) {
      c.removeAllListeners('end');
      await c.end().catch(() => undefined);
    }
  }
}
