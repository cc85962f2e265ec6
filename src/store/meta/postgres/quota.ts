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

/** The advisory lock domain that orders an account's quota changes with its bucket creations. */
export function accountQuotaDomain(owner: string): string {
  return `quota:${owner}`;
}

export async function setQuota(db: Db, scope: QuotaScope, id: string, q: Quota | undefined): Promise<void> {
  await db.tx(async (t) => {
    // Writes in flight in the scope's buckets counted without the quota (in their connections'
    // shards, USAGE_SHARDS_MIGRATION): wait for them to commit, and keep new ones out until the
    // quota is committed, so that every write the quota's checks sum up is in the sum. FOR UPDATE
    // conflicts with the FOR KEY SHARE each object write holds on its bucket (objects.ts
    // bucketState); an account's buckets created meanwhile wait on the domain lock (createBucket).
    if (scope === 'account') {
      t.lockDomain(accountQuotaDomain(id));
      await t.rows('SELECT 1 FROM buckets WHERE owner = $1 FOR UPDATE', [id]);
    } else if (/^\d+$/.test(id)) {
      await t.rows('SELECT 1 FROM buckets WHERE id = $1 FOR UPDATE', [Number(id)]);
    }
    if (!q) await t.run('DELETE FROM quotas WHERE scope = $1 AND id = $2', [scope, id]);
    else await t.run('INSERT INTO quotas (scope, id, max_bytes, max_objects) VALUES ($1, $2, $3, $4) ON CONFLICT (scope, id) DO UPDATE SET max_bytes = excluded.max_bytes, max_objects = excluded.max_objects', [scope, id, q.maxBytes ?? null, q.maxObjects ?? null]);
  });
}

export async function getUsage(db: Db, scope: QuotaScope, id: string): Promise<Usage> {
  // The sum of the scope's shards (USAGE_SHARDS_MIGRATION).
  const r = scope === 'bucket'
    ? await db.row<{ bytes: string; objects: string }>('SELECT SUM(bytes) AS bytes, SUM(objects) AS objects FROM usage_buckets WHERE bucket_id = $1', [Number(id)])
    : await db.row<{ bytes: string; objects: string }>('SELECT SUM(bytes) AS bytes, SUM(objects) AS objects FROM usage_accounts WHERE owner = $1', [id]);
  const s = scope === 'bucket'
    ? await db.row<{ s: string }>('SELECT COALESCE(SUM(p.size), 0) AS s FROM uploads up JOIN upload_parts p ON p.upload_id = up.upload_id WHERE up.bucket_id = $1', [Number(id)])
    : await db.row<{ s: string }>('SELECT COALESCE(SUM(p.size), 0) AS s FROM buckets b JOIN uploads up ON up.bucket_id = b.id JOIN upload_parts p ON p.upload_id = up.upload_id WHERE b.owner = $1', [id]);
  return { bytes: Number(r?.bytes ?? 0), objects: Number(r?.objects ?? 0), stagedBytes: Number(s?.s ?? 0) };
}

/**
 * Schema 15: the counters are spread over shards, so that writers of one bucket (or account) no
 * longer queue on one row lock until commit. Schema 9 gave each bucket and account one counter
 * row, which every write upserted: it held that row's lock until its commit, so all the writes
 * of a bucket committed one after the other — each waited for the previous one's WAL flush, no
 * two shared one (no group commit), at a fraction of the throughput and with more CPU per write.
 *
 * Now a scope's usage is the sum of its rows (`shard`). A write to a scope without a quota adds
 * to the row of its connection's shard (backend pid mod 64: concurrent writers rarely share
 * one). A write to a scope with a quota adds to shard -1 instead, which serialises every write of
 * that scope as before, and then sums the shards: the other shards cannot change meanwhile
 * (every writer of the scope goes through shard -1 once the quota exists, and setQuota waits for
 * the writers that started before it: quota.ts setQuota), so the sum is exact and the check as
 * race-free as with one row.
 */
export const USAGE_SHARDS_MIGRATION = `
ALTER TABLE usage_buckets ADD COLUMN IF NOT EXISTS shard smallint NOT NULL DEFAULT 0;
ALTER TABLE usage_buckets DROP CONSTRAINT usage_buckets_pkey, ADD PRIMARY KEY (bucket_id, shard);
ALTER TABLE usage_accounts ADD COLUMN IF NOT EXISTS shard smallint NOT NULL DEFAULT 0;
ALTER TABLE usage_accounts DROP CONSTRAINT usage_accounts_pkey, ADD PRIMARY KEY (owner, shard);

DROP FUNCTION IF EXISTS trove_usage_add(integer, text, bigint, bigint);
-- Adds to the bucket's (and, with own, the account's) usage. A scope with a quota: its shard -1,
-- whose row lock is held until commit, and its exact total is returned (ub, uo / ab, ao; NULL for
-- a scope without a quota). quota: some scope has one.
CREATE FUNCTION trove_usage_add(b integer, own text, db bigint, dobj bigint, OUT ub bigint, OUT uo bigint, OUT ab bigint, OUT ao bigint, OUT quota boolean) LANGUAGE plpgsql AS $f$
DECLARE qb boolean; qa boolean; s smallint := pg_backend_pid() % 64;
BEGIN
  SELECT COALESCE(bool_or(q.scope = 'bucket'), false), COALESCE(bool_or(q.scope = 'account'), false) INTO qb, qa FROM quotas q
    WHERE (q.scope = 'bucket' AND q.id = b::text) OR (q.scope = 'account' AND q.id = own);
  INSERT INTO usage_buckets AS u (bucket_id, shard, bytes, objects) VALUES (b, CASE WHEN qb THEN -1 ELSE s END, db, dobj)
    ON CONFLICT (bucket_id, shard) DO UPDATE SET bytes = u.bytes + excluded.bytes, objects = u.objects + excluded.objects;
  IF qb THEN SELECT SUM(u.bytes), SUM(u.objects) INTO ub, uo FROM usage_buckets u WHERE u.bucket_id = b; END IF;
  IF own IS NOT NULL THEN
    INSERT INTO usage_accounts AS u (owner, shard, bytes, objects) VALUES (own, CASE WHEN qa THEN -1 ELSE s END, db, dobj)
      ON CONFLICT (owner, shard) DO UPDATE SET bytes = u.bytes + excluded.bytes, objects = u.objects + excluded.objects;
    IF qa THEN SELECT SUM(u.bytes), SUM(u.objects) INTO ab, ao FROM usage_accounts u WHERE u.owner = own; END IF;
  END IF;
  quota := qb OR qa;
END $f$;

CREATE OR REPLACE FUNCTION trove_usage_insert() RETURNS trigger LANGUAGE plpgsql AS $f$
DECLARE own text; r record; rb bigint := 0; ro bigint := 0; q record; cb bigint; co bigint;
BEGIN
  SELECT owner INTO own FROM buckets WHERE id = NEW.bucket_id;
  r := trove_usage_add(NEW.bucket_id, own, NEW.size, 1);
  IF NOT r.quota THEN RETURN NULL; END IF;
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

CREATE OR REPLACE FUNCTION trove_usage_part() RETURNS trigger LANGUAGE plpgsql AS $f$
DECLARE b integer; own text; q record; r record; used bigint; staged bigint;
BEGIN
  SELECT up.bucket_id, bk.owner INTO b, own FROM uploads up JOIN buckets bk ON bk.id = up.bucket_id WHERE up.upload_id = NEW.upload_id;
  FOR q IN SELECT * FROM quotas WHERE max_bytes IS NOT NULL AND ((scope = 'bucket' AND id = b::text) OR (scope = 'account' AND id = own)) LOOP
    IF q.scope = 'bucket' THEN
      -- Shard -1's lock serializes this bucket's parts and writes until commit.
      r := trove_usage_add(b, NULL, 0, 0);
      used := r.ub;
      SELECT COALESCE(SUM(p.size), 0) INTO staged FROM uploads up JOIN upload_parts p ON p.upload_id = up.upload_id WHERE up.bucket_id = b;
    ELSE
      r := trove_usage_add(b, own, 0, 0);
      used := r.ab;
      SELECT COALESCE(SUM(p.size), 0) INTO staged FROM buckets ob JOIN uploads up ON up.bucket_id = ob.id JOIN upload_parts p ON p.upload_id = up.upload_id WHERE ob.owner = own;
    END IF;
    IF used + staged + NEW.size > q.max_bytes THEN
      RAISE EXCEPTION 'QuotaExceeded:%', q.scope USING ERRCODE = 'P0001';
    END IF;
  END LOOP;
  RETURN NEW;
END $f$;
`;
