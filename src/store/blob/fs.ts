// BlobStore on a local (or shared, e.g. NFS/CephFS) directory.
//
//   <root>/tmp/<id>                 being written; never visible to readers
//   <root>/blobs/<id[0:2]>/<id>     durable blobs (256 directories, created when the store opens,
//                                   so a write never pays for a mkdir and its directory fsyncs)
//
// A blob is written to tmp, fdatasynced, renamed into place and its directory fsynced; only then
// does the caller commit metadata that points at it. A crash leaves at worst an unreferenced file,
// which the orphan sweep removes.

import fs from 'node:fs';
import path from 'node:path';
import { blobId } from '../ids.js';
import { fsyncDir } from '../meta/durability.js';
import { DIR_MODE, FILE_MODE } from '../datadir.js';
import type { BlobStore, BlobWriter } from './types.js';
import type { PooledBody } from '../../http/pooled.js';

/** Pending bytes gathered before one writev; and the most we queue before the writer waits. */
const WRITE_BATCH = 512 * 1024;
const MAX_QUEUED = 4 * 1024 * 1024;

export interface FsBlobStoreOptions {
  root: string;
  fsync: boolean;
}

export class FsBlobStore implements BlobStore {
  readonly tmpDir: string;
  readonly blobDir: string;
  private constructor(private readonly opts: FsBlobStoreOptions) {
    this.tmpDir = path.join(opts.root, 'tmp');
    this.blobDir = path.join(opts.root, 'blobs');
  }

  /** Opens the store and clears temporary files left by a previous run of this node. */
  static async open(opts: FsBlobStoreOptions): Promise<FsBlobStore> {
    const s = new FsBlobStore(opts);
    await fs.promises.rm(s.tmpDir, { recursive: true, force: true });
    await fs.promises.mkdir(s.tmpDir, { recursive: true, mode: DIR_MODE });
    await fs.promises.mkdir(s.blobDir, { recursive: true, mode: DIR_MODE });
    const fanout = Array.from({ length: 256 }, (_, i) => path.join(s.blobDir, i.toString(16).padStart(2, '0')));
    await Promise.all(fanout.map((d) => fs.promises.mkdir(d, { recursive: true, mode: DIR_MODE })));
    if (opts.fsync) {
      await fsyncDir(opts.root);
      await fsyncDir(s.blobDir);
    }
    return s;
  }

  pathOf(id: string): string {
    if (!/^[0-9a-f]{32}$/.test(id)) throw new Error(`invalid blob id ${JSON.stringify(id)}`);
    return path.join(this.blobDir, id.slice(0, 2), id);
  }

  async create(): Promise<BlobWriter> {
    const id = blobId();
    const tmp = path.join(this.tmpDir, id);
    const fh = await fs.promises.open(tmp, 'wx', FILE_MODE);
    return new FsBlobWriter(this, id, tmp, fh, this.opts.fsync);
  }

  /**
   * Read leases: a blob being read is not unlinked until its last reader closes, even if the
   * object was overwritten or deleted and collected meanwhile (a GET that started before a
   * delete finishes with the bytes it started with).
   */
  private readonly leases = new Map<string, number>();
  private readonly deferred = new Set<string>();

  private lease(id: string): () => void {
    this.leases.set(id, (this.leases.get(id) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.leases.get(id) ?? 1) - 1;
      if (n > 0) {
        this.leases.set(id, n);
        return;
      }
      this.leases.delete(id);
      if (this.deferred.delete(id)) void this.unlink(id).catch(() => undefined);
    };
  }

  /** Bytes [start, end] of a blob, leased from now until close(); the file opens on first read. */
  openRange(id: string, start: number, end: number): PooledBody {
    const file = this.pathOf(id);
    const release = this.lease(id);
    let fh: fs.promises.FileHandle | undefined;
    let pos = start;
    return {
      async read(buf: Buffer): Promise<number> {
        if (pos > end) return 0;
        fh ??= await fs.promises.open(file, 'r');
        const want = Math.min(buf.length, end - pos + 1);
        const { bytesRead } = await fh.read(buf, 0, want, pos);
        if (bytesRead === 0) throw new Error(`blob ${id} is shorter than its metadata says`);
        pos += bytesRead;
        return bytesRead;
      },
      async close(): Promise<void> {
        const h = fh;
        fh = undefined;
        try {
          await h?.close();
        } finally {
          release();
        }
      },
    };
  }

  async delete(id: string): Promise<void> {
    if (this.leases.has(id)) {
      this.deferred.add(id);
      return;
    }
    await this.unlink(id);
  }

  private async unlink(id: string): Promise<void> {
    try {
      await fs.promises.unlink(this.pathOf(id));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }

  /**
   * Removes blob files that no metadata references (left by a crash between the blob's rename and
   * the metadata commit). Only files last modified before `cutoffMs` are considered, so that
   * uploads in flight are never touched: with one node, the time this node started; with nodes
   * sharing the directory, an age well beyond any upload. Yields to the event loop as it goes.
   */
  async sweepOrphans(isKnown: (id: string) => Promise<boolean>, cutoffMs: number, signal?: AbortSignal): Promise<number> {
    let removed = 0;
    const cutoff = cutoffMs;
    const dirs = await fs.promises.readdir(this.blobDir).catch(() => [] as string[]);
    for (const d of dirs) {
      if (signal?.aborted) return removed;
      const dir = path.join(this.blobDir, d);
      const files = await fs.promises.readdir(dir).catch(() => [] as string[]);
      for (const f of files) {
        if (!/^[0-9a-f]{32}$/.test(f)) continue;
        const st = await fs.promises.stat(path.join(dir, f)).catch(() => undefined);
        if (!st || st.mtimeMs > cutoff) continue;
        if (!(await isKnown(f))) {
          await this.delete(f);
          removed++;
        }
        // Yield now and then: a sweep never starves request handling.
        if (removed % 64 === 0) await new Promise((r) => setImmediate(r));
      }
      await new Promise((r) => setImmediate(r));
    }
    return removed;
  }

  async close(): Promise<void> {}
}

class FsBlobWriter implements BlobWriter {
  size = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private inflight: Promise<void> | undefined;
  private inflightBytes = 0;
  private failed: Error | undefined;
  private done = false;
  private position = 0;

  constructor(
    private readonly store: FsBlobStore,
    readonly id: string,
    private readonly tmpPath: string,
    private readonly fh: fs.promises.FileHandle,
    private readonly fsync: boolean,
  ) {}

  async write(chunk: Buffer): Promise<void> {
    if (this.failed) throw this.failed;
    if (chunk.length === 0) return;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    this.size += chunk.length;
    if (this.pendingBytes >= WRITE_BATCH && !this.inflight) this.flush();
    // Backpressure: wait for the disk when too much is queued.
    while (this.inflight && this.pendingBytes + this.inflightBytes >= MAX_QUEUED) {
      await this.inflight;
      if (this.failed) throw this.failed;
      if (this.pendingBytes >= WRITE_BATCH && !this.inflight) this.flush();
    }
  }

  private flush(): void {
    const bufs = this.pending;
    const bytes = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    this.inflightBytes = bytes;
    const pos = this.position;
    this.position += bytes;
    this.inflight = writeAll(this.fh, bufs, pos)
      .catch((e: Error) => {
        this.failed = e;
      })
      .finally(() => {
        this.inflight = undefined;
        this.inflightBytes = 0;
      });
  }

  async commit(): Promise<void> {
    if (this.inflight) await this.inflight;
    if (this.pendingBytes > 0) {
      this.flush();
      await this.inflight;
    }
    if (this.failed) throw this.failed;
    if (this.fsync) await this.fh.datasync();
    await this.fh.close();
    this.done = true;
    const dest = this.store.pathOf(this.id);
    const dir = path.dirname(dest);
    await fs.promises.rename(this.tmpPath, dest);
    if (this.fsync) await fsyncDir(dir);
  }

  async abort(): Promise<void> {
    if (this.inflight) await this.inflight.catch(() => undefined);
    if (!this.done) {
      this.done = true;
      await this.fh.close().catch(() => undefined);
    }
    await fs.promises.unlink(this.tmpPath).catch(() => undefined);
  }
}

async function writeAll(fh: fs.promises.FileHandle, bufs: Buffer[], position: number): Promise<void> {
  let pos = position;
  let list = bufs;
  while (list.length > 0) {
    const { bytesWritten } = await fh.writev(list, pos);
    pos += bytesWritten;
    // Short write: drop what was written and continue with the rest.
    let n = bytesWritten;
    let i = 0;
    while (i < list.length && n >= list[i]!.length) n -= list[i++]!.length;
    list = list.slice(i);
    if (n > 0 && list.length > 0) list[0] = list[0]!.subarray(n);
  }
}
