// Usage reports (src/usage/): hourly request counters that processes add to, hourly snapshots of
// stored bytes and objects by storage class, and their pruning.
//
// - usage_requests: one row per (hour, account, bucket, principal, operation class); each process
//   aggregates its requests in memory and adds them here in one transaction (upsert adding), so
//   the rows are exact sums over processes and nodes.
// - usage_classes: bytes and objects per bucket of every storage class but STANDARD, kept by
//   triggers on `objects` like usage_buckets (quota.ts); STANDARD is the bucket's total less
//   these, so the common write (a STANDARD object) costs no more than before.
// - usage_storage: once an hour, one row per (bucket, storage class) from those counters; the
//   first snapshot of an hour stays (a second one in the same hour changes nothing).

import type Database from 'better-sqlite3';
import type { UsageFilter, UsageRequestRow, UsageRows, UsageStorageRow } from '../types.js';
import { OBJECTS_ONLY, type Ctx } from './context.js';

const NOT_STANDARD = (row: 'NEW' | 'OLD') => `${row}.delete_marker = 0 AND ${row}.storage_class <> 'STANDARD'`;

export const USAGE_SCHEMA = `
-- Usage reports (schema 16; usage.ts). hour: ms since epoch of the UTC hour's start; account: the
-- canonical id of the bucket's owner; principal: the caller's ARN ('anonymous').
CREATE TABLE IF NOT EXISTS usage_requests (
  hour INTEGER NOT NULL,
  account TEXT NOT NULL,
  bucket TEXT NOT NULL,
  principal TEXT NOT NULL,
  op_class TEXT NOT NULL,
  requests INTEGER NOT NULL,
  errors_4xx INTEGER NOT NULL,
  errors_5xx INTEGER NOT NULL,
  bytes_in INTEGER NOT NULL,
  bytes_out INTEGER NOT NULL,
  PRIMARY KEY (hour, account, bucket, principal, op_class)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS usage_storage (
  hour INTEGER NOT NULL,
  account TEXT NOT NULL,
  bucket TEXT NOT NULL,
  storage_class TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  objects INTEGER NOT NULL,
  PRIMARY KEY (hour, account, bucket, storage_class)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS usage_classes (
  bucket_id INTEGER NOT NULL,
  storage_class TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  objects INTEGER NOT NULL,
  PRIMARY KEY (bucket_id, storage_class)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS usage_class_insert AFTER INSERT ON objects WHEN ${NOT_STANDARD('NEW')} BEGIN
  INSERT INTO usage_classes (bucket_id, storage_class, bytes, objects) VALUES (NEW.bucket_id, NEW.storage_class, NEW.size, 1)
    ON CONFLICT (bucket_id, storage_class) DO UPDATE SET bytes = bytes + excluded.bytes, objects = objects + 1;
END;
CREATE TRIGGER IF NOT EXISTS usage_class_delete AFTER DELETE ON objects WHEN ${NOT_STANDARD('OLD')} BEGIN
  UPDATE usage_classes SET bytes = bytes - OLD.size, objects = objects - 1 WHERE bucket_id = OLD.bucket_id AND storage_class = OLD.storage_class;
END;
CREATE TRIGGER IF NOT EXISTS usage_class_update AFTER UPDATE OF size, delete_marker, bucket_id, storage_class ON objects
  WHEN (${NOT_STANDARD('OLD')}) OR (${NOT_STANDARD('NEW')}) BEGIN
  UPDATE usage_classes SET bytes = bytes - OLD.size, objects = objects - 1
    WHERE ${NOT_STANDARD('OLD')} AND bucket_id = OLD.bucket_id AND storage_class = OLD.storage_class;
  INSERT INTO usage_classes (bucket_id, storage_class, bytes, objects) SELECT NEW.bucket_id, NEW.storage_class, NEW.size, 1 WHERE ${NOT_STANDARD('NEW')}
    ON CONFLICT (bucket_id, storage_class) DO UPDATE SET bytes = bytes + excluded.bytes, objects = objects + 1;
END;
CREATE TRIGGER IF NOT EXISTS usage_classes_gone AFTER DELETE ON buckets BEGIN
  DELETE FROM usage_classes WHERE bucket_id = OLD.id;
END;
`;

/** Schema 16: the storage-class counters start from the objects that exist. */
export function computeClassUsage(db: Database.Database): void {
  db.exec(`
    DELETE FROM usage_classes;
    INSERT INTO usage_classes (bucket_id, storage_class, bytes, objects)
      SELECT bucket_id, storage_class, SUM(size), COUNT(*) FROM objects WHERE delete_marker = 0 AND storage_class <> 'STANDARD' GROUP BY bucket_id, storage_class;
  `);
}

export function addUsageRequests(c: Ctx, rows: readonly UsageRequestRow[]): Promise<void> {
  if (rows.length === 0) return Promise.resolve();
  // Nothing a cache above the store holds: other processes keep their caches.
  return c.commit.write(() => {
    const add = c.cached(
      `INSERT INTO usage_requests (hour, account, bucket, principal, op_class, requests, errors_4xx, errors_5xx, bytes_in, bytes_out)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (hour, account, bucket, principal, op_class) DO UPDATE SET requests = requests + excluded.requests,
         errors_4xx = errors_4xx + excluded.errors_4xx, errors_5xx = errors_5xx + excluded.errors_5xx,
         bytes_in = bytes_in + excluded.bytes_in, bytes_out = bytes_out + excluded.bytes_out`,
    );
    for (const r of rows) add.run(r.hour, r.account, r.bucket, r.principal, r.opClass, r.requests, r.errors4xx, r.errors5xx, r.bytesIn, r.bytesOut);
  }, OBJECTS_ONLY);
}

export function snapshotUsageStorage(c: Ctx, hour: number): Promise<number> {
  return c.commit.write(() => {
    const r = c.cached(
      `INSERT OR IGNORE INTO usage_storage (hour, account, bucket, storage_class, bytes, objects)
       SELECT ?, account, bucket, storage_class, bytes, objects FROM (
         SELECT b.owner AS account, b.name AS bucket, 'STANDARD' AS storage_class,
                u.bytes - COALESCE((SELECT SUM(c.bytes) FROM usage_classes c WHERE c.bucket_id = u.bucket_id), 0) AS bytes,
                u.objects - COALESCE((SELECT SUM(c.objects) FROM usage_classes c WHERE c.bucket_id = u.bucket_id), 0) AS objects
           FROM (SELECT bucket_id, SUM(bytes) AS bytes, SUM(objects) AS objects FROM usage_buckets GROUP BY bucket_id) u JOIN buckets b ON b.id = u.bucket_id
         UNION ALL
         SELECT b.owner, b.name, c.storage_class, c.bytes, c.objects FROM usage_classes c JOIN buckets b ON b.id = c.bucket_id
       ) WHERE bytes <> 0 OR objects <> 0`,
    ).run(hour);
    return r.changes;
  }, OBJECTS_ONLY);
}

function where(f: UsageFilter, user: boolean): { sql: string; args: unknown[] } {
  const parts = ['hour >= ?', 'hour < ?'];
  const args: unknown[] = [f.from, f.to];
  if (f.account !== undefined) (parts.push('account = ?'), args.push(f.account));
  if (f.bucket !== undefined) (parts.push('bucket = ?'), args.push(f.bucket));
  if (user && f.principal !== undefined) (parts.push('principal = ?'), args.push(f.principal));
  return { sql: parts.join(' AND '), args };
}

interface RequestRow {
  hour: number;
  account: string;
  bucket: string;
  principal: string;
  op_class: string;
  requests: number;
  errors_4xx: number;
  errors_5xx: number;
  bytes_in: number;
  bytes_out: number;
}

export async function listUsage(c: Ctx, f: UsageFilter): Promise<UsageRows> {
  if (c.commit.unsynced) await c.commit.unsynced;
  const rq = where(f, true);
  const requests = (c.cached(`SELECT * FROM usage_requests WHERE ${rq.sql} ORDER BY hour, account, bucket, principal, op_class`).all(...rq.args) as RequestRow[]).map(
    (r): UsageRequestRow => ({ hour: r.hour, account: r.account, bucket: r.bucket, principal: r.principal, opClass: r.op_class, requests: r.requests, errors4xx: r.errors_4xx, errors5xx: r.errors_5xx, bytesIn: r.bytes_in, bytesOut: r.bytes_out }),
  );
  const st = where(f, false);
  const storage = (c.cached(`SELECT hour, account, bucket, storage_class, bytes, objects FROM usage_storage WHERE ${st.sql} ORDER BY hour, account, bucket, storage_class`).all(...st.args) as { hour: number; account: string; bucket: string; storage_class: string; bytes: number; objects: number }[]).map(
    (r): UsageStorageRow => ({ hour: r.hour, account: r.account, bucket: r.bucket, storageClass: r.storage_class, bytes: r.bytes, objects: r.objects }),
  );
  return { requests, storage };
}

export function pruneUsage(c: Ctx, before: number): Promise<number> {
  return c.commit.write(() => {
    const a = c.cached('DELETE FROM usage_requests WHERE hour < ?').run(before).changes;
    const b = c.cached('DELETE FROM usage_storage WHERE hour < ?').run(before).changes;
    return a + b;
  }, OBJECTS_ONLY);
}
