// The Principal / NotPrincipal element: parsed into sets, matched by set lookups.
//
// IAM User Guide, "AWS JSON policy elements: Principal" (reference_policies_elements_principal):
// - "*" and {"AWS": "*"} are every principal, anonymous included.
// - An account id or `arn:aws:iam::ACCOUNT:root` "delegates authority to the account": it matches
//   every principal of the account, which then also needs its own identity-based allow.
// - User and role ARNs name exactly that user or role; a role ARN also covers the role's sessions
//   (their permissions stay "limited by any policy types that limit permissions for the role",
//   i.e. boundaries and session policies), a session ARN names one session.
// - No wildcards inside a principal ("You cannot use a wildcard to match part of a principal
//   name or ARN").
// - {"CanonicalUser": "64 hex"} names an account by its S3 canonical id; {"Service": …} a service
//   principal; {"Federated": …} an identity provider (trust policies).

import { PolicyError, MSG } from './errors.js';
import { type RequestPrincipal, roleArnOf } from './context.js';

/** The normalised element, kept for display and for the public-policy test. */
export interface PrincipalSpec {
  /** "*" or {"AWS": "*"} (alone or among other values). */
  readonly wildcard: boolean;
  readonly aws: readonly string[];
  readonly canonicalUser: readonly string[];
  readonly service: readonly string[];
  readonly federated: readonly string[];
}

export interface PrincipalMatcher {
  readonly spec: PrincipalSpec;
  readonly any: boolean;
  readonly accounts: ReadonlySet<string>;
  readonly arns: ReadonlySet<string>;
  readonly canonical: ReadonlySet<string>;
  readonly services: ReadonlySet<string>;
  readonly federated: ReadonlySet<string>;
}

/**
 * How a resource policy's principal names the caller; it decides which other policies can still
 * withhold access (IAM User Guide, policy evaluation logic, same-account resource policies).
 */
export const PrincipalMatch = {
  None: 0,
  /** The caller's account (account id, root ARN, canonical user): delegation, needs an identity allow. */
  Account: 1,
  /** The role of a role session: boundaries and session policies still apply. */
  Role: 2,
  /** The caller itself (its user or session ARN, a service, a provider) or "*". */
  Direct: 3,
} as const;
export type PrincipalMatch = (typeof PrincipalMatch)[keyof typeof PrincipalMatch];

const ACCOUNT_ID = /^\d{12}$/;
const PARTITION = 'aws(?:-[a-z]+)*';
const NAME = '[\\w+=,.@-]+';
const ROOT_ARN = new RegExp(`^arn:${PARTITION}:iam::(\\d{12}):root$`);
const IAM_ARN = new RegExp(`^arn:${PARTITION}:iam::\\d{12}:(?:user|role)(?:/${NAME})+$`);
const STS_ARN = new RegExp(`^arn:${PARTITION}:sts::\\d{12}:(?:assumed-role/${NAME}/${NAME}|federated-user/${NAME})$`);
const CANONICAL = /^[0-9a-fA-F]{64}$/;
const SERVICE = /^[a-z0-9][a-z0-9.-]*[a-z0-9]$/;

function strings(v: unknown): string[] {
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0) throw new PolicyError(MSG.invalidPrincipal);
  return list.map((x) => {
    if (typeof x !== 'string' || x === '') throw new PolicyError(MSG.invalidPrincipal);
    return x;
  });
}

/** Parses and validates a Principal / NotPrincipal value. */
export function parsePrincipal(v: unknown): PrincipalMatcher {
  if (v === '*') return build({ wildcard: true, aws: [], canonicalUser: [], service: [], federated: [] });
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new PolicyError(MSG.invalidPrincipal);
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length === 0) throw new PolicyError(MSG.invalidPrincipal);
  let wildcard = false;
  const aws: string[] = [];
  const canonicalUser: string[] = [];
  const service: string[] = [];
  const federated: string[] = [];
  for (const [kind, value] of entries) {
    const list = strings(value);
    switch (kind) {
      case 'AWS':
        for (const s of list) {
          if (s === '*') wildcard = true;
          else if (!(ACCOUNT_ID.test(s) || ROOT_ARN.test(s) || IAM_ARN.test(s) || STS_ARN.test(s))) throw new PolicyError(MSG.invalidPrincipal);
          aws.push(s);
        }
        break;
      case 'CanonicalUser':
        for (const s of list) {
          if (!CANONICAL.test(s)) throw new PolicyError(MSG.invalidPrincipal);
          canonicalUser.push(s.toLowerCase());
        }
        break;
      case 'Service':
        for (const s of list) {
          if (!SERVICE.test(s)) throw new PolicyError(MSG.invalidPrincipal);
          service.push(s);
        }
        break;
      case 'Federated':
        for (const s of list) {
          if (s.includes('*')) throw new PolicyError(MSG.invalidPrincipal);
          federated.push(s);
        }
        break;
      default:
        throw new PolicyError(MSG.invalidPrincipal);
    }
  }
  return build({ wildcard, aws, canonicalUser, service, federated });
}

function build(spec: PrincipalSpec): PrincipalMatcher {
  const accounts = new Set<string>();
  const arns = new Set<string>();
  for (const s of spec.aws) {
    if (s === '*') continue;
    if (ACCOUNT_ID.test(s)) accounts.add(s);
    else {
      const root = ROOT_ARN.exec(s);
      if (root) accounts.add(root[1]!);
      else arns.add(s);
    }
  }
  return {
    spec,
    any: spec.wildcard,
    accounts,
    arns,
    canonical: new Set(spec.canonicalUser),
    services: new Set(spec.service),
    federated: new Set(spec.federated),
  };
}

function accountNamed(m: PrincipalMatcher, p: RequestPrincipal): boolean {
  return (p.accountId !== undefined && m.accounts.has(p.accountId)) || (p.canonicalId !== undefined && m.canonical.has(p.canonicalId.toLowerCase()));
}

/** How (if at all) a Principal element names the caller. */
export function matchPrincipal(m: PrincipalMatcher, p: RequestPrincipal): PrincipalMatch {
  if (m.any) return PrincipalMatch.Direct;
  switch (p.kind) {
    case 'anonymous':
      return PrincipalMatch.None;
    case 'account-root':
      return accountNamed(m, p) ? PrincipalMatch.Account : PrincipalMatch.None;
    case 'user':
      if (p.arn !== undefined && m.arns.has(p.arn)) return PrincipalMatch.Direct;
      return accountNamed(m, p) ? PrincipalMatch.Account : PrincipalMatch.None;
    case 'assumed-role': {
      if (p.arn !== undefined && m.arns.has(p.arn)) return PrincipalMatch.Direct;
      const role = roleArnOf(p);
      if (role !== undefined && m.arns.has(role)) return PrincipalMatch.Role;
      return accountNamed(m, p) ? PrincipalMatch.Account : PrincipalMatch.None;
    }
    case 'service':
      return p.service !== undefined && m.services.has(p.service) ? PrincipalMatch.Direct : PrincipalMatch.None;
    case 'federated':
      return p.provider !== undefined && m.federated.has(p.provider) ? PrincipalMatch.Direct : PrincipalMatch.None;
  }
}

/**
 * Is the caller among those a NotPrincipal element excludes? AWS checks the principal's whole
 * chain — account, then role, then session — and "if the NotPrincipal element was missing the ARN
 * of the role, the effect of the policy might be to explicitly deny access to the role"
 * (reference_policies_elements_notprincipal). So a caller is excluded only when every link of its
 * chain is listed: the account for a root user; user ARN and account for a user; session ARN,
 * role ARN and account for a role session. This errs towards applying a Deny.
 */
export function excludedByNotPrincipal(m: PrincipalMatcher, p: RequestPrincipal): boolean {
  if (m.any) return true;
  switch (p.kind) {
    case 'anonymous':
      return false;
    case 'account-root':
      return accountNamed(m, p);
    case 'user':
      return p.arn !== undefined && m.arns.has(p.arn) && accountNamed(m, p);
    case 'assumed-role': {
      const role = roleArnOf(p);
      return p.arn !== undefined && m.arns.has(p.arn) && role !== undefined && m.arns.has(role) && accountNamed(m, p);
    }
    case 'service':
      return p.service !== undefined && m.services.has(p.service);
    case 'federated':
      return p.provider !== undefined && m.federated.has(p.provider);
  }
}
