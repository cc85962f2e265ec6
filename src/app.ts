// The composition root: configuration, stores, logger and the services handlers share.

import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { Credential } from './auth/types.js';
import type { MetaStore } from './store/meta/types.js';
import type { BlobStore } from './store/blob/types.js';
import type { BlobGc } from './workers/gc.js';

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
  readonly counters: Counters;
  /** Looks up a secret by access key id (cached). */
  lookupCredential(accessKeyId: string): Promise<Credential | undefined>;
  /** Display name of a user id (cached); the id itself when unknown. */
  displayName(userId: string): Promise<string>;
}

/** A small time-bounded cache, so that several nodes sharing one metadata store converge. */
export class TtlCache<V> {
  private readonly map = new Map<string, { value: V; expires: number }>();
  constructor(private readonly ttlMs: number, private readonly max = 10000) {}

  async get(key: string, load: (key: string) => Promise<V>): Promise<V> {
    const now = Date.now();
    const hit = this.map.get(key);
    if (hit && hit.expires > now) return hit.value;
    const value = await load(key);
    if (this.map.size >= this.max) this.map.clear();
    this.map.set(key, { value, expires: now + this.ttlMs });
    return value;
  }

  delete(key: string): void {
    this.map.delete(key);
  }
}
