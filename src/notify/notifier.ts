// Event notifications: events become work items of the engine (kind `notify`), one per matching
// destination configuration, recorded IN THE SAME TRANSACTION as the object change (the object
// write's `work` option), so a committed change always has its events and a rolled-back one never
// does. The engine delivers them at least once: claims under leases (a crash resumes them), retries
// with backoff while a target is down (the queue grows; `trove admin work` shows its depth and
// lag), and in order per target and key (the item's ordering key: a later event of a key is not
// claimed while an earlier one is queued). An item is dropped only when it is older than
// --notify-max-age, or when delivery fails while more than --notify-max-queue events are queued:
// logged and counted (counters.dropped).

import type { Logger } from 'pino';
import type { Engine } from '../engine/runner.js';
import type { Bucket, MetaStore, NewWork, WorkItem, WorkSpec } from '../store/meta/types.js';
import type { BucketConfigCache } from '../s3/bucket/config/cache.js';
import { matchingRules, type NotificationConfig } from './config.js';
import { eventRecord, nextSequencer, testEvent, type EmittedEvent, type EventRequest } from './events.js';
import { HOST_ID, nextRequestId } from '../http/request.js';
import { connectSender, loadTargets, type Sender, type TargetDef } from './targets.js';

export const NOTIFY_KIND = 'notify';

export interface NotifyPayload {
  arn: string;
  /** The object key (raw), for targets that file messages by key; '' for test events. */
  key: string;
  /** One event record, sent as {"Records":[record]}. */
  record?: Record<string, unknown>;
  /** Or a whole message (s3:TestEvent). */
  message?: Record<string, unknown>;
}

/** What a record says about the object, known before the write or read inside it. */
export interface ObjectFacts {
  size?: number;
  etag?: string;
  /** The version the event is about, when the write's own result does not say. */
  versionId?: string;
}

export interface NotifierOptions {
  region: string;
  /** Events older than this are dropped instead of delivered (ms). */
  maxAgeMs: number;
  /** Beyond this many queued events, an event whose delivery fails is dropped. */
  maxQueue: number;
  /** Concurrent deliveries in this process. */
  concurrency?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
}

export interface NotifyCounters {
  delivered: number;
  /** Deliveries that failed (each is retried). */
  failed: number;
  /** Events given up (too old, queue over its limit, target removed). */
  dropped: number;
}

const TARGETS_TTL_MS = 1000;

export class Notifier {
  readonly counters: NotifyCounters = { delivered: 0, failed: 0, dropped: 0 };
  private targetCache: { at: number; map: Map<string, TargetDef> } | undefined;
  private readonly senders = new Map<string, { def: string; sender: Promise<Sender> }>();
  private queueCheck: { at: number; depth: number } | undefined;
  private closed = false;
  private readonly buckets = new Map<number, { at: number; bucket: Bucket }>();

  constructor(
    private readonly meta: MetaStore,
    private readonly engine: Engine,
    private readonly log: Logger,
    private readonly configs: BucketConfigCache<NotificationConfig>,
    private readonly opts: NotifierOptions,
  ) {}

  /** Registers the delivery handler with the engine. */
  register(): void {
    this.engine.register<NotifyPayload>(NOTIFY_KIND, (item) => this.deliver(item), {
      concurrency: this.opts.concurrency ?? 8,
      retryBaseMs: this.opts.retryBaseMs ?? 500,
      retryMaxMs: this.opts.retryMaxMs ?? 30_000,
    });
  }

  /** The registered targets by ARN (re-read at most once a second). */
  async targets(fresh = false): Promise<Map<string, TargetDef>> {
    const now = Date.now();
    if (!fresh && this.targetCache && now - this.targetCache.at < TARGETS_TTL_MS) return this.targetCache.map;
    const map = new Map((await loadTargets(this.meta)).map((t) => [t.arn, t]));
    this.targetCache = { at: now, map };
    return map;
  }

  /**
   * The work an object write records for `event` on `key`: one item per destination
   * configuration of the bucket that wants it, built inside the write's transaction (the version
   * written, the sequencer). Undefined when no configuration wants it (the common case costs one
   * cached lookup).
   */
  async work(bucket: Bucket, key: string, event: EmittedEvent, req: EventRequest, facts: ObjectFacts | (() => ObjectFacts | undefined) = {}): Promise<WorkSpec | undefined> {
    const rules = matchingRules(await this.configs.get(bucket), event, key);
    if (rules.length === 0) return undefined;
    const region = bucket.region || this.opts.region;
    return (effect) => {
      const f = typeof facts === 'function' ? facts() : facts;
      if (!f) return [];
      const versionId = f.versionId ?? effect.versionId;
      // A delete of a key that did not exist changed nothing: no event.
      if (event.startsWith('s3:ObjectRemoved:') && versionId === undefined && effect.removed.length === 0) return [];
      const time = Date.now();
      const sequencer = nextSequencer(time);
      return rules.map((r): NewWork => {
        const record = eventRecord(event, region, time, req, r.id, { name: bucket.name, owner: bucket.owner }, { key, size: f.size, etag: f.etag, versionId, sequencer });
        return { kind: NOTIFY_KIND, payload: { arn: r.arn, key, record } satisfies NotifyPayload, orderKey: orderKey(r.arn, bucket.id, key) };
      });
    };
  }

  /**
   * The work of a lifecycle expiration (s3:LifecycleExpiration:*): a version removed is Delete; the
   * current version of a versioned bucket gets a delete marker (DeleteMarkerCreated). Caused by
   * S3 itself, as S3's records say: principal and source address s3.amazonaws.com.
   */
  async expirationWork(bucketId: number, key: string, versionId: string | undefined): Promise<WorkSpec | undefined> {
    const bucket = await this.bucketById(bucketId);
    if (!bucket) return undefined;
    const event: EmittedEvent = versionId !== undefined || bucket.versioning === 'Unversioned' ? 's3:LifecycleExpiration:Delete' : 's3:LifecycleExpiration:DeleteMarkerCreated';
    const req: EventRequest = { principalId: 's3.amazonaws.com', sourceIp: 's3.amazonaws.com', requestId: nextRequestId(), hostId: HOST_ID };
    // A version removed: the record names it; a marker created: the write's own version id.
    // Removal records carry no size or eTag (as S3's).
    return this.work(bucket, key, event, req, versionId !== undefined ? { versionId } : {});
  }

  /**
   * The work of an event S3 itself causes (a restore completed or expired, a lifecycle
   * transition, a replication that failed), to record in the transaction of the change it
   * describes (MetaStore.updateTier / updateObject `work`). `extra` is what the event adds beside
   * `s3` (glacierEventData, lifecycleEventData, replicationEventData). `req` is the request that
   * caused it, when one did (RestoreObject); else S3 itself, as S3's records say.
   */
  async eventWork(bucketId: number, key: string, event: EmittedEvent, facts: ObjectFacts & { versionId: string }, extra?: Record<string, unknown>, req?: EventRequest): Promise<NewWork[]> {
    const bucket = await this.bucketById(bucketId);
    if (!bucket) return [];
    const rules = matchingRules(await this.configs.get(bucket), event, key);
    if (rules.length === 0) return [];
    const who = req ?? { principalId: 's3.amazonaws.com', sourceIp: 's3.amazonaws.com', requestId: nextRequestId(), hostId: HOST_ID };
    const time = Date.now();
    const sequencer = nextSequencer(time);
    const region = bucket.region || this.opts.region;
    return rules.map((r): NewWork => {
      const record = eventRecord(event, region, time, who, r.id, { name: bucket.name, owner: bucket.owner }, { key, size: facts.size, etag: facts.etag, versionId: facts.versionId, sequencer }, extra);
      return { kind: NOTIFY_KIND, payload: { arn: r.arn, key, record } satisfies NotifyPayload, orderKey: orderKey(r.arn, bucket.id, key) };
    });
  }

  /** A bucket by id (background work knows only ids), from a small cache refreshed on a miss. */
  private async bucketById(id: number): Promise<Bucket | undefined> {
    const hit = this.buckets.get(id);
    if (hit && Date.now() - hit.at < 60_000) return hit.bucket;
    this.buckets.clear();
    let after: string | undefined;
    for (;;) {
      const page = await this.meta.listBuckets(undefined, { limit: 1000, ...(after !== undefined ? { after } : {}) });
      for (const b of page) this.buckets.set(b.id, { at: Date.now(), bucket: b });
      if (page.length < 1000) break;
      after = page[page.length - 1]!.name;
    }
    return this.buckets.get(id)?.bucket;
  }

  /** s3:TestEvent to each destination of a configuration just put (after its commit). */
  async sendTestEvents(bucket: Bucket, arns: string[], requestId: string, hostId: string): Promise<void> {
    const unique = [...new Set(arns)];
    if (unique.length === 0) return;
    const message = testEvent(bucket.name, Date.now(), requestId, hostId);
    await this.engine.enqueue(unique.map((arn) => ({ kind: NOTIFY_KIND, payload: { arn, key: '', message } satisfies NotifyPayload, orderKey: orderKey(arn, bucket.id, '') })));
  }

  private drop(item: WorkItem, p: NotifyPayload, reason: string): void {
    this.counters.dropped++;
    this.log.warn({ id: item.id, arn: p.arn, key: p.key, event: p.record?.eventName ?? 'TestEvent', ageMs: Date.now() - item.createdAt, attempts: item.attempts, reason }, 'notification dropped');
  }

  private async queueDepth(): Promise<number> {
    const now = Date.now();
    if (this.queueCheck && now - this.queueCheck.at < 1000) return this.queueCheck.depth;
    const st = await this.meta.workStats();
    const depth = st.kinds.find((k) => k.kind === NOTIFY_KIND)?.depth ?? 0;
    this.queueCheck = { at: now, depth };
    return depth;
  }

  private sender(t: TargetDef): Promise<Sender> {
    const def = JSON.stringify(t);
    const held = this.senders.get(t.arn);
    if (held && held.def === def) return held.sender;
    if (held) void held.sender.then((s) => s.close()).catch(() => undefined);
    const sender = connectSender(t);
    this.senders.set(t.arn, { def, sender });
    // A failed connection is forgotten: the next attempt connects again.
    sender.catch(() => {
      if (this.senders.get(t.arn)?.sender === sender) this.senders.delete(t.arn);
    });
    return sender;
  }

  private forget(t: TargetDef): void {
    const held = this.senders.get(t.arn);
    if (!held) return;
    this.senders.delete(t.arn);
    void held.sender.then((s) => s.close()).catch(() => undefined);
  }

  private async deliver(item: WorkItem & { payload: NotifyPayload }): Promise<void> {
    const p = item.payload;
    if (Date.now() - item.createdAt > this.opts.maxAgeMs) return this.drop(item, p, 'older than --notify-max-age');
    const target = (await this.targets()).get(p.arn) ?? (await this.targets(true)).get(p.arn);
    if (!target) return this.drop(item, p, 'no such target (removed?)');
    const body = JSON.stringify(p.message ?? { Records: [p.record] });
    try {
      const sender = await this.sender(target);
      await sender.send(body, p.key);
      this.counters.delivered++;
    } catch (e) {
      this.counters.failed++;
      this.forget(target);
      if (this.closed) throw e;
      if ((await this.queueDepth().catch(() => 0)) > this.opts.maxQueue) return this.drop(item, p, 'delivery failed with more than --notify-max-queue events queued');
      throw e;
    }
  }

  /** Closes the connections to targets (after the engine stopped). */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.senders.values()];
    this.senders.clear();
    await Promise.all(all.map((h) => h.sender.then((s) => s.close()).catch(() => undefined)));
  }
}

/** Events of one key to one target are delivered in order. */
export function orderKey(arn: string, bucketId: number, key: string): string {
  return `notify\n${arn}\n${bucketId}\n${key}`;
}
