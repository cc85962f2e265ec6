// SQLite implementation of MetaStore (the embedded default).
//
// One connection on the main thread runs every transaction synchronously (they take microseconds);
// WalBarrier makes each write durable with a shared, off-thread fdatasync before it is
// acknowledged; a worker thread checkpoints the WAL. Keys are TEXT with the BINARY collation,
// i.e. compared as UTF-8 bytes.

import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { crc32 } from 'node:zlib';
import Database from 'better-sqlite3';
import { S3Error } from '../../s3/errors.js';
import type { ChecksumAlgorithm } from '../../auth/checksums.js';
import { newAccountId, timeOrderedIdAfter } from '../ids.js';
import { compareKeys, prefixSuccessor } from '../keys.js';
import { isOutOfSpace } from '../space.js';
import type { CheckpointerMessage } from './checkpointer.js';
import { WalBarrier, fsyncDir } from './durability.js';
import { SqliteIamStore, toAccessKey, type AccessKeyRow } from './sqlite-iam.js';
import { DIR_MODE, FILE_MODE } from '../datadir.js';
import type {
  AccessKey,
  Bucket,
  BucketConfigKind,
  ChecksumType,
  CompletedUpload,
  DeleteOptions,
  DeleteResult,
  ListedObject,
  ListObjectsQuery,
  ListUploadsQuery,
  ListVersionsQuery,
  MetaStore,
  ObjectContent,
  ObjectPart,
  ObjectVersion,
  PutResult,
  Retention,
  StoredChecksum,
  Upload,
  UploadPart,
  Account,
  VersioningState,
  WriteConditions,
} from './types.js';
import { LEGACY_BLOBS_SETTING } from './types.js';

/**
 * 1: the first format.
 * 2: accounts: every user row is an account with a 12-digit account id (and an email).
 * 3: IAM inside accounts: users, groups, roles, managed and inline policies (iam_* tables);
 *    access keys may belong to an IAM user, have a status and remember their last use.
 * 4: OpenID Connect providers of accounts (iam_oidc_providers).
 * 5: inline bytes carry a CRC32 (objects.inline_crc) and blob files a checksum table and trailer.
 * 6: blobs remember when their last reference went (blobs.released_at), for GC's grace period;
 *    leases for background jobs (leases).
 */
const SCHEMA_VERSION = 6;

/**
 * Adds a column unless the table has it. Branches of this code added their migrations in
 * different orders, so a step must not fail on a column a later-numbered step already added.
 */
function addColumn(db: Database.Database, table: string, definition: string): void {
  const name = definition.split(' ')[0]!;
  const has = (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).some((c) => c.name === name);
  if (!has) db.exec(`ALTER TABLE ${table} ADD COLUMN ${definition}`);
}

/** Upgrades to each version from the one before (the schema above is already the newest). */
const MIGRATIONS: Record<number, (db: Database.Database) => void> = {
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
  },
  6: (db) => {
    // Garbage released before this version has no release time: it counts as released long ago.
    // The leases table is created by SCHEMA.
    addColumn(db, 'blobs', 'released_at INTEGER');
  },
};

/** Indexes on columns that migrations add (created once every migration has run). */
const INDEXES = `
CREATE UNIQUE INDEX IF NOT EXISTS users_account_id ON users (account_id);
CREATE INDEX IF NOT EXISTS access_keys_of_iam_user ON access_keys (iam_user_id) WHERE iam_user_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS access_keys_of_root ON access_keys (user_id, access_key_id) WHERE iam_user_id IS NULL;
`;

/** Group commit under load: event-loop turns to wait for more writes, and the batch size that ends the wait. */
const HOLD_TURNS = 2;
const HOLD_UNTIL = 16;

/** How long a completed upload is remembered for idempotent re-completion. */
const COMPLETION_MEMORY_MS = 24 * 3600 * 1000;

const SCHEMA = `
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
  parts_count INTEGER
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
CREATE TABLE IF NOT EXISTS leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  expires INTEGER NOT NULL
) WITHOUT ROWID;
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

interface PendingWrite {
  fn: () => unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

interface ObjectRow {
  id: number;
  bucket_id: number;
  key: string;
  vid: string;
  is_null: number;
  is_latest: number;
  delete_marker: number;
  size: number;
  etag: string;
  last_modified: number;
  owner: string;
  storage_class: string;
  checksum_alg: string | null;
  checksum_type: string | null;
  meta: string | null;
  inline: Buffer | null;
  inline_crc: number | null;
  blob_id: string | null;
  parts_count: number | null;
}

/** Tags, retention, legal hold and ACL, as objects and uploads store them in their JSON. */
interface GovernanceJson {
  t?: [string, string][];
  r?: Retention;
  l?: boolean;
  a?: string;
}

type Governance = Pick<ObjectContent, 'tags' | 'retention' | 'legalHold' | 'acl'>;

function governanceToJson(g: Governance, into: GovernanceJson): void {
  if (g.tags && g.tags.length) into.t = g.tags;
  if (g.retention) into.r = g.retention;
  if (g.legalHold !== undefined) into.l = g.legalHold;
  if (g.acl !== undefined) into.a = g.acl;
}

function governanceFromJson(j: GovernanceJson, into: Governance): void {
  if (j.t) into.tags = j.t;
  if (j.r) into.retention = j.r;
  if (j.l !== undefined) into.legalHold = j.l;
  if (j.a !== undefined) into.acl = j.a;
}

/** The JSON `meta` column of an object row. */
interface ObjectMetaJson extends GovernanceJson {
  h?: Record<string, string>;
  m?: Record<string, string>;
  c?: string;
}

interface UploadMetaJson extends GovernanceJson {
  sc: string;
  h: Record<string, string>;
  m: Record<string, string>;
  ca?: ChecksumAlgorithm;
  ct?: ChecksumType;
}

type ListedRow = Pick<
  ObjectRow,
  'key' | 'vid' | 'is_null' | 'is_latest' | 'delete_marker' | 'size' | 'etag' | 'last_modified' | 'owner' | 'storage_class' | 'checksum_alg' | 'checksum_type'
>;

interface AccountRow {
  id: string;
  display_name: string;
  created_at: number;
  account_id: string;
  email: string | null;
}

function toAccount(r: AccountRow): Account {
  const a: Account = { id: r.id, accountId: r.account_id, displayName: r.display_name, createdAt: r.created_at };
  if (r.email !== null) a.email = r.email;
  return a;
}

interface BucketRow {
  id: number;
  name: string;
  owner: string;
  created_at: number;
  region: string;
  versioning: string;
  object_lock: number;
}

/**
 * SQL bounds on `key` for "keys with this prefix, from `start` on": the lower bound is the greater
 * of the prefix (inclusive) and start; the upper bound is the prefix's successor.
 */
function keyRange(prefix: string, start: string | undefined, startInclusive: boolean): { sql: string; args: string[] } {
  let sql = '';
  const args: string[] = [];
  let lower = prefix;
  let inclusive = true;
  if (start !== undefined && compareKeys(start, prefix) >= 0) {
    lower = start;
    inclusive = startInclusive;
  }
  if (lower !== '' || !inclusive) {
    sql += inclusive ? ' AND key >= ?' : ' AND key > ?';
    args.push(lower);
  }
  const upper = prefix ? prefixSuccessor(prefix) : undefined;
  if (upper !== undefined) {
    sql += ' AND key < ?';
    args.push(upper);
  }
  return { sql, args };
}

function cacheKey(bucketId: number, key: string): string {
  return `${bucketId}/${key}`;
}

/** Rough memory held by a cached version: its inline bytes plus a fixed allowance. */
function entrySize(v: ObjectVersion): number {
  return (v.inline?.length ?? 0) + v.key.length * 2 + 512;
}

/** The S3 version id of a row. */
function versionIdOf(r: { vid: string; is_null: number }): string {
  return r.is_null === 1 ? 'null' : r.vid;
}

const LISTED_COLUMNS = 'key, vid, is_null, is_latest, delete_marker, size, etag, last_modified, owner, storage_class, checksum_alg, checksum_type';

function toBucket(r: BucketRow): Bucket {
  return {
    id: r.id,
    name: r.name,
    owner: r.owner,
    createdAt: r.created_at,
    region: r.region,
    versioning: r.versioning as VersioningState,
    objectLock: r.object_lock === 1,
  };
}

/** The columns a listed entry and a full version have in common. */
function rowBasics(r: ListedRow) {
  return {
    key: r.key,
    versionId: versionIdOf(r),
    isLatest: r.is_latest === 1,
    deleteMarker: r.delete_marker === 1,
    size: r.size,
    etag: r.etag,
    lastModified: r.last_modified,
    owner: r.owner,
    storageClass: r.storage_class,
  };
}

function toListed(r: ListedRow): ListedObject {
  const o: ListedObject = rowBasics(r);
  if (r.checksum_alg) o.checksumAlgorithm = r.checksum_alg as ChecksumAlgorithm;
  if (r.checksum_type) o.checksumType = r.checksum_type as ChecksumType;
  return o;
}

function toVersion(r: ObjectRow): ObjectVersion {
  const m: ObjectMetaJson = r.meta ? (JSON.parse(r.meta) as ObjectMetaJson) : {};
  const v: ObjectVersion = {
    ...rowBasics(r),
    rowId: r.id,
    bucketId: r.bucket_id,
    headers: m.h ?? {},
    userMeta: m.m ?? {},
  };
  if (r.checksum_alg && m.c !== undefined) {
    v.checksum = { algorithm: r.checksum_alg as ChecksumAlgorithm, value: m.c, type: (r.checksum_type ?? 'FULL_OBJECT') as ChecksumType };
  }
  governanceFromJson(m, v);
  if (r.inline) v.inline = r.inline;
  if (r.inline_crc !== null) v.inlineCrc = r.inline_crc;
  if (r.blob_id) v.blobId = r.blob_id;
  if (r.parts_count) v.partsCount = r.parts_count;
  return v;
}

function metaJson(c: Pick<ObjectContent, 'headers' | 'userMeta' | 'checksum' | 'tags' | 'retention' | 'legalHold' | 'acl'>): string | null {
  const m: ObjectMetaJson = {};
  if (Object.keys(c.headers).length) m.h = c.headers;
  if (Object.keys(c.userMeta).length) m.m = c.userMeta;
  if (c.checksum) m.c = c.checksum.value;
  governanceToJson(c, m);
  return Object.keys(m).length ? JSON.stringify(m) : null;
}

function toUpload(r: { upload_id: string; bucket_id: number; key: string; initiated: number; owner: string; meta: string }): Upload {
  const m = JSON.parse(r.meta) as UploadMetaJson;
  const u: Upload = {
    uploadId: r.upload_id,
    bucketId: r.bucket_id,
    key: r.key,
    initiated: r.initiated,
    owner: r.owner,
    storageClass: m.sc,
    headers: m.h,
    userMeta: m.m,
  };
  if (m.ca) u.checksumAlgorithm = m.ca;
  if (m.ct) u.checksumType = m.ct;
  governanceFromJson(m, u);
  return u;
}

export interface SqliteOptions {
  /** Directory holding meta.db (and its WAL). */
  dir: string;
  /** fsync before acknowledging writes. */
  fsync: boolean;
  /** Called (after commit) when a transaction released blobs that are now garbage. */
  onGarbage?: () => void;
  /** Called when the WAL cannot be synced: the process should stop. */
  onFatal?: (e: Error) => void;
  /**
   * Called, synchronously, when a batch fails for lack of space (SQLITE_FULL), before its writes
   * are retried one by one: the place to free some room (the space reserve).
   */
  onFull?: () => void;
  /** Called when background checkpoints start failing (with the error) and when they work again. */
  onCheckpoint?: (error: Error | undefined) => void;
  /** Checkpoint interval of the background checkpointer (ms). */
  checkpointIntervalMs?: number;
}

export class SqliteMetaStore implements MetaStore {
  private readonly db: Database.Database;
  private readonly barrier: WalBarrier | undefined;
  private readonly checkpointer: Worker;
  private garbageReleased = false;
  private closed = false;
  private readonly stmt: ReturnType<SqliteMetaStore['prepare']>;
  readonly iam: SqliteIamStore;

  static async open(opts: SqliteOptions): Promise<SqliteMetaStore> {
    await fs.promises.mkdir(opts.dir, { recursive: true, mode: DIR_MODE });
    // SQLite creates its database 0644 (less the umask) and gives the WAL and shared-memory files
    // the database's mode: create it 0600 first.
    await (await fs.promises.open(path.join(opts.dir, 'meta.db'), 'a', FILE_MODE)).close();
    const store = new SqliteMetaStore(opts);
    // Make the database and WAL files' directory entries durable.
    if (opts.fsync) await fsyncDir(opts.dir);
    return store;
  }

  private constructor(private readonly opts: SqliteOptions) {
    const file = path.join(opts.dir, 'meta.db');
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${opts.fsync ? 'NORMAL' : 'OFF'}`);
    this.db.pragma('wal_autocheckpoint = 0');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('cache_size = -65536');
    this.db.pragma('temp_store = MEMORY');
    const version = this.migrate();
    if (version !== SCHEMA_VERSION) throw new Error(`metadata schema version ${version} is not supported by this Trove (expects ${SCHEMA_VERSION})`);
    this.stmt = this.prepare();
    // IAM shares the connection and the group commit: its writes are batched and synced with
    // every other, its reads wait for the sync in progress like every other.
    this.iam = new SqliteIamStore(this.db, {
      read: async <T>(fn: () => T): Promise<T> => {
        if (this.unsynced) await this.unsynced;
        return fn();
      },
      write: <T>(fn: () => T): Promise<T> => this.write(fn),
    });
    this.barrier = opts.fsync ? new WalBarrier(file + '-wal') : undefined;
    this.checkpointer = new Worker(new URL('./checkpointer.js', import.meta.url), {
      workerData: { path: file, fsync: opts.fsync, intervalMs: opts.checkpointIntervalMs ?? 1000 },
    });
    this.checkpointer.unref();
    this.checkpointer.on('message', (m: CheckpointerMessage) => {
      if (m.type === 'failing') this.opts.onCheckpoint?.(Object.assign(new Error(m.message), { code: m.code }));
      if (m.type === 'recovered') this.opts.onCheckpoint?.(undefined);
    });
    // A worker that dies must not take the process with it (an unhandled 'error' event would).
    this.checkpointer.on('error', (e) => this.opts.onCheckpoint?.(new Error(`the WAL checkpointer stopped: ${e.message}`)));
  }

  private migrate(): number {
    this.db.exec(SCHEMA);
    const setVersion = this.db.prepare('INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v');
    const row = this.db.prepare('SELECT v FROM meta WHERE k = ?').get('schema_version') as { v: string } | undefined;
    let version = row ? Number(row.v) : SCHEMA_VERSION;
    if (!row) setVersion.run('schema_version', String(SCHEMA_VERSION));
    // Each step upgrades a data directory one version, in one transaction.
    for (; version < SCHEMA_VERSION && MIGRATIONS[version + 1]; version++) {
      const step = MIGRATIONS[version + 1]!;
      this.db.transaction(() => {
        step(this.db);
        setVersion.run('schema_version', String(version + 1));
      })();
    }
    this.db.exec(INDEXES);
    return version;
  }

  private prepare() {
    const db = this.db;
    return {
      begin: db.prepare('BEGIN IMMEDIATE'),
      commit: db.prepare('COMMIT'),
      rollback: db.prepare('ROLLBACK'),
      savepoint: db.prepare('SAVEPOINT w'),
      releaseSavepoint: db.prepare('RELEASE w'),
      rollbackTo: db.prepare('ROLLBACK TO w'),
      getSetting: db.prepare('SELECT v FROM meta WHERE k = ?'),
      putSetting: db.prepare('INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v'),
      initSetting: db.prepare('INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT(k) DO NOTHING'),
      getAccessKey: db.prepare('SELECT * FROM access_keys WHERE access_key_id = ?'),
      getAccount: db.prepare('SELECT * FROM users WHERE id = ?'),
      getAccountById: db.prepare('SELECT * FROM users WHERE account_id = ?'),
      putAccount: db.prepare(
        'INSERT INTO users (id, display_name, created_at, account_id, email) VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET display_name = excluded.display_name, email = excluded.email',
      ),
      putAccessKey: db.prepare(
        `INSERT INTO access_keys (access_key_id, secret, user_id, created_at, iam_user_id, status) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(access_key_id) DO UPDATE SET secret = excluded.secret, user_id = excluded.user_id, iam_user_id = excluded.iam_user_id, status = excluded.status`,
      ),
      getBucket: db.prepare('SELECT * FROM buckets WHERE name = ?'),
      getBucketById: db.prepare('SELECT * FROM buckets WHERE id = ?'),
      insertBucket: db.prepare('INSERT INTO buckets (name, owner, created_at, region, versioning, object_lock) VALUES (?, ?, ?, ?, ?, ?)'),
      deleteBucket: db.prepare('DELETE FROM buckets WHERE id = ?'),
      deleteBucketConfigs: db.prepare('DELETE FROM bucket_configs WHERE bucket_id = ?'),
      deleteBucketCompletions: db.prepare('DELETE FROM completed_uploads WHERE bucket_id = ?'),
      anyObject: db.prepare('SELECT 1 FROM objects WHERE bucket_id = ? LIMIT 1'),
      uploadsOf: db.prepare('SELECT upload_id FROM uploads WHERE bucket_id = ?'),
      setVersioning: db.prepare('UPDATE buckets SET versioning = ? WHERE id = ?'),
      enableObjectLock: db.prepare('UPDATE buckets SET object_lock = 1 WHERE id = ?'),
      getConfig: db.prepare('SELECT value FROM bucket_configs WHERE bucket_id = ? AND kind = ?'),
      putConfig: db.prepare('INSERT INTO bucket_configs (bucket_id, kind, value) VALUES (?, ?, ?) ON CONFLICT(bucket_id, kind) DO UPDATE SET value = excluded.value'),
      deleteConfig: db.prepare('DELETE FROM bucket_configs WHERE bucket_id = ? AND kind = ?'),
      // The newest version is the latest one.
      latest: db.prepare('SELECT * FROM objects WHERE bucket_id = ? AND key = ? ORDER BY vid DESC LIMIT 1'),
      versionById: db.prepare('SELECT * FROM objects WHERE bucket_id = ? AND key = ? AND vid = ? AND is_null = 0'),
      nullVersion: db.prepare('SELECT * FROM objects WHERE bucket_id = ? AND key = ? AND is_null = 1 LIMIT 1'),
      setLatest: db.prepare('UPDATE objects SET is_latest = ? WHERE id = ?'),
      insertObject: db.prepare(`INSERT INTO objects (bucket_id, key, vid, is_null, is_latest, delete_marker, size, etag, last_modified, owner,
        storage_class, checksum_alg, checksum_type, meta, inline, inline_crc, blob_id, parts_count) VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      deleteObjectRow: db.prepare('DELETE FROM objects WHERE id = ?'),
      updateMeta: db.prepare('UPDATE objects SET meta = ? WHERE id = ?'),
      insertPart: db.prepare('INSERT INTO object_parts (object_id, part_number, part_offset, size, etag, checksum, blob_id) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      partsOf: db.prepare('SELECT * FROM object_parts WHERE object_id = ? AND part_number >= ? ORDER BY part_number LIMIT ?'),
      partBlobs: db.prepare('SELECT blob_id FROM object_parts WHERE object_id = ?'),
      deleteParts: db.prepare('DELETE FROM object_parts WHERE object_id = ?'),
      newBlob: db.prepare('INSERT INTO blobs (id, refs) VALUES (?, 1)'),
      shareBlob: db.prepare('UPDATE blobs SET refs = refs + 1 WHERE id = ? AND refs > 0'),
      release: db.prepare('UPDATE blobs SET refs = refs - 1, released_at = CASE WHEN refs <= 1 THEN ? ELSE released_at END WHERE id = ?'),
      garbage: db.prepare('SELECT id FROM blobs WHERE refs <= 0 AND coalesce(released_at, 0) <= ? LIMIT ?'),
      tryLease: db.prepare(`INSERT INTO leases (name, holder, expires) VALUES (?, ?, ?)
        ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, expires = excluded.expires WHERE leases.holder = excluded.holder OR leases.expires <= ?`),
      releaseLease: db.prepare('DELETE FROM leases WHERE name = ? AND holder = ?'),
      forgetBlob: db.prepare('DELETE FROM blobs WHERE id = ? AND refs <= 0'),
      hasBlob: db.prepare('SELECT 1 FROM blobs WHERE id = ?'),
      insertUpload: db.prepare('INSERT INTO uploads (upload_id, bucket_id, key, initiated, owner, meta) VALUES (?, ?, ?, ?, ?, ?)'),
      getUpload: db.prepare('SELECT * FROM uploads WHERE upload_id = ? AND bucket_id = ?'),
      deleteUpload: db.prepare('DELETE FROM uploads WHERE upload_id = ?'),
      getPart: db.prepare('SELECT blob_id FROM upload_parts WHERE upload_id = ? AND part_number = ?'),
      insertCompleted: db.prepare(`INSERT INTO completed_uploads (upload_id, bucket_id, key, version_id, etag, checksum, parts_digest, completed_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(upload_id) DO NOTHING`),
      getCompleted: db.prepare('SELECT * FROM completed_uploads WHERE upload_id = ? AND bucket_id = ?'),
      expireCompleted: db.prepare('DELETE FROM completed_uploads WHERE completed_at < ?'),
      putPart: db.prepare(`INSERT INTO upload_parts (upload_id, part_number, size, etag, checksum, last_modified, blob_id) VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT(upload_id, part_number) DO UPDATE SET size = excluded.size, etag = excluded.etag, checksum = excluded.checksum,
        last_modified = excluded.last_modified, blob_id = excluded.blob_id`),
      listParts: db.prepare('SELECT * FROM upload_parts WHERE upload_id = ? AND part_number > ? ORDER BY part_number LIMIT ?'),
      uploadPartBlobs: db.prepare('SELECT blob_id FROM upload_parts WHERE upload_id = ?'),
      deleteUploadParts: db.prepare('DELETE FROM upload_parts WHERE upload_id = ?'),
    };
  }

  /**
   * Runs `fn` as one atomic write and resolves once it is durable.
   *
   * Group commit: writes queue up and are committed together in one SQLite transaction, each in
   * its own savepoint (one failing rolls back only itself), and one WAL fdatasync then covers the
   * whole batch. A batch is committed as soon as the previous batch's sync has finished, so batch
   * size follows the load: one write when idle, everything that arrived during an fsync when
   * busy. Each write still sees every earlier write (one connection, in order).
   */
  private write<T>(fn: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error('metadata store is closed'));
    if (this.failed) return Promise.reject(new Error('metadata store failed to sync its log; restart required'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (!this.draining) {
        this.draining = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private queue: PendingWrite[] = [];
  private draining = false;
  private failed: Error | undefined;

  /**
   * The sync of the batch committed last, while it runs. Reads share the connection, so between
   * a batch's COMMIT and the end of its WAL fdatasync they would see writes that a crash can still
   * take away, and a client could be shown (or act on) an object whose PUT then fails or is lost.
   * Every read waits for that sync first: nothing is visible before it is durable, as with
   * PostgreSQL's commit. A read waits at most one fdatasync, and only while one is running.
   */
  private unsynced: Promise<void> | undefined;

  private async drain(): Promise<void> {
    try {
      let first = true;
      while (this.queue.length > 0) {
        // Writes that arrived while the previous batch synced mean load: let a few more
        // event-loop turns bring in writes before committing, so one fsync covers more of them.
        // The first batch of a drain (an idle store) is committed at once.
        // At least one turn always passes between batches, so that reads which waited for the
        // previous batch's sync run before the next batch commits (see `unsynced`).
        if (!first && this.barrier) for (let i = 0; i < HOLD_TURNS && (i === 0 || this.queue.length < HOLD_UNTIL); i++) await new Promise((r) => setImmediate(r));
        first = false;
        const batch = this.queue;
        this.queue = [];
        let outcomes: Outcome[];
        try {
          outcomes = this.commitBatch(batch);
        } catch (e) {
          if (!isOutOfSpace(e)) {
            for (const w of batch) w.reject(e);
            continue;
          }
          // Out of space, and the whole batch rolled back. Let the owner free some room, then
          // commit each write on its own: one that needs room (a new object) must not sink those
          // that need none (deletes, which are how space comes back). Nothing is marked failed.
          this.opts.onFull?.();
          outcomes = batch.map((w) => {
            try {
              return this.commitBatch([w])[0]!;
            } catch (error) {
              return { ok: false, error };
            }
          });
        }
        if (this.barrier) {
          const sync = this.barrier.sync();
          this.unsynced = sync;
          try {
            await sync;
            this.unsynced = undefined;
          } catch (e) {
            // Committed but not known to be durable, and after a failed fsync the page cache
            // cannot be trusted: refuse to go on (as PostgreSQL does). Nothing is acknowledged.
            this.failed = e as Error;
            for (const w of batch) w.reject(new Error('metadata store failed to sync its log; restart required'));
            this.opts.onFatal?.(e as Error);
            continue;
          }
        }
        for (const [i, w] of batch.entries()) {
          const o = outcomes[i]!;
          if (o.ok) w.resolve(o.value);
          else w.reject(o.error);
        }
        if (this.garbageReleased) {
          this.garbageReleased = false;
          this.opts.onGarbage?.();
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private commitBatch(batch: PendingWrite[]): Outcome[] {
    const out: Outcome[] = [];
    const tx = this.stmt;
    tx.begin.run();
    try {
      for (const w of batch) {
        tx.savepoint.run();
        try {
          const value = w.fn();
          tx.releaseSavepoint.run();
          out.push({ ok: true, value });
        } catch (error) {
          // Out of space fails the batch as a whole (see drain), and SQLite may have rolled the
          // transaction back already, savepoint included.
          if (isOutOfSpace(error) || !this.db.inTransaction) throw error;
          tx.rollbackTo.run();
          tx.releaseSavepoint.run();
          out.push({ ok: false, error });
        }
      }
      tx.commit.run();
    } catch (e) {
      if (this.db.inTransaction) tx.rollback.run();
      throw e;
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.draining || this.queue.length > 0) await new Promise((r) => setTimeout(r, 5));
    await new Promise<void>((resolve) => {
      const done = () => resolve();
      this.checkpointer.on('message', (m: CheckpointerMessage) => m.type === 'stopped' && done());
      this.checkpointer.once('exit', done);
      this.checkpointer.postMessage({ type: 'stop' });
      setTimeout(done, 5000).unref();
    });
    await this.checkpointer.terminate();
    this.barrier?.close();
    this.db.close();
  }

  // ---------------------------------------------------------------- settings, users and keys

  async getSetting(name: string): Promise<string | undefined> {
    if (this.unsynced) await this.unsynced;
    const r = this.stmt.getSetting.get('setting:' + name) as { v: string } | undefined;
    return r?.v;
  }

  async putSetting(name: string, value: string): Promise<void> {
    await this.write(() => this.stmt.putSetting.run('setting:' + name, value));
  }

  async initSetting(name: string, value: string): Promise<string> {
    return this.write(() => {
      this.stmt.initSetting.run('setting:' + name, value);
      return (this.stmt.getSetting.get('setting:' + name) as { v: string }).v;
    });
  }

  async getAccessKey(accessKeyId: string): Promise<AccessKey | undefined> {
    if (this.unsynced) await this.unsynced;
    const r = this.stmt.getAccessKey.get(accessKeyId) as AccessKeyRow | undefined;
    return r && toAccessKey(r);
  }

  async getAccount(canonicalId: string): Promise<Account | undefined> {
    if (this.unsynced) await this.unsynced;
    const r = this.stmt.getAccount.get(canonicalId) as AccountRow | undefined;
    return r && toAccount(r);
  }

  async getAccountById(accountId: string): Promise<Account | undefined> {
    if (this.unsynced) await this.unsynced;
    const r = this.stmt.getAccountById.get(accountId) as AccountRow | undefined;
    return r && toAccount(r);
  }

  async putAccount(a: Account): Promise<void> {
    await this.write(() => {
      const other = this.stmt.getAccountById.get(a.accountId) as AccountRow | undefined;
      if (other && other.id !== a.id) throw new Error(`account id ${a.accountId} belongs to another account`);
      this.stmt.putAccount.run(a.id, a.displayName, a.createdAt, a.accountId, a.email ?? null);
    });
  }

  async putAccessKey(k: AccessKey): Promise<void> {
    await this.write(() => this.stmt.putAccessKey.run(k.accessKeyId, k.secretAccessKey, k.userId, k.createdAt, k.iamUserId ?? null, k.status ?? 'Active'));
  }

  async listAccounts(): Promise<Account[]> {
    if (this.unsynced) await this.unsynced;
    return (this.db.prepare('SELECT * FROM users ORDER BY display_name, id').all() as AccountRow[]).map(toAccount);
  }

  // ---------------------------------------------------------------- buckets

  async createBucket(b: Omit<Bucket, 'id'>): Promise<Bucket> {
    return this.write(() => {
      const existing = this.stmt.getBucket.get(b.name) as BucketRow | undefined;
      if (existing) {
        throw new S3Error(existing.owner === b.owner ? 'BucketAlreadyOwnedByYou' : 'BucketAlreadyExists', undefined, { BucketName: b.name });
      }
      const info = this.stmt.insertBucket.run(b.name, b.owner, b.createdAt, b.region, b.versioning, b.objectLock ? 1 : 0);
      return { ...b, id: Number(info.lastInsertRowid) };
    });
  }

  /**
   * Buckets are read on every request: they are cached, and every write that changes one drops it
   * (this process is the only writer of an embedded store).
   */
  private readonly bucketCache = new Map<string, Bucket>();

  async getBucket(name: string): Promise<Bucket | undefined> {
    if (this.unsynced) await this.unsynced;
    const hit = this.bucketCache.get(name);
    if (hit) return hit;
    const r = this.stmt.getBucket.get(name) as BucketRow | undefined;
    if (!r) return undefined;
    const b = toBucket(r);
    if (this.bucketCache.size > 10_000) this.bucketCache.clear();
    this.bucketCache.set(name, b);
    return b;
  }

  private forgetBucket(id: number): void {
    for (const [name, b] of this.bucketCache) if (b.id === id) this.bucketCache.delete(name);
  }

  async listBuckets(owner: string | undefined, opts: { prefix?: string; after?: string; limit: number }): Promise<Bucket[]> {
    if (this.unsynced) await this.unsynced;
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (owner !== undefined) {
      where.push('owner = ?');
      args.push(owner);
    }
    const prefix = opts.prefix ?? '';
    if (prefix) {
      where.push('name >= ?');
      args.push(prefix);
      const end = prefixSuccessor(prefix);
      if (end !== undefined) {
        where.push('name < ?');
        args.push(end);
      }
    }
    if (opts.after !== undefined) {
      where.push('name > ?');
      args.push(opts.after);
    }
    args.push(opts.limit);
    const sql = `SELECT * FROM buckets ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY name LIMIT ?`;
    return (this.cached(sql).all(...args) as BucketRow[]).map(toBucket);
  }

  async deleteBucket(bucketId: number): Promise<void> {
    await this.write(() => {
      this.forgetBucket(bucketId);
      const b = this.stmt.getBucketById.get(bucketId) as BucketRow | undefined;
      if (!b) throw new S3Error('NoSuchBucket');
      if (this.stmt.anyObject.get(bucketId)) throw new S3Error('BucketNotEmpty', undefined, { BucketName: b.name });
      // Incomplete multipart uploads do not keep a bucket alive (as in S3): they are aborted.
      for (const u of this.stmt.uploadsOf.all(bucketId) as { upload_id: string }[]) this.dropUpload(u.upload_id);
      this.stmt.deleteBucketConfigs.run(bucketId);
      this.stmt.deleteBucketCompletions.run(bucketId);
      this.stmt.deleteBucket.run(bucketId);
    });
  }

  async setVersioning(bucketId: number, state: VersioningState): Promise<void> {
    await this.write(() => {
      this.forgetBucket(bucketId);
      const b = this.bucketState(bucketId);
      if (b.object_lock === 1 && state !== 'Enabled') {
        throw new S3Error('InvalidBucketState', 'An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.');
      }
      this.stmt.setVersioning.run(state, bucketId);
    });
  }

  async enableObjectLock(bucketId: number): Promise<void> {
    await this.write(() => {
      this.forgetBucket(bucketId);
      const b = this.bucketState(bucketId);
      if (b.versioning !== 'Enabled') throw new S3Error('InvalidBucketState', "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration");
      this.stmt.enableObjectLock.run(bucketId);
    });
  }

  async getBucketConfig(bucketId: number, kind: BucketConfigKind): Promise<string | undefined> {
    if (this.unsynced) await this.unsynced;
    const r = this.stmt.getConfig.get(bucketId, kind) as { value: string } | undefined;
    return r?.value;
  }

  async putBucketConfig(bucketId: number, kind: BucketConfigKind, value: string | undefined): Promise<void> {
    await this.write(() => {
      if (value === undefined) this.stmt.deleteConfig.run(bucketId, kind);
      else this.stmt.putConfig.run(bucketId, kind, value);
    });
  }

  // ---------------------------------------------------------------- objects

  async getObject(bucketId: number, key: string, versionId?: string): Promise<ObjectVersion | undefined> {
    if (this.unsynced) await this.unsynced;
    if (versionId !== undefined) {
      const r = this.versionRow(bucketId, key, versionId);
      return r && toVersion(r);
    }
    const ck = cacheKey(bucketId, key);
    const hit = this.latestCache.get(ck);
    if (hit) {
      // Refresh its place in the eviction order.
      this.latestCache.delete(ck);
      this.latestCache.set(ck, hit);
      return hit;
    }
    const r = this.stmt.latest.get(bucketId, key) as ObjectRow | undefined;
    if (!r) return undefined;
    const v = Object.freeze(toVersion(r));
    this.remember(ck, v);
    return v;
  }

  /**
   * The latest version of recently read keys (GET/HEAD of small objects reads the row with its
   * inline bytes: ~3x a plain lookup). This process is the store's only writer, and every write
   * that touches a key forgets it inside its transaction, so the cache never serves a version
   * a read from SQLite would not. Bounded by bytes (inline data counted), oldest evicted first.
   */
  private readonly latestCache = new Map<string, ObjectVersion>();
  private latestCacheBytes = 0;
  private static readonly LATEST_CACHE_BYTES = 64 * 1024 * 1024;

  private remember(ck: string, v: ObjectVersion): void {
    const size = entrySize(v);
    if (size > SqliteMetaStore.LATEST_CACHE_BYTES / 64) return;
    this.latestCache.set(ck, v);
    this.latestCacheBytes += size;
    for (const [k, old] of this.latestCache) {
      if (this.latestCacheBytes <= SqliteMetaStore.LATEST_CACHE_BYTES) break;
      this.latestCache.delete(k);
      this.latestCacheBytes -= entrySize(old);
    }
  }

  private forgetLatest(bucketId: number, key: string): void {
    const ck = cacheKey(bucketId, key);
    const v = this.latestCache.get(ck);
    if (v) {
      this.latestCache.delete(ck);
      this.latestCacheBytes -= entrySize(v);
    }
  }

  /** The row of an S3 version id ('null' included). */
  private versionRow(bucketId: number, key: string, versionId: string): ObjectRow | undefined {
    return (versionId === 'null' ? this.stmt.nullVersion.get(bucketId, key) : this.stmt.versionById.get(bucketId, key, versionId)) as ObjectRow | undefined;
  }

  async getObjectParts(rowId: number, fromPart = 1, limit = 10000): Promise<ObjectPart[]> {
    if (this.unsynced) await this.unsynced;
    const rows = this.stmt.partsOf.all(rowId, fromPart, limit) as { part_number: number; part_offset: number; size: number; etag: string; checksum: string | null; blob_id: string }[];
    return rows.map((r) => {
      const p: ObjectPart = { partNumber: r.part_number, offset: r.part_offset, size: r.size, etag: r.etag, blobId: r.blob_id };
      if (r.checksum !== null) p.checksum = r.checksum;
      return p;
    });
  }

  private bucketState(bucketId: number): BucketRow {
    const b = this.stmt.getBucketById.get(bucketId) as BucketRow | undefined;
    if (!b) throw new S3Error('NoSuchBucket');
    return b;
  }

  private checkConditions(latest: ObjectRow | undefined, c: WriteConditions | undefined, key: string): void {
    if (!c) return;
    const exists = latest !== undefined && latest.delete_marker === 0;
    if (c.ifNoneMatch !== undefined) {
      if (exists && (c.ifNoneMatch === '*' || c.ifNoneMatch === latest.etag)) throw new S3Error('PreconditionFailed', undefined, { Condition: 'If-None-Match' });
    }
    if (c.ifMatch !== undefined) {
      if (!exists) throw new S3Error('NoSuchKey', undefined, { Key: key });
      if (c.ifMatch !== '*' && c.ifMatch !== latest.etag) throw new S3Error('PreconditionFailed', undefined, { Condition: 'If-Match' });
    }
  }

  /**
   * Takes a reference on a blob: a fresh one (just written for this request) gets its first
   * reference; a shared one must still be referenced, else its source was deleted meanwhile (and
   * its file may be gone), and the write fails.
   */
  private addRef(blobId: string, shared: boolean): void {
    if (!shared) {
      this.stmt.newBlob.run(blobId);
      return;
    }
    if (this.stmt.shareBlob.run(blobId).changes === 0) throw new S3Error('NoSuchKey', 'The source object was deleted while it was being copied.');
  }

  private release(blobId: string): void {
    this.stmt.release.run(Date.now(), blobId);
    this.garbageReleased = true;
  }

  /** Deletes a version row and drops its references to blobs. */
  private removeRow(r: Pick<ObjectRow, 'id' | 'blob_id' | 'parts_count'>): void {
    if (r.blob_id) this.release(r.blob_id);
    if (r.parts_count) {
      for (const p of this.stmt.partBlobs.all(r.id) as { blob_id: string }[]) this.release(p.blob_id);
      this.stmt.deleteParts.run(r.id);
    }
    this.stmt.deleteObjectRow.run(r.id);
  }

  private insertRow(bucketId: number, key: string, vid: string, isNull: boolean, deleteMarker: boolean, c: ObjectContent): number {
    const info = this.stmt.insertObject.run(
      bucketId,
      key,
      vid,
      isNull ? 1 : 0,
      deleteMarker ? 1 : 0,
      c.size,
      c.etag,
      c.lastModified,
      c.owner,
      c.storageClass,
      c.checksum?.algorithm ?? null,
      c.checksum?.type ?? null,
      metaJson(c),
      c.inline ?? null,
      c.inline ? crc32(c.inline) : null,
      c.blobId ?? null,
      c.parts?.length ?? null,
    );
    const id = Number(info.lastInsertRowid);
    const shared = c.sharedData === true;
    if (c.blobId) this.addRef(c.blobId, shared);
    if (c.parts) {
      for (const p of c.parts) {
        this.stmt.insertPart.run(id, p.partNumber, p.offset, p.size, p.etag, p.checksum ?? null, p.blobId);
        this.addRef(p.blobId, shared);
      }
    }
    return id;
  }

  /**
   * The heart of every write: places a new version (or delete marker) for `key` according to the
   * bucket's versioning state. Must run inside a transaction.
   */
  private placeVersion(bucket: BucketRow, key: string, content: ObjectContent, deleteMarker: boolean, latest: ObjectRow | undefined): PutResult {
    this.forgetLatest(bucket.id, key);
    const isNull = bucket.versioning !== 'Enabled';
    // Unversioned and Suspended buckets keep at most one 'null' version: the new one replaces it
    // (in an unversioned bucket it can only be the latest).
    const existingNull = !isNull
      ? undefined
      : latest?.is_null === 1
        ? latest
        : bucket.versioning === 'Unversioned'
          ? undefined
          : (this.stmt.nullVersion.get(bucket.id, key) as ObjectRow | undefined);
    if (latest) this.stmt.setLatest.run(0, latest.id);
    const vid = timeOrderedIdAfter(latest?.vid);
    // The new row takes its blob references before the old one drops its own: an object copied
    // onto itself shares its blobs, which must never reach zero references in between.
    this.insertRow(bucket.id, key, vid, isNull, deleteMarker, content);
    if (existingNull) this.removeRow(existingNull);
    const res: PutResult = { versionId: isNull ? 'null' : vid };
    if (latest) res.previous = { versionId: versionIdOf(latest), deleteMarker: latest.delete_marker === 1 };
    return res;
  }

  async putObject(bucketId: number, key: string, content: ObjectContent, conditions?: WriteConditions): Promise<PutResult> {
    return this.write(() => {
      const bucket = this.bucketState(bucketId);
      const latest = this.stmt.latest.get(bucketId, key) as ObjectRow | undefined;
      this.checkConditions(latest, conditions, key);
      return this.placeVersion(bucket, key, content, false, latest);
    });
  }

  private checkRetention(r: ObjectRow, opts: DeleteOptions): void {
    if (!r.meta) return;
    const m = JSON.parse(r.meta) as ObjectMetaJson;
    if (m.l) throw new S3Error('AccessDenied', 'Access Denied because object protected by object lock.');
    if (m.r && m.r.until > opts.now) {
      if (m.r.mode === 'COMPLIANCE' || !opts.bypassGovernance) {
        throw new S3Error('AccessDenied', 'Access Denied because object protected by object lock.');
      }
    }
  }

  async deleteObject(bucketId: number, key: string, opts: DeleteOptions): Promise<DeleteResult> {
    return this.write((): DeleteResult => {
      const bucket = this.bucketState(bucketId);
      this.forgetLatest(bucketId, key);
      const latest = this.stmt.latest.get(bucketId, key) as ObjectRow | undefined;
      this.checkConditions(latest, opts.conditions, key);
      if (opts.versionId !== undefined) {
        const row = this.versionRow(bucketId, key, opts.versionId);
        if (!row) return { versionId: opts.versionId, deleteMarker: false };
        this.checkRetention(row, opts);
        this.removeRow(row);
        if (row.is_latest === 1) {
          const next = this.stmt.latest.get(bucketId, key) as ObjectRow | undefined;
          if (next) this.stmt.setLatest.run(1, next.id);
        }
        return { versionId: versionIdOf(row), deleteMarker: row.delete_marker === 1 };
      }
      if (bucket.versioning === 'Unversioned') {
        if (!latest) return { deleteMarker: false };
        this.removeRow(latest);
        return { deleteMarker: false };
      }
      const marker: ObjectContent = {
        size: 0,
        etag: '',
        lastModified: opts.now,
        owner: bucket.owner,
        storageClass: '',
        headers: {},
        userMeta: {},
      };
      const res = this.placeVersion(bucket, key, marker, true, latest);
      return { versionId: res.versionId, deleteMarker: true };
    });
  }

  async updateObject(
    bucketId: number,
    key: string,
    versionId: string | undefined,
    patch: Partial<Pick<ObjectContent, 'tags' | 'retention' | 'legalHold' | 'acl'>>,
    check?: (current: ObjectVersion) => void,
  ): Promise<ObjectVersion> {
    return this.write(() => {
      const row = versionId === undefined ? (this.stmt.latest.get(bucketId, key) as ObjectRow | undefined) : this.versionRow(bucketId, key, versionId);
      if (!row || (versionId === undefined && row.delete_marker === 1)) {
        throw versionId === undefined ? new S3Error('NoSuchKey', undefined, { Key: key }) : new S3Error('NoSuchVersion', undefined, { Key: key, VersionId: versionId });
      }
      if (row.delete_marker === 1) throw new S3Error('MethodNotAllowed', undefined, {}, { 'x-amz-delete-marker': 'true', allow: 'DELETE' });
      this.forgetLatest(bucketId, key);
      const v = toVersion(row);
      check?.(v);
      if ('tags' in patch) v.tags = patch.tags;
      if ('retention' in patch) v.retention = patch.retention;
      if ('legalHold' in patch) v.legalHold = patch.legalHold;
      if ('acl' in patch) v.acl = patch.acl;
      this.stmt.updateMeta.run(metaJson(v), row.id);
      return v;
    });
  }

  async listObjects(bucketId: number, q: ListObjectsQuery): Promise<ListedObject[]> {
    if (this.unsynced) await this.unsynced;
    const w = keyRange(q.prefix, q.start, q.startInclusive === true);
    const sql = `SELECT ${LISTED_COLUMNS} FROM objects WHERE bucket_id = ? AND is_latest = 1 AND delete_marker = 0${w.sql} ORDER BY key LIMIT ?`;
    return (this.cached(sql).all(bucketId, ...w.args, q.limit) as ListedRow[]).map(toListed);
  }

  private readonly stmtCache = new Map<string, Database.Statement>();
  private cached(sql: string): Database.Statement {
    let s = this.stmtCache.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmtCache.set(sql, s);
    }
    return s;
  }

  async listVersions(bucketId: number, q: ListVersionsQuery): Promise<ListedObject[]> {
    if (this.unsynced) await this.unsynced;
    const out: ListedObject[] = [];
    const startKey = q.startKey;
    // First the rest of the marker key: its versions older than the version-id marker. A minted
    // version id is the row's vid, so this holds even if that version was deleted meanwhile (a
    // list-delete-list loop must not skip versions); a vanished null marker lists the key again.
    if (q.keyMarker !== undefined && q.versionIdMarker !== undefined && q.keyMarker.startsWith(q.prefix) && (startKey === undefined || compareKeys(startKey, q.keyMarker) <= 0)) {
      const bound = q.versionIdMarker === 'null' ? (this.stmt.nullVersion.get(bucketId, q.keyMarker) as ObjectRow | undefined)?.vid : q.versionIdMarker;
      const sql = bound === undefined
        ? `SELECT ${LISTED_COLUMNS} FROM objects WHERE bucket_id = ? AND key = ? ORDER BY vid DESC LIMIT ?`
        : `SELECT ${LISTED_COLUMNS} FROM objects WHERE bucket_id = ? AND key = ? AND vid < ? ORDER BY vid DESC LIMIT ?`;
      const args = bound === undefined ? [bucketId, q.keyMarker, q.limit] : [bucketId, q.keyMarker, bound, q.limit];
      for (const r of this.cached(sql).all(...args) as ListedRow[]) out.push(toListed(r));
    }
    if (out.length >= q.limit) return out;
    // Then whole keys after the marker key (or from startKey).
    let w = keyRange(q.prefix, startKey, true);
    if (q.keyMarker !== undefined && (startKey === undefined || compareKeys(q.keyMarker, startKey) >= 0)) w = keyRange(q.prefix, q.keyMarker, false);
    const sql = `SELECT ${LISTED_COLUMNS} FROM objects WHERE bucket_id = ?${w.sql} ORDER BY key, vid DESC LIMIT ?`;
    for (const r of this.cached(sql).all(bucketId, ...w.args, q.limit - out.length) as ListedRow[]) out.push(toListed(r));
    return out;
  }

  // ---------------------------------------------------------------- multipart uploads

  async createUpload(u: Upload): Promise<void> {
    const m: UploadMetaJson = { sc: u.storageClass, h: u.headers, m: u.userMeta };
    if (u.checksumAlgorithm) m.ca = u.checksumAlgorithm;
    if (u.checksumType) m.ct = u.checksumType;
    governanceToJson(u, m);
    await this.write(() => {
      this.bucketState(u.bucketId);
      this.stmt.insertUpload.run(u.uploadId, u.bucketId, u.key, u.initiated, u.owner, JSON.stringify(m));
    });
  }

  async getUpload(bucketId: number, uploadId: string): Promise<Upload | undefined> {
    if (this.unsynced) await this.unsynced;
    const r = this.stmt.getUpload.get(uploadId, bucketId) as Parameters<typeof toUpload>[0] | undefined;
    return r && toUpload(r);
  }

  async putPart(bucketId: number, uploadId: string, part: UploadPart): Promise<void> {
    await this.write(() => {
      if (!this.stmt.getUpload.get(uploadId, bucketId)) throw new S3Error('NoSuchUpload', undefined, { UploadId: uploadId });
      const old = this.stmt.getPart.get(uploadId, part.partNumber) as { blob_id: string } | undefined;
      this.addRef(part.blobId, part.shared === true);
      if (old) this.release(old.blob_id);
      this.stmt.putPart.run(uploadId, part.partNumber, part.size, part.etag, part.checksum ?? null, part.lastModified, part.blobId);
    });
  }

  async listParts(uploadId: string, afterPart: number, limit: number): Promise<UploadPart[]> {
    if (this.unsynced) await this.unsynced;
    const rows = this.stmt.listParts.all(uploadId, afterPart, limit) as { part_number: number; size: number; etag: string; checksum: string | null; last_modified: number; blob_id: string }[];
    return rows.map((r) => {
      const p: UploadPart = { partNumber: r.part_number, size: r.size, etag: r.etag, lastModified: r.last_modified, blobId: r.blob_id };
      if (r.checksum !== null) p.checksum = r.checksum;
      return p;
    });
  }

  async listUploads(bucketId: number, q: ListUploadsQuery): Promise<Upload[]> {
    if (this.unsynced) await this.unsynced;
    let w = keyRange(q.prefix, q.startKey, true);
    let markerSql = '';
    const markerArgs: string[] = [];
    if (q.keyMarker !== undefined && (q.startKey === undefined || compareKeys(q.keyMarker, q.startKey) >= 0)) {
      if (q.uploadIdMarker !== undefined) {
        w = keyRange(q.prefix, q.keyMarker, true);
        markerSql = ' AND (key > ? OR upload_id > ?)';
        markerArgs.push(q.keyMarker, q.uploadIdMarker);
      } else {
        w = keyRange(q.prefix, q.keyMarker, false);
      }
    }
    const sql = `SELECT * FROM uploads WHERE bucket_id = ?${w.sql}${markerSql} ORDER BY key, upload_id LIMIT ?`;
    return (this.cached(sql).all(bucketId, ...w.args, ...markerArgs, q.limit) as Parameters<typeof toUpload>[0][]).map(toUpload);
  }

  async abortUpload(bucketId: number, uploadId: string): Promise<void> {
    await this.write(() => {
      if (!this.stmt.getUpload.get(uploadId, bucketId)) throw new S3Error('NoSuchUpload', undefined, { UploadId: uploadId });
      this.dropUpload(uploadId);
    });
  }

  private dropUpload(uploadId: string): void {
    for (const p of this.stmt.uploadPartBlobs.all(uploadId) as { blob_id: string }[]) this.release(p.blob_id);
    this.stmt.deleteUploadParts.run(uploadId);
    this.stmt.deleteUpload.run(uploadId);
  }

  async completeUpload(
    bucketId: number,
    uploadId: string,
    content: ObjectContent,
    completion: Omit<CompletedUpload, 'versionId'>,
    conditions?: WriteConditions,
  ): Promise<PutResult> {
    return this.write(() => {
      const bucket = this.bucketState(bucketId);
      const up = this.stmt.getUpload.get(uploadId, bucketId) as { key: string } | undefined;
      if (!up) throw new S3Error('NoSuchUpload', undefined, { UploadId: uploadId });
      // The parts the caller chose must still be the upload's parts (a part re-uploaded since it
      // was read would otherwise slip in or out).
      for (const p of content.parts ?? []) {
        const cur = this.stmt.getPart.get(uploadId, p.partNumber) as { blob_id: string } | undefined;
        if (!cur || cur.blob_id !== p.blobId) throw new S3Error('InvalidPart', undefined, { UploadId: uploadId, PartNumber: p.partNumber });
      }
      const latest = this.stmt.latest.get(bucketId, up.key) as ObjectRow | undefined;
      this.checkConditions(latest, conditions, up.key);
      // The object takes its own references on the chosen parts' blobs before the upload (and
      // with it every part's reference) goes away, so unused parts become garbage.
      const res = this.placeVersion(bucket, up.key, { ...content, sharedData: true }, false, latest);
      this.dropUpload(uploadId);
      this.stmt.expireCompleted.run(Date.now() - COMPLETION_MEMORY_MS);
      this.stmt.insertCompleted.run(
        uploadId,
        bucketId,
        up.key,
        res.versionId,
        completion.etag,
        completion.checksum ? JSON.stringify(completion.checksum) : null,
        completion.partsDigest,
        completion.completedAt,
      );
      return res;
    });
  }

  async getCompletedUpload(bucketId: number, uploadId: string): Promise<CompletedUpload | undefined> {
    if (this.unsynced) await this.unsynced;
    const r = this.stmt.getCompleted.get(uploadId, bucketId) as
      | { upload_id: string; bucket_id: number; key: string; version_id: string; etag: string; checksum: string | null; parts_digest: string; completed_at: number }
      | undefined;
    if (!r || r.completed_at < Date.now() - COMPLETION_MEMORY_MS) return undefined;
    const c: CompletedUpload = {
      uploadId: r.upload_id,
      bucketId: r.bucket_id,
      key: r.key,
      versionId: r.version_id,
      etag: r.etag,
      partsDigest: r.parts_digest,
      completedAt: r.completed_at,
    };
    if (r.checksum) c.checksum = JSON.parse(r.checksum) as StoredChecksum;
    return c;
  }

  // ---------------------------------------------------------------- blob garbage

  /**
   * Goes through the write queue: it answers only after a WAL sync that covers every release it
   * saw, so a blob is never deleted while the write that released it could still be rolled back
   * by a crash.
   */
  async takeGarbage(limit: number, releasedBefore = Number.MAX_SAFE_INTEGER): Promise<string[]> {
    return this.write(() => (this.stmt.garbage.all(releasedBefore, limit) as { id: string }[]).map((r) => r.id));
  }

  // ---------------------------------------------------------------- leases

  async tryLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    return this.write(() => {
      const now = Date.now();
      return this.stmt.tryLease.run(name, holder, now + ttlMs, now).changes === 1;
    });
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.write(() => this.stmt.releaseLease.run(name, holder));
  }

  async forgetBlobs(blobIds: string[]): Promise<void> {
    if (blobIds.length === 0) return;
    await this.write(() => {
      for (const id of blobIds) this.stmt.forgetBlob.run(id);
    });
  }

  async hasBlob(blobId: string): Promise<boolean> {
    if (this.unsynced) await this.unsynced;
    return this.stmt.hasBlob.get(blobId) !== undefined;
  }
}
