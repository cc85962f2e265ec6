// The IAM service: what the S3 pipeline, the IAM API and the admin CLI share about IAM.
//
// On every request (the hot path) it answers from memory once warm: the credential of an access
// key (with the IAM user holding it), the identity-based policies of an IAM user or of a role (for
// its sessions), parsed once, the roles and users sessions act as, and managed session policies.
// Both caches are dropped per account on every IAM change made through this node (the IAM API
// calls changed() after each mutating action) and expire after CACHE_TTL_MS otherwise, so that a
// change made by another node or by the offline admin CLI is seen within that time.
// It also records when keys are used — at most once a minute per key, off the request path.

import type { Logger } from 'pino';
import type { Credential, Identity, SignedService } from '../auth/types.js';
import { parsePolicy, type Policy } from '../authz/policy/index.js';
import type { AccessKey, Account, IamRole, IamStore, IamUser, MetaStore } from '../store/meta/types.js';
import { awsManagedDocument } from './aws-managed.js';
import { AccountCache } from './cache.js';
import { isTemporaryAccessKeyId, newAccessKeyId, newSecretKey, uniqueId } from './ids.js';
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

/** What a session policy that no longer exists allows: nothing (never "no session policy"). */
const ALLOWS_NOTHING: Policy = { kind: 'session', version: '2012-10-17', id: undefined, statements: [], text: '', size: 0 };

/** The policies that decide what a caller may do, as decide() takes them. */
/** A root user's: none (its account's own resources need no policy). */
const NO_CALLER_POLICIES: CallerPolicies = Object.freeze({});

export interface CallerPolicies {
  /** An IAM user's (its own and its groups'), or a role session's role's; absent for root users. */
  identityPolicies?: readonly Policy[];
  /** A role session's session policies (inline and managed), when it was given any. */
  sessionPolicies?: readonly Policy[];
}

export class IamService {
  private readonly credentials = new AccountCache<Credential | undefined>(CACHE_TTL_MS);
  private readonly policies = new AccountCache<readonly Policy[]>(CACHE_TTL_MS);
  private readonly roles = new AccountCache<IamRole | undefined>(CACHE_TTL_MS);
  private readonly users = new AccountCache<IamUser | undefined>(CACHE_TTL_MS);
  /** Managed policies used as session policies, by unique id. */
  private readonly managedSessionPolicies = new AccountCache<Policy | undefined>(CACHE_TTL_MS);
  /** Inline session policies, parsed once per document. */
  private readonly inlineSessionPolicies = new Map<string, Policy>();
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
   * The identity-based policies of an IAM user — its inline and attached managed policies and its
   * groups' — or, for a role session, of its role; parsed once and cached per user or role. Read
   * by unique id when authorising, so a change to a role's policies applies to its sessions too.
   */
  identityPolicies(identity: Identity): Promise<readonly Policy[]> {
    const owner = identity.session?.role?.id ?? identity.user?.id;
    if (owner === undefined) return Promise.resolve([]);
    return this.policies.get(
      owner,
      async () =>
        // Documents were validated when they were stored. One that no longer parses (a stricter
        // parser) throws: the request fails rather than being decided without one of its policies,
        // which might have been a Deny.
        (await this.meta.iam.identityPolicyDocuments(owner, awsManagedDocument)).map((doc) => parsePolicy(doc, 'identity')),
      () => identity.accountId,
    );
  }

  /**
   * A role session's session policies: the inline one its token carries, and the managed ones it
   * names, read by unique id (cached). A managed session policy deleted since allows nothing; the
   * session never falls back to its role's whole permissions.
   */
  async sessionPolicies(identity: Identity): Promise<readonly Policy[] | undefined> {
    const s = identity.session;
    if (!s || (s.policy === undefined && (s.policyIds?.length ?? 0) === 0)) return undefined;
    const out: Policy[] = [];
    if (s.policy !== undefined) out.push(this.inlineSessionPolicy(s.policy));
    for (const id of s.policyIds ?? []) {
      const p = await this.managedSessionPolicies.get(
        id,
        async () => {
          const doc = await this.meta.iam.defaultPolicyDocument(id);
          return doc === undefined ? undefined : parsePolicy(doc, 'identity');
        },
        () => identity.accountId,
      );
      out.push(p ?? ALLOWS_NOTHING);
    }
    return out;
  }

  private inlineSessionPolicy(doc: string): Policy {
    let p = this.inlineSessionPolicies.get(doc);
    if (!p) {
      // Validated when the session was issued; as for identity policies, one that no longer parses fails the request.
      p = parsePolicy(doc, 'session');
      if (this.inlineSessionPolicies.size >= 1000) this.inlineSessionPolicies.clear();
      this.inlineSessionPolicies.set(doc, p);
    }
    return p;
  }

  /** Everything decide() needs of the caller's own policies (nothing for a root user). */
  callerPolicies(identity: Identity): CallerPolicies | Promise<CallerPolicies> {
    if (!identity.user && !identity.session?.role) return NO_CALLER_POLICIES;
    // Warm and without session policies (an IAM user, a role session without any): no waiting.
    const s = identity.session;
    if (s?.policy === undefined && (s?.policyIds?.length ?? 0) === 0) {
      const hit = this.policies.peek((s?.role?.id ?? identity.user?.id)!);
      if (hit) return { identityPolicies: hit.value };
    }
    return this.loadCallerPolicies(identity);
  }

  private async loadCallerPolicies(identity: Identity): Promise<CallerPolicies> {
    const identityPolicies = await this.identityPolicies(identity);
    const sessionPolicies = await this.sessionPolicies(identity);
    return sessionPolicies ? { identityPolicies, sessionPolicies } : { identityPolicies };
  }

  /** A role by unique id (cached): what a role session acts as, while it exists. */
  roleById(id: string): Promise<IamRole | undefined> {
    return this.roles.get(id, () => this.meta.iam.getRoleById(id), (r) => r?.accountId);
  }

  /** An IAM user by unique id (cached): what a GetSessionToken session acts as, while it exists. */
  userById(id: string): Promise<IamUser | undefined> {
    return this.users.get(id, () => this.meta.iam.getUserById(id), (u) => u?.accountId);
  }

  /** Another process or node may have changed anything: every cache is stale. */
  changedElsewhere(): void {
    this.credentials.clear();
    this.policies.clear();
    this.roles.clear();
    this.users.clear();
    this.managedSessionPolicies.clear();
  }

  /** Every IAM change of an account goes through here: what was cached for it is stale. */
  changed(accountId: string): void {
    this.credentials.invalidate(accountId);
    this.policies.invalidate(accountId);
    this.roles.invalidate(accountId);
    this.users.invalidate(accountId);
    this.managedSessionPolicies.invalidate(accountId);
  }

  /**
   * Records that a key was used, at most once per LAST_USED_INTERVAL_MS per key. The write is
   * not awaited: the request never waits for it, and a failure (a full disk) costs only precision.
   */
  noteKeyUsed(accessKeyId: string, service: SignedService, region: string, now = Date.now()): void {
    // Temporary keys are not stored: their use is not recorded (nor is it, in AWS, on the long-term key).
    if (isTemporaryAccessKeyId(accessKeyId)) return;
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
   * (LimitExceeded beyond two keys). `given` pre-provisions its id and secret (trove admin).
   */
  async createAccessKey(account: Pick<Account, 'id' | 'accountId'>, user: IamUser | undefined, now = Date.now(), given?: { accessKeyId: string; secretAccessKey: string }): Promise<AccessKey> {
    const key: AccessKey = { accessKeyId: given?.accessKeyId ?? newAccessKeyId(), secretAccessKey: given?.secretAccessKey ?? newSecretKey(), userId: account.id, status: 'Active', createdAt: now };
    if (user) key.iamUserId = user.id;
    await this.meta.iam.createAccessKey(key, QUOTAS.accessKeysPerUser);
    this.changed(account.accountId);
    return key;
  }
}
