// Tiering as the server uses it: the registry, and one S3 client per tier, kept while the tier's
// record is unchanged.

import type { MetaStore } from '../store/meta/types.js';
import { RemoteTier } from './remote.js';
import { TierRegistry } from './tiers.js';

export class Tiering {
  readonly registry: TierRegistry;
  private readonly clients = new Map<string, { remote: RemoteTier; fingerprint: string; checked: number }>();

  constructor(meta: MetaStore, master: Buffer | undefined) {
    this.registry = new TierRegistry(meta, master);
  }

  /** The client of a tier; throws when no tier of that name is registered. */
  async remote(name: string): Promise<RemoteTier> {
    const hit = this.clients.get(name);
    // Records are re-read every few seconds (and after a change elsewhere: clear()).
    if (hit && Date.now() - hit.checked < 5_000) return hit.remote;
    const tier = await this.registry.get(name);
    if (!tier) throw new Error(`no tier ${name} is registered (trove admin tier list)`);
    const fingerprint = JSON.stringify(tier);
    if (hit && hit.fingerprint === fingerprint) {
      hit.checked = Date.now();
      return hit.remote;
    }
    hit?.remote.close();
    const remote = new RemoteTier(tier);
    this.clients.set(name, { remote, fingerprint, checked: Date.now() });
    return remote;
  }

  /** Forgets what it knows of the tiers (the change feed: another process may have changed them). */
  clear(): void {
    for (const c of this.clients.values()) c.checked = 0;
  }

  close(): void {
    for (const c of this.clients.values()) c.remote.close();
    this.clients.clear();
  }
}
