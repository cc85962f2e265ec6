// The tier registry: remote S3 endpoints (AWS, another Trove, MinIO, Ceph…) object data can be
// moved to, and the storage classes that name them. Stored as metadata settings (`tier:<name>`,
// and `tier:index` listing the names), like the KMS keys: no schema change, every MetaStore has
// settings. A secret key is sealed under the server's master key when one is configured, and is
// never printed back.

import { STORAGE_CLASSES } from '../s3/object/headers.js';
import { unwrapKey, wrapKey } from '../sse/packages.js';
import type { MetaStore } from '../store/meta/types.js';

const INDEX_SETTING = 'tier:index';
const TIER_PREFIX = 'tier:';

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
  secret: { plain: string } | { sealed: string };
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

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
/** Storage class names of our own: upper-case letters, digits and underscores, as S3's are. */
const CLASS = /^[A-Z][A-Z0-9_]{0,63}$/;

function aad(name: string): string {
  return 'tier:' + name;
}

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
  constructor(
    private readonly meta: MetaStore,
    private readonly master: Buffer | undefined,
  ) {}

  private async names(): Promise<string[]> {
    return JSON.parse((await this.meta.getSetting(INDEX_SETTING)) ?? '[]') as string[];
  }

  async records(): Promise<TierRecord[]> {
    const out: TierRecord[] = [];
    for (const n of await this.names()) {
      const v = await this.meta.getSetting(TIER_PREFIX + n);
      if (v) out.push(JSON.parse(v) as TierRecord);
    }
    return out;
  }

  async add(input: TierInput): Promise<TierRecord> {
    const name = input.name;
    if (!NAME.test(name)) throw new TierError(`invalid tier name ${JSON.stringify(name)}: letters, digits, - and _ (at most 63)`);
    let url: URL;
    try {
      url = new URL(input.endpoint);
    } catch {
      throw new TierError(`invalid endpoint ${JSON.stringify(input.endpoint)}: a URL such as https://s3.amazonaws.com`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TierError('the endpoint must be an http:// or https:// URL');
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
      secret: this.master ? { sealed: wrapKey(this.master, Buffer.from(input.secretKey, 'utf8'), aad(name)).toString('base64') } : { plain: input.secretKey },
      archive: input.archive === true,
      storageClasses: classes,
      created: Date.now(),
    };
    // A removed tier's record stays (objects may still point at it): a new one replaces it.
    await this.meta.putSetting(TIER_PREFIX + name, JSON.stringify(rec));
    const names = await this.names();
    if (!names.includes(name)) await this.meta.putSetting(INDEX_SETTING, JSON.stringify([...names, name]));
    return rec;
  }

  /**
   * Removes a tier from the registry. Objects already moved there keep pointing at it by name:
   * they become unreadable until a tier of that name is added again.
   */
  async remove(name: string): Promise<boolean> {
    const names = await this.names();
    if (!names.includes(name)) return false;
    await this.meta.putSetting(INDEX_SETTING, JSON.stringify(names.filter((n) => n !== name)));
    return true;
  }

  /** The tier of that name, its secret opened; undefined when there is none. */
  async get(name: string): Promise<Tier | undefined> {
    if (!(await this.names()).includes(name)) return undefined;
    const v = await this.meta.getSetting(TIER_PREFIX + name);
    return v ? this.open(JSON.parse(v) as TierRecord) : undefined;
  }

  open(rec: TierRecord): Tier {
    const { secret, ...rest } = rec;
    if ('plain' in secret) return { ...rest, secretKey: secret.plain };
    if (!this.master) throw new TierError(`the secret key of tier ${rec.name} is sealed under the master key: start with --master-key-file or TROVE_MASTER_KEY`);
    return { ...rest, secretKey: unwrapKey(this.master, Buffer.from(secret.sealed, 'base64'), aad(rec.name)).toString('utf8') };
  }

  /** Re-seals every tier's secret under a new master key (rotating the master key). */
  async rewrapAll(next: Buffer): Promise<number> {
    let n = 0;
    for (const rec of await this.records()) {
      const t = this.open(rec);
      rec.secret = { sealed: wrapKey(next, Buffer.from(t.secretKey, 'utf8'), aad(rec.name)).toString('base64') };
      await this.meta.putSetting(TIER_PREFIX + rec.name, JSON.stringify(rec));
      n++;
    }
    return n;
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
  const names = JSON.parse((await meta.getSetting(INDEX_SETTING)) ?? '[]') as string[];
  const out = new Set(STORAGE_CLASSES);
  for (const n of names) {
    const v = await meta.getSetting(TIER_PREFIX + n);
    if (v) for (const c of (JSON.parse(v) as TierRecord).storageClasses) out.add(c);
  }
  return out;
}

/** One line per tier for `trove admin tier list`: never the secret. */
export function describeTier(t: TierRecord): string {
  const sealed = 'sealed' in t.secret ? 'sealed' : 'plain';
  return [t.name, t.endpoint, `${t.bucket}/${t.prefix}`, t.region, t.accessKey, `secret:${sealed}`, t.archive ? 'archive' : 'online', t.storageClasses.join(',') || '-'].join('\t') + '\n';
}
