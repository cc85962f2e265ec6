// PostgreSQL implementation of MetaStore, for several Trove nodes (or processes) over one
// database. Same semantics as the SQLite store; db.ts explains transactions, locks and
// durability, objects.ts objects and uploads, iam.ts IAM.
//
// One cache: bucket configurations (ConfigCache below, with its correctness argument). Every
// other read goes to the database, so a write acknowledged by any node is seen by the next
// request on every node. Buckets themselves are read on every request, with the change sequence
// (the same one-row read whether the bucket is cached or not, so a bucket cache would save
// nothing).

import * as quota from './quota.js';
import type { Quota, QuotaScope, Usage, UsageFilter, UsageRequestRow, UsageRows } from '../types.js';
import * as usage from './usage.js';
import { StoreError } from '../../errors.js';
import { prefixSuccessor } from '../../keys.js';
import { LOG_DELIVER } from '../types.js';
import type {
  LogBatch,
  LogRecordInput,
  AccessKey,
  Account,
  Bucket,
  BucketConfigKind,
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
  TierChange,
  Upload,
  UploadPart,
  VersioningState,
  NewWork,
  WorkItem,
  WorkStats,
  WriteConditions,
  WriteOptions,
} from '../types.js';
import { ChangeFeed } from './changes.js';
import { Db, sessionSynchronousCommit } from './db.js';
import { PgIamStore, toAccessKey, type AccessKeyRow } from './iam.js';
import { PgObjects } from './objects.js';
import { keyBytes, toAccount, toBucket, toVersion, type AccountRow, type BucketRow, type ObjectRow } from './rows.js';
import { migrate } from './schema.js';
import { PgWork, recordWork } from './work.js';

export interface PgOptions {
  /** postgres://user:password@host:port/database (libpq-style parameters accepted by node-postgres). */
  url: string;
  /** Connections in this process's pool (default 10). */
  poolSize?: number;
  /** Called after a commit that released blobs (garbage to collect). */
  onGarbage?: () => void;
}

/** True for the URLs this store opens. */
export function isPostgresUrl(s: string): boolean {
  return /^postgres(ql)?:\/\//i.test(s);
}

/** The bucket's columns beside an object row's (getBucketWithLatest). */
interface BucketColumns {
  b_id: number;
  b_name: string;
  b_owner: string;
  b_created_at: number;
  b_region: string;
  b_versioning: string;
  b_object_lock: boolean;
}

const BUCKET_WITH_LATEST = `SELECT c.seq AS change_seq, b.id AS b_id, b.name AS b_name, b.owner AS b_owner, b.created_at AS b_created_at,
    b.region AS b_region, b.versioning AS b_versioning, b.object_lock AS b_object_lock, o.*
  FROM change_seq c LEFT JOIN buckets b ON b.name = $1
  LEFT JOIN LATERAL (SELECT * FROM objects WHERE bucket_id = b.id AND key = $2 ORDER BY vid DESC LIMIT 1) o ON true`;

/** Transactions that change what caches above the store hold tell every node's change feed. */
const NOTIFY = { notify: true };

export class PgMetaStore implements MetaStore {
  readonly iam: PgIamStore;
  private readonly objects: PgObjects;
  private readonly work: PgWork;
  private readonly changes: ChangeFeed;
  private readonly configs = new ConfigCache();
  private closed = false;

  static async open(opts: PgOptions): Promise<PgMetaStore> {
    // Durable on commit: 'on' (or stronger: remote_write, remote_apply; 'local' is durable here
    // too) is kept as configured, 'off' is overridden for this store's sessions.
    const forceSynchronousCommit = (await sessionSynchronousCommit(opts.url)) === 'off';
    const db = new Db({ url: opts.url, poolSize: opts.poolSize ?? 10, forceSynchronousCommit });
    try {
      const client = await db.pool.connect();
      try {
        await migrate(client);
      } finally {
        client.release();
      }
    } catch (e) {
      await db.close();
      throw e;
    }
    return new PgMetaStore(db, opts);
  }

  private constructor(
    /** The pool and statements (tests trace and EXPLAIN them). */
    readonly db: Db,
    opts: PgOptions,
  ) {
    this.objects = new PgObjects(db, opts.onGarbage);
    this.work = new PgWork(db);
    this.iam = new PgIamStore(db);
    this.changes = new ChangeFeed(opts.url, db.origin);
    this.changes.addInternal(() => this.configs.clear());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.changes.close();
    await this.db.close();
  }

  /**
   * Change feed for the caches above the store: called when another process or node has
   * committed a change to IAM, accounts, settings, buckets or their configurations (LISTEN/NOTIFY,
   * milliseconds after the commit; changes.ts has the argument).
   */
  onChange(listener: () => void): void {
    this.changes.add(listener);
  }

  /** Resolves once the change feed listens (tests). */
  changesReady(): Promise<void> {
    return this.changes.ready();
  }

  // ---------------------------------------------------------------- server access logs (src/logging/)

  /**
   * One transaction for all the records. Writers of one bucket's records queue on an advisory
   * lock, so concurrent nodes find the same open batch rather than each opening one; the open
   * batch's row is locked (FOR UPDATE), so a delivery closing it waits for the append or is
   * waited for (then the append opens a new batch).
   */
  async appendLogRecords(records: readonly LogRecordInput[], rollMs: number, now: number): Promise<LogBatch[]> {
    return this.db.tx(async (t) => {
      const opened: LogBatch[] = [];
      const open = new Map<string, number>();
      for (const bucketId of [...new Set(records.map((r) => r.bucketId))].sort((a, b) => a - b)) {
        await t.lockKey(bucketId, '\u0000server-access-log');
      }
      const byBatch = new Map<number, string[]>();
      for (const r of records) {
        const k = `${r.bucketId}\n${r.config}`;
        let id = open.get(k);
        if (id === undefined) {
          id = (
            await t.row<{ id: number }>(
              'SELECT id FROM log_batches WHERE bucket_id = $1 AND config = $2 AND NOT closed AND deadline > $3 ORDER BY id DESC LIMIT 1 FOR UPDATE',
              [r.bucketId, r.config, now],
            )
          )?.id;
          if (id === undefined) {
            id = Number((await t.row<{ id: number }>('INSERT INTO log_batches (bucket_id, config, opened_at, deadline) VALUES ($1, $2, $3, $4) RETURNING id', [r.bucketId, r.config, now, now + rollMs]))!.id);
            // Its delivery, in the same transaction (the engine's outbox).
            await recordWork(t, [{ kind: LOG_DELIVER, payload: { batchId: id }, notBefore: now + rollMs, dedupeKey: `${LOG_DELIVER}:${id}` }]);
            opened.push({ id, bucketId: r.bucketId, config: r.config, openedAt: now, deadline: now + rollMs });
          }
          open.set(k, id);
        }
        let lines = byBatch.get(id);
        if (!lines) byBatch.set(id, (lines = []));
        lines.push(r.line);
      }
      for (const [id, lines] of byBatch) {
        await t.run('INSERT INTO log_records (batch_id, line) SELECT $1, unnest($2::text[])', [id, lines]);
      }
      return opened;
    });
  }

  async dueLogBatches(now: number, limit: number): Promise<LogBatch[]> {
    const rows = await this.db.rows<{ id: number; bucket_id: number; config: string; opened_at: number; deadline: number }>(
      'SELECT id, bucket_id, config, opened_at, deadline FROM log_batches WHERE deadline <= $1 ORDER BY deadline, id LIMIT $2',
      [now, limit],
    );
    return rows.map((r) => ({ id: Number(r.id), bucketId: Number(r.bucket_id), config: r.config, openedAt: Number(r.opened_at), deadline: Number(r.deadline) }));
  }

  async takeLogBatch(id: number): Promise<{ batch: LogBatch; lines: string[] } | undefined> {
    return this.db.tx(async (t) => {
      const r = await t.row<{ id: number; bucket_id: number; config: string; opened_at: number; deadline: number }>(
        'SELECT id, bucket_id, config, opened_at, deadline FROM log_batches WHERE id = $1 FOR UPDATE',
        [id],
      );
      if (!r) return undefined;
      await t.run('UPDATE log_batches SET closed = true WHERE id = $1', [id]);
      const lines = (await t.rows<{ line: string }>('SELECT line FROM log_records WHERE batch_id = $1 ORDER BY seq', [id])).map((l) => l.line);
      return { batch: { id: Number(r.id), bucketId: Number(r.bucket_id), config: r.config, openedAt: Number(r.opened_at), deadline: Number(r.deadline) }, lines };
    });
  }

  async deleteLogBatch(id: number): Promise<void> {
    await this.db.tx(async (t) => {
      await t.run('DELETE FROM log_records WHERE batch_id = $1', [id]);
      await t.run('DELETE FROM log_batches WHERE id = $1', [id]);
    });
  }

  // ---------------------------------------------------------------- leases on background jobs

  /**
   * Takes the lease for `holder` until now + ttlMs if it is free, expired or already the holder's.
   * "Now" is the database server's clock, the one clock every node shares. Durable when answered.
   */
  async tryLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const changed = await this.db.tx((t) =>
      t.run(
        `WITH now AS (SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS ms)
         INSERT INTO leases (name, holder, expires) SELECT $1, $2, now.ms + $3 FROM now
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires = excluded.expires
         WHERE leases.holder = excluded.holder OR leases.expires <= (SELECT ms FROM now)`,
        [name, holder, ttlMs],
      ),
    );
    return changed === 1;
  }

  /** Gives the lease up if `holder` holds it, so another may take it at once. */
  async releaseLease(name: string, holder: string): Promise<void> {
    await this.db.tx((t) => t.run('DELETE FROM leases WHERE name = $1 AND holder = $2', [name, holder]));
  }

  // ---------------------------------------------------------------- settings, accounts and keys

  // quotas and usage (quota.ts)
  getQuota(scope: QuotaScope, id: string): Promise<Quota | undefined> {
    return quota.getQuota(this.db, scope, id);
  }
  setQuota(scope: QuotaScope, id: string, q: Quota | undefined): Promise<void> {
    return quota.setQuota(this.db, scope, id, q);
  }
  getUsage(scope: QuotaScope, id: string): Promise<Usage> {
    return quota.getUsage(this.db, scope, id);
  }

  // usage reports (usage.ts)
  addUsageRequests(rows: readonly UsageRequestRow[]): Promise<void> {
    return usage.addUsageRequests(this.db, rows);
  }
  snapshotUsageStorage(hour: number): Promise<number> {
    return usage.snapshotUsageStorage(this.db, hour);
  }
  listUsage(filter: UsageFilter): Promise<UsageRows> {
    return usage.listUsage(this.db, filter);
  }
  pruneUsage(before: number): Promise<number> {
    return usage.pruneUsage(this.db, before);
  }

  async getSetting(name: string): Promise<string | undefined> {
    return (await this.db.row<{ value: string }>('SELECT value FROM settings WHERE name = $1', [name]))?.value;
  }

  async putSetting(name: string, value: string): Promise<void> {
    await this.db.tx((t) => t.run('INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value', [name, value]), NOTIFY);
  }

  async initSetting(name: string, value: string): Promise<string> {
    return this.db.tx(async (t) => {
      // Waits for a concurrent insert of the same name; the SELECT then sees whichever won.
      await t.run('INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, value]);
      return (await t.row<{ value: string }>('SELECT value FROM settings WHERE name = $1', [name]))!.value;
    }, NOTIFY);
  }

  async getAccessKey(accessKeyId: string): Promise<AccessKey | undefined> {
    const r = await this.db.row<AccessKeyRow>('SELECT * FROM access_keys WHERE access_key_id = $1', [accessKeyId]);
    return r && toAccessKey(r);
  }

  async getAccount(canonicalId: string): Promise<Account | undefined> {
    const r = await this.db.row<AccountRow>('SELECT * FROM accounts WHERE id = $1', [canonicalId]);
    return r && toAccount(r);
  }

  async getAccountById(accountId: string): Promise<Account | undefined> {
    const r = await this.db.row<AccountRow>('SELECT * FROM accounts WHERE account_id = $1', [accountId]);
    return r && toAccount(r);
  }

  async putAccount(a: Account): Promise<void> {
    await this.db.tx(async (t) => {
      // The unique index on account_id settles a race between two nodes; this check words it.
      const other = await t.row<AccountRow>('SELECT * FROM accounts WHERE account_id = $1', [a.accountId]);
      if (other && other.id !== a.id) throw new Error(`account id ${a.accountId} belongs to another account`);
      await t.run(
        `INSERT INTO accounts (id, display_name, created_at, account_id, email) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name, email = excluded.email`,
        [a.id, a.displayName, a.createdAt, a.accountId, a.email ?? null],
      );
    }, NOTIFY);
  }

  async putAccessKey(k: AccessKey): Promise<void> {
    await this.db.tx((t) =>
      t.run(
        `INSERT INTO access_keys (access_key_id, secret, user_id, created_at, iam_user_id, status) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (access_key_id) DO UPDATE SET secret = excluded.secret, user_id = excluded.user_id, iam_user_id = excluded.iam_user_id, status = excluded.status`,
        [k.accessKeyId, k.secretAccessKey, k.userId, k.createdAt, k.iamUserId ?? null, k.status ?? 'Active'],
      ),
      NOTIFY,
    );
  }

  async listAccounts(): Promise<Account[]> {
    return (await this.db.rows<AccountRow>('SELECT * FROM accounts ORDER BY display_name COLLATE "C", id COLLATE "C"')).map(toAccount);
  }

  // ---------------------------------------------------------------- buckets

  async createBucket(b: Omit<Bucket, 'id'>): Promise<Bucket> {
    return this.db.tx(async (t) => {
      // Ordered with a quota change of the owner account (quota.ts setQuota).
      t.lockDomain(quota.accountQuotaDomain(b.owner));
      const r = await t.row<{ id: number }>(
        'INSERT INTO buckets (name, owner, created_at, region, versioning, object_lock) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING RETURNING id',
        [b.name, b.owner, b.createdAt, b.region, b.versioning, b.objectLock],
      );
      if (r) return { ...b, id: r.id };
      const existing = await t.row<BucketRow>('SELECT * FROM buckets WHERE name = $1', [b.name]);
      throw new StoreError(existing?.owner === b.owner ? 'BucketAlreadyOwnedByYou' : 'BucketAlreadyExists', { bucket: b.name });
    }, NOTIFY);
  }

  /** Also reads the change sequence (changes.ts): once per request, in the same round trip. */
  async getBucket(name: string): Promise<Bucket | undefined> {
    const r = await this.db.row<BucketRow & { change_seq: number }>(
      'SELECT c.seq AS change_seq, b.* FROM change_seq c LEFT JOIN buckets b ON b.name = $1',
      [name],
    );
    if (!r) return undefined;
    this.changes.seen(r.change_seq, this.db.ownChanges);
    return r.id === null ? undefined : toBucket(r);
  }

  /** getBucket and the latest version of `key` in one statement (one round trip for a GET). */
  async getBucketWithLatest(name: string, key: string): Promise<{ bucket: Bucket; latest: ObjectVersion | undefined } | undefined> {
    const r = await this.db.row<ObjectRow & BucketColumns & { change_seq: number }>(BUCKET_WITH_LATEST, [name, keyBytes(key)]);
    if (!r) return undefined;
    this.changes.seen(r.change_seq, this.db.ownChanges);
    if (r.b_id === null) return undefined;
    const bucket = toBucket({ id: r.b_id, name: r.b_name, owner: r.b_owner, created_at: r.b_created_at, region: r.b_region, versioning: r.b_versioning, object_lock: r.b_object_lock });
    return { bucket, latest: r.id === null ? undefined : toVersion(r) };
  }

  async listBuckets(owner: string | undefined, opts: { prefix?: string; after?: string; limit: number }): Promise<Bucket[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (v: unknown) => {
      args.push(v);
      return `$${args.length}`;
    };
    if (owner !== undefined) where.push(`owner = ${add(owner)}`);
    const prefix = opts.prefix ?? '';
    if (prefix) {
      where.push(`name >= ${add(prefix)}`);
      const end = prefixSuccessor(prefix);
      if (end !== undefined) where.push(`name < ${add(end)}`);
    }
    if (opts.after !== undefined) where.push(`name > ${add(opts.after)}`);
    const sql = `SELECT * FROM buckets ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY name LIMIT ${add(opts.limit)}`;
    return (await this.db.rows<BucketRow>(sql, args)).map(toBucket);
  }

  async deleteBucket(bucketId: number): Promise<void> {
    await this.objects.write(async (t) => {
      // FOR UPDATE waits for every write in flight in the bucket (they hold FOR KEY SHARE) and
      // keeps new ones out until the bucket is gone.
      const b = await t.row<BucketRow>('SELECT * FROM buckets WHERE id = $1 FOR UPDATE', [bucketId]);
      if (!b) throw new StoreError('NoSuchBucket');
      if (await t.row('SELECT 1 FROM objects WHERE bucket_id = $1 LIMIT 1', [bucketId])) throw new StoreError('BucketNotEmpty', { bucket: b.name });
      // Incomplete multipart uploads do not keep a bucket alive (as in S3): they are aborted.
      for (const u of await t.rows<{ upload_id: string }>('SELECT upload_id FROM uploads WHERE bucket_id = $1 FOR UPDATE', [bucketId])) await this.objects.dropUpload(t, u.upload_id);
      await t.run('DELETE FROM bucket_configs WHERE bucket_id = $1', [bucketId]);
      await t.run('DELETE FROM completed_uploads WHERE bucket_id = $1', [bucketId]);
      await t.run('DELETE FROM buckets WHERE id = $1', [bucketId]);
    }, NOTIFY);
    this.configs.forget(bucketId);
  }

  async setVersioning(bucketId: number, state: VersioningState): Promise<void> {
    await this.db.tx(async (t) => {
      const b = await t.row<BucketRow>('SELECT * FROM buckets WHERE id = $1 FOR NO KEY UPDATE', [bucketId]);
      if (!b) throw new StoreError('NoSuchBucket');
      if (b.object_lock && state !== 'Enabled') {
        throw new StoreError('InvalidBucketState', { bucket: b.name, reason: 'object-lock-present' });
      }
      await t.run('UPDATE buckets SET versioning = $1 WHERE id = $2', [state, bucketId]);
    }, NOTIFY);
  }

  async enableObjectLock(bucketId: number): Promise<void> {
    await this.db.tx(async (t) => {
      const b = await t.row<BucketRow>('SELECT * FROM buckets WHERE id = $1 FOR NO KEY UPDATE', [bucketId]);
      if (!b) throw new StoreError('NoSuchBucket');
      if (b.versioning !== 'Enabled') throw new StoreError('InvalidBucketState', { bucket: b.name, reason: 'versioning-not-enabled' });
      await t.run('UPDATE buckets SET object_lock = true WHERE id = $1', [bucketId]);
    }, NOTIFY);
  }

  async getBucketConfig(bucketId: number, kind: BucketConfigKind): Promise<string | undefined> {
    const hit = this.configs.get(bucketId, kind);
    if (hit) return hit.value;
    const generation = this.configs.generation;
    const value = (await this.db.row<{ value: string }>('SELECT value FROM bucket_configs WHERE bucket_id = $1 AND kind = $2', [bucketId, kind]))?.value;
    this.configs.set(generation, bucketId, kind, value);
    return value;
  }

  async putBucketConfig(bucketId: number, kind: BucketConfigKind, value: string | undefined): Promise<void> {
    try {
      await this.db.tx((t) =>
        value === undefined
          ? t.run('DELETE FROM bucket_configs WHERE bucket_id = $1 AND kind = $2', [bucketId, kind])
          : t.run('INSERT INTO bucket_configs (bucket_id, kind, value) VALUES ($1, $2, $3) ON CONFLICT (bucket_id, kind) DO UPDATE SET value = excluded.value', [
              bucketId,
              kind,
              value,
            ]),
        NOTIFY,
      );
    } finally {
      // After the commit (or its failure: the outcome may be unknown): what a load in flight read
      // may be older, and is not kept (ConfigCache).
      this.configs.forget(bucketId);
    }
  }

  // ---------------------------------------------------------------- objects and uploads (objects.ts)

  getObject(bucketId: number, key: string, versionId?: string): Promise<ObjectVersion | undefined> {
    return this.objects.getObject(bucketId, key, versionId);
  }
  getObjectParts(rowId: number, fromPart?: number, limit?: number): Promise<ObjectPart[]> {
    return this.objects.getObjectParts(rowId, fromPart, limit);
  }
  putObject(bucketId: number, key: string, content: ObjectContent, conditions?: WriteConditions, opts?: WriteOptions): Promise<PutResult> {
    return this.objects.putObject(bucketId, key, content, conditions, opts);
  }
  deleteObject(bucketId: number, key: string, opts: DeleteOptions): Promise<DeleteResult> {
    return this.objects.deleteObject(bucketId, key, opts);
  }
  updateObject(
    bucketId: number,
    key: string,
    versionId: string | undefined,
    patch: Partial<Pick<ObjectContent, 'tags' | 'retention' | 'legalHold' | 'acl'>>,
    check?: (current: ObjectVersion) => void,
    opts?: WriteOptions,
  ): Promise<ObjectVersion> {
    return this.objects.updateObject(bucketId, key, versionId, patch, check, opts);
  }
  updateTier(bucketId: number, key: string, versionId: string, rowId: number, change: (v: ObjectVersion) => TierChange | undefined): Promise<ObjectVersion | undefined> {
    return this.objects.updateTier(bucketId, key, versionId, rowId, change);
  }
  listObjects(bucketId: number, q: ListObjectsQuery): Promise<ListedObject[]> {
    return this.objects.listObjects(bucketId, q);
  }
  listVersions(bucketId: number, q: ListVersionsQuery): Promise<ListedObject[]> {
    return this.objects.listVersions(bucketId, q);
  }
  createUpload(u: Upload): Promise<void> {
    return this.objects.createUpload(u);
  }
  getUpload(bucketId: number, uploadId: string): Promise<Upload | undefined> {
    return this.objects.getUpload(bucketId, uploadId);
  }
  putPart(bucketId: number, uploadId: string, part: UploadPart): Promise<void> {
    return this.objects.putPart(bucketId, uploadId, part);
  }
  listParts(uploadId: string, afterPart: number, limit: number): Promise<UploadPart[]> {
    return this.objects.listParts(uploadId, afterPart, limit);
  }
  listUploads(bucketId: number, q: ListUploadsQuery): Promise<Upload[]> {
    return this.objects.listUploads(bucketId, q);
  }
  abortUpload(bucketId: number, uploadId: string, opts?: WriteOptions): Promise<void> {
    return this.objects.abortUpload(bucketId, uploadId, opts);
  }
  completeUpload(
    bucketId: number,
    uploadId: string,
    content: ObjectContent,
    completion: Omit<CompletedUpload, 'versionId'>,
    conditions?: WriteConditions,
    opts?: WriteOptions,
  ): Promise<PutResult> {
    return this.objects.completeUpload(bucketId, uploadId, content, completion, conditions, opts);
  }
  getCompletedUpload(bucketId: number, uploadId: string): Promise<CompletedUpload | undefined> {
    return this.objects.getCompletedUpload(bucketId, uploadId);
  }
  takeGarbage(limit: number, releasedBefore?: number): Promise<string[]> {
    return this.objects.takeGarbage(limit, releasedBefore);
  }
  forgetBlobs(blobIds: string[]): Promise<void> {
    return this.objects.forgetBlobs(blobIds);
  }
  hasBlob(blobId: string): Promise<boolean> {
    return this.objects.hasBlob(blobId);
  }

  // ---------------------------------------------------------------- the work queue (work.ts)

  enqueueWork(items: NewWork[]): Promise<number[]> {
    return this.work.enqueueWork(items);
  }
  claimWork(kinds: string[], holder: string, limit: number, leaseMs: number): Promise<WorkItem[]> {
    return this.work.claimWork(kinds, holder, limit, leaseMs);
  }
  renewWork(ids: number[], holder: string, leaseMs: number): Promise<number[]> {
    return this.work.renewWork(ids, holder, leaseMs);
  }
  completeWork(ids: number[]): Promise<void> {
    return this.work.completeWork(ids);
  }
  retryWork(id: number, error: string, notBefore: number): Promise<void> {
    return this.work.retryWork(id, error, notBefore);
  }
  workStats(): Promise<WorkStats> {
    return this.work.workStats();
  }
  listWork(kind: string, afterId: number, limit: number): Promise<WorkItem[]> {
    return this.work.listWork(kind, afterId, limit);
  }
}

/**
 * Bucket configurations (policy, ACL, ownership, encryption, CORS, …), read by many requests (a
 * PUT reads the default encryption), kept per (bucket, kind), with no expiry.
 *
 * Correctness argument (strong read-after-write across processes and nodes). Every transaction
 * that changes a configuration (putBucketConfig, deleteBucket) increments change_seq and notifies,
 * in the transaction (db.ts). A request reads its bucket before anything else of it, and that
 * read returns the change sequence too (getBucket, the same statement); ChangeFeed.seen() clears
 * this cache before getBucket returns when the sequence moved by a change that was not this
 * store's own. So a request that begins after a change was acknowledged — by any node — reads the
 * sequence after that commit, and finds the cache cleared of everything loaded before it. A load
 * that raced a change (sent before the commit, answered after the clear) could hold the old
 * value: loads remember the generation they began in, and every clear and forget bumps it, so such
 * a load is returned to its own request but not kept. This store's own changes forget their
 * bucket's entries once committed (with the same generation rule), so the writing node reads its
 * own writes too. Notifications (LISTEN) clear the cache as well, which only makes it sooner.
 */
class ConfigCache {
  private readonly entries = new Map<number, Map<BucketConfigKind, string | undefined>>();
  /** Bumped by every clear and forget: a load that overlapped one is not kept. */
  generation = 0;

  get(bucketId: number, kind: BucketConfigKind): { value: string | undefined } | undefined {
    const m = this.entries.get(bucketId);
    return m && m.has(kind) ? { value: m.get(kind) } : undefined;
  }

  /** Keeps what a load that began in `generation` read, unless the cache changed meanwhile. */
  set(generation: number, bucketId: number, kind: BucketConfigKind, value: string | undefined): void {
    if (generation !== this.generation) return;
    let m = this.entries.get(bucketId);
    if (!m) {
      if (this.entries.size >= 10_000) this.entries.clear();
      m = new Map();
      this.entries.set(bucketId, m);
    }
    m.set(kind, value);
  }

  forget(bucketId: number): void {
    this.generation++;
    this.entries.delete(bucketId);
  }

  clear(): void {
    this.generation++;
    this.entries.clear();
  }
}
