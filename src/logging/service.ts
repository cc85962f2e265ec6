// Server access logs: records of requests to buckets with logging on, kept durably in the
// metadata store and delivered, in batches, as log objects to each configuration's target bucket.
//
// The guarantee. A request's record is committed to the metadata store before the response's
// status line is sent (http/server.ts calls append() from the response writer's one hook): a
// client that saw a response can count on its record, whatever happens to the server after.
// Records of concurrent requests share one transaction and one sync (below, and the SQLite
// store's group commit). A batch is one source bucket's records under one configuration from its
// first record for --log-roll-seconds; then it is delivered as one object whose key is fixed by
// the batch (logging/keys.ts), and deleted. A delivery interrupted by a crash is done again after
// the restart and writes the same key with the same records: at least once, never a duplicate
// object. A delivery the target refuses (the bucket is gone, another owner now, its policy or ACL
// no longer allows logging.s3.amazonaws.com) drops the batch, as S3 does.

import type { Logger } from 'pino';
import type { App } from '../app.js';
import { mayDeliverLogs } from '../authz/logDelivery.js';
import { serializeAcl, canonicalUser, type Acl } from '../authz/acl/index.js';
import type { LoggingConfig } from '../s3/bucket/config/logging.js';
import { discardBlob, storeBytes } from '../s3/object/ingest.js';
import type { Bucket, LogBatch, LogRecordInput, ObjectContent } from '../store/meta/types.js';
import { logObjectKey } from './keys.js';

/** What a batch is delivered by: the source bucket as it was, and the configuration in force. */
interface BatchConfig {
  source: { id: number; name: string; owner: string; region: string };
  logging: LoggingConfig;
}

export const DELIVERY_LEASE = 'server-access-log-delivery';
const LEASE_MS = 60_000;
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
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private delivering: Promise<void> | undefined;
  private readonly log: Logger;

  constructor(
    private readonly app: App,
    private readonly holder: string,
    private readonly opts: { rollMs: number; pollMs?: number },
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

  /** A batch opened here is delivered from here at its deadline (and by any node's poll after). */
  private schedule(b: LogBatch): void {
    if (this.stopped) return;
    setTimeout(() => this.kick(), Math.max(0, b.deadline - Date.now()) + 20).unref();
  }

  /** Starts delivering: due batches now (those a crash left too), then every poll period. */
  start(): void {
    const poll = this.opts.pollMs ?? Math.min(5_000, Math.max(250, Math.floor(this.opts.rollMs / 4)));
    this.timer = setInterval(() => this.kick(), poll);
    this.timer.unref();
    this.kick();
  }

  /** Delivers what is due, unless a pass is running (then it will see it). */
  kick(): void {
    if (this.stopped || this.delivering) return;
    this.delivering = this.deliverDue()
      .then(() => undefined)
      .catch((e: unknown) => this.log.error({ err: e }, 'server access log delivery failed; retrying at the next pass'))
      .finally(() => {
        this.delivering = undefined;
      });
  }

  /** Delivers every due batch, under a lease so that one process of a cluster does it at a time. */
  async deliverDue(): Promise<number> {
    let n = 0;
    if (!(await this.app.meta.tryLease(DELIVERY_LEASE, this.holder, LEASE_MS))) return 0;
    try {
      for (;;) {
        const due = await this.app.meta.dueLogBatches(Date.now(), 50);
        if (due.length === 0 || this.stopped) break;
        for (const b of due) {
          if (this.stopped) break;
          await this.deliver(b.id);
          n++;
        }
        await this.app.meta.tryLease(DELIVERY_LEASE, this.holder, LEASE_MS);
      }
    } finally {
      await this.app.meta.releaseLease(DELIVERY_LEASE, this.holder).catch(() => undefined);
    }
    return n;
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

  /** Stops delivering (pending appends still complete); waits for a delivery in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.delivering;
    while (this.flushing) await new Promise((r) => setTimeout(r, 5));
  }
}
