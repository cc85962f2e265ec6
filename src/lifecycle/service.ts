// Applying lifecycle rules: passes over the buckets that have a configuration, as work items of the
// engine (kind 'lifecycle.scan', one queued per bucket at a time: its dedupe key).
//
// - The scheduler: every process looks every `intervalMs` (hourly) whether it holds the
//   'lifecycle' lease; the holder records a pass for each bucket with enabled rules that has had
//   none since the last midnight UTC, when rules act (a PutBucketLifecycle records one, due
//   once the new configuration has settled: see schedule).
//   A pass already queued or running for a bucket is not recorded again.
// - A pass walks only the key ranges its rules name (their prefixes; seeks, never the whole bucket
//   for a rule with a prefix), key by key with every version of the key (ListObjectVersions
//   order), decides with rules.ts, and writes the effects through the store's ordinary methods:
//   unversioned → the object is deleted; versioned → a delete marker; noncurrent versions by age
//   and count; an expired object delete marker is removed; incomplete multipart uploads are
//   aborted; transitions are recorded as 'transition' work for the tiering handler. Object lock:
//   a retained or held version is never deleted (the store refuses; the pass moves on).
// - It saves its position (a setting per bucket) every page: a pass whose process died is claimed
//   again when its claim expires and resumes at the saved key (redoing a key is harmless).
// - It never starves requests: the engine runs one pass at a time per process; a pass handles 16
//   keys at a time (their writes share the group commit's syncs), then rests as long as the batch
//   took, so it has at most half of the process's time and requests are served in between.

import { setTimeout as sleep, setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Engine } from '../engine/runner.js';
import { deserializeLifecycle, type LifecycleConfig } from '../s3/bucket/config/lifecycle.js';
import { StoreError } from '../store/errors.js';
import type { ListedObject, MetaStore, NewWork, WorkItem, WorkSpec } from '../store/meta/types.js';
import { abortRule, DAY_MS, decide, matchesWithoutTags, scanPrefixes, uploadPrefixes, type Action, type VersionFacts } from './rules.js';

export const SCAN_KIND = 'lifecycle.scan';
export const TRANSITION_KIND = 'transition';
export const LIFECYCLE_LEASE = 'lifecycle';
const LEASE_TTL_MS = 60_000;
const PAGE = 500;
/** Keys a pass handles at once. */
const BATCH = 16;

export interface ScanPayload {
  bucketId: number;
}

/** What the tiering handler gets for a Transition (the contract with it). */
export interface TransitionPayload {
  bucketId: number;
  key: string;
  versionId: string;
  storageClass: string;
  etag: string;
}

interface Cursor {
  /** The pass (work item id) this position belongs to. */
  pass: number;
  /** Index in scanPrefixes(config), then 'uploads'. */
  phase: number;
  /** Resume at this key (inclusive). */
  key?: string;
  /** Set when the pass finished: when it started (ms since epoch). */
  done?: number;
}

export interface LifecycleOptions {
  /** Length of a day (ms). */
  dayMs: number;
  /** This process's name (lease holder). */
  holder: string;
  /** How often the scheduler looks (ms; default: a 24th of a day, between 1 s and 1 h). */
  intervalMs?: number;
  /**
   * The event notification work of an expiration (s3:LifecycleExpiration:*), recorded with the
   * delete: of the current version (`versionId` undefined) or of a given version.
   */
  expirationWork?: (bucketId: number, key: string, versionId: string | undefined) => Promise<WorkSpec | undefined>;
}

/** Counts of what passes did (tests, logs). */
export interface LifecycleCounters {
  passes: number;
  expired: number;
  noncurrentExpired: number;
  markersRemoved: number;
  uploadsAborted: number;
  transitionsQueued: number;
  /** Versions a rule would have deleted but object lock (or a concurrent change) kept. */
  skipped: number;
}

export class Lifecycle {
  readonly dayMs: number;
  readonly intervalMs: number;
  /** How long a configuration is left to settle before a pass acts on it (see schedule). */
  readonly settleMs: number;
  readonly counters: LifecycleCounters = { passes: 0, expired: 0, noncurrentExpired: 0, markersRemoved: 0, uploadsAborted: 0, transitionsQueued: 0, skipped: 0 };
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;
  private leaseHeld = false;

  constructor(
    private readonly meta: MetaStore,
    private readonly engine: Engine,
    private readonly log: Logger,
    private readonly opts: LifecycleOptions,
  ) {
    this.dayMs = opts.dayMs;
    this.intervalMs = opts.intervalMs ?? Math.min(3_600_000, Math.max(1000, Math.floor(opts.dayMs / 24)));
    this.settleMs = Math.min(60_000, Math.floor(opts.dayMs / 5));
    engine.register<ScanPayload>(SCAN_KIND, (item, ctx) => this.pass(item, ctx.signal), { concurrency: 1, leaseMs: 60_000 });
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => this.tick(), this.intervalMs).unref();
    this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
    if (this.leaseHeld) await this.meta.releaseLease(LIFECYCLE_LEASE, this.opts.holder).catch(() => undefined);
  }

  /**
   * Records a pass over the bucket unless one is queued or running, and wakes the engine. A
   * configuration put less than settleMs ago is not acted on yet: S3 applies a new configuration
   * after some delay too ("there is usually some lag before a new or updated lifecycle
   * configuration is fully propagated", S3 User Guide), and clients (the Ceph suite among them)
   * list a bucket right after PutBucketLifecycleConfiguration and expect to find what a rule
   * will expire — an object past a Date rule's date must not be gone by then.
   */
  async schedule(bucketId: number, config?: LifecycleConfig): Promise<void> {
    const notBefore = config?.since !== undefined ? config.since + this.settleMs : undefined;
    await this.meta.enqueueWork([{ kind: SCAN_KIND, payload: { bucketId } satisfies ScanPayload, dedupeKey: `${SCAN_KIND}:${bucketId}`, ...(notBefore !== undefined && notBefore > Date.now() ? { notBefore } : {}) }]);
    if (notBefore !== undefined && notBefore > Date.now()) setTimeout(() => this.engine.kick(SCAN_KIND), notBefore - Date.now() + 10).unref();
    else this.engine.kick(SCAN_KIND);
  }

  private tick(): void {
    if (this.ticking || this.stopped) return;
    this.ticking = this.scheduleAll()
      .catch((e: unknown) => this.log.error({ err: e }, 'lifecycle scheduling failed'))
      .finally(() => (this.ticking = undefined));
  }

  /** The lease holder records a pass for every bucket with enabled rules. */
  private async scheduleAll(): Promise<void> {
    this.leaseHeld = await this.meta.tryLease(LIFECYCLE_LEASE, this.opts.holder, Math.max(LEASE_TTL_MS, this.intervalMs * 3));
    if (!this.leaseHeld) return;
    let after: string | undefined;
    for (;;) {
      const buckets = await this.meta.listBuckets(undefined, { limit: 1000, ...(after !== undefined ? { after } : {}) });
      for (const b of buckets) {
        if (this.stopped) return;
        const raw = await this.meta.getBucketConfig(b.id, 'lifecycle');
        const config = raw ? deserializeLifecycle(raw) : undefined;
        if (!config || !config.rules.some((r) => r.enabled)) continue;
        if (await this.passedToday(b.id)) continue;
        await this.schedule(b.id, config);
      }
      if (buckets.length < 1000) return;
      after = buckets[buckets.length - 1]!.name;
    }
  }

  /**
   * With calendar days, every rule acts at a midnight UTC: a bucket whose last pass started after
   * today's midnight needs no other today (a new configuration gets one at once, see schedule).
   * A shortened test day has no such boundary: passes follow each other.
   */
  async passedToday(bucketId: number): Promise<boolean> {
    if (this.dayMs !== DAY_MS) return false;
    const saved = await this.meta.getSetting(this.cursorSetting(bucketId));
    const done = saved ? (JSON.parse(saved) as Partial<Cursor>).done : undefined;
    return done !== undefined && Math.floor(done / DAY_MS) === Math.floor(Date.now() / DAY_MS);
  }

  private cursorSetting(bucketId: number): string {
    return `lifecycle.cursor.${bucketId}`;
  }

  /** One pass over one bucket (a 'lifecycle.scan' work item). */
  async pass(item: WorkItem & { payload: ScanPayload }, signal?: AbortSignal): Promise<void> {
    const { bucketId } = item.payload;
    const raw = await this.meta.getBucketConfig(bucketId, 'lifecycle');
    if (!raw) return;
    const config = deserializeLifecycle(raw);
    const now = Date.now();
    const saved = await this.meta.getSetting(this.cursorSetting(bucketId));
    let cursor: Cursor = { pass: item.id, phase: 0 };
    if (saved) {
      const c = JSON.parse(saved) as Partial<Cursor>;
      if (c.pass === item.id) cursor = c as Cursor;
    }
    const save = (c: Cursor) => this.meta.putSetting(this.cursorSetting(bucketId), JSON.stringify(c));
    const prefixes = scanPrefixes(config);
    const tagRules = config.rules.filter((r) => r.enabled && r.filter.tags.length > 0);

    for (let phase = cursor.phase; phase < prefixes.length; phase++) {
      const prefix = prefixes[phase]!;
      let n = 0;
      // Keys are handled BATCH at a time, concurrently (distinct keys never conflict): their writes
      // share the group commit's syncs, so requests' reads wait for fewer of them.
      let batch: string[] = [];
      let work: Promise<void>[] = [];
      let began = performance.now();
      const flush = async () => {
        await Promise.all(work);
        // At most half the time: after a batch that took d ms, rest d ms (requests come first).
        const d = performance.now() - began;
        await sleep(Math.min(d, 200));
        began = performance.now();
        n += work.length;
        const last = batch[batch.length - 1];
        batch = [];
        work = [];
        if (last === undefined) return;
        if (n % PAGE < BATCH) await save({ pass: item.id, phase, key: last });
        if (signal?.aborted) {
          // Stopping (or the claim was lost): resume here, in this process or another.
          await save({ pass: item.id, phase, key: last });
          throw signal.reason instanceof Error ? signal.reason : new Error('lifecycle pass interrupted');
        }
      };
      for await (const { key, versions } of keysFrom(this.meta, bucketId, prefix, phase === cursor.phase ? cursor.key : undefined)) {
        batch.push(key);
        work.push(this.handleKey(bucketId, config, key, versions.map(toFacts), tagRules, now));
        if (work.length >= BATCH) await flush();
      }
      await flush();
    }
    await this.abortUploads(bucketId, config, now);
    await save({ pass: item.id, phase: prefixes.length + 1, done: now });
    this.counters.passes++;
  }

  private async handleKey(bucketId: number, config: LifecycleConfig, key: string, facts: VersionFacts[], tagRules: LifecycleConfig['rules'], now: number): Promise<void> {
    // Tags only when a tag rule could apply to the version (one read each).
    if (tagRules.length) {
      for (const f of facts) {
        if (!f.deleteMarker && tagRules.some((r) => matchesWithoutTags(r.filter, key, f.size))) {
          f.tags = (await this.meta.getObject(bucketId, key, f.versionId))?.tags ?? [];
        }
      }
    }
    await this.apply(bucketId, decide(config, facts, now, this.dayMs));
  }

  private async abortUploads(bucketId: number, config: LifecycleConfig, now: number): Promise<void> {
    for (const prefix of uploadPrefixes(config)) {
      let keyMarker: string | undefined;
      let uploadIdMarker: string | undefined;
      for (;;) {
        const page = await this.meta.listUploads(bucketId, { prefix, limit: PAGE, ...(keyMarker !== undefined ? { keyMarker, uploadIdMarker: uploadIdMarker! } : {}) });
        for (const u of page) {
          if (abortRule(config, u.key, u.initiated, now, this.dayMs) === undefined) continue;
          try {
            await this.meta.abortUpload(bucketId, u.uploadId);
            this.counters.uploadsAborted++;
          } catch (e) {
            if (!(e instanceof StoreError)) throw e;
          }
          await yieldToLoop();
        }
        if (page.length < PAGE) break;
        keyMarker = page[page.length - 1]!.key;
        uploadIdMarker = page[page.length - 1]!.uploadId;
      }
    }
  }

  /** The notification work of an expiration, as the delete's `work` option. */
  private async events(bucketId: number, v: { key: string }, versionId: string | undefined): Promise<{ work?: WorkSpec }> {
    const work = await this.opts.expirationWork?.(bucketId, v.key, versionId);
    return work ? { work } : {};
  }

  /** Writes what the rules decided for one key, through the store's ordinary methods. */
  private async apply(bucketId: number, actions: Action[]): Promise<void> {
    const transitions: NewWork[] = [];
    for (const a of actions) {
      const v = a.version;
      try {
        switch (a.kind) {
          case 'expire-current':
            // Only the version the rule judged: a write since then makes this a no-op.
            await this.meta.deleteObject(bucketId, v.key, { now: Date.now(), conditions: { ifMatch: v.etag }, ...(await this.events(bucketId, v, undefined)) });
            this.counters.expired++;
            break;
          case 'expire-noncurrent':
            await this.meta.deleteObject(bucketId, v.key, { now: Date.now(), versionId: v.versionId, ...(await this.events(bucketId, v, v.versionId)) });
            this.counters.noncurrentExpired++;
            break;
          case 'remove-delete-marker':
            await this.meta.deleteObject(bucketId, v.key, { now: Date.now(), versionId: v.versionId, ...(await this.events(bucketId, v, v.versionId)) });
            this.counters.markersRemoved++;
            break;
          case 'transition':
            transitions.push({
              kind: TRANSITION_KIND,
              payload: { bucketId, key: v.key, versionId: v.versionId, storageClass: a.storageClass, etag: v.etag } satisfies TransitionPayload,
              dedupeKey: `${TRANSITION_KIND}:${bucketId}:${v.versionId}:${v.key}`,
            });
            break;
        }
      } catch (e) {
        // Object lock (a retained or held version), or the key changed since it was read.
        if (!(e instanceof StoreError)) throw e;
        this.counters.skipped++;
      }
    }
    if (transitions.length) {
      await this.meta.enqueueWork(transitions);
      this.counters.transitionsQueued += transitions.length;
      this.engine.kick(TRANSITION_KIND);
    }
  }
}

function toFacts(o: ListedObject): VersionFacts {
  return { key: o.key, versionId: o.versionId, size: o.size, lastModified: o.lastModified, deleteMarker: o.deleteMarker, storageClass: o.storageClass, etag: o.etag };
}

/** Every key under `prefix` from `startKey` on (inclusive), each with all its versions, newest first. */
async function* keysFrom(meta: MetaStore, bucketId: number, prefix: string, startKey?: string): AsyncGenerator<{ key: string; versions: ListedObject[] }> {
  let page = await meta.listVersions(bucketId, { prefix, limit: PAGE, ...(startKey !== undefined ? { startKey } : {}) });
  let cur: { key: string; versions: ListedObject[] } | undefined;
  for (;;) {
    for (const v of page) {
      if (cur && cur.key !== v.key) {
        yield cur;
        cur = undefined;
      }
      cur ??= { key: v.key, versions: [] };
      cur.versions.push(v);
    }
    if (page.length < PAGE) break;
    const last = page[page.length - 1]!;
    page = await meta.listVersions(bucketId, { prefix, limit: PAGE, keyMarker: last.key, versionIdMarker: last.versionId });
  }
  if (cur) yield cur;
}
