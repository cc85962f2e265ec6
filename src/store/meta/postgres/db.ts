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
// before they started, on whichever node it was made: strong read-after-write with no cache.

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
   */
  async tx<T>(fn: (t: Tx) => Promise<T>, opts: { notify?: boolean } = {}): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const client = await this.pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const t = new Tx(this, client);
        try {
          const value = await fn(t);
          // Delivered to listeners only if and when the transaction commits.
          if (opts.notify) {
            const r = await client.query<{ seq: number }>(this.stmt('UPDATE change_seq SET seq = seq + 1 RETURNING seq', []));
            await client.query(this.stmt(`SELECT pg_notify('${CHANGE_CHANNEL}', $1)`, [this.origin]));
            await client.query('COMMIT');
            this.ownChanges.add(r.rows[0]!.seq);
            return value;
          }
          await client.query('COMMIT');
          return value;
        } catch (e) {
          await client.query('ROLLBACK').catch((re: Error) => (broken = re));
          throw e;
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
  /** Versions the transaction removed, collected while set (WriteOptions.work as a function). */
  removed: ObjectVersion[] | undefined;

  constructor(
    private readonly db: Db,
    readonly client: pg.PoolClient,
  ) {}

  async rows<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    return (await this.client.query<R>(this.db.stmt(text, values))).rows;
  }

  async row<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R | undefined> {
    return (await this.rows<R>(text, values))[0];
  }

  /** Rows changed by an INSERT / UPDATE / DELETE. */
  async run(text: string, values: unknown[] = []): Promise<number> {
    return (await this.client.query(this.db.stmt(text, values))).rowCount ?? 0;
  }

  /** Waits for, then holds until commit, the lock of one object key (see the top of this file). */
  async lockKey(bucketId: number, key: string): Promise<void> {
    await this.run('SELECT pg_advisory_xact_lock($1::int4, $2::int4)', [bucketId, keyHash(key)]);
  }

  /** Holds, until commit, a lock of a named domain (e.g. IAM writes). */
  async lockDomain(name: string): Promise<void> {
    await this.run('SELECT pg_advisory_xact_lock($1::int4, $2::int4)', [0, keyHash(name)]);
  }
}

/** A signed 32-bit hash of a key. */
function keyHash(key: string): number {
  return createHash('sha1').update(key).digest().readInt32BE(0);
}
