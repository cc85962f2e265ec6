// Free space on the data directory's filesystem, and what a node does when it runs out.
//
// A full disk must never stop a node from freeing space. The guard keeps two margins:
//  - a free-space floor: below it, operations that consume space are refused before their body
//    is read (the pipeline answers 507 InsufficientStorage), so that writes already accepted and
//    the metadata log still find room while deletes and reads go on;
//  - a reserve file, <data-dir>/reserve, holding real blocks for the metadata store alone. When a
//    metadata commit runs out of space anyway (another process filled the disk, uploads outran
//    the floor), the store asks for room and a slice of the reserve is given back right before
//    the store retries: deletes commit, and space comes back as their blobs are collected. Slices,
//    not the whole file, and only on the store's request: space freed on a full disk is taken by
//    whoever writes next (an upload in flight, the WAL checkpointer growing the database file), so
//    each retry gets a fresh slice of its own.
// Free space is read at most once per interval while writes are admitted, immediately after an
// out-of-space error, and every interval while full. Once there is room for the floor and a whole
// reserve again, the reserve is re-created and writes are admitted: no restart needed.

import { randomFillSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';

/**
 * ENOSPC or EDQUOT from the filesystem, SQLITE_FULL from SQLite, disk_full (SQLSTATE 53100) from
 * PostgreSQL: the write needed space there is none of.
 */
export function isOutOfSpace(e: unknown): boolean {
  if (typeof e !== 'object' || e === null || !('code' in e)) return false;
  return e.code === 'ENOSPC' || e.code === 'EDQUOT' || e.code === 'SQLITE_FULL' || e.code === '53100';
}

/** Bytes available to this process on the filesystem holding `dir`. */
export async function statfsFree(dir: string): Promise<number> {
  const s = await fs.promises.statfs(dir);
  return s.bavail * s.bsize;
}

export interface SpaceGuardOptions {
  /** The data directory: the reserve file lives in it, and its filesystem is the one watched. */
  dir: string;
  /** Size of the reserve file (0: none). */
  reserveBytes: number;
  /** Below this many free bytes, space-consuming operations are refused. */
  minFreeBytes: number;
  log: Logger;
  /** Reads free bytes (tests inject their own). */
  freeBytes?: (dir: string) => Promise<number>;
  /** How stale a reading may be while writes are admitted, and how often to re-read while full (ms). */
  intervalMs?: number;
}

const RESERVE_FILE = 'reserve';
const CHUNK = 1024 * 1024;
/** The reserve is given back in this many slices. */
const SLICES = 8;
const PAGE = 4096;

export class SpaceGuard {
  readonly reservePath: string;
  private readonly tmpPath: string;
  private readonly slice: number;
  private full = false;
  /** Bytes the reserve file holds now (less than reserveBytes once slices were given back). */
  private held = 0;
  private checkedAt = -Infinity;
  private checking: Promise<void> | undefined;
  /** Counts out-of-space events, so that a reading taken before one is never applied after it. */
  private epoch = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly intervalMs: number;
  private readonly freeBytes: (dir: string) => Promise<number>;

  private constructor(private readonly o: SpaceGuardOptions) {
    this.reservePath = path.join(o.dir, RESERVE_FILE);
    // Per process: worker processes sharing the data directory may each write a new reserve at
    // once (the last rename wins; each is a whole reserve).
    this.tmpPath = `${this.reservePath}.${process.pid}.tmp`;
    this.slice = Math.ceil(o.reserveBytes / SLICES / PAGE) * PAGE;
    this.intervalMs = o.intervalMs ?? 1000;
    this.freeBytes = o.freeBytes ?? statfsFree;
  }

  /** Adopts the reserve file left by a previous run, or creates it, and takes a first reading. */
  static async open(o: SpaceGuardOptions): Promise<SpaceGuard> {
    const g = new SpaceGuard(o);
    await g.adoptReserve();
    await g.check();
    return g;
  }

  /** True while space is short: space-consuming operations are refused. */
  get isFull(): boolean {
    return this.full;
  }

  /** Bytes the reserve file holds now. */
  get reserveHeld(): number {
    return this.held;
  }

  /**
   * May an operation that consumes space start? Answers from the last reading and refreshes a
   * stale one in the background, so the request path never waits for statfs.
   */
  admits(): boolean {
    if (performance.now() - this.checkedAt >= this.intervalMs) void this.check();
    return !this.full;
  }

  /** A write failed for lack of space: refuse writes and read free space again now. */
  noteOutOfSpace(): void {
    if (this.closed) return;
    this.epoch++;
    this.setFull(true, undefined);
    void this.check();
  }

  /**
   * The metadata store ran out of space and is about to retry: give back a slice of the reserve,
   * synchronously, so that the retry finds it free.
   */
  releaseSlice(): void {
    const keep = Math.max(0, this.held - this.slice);
    if (keep < this.held) {
      try {
        if (keep === 0) fs.rmSync(this.reservePath, { force: true });
        else fs.truncateSync(this.reservePath, keep);
        this.o.log.warn({ released: this.held - keep, left: keep }, 'out of space: gave back part of the space reserve so that deletes can commit');
        this.held = keep;
      } catch (e) {
        this.o.log.error({ err: e, file: this.reservePath }, 'cannot shrink the space reserve file');
      }
    }
    // After the release, so that the reading it starts sees the slice given back.
    this.noteOutOfSpace();
  }

  /** Reads free space now and updates the state (concurrent calls share one reading). */
  check(): Promise<void> {
    this.checking ??= this.runCheck()
      .catch((e: unknown) => this.o.log.error({ err: e, dir: this.o.dir }, 'free-space check failed'))
      .finally(() => (this.checking = undefined));
    return this.checking;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.checking;
  }

  private async runCheck(): Promise<void> {
    for (;;) {
      if (this.closed) return;
      const epoch = this.epoch;
      let free = await this.freeBytes(this.o.dir);
      // An out-of-space event while reading: this reading may predate it.
      if (epoch !== this.epoch) continue;
      this.checkedAt = performance.now();
      if (this.held < this.o.reserveBytes) {
        // A whole new reserve is written beside what is left of the old one, then replaces it.
        if (free < this.o.minFreeBytes + this.o.reserveBytes || !(await this.writeReserve())) {
          this.setFull(true, free);
          return;
        }
        if (epoch !== this.epoch || this.closed) {
          // A slice was given back meanwhile: that release stands, this reserve does not.
          fs.rmSync(this.tmpPath, { force: true });
          continue;
        }
        fs.renameSync(this.tmpPath, this.reservePath);
        free -= this.o.reserveBytes - this.held;
        this.held = this.o.reserveBytes;
      }
      this.setFull(free < this.o.minFreeBytes, free);
      return;
    }
  }

  private setFull(full: boolean, free: number | undefined): void {
    if (full !== this.full) {
      const facts = { free, minFree: this.o.minFreeBytes, reserve: this.o.reserveBytes, reserveHeld: this.held };
      if (full) this.o.log.warn(facts, 'storage full: refusing writes (507 InsufficientStorage) until space is freed; deletes and reads go on');
      else this.o.log.info(facts, 'storage has room again: accepting writes');
    }
    this.full = full;
    if (full && !this.timer && !this.closed) this.timer = setInterval(() => void this.check(), this.intervalMs).unref();
    if (!full && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** Keeps what a previous run left of the reserve, if its blocks are really allocated. */
  private async adoptReserve(): Promise<void> {
    await fs.promises.rm(this.tmpPath, { force: true });
    const st = await fs.promises.stat(this.reservePath).catch(() => undefined);
    if (!st) return;
    // st.blocks counts 512-byte units: a sparse file reserves nothing.
    if (st.size <= this.o.reserveBytes && st.blocks * 512 >= st.size) {
      this.held = st.size;
      return;
    }
    await fs.promises.rm(this.reservePath, { force: true });
  }

  /**
   * Writes a whole reserve to the temporary file with real bytes and syncs it, so that its blocks
   * are allocated (ftruncate would make a sparse file that reserves nothing). Random rather than
   * zero bytes: ZFS and btrfs with compression store an all-zero block as a hole. False when it
   * could not be written.
   */
  private async writeReserve(): Promise<boolean> {
    let fh: fs.promises.FileHandle | undefined;
    try {
      fh = await fs.promises.open(this.tmpPath, 'w', 0o600);
      const chunk = randomFillSync(Buffer.allocUnsafe(Math.min(CHUNK, this.o.reserveBytes)));
      let left = this.o.reserveBytes;
      while (left > 0) {
        const { bytesWritten } = await fh.write(chunk, 0, Math.min(left, chunk.length));
        left -= bytesWritten;
      }
      await fh.datasync();
      await fh.close();
      return true;
    } catch (e) {
      await fh?.close().catch(() => undefined);
      await fs.promises.rm(this.tmpPath, { force: true }).catch(() => undefined);
      if (!isOutOfSpace(e)) this.o.log.error({ err: e, file: this.tmpPath }, 'cannot create the space reserve file');
      return false;
    }
  }
}
