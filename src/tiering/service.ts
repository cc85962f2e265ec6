// Tiering as the server uses it: the registry, and one S3 client per tier, kept while the tier's
// record is unchanged.

import type { MetaStore } from '../store/meta/types.js';
import { RemoteTier } from './remote.js';
import { TierRegistry } from './tiers.js';

export class Tiering {
  readonly registry: TierRegistry;
  private readonly clients = new Map<string, { remote: RemoteTier; fingerprint: string; checked: number }>();

  /** Storage classes the tiers name (besides S3's), as last read: writes may name them. */
  classes: ReadonlySet<string> = new Set();
  private refreshing: Promise<void> | undefined;

  constructor(meta: MetaStore, master: Buffer | undefined) {
    this.registry = new TierRegistry(meta, master);
  }

  /**
   * Re-reads the storage classes the tiers name: at start, and when the change feed says another
   * process changed something (`trove admin tier` is one); no polling.
   */
  refresh(): Promise<void> {
    this.refreshing ??= this.registry
      .configuredClasses()
      .then((c) => {
        this.classes = new Set(c);
      })
      .finally(() => {
        this.refreshing = undefined;
      });
    return this.refreshing;
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
    void this.refresh().catch(() => undefined);
  }

  close(): void {
    for (const c of this.clients.values()) c.remote.close();
    this.clients.clear();
  }
}
