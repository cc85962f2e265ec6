// SQLite implementation of MetaStore (the embedded default).
//
// One connection on the main thread runs every transaction synchronously (they take microseconds);
// the group commit (commit.ts) makes each write durable with a shared, off-thread fdatasync before
// it is acknowledged; a worker thread (checkpointer.ts) checkpoints the WAL. Keys are TEXT with
// the BINARY collation, i.e. compared as UTF-8 bytes.
//
// This class is the thin part: it opens the database and delegates each method to the module of
// its area (accounts, buckets, objects, uploads, blobs; iam.ts for IamStore). Rules a second
// store shares live in ../common/.

import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { DIR_MODE, FILE_MODE } from '../../datadir.js';
import type {
  LogBatch,
  LogRecordInput,
  Quota,
  QuotaScope,
  Usage,
  UsageFilter,
  UsageRequestRow,
  UsageRows,
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
import * as accounts from './accounts.js';
import * as blobs from './blobs.js';
import * as buckets from './buckets.js';
import { BucketCache, ForeignWrites, LatestCache } from './cache.js';
import type { CheckpointerMessage } from './checkpointer.js';
import { BUSY_TIMEOUT_MS, GroupCommit } from './commit.js';
import type { Ctx } from './context.js';
import { WalBarrier, fsyncDir } from '../../durability.js';
import { SqliteIamStore } from './iam.js';
import * as leases from './leases.js';
import * as logs from './logs.js';
import * as objects from './objects.js';
import * as quota from './quota.js';
import * as usage from './usage.js';
import { SCHEMA_VERSION, migrate } from './schema.js';
import { prepareStatements } from './statements.js';
import * as uploads from './uploads.js';
import * as work from './work.js';

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
  /**
   * Other processes use the file at the same time (worker processes; `trove admin`). Commits are
   * then synced before they become visible (synchronous=FULL, see GroupCommit), and a busy
   * write lock is waited for without blocking the event loop.
   */
  shared?: boolean;
}

/** How often the caches above the store learn of other processes' commits at the latest (ms). */
const FOREIGN_CHECK_MS = 100;

export class SqliteMetaStore implements MetaStore {
  private readonly db: Database.Database;
  private readonly barrier: WalBarrier | undefined;
  private readonly checkpointer: Worker;
  private readonly commit: GroupCommit;
  private readonly c: Ctx;
  private closed = false;
  readonly iam: SqliteIamStore;
  private readonly changeListeners: Array<() => void> = [];
  private readonly foreign: ForeignWrites;
  private readonly foreignTimer: NodeJS.Timeout;

  /** See MetaStore.onChange: called when another process has committed to the file. */
  onChange(listener: () => void): void {
    this.changeListeners.push(listener);
  }

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
    // Shared: FULL syncs the WAL inside COMMIT, before the commit is published to other
    // connections (the wal-index is updated after the sync), so no process ever reads a write a
    // crash could take away. Alone: NORMAL, and the group commit syncs off the event loop while
    // this process's reads wait for that sync (GroupCommit.unsynced).
    this.db.pragma(`synchronous = ${opts.fsync ? (opts.shared ? 'FULL' : 'NORMAL') : 'OFF'}`);
    this.db.pragma('wal_autocheckpoint = 0');
    this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    this.db.pragma('cache_size = -65536');
    this.db.pragma('temp_store = MEMORY');
    const version = migrate(this.db);
    if (version !== SCHEMA_VERSION) throw new Error(`metadata schema version ${version} is not supported by this Trove (expects ${SCHEMA_VERSION})`);
    const stmt = prepareStatements(this.db);
    this.barrier = opts.fsync && !opts.shared ? new WalBarrier(file + '-wal') : undefined;
    this.commit = new GroupCommit(this.db, stmt, this.barrier, {
      onGarbage: () => this.opts.onGarbage?.(),
      onFatal: (e) => this.opts.onFatal?.(e),
      onFull: () => this.opts.onFull?.(),
    }, opts.shared ?? false);
    const bucketCache = new BucketCache();
    const latestCache = new LatestCache();
    const listeners = this.changeListeners;
    const foreign = new ForeignWrites(this.db, (what) => {
      latestCache.clear();
      if (what === 'objects') return;
      bucketCache.clear();
      for (const l of listeners) l();
    }, opts.shared ?? false);
    this.foreign = foreign;
    this.commit.onOwnChange = (seq) => foreign.ownChange(seq);
    // Foreign writes are checked before every cached read here, and at least every
    // FOREIGN_CHECK_MS for the caches above the store (IAM, policies): their window.
    this.foreignTimer = setInterval(() => {
      if (!this.closed) foreign.check();
    }, FOREIGN_CHECK_MS).unref();
    const stmtCache = new Map<string, Database.Statement>();
    const db = this.db;
    this.c = {
      db,
      stmt,
      commit: this.commit,
      buckets: bucketCache,
      latest: latestCache,
      foreign,
      effects: { removed: undefined },
      cached(sql: string): Database.Statement {
        let s = stmtCache.get(sql);
        if (!s) {
          s = db.prepare(sql);
          stmtCache.set(sql, s);
        }
        return s;
      },
    };
    // IAM shares the connection and the group commit: its writes are batched and synced with
    // every other, its reads wait for the sync in progress like every other.
    const commit = this.commit;
    this.iam = new SqliteIamStore(this.db, {
      read: async <T>(fn: () => T): Promise<T> => {
        if (commit.unsynced) await commit.unsynced;
        return fn();
      },
      write: <T>(fn: () => T): Promise<T> => commit.write(fn),
    });
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

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.foreignTimer);
    await this.commit.close();
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

  // ---------------------------------------------------------------- quotas and usage (quota.ts)

  getQuota(scope: QuotaScope, id: string): Promise<Quota | undefined> {
    return quota.getQuota(this.c, scope, id);
  }
  setQuota(scope: QuotaScope, id: string, q: Quota | undefined): Promise<void> {
    return quota.setQuota(this.c, scope, id, q);
  }
  getUsage(scope: QuotaScope, id: string): Promise<Usage> {
    return quota.getUsage(this.c, scope, id);
  }

  // ---------------------------------------------------------------- usage reports (usage.ts)

  addUsageRequests(rows: readonly UsageRequestRow[]): Promise<void> {
    return usage.addUsageRequests(this.c, rows);
  }
  snapshotUsageStorage(hour: number): Promise<number> {
    return usage.snapshotUsageStorage(this.c, hour);
  }
  listUsage(filter: UsageFilter): Promise<UsageRows> {
    return usage.listUsage(this.c, filter);
  }
  pruneUsage(before: number): Promise<number> {
    return usage.pruneUsage(this.c, before);
  }

  // ---------------------------------------------------------------- settings, accounts and keys (accounts.ts)

  getSetting(name: string): Promise<string | undefined> {
    return accounts.getSetting(this.c, name);
  }
  putSetting(name: string, value: string): Promise<void> {
    return accounts.putSetting(this.c, name, value);
  }
  initSetting(name: string, value: string): Promise<string> {
    return accounts.initSetting(this.c, name, value);
  }
  getAccessKey(accessKeyId: string): Promise<AccessKey | undefined> {
    return accounts.getAccessKey(this.c, accessKeyId);
  }
  getAccount(canonicalId: string): Promise<Account | undefined> {
    return accounts.getAccount(this.c, canonicalId);
  }
  getAccountById(accountId: string): Promise<Account | undefined> {
    return accounts.getAccountById(this.c, accountId);
  }
  putAccount(a: Account): Promise<void> {
    return accounts.putAccount(this.c, a);
  }
  putAccessKey(k: AccessKey): Promise<void> {
    return accounts.putAccessKey(this.c, k);
  }
  listAccounts(): Promise<Account[]> {
    return accounts.listAccounts(this.c);
  }

  // ---------------------------------------------------------------- buckets (buckets.ts)

  createBucket(b: Omit<Bucket, 'id'>): Promise<Bucket> {
    return buckets.createBucket(this.c, b);
  }
  getBucket(name: string): Promise<Bucket | undefined> {
    return buckets.getBucket(this.c, name);
  }
  listBuckets(owner: string | undefined, opts: { prefix?: string; after?: string; limit: number }): Promise<Bucket[]> {
    return buckets.listBuckets(this.c, owner, opts);
  }
  deleteBucket(bucketId: number): Promise<void> {
    return buckets.deleteBucket(this.c, bucketId);
  }
  setVersioning(bucketId: number, state: VersioningState): Promise<void> {
    return buckets.setVersioning(this.c, bucketId, state);
  }
  enableObjectLock(bucketId: number): Promise<void> {
    return buckets.enableObjectLock(this.c, bucketId);
  }
  getBucketConfig(bucketId: number, kind: BucketConfigKind): Promise<string | undefined> {
    return buckets.getBucketConfig(this.c, bucketId, kind);
  }
  putBucketConfig(bucketId: number, kind: BucketConfigKind, value: string | undefined): Promise<void> {
    return buckets.putBucketConfig(this.c, bucketId, kind, value);
  }

  // ---------------------------------------------------------------- objects (objects.ts)

  getObject(bucketId: number, key: string, versionId?: string): Promise<ObjectVersion | undefined> {
    return objects.getObject(this.c, bucketId, key, versionId);
  }
  getObjectParts(rowId: number, fromPart?: number, limit?: number): Promise<ObjectPart[]> {
    return objects.getObjectParts(this.c, rowId, fromPart, limit);
  }
  putObject(bucketId: number, key: string, content: ObjectContent, conditions?: WriteConditions, opts?: WriteOptions): Promise<PutResult> {
    return objects.putObject(this.c, bucketId, key, content, conditions, opts);
  }
  deleteObject(bucketId: number, key: string, opts: DeleteOptions): Promise<DeleteResult> {
    return objects.deleteObject(this.c, bucketId, key, opts);
  }
  updateObject(
    bucketId: number,
    key: string,
    versionId: string | undefined,
    patch: Partial<Pick<ObjectContent, 'tags' | 'retention' | 'legalHold' | 'acl'>>,
    check?: (current: ObjectVersion) => void,
    opts?: WriteOptions,
  ): Promise<ObjectVersion> {
    return objects.updateObject(this.c, bucketId, key, versionId, patch, check, opts);
  }
  updateTier(bucketId: number, key: string, versionId: string, rowId: number, change: (v: ObjectVersion) => TierChange | undefined): Promise<ObjectVersion | undefined> {
    return objects.updateTier(this.c, bucketId, key, versionId, rowId, change);
  }
  listObjects(bucketId: number, q: ListObjectsQuery): Promise<ListedObject[]> {
    return objects.listObjects(this.c, bucketId, q);
  }
  listVersions(bucketId: number, q: ListVersionsQuery): Promise<ListedObject[]> {
    return objects.listVersions(this.c, bucketId, q);
  }

  // ---------------------------------------------------------------- multipart uploads (uploads.ts)

  createUpload(u: Upload): Promise<void> {
    return uploads.createUpload(this.c, u);
  }
  getUpload(bucketId: number, uploadId: string): Promise<Upload | undefined> {
    return uploads.getUpload(this.c, bucketId, uploadId);
  }
  putPart(bucketId: number, uploadId: string, part: UploadPart): Promise<void> {
    return uploads.putPart(this.c, bucketId, uploadId, part);
  }
  listParts(uploadId: string, afterPart: number, limit: number): Promise<UploadPart[]> {
    return uploads.listParts(this.c, uploadId, afterPart, limit);
  }
  listUploads(bucketId: number, q: ListUploadsQuery): Promise<Upload[]> {
    return uploads.listUploads(this.c, bucketId, q);
  }
  abortUpload(bucketId: number, uploadId: string, opts?: WriteOptions): Promise<void> {
    return uploads.abortUpload(this.c, bucketId, uploadId, opts);
  }
  completeUpload(
    bucketId: number,
    uploadId: string,
    content: ObjectContent,
    completion: Omit<CompletedUpload, 'versionId'>,
    conditions?: WriteConditions,
    opts?: WriteOptions,
  ): Promise<PutResult> {
    return uploads.completeUpload(this.c, bucketId, uploadId, content, completion, conditions, opts);
  }
  getCompletedUpload(bucketId: number, uploadId: string): Promise<CompletedUpload | undefined> {
    return uploads.getCompletedUpload(this.c, bucketId, uploadId);
  }

  // ---------------------------------------------------------------- blob garbage (blobs.ts)

  takeGarbage(limit: number, releasedBefore?: number): Promise<string[]> {
    return blobs.takeGarbage(this.c, limit, releasedBefore);
  }
  forgetBlobs(blobIds: string[]): Promise<void> {
    return blobs.forgetBlobs(this.c, blobIds);
  }
  hasBlob(blobId: string): Promise<boolean> {
    return blobs.hasBlob(this.c, blobId);
  }

  // ---------------------------------------------------------------- leases (leases.ts)

  tryLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    return leases.tryLease(this.c, name, holder, ttlMs);
  }
  releaseLease(name: string, holder: string): Promise<void> {
    return leases.releaseLease(this.c, name, holder);
  }

  // ---------------------------------------------------------------- server access logs (logs.ts)

  appendLogRecords(records: readonly LogRecordInput[], rollMs: number, now: number): Promise<LogBatch[]> {
    return logs.appendLogRecords(this.c, records, rollMs, now);
  }
  dueLogBatches(now: number, limit: number): Promise<LogBatch[]> {
    return logs.dueLogBatches(this.c, now, limit);
  }
  takeLogBatch(id: number): Promise<{ batch: LogBatch; lines: string[] } | undefined> {
    return logs.takeLogBatch(this.c, id);
  }
  deleteLogBatch(id: number): Promise<void> {
    return logs.deleteLogBatch(this.c, id);
  }

  // ---------------------------------------------------------------- the work queue (work.ts)

  enqueueWork(items: NewWork[]): Promise<number[]> {
    return work.enqueueWork(this.c, items);
  }
  claimWork(kinds: string[], holder: string, limit: number, leaseMs: number): Promise<WorkItem[]> {
    return work.claimWork(this.c, kinds, holder, limit, leaseMs);
  }
  renewWork(ids: number[], holder: string, leaseMs: number): Promise<number[]> {
    return work.renewWork(this.c, ids, holder, leaseMs);
  }
  completeWork(ids: number[]): Promise<void> {
    return work.completeWork(this.c, ids);
  }
  retryWork(id: number, error: string, notBefore: number): Promise<void> {
    return work.retryWork(this.c, id, error, notBefore);
  }
  workStats(): Promise<WorkStats> {
    return work.workStats(this.c);
  }
  listWork(kind: string, afterId: number, limit: number): Promise<WorkItem[]> {
    return work.listWork(this.c, kind, afterId, limit);
  }
}
