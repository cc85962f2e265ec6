// The tier registry: remote S3 endpoints (AWS, another Trove, MinIO, Ceph…) object data can be
// moved to, and the storage classes that name them. Stored as metadata settings (`tier:<name>`,
// and `tier:index` listing the names), like the KMS keys: no schema change, every MetaStore has
// settings. A secret key is sealed under the server's master key when one is configured, and is
// never printed back.

import { STORAGE_CLASSES } from '../s3/object/headers.js';
import { SealedEndpoints, type StoredSecret } from '../sse/endpoints.js';
import type { MetaStore } from '../store/meta/types.js';


/** A remote tier as stored (the secret possibly sealed). */
export interface TierRecord {
  name: string;
  endpoint: string;
  bucket: string;
  /** Prepended to every remote key ('' or ending in '/', as given). */
  prefix: string;
  region: string;
  accessKey: string;
  /** The secret: plain (`plain`) or sealed under the master key (`sealed`, base64). */
  secret: StoredSecret;
  /** Archive tiers answer InvalidObjectState to reads until an object is restored. */
  archive: boolean;
  /** Storage classes that name this tier (GLACIER, STANDARD_IA, or own names such as COLD). */
  storageClasses: string[];
  created: number;
}

/** A tier ready to use: its secret opened. */
export interface Tier extends Omit<TierRecord, 'secret'> {
  secretKey: string;
}

export class TierError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TierError';
  }
}

/** Storage class names of our own: upper-case letters, digits and underscores, as S3's are. */
const CLASS = /^[A-Z][A-Z0-9_]{0,63}$/;

export interface TierInput {
  name: string;
  endpoint: string;
  bucket: string;
  prefix?: string;
  region?: string;
  accessKey: string;
  secretKey: string;
  archive?: boolean;
  storageClasses?: string[];
}

/** The registry over a MetaStore's settings; `master` seals secrets when given. */
export class TierRegistry {
  private readonly store: SealedEndpoints<TierRecord>;

  constructor(meta: MetaStore, master: Buffer | undefined) {
    this.store = new SealedEndpoints<TierRecord>(meta, master, 'tier', (m) => new TierError(m));
  }

  records(): Promise<TierRecord[]> {
    return this.store.records();
  }

  async add(input: TierInput): Promise<TierRecord> {
    const name = input.name;
    this.store.check(name, input.endpoint, 'https://s3.amazonaws.com');
    if (!input.bucket) throw new TierError('--bucket is required');
    if (!input.accessKey || !input.secretKey) throw new TierError('--access-key and --secret-key are required');
    const classes = [...new Set((input.storageClasses ?? []).map((c) => c.trim()).filter(Boolean))];
    for (const c of classes) {
      if (!CLASS.test(c)) throw new TierError(`invalid storage class ${JSON.stringify(c)}: upper-case letters, digits and _`);
      if (c === 'STANDARD') throw new TierError('STANDARD is the local storage class; it cannot name a tier');
    }
    const existing = await this.records();
    if (existing.some((t) => t.name === name)) throw new TierError(`tier ${name} exists (remove it first)`);
    for (const t of existing) {
      const clash = t.storageClasses.find((c) => classes.includes(c));
      if (clash) throw new TierError(`storage class ${clash} already names tier ${t.name}`);
    }
    const rec: TierRecord = {
      name,
      endpoint: input.endpoint.replace(/\/+$/, ''),
      bucket: input.bucket,
      prefix: input.prefix ?? '',
      region: input.region ?? 'us-east-1',
      accessKey: input.accessKey,
      secret: this.store.seal(name, input.secretKey),
      archive: input.archive === true,
      storageClasses: classes,
      created: Date.now(),
    };
    // A removed tier's record stays (objects may still point at it): a new one replaces it.
    await this.store.put(rec);
    return rec;
  }

  /**
   * Removes a tier from the registry. Objects already moved there keep pointing at it by name:
   * they become unreadable until a tier of that name is added again.
   */
  remove(name: string): Promise<boolean> {
    return this.store.remove(name);
  }

  /** The tier of that name, its secret opened; undefined when there is none. */
  async get(name: string): Promise<Tier | undefined> {
    const rec = await this.store.record(name);
    return rec && this.open(rec);
  }

  open(rec: TierRecord): Tier {
    return this.store.open(rec);
  }

  /** Re-seals every tier's secret under a new master key (rotating the master key). */
  rewrapAll(next: Buffer): Promise<number> {
    return this.store.rewrapAll(next);
  }

  /** The tier a storage class names, if any. */
  async forClass(storageClass: string): Promise<Tier | undefined> {
    const rec = (await this.records()).find((t) => t.storageClasses.includes(storageClass));
    return rec && this.open(rec);
  }

  /** Storage classes configured for tiers. */
  async configuredClasses(): Promise<string[]> {
    return (await this.records()).flatMap((t) => t.storageClasses);
  }
}

/**
 * The storage classes a lifecycle Transition (or a PUT) may name: S3's standard names and the
 * classes configured for tiers. For lifecycle's validation (the engine helper's rules).
 */
export async function knownStorageClasses(meta: MetaStore): Promise<Set<string>> {
  const out = new Set(STORAGE_CLASSES);
  // Records only: reading classes needs no master key.
  for (const c of await new TierRegistry(meta, undefined).configuredClasses()) out.add(c);
  return out;
}

/** One line per tier for `trove admin tier list`: never the secret. */
export function describeTier(t: TierRecord): string {
  const sealed = 'sealed' in t.secret ? 'sealed' : 'plain';
  return [t.name, t.endpoint, `${t.bucket}/${t.prefix}`, t.region, t.accessKey, `secret:${sealed}`, t.archive ? 'archive' : 'online', t.storageClasses.join(',') || '-'].join('\t') + '\n';
}
