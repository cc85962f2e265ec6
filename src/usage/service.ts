// Usage reports' moving parts: the request recorder (recorder.ts), and once an hour, as work of
// the engine (src/engine/), a snapshot of every bucket's stored bytes and objects by storage class
// and the pruning of rows older than --usage-retention-days.
//
// Every process looks at each hour's start (and at start-up) whether the hour has had its
// snapshot (the setting usage.snapshot.hour); if not it records a `usage.hourly` item for it
// (its dedupe key names the hour: one queued at a time, whichever process records it). The engine
// runs it once in the cluster; a second run of the same hour (a retry, a crash before the setting
// was written) changes nothing, since an hour's first snapshot stays.

import type { Logger } from 'pino';
import type { Engine } from '../engine/runner.js';
import type { MetaStore } from '../store/meta/types.js';
import { HOUR_MS, hourOf, UsageRecorder } from './recorder.js';

export const HOURLY_KIND = 'usage.hourly';
const SNAPSHOT_SETTING = 'usage.snapshot.hour';

export interface UsageOptions {
  /** Count requests (false: --no-usage; snapshots and pruning go on). */
  record: boolean;
  /** How often a process adds its counters to the store (ms). */
  flushMs: number;
  /** Rows of hours older than this are pruned (ms). */
  retentionMs: number;
}

export interface HourlyPayload {
  hour: number;
}

export class UsageService {
  /** The request recorder; undefined with --no-usage. */
  readonly recorder: UsageRecorder | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private clock: () => number = Date.now;

  constructor(
    private readonly meta: MetaStore,
    private readonly engine: Engine,
    private readonly log: Logger,
    readonly opts: UsageOptions,
  ) {
    this.recorder = opts.record ? new UsageRecorder(meta, log, { flushMs: opts.flushMs, now: () => this.clock() }) : undefined;
    engine.register<HourlyPayload>(HOURLY_KIND, (item) => this.hourly(item.payload.hour), { concurrency: 1, leaseMs: 120_000 });
  }

  /** The clock requests and snapshots are dated by (tests move it). */
  now(): number {
    return this.clock();
  }

  setClock(clock: () => number): void {
    this.clock = clock;
  }

  start(): void {
    this.recorder?.start();
    this.schedule();
  }

  /** Looks again at the next hour's start (a few seconds after, spread over processes). */
  private schedule(): void {
    if (this.stopped) return;
    void this.tick().catch((e: unknown) => this.log.warn({ err: e }, 'usage: cannot schedule the hourly snapshot'));
    const now = Date.now();
    this.timer = setTimeout(() => this.schedule(), hourOf(now) + HOUR_MS - now + 1000 + Math.floor(Math.random() * 5000)).unref();
  }

  /** Records the current hour's snapshot and pruning unless it is done; answers the hour. */
  async tick(): Promise<number> {
    const hour = hourOf(this.clock());
    // Not `<`: a clock set back (a node's skew, tests) still gets its hour's snapshot; a snapshot
    // done twice changes nothing.
    const done = Number((await this.meta.getSetting(SNAPSHOT_SETTING)) ?? -1);
    if (done !== hour) {
      await this.meta.enqueueWork([{ kind: HOURLY_KIND, payload: { hour } satisfies HourlyPayload, dedupeKey: `${HOURLY_KIND}:${hour}` }]);
      this.engine.kick(HOURLY_KIND);
    }
    return hour;
  }

  /** One hour's work: the storage snapshot, then pruning. */
  async hourly(hour: number): Promise<void> {
    const rows = await this.meta.snapshotUsageStorage(hour);
    const pruned = await this.meta.pruneUsage(hour - this.opts.retentionMs);
    await this.meta.putSetting(SNAPSHOT_SETTING, String(hour));
    this.log.debug({ hour: new Date(hour).toISOString(), rows, pruned }, 'usage: hourly snapshot');
  }

  /** Stops looking; flushes the counters left. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.recorder?.stop();
  }
}
