// BlobStore over several drives (--data-dirs), below the BlobStore interface: a blob written under a
// storage policy (policy.ts) is spread over distinct drives as replicas or erasure-coded shards,
// each shard an ordinary checksummed blob file (fs.ts, layout.ts) on its drive, named by the blob's
// id, which records the layout. Plain blobs (buckets without a policy) stay in the data directory.
//
// Writes: every shard is written (tmp, fdatasync, rename, directory fsync) before commit() returns;
// a write succeeds when at least the policy's write quorum of shards is durable, and is then
// reported degraded (BlobWriter.degraded) and its missing shards queued for healing.
// Reads: every block of every shard read is checked against its CRC; a missing or damaged shard
// is replaced by another (a replica, or parity from which the missing data is reconstructed), so
// the bytes handed out are right, and the blob is queued for healing (onDamage).
// Healing (heal()): reads every shard in full, and rewrites the damaged or missing ones from the
// others (tmp + rename over the damaged file).

import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { blobId } from '../ids.js';
import { StoreError } from '../errors.js';
import { FsBlobStore, type FsBlobStoreOptions } from './fs.js';
import { BLOCK_SIZE, blockCount, TRAILER_SIZE } from './layout.js';
import { chunkOf, codeStripes } from './erasure.js';
import { CHUNK, layoutId, parseLayout, partSize, place, readQuorum, width, writeQuorum, type Layout, type StoragePolicySpec } from './policy.js';
import { BlobDamagedError, type BlobStore, type BlobWriter, type CreateOptions, type OpenOptions } from './types.js';
import type { PooledBody } from '../../common/body.js';

/** Stripes coded (and written to each shard) at a time: K × 256 KiB of data per batch. */
const BATCH_STRIPES = 4;
/** Stripes read at a time: each shard's part of them in one read (512 KiB). */
const READ_BATCH_STRIPES = 8;
/** A drive's health is looked at again after this long. */
const HEALTH_MS = 1000;
/** An offline drive is tried again (opened) after this long. */
const RETRY_OPEN_MS = 5000;

export interface DriveStatus {
  index: number;
  root: string;
  online: boolean;
  /** Why it is offline. */
  error?: string;
  /** Bytes used and available on its filesystem. */
  total?: number;
  free?: number;
  /** Shard and replica files on it. */
  files?: number;
  /** Found empty (replaced): the next scrub pass rebuilds its shards. */
  needsHeal?: boolean;
}

/** One drive: a directory holding blob files (an FsBlobStore). */
export class Drive {
  store: FsBlobStore | undefined;
  private checkedAt = 0;
  private openedAt = 0;
  private opening: Promise<void> | undefined;
  error: string | undefined = 'not opened';

  constructor(
    readonly index: number,
    readonly root: string,
    private readonly opts: Omit<FsBlobStoreOptions, 'root'>,
  ) {}

  /** Opens (or re-opens) the drive's store: the directory must exist (a mount point is never made). */
  async open(): Promise<void> {
    this.openedAt = Date.now();
    try {
      const st = await fs.promises.stat(this.root);
      if (!st.isDirectory()) throw new Error(`${this.root} is not a directory`);
      const fresh = !fs.existsSync(path.join(this.root, 'blobs'));
      if (this.store) await this.store.close().catch(() => undefined);
      this.store = await FsBlobStore.open({ ...this.opts, root: this.root, legacy: false });
      // An empty directory (a new drive, or one replacing a failed drive): the shards it should
      // hold are rebuilt from the others by the next scrub pass, which clears the mark. The mark is
      // a file, so that whichever process or node initialised the drive, every one sees it.
      if (fresh) await this.writeMarker(true);
      this.error = undefined;
      this.checkedAt = Date.now();
    } catch (e) {
      this.error = (e as Error).message;
      this.store = undefined;
    }
  }

  private get markerFile(): string {
    return path.join(this.root, 'trove-drive.json');
  }

  private async writeMarker(needsHeal: boolean): Promise<void> {
    const tmp = this.markerFile + '.tmp';
    await fs.promises.writeFile(tmp, JSON.stringify({ drive: this.index, needsHeal, at: new Date().toISOString() }) + '\n', { mode: 0o600 });
    await fs.promises.rename(tmp, this.markerFile);
  }

  /** The drive was found empty (new or replaced) and initialised, and no scrub pass has run since. */
  needsHeal(): boolean {
    try {
      return (JSON.parse(fs.readFileSync(this.markerFile, 'utf8')) as { needsHeal?: boolean }).needsHeal === true;
    } catch {
      return false;
    }
  }

  /** A scrub pass has rebuilt what the drive should hold. */
  async healed(): Promise<void> {
    await this.writeMarker(false);
  }

  /** Whether the drive can be used now (cheap: a stat at most once a second). */
  usable(): boolean {
    const now = Date.now();
    if (!this.store) {
      if (now - this.openedAt > RETRY_OPEN_MS && !this.opening) this.opening = this.open().finally(() => (this.opening = undefined));
      return false;
    }
    if (now - this.checkedAt < HEALTH_MS) return this.error === undefined;
    this.checkedAt = now;
    try {
      fs.accessSync(path.join(this.root, 'blobs'), fs.constants.W_OK);
      this.error = undefined;
    } catch (e) {
      // Gone (removed, unmounted) or unwritable: offline until it comes back. An empty directory
      // where it was is opened again (initialised) and counts as replaced.
      this.error = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      if (!this.opening && fs.existsSync(this.root) && !fs.existsSync(path.join(this.root, 'blobs'))) {
        const old = this.store;
        this.store = undefined;
        this.openedAt = now;
        this.opening = old
          .close()
          .catch(() => undefined)
          .then(() => this.open())
          .finally(() => (this.opening = undefined));
      }
    }
    return this.error === undefined;
  }

  async status(): Promise<DriveStatus> {
    const online = this.usable();
    const s: DriveStatus = { index: this.index, root: this.root, online, ...(this.error ? { error: this.error } : {}), ...(this.needsHeal() ? { needsHeal: true } : {}) };
    try {
      const st = await fs.promises.statfs(this.root);
      s.total = st.blocks * st.bsize;
      s.free = st.bavail * st.bsize;
    } catch {
      /* offline */
    }
    if (online && this.store) {
      let n = 0;
      for (let i = 0; i < 256; i++) n += (await this.store.listDir(i)).length;
      s.files = n;
    }
    return s;
  }

  async close(): Promise<void> {
    await this.opening;
    await this.store?.close();
  }
}

/** Data bytes of a blob file `length` bytes long (the inverse of layout.fileSize); undefined if none fits. */
export function dataSizeOf(length: number): number | undefined {
  const body = length - TRAILER_SIZE;
  if (body < 0) return undefined;
  const b0 = Math.ceil(body / (BLOCK_SIZE + 4));
  for (const b of [b0 - 1, b0, b0 + 1]) {
    const n = body - 4 * b;
    if (b >= 0 && n >= 0 && blockCount(n) === b) return n;
  }
  return undefined;
}

export interface DrivesBlobStoreOptions {
  log?: Logger;
  /** A read found a shard missing or damaged (and served the right bytes from the others). */
  onDamage?: (id: string, partSize: number) => void;
}

/** The outcome of healing one blob. */
export interface HealResult {
  /** Shards (replicas) found missing or damaged. */
  damaged: number;
  /** Of those, rewritten. */
  healed: number;
  /** Shards on drives offline now (left for later). */
  offline: number;
  /** Fewer good shards than a read needs: the blob cannot be rebuilt. */
  lost: boolean;
  /** Bytes read. */
  bytes: number;
}

export class DrivesBlobStore implements BlobStore {
  onDamage: ((id: string, partSize: number) => void) | undefined;
  /** Writes acknowledged with fewer shards than the policy's width (since start). */
  degradedWrites = 0;
  /** Reads that had to use another replica or reconstruct (since start). */
  degradedReads = 0;

  private constructor(
    readonly main: FsBlobStore,
    readonly drives: Drive[],
    private readonly opts: DrivesBlobStoreOptions,
  ) {
    this.onDamage = opts.onDamage;
  }

  static async open(main: FsBlobStore, roots: string[], base: Omit<FsBlobStoreOptions, 'root'>, opts: DrivesBlobStoreOptions = {}): Promise<DrivesBlobStore> {
    const drives = roots.map((r, i) => new Drive(i, r, { ...base, nodeId: main.nodeId }));
    await Promise.all(drives.map((d) => d.open()));
    for (const d of drives) if (d.error) opts.log?.warn({ drive: d.root, err: d.error }, 'drive is offline');
    return new DrivesBlobStore(main, drives, opts);
  }

  get nodeId(): string {
    return this.main.nodeId;
  }
  get goneNodes(): string[] {
    return this.main.goneNodes;
  }
  sweepNodes(): Promise<string[]> {
    return this.main.sweepNodes();
  }

  async sweepOrphans(isKnown: (id: string) => Promise<boolean>, cutoffMs: number, signal?: AbortSignal): Promise<number> {
    let n = await this.main.sweepOrphans(isKnown, cutoffMs, signal);
    for (const d of this.drives) if (d.usable() && d.store) n += await d.store.sweepOrphans(isKnown, cutoffMs, signal);
    return n;
  }

  /** Drive i's store when it is healthy (writes go only there). */
  private drive(i: number): FsBlobStore | undefined {
    const d = this.drives[i];
    return d && d.usable() ? d.store : undefined;
  }

  /**
   * Drive i's store for reading: whenever it is open, healthy or not as last seen (a read of a
   * drive that is really gone fails at once and another shard is used; one just back is read).
   */
  readable(i: number): FsBlobStore | undefined {
    const d = this.drives[i];
    if (!d) return undefined;
    d.usable();
    return d.store;
  }

  async create(opts: CreateOptions = {}): Promise<BlobWriter> {
    if (!opts.policy) return this.main.create();
    const spec = opts.policy;
    const base = blobId();
    const drives = place(base, width(spec), this.drives.length, (i) => this.drives[i]!.usable());
    if (!drives) throw new Error(`storage policy ${spec.kind === 'ec' ? `ec ${spec.k}+${spec.m}` : `replicas ${spec.n}`} needs ${width(spec)} drives, the server has ${this.drives.length}`);
    const layout: Layout = { base, spec, drives };
    const id = layoutId(layout);
    const writers = await Promise.all(
      drives.map(async (d) => {
        const s = this.drive(d);
        if (!s) return undefined;
        try {
          return await s.create({ id });
        } catch (e) {
          this.opts.log?.warn({ drive: this.drives[d]!.root, err: e }, 'cannot write to drive');
          return undefined;
        }
      }),
    );
    const w = new ShardedWriter(this, layout, id, writers);
    await w.checkQuorum();
    return w;
  }

  async openRange(id: string, size: number, start: number, end: number, opts: OpenOptions = {}): Promise<PooledBody> {
    const layout = id.length === 32 ? undefined : parseLayout(id);
    if (!layout) return this.main.openRange(id, size, start, end, opts);
    const reader = layout.spec.kind === 'replicas' ? new ReplicaReader(this, id, layout, size, start, end) : new EcReader(this, id, layout, size, start, end);
    await reader.open();
    return reader;
  }

  async check(id: string, size: number, opts: OpenOptions = {}): Promise<void> {
    const layout = id.length === 32 ? undefined : parseLayout(id);
    if (!layout) return this.main.check(id, size, opts);
    const part = partSize(layout.spec, size);
    const results = await Promise.all(
      layout.drives.map(async (d) => {
        const s = this.readable(d);
        if (!s) return false;
        return s.check(id, part).then(
          () => true,
          () => false,
        );
      }),
    );
    const good = results.filter(Boolean).length;
    if (good < results.length) this.damaged(id, part);
    if (good < readQuorum(layout.spec)) throw new BlobDamagedError(id, 0, `${good} of ${results.length} shards readable, ${readQuorum(layout.spec)} needed`, good === 0);
  }

  async delete(id: string): Promise<void> {
    const layout = id.length === 32 ? undefined : parseLayout(id);
    if (!layout) return this.main.delete(id);
    // A drive offline now keeps its shard: the orphan sweep removes it once the drive is back.
    await Promise.all(layout.drives.map((d) => this.drive(d)?.delete(id).catch(() => undefined)));
  }

  /** Whether drive `d` is usable and has a file for blob `id`. */
  holds(d: number, id: string): boolean {
    const s = this.drive(d);
    return s !== undefined && fs.existsSync(s.pathOf(id));
  }

  /** A read found damage: count it and have the blob healed. */
  damaged(id: string, part: number): void {
    this.degradedReads++;
    this.onDamage?.(id, part);
  }

  /**
   * Heals one placed blob whose shards hold `part` bytes of data each (undefined: found from a
   * readable shard's length): reads every shard in full (verifying every block), then rewrites the
   * damaged or missing ones from the good ones. `throttle` is awaited with the bytes read so far
   * (the scrubber's rate limit).
   */
  async heal(id: string, part?: number, throttle?: (bytes: number) => Promise<void>): Promise<HealResult> {
    const layout = parseLayout(id);
    if (!layout) throw new Error(`not a placed blob: ${id}`);
    const res: HealResult = { damaged: 0, healed: 0, offline: 0, lost: false, bytes: 0 };
    const n = layout.drives.length;
    if (part === undefined) {
      for (const d of layout.drives) {
        const s = this.readable(d);
        const st = s && (await fs.promises.stat(s.pathOf(id)).catch(() => undefined));
        const size = st && dataSizeOf(st.size);
        if (size !== undefined) {
          part = size;
          break;
        }
      }
      if (part === undefined) return { ...res, lost: true };
    }
    // 1. Verify every shard.
    const good: boolean[] = await Promise.all(
      layout.drives.map(async (d) => {
        const s = this.readable(d);
        if (!s) return false;
        const ok = await readAll(s, id, part!, (b) => {
          res.bytes += b;
          return throttle?.(res.bytes);
        });
        return ok;
      }),
    );
    const bad = good.flatMap((g, i) => (g ? [] : [i]));
    res.damaged = bad.length;
    if (bad.length === 0) return res;
    const sources = good.flatMap((g, i) => (g ? [i] : []));
    if (sources.length < readQuorum(layout.spec)) return { ...res, lost: true };
    const targets = bad.filter((i) => this.drive(layout.drives[i]!) !== undefined);
    const sourceStore = (i: number) => this.readable(layout.drives[i]!)!;
    res.offline = bad.length - targets.length;
    if (targets.length === 0) return res;
    // 2. Rewrite the bad ones from the good ones.
    const writers = await Promise.all(targets.map((i) => this.drive(layout.drives[i]!)!.create({ id })));
    try {
      if (layout.spec.kind === 'replicas') await copyReplica(sourceStore(sources[0]!), id, part, writers);
      else await rebuildShards(this, layout, id, part, sources, targets, writers);
      for (const w of writers) await w.commit();
    } catch (e) {
      await Promise.all(writers.map((w) => w.abort()));
      throw e;
    }
    for (const i of targets) this.drives[layout.drives[i]!]!.store?.evict(id);
    res.healed = targets.length;
    this.opts.log?.info({ blobId: id, healed: targets.length, of: n }, 'healed blob');
    return res;
  }

  async status(): Promise<DriveStatus[]> {
    return Promise.all(this.drives.map((d) => d.status()));
  }

  async close(): Promise<void> {
    await Promise.all(this.drives.map((d) => d.close().catch(() => undefined)));
    await this.main.close();
  }
}

/** Reads a shard in full, verifying every block: whether it is intact. */
async function readAll(s: FsBlobStore, id: string, part: number, progress?: (bytes: number) => Promise<void> | undefined): Promise<boolean> {
  let body: PooledBody | undefined;
  try {
    body = await s.openRange(id, part, 0, part - 1);
    const buf = Buffer.allocUnsafe(1024 * 1024);
    for (;;) {
      const n = await body.read(buf);
      if (n === 0) break;
      await progress?.(n);
    }
    return true;
  } catch (e) {
    if (e instanceof BlobDamagedError) return false;
    throw e;
  } finally {
    await body?.close().catch(() => undefined);
  }
}

async function copyReplica(s: FsBlobStore, id: string, part: number, writers: BlobWriter[]): Promise<void> {
  const body = await s.openRange(id, part, 0, part - 1);
  try {
    for (;;) {
      const buf = Buffer.allocUnsafe(1024 * 1024);
      const n = await body.read(buf);
      if (n === 0) break;
      await Promise.all(writers.map((w) => w.write(buf.subarray(0, n))));
    }
  } finally {
    await body.close();
  }
}

async function rebuildShards(store: DrivesBlobStore, layout: Layout, id: string, part: number, sources: number[], targets: number[], writers: BlobWriter[]): Promise<void> {
  if (layout.spec.kind !== 'ec') throw new Error('not erasure-coded');
  const { k, m } = layout.spec;
  // K sources suffice; data shards first (cheapest to read, and they are what a read needs).
  const use = sources.slice(0, k);
  const bodies = await Promise.all(use.map((i) => store.drives[layout.drives[i]!]!.store!.openRange(id, part, 0, part - 1)));
  try {
    const stripes = part / CHUNK;
    for (let first = 0; first < stripes; first += BATCH_STRIPES) {
      const n = Math.min(BATCH_STRIPES, stripes - first);
      const data = Buffer.allocUnsafe(n * k * CHUNK);
      const parity = Buffer.allocUnsafe(n * m * CHUNK);
      await Promise.all(
        use.map(async (i, j) => {
          for (let s = 0; s < n; s++) await readExactly(bodies[j]!, chunkOf(k, m, data, parity, CHUNK, s, i), id);
        }),
      );
      await codeStripes(k, m, data, parity, CHUNK, n, use, targets);
      await Promise.all(
        targets.map(async (t, j) => {
          for (let s = 0; s < n; s++) await writers[j]!.write(chunkOf(k, m, data, parity, CHUNK, s, t));
        }),
      );
    }
  } finally {
    await Promise.all(bodies.map((b) => b.close()));
  }
}

async function readExactly(body: PooledBody, buf: Buffer, id: string): Promise<void> {
  for (let done = 0; done < buf.length; ) {
    const n = await body.read(done === 0 ? buf : buf.subarray(done));
    if (n === 0) throw new BlobDamagedError(id, done, 'shard ended early');
    done += n;
  }
}

/**
 * Writes a placed blob: the same bytes to every replica, or stripes coded into K + M shards.
 * A shard whose drive fails is dropped; the write fails only when fewer than the write quorum
 * remain.
 */
class ShardedWriter implements BlobWriter {
  size = 0;
  degraded = 0;
  private readonly spec: StoragePolicySpec;
  /** EC: the batch being filled (shard by shard: data shard j's chunks of the batch's stripes at j·BATCH). */
  private batch: Buffer | undefined;
  private fill = 0;

  constructor(
    private readonly store: DrivesBlobStore,
    private readonly layout: Layout,
    readonly id: string,
    private readonly writers: (BlobWriter | undefined)[],
  ) {
    this.spec = layout.spec;
  }

  async checkQuorum(): Promise<void> {
    const live = this.writers.filter(Boolean).length;
    if (live < writeQuorum(this.spec)) {
      await this.abort();
      throw new StoreError('InsufficientDrives');
    }
  }

  /** Writes to each live shard writer; a failing one is dropped (and aborted). */
  private async toShards(parts: (i: number) => Buffer[]): Promise<void> {
    await Promise.all(
      this.writers.map(async (w, i) => {
        if (!w) return;
        try {
          for (const b of parts(i)) await w.write(b);
        } catch (e) {
          this.drop(i, e);
        }
      }),
    );
    await this.checkQuorum();
  }

  private drop(i: number, e: unknown): void {
    const w = this.writers[i];
    if (!w) return;
    this.writers[i] = undefined;
    void w.abort().catch(() => undefined);
    this.store.drives[this.layout.drives[i]!]!.error = (e as Error).message;
  }

  async write(chunk: Buffer): Promise<void> {
    if (chunk.length === 0) return;
    this.size += chunk.length;
    if (this.spec.kind === 'replicas') return this.toShards(() => [chunk]);
    const batchBytes = BATCH_STRIPES * this.spec.k * CHUNK;
    // The batch holds the data in order: stripe s is bytes [s·K·CHUNK, (s+1)·K·CHUNK).
    for (let off = 0; off < chunk.length; ) {
      this.batch ??= Buffer.allocUnsafe(batchBytes);
      const n = Math.min(batchBytes - this.fill, chunk.length - off);
      chunk.copy(this.batch, this.fill, off, off + n);
      off += n;
      this.fill += n;
      if (this.fill === batchBytes) await this.flushBatch();
    }
  }

  /** Codes the batch's stripes (zero-padding a last, partial one) and writes their chunks to the shards. */
  private async flushBatch(): Promise<void> {
    if (this.spec.kind !== 'ec' || !this.batch || this.fill === 0) return;
    const { k, m } = this.spec;
    const stripes = Math.ceil(this.fill / (k * CHUNK));
    const data = this.batch;
    data.fill(0, this.fill, stripes * k * CHUNK);
    const parity = Buffer.allocUnsafe(stripes * m * CHUNK);
    await codeStripes(k, m, data, parity, CHUNK, stripes, Array.from({ length: k }, (_, i) => i), Array.from({ length: m }, (_, i) => k + i));
    this.batch = undefined;
    this.fill = 0;
    await this.toShards((i) => Array.from({ length: stripes }, (_, s) => chunkOf(k, m, data, parity, CHUNK, s, i)));
  }

  async commit(): Promise<void> {
    await this.flushBatch();
    await Promise.all(
      this.writers.map(async (w, i) => {
        if (!w) return;
        try {
          await w.commit();
        } catch (e) {
          this.drop(i, e);
        }
      }),
    );
    const live = this.writers.filter(Boolean).length;
    if (live < writeQuorum(this.spec)) {
      // Too few shards are durable: what is there is removed (an unreferenced id in any case).
      await this.store.delete(this.id).catch(() => undefined);
      throw new StoreError('InsufficientDrives');
    }
    this.degraded = this.writers.length - live;
    if (this.degraded > 0) {
      this.store.degradedWrites++;
      this.store.onDamage?.(this.id, partSize(this.spec, this.size));
    }
  }

  async abort(): Promise<void> {
    await Promise.all(this.writers.map((w) => w?.abort().catch(() => undefined)));
  }
}

/** Reads a replicated blob from one replica, moving to another at a missing or damaged block. */
class ReplicaReader implements PooledBody {
  private body: PooledBody | undefined;
  private next = 0;
  private pos: number;
  private order: number[];
  private reported = false;
  private closed = false;

  constructor(
    private readonly store: DrivesBlobStore,
    private readonly id: string,
    private readonly layout: Layout,
    private readonly size: number,
    start: number,
    private readonly end: number,
  ) {
    this.pos = start;
    // Replicas on usable drives first, each reader starting with a different one.
    const n = layout.drives.length;
    const first = Math.floor(Math.random() * n);
    const all = Array.from({ length: n }, (_, i) => (first + i) % n);
    this.order = [...all.filter((i) => store.drives[layout.drives[i]!]!.usable()), ...all.filter((i) => !store.drives[layout.drives[i]!]!.usable())];
  }

  /** Opens the next replica that opens (BlobDamagedError when none does). */
  async open(): Promise<void> {
    let last: unknown;
    while (this.next < this.order.length) {
      const i = this.order[this.next++]!;
      const s = this.store.readable(this.layout.drives[i]!);
      if (!s) {
        this.report();
        continue;
      }
      try {
        this.body = await s.openRange(this.id, this.size, this.pos, this.end);
        return;
      } catch (e) {
        if (!(e instanceof BlobDamagedError)) throw e;
        last = e;
        this.report();
      }
    }
    throw last instanceof BlobDamagedError ? last : new BlobDamagedError(this.id, this.pos, 'no replica is readable', true);
  }

  private report(): void {
    if (this.reported) return;
    this.reported = true;
    this.store.damaged(this.id, this.size);
  }

  async read(buf: Buffer): Promise<number> {
    if (this.closed || this.pos > this.end) return 0;
    for (;;) {
      if (!this.body) await this.open();
      try {
        const n = await this.body!.read(buf);
        this.pos += n;
        return n;
      } catch (e) {
        if (!(e instanceof BlobDamagedError)) throw e;
        this.report();
        await this.body!.close().catch(() => undefined);
        this.body = undefined;
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.body?.close();
    this.body = undefined;
  }
}

/**
 * Reads bytes [start, end] of an erasure-coded blob, a batch of stripes at a time: from the data
 * shards when they are intact; otherwise from any K intact shards, reconstructing the rest.
 */
class EcReader implements PooledBody {
  private readonly k: number;
  private readonly m: number;
  private readonly part: number;
  /** Shard readers, opened from the first stripe read on; undefined: not opened (or failed). */
  private readonly bodies: (PooledBody | undefined)[];
  private readonly failed: boolean[];
  /** The next stripe to decode, and the last one needed. */
  private stripe: number;
  private readonly lastStripe: number;
  /** Decoded data of the current batch (shard by shard) and what of it is still to hand out. */
  private data: Buffer | undefined;
  private shardBuf: Buffer | undefined;
  private batchFirst = 0;
  private batchStripes = 0;
  private pos: number;
  private reported = false;
  private closed = false;

  constructor(
    private readonly store: DrivesBlobStore,
    private readonly id: string,
    private readonly layout: Layout,
    private readonly size: number,
    start: number,
    private readonly end: number,
  ) {
    if (layout.spec.kind !== 'ec') throw new Error('not erasure-coded');
    this.k = layout.spec.k;
    this.m = layout.spec.m;
    this.part = partSize(layout.spec, size);
    const n = this.k + this.m;
    this.bodies = new Array<PooledBody | undefined>(n).fill(undefined);
    this.failed = new Array<boolean>(n).fill(false);
    this.pos = start;
    this.stripe = Math.floor(start / (this.k * CHUNK));
    this.lastStripe = end >= start ? Math.floor(end / (this.k * CHUNK)) : this.stripe - 1;
  }

  private report(): void {
    if (this.reported) return;
    this.reported = true;
    this.store.damaged(this.id, this.part);
  }

  /** Opens shard i's reader at the current stripe; false if it is missing or damaged. */
  private async openShard(i: number): Promise<boolean> {
    if (this.failed[i]) return false;
    if (this.bodies[i]) return true;
    const s = this.store.readable(this.layout.drives[i]!);
    if (!s) {
      this.fail(i);
      return false;
    }
    try {
      this.bodies[i] = await s.openRange(this.id, this.part, this.stripe * CHUNK, (this.lastStripe + 1) * CHUNK - 1);
      return true;
    } catch (e) {
      if (!(e instanceof BlobDamagedError)) throw e;
      this.fail(i);
      return false;
    }
  }

  private fail(i: number): void {
    this.failed[i] = true;
    const b = this.bodies[i];
    this.bodies[i] = undefined;
    void b?.close().catch(() => undefined);
    this.report();
  }

  /** Opens the data shards (and parity for any that fail): BlobDamagedError if fewer than K open. */
  async open(): Promise<void> {
    if (this.lastStripe < this.stripe) return;
    await Promise.all(Array.from({ length: this.k }, (_, i) => this.openShard(i)));
    await this.ensureSources();
  }

  /** Opens parity shards until K shards are open. */
  private async ensureSources(): Promise<number[]> {
    const open = () => this.bodies.flatMap((b, i) => (b ? [i] : []));
    for (let i = 0; open().length < this.k && i < this.k + this.m; i++) await this.openShard(i);
    const got = open();
    if (got.length < this.k) {
      await this.close();
      throw new BlobDamagedError(this.id, this.pos, `${got.length} of ${this.k + this.m} shards readable, ${this.k} needed`, got.length === 0);
    }
    return got;
  }

  /** Decodes the next batch of stripes into this.data. */
  private async decodeBatch(): Promise<void> {
    const k = this.k;
    const m = this.m;
    const stripes = Math.min(READ_BATCH_STRIPES, this.lastStripe - this.stripe + 1);
    const run = stripes * CHUNK;
    // Shard by shard: each source shard's chunks of the batch in one read.
    // Reused from batch to batch: read() copies out of it, nothing else keeps it.
    const shards = (this.shardBuf ??= Buffer.allocUnsafe(k * READ_BATCH_STRIPES * CHUNK));
    let spare: Buffer | undefined;
    for (;;) {
      const sources = (await this.ensureSources()).slice(0, k);
      const missing = Array.from({ length: k }, (_, i) => i).filter((i) => !sources.includes(i));
      // Parity sources land in a spare area, in the place of the data shards they stand in for.
      if (missing.length) spare ??= Buffer.allocUnsafe(m * run);
      let p = 0;
      const slot = (i: number) => (i < k ? shards.subarray(i * run, (i + 1) * run) : spare!.subarray(p * run, (++p) * run));
      const ok = await Promise.all(
        sources.map(async (i) => {
          const into = slot(i);
          try {
            await readExactly(this.bodies[i]!, into, this.id);
            return true;
          } catch (e) {
            if (!(e instanceof BlobDamagedError)) throw e;
            this.fail(i);
            return false;
          }
        }),
      );
      if (ok.every(Boolean)) {
        if (missing.length) await this.reconstruct(shards, spare!, sources, missing, stripes);
        break;
      }
      // A shard failed mid-batch: the others have moved past this batch's start; reopen every
      // shard at it and try again with another source set.
      for (let i = 0; i < k + m; i++) {
        const b = this.bodies[i];
        this.bodies[i] = undefined;
        await b?.close().catch(() => undefined);
      }
    }
    this.data = shards;
    this.batchFirst = this.stripe;
    this.batchStripes = stripes;
    this.stripe += stripes;
  }

  /**
   * Rebuilds the missing data shards of a batch: the codec works stripe by stripe on stripe-major
   * buffers, so the sources are gathered into them, and the rebuilt chunks copied back.
   */
  private async reconstruct(shards: Buffer, spare: Buffer, sources: number[], missing: number[], stripes: number): Promise<void> {
    const k = this.k;
    const m = this.m;
    const run = stripes * CHUNK;
    const data = Buffer.allocUnsafe(stripes * k * CHUNK);
    const parity = Buffer.allocUnsafe(stripes * m * CHUNK);
    let p = 0;
    for (const i of sources) {
      const from = i < k ? shards.subarray(i * run, (i + 1) * run) : spare.subarray(p * run, (++p) * run);
      for (let s = 0; s < stripes; s++) from.copy(chunkOf(k, m, data, parity, CHUNK, s, i), 0, s * CHUNK, (s + 1) * CHUNK);
    }
    await codeStripes(k, m, data, parity, CHUNK, stripes, sources, missing);
    for (const i of missing) for (let s = 0; s < stripes; s++) chunkOf(k, m, data, parity, CHUNK, s, i).copy(shards, i * run + s * CHUNK);
  }

  async read(buf: Buffer): Promise<number> {
    if (this.closed || this.pos > this.end) return 0;
    const stripeBytes = this.k * CHUNK;
    if (!this.data || this.pos >= (this.batchFirst + this.batchStripes) * stripeBytes) await this.decodeBatch();
    const run = this.batchStripes * CHUNK;
    const batchStart = this.batchFirst * stripeBytes;
    const batchEnd = Math.min(batchStart + this.batchStripes * stripeBytes - 1, this.end);
    let done = 0;
    while (done < buf.length && this.pos <= batchEnd) {
      // Byte pos of the data: stripe s, chunk j (data shard j), offset o in the chunk.
      const rel = this.pos - batchStart;
      const s = Math.floor(rel / stripeBytes);
      const j = Math.floor((rel - s * stripeBytes) / CHUNK);
      const o = rel - s * stripeBytes - j * CHUNK;
      const n = Math.min(CHUNK - o, batchEnd - this.pos + 1, buf.length - done);
      const from = j * run + s * CHUNK + o;
      this.data!.copy(buf, done, from, from + n);
      done += n;
      this.pos += n;
    }
    return done;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.data = undefined;
    this.shardBuf = undefined;
    await Promise.all(this.bodies.map((b) => b?.close().catch(() => undefined)));
    this.bodies.fill(undefined);
  }
}
