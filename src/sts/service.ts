// STS's state: the key that seals session tokens, and what is done with it — issuing a session
// (its temporary key pair and sealed token) and resolving a token back into the temporary
// credential it carries, when a request presents one.
//
// The key is 32 random bytes, generated on first use and kept in the metadata store's settings
// (initSetting: of several nodes generating it at once, one key wins), cached in memory, never
// logged. Nothing is written per session: a token is self-contained (auth/sessionToken.ts). What
// a session acts as is re-read when it is used — its role or IAM user by unique id, through
// IamService's caches — so deleting the role or the user ends its sessions (at once on this node,
// within IamService's cache TTL on others), and a role re-created under the same name is another
// role. The role's and user's policies are read when authorising, not frozen in the token; only
// the inline session policy is.

import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { openSessionToken, sealSessionToken, SessionTokenError, TOKEN_KEY_BYTES, type SessionClaims } from '../auth/sessionToken.js';
import type { Credential, IdentitySession } from '../auth/types.js';
import { rootArn } from '../authz/policy/index.js';
import { newSecretKey, newTemporaryAccessKeyId } from '../iam/ids.js';
import { iamArn } from '../iam/names.js';
import { userArn, type IamService } from '../iam/service.js';
import type { MetaStore } from '../store/meta/types.js';
import { assumedRoleArn } from './names.js';

const KEY_SETTING = 'sts_token_key';

/** What a new session is, before its credentials exist. */
export type SessionSpec = Omit<SessionClaims, 'accessKeyId' | 'secretAccessKey' | 'issuedAt' | 'expiresAt' | 'mfa'>;

/** Temporary credentials as STS hands them out. */
export interface IssuedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** ms since epoch, whole seconds (as the Expiration element shows it). */
  expiresAt: number;
  issuedAt: number;
}

export class StsService {
  private keyLoad: Promise<Buffer> | undefined;

  constructor(
    private readonly meta: MetaStore,
    private readonly iam: IamService,
    private readonly log: Logger,
    /** An account's display name by canonical id (cached by the app). */
    private readonly displayName: (canonicalId: string) => Promise<string>,
  ) {}

  /** The token key: read once, generated on first use. */
  private key(): Promise<Buffer> {
    this.keyLoad ??= this.loadKey().catch((e: unknown) => {
      this.keyLoad = undefined;
      throw e;
    });
    return this.keyLoad;
  }

  private async loadKey(): Promise<Buffer> {
    let stored = await this.meta.getSetting(KEY_SETTING);
    if (stored === undefined) {
      stored = await this.meta.initSetting(KEY_SETTING, randomBytes(TOKEN_KEY_BYTES).toString('base64'));
      this.log.info('generated the key that seals STS session tokens');
    }
    const key = Buffer.from(stored, 'base64');
    // The key itself never goes into a message or a log line.
    if (key.length !== TOKEN_KEY_BYTES) throw new Error(`the ${KEY_SETTING} setting is not a ${TOKEN_KEY_BYTES}-byte key`);
    return key;
  }

  /** Mints the temporary credentials of a session lasting `durationSeconds` from `now`. */
  async issue(spec: SessionSpec, durationSeconds: number, now: number): Promise<IssuedCredentials> {
    const expiresAt = Math.floor(now / 1000) * 1000 + durationSeconds * 1000;
    const claims: SessionClaims = { ...spec, accessKeyId: newTemporaryAccessKeyId(), secretAccessKey: newSecretKey(), issuedAt: now, expiresAt, mfa: false };
    const sessionToken = sealSessionToken(claims, await this.key());
    return { accessKeyId: claims.accessKeyId, secretAccessKey: claims.secretAccessKey, sessionToken, expiresAt, issuedAt: now };
  }

  /**
   * The temporary credential a session token carries for this access key id, or undefined: a
   * token that does not open (tampered with, another key, another format), another key id's
   * token, or a session whose role or user no longer exists. Expiry is authentication's to check,
   * with the request's clock.
   */
  async resolve(accessKeyId: string, token: string): Promise<Credential | undefined> {
    let claims: SessionClaims;
    try {
      claims = openSessionToken(token, await this.key());
    } catch (e) {
      if (!(e instanceof SessionTokenError)) throw e;
      this.log.debug({ accessKeyId, problem: e.problem }, 'session token refused');
      return undefined;
    }
    if (claims.accessKeyId !== accessKeyId) return undefined;
    const session: IdentitySession = { kind: claims.kind, issuedAt: claims.issuedAt, expiresAt: claims.expiresAt };
    if (claims.sourceIdentity !== undefined) session.sourceIdentity = claims.sourceIdentity;
    const credential: Credential = {
      accessKeyId,
      secretAccessKey: claims.secretAccessKey,
      userId: claims.canonicalId,
      accountId: claims.accountId,
      displayName: await this.displayName(claims.canonicalId),
      sessionToken: token,
      session,
    };
    if (claims.kind === 'assumed-role') {
      const role = await this.iam.roleById(claims.principalId ?? '');
      if (!role || role.accountId !== claims.accountId) return undefined;
      const arn = iamArn(role.accountId, 'role', role.path, role.name);
      if (arn !== claims.arn) return undefined;
      const sessionName = claims.sessionName ?? '';
      session.role = { id: role.id, name: role.name, path: role.path, arn, sessionName, sessionArn: assumedRoleArn(role.accountId, role.name, sessionName) };
      if (claims.policy !== undefined) session.policy = claims.policy;
      if (claims.policyIds !== undefined && claims.policyIds.length > 0) session.policyIds = claims.policyIds;
    } else if (claims.principalId !== undefined) {
      const user = await this.iam.userById(claims.principalId);
      if (!user || user.accountId !== claims.accountId) return undefined;
      credential.user = { id: user.id, name: user.name, path: user.path, arn: userArn(user) };
    } else if (claims.arn !== rootArn(claims.accountId)) {
      return undefined;
    }
    return credential;
  }
}
