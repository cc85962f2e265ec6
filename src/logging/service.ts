// Server access logs: records of requests to buckets with logging on, kept durably in the
// metadata store and delivered, in batches, as log objects to each configuration's target bucket.
//
// The guarantee. A request's record is committed to the metadata store before the response's
// status line is sent (http/server.ts calls append() from the response writer's one hook): a
// client that saw a response can count on its record, whatever happens to the server after.
// Records of concurrent requests share one transaction and one sync (below, and the SQLite
// store's group commit). A batch is one source bucket's records under one configuration from its
// first record for --log-roll-seconds; then it is delivered as one object whose key is fixed by
// the batch (logging/keys.ts), and deleted: a `log.deliver` work item of the engine (src/engine/),
// recorded in the transaction that opened the batch. A delivery interrupted by a crash is done
// again (the engine claims the item again) and writes the same key with the same records: at least
// once, never a duplicate object; a failing one is retried with backoff. A delivery the target refuses (the bucket is gone, another owner now, its policy or ACL
// no longer allows logging.s3.amazonaws.com) drops the batch, as S3 does.

import type { Logger } from 'pino';
import type { App } from '../app.js';
import { mayDeliverLogs } from '../authz/logDelivery.js';
import { serializeAcl, canonicalUser, type Acl } from '../authz/acl/index.js';
import type { LoggingConfig } from '../s3/bucket/config/logging.js';
import { discardBlob, storeBytes } from '../s3/object/ingest.js';
import { LOG_DELIVER, type Bucket, type LogBatch, type LogRecordInput, type ObjectContent } from '../store/meta/types.js';
import { logObjectKey } from './keys.js';

/** What a batch is delivered by: the source bucket as it was, and the configuration in force. */
interface BatchConfig {
  source: { id: number; name: string; owner: string; region: string };
  logging: LoggingConfig;
}

/** A delivery's claim: a crashed process's delivery is taken up again this long after. */
const LEASE_MS = 15_000;
/** Records appended in one transaction at most. */
const MAX_APPEND = 2000;

interface Pending {
  record: LogRecordInput;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class ServerAccessLogs {
  private pending: Pending[] = [];
  private flushing = false;
  /** The batch key of each configuration object the cache hands out (one JSON per configuration). */
  private readonly keys = new WeakMap<LoggingConfig, string>();
  private stopped = false;
  private readonly log: Logger;

  constructor(
    private readonly app: App,
    private readonly opts: { rollMs: number },
  ) {
    this.log = app.log;
  }

  /** The batch configuration string of a bucket's logging configuration (cached per object). */
  private batchConfig(bucket: Bucket, logging: LoggingConfig): string {
    let k = this.keys.get(logging);
    if (k === undefined) {
      const c: BatchConfig = { source: { id: bucket.id, name: bucket.name, owner: bucket.owner, region: bucket.region }, logging };
      k = JSON.stringify(c);
      this.keys.set(logging, k);
    }
    return k;
  }

  /** Commits one record of a request to `bucket` (whose logging configuration is `logging`). */
  append(bucket: Bucket, logging: LoggingConfig, line: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ record: { bucketId: bucket.id, config: this.batchConfig(bucket, logging), line }, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  /** Appends what is pending in one transaction; what comes meanwhile waits for the next one. */
  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, MAX_APPEND);
        try {
          const opened = await this.app.meta.appendLogRecords(
            batch.map((p) => p.record),
            this.opts.rollMs,
            Date.now(),
          );
          for (const b of opened) this.schedule(b);
          for (const p of batch) p.resolve();
        } catch (e) {
          for (const p of batch) p.reject(e);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /**
   * Registers the delivery of batches with the work engine: each batch's `log.deliver` item was
   * recorded with the batch (MetaStore.appendLogRecords), due at its deadline; the engine claims
   * it in one process of the cluster, retries it with backoff when it fails, and claims it again
   * after a crash once the claim has expired (LEASE_MS).
   */
  register(): void {
    this.app.engine.register<{ batchId: number }>(LOG_DELIVER, (item) => this.deliver(item.payload.batchId), { concurrency: 2, leaseMs: LEASE_MS });
  }

  /** A batch opened here is looked for at its deadline rather than at the engine's next poll. */
  private schedule(b: LogBatch): void {
    if (this.stopped) return;
    setTimeout(() => this.app.engine.kick(LOG_DELIVER), Math.max(0, b.deadline - Date.now()) + 20).unref();
  }

  /**
   * Delivers one batch as one log object (the handler of a `log.deliver` work item): closes it,
   * writes its records to the target through the object write path, then deletes it.
   */
  async deliver(batchId: number): Promise<void> {
    const taken = await this.app.meta.takeLogBatch(batchId);
    if (!taken) return;
    const { batch, lines } = taken;
    const c = JSON.parse(batch.config) as BatchConfig;
    const drop = async (reason: string) => {
      this.log.warn({ batch: batch.id, source: c.source.name, target: c.logging.targetBucket, records: lines.length, reason }, 'server access logs not delivered');
      await this.app.meta.deleteLogBatch(batch.id);
    };
    if (lines.length === 0) return this.app.meta.deleteLogBatch(batch.id);
    const target = await this.app.meta.getBucket(c.logging.targetBucket);
    if (!target) return drop('the target bucket does not exist');
    if (target.owner !== c.source.owner) return drop('the target bucket has another owner');
    const accountId = (await this.app.accountIdOf(c.source.owner)) ?? c.source.owner;
    const key = logObjectKey({
      prefix: c.logging.targetPrefix,
      format: c.logging.keyFormat,
      sourceAccountId: accountId,
      sourceRegion: c.source.region,
      sourceBucket: c.source.name,
      eventTime: batch.openedAt,
      deliveryTime: batch.deadline,
      unique: `${c.source.id}:${batch.id}:${batch.openedAt}`,
    });
    if (!(await mayDeliverLogs(this.app, c.source, target, c.logging.targetPrefix, key))) return drop('the target bucket does not allow logging.s3.amazonaws.com to write');
    const body = Buffer.from(lines.join('\n') + '\n');
    const data = await storeBytes(this.app, (async function* () { yield body; })(), body.length, () => ({}), { inlineThreshold: this.app.config.inlineThreshold, maxSize: Number.MAX_SAFE_INTEGER });
    const content: ObjectContent = {
      size: data.size,
      etag: data.md5,
      lastModified: Date.now(),
      owner: target.owner,
      storageClass: 'STANDARD',
      headers: { 'content-type': 'text/plain' },
      userMeta: {},
    };
    if (c.logging.targetGrants.length > 0) {
      const owner = { id: target.owner };
      const acl: Acl = { owner, grants: [{ grantee: canonicalUser(owner), permission: 'FULL_CONTROL' }, ...c.logging.targetGrants] };
      content.acl = serializeAcl(acl);
    }
    if (data.inline) content.inline = data.inline;
    if (data.blobId) content.blobId = data.blobId;
    try {
      await this.app.meta.putObject(target.id, key, content);
    } catch (e) {
      await discardBlob(this.app, data.blobId, e);
      throw e;
    }
    await this.app.meta.deleteLogBatch(batch.id);
    this.log.debug({ batch: batch.id, target: target.name, key, records: lines.length }, 'server access logs delivered');
  }

  /** Stops scheduling (the engine stops deliveries); waits for the appends in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    while (this.flushing) await new Promise((r) => setTimeout(r, 5));
  }
}
