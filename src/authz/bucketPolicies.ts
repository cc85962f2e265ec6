// Bucket policies, parsed once and kept per bucket: authorisation reads one on every request.
// A change made through this node is seen at once (set/forget); one made by another node sharing
// the metadata store within TTL_MS.

import type { MetaStore, Bucket } from '../store/meta/types.js';
import { parsePolicy, type Policy } from './policy/index.js';

const TTL_MS = 5_000;

export class BucketPolicies {
  private readonly cache = new Map<number, { policy: Policy | undefined; expires: number }>();

  constructor(private readonly meta: MetaStore) {}

  /** The bucket's policy, or undefined when it has none. */
  async get(bucket: Bucket): Promise<Policy | undefined> {
    const now = Date.now();
    const hit = this.cache.get(bucket.id);
    if (hit && hit.expires > now) return hit.policy;
    const json = await this.meta.getBucketConfig(bucket.id, 'policy');
    // Stored policies were validated when they were put.
    const policy = json === undefined ? undefined : parsePolicy(json, 'resource', { bucket: bucket.name });
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(bucket.id, { policy, expires: now + TTL_MS });
    return policy;
  }

  /** Stores a validated policy document (undefined deletes it). */
  async put(bucket: Bucket, json: string | undefined): Promise<void> {
    await this.meta.putBucketConfig(bucket.id, 'policy', json);
    this.cache.delete(bucket.id);
  }
}
