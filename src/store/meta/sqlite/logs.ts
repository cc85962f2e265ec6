// Server access logs waiting for delivery (MetaStore.appendLogRecords and the rest; src/logging/).
// Appends go through the group commit like every write: many requests' records share one
// transaction and one sync. Opening a batch records its `log.deliver` work item (src/engine/) in
// the same transaction, due at the batch's deadline.

import { LOG_DELIVER, type LogBatch, type LogRecordInput } from '../types.js';
import type { Ctx } from './context.js';
import { recordWork } from './work.js';

interface BatchRow {
  id: number;
  bucket_id: number;
  config: string;
  opened_at: number;
  deadline: number;
}

function batchOf(r: BatchRow): LogBatch {
  return { id: r.id, bucketId: r.bucket_id, config: r.config, openedAt: r.opened_at, deadline: r.deadline };
}

export function appendLogRecords(c: Ctx, records: readonly LogRecordInput[], rollMs: number, now: number): Promise<LogBatch[]> {
  return c.commit.write(() => {
    const opened: LogBatch[] = [];
    const open = new Map<string, number>();
    const find = c.cached('SELECT id FROM log_batches WHERE bucket_id = ? AND config = ? AND closed = 0 AND deadline > ? ORDER BY id DESC LIMIT 1');
    const create = c.cached('INSERT INTO log_batches (bucket_id, config, opened_at, deadline) VALUES (?, ?, ?, ?)');
    const insert = c.cached('INSERT INTO log_records (batch_id, line) VALUES (?, ?)');
    for (const r of records) {
      const k = `${r.bucketId}\n${r.config}`;
      let id = open.get(k);
      if (id === undefined) {
        id = (find.get(r.bucketId, r.config, now) as { id: number } | undefined)?.id;
        if (id === undefined) {
          id = Number(create.run(r.bucketId, r.config, now, now + rollMs).lastInsertRowid);
          // Its delivery, in the same transaction (the engine's outbox).
          recordWork(c, [{ kind: LOG_DELIVER, payload: { batchId: id }, notBefore: now + rollMs, dedupeKey: `${LOG_DELIVER}:${id}` }]);
          opened.push({ id, bucketId: r.bucketId, config: r.config, openedAt: now, deadline: now + rollMs });
        }
        open.set(k, id);
      }
      insert.run(id, r.line);
    }
    return opened;
  });
}

export async function dueLogBatches(c: Ctx, now: number, limit: number): Promise<LogBatch[]> {
  if (c.commit.unsynced) await c.commit.unsynced;
  const rows = c.cached('SELECT id, bucket_id, config, opened_at, deadline FROM log_batches WHERE deadline <= ? ORDER BY deadline, id LIMIT ?').all(now, limit) as BatchRow[];
  return rows.map(batchOf);
}

export async function takeLogBatch(c: Ctx, id: number): Promise<{ batch: LogBatch; lines: string[] } | undefined> {
  return c.commit.write(() => {
    const row = c.cached('SELECT id, bucket_id, config, opened_at, deadline FROM log_batches WHERE id = ?').get(id) as BatchRow | undefined;
    if (!row) return undefined;
    c.cached('UPDATE log_batches SET closed = 1 WHERE id = ? AND closed = 0').run(id);
    const lines = (c.cached('SELECT line FROM log_records WHERE batch_id = ? ORDER BY seq').all(id) as { line: string }[]).map((l) => l.line);
    return { batch: batchOf(row), lines };
  });
}

export async function deleteLogBatch(c: Ctx, id: number): Promise<void> {
  await c.commit.write(() => {
    c.cached('DELETE FROM log_records WHERE batch_id = ?').run(id);
    c.cached('DELETE FROM log_batches WHERE id = ?').run(id);
  });
}
