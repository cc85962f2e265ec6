// The SQLite schema: tables and indexes as the newest version has them, the numbered migrations
// that bring an older data directory up to it, and the function that runs them at open.

import type Database from 'better-sqlite3';
import { newAccountId } from '../../ids.js';
import { LEGACY_BLOBS_SETTING } from '../types.js';
import { computeUsage, QUOTA_SCHEMA } from './quota.js';
import { computeClassUsage, USAGE_SCHEMA } from './usage.js';

/**
 * 1: the first format.
 * 2: accounts: every user row is an account with a 12-digit account id (and an email).
 * 3: IAM inside accounts: users, groups, roles, managed and inline policies (iam_* tables);
 *    access keys may belong to an IAM user, have a status and remember their last use.
 * 4: OpenID Connect providers of accounts (iam_oidc_providers).
 * 5: inline bytes carry a CRC32 (objects.inline_crc) and blob files a checksum table and trailer.
 * 6: blobs remember when their last reference went (blobs.released_at), for GC's grace period;
 *    leases for background jobs (leases).
 * 7: the work engine's queue (work): follow-up work recorded with object changes, claimed under leases.
 * 8: objects moved to a remote tier say where (objects.tier, JSON; tiering/).
 * 9: server access logs waiting for delivery (log_batches, log_records).
 * 10, 11: not used (reserved for notifications and replication, which needed no step).
 * 12: usage counters per bucket and account (usage_buckets, usage_accounts, kept by triggers) and
 *     quotas (quotas); see quota.ts.
 * 13-15: reserved for other branches.
 * 16: usage reports: hourly request counters (usage_requests), hourly storage snapshots
 *     (usage_storage) and per-bucket counters of the storage classes other than STANDARD
 *     (usage_classes, kept by triggers); see usage.ts.
 */
export const SCHEMA_VERSION = 16;

/**
 * Adds a column unless the table has it. Branches of this code added their migrations in
 * different orders, so a step must not fail on a column a later-numbered step already added.
 */
export function addColumn(db: Database.Database, table: string, definition: string): void {
  const name = definition.split(' ')[0]!;
  const has = (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).some((c) => c.name === name);
  if (!has) db.exec(`ALTER TABLE ${table} ADD COLUMN ${definition}`);
}

/** Upgrades to each version from the one before (the schema above is already the newest). */
export const MIGRATIONS: Record<number, (db: Database.Database) => void> = {
  2: (db) => {
    // Every user that exists becomes an account (its root keeps its keys and its buckets).
    addColumn(db, 'users', 'account_id TEXT');
    addColumn(db, 'users', 'email TEXT');
    const set = db.prepare('UPDATE users SET account_id = ? WHERE id = ?');
    const taken = new Set<string>();
    for (const { id } of db.prepare('SELECT id FROM users').all() as { id: string }[]) {
      let a: string;
      do a = newAccountId();
      while (taken.has(a));
      taken.add(a);
      set.run(a, id);
    }
  },
  3: (db) => {
    // The iam_* tables are created by SCHEMA (CREATE TABLE IF NOT EXISTS). Existing keys are the
    // root users' and stay active.
    addColumn(db, 'access_keys', 'iam_user_id TEXT');
    addColumn(db, 'access_keys', "status TEXT NOT NULL DEFAULT 'Active'");
    addColumn(db, 'access_keys', 'last_used_at INTEGER');
    addColumn(db, 'access_keys', 'last_used_service TEXT');
    addColumn(db, 'access_keys', 'last_used_region TEXT');
  },
  4: () => {
    // iam_oidc_providers is created by SCHEMA; nothing existing changes. The version still moves
    // on, so that an older Trove refuses a data directory whose providers it would not see.
  },
  5: (db) => {
    // Rows written so far have no inline CRC (they are served unverified), and blob files written
    // so far have no checksums: if there are any, the data directory says so, and such files keep
    // being served (unverified) as long as their length is exactly their data's.
    addColumn(db, 'objects', 'inline_crc INTEGER');
    if (db.prepare('SELECT 1 FROM blobs LIMIT 1').get()) {
      db.prepare('INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v').run('setting:' + LEGACY_BLOBS_SETTING, '1');
    }
  },  6: (db) => {
    // Garbage released before this version has no release time: it counts as released long ago.
    // The leases table is created by SCHEMA.
    addColumn(db, 'blobs', 'released_at INTEGER');
  },
  7: () => {
    // The work table and its indexes are created by SCHEMA (IF NOT EXISTS); nothing existing
    // changes. The version moves on so that an older Trove refuses a directory with queued work.
  },
  8: (db) => {
    addColumn(db, 'objects', 'tier TEXT');
  },
  9: () => {
    // log_batches and log_records are created by SCHEMA (IF NOT EXISTS): nothing existing changes.
  },
  12: (db) => {
    // The tables and triggers are created by SCHEMA; the counters start from what exists.
    computeUsage(db);
  },
  16: (db) => {
    // The tables and triggers are created by SCHEMA; the storage-class counters start from what exists.
    computeClassUsage(db);
  },

};

/** Indexes on columns that migrations add (created once every migration has run). */
export const INDEXES = `
CREATE UNIQUE INDEX IF NOT EXISTS users_account_id ON users (account_id);
CREATE INDEX IF NOT EXISTS access_keys_of_iam_user ON access_keys (iam_user_id) WHERE iam_user_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS access_keys_of_root ON access_keys (user_id, access_key_id) WHERE iam_user_id IS NULL;
`;

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID;
-- One row per account (the tenant that owns buckets): its canonical user id, its 12-digit
-- account id, its name. (The table's name predates accounts: every user was an account root.)
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY,
  display_name TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  account_id TEXT,
  email TEXT
) WITHOUT ROWID;
-- user_id is the account (canonical id); iam_user_id the IAM user holding the key, NULL for the
-- account's root user.
CREATE TABLE IF NOT EXISTS access_keys (
  access_key_id TEXT PRIMARY KEY,
  secret TEXT NOT NULL,
  user_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  iam_user_id TEXT,
  status TEXT NOT NULL DEFAULT 'Active',
  last_used_at INTEGER,
  last_used_service TEXT,
  last_used_region TEXT
) WITHOUT ROWID;
-- IAM inside accounts (account_id: 12 digits). Names are unique per account whatever their case
-- (NOCASE: IAM names are ASCII); memberships, attachments and inline policies refer to entities
-- by their unique ids (AIDA…, AGPA…, AROA…, ANPA…), which never change.
CREATE TABLE IF NOT EXISTS iam_users (
  account_id TEXT NOT NULL,
  name TEXT NOT NULL COLLATE NOCASE,
  id TEXT NOT NULL UNIQUE,
  path TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS iam_groups (
  account_id TEXT NOT NULL,
  name TEXT NOT NULL COLLATE NOCASE,
  id TEXT NOT NULL UNIQUE,
  path TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS iam_group_members (
  group_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  PRIMARY KEY (group_id, user_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS iam_groups_of_user ON iam_group_members (user_id, group_id);
CREATE TABLE IF NOT EXISTS iam_roles (
  account_id TEXT NOT NULL,
  name TEXT NOT NULL COLLATE NOCASE,
  id TEXT NOT NULL UNIQUE,
  path TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  trust_policy TEXT NOT NULL,
  max_session_duration INTEGER NOT NULL,
  description TEXT,
  PRIMARY KEY (account_id, name)
) WITHOUT ROWID;
-- Managed policies; next_version numbers versions as AWS does (v1, v2… never reused).
CREATE TABLE IF NOT EXISTS iam_policies (
  account_id TEXT NOT NULL,
  name TEXT NOT NULL COLLATE NOCASE,
  id TEXT NOT NULL UNIQUE,
  path TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  description TEXT,
  default_version TEXT NOT NULL,
  next_version INTEGER NOT NULL,
  PRIMARY KEY (account_id, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS iam_policy_versions (
  policy_id TEXT NOT NULL,
  version_id TEXT NOT NULL,
  document TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (policy_id, version_id)
) WITHOUT ROWID;
-- Managed policies attached to users, groups and roles (entity_kind: user | group | role).
CREATE TABLE IF NOT EXISTS iam_attachments (
  entity_id TEXT NOT NULL,
  policy_id TEXT NOT NULL,
  entity_kind TEXT NOT NULL,
  PRIMARY KEY (entity_id, policy_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS iam_attachments_of_policy ON iam_attachments (policy_id);
CREATE TABLE IF NOT EXISTS iam_inline_policies (
  entity_id TEXT NOT NULL,
  name TEXT NOT NULL,
  document TEXT NOT NULL,
  PRIMARY KEY (entity_id, name)
) WITHOUT ROWID;
-- OpenID Connect providers of an account, by URL without its https:// scheme (what the ARN ends
-- with); client ids and thumbprints as JSON arrays of strings.
CREATE TABLE IF NOT EXISTS iam_oidc_providers (
  account_id TEXT NOT NULL,
  url TEXT NOT NULL,
  client_ids TEXT NOT NULL,
  thumbprints TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, url)
) WITHOUT ROWID;
-- AUTOINCREMENT: a bucket id is never reused, so a write still in flight for a deleted bucket
-- can never land in a bucket created later under the same id.
CREATE TABLE IF NOT EXISTS buckets (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  owner TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  region TEXT NOT NULL,
  versioning TEXT NOT NULL DEFAULT 'Unversioned',
  object_lock INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS bucket_configs (
  bucket_id INTEGER NOT NULL,
  kind TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (bucket_id, kind)
) WITHOUT ROWID;
-- Every version of every object. \`vid\` is unique per key and time-ordered (newest = greatest);
-- the S3 version id is the vid, or 'null' for the null version. One index serves lookups by
-- version and the newest-first history; a partial index holds exactly the current, visible
-- objects, for listing. A write maintains three B-trees.
CREATE TABLE IF NOT EXISTS objects (
  id INTEGER PRIMARY KEY,
  bucket_id INTEGER NOT NULL,
  key TEXT NOT NULL,
  vid TEXT NOT NULL,
  is_null INTEGER NOT NULL,
  is_latest INTEGER NOT NULL,
  delete_marker INTEGER NOT NULL,
  size INTEGER NOT NULL,
  etag TEXT NOT NULL,
  last_modified INTEGER NOT NULL,
  owner TEXT NOT NULL,
  storage_class TEXT NOT NULL,
  checksum_alg TEXT,
  checksum_type TEXT,
  meta TEXT,
  inline BLOB,
  -- CRC32 of inline, verified before the bytes are served (NULL in rows written by schema 1).
  inline_crc INTEGER,
  blob_id TEXT,
  parts_count INTEGER,
  -- Where the bytes are when they were moved to a remote tier (JSON TierState; NULL: here).
  tier TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS objects_versions ON objects (bucket_id, key, vid DESC);
CREATE INDEX IF NOT EXISTS objects_current ON objects (bucket_id, key) WHERE is_latest = 1 AND delete_marker = 0;
CREATE TABLE IF NOT EXISTS object_parts (
  object_id INTEGER NOT NULL,
  part_number INTEGER NOT NULL,
  part_offset INTEGER NOT NULL,
  size INTEGER NOT NULL,
  etag TEXT NOT NULL,
  checksum TEXT,
  blob_id TEXT NOT NULL,
  PRIMARY KEY (object_id, part_number)
) WITHOUT ROWID;
-- Reference counts of blob files; rows at zero are garbage awaiting deletion from the BlobStore.
CREATE TABLE IF NOT EXISTS blobs (
  id TEXT PRIMARY KEY,
  refs INTEGER NOT NULL,
  -- When refs last reached zero (ms since epoch; NULL: before schema 6, or still referenced).
  released_at INTEGER
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS blobs_garbage ON blobs (id) WHERE refs <= 0;
-- Leases on background jobs: one holder at a time, until expires (ms since epoch).
-- Server access logs waiting for delivery (src/logging/): a batch per source bucket and
-- configuration and roll period, its records in append order.
CREATE TABLE IF NOT EXISTS log_batches (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  bucket_id INTEGER NOT NULL,
  config TEXT NOT NULL,
  opened_at INTEGER NOT NULL,
  deadline INTEGER NOT NULL,
  closed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS log_batches_open ON log_batches (bucket_id, closed, deadline);
CREATE INDEX IF NOT EXISTS log_batches_due ON log_batches (deadline);
CREATE TABLE IF NOT EXISTS log_records (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  batch_id INTEGER NOT NULL,
  line TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS log_records_batch ON log_records (batch_id, seq);
CREATE TABLE IF NOT EXISTS leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  expires INTEGER NOT NULL
) WITHOUT ROWID;
-- The work engine's queue (MetaStore.enqueueWork/claimWork): a claimed item's not_before is its
-- claim's expiry (lease_until), so one index finds what is due, expired claims included.
CREATE TABLE IF NOT EXISTS work (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,
  not_before INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  lease_holder TEXT,
  lease_until INTEGER,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  order_key TEXT,
  dedupe_key TEXT
);
CREATE INDEX IF NOT EXISTS work_due ON work (kind, not_before, id);
CREATE INDEX IF NOT EXISTS work_order ON work (order_key, id) WHERE order_key IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS work_dedupe ON work (dedupe_key) WHERE dedupe_key IS NOT NULL;
CREATE TABLE IF NOT EXISTS uploads (
  upload_id TEXT PRIMARY KEY,
  bucket_id INTEGER NOT NULL,
  key TEXT NOT NULL,
  initiated INTEGER NOT NULL,
  owner TEXT NOT NULL,
  meta TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS uploads_by_key ON uploads (bucket_id, key, upload_id);
-- Recently completed uploads, so that a repeated Complete answers what the first one did.
CREATE TABLE IF NOT EXISTS completed_uploads (
  upload_id TEXT PRIMARY KEY,
  bucket_id INTEGER NOT NULL,
  key TEXT NOT NULL,
  version_id TEXT NOT NULL,
  etag TEXT NOT NULL,
  checksum TEXT,
  parts_digest TEXT NOT NULL,
  completed_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS upload_parts (
  upload_id TEXT NOT NULL,
  part_number INTEGER NOT NULL,
  size INTEGER NOT NULL,
  etag TEXT NOT NULL,
  checksum TEXT,
  last_modified INTEGER NOT NULL,
  blob_id TEXT NOT NULL,
  PRIMARY KEY (upload_id, part_number)
) WITHOUT ROWID;
`;

/**
 * Creates the tables, runs every migration from the data directory's version on (all in one
 * transaction) and creates the indexes; answers the version reached.
 */
export function migrate(db: Database.Database): number {
  // One IMMEDIATE transaction: of processes opening the file at once (workers, `trove admin`), one
  // migrates and the others wait for its write lock (busy_timeout), then find the work done. The
  // steps commit together: a failing step leaves the directory at its old version.
  return db
    .transaction(() => {
      db.exec(SCHEMA);
      db.exec(QUOTA_SCHEMA);
      db.exec(USAGE_SCHEMA);
      const setVersion = db.prepare('INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v');
      const row = db.prepare('SELECT v FROM meta WHERE k = ?').get('schema_version') as { v: string } | undefined;
      let version = row ? Number(row.v) : SCHEMA_VERSION;
      if (!row) setVersion.run('schema_version', String(SCHEMA_VERSION));
      // Each step upgrades a data directory one version.
      // Versions without a step here (numbers other branches use) are passed over.
      for (; version < SCHEMA_VERSION; version++) {
        MIGRATIONS[version + 1]?.(db);
        setVersion.run('schema_version', String(version + 1));
      }
      db.exec(INDEXES);
      return version;
    })
    .immediate();
}
