// A bucket's access settings besides its policy: its ACL, its Object Ownership and its Block
// Public Access configuration, read from the bucket's configurations once and kept per bucket.
// Authorisation reads them whenever the policies alone leave a request implicitly denied (and
// for RestrictPublicBuckets); handlers read them when they write objects or ACLs. A change made
// through this process is seen at once (the put* methods); one made by another process or node
// when the metadata store's change feed reports it (clear()), and within TTL_MS in any case, as
// for bucket policies.

import type { Bucket, MetaStore, ObjectVersion } from '../store/meta/types.js';
import { aclsEnabled, isObjectOwnership, type ObjectOwnership } from '../s3/bucket/config/ownership.js';
import {
  NO_PUBLIC_ACCESS_BLOCK,
  deserializePublicAccessBlock,
  effectivePublicAccessBlock,
  serializePublicAccessBlock,
  type PublicAccessBlock,
} from '../s3/bucket/config/publicAccessBlock.js';
import { deserializeAcl, serializeAcl, type Acl } from './acl/index.js';
import type { AccountPublicAccessBlocks } from './accountAccess.js';

const TTL_MS = 5_000;

/** What a bucket without an ownership setting does: the writer owns its objects, ACLs count. */
export const NO_OWNERSHIP_CONTROLS: ObjectOwnership = 'ObjectWriter';

export interface BucketAccessSettings {
  /** The bucket ACL (private to the bucket owner unless one was set). */
  readonly acl: Acl;
  /** The stored Object Ownership setting; undefined when the bucket has none. */
  readonly ownershipControls: ObjectOwnership | undefined;
  /** The setting in force: the stored one, else ObjectWriter. */
  readonly ownership: ObjectOwnership;
  /** False under BucketOwnerEnforced: ACLs neither grant nor may be set. */
  readonly aclsEnabled: boolean;
  /** The bucket's stored Block Public Access configuration; undefined when it has none. */
  readonly publicAccessBlock: PublicAccessBlock | undefined;
  /**
   * The Block Public Access settings in force: each switch on if the bucket's configuration or
   * its owner's account configuration turns it on (there are no access points).
   */
  readonly block: PublicAccessBlock;
}

/** The ACL every bucket and object has until another is set: its owner's FULL_CONTROL. */
export function privateAcl(owner: string): Acl {
  return { owner: { id: owner }, grants: [{ grantee: { type: 'CanonicalUser', id: owner }, permission: 'FULL_CONTROL' }] };
}

/** Whether `acl` is the default ACL of a resource owned by `owner` (then nothing is stored). */
export function isPrivateAcl(acl: Acl, owner: string): boolean {
  const [g, ...rest] = acl.grants;
  return acl.owner.id === owner && rest.length === 0 && g !== undefined && g.permission === 'FULL_CONTROL' && g.grantee.type === 'CanonicalUser' && g.grantee.id === owner;
}

/** The stored form of an ACL for `owner`'s resource: undefined for the default. */
export function storedAcl(acl: Acl, owner: string): string | undefined {
  return isPrivateAcl(acl, owner) ? undefined : serializeAcl(acl);
}

/** An object version's ACL: the one stored with it, or private to its owner. */
export function objectAcl(v: Pick<ObjectVersion, 'owner' | 'acl'>): Acl {
  return v.acl === undefined ? privateAcl(v.owner) : deserializeAcl(v.acl);
}

export class BucketAccess {
  private readonly cache = new Map<number, { settings: BucketAccessSettings; expires: number }>();
  /** Bumped by every put: a read that overlapped a put does not cache what it read. */
  private generation = 0;

  constructor(
    private readonly meta: MetaStore,
    private readonly accounts?: { blocks: AccountPublicAccessBlocks; accountIdOf: (canonicalId: string) => Promise<string | undefined> },
  ) {}

  /** Another process or node may have changed any bucket's settings (MetaStore.onChange). */
  clear(): void {
    this.generation++;
    this.cache.clear();
  }

  /** The cached entry of the bucket's settings while fresh, without reading (the hot path's synchronous hit). */
  peek(bucket: Bucket): { readonly settings: BucketAccessSettings } | undefined {
    const hit = this.cache.get(bucket.id);
    return hit && hit.expires > Date.now() ? hit : undefined;
  }

  /** The bucket's settings, with its owner account's Block Public Access switches folded into `block`. */
  async get(bucket: Bucket): Promise<BucketAccessSettings> {
    const now = Date.now();
    const hit = this.cache.get(bucket.id);
    if (hit && hit.expires > now) return hit.settings;
    const generation = this.generation;
    const [acl, ownership, pab, account] = await Promise.all([
      this.meta.getBucketConfig(bucket.id, 'acl'),
      this.meta.getBucketConfig(bucket.id, 'ownership'),
      this.meta.getBucketConfig(bucket.id, 'public-access-block'),
      this.accountBlock(bucket),
    ]);
    // Stored values were validated when they were put; an unknown ownership value (written by a
    // newer version) is read as the most restrictive setting.
    const ownershipControls = ownership === undefined ? undefined : isObjectOwnership(ownership) ? ownership : 'BucketOwnerEnforced';
    const publicAccessBlock = pab === undefined ? undefined : deserializePublicAccessBlock(pab);
    const effective = ownershipControls ?? NO_OWNERSHIP_CONTROLS;
    const settings: BucketAccessSettings = {
      acl: acl === undefined ? privateAcl(bucket.owner) : deserializeAcl(acl),
      ownershipControls,
      ownership: effective,
      aclsEnabled: aclsEnabled(effective),
      publicAccessBlock,
      block: publicAccessBlock || account ? effectivePublicAccessBlock(publicAccessBlock, account) : NO_PUBLIC_ACCESS_BLOCK,
    };
    if (generation === this.generation) {
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(bucket.id, { settings, expires: now + TTL_MS });
    }
    return settings;
  }

  /** The Block Public Access configuration of the bucket owner's account, if any. */
  private async accountBlock(bucket: Bucket): Promise<PublicAccessBlock | undefined> {
    if (!this.accounts) return undefined;
    const accountId = await this.accounts.accountIdOf(bucket.owner);
    return accountId === undefined ? undefined : this.accounts.blocks.get(accountId);
  }

  /**
   * Stores an account's Block Public Access configuration (undefined deletes it). Every bucket's
   * settings are read again: account-level changes are rare, and the account's buckets unknown here.
   */
  async putAccountPublicAccessBlock(accountId: string, c: PublicAccessBlock | undefined): Promise<void> {
    if (!this.accounts) throw new Error('BucketAccess without account-level settings');
    await this.accounts.blocks.put(accountId, c);
    this.generation++;
    this.cache.clear();
  }

  /** Stores the bucket ACL (the default private ACL is stored as no ACL). */
  async putAcl(bucket: Bucket, acl: Acl): Promise<void> {
    await this.put(bucket, 'acl', storedAcl(acl, bucket.owner));
  }

  /** Stores the Object Ownership setting (undefined deletes it). */
  async putOwnership(bucket: Bucket, ownership: ObjectOwnership | undefined): Promise<void> {
    await this.put(bucket, 'ownership', ownership);
  }

  /** Stores the Block Public Access configuration (undefined deletes it). */
  async putPublicAccessBlock(bucket: Bucket, c: PublicAccessBlock | undefined): Promise<void> {
    await this.put(bucket, 'public-access-block', c && serializePublicAccessBlock(c));
  }

  private async put(bucket: Bucket, kind: 'acl' | 'ownership' | 'public-access-block', value: string | undefined): Promise<void> {
    await this.meta.putBucketConfig(bucket.id, kind, value);
    this.generation++;
    this.cache.delete(bucket.id);
  }
}
