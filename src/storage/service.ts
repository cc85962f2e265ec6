// Keeping placed blobs whole: heal work (engine kind 'blob.heal', queued when a read or a write
// finds a shard missing or damaged), and the scrubber, which reads every shard on the drives once
// per --scrub-interval at most --scrub-rate bytes a second, healing what it finds, and starts a
// pass at once when a drive comes back empty (replaced). Its progress is kept in the metadata
// store's settings, where `trove admin drive` reads it.

import type { Logger } from 'pino';
import type { Engine } from '../engine/index.js';
import type { MetaStore } from '../store/meta/types.js';
import type { Drive, DrivesBlobStore } from '../store/blob/drives.js';
import { parseLayout } from '../store/blob/policy.js';

export const HEAL_KIND = 'blob.heal';
export const SCRUB_SETTING = 'storage.scrub';
const SCRUB_LEASE = 'storage.scrub';
const SCRUB_LEASE_TTL_MS = 60_000;
/** How often the scrubber looks whether a pass is due (or a drive was replaced). */
const TICK_MS = 5_000;

interface HealPayload {
  id: string;
  part?: number;
}

export interface ScrubProgress {
  /** The pass running or last run. */
  startedAt: number;
  finishedAt?: number;
  /** Why it started: 'period', 'drive replaced', 'requested'. */
  reason: string;
  /** Drive and blob directory (0-255) reached. */
  drive: number;
  dir: number;
  drives: number;
  blobs: number;
  bytes: number;
  damaged: number;
  healed: number;
  /** Blobs with fewer good shards than a read needs. */
  lost: number;
  /** Shards left for later: their drive is offline. */
  offline: number;
}

export interface StorageCounters {
  healed: number;
  healFailures: number;
}

export class StorageService {
  readonly counters: StorageCounters = { healed: 0, healFailures: 0 };
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly abort = new AbortController();
  private requested = false;

  constructor(
    private readonly meta: MetaStore,
    private readonly engine: Engine,
    private readonly blobs: DrivesBlobStore,
    private readonly log: Logger,
    private readonly opts: { holder: string; intervalMs: number; rate: number },
  ) {}

  /** Registers the heal handler and routes the store's damage reports to it (before engine.start()). */
  register(): void {
    this.engine.register<HealPayload>(HEAL_KIND, (item) => this.heal(item.payload, item.attempts), { concurrency: 2, retryBaseMs: 5_000, retryMaxMs: 10 * 60_000 });
    this.blobs.onDamage = (id, part) => {
      void this.engine.enqueue([{ kind: HEAL_KIND, payload: { id, part } satisfies HealPayload, dedupeKey: `heal:${id}` }]).catch((e: unknown) => this.log.warn({ err: e, blobId: id }, 'cannot queue a heal'));
    };
  }

  private async heal(p: HealPayload, attempts: number): Promise<void> {
    if (!(await this.meta.hasBlob(p.id))) {
      // A degraded write queues its heal before its metadata commits: give it a moment. Still
      // unreferenced after that: deleted meanwhile (or never committed), nothing to keep.
      if (attempts < 3) throw new Error(`blob ${p.id} is not referenced (yet)`);
      return;
    }
    const r = await this.blobs.heal(p.id, p.part);
    this.counters.healed += r.healed;
    if (r.lost) {
      this.counters.healFailures++;
      this.log.error({ blobId: p.id }, 'blob has fewer intact shards than a read needs: it cannot be rebuilt');
      return;
    }
    // Shards on a drive that is offline now: try again later (backoff), until it is back or replaced.
    if (r.offline > 0) throw new Error(`${r.offline} shard(s) of ${p.id} are on offline drives`);
  }

  /** For metrics: this process's counts since start, and the drives' state now. */
  stats(): { degradedWrites: number; degradedReads: number; healed: number; healFailures: number; online: number; offline: number } {
    const online = this.blobs.drives.filter((d) => d.usable()).length;
    return {
      degradedWrites: this.blobs.degradedWrites,
      degradedReads: this.blobs.degradedReads,
      healed: this.counters.healed,
      healFailures: this.counters.healFailures,
      online,
      offline: this.blobs.drives.length - online,
    };
  }

  start(): void {
    if (this.blobs.drives.length === 0) return;
    this.timer = setInterval(() => void this.tick(), TICK_MS).unref();
    void this.tick();
  }

  /** Starts a pass now (tests, `trove admin drive scrub`). */
  request(): void {
    this.requested = true;
    void this.tick();
  }

  private async tick(): Promise<void> {
    if (this.running || this.abort.signal.aborted) return;
    const replaced = this.blobs.drives.filter((d) => d.usable() && d.needsHeal());
    let reason: string | undefined;
    if (replaced.length) reason = 'drive replaced';
    else if (this.requested) reason = 'requested';
    else if (this.opts.intervalMs > 0) {
      const last = await this.progress().catch(() => undefined);
      if (!last || (last.finishedAt !== undefined && Date.now() - last.finishedAt >= this.opts.intervalMs)) reason = 'period';
      else if (last.finishedAt === undefined && Date.now() - last.startedAt > SCRUB_LEASE_TTL_MS * 2) reason = 'period';
    }
    if (!reason) return;
    this.running = this.pass(reason, replaced)
      .catch((e: unknown) => this.log.warn({ err: e }, 'scrub pass failed'))
      .finally(() => (this.running = undefined));
  }

  async progress(): Promise<ScrubProgress | undefined> {
    const raw = await this.meta.getSetting(SCRUB_SETTING);
    return raw ? (JSON.parse(raw) as ScrubProgress) : undefined;
  }

  /** Whether no pass is running in this process. */
  async idle(): Promise<void> {
    await this.running;
  }

  private async pass(reason: string, replaced: Drive[]): Promise<void> {
    if (!(await this.meta.tryLease(SCRUB_LEASE, this.opts.holder, SCRUB_LEASE_TTL_MS))) return;
    this.requested = false;
    const renew = setInterval(() => void this.meta.tryLease(SCRUB_LEASE, this.opts.holder, SCRUB_LEASE_TTL_MS).catch(() => undefined), SCRUB_LEASE_TTL_MS / 4).unref();
    const started = Date.now();
    const p: ScrubProgress = { startedAt: started, reason, drive: 0, dir: 0, drives: this.blobs.drives.length, blobs: 0, bytes: 0, damaged: 0, healed: 0, lost: 0, offline: 0 };
    this.log.info({ reason }, 'scrub pass starts');
    let passBytes = 0;
    // Sleeps as long as the bytes read so far are ahead of the rate.
    const throttle = async (bytes: number): Promise<void> => {
      const ahead = ((passBytes + bytes) / this.opts.rate) * 1000 - (Date.now() - started);
      if (ahead > 5) await new Promise((r) => setTimeout(r, Math.min(ahead, 1000)));
    };
    try {
      await this.save(p);
      for (const drive of this.blobs.drives) {
        p.drive = drive.index;
        for (let dir = 0; dir < 256; dir++) {
          if (this.abort.signal.aborted) return;
          p.dir = dir;
          if (!drive.usable() || !drive.store) break;
          for (const id of await drive.store.listDir(dir)) {
            if (this.abort.signal.aborted) return;
            const layout = parseLayout(id);
            if (!layout) continue;
            // Each blob once: from the first of its drives that holds a file of it.
            const before = layout.drives.slice(0, layout.drives.indexOf(drive.index));
            if (before.some((d) => this.blobs.holds(d, id))) continue;
            // Unreferenced (being written, or an orphan): the orphan sweep's business.
            if (!(await this.meta.hasBlob(id))) continue;
            const r = await this.blobs.heal(id, undefined, throttle);
            passBytes += r.bytes;
            p.blobs++;
            p.bytes += r.bytes;
            p.damaged += r.damaged;
            p.healed += r.healed;
            p.offline += r.offline;
            if (r.lost) {
              p.lost++;
              this.log.error({ blobId: id }, 'scrub: blob has fewer intact shards than a read needs');
            }
            this.counters.healed += r.healed;
          }
          if (dir % 16 === 15) await this.save(p);
        }
      }
      p.finishedAt = Date.now();
      p.drive = this.blobs.drives.length;
      await this.save(p);
      // Replaced drives are whole again, unless shards could not be written (offline drives).
      if (p.offline === 0) for (const d of replaced) await d.healed();
      this.log.info({ ...p }, 'scrub pass done');
    } finally {
      clearInterval(renew);
      await this.meta.releaseLease(SCRUB_LEASE, this.opts.holder).catch(() => undefined);
    }
  }

  private save(p: ScrubProgress): Promise<void> {
    return this.meta.putSetting(SCRUB_SETTING, JSON.stringify(p));
  }

  async stop(): Promise<void> {
    this.abort.abort();
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
