// The composition root: configuration, stores, logger and the services handlers share.

import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { Credential } from './auth/types.js';
import type { MetaStore } from './store/meta/types.js';
import type { BlobStore } from './store/blob/types.js';
import type { StoragePolicies } from './storage/policies.js';
import type { StorageService } from './storage/service.js';
import type { SpaceGuard } from './store/space.js';
import type { BlobGc } from './workers/gc.js';
import type { Engine } from './engine/runner.js';
import type { Lifecycle } from './lifecycle/service.js';
import type { LifecycleConfig } from './s3/bucket/config/lifecycle.js';
import type { Notifier, NotificationConfig } from './notify/index.js';
import type { BucketPolicies } from './authz/bucketPolicies.js';
import type { IamService } from './iam/service.js';
import type { BucketAccess } from './authz/bucketAccess.js';
import type { AccountPublicAccessBlocks } from './authz/accountAccess.js';
import type { StsService } from './sts/service.js';
import type { BucketConfigCache } from './s3/bucket/config/cache.js';
import type { BucketEncryption } from './s3/bucket/encryption.js';
import type { CorsRule } from './s3/bucket/config/cors.js';
import type { WebsiteConfig } from './s3/bucket/config/website.js';
import type { BuiltinKeyService } from './sse/keys.js';
import type { Observability } from './observe/endpoints.js';
import type { Tiering } from './tiering/service.js';
import type { ReplicationService } from './replication/service.js';
import type { LoggingConfig } from './s3/bucket/config/logging.js';
import type { ServerAccessLogs } from './logging/service.js';
import type { UsageService } from './usage/service.js';

/** Counts kept for metrics. */
export interface Counters {
  /** Reads refused because stored bytes did not verify (missing or damaged blobs, inline data). */
  integrityFailures: number;
}

export interface App {
  readonly config: Config;
  readonly meta: MetaStore;
  readonly blobs: BlobStore;
  readonly log: Logger;
  readonly gc: BlobGc;
  /**
   * The durable work engine: register handlers for kinds of follow-up work (engine.register);
   * it runs them in every process, each item once (src/engine/).
   */
  readonly engine: Engine;
  /** Lifecycle passes (scheduling a bucket's pass after its configuration changed). */
  readonly lifecycle: Lifecycle;
  /** Bucket lifecycle configurations, parsed and cached (x-amz-expiration on object reads and writes). */
  readonly bucketLifecycle: BucketConfigCache<LifecycleConfig>;
  /** Free space on the data directory: whether writes are admitted, and the reserve for deletes. */
  readonly space: SpaceGuard;
  /** Counts of events metrics will report (integrity failures…). */
  readonly counters: Counters;
  /**
   * Looks up an active key's secret and owner by access key id (cached; IamService), or, with a
   * session token, the temporary credentials it carries (StsService).
   */
  lookupCredential(accessKeyId: string, sessionToken?: string): Promise<Credential | undefined>;
  /** IAM inside accounts: credentials, identity policies (cached), the IAM API's persistence. */
  readonly iam: IamService;
  /** Temporary credentials: issuing sessions and resolving their tokens. */
  readonly sts: StsService;
  /** Display name of a user id (cached); the id itself when unknown. */
  displayName(userId: string): Promise<string>;
  /** The 12-digit account id of an account's canonical id (cached); undefined when unknown. */
  accountIdOf(canonicalId: string): Promise<string | undefined>;
  /** accountIdOf's cached answer while fresh, without waiting (undefined: not cached). */
  peekAccountIdOf(canonicalId: string): { readonly value: string | undefined } | undefined;
  /** Bucket policies, parsed and cached. */
  readonly bucketPolicies: BucketPolicies;
  /** Bucket ACLs, Object Ownership and Block Public Access settings, parsed and cached. */
  readonly bucketAccess: BucketAccess;
  /** Accounts' Block Public Access configurations (S3 Control), cached. */
  readonly accountPublicAccessBlocks: AccountPublicAccessBlocks;
  /** Bucket CORS rules, parsed and cached (consulted for every request with Origin). */
  readonly bucketCors: BucketConfigCache<CorsRule[]>;
  /** Bucket website configurations, parsed and cached (consulted by every website request). */
  readonly bucketWebsite: BucketConfigCache<WebsiteConfig>;
  /** Bucket logging configurations, parsed and cached (consulted by every request to a bucket). */
  readonly bucketLogging: BucketConfigCache<LoggingConfig>;
  /** Server access logs: records committed per request, delivered in batches (logging/service.ts). */
  readonly accessLogs: ServerAccessLogs;
  /** Bucket notification configurations, parsed and cached (consulted by every object write). */
  readonly bucketNotification: BucketConfigCache<NotificationConfig>;
  /** Event notifications: the work object writes record, and its delivery to targets (src/notify/). */
  readonly notify: Notifier;
  /** Bucket encryption configurations (default encryption, blocked types), parsed and cached (consulted by every write). */
  readonly bucketEncryption: BucketConfigCache<BucketEncryption>;
  /** The server-wide CORS rules for requests to the service (--cors-origins); [] when unset. */
  readonly serverCors: readonly CorsRule[];
  /** The key service of server-side encryption (the SSE-S3 key and KMS keys). */
  readonly kms: BuiltinKeyService;
  /** Prometheus metrics, the audit log and who may scrape (src/observe/). */
  readonly observe: Observability;
  /** Remote tiers object data moves to (tiering/). */
  readonly tiers: Tiering;
  /** Storage policies: the registry, each bucket's policy (cached). */
  readonly storagePolicies: StoragePolicies;
  /** Heal work and the scrubber of the drives' shards. */
  readonly storage: StorageService;
  /** Bucket replication: configurations (cached), remotes, the outbox of writes, the engine's handler. */
  readonly replication: ReplicationService;
  /**
   * Drops every cache above the store, as a change made by another process does (MetaStore.onChange):
   * the admin API calls it after each change it makes, which then applies at once on this node.
   */
  readonly cachesChanged: () => void;
  /** Usage reports: the request counters (usage.recorder; none with --no-usage), hourly snapshots (src/usage/). */
  readonly usage: UsageService;
}

/**
 * A small time-bounded cache, cleared when the metadata store reports a change elsewhere
 * (MetaStore.onChange); the TTL bounds staleness should a feed miss something.
 */
export class TtlCache<V> {
  private readonly map = new Map<string, { value: V; expires: number }>();
  /** Bumped by clear(): a load that overlapped one is not kept. */
  private generation = 0;
  constructor(private readonly ttlMs: number, private readonly max = 10000) {}

  /** The cached entry for `key` while fresh, without loading (the hot path's synchronous hit). */
  peek(key: string): { readonly value: V } | undefined {
    const hit = this.map.get(key);
    return hit && hit.expires > Date.now() ? hit : undefined;
  }

  async get(key: string, load: (key: string) => Promise<V>): Promise<V> {
    const now = Date.now();
    const hit = this.map.get(key);
    if (hit && hit.expires > now) return hit.value;
    const generation = this.generation;
    const value = await load(key);
    if (generation !== this.generation) return value;
    if (this.map.size >= this.max) this.map.clear();
    this.map.set(key, { value, expires: now + this.ttlMs });
    return value;
  }

  clear(): void {
    this.generation++;
    this.map.clear();
  }

  delete(key: string): void {
    this.map.delete(key);
  }
}
