// The work engine's queue in PostgreSQL (see MetaStore.enqueueWork): rows of `work`, recorded on
// their own or inside an object write's transaction (recordWork), claimed with
// FOR UPDATE SKIP LOCKED — racing claimers on any node each take other rows, none waits for
// another's. "Now" is the database server's clock, the one every node shares (as for leases).

import { statsOf, type StatsRow } from '../common/work.js';
import type { NewWork, WorkItem, WorkSpec, WorkStats, WriteEffect } from '../types.js';
import type { Db, Tx } from './db.js';

const NOW = '(extract(epoch FROM clock_timestamp()) * 1000)::bigint';

interface WorkRow {
  id: number;
  kind: string;
  payload: string;
  not_before: number;
  attempts: number;
  created_at: number;
  order_key: string | null;
  dedupe_key: string | null;
  last_error: string | null;
}

function toItem(r: WorkRow): WorkItem {
  const item: WorkItem = { id: r.id, kind: r.kind, payload: JSON.parse(r.payload) as unknown, notBefore: r.not_before, attempts: r.attempts, createdAt: r.created_at };
  if (r.order_key !== null) item.orderKey = r.order_key;
  if (r.dedupe_key !== null) item.dedupeKey = r.dedupe_key;
  if (r.last_error !== null) item.lastError = r.last_error;
  return item;
}

/** Records work items inside a transaction; answers their ids. */
export async function recordWork(t: Tx, items: NewWork[]): Promise<number[]> {
  if (items.length === 0) return [];
  if (items.some((w) => w.dedupeKey !== undefined)) {
    // One at a time: a deduplicated item answers the queued one's id. (Two transactions recording
    // the same key at once: the second waits for the first's commit on the unique index.)
    const ids: number[] = [];
    for (const w of items) {
      for (let attempt = 0; ; attempt++) {
        const r = await t.row<{ id: number }>(
          `INSERT INTO work (kind, payload, not_before, created_at, order_key, dedupe_key)
           VALUES ($1, $2, coalesce($3, ${NOW}), ${NOW}, $4, $5) ON CONFLICT DO NOTHING RETURNING id`,
          [w.kind, JSON.stringify(w.payload ?? null), w.notBefore ?? null, w.orderKey ?? null, w.dedupeKey ?? null],
        );
        const id = r?.id ?? (await t.row<{ id: number }>('SELECT id FROM work WHERE dedupe_key = $1', [w.dedupeKey]))?.id;
        // The queued item may have been completed between the two statements: record it again.
        if (id !== undefined) {
          ids.push(id);
          break;
        }
        if (attempt >= 5) throw new Error(`cannot record work with dedupe key ${w.dedupeKey}`);
      }
    }
    return ids;
  }
  const rows = await t.rows<{ id: number }>(
    `INSERT INTO work (kind, payload, not_before, created_at, order_key)
     SELECT k, p, coalesce(nb, ${NOW}), ${NOW}, ok FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[]) WITH ORDINALITY AS w(k, p, nb, ok, n)
     ORDER BY n RETURNING id`,
    [items.map((w) => w.kind), items.map((w) => JSON.stringify(w.payload ?? null)), items.map((w) => w.notBefore ?? null), items.map((w) => w.orderKey ?? null)],
  );
  return rows.map((r) => r.id).sort((a, b) => a - b);
}

/** Work of an object write (see WriteOptions.work), recorded inside its transaction. */
export async function recordWriteWork(t: Tx, work: WorkSpec | undefined, effect: () => WriteEffect): Promise<void> {
  if (!work) return;
  await recordWork(t, typeof work === 'function' ? work(effect()) : work);
}

export class PgWork {
  constructor(private readonly db: Db) {}

  enqueueWork(items: NewWork[]): Promise<number[]> {
    if (items.length === 0) return Promise.resolve([]);
    return this.db.tx((t) => recordWork(t, items));
  }

  async claimWork(kinds: string[], holder: string, limit: number, leaseMs: number): Promise<WorkItem[]> {
    if (kinds.length === 0 || limit <= 0) return [];
    const rows = await this.db.tx((t) =>
      t.rows<WorkRow>(
        `WITH now AS (SELECT ${NOW} AS ms),
         due AS (SELECT id FROM work w WHERE kind = ANY($1::text[]) AND not_before <= (SELECT ms FROM now)
                   AND (order_key IS NULL OR NOT EXISTS (SELECT 1 FROM work p WHERE p.order_key = w.order_key AND p.id < w.id))
                 ORDER BY not_before, id LIMIT $2 FOR UPDATE SKIP LOCKED)
         UPDATE work SET lease_holder = $3, lease_until = now.ms + $4, not_before = now.ms + $4, attempts = work.attempts + 1
         FROM due, now WHERE work.id = due.id
         RETURNING work.id, work.kind, work.payload, work.not_before, work.attempts, work.created_at, work.order_key, work.dedupe_key, work.last_error`,
        [kinds, limit, holder, leaseMs],
      ),
    );
    return rows.sort((a, b) => a.created_at - b.created_at || a.id - b.id).map(toItem);
  }

  async renewWork(ids: number[], holder: string, leaseMs: number): Promise<number[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.tx((t) =>
      t.rows<{ id: number }>(`UPDATE work SET lease_until = ${NOW} + $3, not_before = ${NOW} + $3 WHERE id = ANY($1::bigint[]) AND lease_holder = $2 RETURNING id`, [
        ids,
        holder,
        leaseMs,
      ]),
    );
    return rows.map((r) => r.id).sort((a, b) => a - b);
  }

  async completeWork(ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.tx((t) => t.run('DELETE FROM work WHERE id = ANY($1::bigint[])', [ids]));
  }

  async retryWork(id: number, error: string, notBefore: number): Promise<void> {
    await this.db.tx((t) => t.run('UPDATE work SET last_error = $2, not_before = $3, lease_holder = NULL, lease_until = NULL WHERE id = $1', [id, error.slice(0, 4000), notBefore]));
  }

  async workStats(): Promise<WorkStats> {
    const rows = await this.db.rows<StatsRow & { now: number }>(
      `WITH now AS (SELECT ${NOW} AS ms)
       SELECT kind, count(*) AS depth,
         count(*) FILTER (WHERE not_before <= now.ms) AS due,
         count(*) FILTER (WHERE lease_holder IS NOT NULL AND not_before > now.ms) AS running,
         count(*) FILTER (WHERE last_error IS NOT NULL) AS failing,
         min(not_before) FILTER (WHERE not_before <= now.ms) AS oldest_due,
         max(attempts) AS max_attempts, now.ms AS now
       FROM work, now GROUP BY kind, now.ms ORDER BY kind`,
    );
    return statsOf(rows, rows[0]?.now ?? Date.now());
  }

  async listWork(kind: string, afterId: number, limit: number): Promise<WorkItem[]> {
    return (await this.db.rows<WorkRow>('SELECT * FROM work WHERE kind = $1 AND id > $2 ORDER BY id LIMIT $3', [kind, afterId, limit])).map(toItem);
  }
}
