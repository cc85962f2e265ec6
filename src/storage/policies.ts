// The storage policy registry: named policies (`replicas N`, `ec K+M`; store/blob/policy.ts) kept
// in the metadata store's settings, the default for new buckets, and each bucket's policy (a
// bucket configuration chosen at creation with x-trove-storage-policy, fixed afterwards).
//
// `trove admin policy add|list|remove|default` manages the registry; the bucket's policy is
// reported by HeadBucket and ListObjects in the x-trove-storage-policy response header.

import type { Bucket, MetaStore } from '../store/meta/types.js';
import { formatPolicySpec, parsePolicySpec, POLICY_NAME_RE, width, type StoragePolicy, type StoragePolicySpec } from '../store/blob/policy.js';
import { BucketConfigCache } from '../s3/bucket/config/cache.js';

export const POLICIES_SETTING = 'storage.policies';
export const DEFAULT_POLICY_SETTING = 'storage.default-policy';
/** The request (and response) header naming a bucket's storage policy. */
export const POLICY_HEADER = 'x-trove-storage-policy';
/** Response header of a write acknowledged with fewer shards than its policy wants (healed later). */
export const DEGRADED_HEADER = 'x-trove-degraded';
/** The policy of a bucket created without one while no default is set: one file in --data-dir. */
export const SINGLE = 'single';

const TTL_MS = 5_000;

export class PolicyError extends Error {}

export class StoragePolicies {
  private cached: { list: StoragePolicy[]; def: string | undefined; expires: number } | undefined;
  readonly buckets: BucketConfigCache<string>;

  constructor(
    private readonly meta: MetaStore,
    /** Drives this node has (--data-dirs): a policy wider than that cannot be used. */
    private readonly drives: number,
  ) {
    this.buckets = new BucketConfigCache<string>(meta, 'storage-policy', (s) => s, (s) => s);
  }

  clear(): void {
    this.cached = undefined;
    this.buckets.clear();
  }

  private async load(): Promise<{ list: StoragePolicy[]; def: string | undefined }> {
    const now = Date.now();
    if (this.cached && this.cached.expires > now) return this.cached;
    const raw = await this.meta.getSetting(POLICIES_SETTING);
    const list = raw ? (JSON.parse(raw) as StoragePolicy[]) : [];
    const def = (await this.meta.getSetting(DEFAULT_POLICY_SETTING)) || undefined;
    this.cached = { list, def, expires: now + TTL_MS };
    return this.cached;
  }

  async list(): Promise<{ policies: StoragePolicy[]; default: string }> {
    const { list, def } = await this.load();
    return { policies: list, default: def ?? SINGLE };
  }

  async get(name: string): Promise<StoragePolicy | undefined> {
    return (await this.load()).list.find((p) => p.name === name);
  }

  async add(name: string, specText: string): Promise<StoragePolicy> {
    if (!POLICY_NAME_RE.test(name) || name === SINGLE) throw new PolicyError(`a policy name is 1-63 lower-case letters, digits, - and _ (and not "${SINGLE}"), got "${name}"`);
    let spec: StoragePolicySpec;
    try {
      spec = parsePolicySpec(specText);
    } catch (e) {
      throw new PolicyError((e as Error).message);
    }
    this.cached = undefined;
    const { list } = await this.load();
    if (list.some((p) => p.name === name)) throw new PolicyError(`policy ${name} exists already`);
    const p: StoragePolicy = { name, spec };
    await this.meta.putSetting(POLICIES_SETTING, JSON.stringify([...list, p]));
    this.cached = undefined;
    return p;
  }

  /** Removes a policy no bucket uses. */
  async remove(name: string): Promise<void> {
    this.cached = undefined;
    const { list, def } = await this.load();
    if (!list.some((p) => p.name === name)) throw new PolicyError(`no policy ${name}`);
    if (def === name) throw new PolicyError(`policy ${name} is the default; choose another default first`);
    for (let after: string | undefined; ; ) {
      const page = await this.meta.listBuckets(undefined, { limit: 1000, ...(after !== undefined ? { after } : {}) });
      for (const b of page) {
        if ((await this.meta.getBucketConfig(b.id, 'storage-policy')) === name) throw new PolicyError(`bucket ${b.name} uses policy ${name}`);
      }
      if (page.length < 1000) break;
      after = page.at(-1)!.name;
    }
    await this.meta.putSetting(POLICIES_SETTING, JSON.stringify(list.filter((p) => p.name !== name)));
    this.cached = undefined;
  }

  async setDefault(name: string): Promise<void> {
    if (name !== SINGLE && !(await this.get(name))) throw new PolicyError(`no policy ${name}`);
    await this.meta.putSetting(DEFAULT_POLICY_SETTING, name === SINGLE ? '' : name);
    this.cached = undefined;
  }

  /**
   * The policy a new bucket gets: the one asked for (x-trove-storage-policy), else the default.
   * Throws PolicyError for an unknown policy or one wider than this server's drives.
   */
  async forNewBucket(requested: string | undefined): Promise<StoragePolicy | undefined> {
    const name = requested ?? (await this.load()).def ?? SINGLE;
    if (name === SINGLE) return undefined;
    const p = await this.get(name);
    if (!p) throw new PolicyError(`no storage policy ${name}`);
    if (width(p.spec) > this.drives) throw new PolicyError(`storage policy ${name} (${formatPolicySpec(p.spec)}) needs ${width(p.spec)} drives; this server has ${this.drives}`);
    return p;
  }

  /** The name of a bucket's policy ('single' for none). */
  async nameOf(bucket: Bucket): Promise<string> {
    return (await this.buckets.get(bucket)) ?? SINGLE;
  }

  /** How a bucket's new blobs are placed (undefined: one file in the data directory). */
  async specOf(bucket: Bucket): Promise<StoragePolicySpec | undefined> {
    const name = await this.buckets.get(bucket);
    if (name === undefined) return undefined;
    const p = await this.get(name);
    // A policy is never removed while a bucket uses it (remove() checks).
    if (!p) throw new Error(`bucket ${bucket.name}: storage policy ${name} is not defined`);
    return p.spec;
  }
}
