// Read caches of the embedded store. Both are correct only because this process is the store's
// only writer and every write that changes a cached record forgets it inside its transaction:
// a cache never serves what a read from SQLite would not. (A store with several writers must drop
// them, version them, or invalidate them from the other writers.)

import type { Bucket, ObjectVersion } from '../types.js';

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

  forget(bucketId: number, key: string): void {
    const ck = cacheKey(bucketId, key);
    const v = this.entries.get(ck);
    if (v) {
      this.entries.delete(ck);
      this.bytes -= entrySize(v);
    }
  }
}
