// The connection pool and transactions of the PostgreSQL MetaStore.
//
// Concurrency: every write transaction runs at READ COMMITTED and serialises with the writers it
// could conflict with through locks, taken in one order (bucket row → upload row → object key →
// blob rows), instead of SERIALIZABLE with retries:
// - an object key has no row to lock before its first version exists, so writers of one key take
//   a transaction-level advisory lock on (bucket id, hash of the key); colliding hashes only make
//   unrelated keys wait for each other;
// - once the lock is held, each following statement takes a fresh snapshot (READ COMMITTED), and
//   the previous holder released the lock only after its commit became visible: the latest
//   version read is the latest committed one, and the compare-and-swap (If-None-Match, If-Match,
//   multipart completion, object lock checks) decides on it — of N writers on N nodes exactly one
//   wins, the others see its version;
// - SERIALIZABLE would detect the same conflicts only at commit and make the losers retry whole
//   transactions (blob references included), and could not express "wait for the writer ahead";
//   the advisory lock makes racing writers queue, which is what S3 semantics need.
// A deadlock (blob rows shared by writes to different keys, taken in different orders) or a
// serialization failure rolls the transaction back whole, and it is retried.
//
// Durability: a write resolves after COMMIT, which with synchronous_commit on (forced on for
// this store's sessions if the server has it off) returns once the commit is flushed to the WAL.
// Reads run outside transactions on any pooled connection and see every commit acknowledged
// before they started, on whichever node it was made: strong read-after-write (the one cache,
// of bucket configurations, is kept coherent by the change sequence: index.ts ConfigCache).

import { quotaError } from './quota.js';
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import type { ObjectVersion } from '../types.js';

/** int8 (counts, sizes, timestamps in ms) as numbers: they all fit in 2^53. */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20 && format !== 'binary') return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  },
} as unknown as pg.CustomTypesConfig;

export interface DbOptions {
  url: string;
  poolSize: number;
  /** The server (or this role or database) has synchronous_commit off: turn it on for our sessions. */
  forceSynchronousCommit?: boolean;
}

/** The synchronous_commit a session of this URL gets. */
export async function sessionSynchronousCommit(url: string): Promise<string> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<{ synchronous_commit: string }>('SHOW synchronous_commit')).rows[0]!.synchronous_commit;
  } finally {
    await c.end();
  }
}

/** The LISTEN/NOTIFY channel of the change feed. */
export const CHANGE_CHANNEL = 'trove_change';

/**
 * Bumps the change sequence and notifies, in one statement: the notification is delivered when,
 * and only if, the transaction commits.
 */
const NOTIFY_SQL = `WITH s AS (UPDATE change_seq SET seq = seq + 1 RETURNING seq) SELECT s.seq, pg_notify('${CHANGE_CHANNEL}', $1) FROM s`;

/** SQLSTATEs after which a transaction is retried from the start. */
const RETRYABLE = new Set(['40001', '40P01']);

export type Client = pg.PoolClient;

export class Db {
  readonly pool: pg.Pool;
  /** This store's notifications carry it, so that its own change feed ignores them (changes.ts). */
  readonly origin = randomBytes(8).toString('hex');
  /** Change sequence numbers this store's own commits produced (see changes.ts). */
  readonly ownChanges = new Set<number>();
  private names = new Map<string, string>();
  /** Sees every statement before it runs (tests use it to EXPLAIN the store's own queries). */
  trace: ((text: string, values: unknown[]) => void) | undefined;

  constructor(opts: DbOptions) {
    this.pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolSize,
      // node-postgres closes a connection idle for 10 s by default: a node quiet for a moment then
      // pays a new connection (and re-prepares its statements) on the next burst. Keep them 5 min.
      idleTimeoutMillis: 300_000,
      types,
      application_name: 'trove',
      // Statements are written without waiting for the answers before them (Db.tx, Tx.rows).
      pipeline: true,
      ...(opts.forceSynchronousCommit ? { options: '-c synchronous_commit=on' } : {}),
    });
    // An idle connection that fails (server restart) must not take the process down.
    this.pool.on('error', () => undefined);
  }

  /** A query as a named prepared statement (prepared once per connection). */
  stmt(text: string, values: unknown[]): pg.QueryConfig {
    this.trace?.(text, values);
    let name = this.names.get(text);
    if (!name) {
      name = `t${this.names.size}`;
      this.names.set(text, name);
    }
    return { name, text, values };
  }

  /** A read outside any transaction. */
  async rows<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    return (await this.pool.query<R>(this.stmt(text, values))).rows;
  }

  async row<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R | undefined> {
    return (await this.rows<R>(text, values))[0];
  }

  /**
   * Runs `fn` in one transaction; retried whole after a deadlock or serialization failure. With
   * `notify`, the commit also tells every node's change feed (changes.ts) that what the caches
   * above the store hold (IAM, accounts, bucket settings) may have changed.
   *
   * Round trips: the connections pipeline (node-postgres `pipeline: true`: a statement is written
   * at once, without waiting for the answers to those before it; the server still runs them one
   * after the other, in the order written). BEGIN goes out with the transaction's first
   * statements, and COMMIT right behind its last ones: a statement `fn` did not wait for (see
   * Tx.rows) is answered after `fn` returned, and if it failed, the transaction is aborted, the
   * server answers the COMMIT with ROLLBACK and the statement's error is thrown here. So `fn`
   * awaits only what it decides on, and a simple write costs two round trips: [BEGIN, locks,
   * reads] and [writes, COMMIT].
   */
  async tx<T>(fn: (t: Tx) => Promise<T>, opts: { notify?: boolean } = {}): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const client = await this.pool.connect();
      let broken: Error | undefined;
      const t = new Tx(this, client);
      try {
        t.send('BEGIN');
        try {
          const value = await fn(t);
          // Delivered to listeners only if and when the transaction commits.
          const seq = opts.notify ? t.rows<{ seq: number }>(NOTIFY_SQL, [this.origin]) : undefined;
          const commit = t.commit();
          const [committed] = await Promise.all([commit, t.settled()]);
          if (t.failure) throw t.failure;
          if (committed.command !== 'COMMIT') throw new Error(`transaction not committed (${committed.command})`);
          if (seq) this.ownChanges.add((await seq)[0]!.seq);
          return value;
        } catch (e) {
          await client.query('ROLLBACK').catch((re: Error) => (broken = re));
          // The first failed statement says why (those behind it only that the transaction was aborted).
          throw t.failure ?? e;
        }
      } catch (e) {
        if (RETRYABLE.has((e as { code?: string }).code ?? '') && attempt < 20) {
          await new Promise((r) => setTimeout(r, Math.random() * 5 * (attempt + 1)));
          continue;
        }
        throw quotaError(e);
      } finally {
        client.release(broken);
      }
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** One transaction's statements. */
export class Tx {
  /** Set when the transaction dropped a blob reference (garbage may follow its commit). */
  released = false;
  /** The first statement that failed: the transaction is aborted from there on. */
  failure: Error | undefined;
  /** Every statement sent, answered or not. */
  private readonly sent: Array<Promise<unknown>> = [];
  /** Versions the transaction removed, collected while set (WriteOptions.work as a function). */
  removed: ObjectVersion[] | undefined;

  constructor(
    private readonly db: Db,
    readonly client: pg.PoolClient,
  ) {}

  /**
   * Sends a statement at once (the connection pipelines) and returns its answer. A caller that
   * does not await it leaves it to the commit (Db.tx), which fails if it failed: write statements
   * whose outcome decides nothing in `fn` need not be waited for.
   */
  rows<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    return handled(this.query<R>(text, values).then((r) => r.rows));
  }

  row<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R | undefined> {
    return handled(this.query<R>(text, values).then((r) => r.rows[0]));
  }

  /** Rows changed by an INSERT / UPDATE / DELETE. */
  run(text: string, values: unknown[] = []): Promise<number> {
    return handled(this.query(text, values).then((r) => r.rowCount ?? 0));
  }

  /** A statement whose answer nobody waits for (it is waited for at commit). */
  send(text: string, values: unknown[] = []): void {
    void this.query(text, values);
  }

  /** COMMIT, written with the statements sent before it (one write, see cork). */
  commit(): Promise<pg.QueryResult> {
    this.cork();
    return this.client.query('COMMIT');
  }

  /**
   * Holds the statements sent in this tick in the socket's buffer and writes them together on the
   * next one: node-postgres writes every statement on its own (a syscall each, and a wake-up of
   * the server's backend each), while a transaction sends several at once (BEGIN, locks and
   * reads; writes and COMMIT).
   */
  private cork(): void {
    if (this.corked) return;
    const stream = (this.client as unknown as { connection?: { stream?: { cork?: () => void; uncork?: () => void } } }).connection?.stream;
    if (!stream?.cork || !stream.uncork) return;
    stream.cork();
    this.corked = true;
    process.nextTick(() => {
      this.corked = false;
      stream.uncork!();
    });
  }

  private corked = false;

  private query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    this.cork();
    const p = text === 'BEGIN' ? this.client.query<R>(text) : this.client.query<R>(this.db.stmt(text, values));
    p.catch((e: Error) => (this.failure ??= e));
    this.sent.push(p);
    return p;
  }

  /** Resolves when every statement sent so far has been answered (failed or not). */
  async settled(): Promise<void> {
    await Promise.allSettled(this.sent);
  }

  /**
   * Waits for, then holds until commit, the lock of one object key (see the top of this file).
   * Sent, not waited for: the server runs the statements behind it once the lock is granted.
   */
  lockKey(bucketId: number, key: string): void {
    this.send('SELECT pg_advisory_xact_lock($1::int4, $2::int4)', [bucketId, keyHash(key)]);
  }

  /** Holds, until commit, a lock of a named domain (e.g. IAM writes); sent as lockKey. */
  lockDomain(name: string): void {
    this.send('SELECT pg_advisory_xact_lock($1::int4, $2::int4)', [0, keyHash(name)]);
  }
}

/**
 * Marks a statement's answer as handled: one nobody awaits (it is left to the commit) must not
 * be an unhandled rejection when it fails — Tx.failure and the commit report it. A caller that
 * awaits it still gets the error.
 */
function handled<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/** A signed 32-bit hash of a key. */
function keyHash(key: string): number {
  return createHash('sha1').update(key).digest().readInt32BE(0);
}
