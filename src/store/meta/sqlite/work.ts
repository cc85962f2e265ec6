// The work engine's queue (see MetaStore.enqueueWork): rows of `work`, recorded on their own or
// inside an object write's transaction (recordWork), claimed inside the write queue — one
// connection, one transaction at a time, so each due row goes to one claimer; other processes
// sharing the file wait for the write lock. "Now" is this machine's clock, as for leases.

import type { NewWork, WorkItem, WorkSpec, WorkStats, WriteEffect } from '../types.js';
import { statsOf, type StatsRow } from '../common/work.js';
import type { Ctx } from './context.js';

interface WorkRow {
  id: number;
  kind: string;
  payload: string;
  not_before: number;
  attempts: number;
  lease_holder: string | null;
  lease_until: number | null;
  last_error: string | null;
  created_at: number;
  order_key: string | null;
  dedupe_key: string | null;
}

function toItem(r: WorkRow): WorkItem {
  const item: WorkItem = { id: r.id, kind: r.kind, payload: JSON.parse(r.payload) as unknown, notBefore: r.not_before, attempts: r.attempts, createdAt: r.created_at };
  if (r.order_key !== null) item.orderKey = r.order_key;
  if (r.dedupe_key !== null) item.dedupeKey = r.dedupe_key;
  if (r.last_error !== null) item.lastError = r.last_error;
  return item;
}

/** Records work items inside the current write transaction; answers their ids. */
export function recordWork(c: Ctx, items: NewWork[]): number[] {
  if (items.length === 0) return [];
  const now = Date.now();
  const insert = c.cached('INSERT INTO work (kind, payload, not_before, created_at, order_key, dedupe_key) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING');
  const queued = c.cached('SELECT id FROM work WHERE dedupe_key = ?');
  return items.map((w) => {
    const info = insert.run(w.kind, JSON.stringify(w.payload ?? null), w.notBefore ?? now, now, w.orderKey ?? null, w.dedupeKey ?? null);
    if (info.changes === 1) return Number(info.lastInsertRowid);
    return (queued.get(w.dedupeKey) as { id: number }).id;
  });
}

export function enqueueWork(c: Ctx, items: NewWork[]): Promise<number[]> {
  return c.commit.write(() => recordWork(c, items));
}

export async function claimWork(c: Ctx, kinds: string[], holder: string, limit: number, leaseMs: number): Promise<WorkItem[]> {
  if (kinds.length === 0 || limit <= 0) return [];
  const marks = kinds.map(() => '?').join(', ');
  // Idle engines look every second or so: a read answers "nothing due" without taking the write
  // lock (which every process sharing the file would otherwise contend for).
  if (!c.cached(`SELECT 1 FROM work WHERE kind IN (${marks}) AND not_before <= ? LIMIT 1`).get(...kinds, Date.now())) return [];
  return c.commit.write(() => {
    const now = Date.now();
    const until = now + leaseMs;
    const rows = c
      .cached(
        `UPDATE work SET lease_holder = ?, lease_until = ?, not_before = ?, attempts = attempts + 1
         WHERE id IN (SELECT id FROM work w WHERE kind IN (${marks}) AND not_before <= ?
                        AND (order_key IS NULL OR NOT EXISTS (SELECT 1 FROM work p WHERE p.order_key = w.order_key AND p.id < w.id))
                      ORDER BY not_before, id LIMIT ?) RETURNING *`,
      )
      .all(holder, until, until, ...kinds, now, limit) as WorkRow[];
    return rows.sort((a, b) => a.created_at - b.created_at || a.id - b.id).map(toItem);
  });
}

export function renewWork(c: Ctx, ids: number[], holder: string, leaseMs: number): Promise<number[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return c.commit.write(() => {
    const until = Date.now() + leaseMs;
    const renew = c.cached('UPDATE work SET lease_until = ?, not_before = ? WHERE id = ? AND lease_holder = ?');
    return ids.filter((id) => renew.run(until, until, id, holder).changes === 1);
  });
}

export async function completeWork(c: Ctx, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await c.commit.write(() => {
    const del = c.cached('DELETE FROM work WHERE id = ?');
    for (const id of ids) del.run(id);
  });
}

export async function retryWork(c: Ctx, id: number, error: string, notBefore: number): Promise<void> {
  await c.commit.write(() => {
    c.cached('UPDATE work SET last_error = ?, not_before = ?, lease_holder = NULL, lease_until = NULL WHERE id = ?').run(error.slice(0, 4000), notBefore, id);
  });
}

/** Work of an object write (see WriteOptions.work), recorded inside its transaction. */
export function recordWriteWork(c: Ctx, work: WorkSpec | undefined, effect: () => WriteEffect): void {
  if (!work) return;
  recordWork(c, typeof work === 'function' ? work(effect()) : work);
}

export async function workStats(c: Ctx): Promise<WorkStats> {
  await c.commit.synced();
  const now = Date.now();
  const rows = c
    .cached(
      `SELECT kind, count(*) AS depth,
         sum(CASE WHEN not_before <= @now THEN 1 ELSE 0 END) AS due,
         sum(CASE WHEN lease_holder IS NOT NULL AND not_before > @now THEN 1 ELSE 0 END) AS running,
         sum(CASE WHEN last_error IS NOT NULL THEN 1 ELSE 0 END) AS failing,
         min(CASE WHEN not_before <= @now THEN not_before END) AS oldest_due,
         max(attempts) AS max_attempts
       FROM work GROUP BY kind ORDER BY kind`,
    )
    .all({ now }) as StatsRow[];
  return statsOf(rows, now);
}


export async function listWork(c: Ctx, kind: string, afterId: number, limit: number): Promise<WorkItem[]> {
  await c.commit.synced();
  return (c.cached('SELECT * FROM work WHERE kind = ? AND id > ? ORDER BY id LIMIT ?').all(kind, afterId, limit) as WorkRow[]).map(toItem);
}
