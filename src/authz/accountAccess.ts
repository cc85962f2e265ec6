// Account-level Block Public Access (S3 Control's Get/Put/DeletePublicAccessBlock): one
// configuration per account, kept as a metadata-store setting and read through a short cache.
// S3 applies "the most restrictive combination of the access point, bucket, and account
// settings": BucketAccess combines this with each bucket's own configuration for the bucket's
// owner. A change made through this process is seen at once; one made by another process or node
// when the metadata store's change feed reports it (clear()), and within TTL_MS in any case, as
// for bucket settings.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_PutPublicAccessBlock.html

import type { MetaStore } from '../store/meta/types.js';
import { deserializePublicAccessBlock, serializePublicAccessBlock, type PublicAccessBlock } from '../s3/bucket/config/publicAccessBlock.js';

const TTL_MS = 5_000;

/** The setting's name in the metadata store ('' once deleted: settings cannot be removed). */
function settingName(accountId: string): string {
  return `account-public-access-block/${accountId}`;
}

export class AccountPublicAccessBlocks {
  private readonly cache = new Map<string, { value: PublicAccessBlock | undefined; expires: number }>();
  /** Bumped by every put: a read that overlapped a put does not cache what it read. */
  private generation = 0;

  constructor(private readonly meta: MetaStore) {}

  /** Another process or node may have changed any account's configuration (MetaStore.onChange). */
  clear(): void {
    this.generation++;
    this.cache.clear();
  }

  /** The account's configuration; undefined when it has none. */
  async get(accountId: string): Promise<PublicAccessBlock | undefined> {
    const now = Date.now();
    const hit = this.cache.get(accountId);
    if (hit && hit.expires > now) return hit.value;
    const generation = this.generation;
    const raw = await this.meta.getSetting(settingName(accountId));
    const value = raw === undefined || raw === '' ? undefined : deserializePublicAccessBlock(raw);
    if (generation === this.generation) {
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(accountId, { value, expires: now + TTL_MS });
    }
    return value;
  }

  /** Stores the account's configuration (undefined deletes it). */
  async put(accountId: string, c: PublicAccessBlock | undefined): Promise<void> {
    await this.meta.putSetting(settingName(accountId), c === undefined ? '' : serializePublicAccessBlock(c));
    this.generation++;
    this.cache.delete(accountId);
  }
}
