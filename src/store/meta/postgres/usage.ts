// Usage reports in PostgreSQL, as the SQLite store's (sqlite/usage.ts): hourly request counters
// every process adds to (upsert adding), per-bucket counters of the storage classes other than
// STANDARD kept by triggers, hourly storage snapshots, pruning.
//
// Several nodes flush into the same rows: each flush writes its rows in one statement, sorted by
// key, so two flushes lock shared rows in the same order and never deadlock; the second waits for
// the first's commit and adds to its sums.

import type { UsageFilter, UsageRequestRow, UsageRows, UsageStorageRow } from '../types.js';
import type { Db } from './db.js';

/** Schema 13 (idempotent: creates what is missing, recomputes the storage-class counters). */
export const USAGE_MIGRATION = `
CREATE TABLE IF NOT EXISTS usage_requests (
  hour bigint NOT NULL,
  account text COLLATE "C" NOT NULL,
  bucket text COLLATE "C" NOT NULL,
  principal text COLLATE "C" NOT NULL,
  op_class text COLLATE "C" NOT NULL,
  requests bigint NOT NULL,
  errors_4xx bigint NOT NULL,
  errors_5xx bigint NOT NULL,
  bytes_in bigint NOT NULL,
  bytes_out bigint NOT NULL,
  PRIMARY KEY (hour, account, bucket, principal, op_class)
);
CREATE TABLE IF NOT EXISTS usage_storage (
  hour bigint NOT NULL,
  account text COLLATE "C" NOT NULL,
  bucket text COLLATE "C" NOT NULL,
  storage_class text COLLATE "C" NOT NULL,
  bytes bigint NOT NULL,
  objects bigint NOT NULL,
  PRIMARY KEY (hour, account, bucket, storage_class)
);
CREATE TABLE IF NOT EXISTS usage_classes (
  bucket_id integer NOT NULL,
  storage_class text COLLATE "C" NOT NULL,
  bytes bigint NOT NULL,
  objects bigint NOT NULL,
  PRIMARY KEY (bucket_id, storage_class)
);

CREATE OR REPLACE FUNCTION trove_usage_class() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    IF NOT OLD.delete_marker AND OLD.storage_class <> 'STANDARD' THEN
      UPDATE usage_classes SET bytes = bytes - OLD.size, objects = objects - 1 WHERE bucket_id = OLD.bucket_id AND storage_class = OLD.storage_class;
    END IF;
  END IF;
  IF TG_OP <> 'DELETE' THEN
    IF NOT NEW.delete_marker AND NEW.storage_class <> 'STANDARD' THEN
      INSERT INTO usage_classes AS u (bucket_id, storage_class, bytes, objects) VALUES (NEW.bucket_id, NEW.storage_class, NEW.size, 1)
        ON CONFLICT (bucket_id, storage_class) DO UPDATE SET bytes = u.bytes + excluded.bytes, objects = u.objects + 1;
    END IF;
  END IF;
  RETURN NULL;
END $f$;

CREATE OR REPLACE FUNCTION trove_usage_classes_gone() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  DELETE FROM usage_classes WHERE bucket_id = OLD.id;
  RETURN NULL;
END $f$;

CREATE OR REPLACE TRIGGER usage_class_insert AFTER INSERT ON objects FOR EACH ROW
  WHEN (NOT NEW.delete_marker AND NEW.storage_class <> 'STANDARD') EXECUTE FUNCTION trove_usage_class();
CREATE OR REPLACE TRIGGER usage_class_delete AFTER DELETE ON objects FOR EACH ROW
  WHEN (NOT OLD.delete_marker AND OLD.storage_class <> 'STANDARD') EXECUTE FUNCTION trove_usage_class();
CREATE OR REPLACE TRIGGER usage_class_update AFTER UPDATE OF size, delete_marker, bucket_id, storage_class ON objects FOR EACH ROW
  WHEN ((NOT OLD.delete_marker AND OLD.storage_class <> 'STANDARD') OR (NOT NEW.delete_marker AND NEW.storage_class <> 'STANDARD'))
  EXECUTE FUNCTION trove_usage_class();
CREATE OR REPLACE TRIGGER usage_classes_gone AFTER DELETE ON buckets FOR EACH ROW EXECUTE FUNCTION trove_usage_classes_gone();

DELETE FROM usage_classes;
INSERT INTO usage_classes (bucket_id, storage_class, bytes, objects)
  SELECT bucket_id, storage_class, SUM(size), COUNT(*) FROM objects WHERE NOT delete_marker AND storage_class <> 'STANDARD' GROUP BY bucket_id, storage_class;
`;

const ADD = `
INSERT INTO usage_requests AS u (hour, account, bucket, principal, op_class, requests, errors_4xx, errors_5xx, bytes_in, bytes_out)
SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[])
ON CONFLICT (hour, account, bucket, principal, op_class) DO UPDATE SET requests = u.requests + excluded.requests,
  errors_4xx = u.errors_4xx + excluded.errors_4xx, errors_5xx = u.errors_5xx + excluded.errors_5xx,
  bytes_in = u.bytes_in + excluded.bytes_in, bytes_out = u.bytes_out + excluded.bytes_out`;

/** Byte order of the key (the tables' "C" collation), so every flush locks rows in one order. */
function compareKeys(a: UsageRequestRow, b: UsageRequestRow): number {
  if (a.hour !== b.hour) return a.hour - b.hour;
  for (const k of ['account', 'bucket', 'principal', 'opClass'] as const) {
    const c = Buffer.compare(Buffer.from(a[k]), Buffer.from(b[k]));
    if (c !== 0) return c;
  }
  return 0;
}

export async function addUsageRequests(db: Db, rows: readonly UsageRequestRow[]): Promise<void> {
  if (rows.length === 0) return;
  const sorted = [...rows].sort(compareKeys);
  await db.tx(async (t) => {
    for (let i = 0; i < sorted.length; i += 5000) {
      const part = sorted.slice(i, i + 5000);
      t.send(ADD, [
        part.map((r) => r.hour),
        part.map((r) => r.account),
        part.map((r) => r.bucket),
        part.map((r) => r.principal),
        part.map((r) => r.opClass),
        part.map((r) => r.requests),
        part.map((r) => r.errors4xx),
        part.map((r) => r.errors5xx),
        part.map((r) => r.bytesIn),
        part.map((r) => r.bytesOut),
      ]);
    }
  });
}

/**
 * A bucket's counters are summed over its rows: one per bucket here, but spread over shards where
 * the counters are sharded (the sum is right either way). SUM of bigint is numeric: cast back.
 */
export async function snapshotUsageStorage(db: Db, hour: number): Promise<number> {
  return db.tx((t) =>
    t.run(
      `INSERT INTO usage_storage (hour, account, bucket, storage_class, bytes, objects)
       SELECT $1, account, bucket, storage_class, bytes::bigint, objects::bigint FROM (
         SELECT b.owner AS account, b.name AS bucket, 'STANDARD' AS storage_class,
                u.bytes - COALESCE((SELECT SUM(c.bytes) FROM usage_classes c WHERE c.bucket_id = u.bucket_id), 0) AS bytes,
                u.objects - COALESCE((SELECT SUM(c.objects) FROM usage_classes c WHERE c.bucket_id = u.bucket_id), 0) AS objects
           FROM (SELECT bucket_id, SUM(bytes) AS bytes, SUM(objects) AS objects FROM usage_buckets GROUP BY bucket_id) u JOIN buckets b ON b.id = u.bucket_id
         UNION ALL
         SELECT b.owner, b.name, c.storage_class, c.bytes, c.objects FROM usage_classes c JOIN buckets b ON b.id = c.bucket_id
       ) s WHERE bytes <> 0 OR objects <> 0
       ON CONFLICT (hour, account, bucket, storage_class) DO NOTHING`,
      [hour],
    ),
  );
}

function where(f: UsageFilter, user: boolean): { sql: string; args: unknown[] } {
  const parts = ['hour >= $1', 'hour < $2'];
  const args: unknown[] = [f.from, f.to];
  const add = (col: string, v: string | undefined) => {
    if (v === undefined) return;
    args.push(v);
    parts.push(`${col} = $${args.length}`);
  };
  add('account', f.account);
  add('bucket', f.bucket);
  if (user) add('principal', f.principal);
  return { sql: parts.join(' AND '), args };
}

export async function listUsage(db: Db, f: UsageFilter): Promise<UsageRows> {
  const rq = where(f, true);
  const requests = (
    await db.rows<{ hour: string; account: string; bucket: string; principal: string; op_class: string; requests: string; errors_4xx: string; errors_5xx: string; bytes_in: string; bytes_out: string }>(
      `SELECT * FROM usage_requests WHERE ${rq.sql} ORDER BY hour, account, bucket, principal, op_class`,
      rq.args,
    )
  ).map(
    (r): UsageRequestRow => ({
      hour: Number(r.hour),
      account: r.account,
      bucket: r.bucket,
      principal: r.principal,
      opClass: r.op_class,
      requests: Number(r.requests),
      errors4xx: Number(r.errors_4xx),
      errors5xx: Number(r.errors_5xx),
      bytesIn: Number(r.bytes_in),
      bytesOut: Number(r.bytes_out),
    }),
  );
  const st = where(f, false);
  const storage = (
    await db.rows<{ hour: string; account: string; bucket: string; storage_class: string; bytes: string; objects: string }>(
      `SELECT hour, account, bucket, storage_class, bytes, objects FROM usage_storage WHERE ${st.sql} ORDER BY hour, account, bucket, storage_class`,
      st.args,
    )
  ).map((r): UsageStorageRow => ({ hour: Number(r.hour), account: r.account, bucket: r.bucket, storageClass: r.storage_class, bytes: Number(r.bytes), objects: Number(r.objects) }));
  return { requests, storage };
}

export async function pruneUsage(db: Db, before: number): Promise<number> {
  return db.tx(async (t) => (await t.run('DELETE FROM usage_requests WHERE hour < $1', [before])) + (await t.run('DELETE FROM usage_storage WHERE hour < $1', [before])));
}
