// BlobStore on a local (or shared, e.g. NFS/CephFS) directory.
//
//   <root>/tmp/<node>/<id>          being written by node <node>; never visible to readers
//   <root>/tmp/<node>.node          who node <node> is (host, pid, boot) and, by its mtime, when
//                                   it was last alive (touched every HEARTBEAT_MS)
//   <root>/blobs/<id[0:2]>/<id>     durable blobs (256 directories, created when the store opens,
//                                   so a write never pays for a mkdir and its directory fsyncs)
//
// Several processes (workers) and several machines may share the directory (NFS, CephFS…): each
// writes its temporary files under its own node directory, and a node starting up removes only
// node directories whose owner is gone — on this machine, a process that no longer runs (exact:
// pid, boot id and process start time); elsewhere, one whose heartbeat is older than `staleNodeMs`
// — never another live node's uploads in progress.
//
// A blob is written to tmp, fdatasynced, renamed into place and its directory fsynced; only then
// does the caller commit metadata that points at it. A crash leaves at worst an unreferenced file,
// which the orphan sweep removes.
//
// A blob file is its data followed by a CRC32 per 64 KiB block and a trailer (layout.ts). Reads
// are of whole blocks, each verified before any of its bytes is handed out.

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { blobId } from '../ids.js';
import { fsyncDir } from '../durability.js';
import { DIR_MODE, FILE_MODE } from '../datadir.js';
import { BLOCK_SIZE, crc, decodeTail, encodeTail, fileSize, planRead, tailSize, verifiedPrefix } from './layout.js';
import { isBlobId } from './policy.js';
import { BlobDamagedError, type BlobStore, type CreateOptions, type BlobWriter, type OpenOptions } from './types.js';
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
  /** This node's id (NODE_ID_RE): its temporary files live in tmp/<nodeId>/. Default: generated. */
  nodeId?: string;
  /** A node directory of another machine whose heartbeat is older than this is removed (ms, default 1 h). */
  staleNodeMs?: number;
}

/** Node ids: letters, digits, '-' and '_' (no '.', which the owner file's name uses). */
export const NODE_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
/** How often a node touches its owner file. */
const HEARTBEAT_MS = 30_000;
const DEFAULT_STALE_NODE_MS = 3600_000;

/** A node id unique to this process start: host, pid and a random suffix. */
export function generateNodeId(): string {
  const host = os.hostname().replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40) || 'node';
  return `${host}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/** What a node's owner file says. */
interface NodeOwner {
  host: string;
  bootId: string;
  pid: number;
  /** Start time of the process (clock ticks since boot, /proc/<pid>/stat field 22), '' if unknown. */
  start: string;
}

function readBootId(): string {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

function processStart(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return undefined;
  }
}

const BOOT_ID = readBootId();

function me(): NodeOwner {
  return { host: os.hostname(), bootId: BOOT_ID, pid: process.pid, start: processStart(process.pid) ?? '' };
}

/**
 * Whether the node that wrote `owner` (its file last touched at `heartbeat`) may still be running.
 * On this machine (same host and boot) the answer is exact: is that process (same pid and start
 * time) alive? For another machine only its heartbeat tells, so it is alive until the heartbeat is
 * older than `staleMs` — chosen far beyond the heartbeat interval and any clock skew.
 */
function ownerAlive(owner: NodeOwner | undefined, heartbeat: number, staleMs: number): boolean {
  if (owner && owner.bootId && owner.host === os.hostname() && owner.bootId === BOOT_ID) {
    if (owner.pid === process.pid && owner.start === me().start) return true;
    try {
      process.kill(owner.pid, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    }
    const start = processStart(owner.pid);
    return start === undefined ? true : !owner.start || start === owner.start;
  }
  return Date.now() - heartbeat < staleMs;
}

export class FsBlobStore implements BlobStore {
  readonly nodeId: string;
  /** tmp/: one directory per node. */
  readonly tmpRoot: string;
  /** This node's temporary files: tmp/<nodeId>/. */
  readonly tmpDir: string;
  readonly blobDir: string;
  private readonly ownerFile: string;
  private heartbeat: NodeJS.Timeout | undefined;
  /** Nodes found gone (and their temp files removed) when this store opened: their leases can go. */
  goneNodes: string[] = [];
  private constructor(private readonly opts: FsBlobStoreOptions) {
    this.nodeId = opts.nodeId ?? generateNodeId();
    if (!NODE_ID_RE.test(this.nodeId)) throw new Error(`invalid node id ${JSON.stringify(this.nodeId)} (letters, digits, - and _, at most 64)`);
    this.tmpRoot = path.join(opts.root, 'tmp');
    this.tmpDir = path.join(this.tmpRoot, this.nodeId);
    this.ownerFile = path.join(this.tmpRoot, this.nodeId + '.node');
    this.blobDir = path.join(opts.root, 'blobs');
  }

  /**
   * Opens the store: claims this node's temporary directory (emptying what a previous run of the
   * same node id left there; refusing an id a live process holds) and removes the temporary
   * directories of nodes that are gone. Other nodes' uploads in progress are left alone.
   */
  static async open(opts: FsBlobStoreOptions): Promise<FsBlobStore> {
    const s = new FsBlobStore(opts);
    await fs.promises.mkdir(s.tmpRoot, { recursive: true, mode: DIR_MODE });
    const prev = await s.readOwner(s.nodeId);
    if (prev && prev.owner && ownerAlive(prev.owner, prev.heartbeat, s.staleMs) && !(prev.owner.pid === process.pid && prev.owner.bootId === BOOT_ID)) {
      throw new Error(`node id ${s.nodeId} is in use by process ${prev.owner.pid} on ${prev.owner.host}; give each node its own --node-id`);
    }
    await fs.promises.rm(s.tmpDir, { recursive: true, force: true });
    await fs.promises.writeFile(s.ownerFile, JSON.stringify(me()) + '\n', { mode: FILE_MODE });
    await fs.promises.mkdir(s.tmpDir, { recursive: true, mode: DIR_MODE });
    s.heartbeat = setInterval(() => {
      const now = new Date();
      fs.promises.utimes(s.ownerFile, now, now).catch((e: unknown) => s.opts.log?.warn({ err: e }, 'cannot touch the node heartbeat file'));
    }, HEARTBEAT_MS).unref();
    s.goneNodes = await s.sweepNodes();
    await fs.promises.mkdir(s.blobDir, { recursive: true, mode: DIR_MODE });
    const fanout = Array.from({ length: 256 }, (_, i) => path.join(s.blobDir, i.toString(16).padStart(2, '0')));
    await Promise.all(fanout.map((d) => fs.promises.mkdir(d, { recursive: true, mode: DIR_MODE })));
    if (opts.fsync) {
      await fsyncDir(opts.root);
      await fsyncDir(s.blobDir);
    }
    return s;
  }

  private get staleMs(): number {
    return this.opts.staleNodeMs ?? DEFAULT_STALE_NODE_MS;
  }

  private async readOwner(node: string): Promise<{ owner: NodeOwner | undefined; heartbeat: number } | undefined> {
    const file = path.join(this.tmpRoot, node + '.node');
    try {
      const st = await fs.promises.stat(file);
      let owner: NodeOwner | undefined;
      try {
        owner = JSON.parse(await fs.promises.readFile(file, 'utf8')) as NodeOwner;
      } catch {
        owner = undefined;
      }
      return { owner, heartbeat: st.mtimeMs };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  /**
   * Removes the temporary directories of nodes that are gone (see ownerAlive), and files left
   * directly in tmp/ by versions before node directories once they are older than the stale
   * age. Returns the ids of the nodes whose directories were removed.
   */
  async sweepNodes(): Promise<string[]> {
    const removed: string[] = [];
    const entries = await fs.promises.readdir(this.tmpRoot, { withFileTypes: true }).catch(() => [] as fs.Dirent[]);
    const names = new Set(entries.map((e) => e.name));
    for (const e of entries) {
      const full = path.join(this.tmpRoot, e.name);
      if (e.isDirectory()) {
        if (e.name === this.nodeId) continue;
        const info = await this.readOwner(e.name);
        // A directory without its owner file is being created or removed: judged by its age.
        const heartbeat = info?.heartbeat ?? (await fs.promises.stat(full).catch(() => undefined))?.mtimeMs ?? 0;
        if (ownerAlive(info?.owner, heartbeat, this.staleMs)) continue;
        await fs.promises.rm(full, { recursive: true, force: true });
        await fs.promises.rm(full + '.node', { force: true });
        this.opts.log?.info({ node: e.name }, 'removed the temporary files of a node that is gone');
        removed.push(e.name);
      } else if (e.name.endsWith('.node')) {
        const node = e.name.slice(0, -'.node'.length);
        if (node === this.nodeId || names.has(node)) continue;
        // An owner file without its directory: the node is starting, or was removed half-way.
        const info = await this.readOwner(node);
        if (info && !ownerAlive(info.owner, info.heartbeat, this.staleMs)) await fs.promises.rm(full, { force: true });
      } else {
        const st = await fs.promises.stat(full).catch(() => undefined);
        if (st && Date.now() - st.mtimeMs > this.staleMs) await fs.promises.rm(full, { force: true });
      }
    }
    return removed;
  }

  pathOf(id: string): string {
    if (!isBlobId(id)) throw new Error(`invalid blob id ${JSON.stringify(id)}`);
    return path.join(this.blobDir, id.slice(0, 2), id);
  }

  /** A new blob; `id` names it (a shard of a placed blob, policy.ts), else a fresh plain id. */
  async create(opts: CreateOptions & { id?: string } = {}): Promise<BlobWriter> {
    if (opts.policy) throw new Error('a storage policy needs drives (--data-dirs)');
    const id = opts.id ?? blobId();
    if (opts.id !== undefined) this.pathOf(id);
    const tmp = path.join(this.tmpDir, id);
    let fh: fs.promises.FileHandle;
    try {
      fh = await fs.promises.open(tmp, 'wx', FILE_MODE);
    } catch (e) {
      // Our directory was removed from under us (by hand, or by a node that judged us gone after
      // a long stall): make it again.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      await fs.promises.mkdir(this.tmpDir, { recursive: true, mode: DIR_MODE });
      fh = await fs.promises.open(tmp, 'wx', FILE_MODE);
    }
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
    const reader = new BlobReader(this, id, size, start, end, release, opts.authenticated === true);
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

  /** Forgets the open file kept for `id` (it was replaced: healed). */
  evict(id: string): void {
    const f = this.files.get(id);
    if (f) void this.drop(id, f);
  }

  /** Lists the blob ids in one of the 256 blob directories (index 0-255). */
  async listDir(index: number): Promise<string[]> {
    const files = await fs.promises.readdir(path.join(this.blobDir, index.toString(16).padStart(2, '0'))).catch(() => [] as string[]);
    return files.filter(isBlobId);
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
   * the metadata commit). Only files last modified before `cutoffMs` are considered: a blob is
   * renamed into place and its metadata committed right after, so a file that is older than a
   * grace period (far beyond that window, on any node) and still unreferenced is an orphan. Never
   * "older than this node's start": another node may be between the rename and the commit.
   * Yields to the event loop as it goes.
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
        if (!isBlobId(f)) continue;
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
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    await Promise.all([...this.files].map(([id, f]) => this.drop(id, f)));
    // A clean stop leaves nothing of this node in tmp/ (writers have finished or aborted).
    await fs.promises.rm(this.tmpDir, { recursive: true, force: true }).catch(() => undefined);
    await fs.promises.rm(this.ownerFile, { force: true }).catch(() => undefined);
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
    /** The caller authenticates the bytes (OpenOptions.authenticated): no CRC check per block. */
    private readonly authenticated = false,
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
    if (!table || this.authenticated) {
      // Legacy blob (served unverified), or bytes the caller authenticates: plain reads.
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
