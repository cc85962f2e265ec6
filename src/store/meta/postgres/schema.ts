// The PostgreSQL schema, as numbered migrations run at start-up.
//
// Every node runs `migrate` when it opens the store: inside one transaction holding a
// transaction-level advisory lock, it reads the schema version and applies the missing steps, so
// of several nodes starting together one migrates and the others wait, then find nothing to do.
// A database newer than this code is refused.
//
// Object and upload keys are `bytea` (their UTF-8 bytes): they compare as bytes with any database
// collation, and keys with a NUL character (valid UTF-8, refused by `text`) are stored as they
// are. Other names that list in order (buckets, version and upload ids, access key ids) are
// `text COLLATE "C"`, i.e. byte order too.

import { QUOTA_MIGRATION, USAGE_SHARDS_MIGRATION } from './quota.js';
import { USAGE_MIGRATION } from './usage.js';
import type pg from 'pg';

/** Advisory lock id of schema migration (the 64-bit key space; key locks use the two-int4 space). */
const MIGRATION_LOCK = 0x74726f7665; // 'trove'

const MIGRATIONS: string[] = [
  // 1: the first schema, equivalent to the SQLite store's schema 5.
  `
  CREATE TABLE settings (name text PRIMARY KEY, value text NOT NULL);
  -- Accounts: canonical user id, 12-digit account id, display name.
  CREATE TABLE accounts (
    id text PRIMARY KEY,
    display_name text NOT NULL,
    created_at bigint NOT NULL,
    account_id text NOT NULL UNIQUE,
    email text
  );
  -- user_id is the account (canonical id); iam_user_id the IAM user holding the key, NULL for
  -- the account's root user.
  CREATE TABLE access_keys (
    access_key_id text COLLATE "C" PRIMARY KEY,
    secret text NOT NULL,
    user_id text NOT NULL,
    created_at bigint NOT NULL,
    iam_user_id text,
    status text NOT NULL DEFAULT 'Active',
    last_used_at bigint,
    last_used_service text,
    last_used_region text
  );
  CREATE INDEX access_keys_of_iam_user ON access_keys (iam_user_id, access_key_id) WHERE iam_user_id IS NOT NULL;
  CREATE INDEX access_keys_of_root ON access_keys (user_id, access_key_id) WHERE iam_user_id IS NULL;

  -- IAM inside accounts. Names are unique per account whatever their (ASCII) case and list in
  -- that order: lower(name) under the C collation.
  CREATE TABLE iam_users (
    id text PRIMARY KEY,
    account_id text NOT NULL,
    name text COLLATE "C" NOT NULL,
    path text COLLATE "C" NOT NULL,
    created_at bigint NOT NULL
  );
  CREATE UNIQUE INDEX iam_users_name ON iam_users (account_id, lower(name));
  CREATE TABLE iam_groups (
    id text PRIMARY KEY,
    account_id text NOT NULL,
    name text COLLATE "C" NOT NULL,
    path text COLLATE "C" NOT NULL,
    created_at bigint NOT NULL
  );
  CREATE UNIQUE INDEX iam_groups_name ON iam_groups (account_id, lower(name));
  CREATE TABLE iam_group_members (
    group_id text NOT NULL,
    user_id text NOT NULL,
    PRIMARY KEY (group_id, user_id)
  );
  CREATE INDEX iam_groups_of_user ON iam_group_members (user_id, group_id);
  CREATE TABLE iam_roles (
    id text PRIMARY KEY,
    account_id text NOT NULL,
    name text COLLATE "C" NOT NULL,
    path text COLLATE "C" NOT NULL,
    created_at bigint NOT NULL,
    trust_policy text NOT NULL,
    max_session_duration integer NOT NULL,
    description text
  );
  CREATE UNIQUE INDEX iam_roles_name ON iam_roles (account_id, lower(name));
  -- Managed policies; next_version numbers versions as AWS does (v1, v2… never reused).
  CREATE TABLE iam_policies (
    id text PRIMARY KEY,
    account_id text NOT NULL,
    name text COLLATE "C" NOT NULL,
    path text COLLATE "C" NOT NULL,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    description text,
    default_version text NOT NULL,
    next_version integer NOT NULL
  );
  CREATE UNIQUE INDEX iam_policies_name ON iam_policies (account_id, lower(name));
  CREATE TABLE iam_policy_versions (
    policy_id text NOT NULL,
    version_id text NOT NULL,
    document text NOT NULL,
    created_at bigint NOT NULL,
    PRIMARY KEY (policy_id, version_id)
  );
  CREATE TABLE iam_attachments (
    entity_id text NOT NULL,
    policy_id text COLLATE "C" NOT NULL,
    entity_kind text NOT NULL,
    PRIMARY KEY (entity_id, policy_id)
  );
  CREATE INDEX iam_attachments_of_policy ON iam_attachments (policy_id);
  CREATE TABLE iam_inline_policies (
    entity_id text NOT NULL,
    name text COLLATE "C" NOT NULL,
    document text NOT NULL,
    PRIMARY KEY (entity_id, name)
  );
  CREATE TABLE iam_oidc_providers (
    account_id text NOT NULL,
    url text COLLATE "C" NOT NULL,
    client_ids text NOT NULL,
    thumbprints text NOT NULL,
    created_at bigint NOT NULL,
    PRIMARY KEY (account_id, url)
  );

  -- An identity: a bucket id is never reused, so a write still in flight for a deleted bucket
  -- can never land in a bucket created later under the same id.
  CREATE TABLE buckets (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text COLLATE "C" NOT NULL UNIQUE,
    owner text NOT NULL,
    created_at bigint NOT NULL,
    region text NOT NULL,
    versioning text NOT NULL DEFAULT 'Unversioned',
    object_lock boolean NOT NULL DEFAULT false
  );
  CREATE INDEX buckets_of_owner ON buckets (owner, name);
  CREATE TABLE bucket_configs (
    bucket_id integer NOT NULL,
    kind text NOT NULL,
    value text NOT NULL,
    PRIMARY KEY (bucket_id, kind)
  );

  -- Every version of every object. vid is unique per key and time-ordered (newest = greatest);
  -- the S3 version id is the vid, or 'null' for the null version. objects_versions serves lookups
  -- by version and the newest-first history; objects_current holds exactly the current, visible
  -- objects, for listing; objects_one_latest is the backstop that no two writers ever both make
  -- a version the latest.
  CREATE TABLE objects (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bucket_id integer NOT NULL,
    key bytea NOT NULL,
    vid text COLLATE "C" NOT NULL,
    is_null boolean NOT NULL,
    is_latest boolean NOT NULL,
    delete_marker boolean NOT NULL,
    size bigint NOT NULL,
    etag text NOT NULL,
    last_modified bigint NOT NULL,
    owner text NOT NULL,
    storage_class text NOT NULL,
    checksum_alg text,
    checksum_type text,
    meta text,
    inline bytea,
    inline_crc bigint,
    blob_id text,
    parts_count integer
  );
  CREATE UNIQUE INDEX objects_versions ON objects (bucket_id, key, vid DESC);
  CREATE INDEX objects_current ON objects (bucket_id, key) WHERE is_latest AND NOT delete_marker;
  CREATE UNIQUE INDEX objects_one_latest ON objects (bucket_id, key) WHERE is_latest;
  CREATE TABLE object_parts (
    object_id bigint NOT NULL,
    part_number integer NOT NULL,
    part_offset bigint NOT NULL,
    size bigint NOT NULL,
    etag text NOT NULL,
    checksum text,
    blob_id text NOT NULL,
    PRIMARY KEY (object_id, part_number)
  );
  -- Reference counts of blob files; rows at zero are garbage awaiting deletion from the BlobStore.
  CREATE TABLE blobs (
    id text PRIMARY KEY,
    refs integer NOT NULL
  );
  CREATE INDEX blobs_garbage ON blobs (id) WHERE refs <= 0;
  CREATE TABLE uploads (
    upload_id text COLLATE "C" PRIMARY KEY,
    bucket_id integer NOT NULL,
    key bytea NOT NULL,
    initiated bigint NOT NULL,
    owner text NOT NULL,
    meta text NOT NULL
  );
  CREATE INDEX uploads_by_key ON uploads (bucket_id, key, upload_id);
  -- Recently completed uploads, so that a repeated Complete answers what the first one did.
  CREATE TABLE completed_uploads (
    upload_id text PRIMARY KEY,
    bucket_id integer NOT NULL,
    key bytea NOT NULL,
    version_id text NOT NULL,
    etag text NOT NULL,
    checksum text,
    parts_digest text NOT NULL,
    completed_at bigint NOT NULL
  );
  CREATE INDEX completed_uploads_age ON completed_uploads (completed_at);
  CREATE TABLE upload_parts (
    upload_id text NOT NULL,
    part_number integer NOT NULL,
    size bigint NOT NULL,
    etag text NOT NULL,
    checksum text,
    last_modified bigint NOT NULL,
    blob_id text NOT NULL,
    PRIMARY KEY (upload_id, part_number)
  );
  `,
  // 2: blobs remember when their last reference went (GC's grace period for reads in flight on
  // other nodes); leases for background jobs (one holder at a time, until expires, in ms of the
  // server's clock). As the SQLite store's schema 6.
  `
  ALTER TABLE blobs ADD COLUMN released_at bigint;
  CREATE TABLE leases (
    name text PRIMARY KEY,
    holder text NOT NULL,
    expires bigint NOT NULL
  );
  `,
  // 3: a sequence number of changes the caches above the store care about, read with the bucket
  // on every request, so that a request sees every such change committed before it (changes.ts).
  `
  CREATE TABLE change_seq (one boolean PRIMARY KEY DEFAULT true CHECK (one), seq bigint NOT NULL);
  INSERT INTO change_seq (seq) VALUES (0);
  `,
  // 4: the work engine's queue: follow-up work recorded with object changes, claimed under
  // leases (FOR UPDATE SKIP LOCKED). A claimed item's not_before is its claim's expiry, so one
  // index finds what is due, expired claims included. As the SQLite store's schema 7.
  `
  CREATE TABLE IF NOT EXISTS work (
    id bigserial PRIMARY KEY,
    kind text COLLATE "C" NOT NULL,
    payload text NOT NULL,
    not_before bigint NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    lease_holder text,
    lease_until bigint,
    last_error text,
    created_at bigint NOT NULL,
    order_key text COLLATE "C",
    dedupe_key text COLLATE "C"
  );
  CREATE INDEX IF NOT EXISTS work_due ON work (kind, not_before, id);
  CREATE INDEX IF NOT EXISTS work_order ON work (order_key, id) WHERE order_key IS NOT NULL;
  CREATE UNIQUE INDEX IF NOT EXISTS work_dedupe ON work (dedupe_key) WHERE dedupe_key IS NOT NULL;
  `,
  // 5: objects moved to a remote tier say where (JSON TierState; tiering/). As SQLite's 8.
  `ALTER TABLE objects ADD COLUMN IF NOT EXISTS tier text;`,
  // 6: server access logs waiting for delivery (src/logging/): a batch per source bucket,
  // configuration and roll period, its records in append order. As the SQLite store's schema 9.
  `
  CREATE TABLE IF NOT EXISTS log_batches (
    id bigserial PRIMARY KEY,
    bucket_id bigint NOT NULL,
    config text NOT NULL,
    opened_at bigint NOT NULL,
    deadline bigint NOT NULL,
    closed boolean NOT NULL DEFAULT false
  );
  CREATE INDEX IF NOT EXISTS log_batches_open ON log_batches (bucket_id, closed, deadline);
  CREATE INDEX IF NOT EXISTS log_batches_due ON log_batches (deadline);
  CREATE TABLE IF NOT EXISTS log_records (
    seq bigserial PRIMARY KEY,
    batch_id bigint NOT NULL,
    line text NOT NULL
  );
  CREATE INDEX IF NOT EXISTS log_records_batch ON log_records (batch_id, seq);
  `,
  // 7, 8: reserved for branches that ended up needing no step (notifications, replication).
  'SELECT 1',
  'SELECT 1',
  // 9: usage counters per bucket and account, kept by triggers, and quotas (quota.ts).
  QUOTA_MIGRATION,
  // 10-12: reserved for other branches.
  'SELECT 1',
  'SELECT 1',
  'SELECT 1',
  // 13: usage reports: hourly request counters and storage snapshots, storage-class counters (usage.ts).
  USAGE_MIGRATION,
  // 14: reserved.
  'SELECT 1',
  // 15: usage counters in shards, so that a bucket's writes do not queue on one row (quota.ts).
  USAGE_SHARDS_MIGRATION,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings the database to SCHEMA_VERSION (tests: to `target`); answers the version found before. */
export async function migrate(client: pg.PoolClient, target = SCHEMA_VERSION): Promise<number> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS trove_schema (version integer NOT NULL)');
    const r = await client.query<{ version: number }>('SELECT version FROM trove_schema');
    const found = r.rows[0]?.version ?? 0;
    if (found > SCHEMA_VERSION) throw new Error(`metadata schema version ${found} is newer than this Trove supports (${SCHEMA_VERSION})`);
    for (let v = found; v < target; v++) await client.query(MIGRATIONS[v]!);
    if (r.rows.length === 0) await client.query('INSERT INTO trove_schema (version) VALUES ($1)', [target]);
    else if (found < target) await client.query('UPDATE trove_schema SET version = $1', [target]);
    await client.query('COMMIT');
    return found;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}
