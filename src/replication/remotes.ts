// Replication destinations: remote S3 endpoints (another Trove, AWS, MinIO, Ceph…) the operator
// registers with credentials (`trove admin remote add`). Stored as metadata settings
// (`remote:<name>`, and `remote:index` listing the names), as the tier registry and the KMS keys
// are: no schema change, every MetaStore has settings. A secret key is sealed under the server's
// master key when one is configured, and is never printed back.
//
// How a rule's Destination Bucket ARN (arn:aws:s3:::bucket) finds its remote: each remote lists
// the destination buckets it serves (`--buckets a,b`); the ARN's bucket must be listed by exactly
// one remote. (AWS resolves the ARN within its own partition; a server has no such namespace, so
// the operator says which endpoint holds which bucket.)

import { unwrapKey, wrapKey } from '../sse/packages.js';
import type { MetaStore } from '../store/meta/types.js';

const INDEX_SETTING = 'remote:index';
const PREFIX = 'remote:';

export interface RemoteRecord {
  name: string;
  endpoint: string;
  region: string;
  accessKey: string;
  secret: { plain: string } | { sealed: string };
  /** Destination buckets this remote serves (what arn:aws:s3:::bucket resolves through). */
  buckets: string[];
  created: number;
}

export interface Remote extends Omit<RemoteRecord, 'secret'> {
  secretKey: string;
}

export class RemoteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RemoteError';
  }
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function aad(name: string): string {
  return 'remote:' + name;
}

export interface RemoteInput {
  name: string;
  endpoint: string;
  region?: string;
  accessKey: string;
  secretKey: string;
  buckets: string[];
}

export class RemoteRegistry {
  constructor(
    private readonly meta: MetaStore,
    private readonly master: Buffer | undefined,
  ) {}

  private async names(): Promise<string[]> {
    return JSON.parse((await this.meta.getSetting(INDEX_SETTING)) ?? '[]') as string[];
  }

  async records(): Promise<RemoteRecord[]> {
    const out: RemoteRecord[] = [];
    for (const n of await this.names()) {
      const v = await this.meta.getSetting(PREFIX + n);
      if (v) out.push(JSON.parse(v) as RemoteRecord);
    }
    return out;
  }

  async add(input: RemoteInput): Promise<RemoteRecord> {
    const name = input.name;
    if (!NAME.test(name)) throw new RemoteError(`invalid remote name ${JSON.stringify(name)}: letters, digits, - and _ (at most 63)`);
    let url: URL;
    try {
      url = new URL(input.endpoint);
    } catch {
      throw new RemoteError(`invalid endpoint ${JSON.stringify(input.endpoint)}: a URL such as https://s3.example.com`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RemoteError('the endpoint must be an http:// or https:// URL');
    if (!input.accessKey || !input.secretKey) throw new RemoteError('--access-key and --secret-key are required');
    const buckets = [...new Set(input.buckets.map((b) => b.trim()).filter(Boolean))];
    if (buckets.length === 0) throw new RemoteError('--buckets is required: the destination buckets this remote holds');
    for (const b of buckets) if (!BUCKET.test(b)) throw new RemoteError(`invalid bucket name ${JSON.stringify(b)}`);
    const existing = await this.records();
    if (existing.some((r) => r.name === name)) throw new RemoteError(`remote ${name} exists (remove it first)`);
    for (const r of existing) {
      const clash = r.buckets.find((b) => buckets.includes(b));
      if (clash) throw new RemoteError(`bucket ${clash} is already served by remote ${r.name}`);
    }
    const rec: RemoteRecord = {
      name,
      endpoint: input.endpoint.replace(/\/+$/, ''),
      region: input.region ?? 'us-east-1',
      accessKey: input.accessKey,
      secret: this.master ? { sealed: wrapKey(this.master, Buffer.from(input.secretKey, 'utf8'), aad(name)).toString('base64') } : { plain: input.secretKey },
      buckets,
      created: Date.now(),
    };
    await this.meta.putSetting(PREFIX + name, JSON.stringify(rec));
    const names = await this.names();
    if (!names.includes(name)) await this.meta.putSetting(INDEX_SETTING, JSON.stringify([...names, name]));
    return rec;
  }

  async remove(name: string): Promise<boolean> {
    const names = await this.names();
    if (!names.includes(name)) return false;
    await this.meta.putSetting(INDEX_SETTING, JSON.stringify(names.filter((n) => n !== name)));
    return true;
  }

  /** The remote holding a destination bucket, its secret opened; undefined when none does. */
  async forBucket(bucket: string): Promise<Remote | undefined> {
    const rec = (await this.records()).find((r) => r.buckets.includes(bucket));
    return rec && this.open(rec);
  }

  open(rec: RemoteRecord): Remote {
    const { secret, ...rest } = rec;
    if ('plain' in secret) return { ...rest, secretKey: secret.plain };
    if (!this.master) throw new RemoteError(`the secret key of remote ${rec.name} is sealed under the master key: start with --master-key-file or TROVE_MASTER_KEY`);
    return { ...rest, secretKey: unwrapKey(this.master, Buffer.from(secret.sealed, 'base64'), aad(rec.name)).toString('utf8') };
  }

  /** Re-seals every remote's secret under a new master key (rotating the master key). */
  async rewrapAll(next: Buffer): Promise<number> {
    let n = 0;
    for (const rec of await this.records()) {
      const r = this.open(rec);
      rec.secret = { sealed: wrapKey(next, Buffer.from(r.secretKey, 'utf8'), aad(rec.name)).toString('base64') };
      await this.meta.putSetting(PREFIX + rec.name, JSON.stringify(rec));
      n++;
    }
    return n;
  }
}

/** One line per remote for `trove admin remote list`: never the secret. */
export function describeRemote(r: RemoteRecord): string {
  return [r.name, r.endpoint, r.region, r.accessKey, 'sealed' in r.secret ? 'secret:sealed' : 'secret:plain', r.buckets.join(',')].join('\t') + '\n';
}
