// Read caches of the embedded store, coherent across the processes that share the file.
//
// Writes through this connection forget what they change inside their transaction. Writes by
// other connections (worker processes, `trove admin`) are noticed through PRAGMA data_version,
// which SQLite changes whenever another connection has committed to the file: ForeignWrites reads
// it (a few microseconds) before every cached bucket read when the file is shared (a request looks
// its bucket up before any object of it), and every 100 ms in any case. When it moved, the change
// sequence (commit.ts CHANGE_SEQ_KEY, incremented by every transaction that may change a bucket,
// a configuration, IAM, an account or a setting) says what kind of commit it was: if the sequence
// moved too, both caches are dropped whole and the store's change listeners (the caches above
// the store) are told; if not, the commits changed objects only (another worker's PUTs), and only
// the latest-version cache is dropped — the buckets and everything above the store stay valid,
// and a worker no longer reloads IAM, policies and bucket settings after every PUT of another.
// (The sequence is read after data_version, in the same process: a commit that moved
// data_version is visible to that read, with its increment if it had one.) The argument for strong
// read-after-write: a write acknowledged by process A was committed (and, with several processes,
// synced: synchronous=FULL makes a commit visible to others only once its WAL is synced) before
// A answered; a request that reaches process B after that answer checks data_version after that
// commit, sees it moved, and reads from SQLite. A load that raced a foreign commit may cache what
// it read, but the commit moved data_version, so the next check drops it.

import type Database from 'better-sqlite3';
import { CHANGE_SEQ_KEY } from './commit.js';
import type { Bucket, ObjectVersion } from '../types.js';

/** Notices commits by other connections (see above) and drops the caches when there were any. */
export class ForeignWrites {
  private readonly version: Database.Statement;
  private last: unknown;

  constructor(
    db: Database.Database,
    /** `everything`: the change sequence moved too; `objects`: objects-only commits. */
    private readonly onForeignWrite: (what: 'everything' | 'objects') => void,
    /**
     * Check before every cached read (other processes write objects and buckets: workers). Alone,
     * the only other writer is `trove admin`, which changes accounts and keys, never what the
     * store caches: the periodic check (check()) is enough, and a read saves the ~3 µs.
     */
    private readonly perRead: boolean,
  ) {
    this.version = db.prepare('PRAGMA data_version').pluck();
    this.changeSeq = db.prepare(`SELECT CAST(v AS INTEGER) FROM meta WHERE k = '${CHANGE_SEQ_KEY}'`).pluck();
    this.last = this.version.get();
    this.lastSeq = this.readSeq();
  }

  private readonly changeSeq: Database.Statement;
  /** The change sequence as of the last check, with this connection's own increments since. */
  private lastSeq: number;

  private readSeq(): number {
    return Number(this.changeSeq.get() ?? 0);
  }

  /**
   * This connection committed an increment, to `seq`. If the sequence stood at lastSeq before it,
   * no other connection's increment is unaccounted for: lastSeq follows. Otherwise another
   * connection's increment came in between, and its commit moved data_version: the next check
   * reads a sequence different from lastSeq and drops everything.
   */
  ownChange(seq: number): void {
    if (seq === this.lastSeq + 1) this.lastSeq = seq;
  }

  /** Before a cached read: see `perRead`. */
  beforeCachedRead(): void {
    if (this.perRead) this.check();
  }

  /** Drops the caches (and tells the listeners) if another connection committed since the last check. */
  check(): void {
    const v = this.version.get();
    if (v === this.last) return;
    this.last = v;
    const seq = this.readSeq();
    if (seq === this.lastSeq) return this.onForeignWrite('objects');
    this.lastSeq = seq;
    this.onForeignWrite('everything');
  }
}

/** Buckets are read on every request: by name, dropped by id on every write that changes one. */
export class BucketCache {
  private readonly byName = new Map<string, Bucket>();

  get(name: string): Bucket | undefined {
    return this.byName.get(name);
  }

  set(name: string, b: Bucket): void {
    if (this.byName.size > 10_000) this.byName.clear();
    this.byName.set(name, b);
  }

  forget(id: number): void {
    for (const [name, b] of this.byName) if (b.id === id) this.byName.delete(name);
  }

  clear(): void {
    this.byName.clear();
  }
}

function cacheKey(bucketId: number, key: string): string {
  return `${bucketId}/${key}`;
}

/** Rough memory held by a cached version: its inline bytes plus a fixed allowance. */
function entrySize(v: ObjectVersion): number {
  return (v.inline?.length ?? 0) + v.key.length * 2 + 512;
}

/**
 * The latest version of recently read keys (GET/HEAD of small objects reads the row with its
 * inline bytes: ~3x a plain lookup). Bounded by bytes (inline data counted), least recently read
 * evicted first.
 */
export class LatestCache {
  private readonly entries = new Map<string, ObjectVersion>();
  private bytes = 0;

  constructor(private readonly maxBytes = 64 * 1024 * 1024) {}

  get(bucketId: number, key: string): ObjectVersion | undefined {
    const ck = cacheKey(bucketId, key);
    const hit = this.entries.get(ck);
    if (hit) {
      // Refresh its place in the eviction order.
      this.entries.delete(ck);
      this.entries.set(ck, hit);
    }
    return hit;
  }

  remember(bucketId: number, key: string, v: ObjectVersion): void {
    const size = entrySize(v);
    if (size > this.maxBytes / 64) return;
    this.entries.set(cacheKey(bucketId, key), v);
    this.bytes += size;
    for (const [k, old] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(k);
      this.bytes -= entrySize(old);
    }
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  forget(bucketId: number, key: string): void {
    const ck = cacheKey(bucketId, key);
    const v = this.entries.get(ck);
    if (v) {
      this.entries.delete(ck);
      this.bytes -= entrySize(v);
    }
  }
}
