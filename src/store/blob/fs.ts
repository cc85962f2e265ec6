// BlobStore on a local (or shared, e.g. NFS/CephFS) directory.
//
//   <root>/tmp/<id>                 being written; never visible to readers
//   <root>/blobs/<id[0:2]>/<id>     durable blobs (256 directories, created when the store opens,
//                                   so a write never pays for a mkdir and its directory fsyncs)
//
// A blob is written to tmp, fdatasynced, renamed into place and its directory fsynced; only then
// does the caller commit metadata that points at it. A crash leaves at worst an unreferenced file,
// which the orphan sweep removes.
//
// A blob file is its data followed by a CRC32 per 64 KiB block and a trailer (layout.ts). Reads
// are of whole blocks, each verified before any of its bytes is handed out.

import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { blobId } from '../ids.js';
import { fsyncDir } from '../durability.js';
import { DIR_MODE, FILE_MODE } from '../datadir.js';
import { BLOCK_SIZE, crc, decodeTail, encodeTail, fileSize, planRead, tailSize, verifiedPrefix } from './layout.js';
import { BlobDamagedError, type BlobStore, type BlobWriter, type OpenOptions } from './types.js';
import type { PooledBody } from '../../common/body.js';

/** Pending bytes gathered before one writev; and the most we queue before the writer waits. */
const WRITE_BATCH = 512 * 1024;
const MAX_QUEUED = 4 * 1024 * 1024;
/** Validated blob files kept open for the next reader: at most this many, and this many bytes of CRC tables. */
const MAX_OPEN_FILES = 1024;
const MAX_OPEN_TABLE_BYTES = 16 * 1024 * 1024;

/** A blob file opened and validated (length, trailer) once, shared by its readers. */
interface OpenBlob {
  readonly fh: fs.promises.FileHandle;
  readonly size: number;
  /** CRC table; undefined for a legacy file, served unverified. */
  readonly table: Buffer | undefined;
  users: number;
  /** Out of the cache: closed when its last user is done. */
  dropped: boolean;
}

export interface FsBlobStoreOptions {
  root: string;
  fsync: boolean;
  /**
   * The directory holds blobs written before blob files had checksums (bare data): a file exactly
   * as long as its data is then served unverified. Otherwise a file without a trailer is damaged.
   */
  legacy?: boolean;
  log?: Logger;
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

  async openRange(id: string, size: number, start: number, end: number, opts: OpenOptions = {}): Promise<PooledBody> {
    const release = this.lease(id);
    const reader = new BlobReader(this, id, size, start, end, release);
    try {
      if (opts.lazy) this.checkLength(id, size, (await statOf(this.pathOf(id), id)).size);
      else await reader.open();
    } catch (e) {
      release();
      throw e;
    }
    return reader;
  }

  async check(id: string, size: number, opts: OpenOptions = {}): Promise<void> {
    await (await this.openRange(id, size, 0, -1, opts)).close();
  }

  /** A file of `length` bytes for `size` bytes of data: true if it has checksums, false if a legacy file (served unverified). */
  private checkLength(id: string, size: number, length: number): boolean {
    if (length === fileSize(size)) return true;
    if (this.opts.legacy && length === size) return false;
    throw new BlobDamagedError(id, 0, `file is ${length} bytes, expected ${fileSize(size)}`);
  }

  /**
   * Open blob files, least recently used first. Opening and validating a file for every read
   * (open, fstat, a read of its tail, and a close afterwards) made GETs of 1 MiB objects a fifth
   * slower; blobs never change, so a validated file stays open for the next reader, who checks
   * with one fstat that it is still linked and of the same length. Deleting a blob closes it.
   */
  private readonly files = new Map<string, OpenBlob>();
  private tableBytes = 0;

  /** The open, validated file of a blob of `size` bytes (BlobDamagedError); give it back with release(). */
  async acquire(id: string, size: number): Promise<OpenBlob> {
    const cached = this.files.get(id);
    if (cached && cached.size === size) {
      cached.users++;
      this.files.delete(id);
      this.files.set(id, cached);
      try {
        const st = await cached.fh.stat();
        if (st.nlink === 0) throw new BlobDamagedError(id, 0, 'file is missing', true);
        this.checkLength(id, size, st.size);
      } catch (e) {
        void this.drop(id, cached);
        await this.release(cached);
        throw e;
      }
      return cached;
    }
    const f: OpenBlob = { ...(await this.openFile(id, size)), size, users: 1, dropped: false };
    if (this.files.has(id)) {
      // Opened meanwhile by another reader: this one is used once.
      f.dropped = true;
      return f;
    }
    this.files.set(id, f);
    this.tableBytes += f.table?.length ?? 0;
    for (const [oldId, old] of this.files) {
      if (this.files.size <= MAX_OPEN_FILES && this.tableBytes <= MAX_OPEN_TABLE_BYTES) break;
      void this.drop(oldId, old);
    }
    return f;
  }

  async release(f: OpenBlob): Promise<void> {
    if (--f.users === 0 && f.dropped) await f.fh.close();
  }

  private drop(id: string, f: OpenBlob): Promise<void> {
    if (this.files.get(id) === f) {
      this.files.delete(id);
      this.tableBytes -= f.table?.length ?? 0;
    }
    f.dropped = true;
    return f.users === 0 ? f.fh.close().catch(() => undefined) : Promise.resolve();
  }

  /** Opens a blob file and checks its length and trailer. */
  private async openFile(id: string, size: number): Promise<{ fh: fs.promises.FileHandle; table: Buffer | undefined }> {
    let fh: fs.promises.FileHandle;
    try {
      fh = await fs.promises.open(this.pathOf(id), 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new BlobDamagedError(id, 0, 'file is missing', true);
      if ((code !== 'EMFILE' && code !== 'ENFILE') || this.files.size === 0) throw e;
      // Out of file descriptors: give back the idle ones kept open, and try once more.
      await Promise.all([...this.files].map(([k, f]) => this.drop(k, f)));
      fh = await fs.promises.open(this.pathOf(id), 'r');
    }
    try {
      if (!this.checkLength(id, size, (await fh.stat()).size)) {
        this.opts.log?.debug({ blobId: id }, 'legacy blob without checksums served unverified');
        return { fh, table: undefined };
      }
      // Its own memory (not a slice of the shared pool): the table may stay cached.
      const tail = Buffer.allocUnsafeSlow(tailSize(size));
      await readFully(fh, tail, tail.length, size, id);
      const t = decodeTail(tail, size);
      if ('invalid' in t) throw new BlobDamagedError(id, 0, t.invalid);
      return { fh, table: t.table };
    } catch (e) {
      await fh.close().catch(() => undefined);
      throw e;
    }
  }

  async delete(id: string): Promise<void> {
    const f = this.files.get(id);
    if (f) void this.drop(id, f);
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

  async close(): Promise<void> {
    await Promise.all([...this.files].map(([id, f]) => this.drop(id, f)));
  }
}

/**
 * Bytes [start, end] of one blob. Each read covers whole blocks (the first from its block's start,
 * the last to its block's end) and verifies them before handing out the wanted bytes.
 */
class BlobReader implements PooledBody {
  private file: OpenBlob | undefined;
  /** For callers whose buffers are smaller than a block. */
  private scratch: Buffer | undefined;
  private pos: number;
  private closed = false;

  constructor(
    private readonly store: FsBlobStore,
    private readonly id: string,
    private readonly size: number,
    start: number,
    private readonly end: number,
    private readonly release: () => void,
  ) {
    this.pos = start;
  }

  async open(): Promise<void> {
    const f = await this.store.acquire(this.id, this.size);
    if (this.closed) await this.store.release(f);
    else this.file = f;
  }

  async read(buf: Buffer): Promise<number> {
    if (this.pos > this.end || this.closed) return 0;
    if (!this.file) await this.open();
    if (!this.file) return 0;
    const { fh, table } = this.file;
    if (!table) {
      // Legacy blob: plain reads.
      const want = Math.min(buf.length, this.end - this.pos + 1);
      await readFully(fh, buf, want, this.pos, this.id);
      this.pos += want;
      return want;
    }
    const target = buf.length >= BLOCK_SIZE ? buf : (this.scratch ??= Buffer.allocUnsafe(BLOCK_SIZE));
    const r = planRead(this.pos, this.end, this.size, target.length);
    await readFully(fh, target, r.length, r.from, this.id);
    const good = verifiedPrefix(target, r.length, r.from / BLOCK_SIZE, table);
    let take = Math.min(r.take, buf.length);
    if (good < r.length) {
      // Hand out what verified; the next read starts at the damaged block and fails.
      const damaged = r.from + good;
      if (damaged <= this.pos) throw new BlobDamagedError(this.id, damaged, 'block checksum mismatch');
      take = Math.min(take, damaged - this.pos);
    }
    if (target !== buf) target.copy(buf, 0, r.skip, r.skip + take);
    else if (r.skip > 0) buf.copyWithin(0, r.skip, r.skip + take);
    this.pos += take;
    return take;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const f = this.file;
    this.file = undefined;
    try {
      if (f) await this.store.release(f);
    } finally {
      this.release();
    }
  }
}

class FsBlobWriter implements BlobWriter {
  size = 0;
  /** CRC32 of each full block written so far, and of the block being filled. */
  private readonly crcs: number[] = [];
  private blockCrc = 0;
  private blockFill = 0;
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
    this.checksum(chunk);
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

  /** Feeds the block CRCs (chunks do not align with blocks). */
  private checksum(chunk: Buffer): void {
    for (let off = 0; off < chunk.length; ) {
      const n = Math.min(BLOCK_SIZE - this.blockFill, chunk.length - off);
      this.blockCrc = crc(n === chunk.length ? chunk : chunk.subarray(off, off + n), this.blockCrc);
      this.blockFill += n;
      off += n;
      if (this.blockFill === BLOCK_SIZE) {
        this.crcs.push(this.blockCrc);
        this.blockCrc = 0;
        this.blockFill = 0;
      }
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
    if (this.failed) throw this.failed;
    // The CRC table and trailer go after the data, in the same final write.
    if (this.blockFill > 0) this.crcs.push(this.blockCrc);
    const tail = encodeTail(this.crcs, this.size);
    this.pending.push(tail);
    this.pendingBytes += tail.length;
    this.flush();
    await this.inflight;
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

/** Reads exactly `length` bytes at `position`; a file that ends sooner is damaged. */
async function readFully(fh: fs.promises.FileHandle, buf: Buffer, length: number, position: number, id: string): Promise<void> {
  for (let done = 0; done < length; ) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0) throw new BlobDamagedError(id, position + done, 'file is shorter than expected');
    done += bytesRead;
  }
}

async function statOf(file: string, id: string): Promise<fs.Stats> {
  try {
    return await fs.promises.stat(file);
  } catch (e) {
    throw (e as NodeJS.ErrnoException).code === 'ENOENT' ? new BlobDamagedError(id, 0, 'file is missing', true) : e;
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
