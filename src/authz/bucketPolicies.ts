// Bucket policies, parsed once and kept per bucket: authorisation reads one on every request.
// A change made through this process is seen at once (put); one made by another process or node
// when the metadata store's change feed reports it (clear(), from MetaStore.onChange: with SQLite
// before the request's bucket is even looked up, since that lookup checks for foreign commits
// first), and within TTL_MS in any case.

import type { MetaStore, Bucket } from '../store/meta/types.js';
import { parsePolicy, type Policy } from './policy/index.js';

const TTL_MS = 5_000;

export class BucketPolicies {
  private readonly cache = new Map<number, { policy: Policy | undefined; expires: number }>();
  /** Bumped by every put and clear: a read that overlapped one does not cache what it read. */
  private generation = 0;

  constructor(private readonly meta: MetaStore) {}

  /** Another process or node may have changed any policy. */
  clear(): void {
    this.generation++;
    this.cache.clear();
  }

  /** The cached entry of the bucket's policy while fresh, without reading (the hot path's synchronous hit). */
  peek(bucket: Bucket): { readonly policy: Policy | undefined } | undefined {
    const hit = this.cache.get(bucket.id);
    return hit && hit.expires > Date.now() ? hit : undefined;
  }

  /** The bucket's policy, or undefined when it has none. */
  async get(bucket: Bucket): Promise<Policy | undefined> {
    const now = Date.now();
    const hit = this.cache.get(bucket.id);
    if (hit && hit.expires > now) return hit.policy;
    const generation = this.generation;
    const json = await this.meta.getBucketConfig(bucket.id, 'policy');
    // Stored policies were validated when they were put.
    const policy = json === undefined ? undefined : parsePolicy(json, 'resource', { bucket: bucket.name });
    if (generation !== this.generation) return policy;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(bucket.id, { policy, expires: now + TTL_MS });
    return policy;
  }

  /** Stores a validated policy document (undefined deletes it). */
  async put(bucket: Bucket, json: string | undefined): Promise<void> {
    await this.meta.putBucketConfig(bucket.id, 'policy', json);
    this.generation++;
    this.cache.delete(bucket.id);
  }
}
