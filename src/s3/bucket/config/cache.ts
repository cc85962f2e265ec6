// One bucket configuration kind, parsed once and kept per bucket, like bucket policies
// (authz/bucketPolicies.ts): request paths that consult a configuration on every request (CORS
// headers, website serving) read it from memory. A change made through this process is seen at
// once (put); one made by another process or node when the metadata store's change feed reports
// it (clear(), from MetaStore.onChange), and within TTL_MS in any case.

import type { Bucket, BucketConfigKind, MetaStore } from '../../../store/meta/types.js';

const TTL_MS = 5_000;

export class BucketConfigCache<T> {
  private readonly cache = new Map<number, { value: T | undefined; expires: number }>();
  /** Bumped by every put: a read that overlapped a put does not cache what it read. */
  private generation = 0;

  constructor(
    private readonly meta: MetaStore,
    private readonly kind: BucketConfigKind,
    private readonly decode: (stored: string) => T,
    private readonly encode: (value: T) => string,
  ) {}

  /** Another process or node may have changed any bucket's configuration. */
  clear(): void {
    this.generation++;
    this.cache.clear();
  }

  /** The bucket's configuration, or undefined when it has none. */
  async get(bucket: Bucket): Promise<T | undefined> {
    const now = Date.now();
    const hit = this.cache.get(bucket.id);
    if (hit && hit.expires > now) return hit.value;
    const generation = this.generation;
    const stored = await this.meta.getBucketConfig(bucket.id, this.kind);
    const value = stored === undefined ? undefined : this.decode(stored);
    if (generation === this.generation) {
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(bucket.id, { value, expires: now + TTL_MS });
    }
    return value;
  }

  /** Stores a validated configuration (undefined deletes it). */
  async put(bucket: Bucket, value: T | undefined): Promise<void> {
    await this.meta.putBucketConfig(bucket.id, this.kind, value === undefined ? undefined : this.encode(value));
    this.generation++;
    this.cache.delete(bucket.id);
  }
}
