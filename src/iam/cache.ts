// A cache whose entries belong to accounts: every IAM change of an account drops that account's
// entries at once (this node made the change); a change made elsewhere (another worker process,
// another node, the offline admin CLI) drops everything when the metadata store's change feed
// says so (MetaStore.onChange, within about 100 ms with SQLite), and entries expire after a TTL
// in any case, as a bound should a store's feed miss something.
//
// Dropping by account must also cover loads in flight: a credential read just before a key was
// deactivated must not be cached after the deactivation. So each entry remembers the invalidation
// clock when its load started, and is fresh only if its account has not changed since.

interface Entry<V> {
  value: V;
  /** The account the value belongs to; undefined for "not found" answers. */
  account: string | undefined;
  /** The clock when the load started. */
  loadedAt: number;
  expires: number;
}

export class AccountCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  /** Bumped by every invalidation. */
  private clock = 0;
  /** Account → the clock of its last change. */
  private readonly changedAt = new Map<string, number>();
  /** The clock of the last clear(): loads that started before it are not kept. */
  private clearedAt = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly max = 10_000,
  ) {}

  /** The cached value for `key` while fresh (`{ value }`), without waiting; undefined when it must be loaded. */
  peek(key: string): { readonly value: V } | undefined {
    const hit = this.entries.get(key);
    return hit && hit.expires > Date.now() && this.fresh(hit) ? hit : undefined;
  }

  /** The cached value for `key`, or `load()`'s, remembered as belonging to `accountOf(value)`. */
  async get(key: string, load: () => Promise<V>, accountOf: (value: V) => string | undefined): Promise<V> {
    const hit = this.entries.get(key);
    if (hit && hit.expires > Date.now() && this.fresh(hit)) return hit.value;
    const loadedAt = this.clock;
    const value = await load();
    if (this.entries.size >= this.max) this.entries.clear();
    this.entries.set(key, { value, account: accountOf(value), loadedAt, expires: Date.now() + this.ttlMs });
    return value;
  }

  /** Everything cached for the account is stale from now on. */
  invalidate(accountId: string): void {
    this.clock++;
    this.changedAt.set(accountId, this.clock);
  }

  /** Everything cached is stale from now on (a change elsewhere). */
  clear(): void {
    this.clock++;
    this.clearedAt = this.clock;
    this.entries.clear();
    this.changedAt.clear();
  }

  private fresh(e: Entry<V>): boolean {
    if (e.loadedAt < this.clearedAt) return false;
    // "Not found" may have become found by any change (a key created, a key reactivated).
    if (e.account === undefined) return e.loadedAt === this.clock;
    return (this.changedAt.get(e.account) ?? 0) <= e.loadedAt;
  }
}
