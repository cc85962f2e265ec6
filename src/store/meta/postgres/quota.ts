// Usage counters and quotas in PostgreSQL, as the SQLite store's (sqlite/quota.ts): triggers on
// `objects` keep per-bucket and per-account counters in the writing transaction. Each write
// upserts its bucket's and account's counter rows, which holds their row locks until commit: writes
// that count against the same bucket serialize on that row, so the value a trigger reads back is
// exact and a quota is never overshot by concurrent uploads, on any number of nodes.

import { StoreError } from '../../errors.js';
import type { Quota, QuotaScope, Usage } from '../types.js';
import type { Db } from './db.js';

/** Schema 9 (idempotent: creates what is missing, recomputes the counters). */
export const QUOTA_MIGRATION = `
CREATE TABLE IF NOT EXISTS usage_buckets (bucket_id integer PRIMARY KEY, bytes bigint NOT NULL, objects bigint NOT NULL);
CREATE TABLE IF NOT EXISTS usage_accounts (owner text COLLATE "C" PRIMARY KEY, bytes bigint NOT NULL, objects bigint NOT NULL);
CREATE TABLE IF NOT EXISTS quotas (scope text NOT NULL, id text COLLATE "C" NOT NULL, max_bytes bigint, max_objects bigint, PRIMARY KEY (scope, id));

CREATE OR REPLACE FUNCTION trove_usage_add(b integer, own text, db bigint, dobj bigint, OUT ub bigint, OUT uo bigint, OUT ab bigint, OUT ao bigint) LANGUAGE plpgsql AS $f$
BEGIN
  INSERT INTO usage_buckets AS u (bucket_id, bytes, objects) VALUES (b, db, dobj)
    ON CONFLICT (bucket_id) DO UPDATE SET bytes = u.bytes + excluded.bytes, objects = u.objects + excluded.objects RETURNING u.bytes, u.objects INTO ub, uo;
  IF own IS NOT NULL THEN
    INSERT INTO usage_accounts AS u (owner, bytes, objects) VALUES (own, db, dobj)
      ON CONFLICT (owner) DO UPDATE SET bytes = u.bytes + excluded.bytes, objects = u.objects + excluded.objects RETURNING u.bytes, u.objects INTO ab, ao;
  END IF;
END $f$;

CREATE OR REPLACE FUNCTION trove_usage_insert() RETURNS trigger LANGUAGE plpgsql AS $f$
DECLARE own text; r record; rb bigint := 0; ro bigint := 0; q record; cb bigint; co bigint;
BEGIN
  SELECT owner INTO own FROM buckets WHERE id = NEW.bucket_id;
  r := trove_usage_add(NEW.bucket_id, own, NEW.size, 1);
  FOR q IN SELECT * FROM quotas WHERE (scope = 'bucket' AND id = NEW.bucket_id::text) OR (scope = 'account' AND id = own) LOOP
    IF NEW.is_null THEN
      -- The null version this row replaces (the same transaction removes it next).
      SELECT COALESCE(SUM(size), 0), COUNT(*) INTO rb, ro FROM objects
        WHERE bucket_id = NEW.bucket_id AND key = NEW.key AND is_null AND NOT delete_marker AND id <> NEW.id;
    END IF;
    IF q.scope = 'bucket' THEN cb := r.ub; co := r.uo; ELSE cb := r.ab; co := r.ao; END IF;
    IF (q.max_bytes IS NOT NULL AND NEW.size > rb AND cb - rb > q.max_bytes) OR (q.max_objects IS NOT NULL AND ro = 0 AND co > q.max_objects) THEN
      RAISE EXCEPTION 'QuotaExceeded:%', q.scope USING ERRCODE = 'P0001';
    END IF;
  END LOOP;
  RETURN NULL;
END $f$;

CREATE OR REPLACE FUNCTION trove_usage_delete() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  PERFORM trove_usage_add(OLD.bucket_id, (SELECT owner FROM buckets WHERE id = OLD.bucket_id), -OLD.size, -1);
  RETURN NULL;
END $f$;

CREATE OR REPLACE FUNCTION trove_usage_update() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  IF NOT OLD.delete_marker THEN PERFORM trove_usage_add(OLD.bucket_id, (SELECT owner FROM buckets WHERE id = OLD.bucket_id), -OLD.size, -1); END IF;
  IF NOT NEW.delete_marker THEN PERFORM trove_usage_add(NEW.bucket_id, (SELECT owner FROM buckets WHERE id = NEW.bucket_id), NEW.size, 1); END IF;
  RETURN NULL;
END $f$;

CREATE OR REPLACE FUNCTION trove_usage_part() RETURNS trigger LANGUAGE plpgsql AS $f$
DECLARE b integer; own text; q record; used bigint; staged bigint;
BEGIN
  SELECT up.bucket_id, bk.owner INTO b, own FROM uploads up JOIN buckets bk ON bk.id = up.bucket_id WHERE up.upload_id = NEW.upload_id;
  FOR q IN SELECT * FROM quotas WHERE max_bytes IS NOT NULL AND ((scope = 'bucket' AND id = b::text) OR (scope = 'account' AND id = own)) LOOP
    IF q.scope = 'bucket' THEN
      -- The counter row's lock serializes this bucket's parts and writes until commit.
      PERFORM trove_usage_add(b, NULL, 0, 0);
      SELECT bytes INTO used FROM usage_buckets WHERE bucket_id = b;
      SELECT COALESCE(SUM(p.size), 0) INTO staged FROM uploads up JOIN upload_parts p ON p.upload_id = up.upload_id WHERE up.bucket_id = b;
    ELSE
      PERFORM trove_usage_add(b, own, 0, 0);
      SELECT bytes INTO used FROM usage_accounts WHERE owner = own;
      SELECT COALESCE(SUM(p.size), 0) INTO staged FROM buckets ob JOIN uploads up ON up.bucket_id = ob.id JOIN upload_parts p ON p.upload_id = up.upload_id WHERE ob.owner = own;
    END IF;
    IF used + staged + NEW.size > q.max_bytes THEN
      RAISE EXCEPTION 'QuotaExceeded:%', q.scope USING ERRCODE = 'P0001';
    END IF;
  END LOOP;
  RETURN NEW;
END $f$;

CREATE OR REPLACE FUNCTION trove_usage_bucket_gone() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  DELETE FROM usage_buckets WHERE bucket_id = OLD.id;
  DELETE FROM quotas WHERE scope = 'bucket' AND id = OLD.id::text;
  RETURN NULL;
END $f$;

CREATE OR REPLACE TRIGGER usage_insert AFTER INSERT ON objects FOR EACH ROW WHEN (NOT NEW.delete_marker) EXECUTE FUNCTION trove_usage_insert();
CREATE OR REPLACE TRIGGER usage_delete AFTER DELETE ON objects FOR EACH ROW WHEN (NOT OLD.delete_marker) EXECUTE FUNCTION trove_usage_delete();
CREATE OR REPLACE TRIGGER usage_update AFTER UPDATE OF size, delete_marker, bucket_id ON objects FOR EACH ROW EXECUTE FUNCTION trove_usage_update();
CREATE OR REPLACE TRIGGER usage_part BEFORE INSERT ON upload_parts FOR EACH ROW EXECUTE FUNCTION trove_usage_part();
CREATE OR REPLACE TRIGGER usage_bucket_gone AFTER DELETE ON buckets FOR EACH ROW EXECUTE FUNCTION trove_usage_bucket_gone();

DELETE FROM usage_buckets;
DELETE FROM usage_accounts;
INSERT INTO usage_buckets (bucket_id, bytes, objects)
  SELECT bucket_id, SUM(size), COUNT(*) FROM objects WHERE NOT delete_marker GROUP BY bucket_id;
INSERT INTO usage_accounts (owner, bytes, objects)
  SELECT b.owner, SUM(u.bytes), SUM(u.objects) FROM usage_buckets u JOIN buckets b ON b.id = u.bucket_id GROUP BY b.owner;
`;

/** A trigger's refusal as the store's error (anything else unchanged). */
export function quotaError(e: unknown): unknown {
  const m = (e as { code?: string }).code === 'P0001' ? /^QuotaExceeded:(bucket|account)$/.exec((e as Error).message) : null;
  return m ? new StoreError('QuotaExceeded', { quotaScope: m[1] as QuotaScope }) : e;
}

export async function getQuota(db: Db, scope: QuotaScope, id: string): Promise<Quota | undefined> {
  const r = await db.row<{ max_bytes: number | null; max_objects: number | null }>('SELECT max_bytes, max_objects FROM quotas WHERE scope = $1 AND id = $2', [scope, id]);
  return r && { ...(r.max_bytes !== null ? { maxBytes: Number(r.max_bytes) } : {}), ...(r.max_objects !== null ? { maxObjects: Number(r.max_objects) } : {}) };
}

export async function setQuota(db: Db, scope: QuotaScope, id: string, q: Quota | undefined): Promise<void> {
  await db.tx(async (t) => {
    if (!q) await t.run('DELETE FROM quotas WHERE scope = $1 AND id = $2', [scope, id]);
    else await t.run('INSERT INTO quotas (scope, id, max_bytes, max_objects) VALUES ($1, $2, $3, $4) ON CONFLICT (scope, id) DO UPDATE SET max_bytes = excluded.max_bytes, max_objects = excluded.max_objects', [scope, id, q.maxBytes ?? null, q.maxObjects ?? null]);
  });
}

export async function getUsage(db: Db, scope: QuotaScope, id: string): Promise<Usage> {
  const r = scope === 'bucket'
    ? await db.row<{ bytes: string; objects: string }>('SELECT bytes, objects FROM usage_buckets WHERE bucket_id = $1', [Number(id)])
    : await db.row<{ bytes: string; objects: string }>('SELECT bytes, objects FROM usage_accounts WHERE owner = $1', [id]);
  const s = scope === 'bucket'
    ? await db.row<{ s: string }>('SELECT COALESCE(SUM(p.size), 0) AS s FROM uploads up JOIN upload_parts p ON p.upload_id = up.upload_id WHERE up.bucket_id = $1', [Number(id)])
    : await db.row<{ s: string }>('SELECT COALESCE(SUM(p.size), 0) AS s FROM buckets b JOIN uploads up ON up.bucket_id = b.id JOIN upload_parts p ON p.upload_id = up.upload_id WHERE b.owner = $1', [id]);
  return { bytes: Number(r?.bytes ?? 0), objects: Number(r?.objects ?? 0), stagedBytes: Number(s?.s ?? 0) };
}
