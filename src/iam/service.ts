// The IAM service: what the S3 pipeline, the IAM API and the admin CLI share about IAM.
//
// On every request (the hot path) it answers from memory once warm: the credential of an access
// key (with the IAM user holding it) and the identity-based policies of an IAM user, parsed once.
// Both caches are dropped per account on every IAM change made through this node (the IAM API
// calls changed() after each mutating action) and expire after CACHE_TTL_MS otherwise, so that a
// change made by another node or by the offline admin CLI is seen within that time.
// It also records when keys are used — at most once a minute per key, off the request path.

import type { Logger } from 'pino';
import type { Credential, Identity, SignedService } from '../auth/types.js';
import { parsePolicy, type Policy } from '../authz/policy/index.js';
import type { AccessKey, Account, IamStore, IamUser, MetaStore } from '../store/meta/types.js';
import { awsManagedDocument } from './aws-managed.js';
import { AccountCache } from './cache.js';
import { newAccessKeyId, newSecretKey, uniqueId } from './ids.js';
import { iamArn } from './names.js';

/** How long another node's (or the CLI's) IAM change can take to be seen here. */
export const CACHE_TTL_MS = 5_000;

/** GetAccessKeyLastUsed is precise to this much: one write per key per interval at most. */
export const LAST_USED_INTERVAL_MS = 60_000;

/** AWS's default quotas. */
export const QUOTAS = {
  usersPerAccount: 5000,
  groupsPerAccount: 300,
  rolesPerAccount: 1000,
  policiesPerAccount: 1500,
  accessKeysPerUser: 2,
  groupsPerUser: 10,
  managedPoliciesPerEntity: 10,
  versionsPerPolicy: 5,
  oidcProvidersPerAccount: 100,
  clientIdsPerOidcProvider: 100,
  /** AWS's message says "fewer than 5", but five are accepted. */
  thumbprintsPerOidcProvider: 5,
} as const;

export function userArn(u: Pick<IamUser, 'accountId' | 'path' | 'name'>): string {
  return iamArn(u.accountId, 'user', u.path, u.name);
}

export class IamService {
  private readonly credentials = new AccountCache<Credential | undefined>(CACHE_TTL_MS);
  private readonly policies = new AccountCache<readonly Policy[]>(CACHE_TTL_MS);
  /** Access key id → when its last use was written. */
  private readonly lastUseWritten = new Map<string, number>();

  constructor(
    private readonly meta: MetaStore,
    private readonly log: Logger,
  ) {}

  get store(): IamStore {
    return this.meta.iam;
  }

  /** The credential of an active key, with the IAM user holding it if any (cached). */
  lookupCredential(accessKeyId: string): Promise<Credential | undefined> {
    return this.credentials.get(accessKeyId, () => this.loadCredential(accessKeyId), (c) => c?.accountId);
  }

  private async loadCredential(accessKeyId: string): Promise<Credential | undefined> {
    const k = await this.meta.getAccessKey(accessKeyId);
    // An inactive key is refused exactly like an unknown one (InvalidAccessKeyId), as AWS does.
    if (!k || k.status === 'Inactive') return undefined;
    const account = await this.meta.getAccount(k.userId);
    if (!account) return undefined;
    const c: Credential = { accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey, userId: k.userId, accountId: account.accountId, displayName: account.displayName };
    if (k.iamUserId !== undefined) {
      const u = await this.meta.iam.getUserById(k.iamUserId);
      if (!u || u.accountId !== account.accountId) return undefined;
      c.user = { id: u.id, name: u.name, path: u.path, arn: userArn(u) };
    }
    return c;
  }

  /**
   * The identity-based policies of an IAM user: its inline and attached managed policies and its
   * groups', parsed once and cached per user.
   */
  identityPolicies(identity: Identity): Promise<readonly Policy[]> {
    const user = identity.user;
    if (!user) return Promise.resolve([]);
    return this.policies.get(
      user.id,
      async () =>
        // Documents were validated when they were stored. One that no longer parses (a stricter
        // parser) throws: the request fails rather than being decided without one of its policies,
        // which might have been a Deny.
        (await this.meta.iam.identityPolicyDocuments(user.id, awsManagedDocument)).map((doc) => parsePolicy(doc, 'identity')),
      () => identity.accountId,
    );
  }

  /** Every IAM change of an account goes through here: what was cached for it is stale. */
  changed(accountId: string): void {
    this.credentials.invalidate(accountId);
    this.policies.invalidate(accountId);
  }

  /**
   * Records that a key was used, at most once per LAST_USED_INTERVAL_MS per key. The write is
   * not awaited: the request never waits for it, and a failure (a full disk) costs only precision.
   */
  noteKeyUsed(accessKeyId: string, service: SignedService, region: string, now = Date.now()): void {
    const last = this.lastUseWritten.get(accessKeyId);
    if (last !== undefined && now - last < LAST_USED_INTERVAL_MS) return;
    if (this.lastUseWritten.size >= 100_000) this.lastUseWritten.clear();
    this.lastUseWritten.set(accessKeyId, now);
    this.meta.iam.recordAccessKeyUse(accessKeyId, { at: now, service, region }).catch((e: unknown) => {
      this.log.warn({ err: e, accessKeyId }, 'could not record the last use of an access key');
    });
  }

  // ---------------------------------------------------------------- provisioning (IAM API and CLI)

  /** Creates an IAM user (EntityAlreadyExists when the name is taken in the account). */
  async createUser(accountId: string, name: string, path: string, now = Date.now()): Promise<IamUser> {
    const user: IamUser = { accountId, id: uniqueId('AIDA'), name, path, createdAt: now };
    await this.meta.iam.createUser(user, QUOTAS.usersPerAccount);
    this.changed(accountId);
    return user;
  }

  /**
   * Creates an access key for an IAM user, or for the account's root user when `user` is absent
   * (LimitExceeded beyond two keys).
   */
  async createAccessKey(account: Pick<Account, 'id' | 'accountId'>, user: IamUser | undefined, now = Date.now()): Promise<AccessKey> {
    const key: AccessKey = { accessKeyId: newAccessKeyId(), secretAccessKey: newSecretKey(), userId: account.id, status: 'Active', createdAt: now };
    if (user) key.iamUserId = user.id;
    await this.meta.iam.createAccessKey(key, QUOTAS.accessKeysPerUser);
    this.changed(account.accountId);
    return key;
  }
}
