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

import { SealedEndpoints, type StoredSecret } from '../sse/endpoints.js';
import type { MetaStore } from '../store/meta/types.js';


export interface RemoteRecord {
  name: string;
  endpoint: string;
  region: string;
  accessKey: string;
  secret: StoredSecret;
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

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export interface RemoteInput {
  name: string;
  endpoint: string;
  region?: string;
  accessKey: string;
  secretKey: string;
  buckets: string[];
}

export class RemoteRegistry {
  private readonly store: SealedEndpoints<RemoteRecord>;

  constructor(meta: MetaStore, master: Buffer | undefined) {
    this.store = new SealedEndpoints<RemoteRecord>(meta, master, 'remote', (m) => new RemoteError(m));
  }

  records(): Promise<RemoteRecord[]> {
    return this.store.records();
  }

  async add(input: RemoteInput): Promise<RemoteRecord> {
    const name = input.name;
    this.store.check(name, input.endpoint, 'https://s3.example.com');
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
      secret: this.store.seal(name, input.secretKey),
      buckets,
      created: Date.now(),
    };
    await this.store.put(rec);
    return rec;
  }

  remove(name: string): Promise<boolean> {
    return this.store.remove(name);
  }

  /** The remote holding a destination bucket, its secret opened; undefined when none does. */
  async forBucket(bucket: string): Promise<Remote | undefined> {
    const rec = (await this.records()).find((r) => r.buckets.includes(bucket));
    return rec && this.open(rec);
  }

  open(rec: RemoteRecord): Remote {
    return this.store.open(rec);
  }

  /** Re-seals every remote's secret under a new master key (rotating the master key). */
  rewrapAll(next: Buffer): Promise<number> {
    return this.store.rewrapAll(next);
  }
}

/** One line per remote for `trove admin remote list`: never the secret. */
export function describeRemote(r: RemoteRecord): string {
  return [r.name, r.endpoint, r.region, r.accessKey, 'sealed' in r.secret ? 'secret:sealed' : 'secret:plain', r.buckets.join(',')].join('\t') + '\n';
}
