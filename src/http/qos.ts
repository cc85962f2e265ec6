// Quality of service: request and byte rates per account and per IAM user, as token buckets.
// Admission happens in one place, right after authentication (http/server.ts): a request over its
// requests-per-second allowance is refused with 503 SlowDown and a Retry-After header, before its
// bucket is loaded or its body read. Byte rates never refuse: an admitted request's body (up) and
// its response body (down) are paced to the rate, so a large transfer slows down instead of
// failing half-way.
//
// Limits are per node: each of a node's `--workers` processes enforces limit / workers (the kernel
// spreads connections across them), and nodes do not share counters; give each node its share.
// They are read from the metadata store (`trove admin qos set`, settings `qos:account:<id>` and
// `qos:user:<arn>`) and cached: a warm request costs no store read. The store's change feed
// (MetaStore.onChange: about 100 ms with SQLite, at once with PostgreSQL's NOTIFY) drops the
// cache when another process or node changes them; a minute's TTL bounds a missed notice.

import type { App } from '../app.js';
import type { Identity } from '../auth/types.js';
import type { PooledBody } from '../common/body.js';
import { S3Error } from '../s3/errors.js';

export interface QosLimits {
  /** Requests per second. */
  rps?: number;
  /** Request body bytes per second. */
  upBps?: number;
  /** Response body bytes per second. */
  downBps?: number;
}

export const qosSetting = (scope: 'account' | 'user', id: string): string => `qos:${scope}:${id}`;

/** Parses a stored setting ('' or absent: no limits). */
export function parseQosLimits(v: string | undefined): QosLimits | undefined {
  if (!v) return undefined;
  const o = JSON.parse(v) as QosLimits;
  return o.rps === undefined && o.upBps === undefined && o.downBps === undefined ? undefined : o;
}

const LIMITS_TTL_MS = 60_000;
/** Byte buckets hold a tenth of a second of their rate (at least 64 KiB): bursts stay short. */
const BYTE_BURST_S = 0.1;
const MIN_BYTE_BURST = 64 * 1024;

/** A token bucket: `rate` tokens a second, holding at most `burst`. */
export class TokenBucket {
  private tokens: number;
  private last = performance.now();
  constructor(
    readonly rate: number,
    readonly burst: number,
  ) {
    this.tokens = burst;
  }

  private refill(): void {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
  }

  /** Takes one token if there is one; otherwise answers the seconds until there will be. */
  tryTake(): number {
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return (1 - this.tokens) / this.rate;
  }

  /** Takes `n` tokens, going into debt, and waits until the debt is paid: the pace of a stream. */
  async spend(n: number): Promise<void> {
    this.refill();
    this.tokens -= n;
    if (this.tokens < 0) await new Promise((r) => setTimeout(r, (-this.tokens / this.rate) * 1000));
  }
}

/** The byte buckets a request was admitted with. */
export interface Pace {
  up: TokenBucket[];
  down: TokenBucket[];
}

class Qos {
  private readonly limits = new Map<string, { at: number; limits: QosLimits | undefined }>();
  private readonly buckets = new Map<string, { limits: QosLimits; rps?: TokenBucket; up?: TokenBucket; down?: TokenBucket }>();

  /** Bumped by every change notice: a load that started before one is not cached. */
  private generation = 0;

  constructor(private readonly app: App) {
    app.meta.onChange(() => this.changed());
  }

  /** Limits changed (here or elsewhere): read them again. */
  changed(): void {
    this.generation++;
    this.limits.clear();
  }

  /** The cached limits while fresh: `{ limits }` (limits undefined: none set), or undefined when they must be read. */
  private peekLimits(setting: string, now: number): { limits: QosLimits | undefined } | undefined {
    const hit = this.limits.get(setting);
    return hit && now - hit.at < LIMITS_TTL_MS ? hit : undefined;
  }

  private async limitsOf(setting: string): Promise<QosLimits | undefined> {
    const hit = this.peekLimits(setting, performance.now());
    if (hit) return hit.limits;
    const generation = this.generation;
    let limits: QosLimits | undefined;
    try {
      limits = parseQosLimits(await this.app.meta.getSetting(setting));
    } catch {
      // Unreadable limits (a damaged setting, the store failing): none, rather than refuse requests.
      return undefined;
    }
    if (generation === this.generation) this.limits.set(setting, { at: performance.now(), limits });
    return limits;
  }

  /** This process's buckets for a principal's limits (new ones when the limits changed). */
  private bucketsOf(setting: string, limits: QosLimits) {
    const cur = this.buckets.get(setting);
    // Re-read limits are new objects: the buckets (and what they hold) stay while the numbers do.
    if (cur && cur.limits.rps === limits.rps && cur.limits.upBps === limits.upBps && cur.limits.downBps === limits.downBps) return cur;
    const share = Math.max(1, this.app.config.workers);
    const make = (rate: number | undefined, bytes: boolean) => {
      if (rate === undefined || rate <= 0) return undefined;
      const r = rate / share;
      return new TokenBucket(r, bytes ? Math.max(MIN_BYTE_BURST, r * BYTE_BURST_S) : Math.max(1, r));
    };
    const b: { limits: QosLimits; rps?: TokenBucket; up?: TokenBucket; down?: TokenBucket } = { limits };
    const rps = make(limits.rps, false);
    const up = make(limits.upBps, true);
    const down = make(limits.downBps, true);
    if (rps) b.rps = rps;
    if (up) b.up = up;
    if (down) b.down = down;
    this.buckets.set(setting, b);
    return b;
  }

  /**
   * Admits without waiting when every limit that applies is cached (the usual case: a request
   * never waits on a promise for a caller with no limits); otherwise reads them first.
   */
  admit(identity: Identity): Pace | undefined | Promise<Pace | undefined> {
    const settings = settingsOf(identity);
    const now = performance.now();
    let pace: Pace | undefined;
    for (const s of settings) {
      const hit = this.peekLimits(s, now);
      if (!hit) return this.admitReading(settings);
      if (hit.limits) pace = this.take(s, hit.limits, pace);
    }
    return pace;
  }

  private async admitReading(settings: readonly string[]): Promise<Pace | undefined> {
    let pace: Pace | undefined;
    for (const s of settings) {
      const limits = await this.limitsOf(s);
      if (limits) pace = this.take(s, limits, pace);
    }
    return pace;
  }

  /** Takes the request's token from `setting`'s request bucket (SlowDown when empty); adds its byte buckets to `pace`. */
  private take(s: string, limits: QosLimits, pace: Pace | undefined): Pace | undefined {
    const b = this.bucketsOf(s, limits);
    if (b.rps) {
      const wait = b.rps.tryTake();
      if (wait > 0) throw new S3Error('SlowDown', undefined, {}, { 'Retry-After': String(Math.max(1, Math.ceil(wait))) });
    }
    if (b.up || b.down) {
      pace ??= { up: [], down: [] };
      if (b.up) pace.up.push(b.up);
      if (b.down) pace.down.push(b.down);
    }
    return pace;
  }
}

/** The settings that hold an identity's limits: its account's, and its IAM user's (made once per identity: auth/context.ts identityOf). */
const settingsByIdentity = new WeakMap<Identity, readonly string[]>();
function settingsOf(identity: Identity): readonly string[] {
  let s = settingsByIdentity.get(identity);
  if (!s) {
    s = identity.user ? [qosSetting('account', identity.accountId), qosSetting('user', identity.user.arn)] : [qosSetting('account', identity.accountId)];
    settingsByIdentity.set(identity, s);
  }
  return s;
}

const instances = new WeakMap<App, Qos>();

/**
 * Admits an authenticated request (throws SlowDown over a requests-per-second limit); answers the
 * byte buckets its body and response must be paced by, if any.
 */
export function admit(app: App, identity: Identity | null): Pace | undefined | Promise<Pace | undefined> {
  if (!identity) return undefined;
  let q = instances.get(app);
  if (!q) instances.set(app, (q = new Qos(app)));
  return q.admit(identity);
}

async function spendAll(buckets: TokenBucket[], n: number): Promise<void> {
  for (const b of buckets) await b.spend(n);
}

/** A stream of chunks paced by `buckets`. */
export async function* paced(source: AsyncIterable<Buffer>, buckets: TokenBucket[]): AsyncGenerator<Buffer> {
  for await (const c of source) {
    await spendAll(buckets, c.length);
    yield c;
  }
}

/** A pooled response body paced by `buckets`. */
export function pacedPooled(body: PooledBody, buckets: TokenBucket[]): PooledBody {
  return {
    async read(buf) {
      const n = await body.read(buf);
      if (n > 0) await spendAll(buckets, n);
      return n;
    },
    close: () => body.close(),
  };
}

/** Waits for a whole in-memory body's bytes. */
export function spendDown(buckets: TokenBucket[], n: number): Promise<void> {
  return spendAll(buckets, n);
}

/** Limits were changed by this process (the admin API): this node applies them at once. */
export function qosChanged(app: App): void {
  instances.get(app)?.changed();
}
