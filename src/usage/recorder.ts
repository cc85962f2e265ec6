// Request accounting for usage reports, cheap on the hot path: a request adds to an in-memory
// counter keyed by (hour, account, bucket, principal, operation class); every --usage-flush
// seconds (and when the process stops) the counters are added to the metadata store's hourly rows
// in one transaction (MetaStore.addUsageRequests: upsert adding). Every process of every node
// flushes its own increments, so the stored rows are exact sums over all of them.
//
// The price of that: a process that dies without stopping (a crash, SIGKILL, power loss) loses
// the requests of its last unflushed interval (at most --usage-flush seconds of them); a stop by
// SIGTERM/SIGINT flushes them. An exact scheme (a write per request, in the request's transaction
// or an outbox) would cost a store write per request, reads included, which is the cost this
// avoids. A flush that fails (the store is unreachable) keeps its counters and adds them to the
// next flush.

import type { Logger } from 'pino';
import type { Identity } from '../auth/types.js';
import type { OperationSpec } from '../s3/operations.js';
import type { Bucket, MetaStore, UsageRequestRow } from '../store/meta/types.js';
import { operationClass, type OperationClass } from './classes.js';

export const HOUR_MS = 3_600_000;

/** The start of the UTC hour `t` falls in. */
export function hourOf(t: number): number {
  return t - (((t % HOUR_MS) + HOUR_MS) % HOUR_MS);
}

interface Counter {
  hour: number;
  account: string;
  bucket: string;
  principal: string;
  opClass: OperationClass;
  requests: number;
  errors4xx: number;
  errors5xx: number;
  bytesIn: number;
  bytesOut: number;
}

/** Who asked, as usage reports name them: the IAM ARN (a role session: its role's), or 'anonymous'. */
export function principalName(identity: Identity | null | undefined): string {
  if (!identity) return 'anonymous';
  return identity.session?.role?.arn ?? identity.user?.arn ?? `arn:aws:iam::${identity.accountId}:root`;
}

export interface RecorderOptions {
  flushMs: number;
  /** The clock (tests move it across hours). */
  now?: () => number;
}

export class UsageRecorder {
  private counters = new Map<string, Counter>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private hour = 0;
  private hourEnd = 0;
  now: () => number;

  constructor(
    private readonly meta: Pick<MetaStore, 'addUsageRequests'>,
    private readonly log: Logger,
    private readonly opts: RecorderOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  start(): void {
    this.timer ??= setInterval(() => void this.flush().catch(() => undefined), this.opts.flushMs).unref();
  }

  /**
   * Counts one answered request. `bucket`: the bucket it addressed, when it exists (its owner's
   * account is billed); without one, the caller's account (none for anonymous callers).
   */
  record(op: OperationSpec, bucket: Pick<Bucket, 'name' | 'owner'> | undefined, identity: Identity | null | undefined, status: number, bytesIn: number, bytesOut: number): void {
    const now = this.now();
    if (now >= this.hourEnd || now < this.hour) {
      this.hour = hourOf(now);
      this.hourEnd = this.hour + HOUR_MS;
    }
    const account = bucket ? bucket.owner : (identity?.userId ?? '');
    const bucketName = bucket ? bucket.name : '';
    const principal = principalName(identity);
    const opClass = operationClass(op);
    const key = `${this.hour}\n${account}\n${bucketName}\n${principal}\n${opClass}`;
    let c = this.counters.get(key);
    if (c === undefined) {
      c = { hour: this.hour, account, bucket: bucketName, principal, opClass, requests: 0, errors4xx: 0, errors5xx: 0, bytesIn: 0, bytesOut: 0 };
      this.counters.set(key, c);
    }
    c.requests++;
    if (status >= 500) c.errors5xx++;
    else if (status >= 400) c.errors4xx++;
    c.bytesIn += bytesIn;
    c.bytesOut += bytesOut;
  }

  /** Adds what was counted since the last flush to the store (one transaction). */
  flush(): Promise<void> {
    // One flush at a time; a flush asked for meanwhile runs after it (nothing counted is left out).
    const run = async (): Promise<void> => {
      if (this.counters.size === 0) return;
      const batch = this.counters;
      this.counters = new Map();
      const rows: UsageRequestRow[] = [...batch.values()];
      try {
        await this.meta.addUsageRequests(rows);
      } catch (e) {
        // Kept for the next flush.
        for (const [k, c] of batch) {
          const cur = this.counters.get(k);
          if (!cur) this.counters.set(k, c);
          else {
            cur.requests += c.requests;
            cur.errors4xx += c.errors4xx;
            cur.errors5xx += c.errors5xx;
            cur.bytesIn += c.bytesIn;
            cur.bytesOut += c.bytesOut;
          }
        }
        this.log.warn({ err: e, rows: rows.length }, 'usage: cannot record request counters; will retry');
        throw e;
      }
    };
    const next: Promise<void> = (this.flushing ?? Promise.resolve()).catch(() => undefined).then(run);
    this.flushing = next;
    void next.catch(() => undefined).finally(() => {
      if (this.flushing === next) this.flushing = undefined;
    });
    return next;
  }

  /** Stops the timer and flushes what is left. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush().catch(() => undefined);
  }
}
