// The request as the policy language sees it: who, which action, which resource, and the
// condition context keys. Built once per request by the authorisation layer.

import type { ContextKeys } from './match.js';

export type { ContextKeys } from './match.js';

/**
 * Who is asking.
 * - `anonymous`: an unsigned request.
 * - `account-root`: the account's root credentials.
 * - `user`: an IAM user.
 * - `assumed-role`: a role session (STS AssumeRole*): `arn` is the session ARN
 *   `arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION`, `roleArn` the role's own ARN (with its path).
 * - `service`: a service principal (`service`, e.g. "logging.s3.amazonaws.com").
 * - `federated`: a web-identity or SAML caller asking to assume a role (`provider`); only trust
 *   policies name it.
 */
export type PrincipalKind = 'anonymous' | 'account-root' | 'user' | 'assumed-role' | 'service' | 'federated';

export interface RequestPrincipal {
  readonly kind: PrincipalKind;
  readonly accountId?: string;
  readonly arn?: string;
  readonly roleArn?: string;
  /** aws:userid: the user's unique id, or "ROLEID:session" for a role session. */
  readonly userId?: string;
  /** aws:username: IAM users only. */
  readonly username?: string;
  /** The S3 canonical user id of the principal's account. */
  readonly canonicalId?: string;
  readonly service?: string;
  readonly provider?: string;
  /** Temporary credentials (STS): the session the caller acts through. */
  readonly session?: PrincipalSession;
}

/** What a caller using temporary credentials adds to the condition context. */
export interface PrincipalSession {
  /** ms since epoch: aws:TokenIssueTime */
  readonly issuedAt: number;
  /** aws:SourceIdentity */
  readonly sourceIdentity?: string;
}

export interface RequestContext {
  readonly principal: RequestPrincipal;
  /** The IAM action, e.g. "s3:GetObject" (any case). */
  readonly action: string;
  /** The resource ARN, e.g. "arn:aws:s3:::bucket/key"; "*" for actions on no resource. */
  readonly resource: string;
  /** The account that owns the resource; absent: the caller's own account. */
  readonly resourceAccount?: string;
  /** Condition context keys: lower-cased name → values. */
  readonly keys: ContextKeys;
}

/** The ARN of an account's root user. */
export function rootArn(accountId: string): string {
  return `arn:aws:iam::${accountId}:root`;
}

/** The role ARN of an assumed-role session (without the role's path, which the session ARN lacks). */
export function roleArnOf(p: RequestPrincipal): string | undefined {
  if (p.roleArn) return p.roleArn;
  const m = p.arn ? /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/.exec(p.arn) : null;
  return m ? `arn:${m[1]}:iam::${m[2]}:role/${m[3]}` : undefined;
}

/**
 * The global condition keys that describe the principal, as AWS fills them (IAM User Guide,
 * "AWS global condition context keys" and the principal table of "Variables and tags"):
 * aws:PrincipalType, aws:PrincipalAccount, aws:PrincipalArn (the role's ARN, not the session's,
 * for role sessions), aws:userid, aws:username (IAM users only), aws:PrincipalServiceName; and for
 * temporary credentials aws:TokenIssueTime, aws:MultiFactorAuthPresent (false: no MFA here; the
 * key is absent for long-term credentials, as in AWS) and aws:SourceIdentity when set.
 * Merge them with the request's own keys when building a RequestContext.
 */
export function principalKeys(p: RequestPrincipal): Map<string, string[]> {
  const keys = new Map<string, string[]>();
  const set = (k: string, v: string | undefined): void => {
    if (v !== undefined && v !== '') keys.set(k, [v]);
  };
  switch (p.kind) {
    case 'anonymous':
      set('aws:principaltype', 'Anonymous');
      set('aws:userid', 'anonymous');
      break;
    case 'account-root':
      set('aws:principaltype', 'Account');
      set('aws:userid', p.userId ?? p.accountId);
      set('aws:principalarn', p.arn ?? (p.accountId ? rootArn(p.accountId) : undefined));
      break;
    case 'user':
      set('aws:principaltype', 'User');
      set('aws:userid', p.userId);
      set('aws:username', p.username);
      set('aws:principalarn', p.arn);
      break;
    case 'assumed-role':
      set('aws:principaltype', 'AssumedRole');
      set('aws:userid', p.userId);
      set('aws:principalarn', roleArnOf(p));
      break;
    case 'service':
      set('aws:principalservicename', p.service);
      break;
    case 'federated':
      break;
  }
  if (p.kind !== 'anonymous') set('aws:principalaccount', p.accountId);
  if (p.session) {
    set('aws:tokenissuetime', new Date(p.session.issuedAt).toISOString().replace(/\.\d{3}Z$/, 'Z'));
    set('aws:multifactorauthpresent', 'false');
    set('aws:sourceidentity', p.session.sourceIdentity);
  }
  return keys;
}
