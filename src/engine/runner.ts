// The work engine: runs the follow-up work recorded in the metadata store's `work` queue
// (MetaStore.enqueueWork, or the `work` option of an object write: an outbox committed with the
// change that causes it).
//
//   const engine = new Engine(meta, log, { holder: nodeId });
//   engine.register('log.deliver', async (item) => { … item.payload … }, { concurrency: 2, ratePerSec: 50 });
//   engine.start();
//
// - Every process of every node runs an engine; the store's claims (FOR UPDATE SKIP LOCKED in
//   PostgreSQL, the write lock in SQLite) hand each item to one of them.
// - A claim is a lease: renewed while its handler runs; if the process dies, the claim expires
//   and the item is claimed again elsewhere (at-least-once: handlers are idempotent).
// - A handler that throws puts its item back with exponential backoff (capped; the error is
//   recorded and counted in workStats); items are never dropped.
// - Each kind has its own lane: at most `concurrency` items at once and at most `ratePerSec`
//   started per second, and the lane yields to the event loop between items, so request
//   handling is never starved by background work.
// - stop() stops claiming, tells the handlers in flight (their signal) and waits for them; a
//   handler that gives up puts its item back, due at once for another process. A lane claims
//   only what it can start at once, so no claimed item waits behind others.

import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { MetaStore, NewWork, WorkItem } from '../store/meta/types.js';

/** What a handler gets: the item (payload parsed) and a signal to stop early. */
export interface WorkContext {
  /**
   * Aborted when the claim could not be renewed (another process may run the item now), or when
   * the engine stops: a long handler may then throw, and the item is due again at once (not
   * counted as a failure); one that finishes anyway completes it.
   */
  signal: AbortSignal;
}

export type WorkHandler<P = unknown> = (item: WorkItem & { payload: P }, ctx: WorkContext) => Promise<void>;

export interface WorkKindOptions {
  /** Items of this kind running at once in this process (default 1). */
  concurrency?: number;
  /** Items of this kind started per second in this process at most (default: no limit). */
  ratePerSec?: number;
  /** Claim duration (ms), renewed every third of it while the handler runs (default: the engine's). */
  leaseMs?: number;
  /** First retry delay (ms; default 1 s), doubled each attempt … */
  retryBaseMs?: number;
  /** … up to this (ms; default 15 min). */
  retryMaxMs?: number;
}

export interface EngineOptions {
  /** This process's name in claims (the node id). */
  holder: string;
  /** How often an idle lane looks for due work (ms; default 1000). */
  pollMs?: number;
  /** Default claim duration (ms; default 60 s). */
  leaseMs?: number;
}

const DEFAULT_POLL_MS = 1000;
const DEFAULT_LEASE_MS = 60_000;
const DEFAULT_RETRY_BASE_MS = 1000;
const DEFAULT_RETRY_MAX_MS = 15 * 60_000;
/** After the store fails (e.g. a claim), a lane waits this long before trying again. */
const ERROR_PAUSE_MS = 2000;

/** The delay before attempt `attempts + 1` of an item: base · 2^(attempts-1), capped, ±20 % jitter. */
export function backoffMs(attempts: number, baseMs: number, maxMs: number): number {
  const d = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(attempts - 1, 0), 40));
  return Math.round(d * (0.8 + Math.random() * 0.4));
}

/** A token bucket: `rate` tokens a second, holding at most one second's worth (at least 1). */
class RateLimit {
  private tokens: number;
  private last = Date.now();
  private readonly burst: number;
  constructor(private readonly rate: number | undefined) {
    this.burst = rate === undefined ? Infinity : Math.max(1, rate);
    this.tokens = this.burst;
  }
  private refill(): void {
    const now = Date.now();
    if (this.rate !== undefined) this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
  }
  /** Whole tokens available now (Infinity without a limit). */
  available(): number {
    this.refill();
    return Math.floor(this.tokens);
  }
  take(n: number): void {
    this.tokens -= n;
  }
  /** ms until one token is available. */
  waitMs(): number {
    this.refill();
    if (this.rate === undefined || this.tokens >= 1) return 0;
    return Math.ceil(((1 - this.tokens) / this.rate) * 1000);
  }
}

/** One kind's lane: claims, runs and settles its items. */
class Lane {
  private readonly running = new Map<number, AbortController>();
  private readonly limit: RateLimit;
  private wake: (() => void) | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private idle: Promise<void> | undefined;
  private idleResolve: (() => void) | undefined;
  /** Claims started so far, and the count when whenIdle() was asked: only a later empty claim answers it. */
  private claims = 0;
  private idleAsked = 0;
  stopped = false;
  loop: Promise<void> | undefined;
  readonly concurrency: number;
  readonly leaseMs: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  /** Items this lane finished (done or failed) since start (tests and status). */
  settled = 0;

  constructor(
    readonly kind: string,
    readonly handler: WorkHandler,
    opts: WorkKindOptions,
    private readonly engine: Engine,
  ) {
    this.concurrency = Math.max(1, opts.concurrency ?? 1);
    this.leaseMs = opts.leaseMs ?? engine.leaseMs;
    this.retryBaseMs = opts.retryBaseMs ?? DEFAULT_RETRY_BASE_MS;
    this.retryMaxMs = opts.retryMaxMs ?? DEFAULT_RETRY_MAX_MS;
    this.limit = new RateLimit(opts.ratePerSec);
  }

  start(): void {
    this.loop ??= this.run();
    this.renewTimer ??= setInterval(() => void this.renew(), Math.max(10, Math.floor(this.leaseMs / 3))).unref();
  }

  /** Looks for work now instead of at the next poll. */
  kick(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      t.unref();
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  private async run(): Promise<void> {
    const { meta, log, holder, pollMs } = this.engine;
    while (!this.stopped) {
      const free = this.concurrency - this.running.size;
      if (free <= 0) {
        await this.sleep(pollMs);
        continue;
      }
      const wait = this.limit.waitMs();
      if (wait > 0) {
        await this.sleep(wait);
        continue;
      }
      let items: WorkItem[];
      const claim = ++this.claims;
      try {
        items = await meta.claimWork([this.kind], holder, Math.min(free, this.limit.available()), this.leaseMs);
      } catch (e) {
        if (this.stopped) break;
        log.error({ err: e, kind: this.kind }, 'cannot claim work; trying again shortly');
        await this.sleep(ERROR_PAUSE_MS);
        continue;
      }
      if (items.length === 0) {
        this.noteIdle(claim);
        await this.sleep(pollMs);
        continue;
      }
      this.limit.take(items.length);
      for (const item of items) {
        const ctl = new AbortController();
        this.running.set(item.id, ctl);
        void this.execute(item, ctl.signal);
      }
      // Between claims: let requests waiting on the event loop go first.
      await yieldToLoop();
    }
  }

  private async execute(item: WorkItem, signal: AbortSignal): Promise<void> {
    const { meta, log } = this.engine;
    try {
      await yieldToLoop();
      await this.handler(item, { signal });
      await meta.completeWork([item.id]);
    } catch (e) {
      if (this.stopped && signal.aborted) {
        // Interrupted by shutdown (the handler saw the signal): due again at once, elsewhere.
        await meta.retryWork(item.id, 'interrupted by shutdown', Date.now()).catch(() => undefined);
        return;
      }
      const delay = backoffMs(item.attempts, this.retryBaseMs, this.retryMaxMs);
      log.warn({ err: e, kind: this.kind, id: item.id, attempts: item.attempts, retryInMs: delay }, 'work item failed; will retry');
      const message = e instanceof Error ? e.message || e.name : String(e);
      await meta.retryWork(item.id, message, Date.now() + delay).catch((re: unknown) => log.error({ err: re, id: item.id }, 'cannot reschedule a failed work item; its claim will expire'));
    } finally {
      this.running.delete(item.id);
      this.settled++;
      this.kick();
    }
  }

  /** Renews the claims of the items running; aborts those whose claim is lost. */
  private async renew(): Promise<void> {
    const ids = [...this.running.keys()];
    if (ids.length === 0) return;
    try {
      const held = new Set(await this.engine.meta.renewWork(ids, this.engine.holder, this.leaseMs));
      for (const id of ids) if (!held.has(id) && this.running.has(id)) this.running.get(id)!.abort(new Error('work claim lost'));
    } catch (e) {
      this.engine.log.warn({ err: e, kind: this.kind }, 'cannot renew work claims');
    }
  }

  private noteIdle(claim: number): void {
    if (this.running.size === 0 && this.idleResolve && claim > this.idleAsked) {
      const r = this.idleResolve;
      this.idle = this.idleResolve = undefined;
      r();
    }
  }

  /** Resolves once the lane found no due work with nothing running. */
  whenIdle(): Promise<void> {
    if (!this.loop || this.stopped) return Promise.resolve();
    this.idleAsked = this.claims;
    this.idle ??= new Promise((r) => (this.idleResolve = r));
    this.kick();
    return this.idle;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.kick();
    await this.loop;
    // Long handlers (a lifecycle pass) may stop early and resume elsewhere: they are told.
    for (const ctl of this.running.values()) ctl.abort(new Error('engine stopping'));
    while (this.running.size > 0) await new Promise((r) => setTimeout(r, 10));
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.idleResolve?.();
  }
}

export class Engine {
  readonly holder: string;
  readonly pollMs: number;
  readonly leaseMs: number;
  private readonly lanes = new Map<string, Lane>();
  private started = false;
  private stopped = false;

  constructor(
    readonly meta: MetaStore,
    readonly log: Logger,
    opts: EngineOptions,
  ) {
    this.holder = opts.holder;
    this.pollMs = opts.pollMs ?? DEFAULT_POLL_MS;
    this.leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
  }

  /**
   * Runs items of `kind` with `handler` (one handler per kind per process). Registered after
   * start(), a kind starts at once.
   */
  register<P = unknown>(kind: string, handler: WorkHandler<P>, opts: WorkKindOptions = {}): void {
    if (this.lanes.has(kind)) throw new Error(`work kind ${kind} is registered already`);
    const lane = new Lane(kind, handler as WorkHandler, opts, this);
    this.lanes.set(kind, lane);
    if (this.started && !this.stopped) lane.start();
  }

  /** The kinds this process runs. */
  kinds(): string[] {
    return [...this.lanes.keys()];
  }

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    for (const lane of this.lanes.values()) lane.start();
  }

  /** Records work (its own transaction) and wakes the lanes of its kinds here. */
  async enqueue(items: NewWork[]): Promise<number[]> {
    const ids = await this.meta.enqueueWork(items);
    for (const k of new Set(items.map((i) => i.kind))) this.kick(k);
    return ids;
  }

  /** Looks for due work now (of one kind, or all) rather than at the next poll. */
  kick(kind?: string): void {
    if (kind === undefined) for (const lane of this.lanes.values()) lane.kick();
    else this.lanes.get(kind)?.kick();
  }

  /**
   * Resolves once the lanes of these kinds (default: all) have each found no due work with
   * nothing running (tests; items scheduled later do not count).
   */
  async idle(kinds: string[] = this.kinds()): Promise<void> {
    await Promise.all(kinds.map((k) => this.lanes.get(k)?.whenIdle()));
  }

  /** Stops claiming, waits for the handlers in flight. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all([...this.lanes.values()].map((l) => l.stop()));
  }
}
