// Usage counters and quotas. The counters (usage_buckets, usage_accounts) are kept by triggers on
// `objects`, so every path that adds or removes a version — PUT, overwrite, delete, multipart
// completion, copy, lifecycle expiry — keeps them exact in its own transaction without knowing
// about them; the same triggers refuse (RAISE) a write that would take a bucket or its owner
// account past a quota, inside the write's savepoint, so concurrent writes can never overshoot.
// Parts of multipart uploads count against the byte quota while they accumulate (a part is
// refused when stored bytes + every staged part + it would pass the quota); at completion the
// object counts as itself. Delete markers count as neither bytes nor objects.

import type Database from 'better-sqlite3';
import { StoreError } from '../../errors.js';
import type { Quota, QuotaScope, Usage } from '../types.js';
import type { Ctx } from './context.js';

/** Bytes and objects a new row replaces: the null version of its key (same transaction removes it). */
const REPLACED_BYTES = `(CASE WHEN NEW.is_null = 1 THEN COALESCE((SELECT o.size FROM objects o WHERE o.bucket_id = NEW.bucket_id AND o.key = NEW.key AND o.is_null = 1 AND o.delete_marker = 0 AND o.id <> NEW.id), 0) ELSE 0 END)`;
const REPLACED_OBJECTS = `(CASE WHEN NEW.is_null = 1 THEN (SELECT COUNT(*) FROM objects o WHERE o.bucket_id = NEW.bucket_id AND o.key = NEW.key AND o.is_null = 1 AND o.delete_marker = 0 AND o.id <> NEW.id) ELSE 0 END)`;
/** Bytes staged in the parts of a bucket's multipart uploads. */
const STAGED = (bucket: string) => `COALESCE((SELECT SUM(p.size) FROM uploads up JOIN upload_parts p ON p.upload_id = up.upload_id WHERE up.bucket_id = ${bucket}), 0)`;

export const QUOTA_SCHEMA = `
-- Usage counters (schema 12): bytes and object versions (delete markers excluded) per bucket and
-- per bucket-owning account (by canonical id), kept by the triggers below.
CREATE TABLE IF NOT EXISTS usage_buckets (
  bucket_id INTEGER PRIMARY KEY,
  bytes INTEGER NOT NULL,
  objects INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS usage_accounts (
  owner TEXT PRIMARY KEY,
  bytes INTEGER NOT NULL,
  objects INTEGER NOT NULL
) WITHOUT ROWID;
-- Quotas: scope 'bucket' (id: the bucket's id) or 'account' (id: the account's canonical id).
CREATE TABLE IF NOT EXISTS quotas (
  scope TEXT NOT NULL,
  id TEXT NOT NULL,
  max_bytes INTEGER,
  max_objects INTEGER,
  PRIMARY KEY (scope, id)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS usage_insert AFTER INSERT ON objects WHEN NEW.delete_marker = 0 BEGIN
  INSERT INTO usage_buckets (bucket_id, bytes, objects) VALUES (NEW.bucket_id, NEW.size, 1)
    ON CONFLICT (bucket_id) DO UPDATE SET bytes = bytes + excluded.bytes, objects = objects + 1;
  INSERT INTO usage_accounts (owner, bytes, objects) SELECT b.owner, NEW.size, 1 FROM buckets b WHERE b.id = NEW.bucket_id
    ON CONFLICT (owner) DO UPDATE SET bytes = bytes + excluded.bytes, objects = objects + 1;
  SELECT RAISE(ABORT, 'QuotaExceeded:bucket') FROM quotas q JOIN usage_buckets u ON u.bucket_id = NEW.bucket_id
    WHERE q.scope = 'bucket' AND q.id = CAST(NEW.bucket_id AS TEXT)
      AND ((q.max_bytes IS NOT NULL AND NEW.size > ${REPLACED_BYTES} AND u.bytes - ${REPLACED_BYTES} > q.max_bytes)
        OR (q.max_objects IS NOT NULL AND ${REPLACED_OBJECTS} = 0 AND u.objects > q.max_objects));
  SELECT RAISE(ABORT, 'QuotaExceeded:account') FROM buckets b JOIN quotas q ON q.scope = 'account' AND q.id = b.owner JOIN usage_accounts u ON u.owner = b.owner
    WHERE b.id = NEW.bucket_id
      AND ((q.max_bytes IS NOT NULL AND NEW.size > ${REPLACED_BYTES} AND u.bytes - ${REPLACED_BYTES} > q.max_bytes)
        OR (q.max_objects IS NOT NULL AND ${REPLACED_OBJECTS} = 0 AND u.objects > q.max_objects));
END;
CREATE TRIGGER IF NOT EXISTS usage_delete AFTER DELETE ON objects WHEN OLD.delete_marker = 0 BEGIN
  UPDATE usage_buckets SET bytes = bytes - OLD.size, objects = objects - 1 WHERE bucket_id = OLD.bucket_id;
  UPDATE usage_accounts SET bytes = bytes - OLD.size, objects = objects - 1 WHERE owner = (SELECT b.owner FROM buckets b WHERE b.id = OLD.bucket_id);
END;
CREATE TRIGGER IF NOT EXISTS usage_update AFTER UPDATE OF size, delete_marker, bucket_id ON objects BEGIN
  UPDATE usage_buckets SET bytes = bytes - (CASE WHEN OLD.delete_marker = 0 THEN OLD.size ELSE 0 END), objects = objects - (CASE WHEN OLD.delete_marker = 0 THEN 1 ELSE 0 END) WHERE bucket_id = OLD.bucket_id;
  UPDATE usage_accounts SET bytes = bytes - (CASE WHEN OLD.delete_marker = 0 THEN OLD.size ELSE 0 END), objects = objects - (CASE WHEN OLD.delete_marker = 0 THEN 1 ELSE 0 END) WHERE owner = (SELECT b.owner FROM buckets b WHERE b.id = OLD.bucket_id);
  INSERT INTO usage_buckets (bucket_id, bytes, objects) VALUES (NEW.bucket_id, CASE WHEN NEW.delete_marker = 0 THEN NEW.size ELSE 0 END, CASE WHEN NEW.delete_marker = 0 THEN 1 ELSE 0 END)
    ON CONFLICT (bucket_id) DO UPDATE SET bytes = bytes + excluded.bytes, objects = objects + excluded.objects;
  INSERT INTO usage_accounts (owner, bytes, objects) SELECT b.owner, CASE WHEN NEW.delete_marker = 0 THEN NEW.size ELSE 0 END, CASE WHEN NEW.delete_marker = 0 THEN 1 ELSE 0 END FROM buckets b WHERE b.id = NEW.bucket_id
    ON CONFLICT (owner) DO UPDATE SET bytes = bytes + excluded.bytes, objects = objects + excluded.objects;
END;
CREATE TRIGGER IF NOT EXISTS usage_part BEFORE INSERT ON upload_parts BEGIN
  SELECT RAISE(ABORT, 'QuotaExceeded:bucket') FROM uploads up JOIN quotas q ON q.scope = 'bucket' AND q.id = CAST(up.bucket_id AS TEXT) LEFT JOIN usage_buckets u ON u.bucket_id = up.bucket_id
    WHERE up.upload_id = NEW.upload_id AND q.max_bytes IS NOT NULL
      AND COALESCE(u.bytes, 0) + ${STAGED('up.bucket_id')} + NEW.size > q.max_bytes;
  SELECT RAISE(ABORT, 'QuotaExceeded:account') FROM uploads up JOIN buckets b ON b.id = up.bucket_id JOIN quotas q ON q.scope = 'account' AND q.id = b.owner LEFT JOIN usage_accounts u ON u.owner = b.owner
    WHERE up.upload_id = NEW.upload_id AND q.max_bytes IS NOT NULL
      AND COALESCE(u.bytes, 0) + COALESCE((SELECT SUM(p.size) FROM buckets ob JOIN uploads oup ON oup.bucket_id = ob.id JOIN upload_parts p ON p.upload_id = oup.upload_id WHERE ob.owner = b.owner), 0) + NEW.size > q.max_bytes;
END;
CREATE TRIGGER IF NOT EXISTS usage_bucket_gone AFTER DELETE ON buckets BEGIN
  DELETE FROM usage_buckets WHERE bucket_id = OLD.id;
  DELETE FROM quotas WHERE scope = 'bucket' AND id = CAST(OLD.id AS TEXT);
END;
`;

/** Schema 12: computes the counters from the objects that exist (idempotent: recomputes them). */
export function computeUsage(db: Database.Database): void {
  db.exec(`
    DELETE FROM usage_buckets;
    DELETE FROM usage_accounts;
    INSERT INTO usage_buckets (bucket_id, bytes, objects)
      SELECT bucket_id, SUM(size), COUNT(*) FROM objects WHERE delete_marker = 0 GROUP BY bucket_id;
    INSERT INTO usage_accounts (owner, bytes, objects)
      SELECT b.owner, SUM(u.bytes), SUM(u.objects) FROM usage_buckets u JOIN buckets b ON b.id = u.bucket_id GROUP BY b.owner;
  `);
}

/** A trigger's refusal as the store's error (anything else unchanged). */
export function quotaError(e: unknown): unknown {
  const m = (e as { code?: string; message?: string }).code === 'SQLITE_CONSTRAINT_TRIGGER' ? /^QuotaExceeded:(bucket|account)$/.exec((e as Error).message) : null;
  return m ? new StoreError('QuotaExceeded', { quotaScope: m[1] as QuotaScope }) : e;
}

export async function getQuota(c: Ctx, scope: QuotaScope, id: string): Promise<Quota | undefined> {
  await c.commit.synced();
  const r = c.db.prepare('SELECT max_bytes, max_objects FROM quotas WHERE scope = ? AND id = ?').get(scope, id) as { max_bytes: number | null; max_objects: number | null } | undefined;
  return r && { ...(r.max_bytes !== null ? { maxBytes: r.max_bytes } : {}), ...(r.max_objects !== null ? { maxObjects: r.max_objects } : {}) };
}

export async function setQuota(c: Ctx, scope: QuotaScope, id: string, q: Quota | undefined): Promise<void> {
  await c.commit.write(() => {
    if (!q) c.db.prepare('DELETE FROM quotas WHERE scope = ? AND id = ?').run(scope, id);
    else c.db.prepare('INSERT INTO quotas (scope, id, max_bytes, max_objects) VALUES (?, ?, ?, ?) ON CONFLICT (scope, id) DO UPDATE SET max_bytes = excluded.max_bytes, max_objects = excluded.max_objects').run(scope, id, q.maxBytes ?? null, q.maxObjects ?? null);
  });
}

export async function getUsage(c: Ctx, scope: QuotaScope, id: string): Promise<Usage> {
  await c.commit.synced();
  const r = (scope === 'bucket'
    ? c.db.prepare('SELECT bytes, objects FROM usage_buckets WHERE bucket_id = ?').get(Number(id))
    : c.db.prepare('SELECT bytes, objects FROM usage_accounts WHERE owner = ?').get(id)) as Usage | undefined;
  const staged = (scope === 'bucket'
    ? c.db.prepare('SELECT COALESCE(SUM(p.size), 0) AS s FROM uploads up JOIN upload_parts p ON p.upload_id = up.upload_id WHERE up.bucket_id = ?').get(Number(id))
    : c.db.prepare('SELECT COALESCE(SUM(p.size), 0) AS s FROM buckets b JOIN uploads up ON up.bucket_id = b.id JOIN upload_parts p ON p.upload_id = up.upload_id WHERE b.owner = ?').get(id)) as { s: number };
  return { bytes: r?.bytes ?? 0, objects: r?.objects ?? 0, stagedBytes: staged.s };
}
