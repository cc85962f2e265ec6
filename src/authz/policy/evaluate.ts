// Statement and policy evaluation, and AWS's combined decision over every policy type.
//
// Sources (IAM User Guide): "Policy evaluation logic" (reference_policies_evaluation-logic),
// "Cross-account policy evaluation logic" (reference_policies_evaluation-logic-cross-account),
// "Principal" (reference_policies_elements_principal), "Session policies" (access_policies).
// The rules `decide` implements:
// 1. An explicit Deny in any policy — identity-based, resource-based, permissions boundary,
//    session policy — wins.
// 2. The account root user has full access to its own account's resources.
// 3. Within one account an Allow in either the identity-based policies or the resource policy
//    suffices, but how the resource policy names the caller matters:
//    - the caller itself (its user ARN, its role-session ARN) or "*": "an implicit deny in an
//      identity-based policy, a permissions boundary, or a session policy does not impact the
//      final decision"; and "For IAM users and role principals within your account, no other
//      permissions are required" for "*";
//    - the role of a role session: "limited by an implicit deny in a permissions boundary or
//      session policy" (but needs no identity-based allow);
//    - the account (id, root ARN, canonical user): delegation to the account, whose identity
//      policies must allow ("an administrator in that account must then grant access").
// 4. Across accounts both sides must allow: the caller's account (identity-based policies,
//    bounded by boundary and session policies; a root user is allowed by its own account) and the
//    resource's account (the resource policy naming the caller, its role or its account, or the
//    ACL).
// 5. Identity-based policies are capped by the permissions boundary and, for sessions, by the
//    session policies (the session's permissions are their intersection).
// 6. Anonymous callers and service principals get only what the resource policy or ACL grants.
// S3 adds one rule: the bucket owner's root user can always read, replace and delete the bucket
// policy, so a policy that denies everyone cannot lock the owner out (`ownerRootOverride`, set by
// the caller for Get/Put/DeleteBucketPolicy).

import type { Policy, Statement } from './document.js';
import type { RequestContext, RequestPrincipal } from './context.js';
import { evaluateCondition } from './conditions.js';
import { type ArnPattern, arnHead, matchArn, matchTemplate, splitArn } from './match.js';
import { PrincipalMatch, excludedByNotPrincipal, matchPrincipal } from './principal.js';

/** A request prepared once for many statements: lower-cased action, split resource ARN. */
interface Prepared {
  readonly ctx: RequestContext;
  readonly action: string;
  /** The resource's first five ARN parts with their colons (arnHead), and the resource part after them. */
  readonly head: string | undefined;
  readonly tail: string;
  /** The resource ARN split in six (splitArn), computed at most once. */
  arn(): string[] | undefined;
  readonly star: boolean;
  /** principalKey(ctx.principal), computed at most once. */
  principalKey(): string;
}

/** Lower-cased action names: the few hundred actions there are, each lower-cased once (and its hash computed once). */
const lowerActions = new Map<string, string>();
function lowerAction(action: string): string {
  let l = lowerActions.get(action);
  if (l === undefined) {
    l = action.toLowerCase();
    if (lowerActions.size >= 4096) lowerActions.clear();
    lowerActions.set(action, l);
  }
  return l;
}

function prepare(ctx: RequestContext): Prepared {
  let pk: string | undefined;
  let split: string[] | undefined | null = null;
  const head = arnHead(ctx.resource);
  return {
    ctx,
    action: lowerAction(ctx.action),
    head,
    tail: head === undefined ? '' : ctx.resource.slice(head.length),
    arn: () => (split === null ? (split = splitArn(ctx.resource)) : split),
    star: ctx.resource === '*',
    principalKey: () => (pk ??= principalKey(ctx.principal)),
  };
}

/** matchArn for the request's resource; a pattern whose first five parts are plain text compares them at once. */
function resourceArnMatches(p: ArnPattern, req: Prepared): boolean {
  if (p.head !== undefined && req.head !== undefined) return p.head === req.head && matchTemplate(p.parts![5]!, req.tail, req.ctx.keys);
  return matchArn(p, req.arn(), req.ctx.keys);
}

function actionMatches(s: Statement, action: string): boolean {
  const a = s.actions;
  let hit = a.any || a.exact.has(action);
  if (!hit) {
    for (const t of a.patterns) {
      if (matchTemplate(t, action, undefined)) {
        hit = true;
        break;
      }
    }
  }
  return hit !== s.notAction;
}

function resourceMatches(s: Statement, req: Prepared): boolean {
  const r = s.resources;
  if (!r) return true;
  let hit = r.any;
  if (!hit) {
    for (const p of r.patterns) {
      // An action on no particular resource (the request resource "*", e.g. s3:ListAllMyBuckets)
      // is matched by "*" and by ARNs whose resource part is "*" (arn:aws:s3:::*).
      if (req.star ? p.parts !== undefined && p.parts[5]!.fast.kind === 'any' : resourceArnMatches(p, req)) {
        hit = true;
        break;
      }
    }
  }
  return hit !== s.notResource;
}

function principalMatch(s: Statement, p: RequestPrincipal): PrincipalMatch {
  if (!s.principal) return PrincipalMatch.Direct;
  if (s.notPrincipal) return excludedByNotPrincipal(s.principal, p) ? PrincipalMatch.None : PrincipalMatch.Direct;
  return matchPrincipal(s.principal, p);
}

function conditionsHold(s: Statement, req: Prepared): boolean {
  for (const c of s.conditions) if (!evaluateCondition(c, req.ctx.keys)) return false;
  return true;
}

/** What one policy says about a request. */
interface Scan {
  /** The first Deny statement that applies. */
  readonly deny: Statement | undefined;
  /** The Allow statement that names the caller most directly. */
  readonly allow: Statement | undefined;
  readonly allowLevel: PrincipalMatch;
}

const NOTHING: Scan = { deny: undefined, allow: undefined, allowLevel: PrincipalMatch.None };

// ---- plans: the statements of a policy that can apply to one action by one principal
//
// A statement's Action and Principal / NotPrincipal do not depend on anything else in the request
// (no policy variables in either), so which statements of a policy can apply to a request is fixed
// by its action and its principal: computed once, in document order, with each statement's
// principal match level, and kept with the (immutable, cached) parsed policy. A request then
// tests only those statements' resources and conditions. A policy changed is a new Policy object:
// its plans go with the old one (WeakMap). For policies without principals (identity, session,
// boundary) the plan depends on the action alone.

interface Planned {
  readonly s: Statement;
  readonly level: PrincipalMatch;
}
type Plan = readonly Planned[];

interface Plans {
  /** Some statement names a Principal or NotPrincipal: plans depend on the caller too. */
  readonly byPrincipal: boolean;
  /** principalKey (or '' when plans do not depend on the caller) → lower-cased action → plan. */
  readonly map: Map<string, Map<string, Plan>>;
  size: number;
}

const plans = new WeakMap<Policy, Plans>();
/** Plans kept per policy (distinct action and caller pairs); beyond, the policy starts afresh. */
const PLANS_PER_POLICY = 256;
const UNSET = '\u0001';

/**
 * principalKey of principals met before: the pipeline hands out one frozen principal object per
 * identity (authz/authorize.ts principalOf), so the string — and the hash a Map lookup computes
 * of it — is made once per identity, not once per request.
 */
const principalKeyMemo = new WeakMap<RequestPrincipal, string>();

/** Everything of a principal that principal matching reads, as one string. */
function principalKey(p: RequestPrincipal): string {
  let k = principalKeyMemo.get(p);
  if (k === undefined) {
    k = newPrincipalKey(p);
    if (Object.isFrozen(p)) principalKeyMemo.set(p, k);
  }
  return k;
}

function newPrincipalKey(p: RequestPrincipal): string {
  return `${p.kind}\u0000${p.accountId ?? UNSET}\u0000${p.arn ?? UNSET}\u0000${p.roleArn ?? UNSET}\u0000${p.canonicalId ?? UNSET}\u0000${p.service ?? UNSET}\u0000${p.provider ?? UNSET}`;
}

function planFor(policy: Policy, req: Prepared): Plan {
  let ps = plans.get(policy);
  if (!ps) {
    ps = { byPrincipal: policy.statements.some((st) => st.principal !== undefined), map: new Map(), size: 0 };
    plans.set(policy, ps);
  }
  // Two lookups of strings made once each (principalKey, lowerAction) rather than one of a string
  // concatenated per request, whose hash would be computed afresh every time.
  const who = ps.byPrincipal ? req.principalKey() : '';
  let byAction = ps.map.get(who);
  if (!byAction) {
    byAction = new Map();
    ps.map.set(who, byAction);
  }
  let plan = byAction.get(req.action);
  if (!plan) {
    const out: Planned[] = [];
    for (const s of policy.statements) {
      if (!actionMatches(s, req.action)) continue;
      const level = principalMatch(s, req.ctx.principal);
      if (level !== PrincipalMatch.None) out.push({ s, level });
    }
    plan = out;
    if (ps.size >= PLANS_PER_POLICY) {
      ps.map.clear();
      ps.size = 0;
      byAction = new Map();
      ps.map.set(who, byAction);
    }
    byAction.set(req.action, plan);
    ps.size++;
  }
  return plan;
}

function scan(policy: Policy, req: Prepared): Scan {
  let allow: Statement | undefined;
  let allowLevel: PrincipalMatch = PrincipalMatch.None;
  for (const { s, level } of planFor(policy, req)) {
    if (s.effect === 'Allow' && level <= allowLevel) continue;
    if (!resourceMatches(s, req)) continue;
    if (!conditionsHold(s, req)) continue;
    if (s.effect === 'Deny') return { deny: s, allow: undefined, allowLevel: PrincipalMatch.None };
    allow = s;
    allowLevel = level;
  }
  return allow ? { deny: undefined, allow, allowLevel } : NOTHING;
}

/** Evaluates one policy alone: 'Deny' if a Deny applies, else 'Allow' if an Allow does. */
export function evaluatePolicy(policy: Policy, ctx: RequestContext): 'Allow' | 'Deny' | undefined {
  const r = scan(policy, prepare(ctx));
  return r.deny ? 'Deny' : r.allow ? 'Allow' : undefined;
}

/** Does this statement apply to the request (effect aside)? For explanations and tooling. */
export function statementApplies(s: Statement, ctx: RequestContext): boolean {
  const req = prepare(ctx);
  return actionMatches(s, req.action) && resourceMatches(s, req) && principalMatch(s, ctx.principal) !== PrincipalMatch.None && conditionsHold(s, req);
}

// ---- the combined decision

export interface DecisionInput {
  readonly request: RequestContext;
  /** Every identity-based policy of the caller: user inline and managed, its groups', or the role's. */
  readonly identityPolicies?: readonly Policy[];
  /** The resource's policy (the bucket policy); its owner is `request.resourceAccount`. */
  readonly resourcePolicy?: Policy;
  /** Session policies of a role session (inline and managed together). */
  readonly sessionPolicies?: readonly Policy[];
  readonly permissionsBoundary?: Policy;
  /**
   * The ACL grants this permission to the caller's account or to a group it belongs to. An ACL
   * grants to accounts, so like a resource policy naming an account it is a resource-side
   * allow: it admits anonymous callers and other accounts, while an IAM user of the owning
   * account still needs its identity-based allow.
   */
  readonly aclAllows?: boolean;
  /**
   * The action is s3:GetBucketPolicy, s3:PutBucketPolicy or s3:DeleteBucketPolicy: the bucket
   * owner's root user is allowed even against the bucket policy's Deny (no lock-out).
   */
  readonly ownerRootOverride?: boolean;
}

export type DecisionSource = 'identity' | 'resource' | 'boundary' | 'session' | 'acl' | 'root' | 'owner-root';

export interface Decision {
  readonly decision: 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';
  /** One sentence for logs. */
  readonly reason: string;
  /** The policy type that decided. */
  readonly source?: DecisionSource;
  /** The statement that decided, when one did: its Sid and position. */
  readonly sid?: string;
  readonly statement?: number;
}

function describe(s: Statement): string {
  return s.sid ? `statement "${s.sid}"` : `statement #${s.index}`;
}

function fromStatement(decision: Decision['decision'], source: DecisionSource, s: Statement, reason: string): Decision {
  return s.sid === undefined ? { decision, reason, source, statement: s.index } : { decision, reason, source, sid: s.sid, statement: s.index };
}

const NONE: readonly Policy[] = [];

/** AWS's decision over all the policies that apply to a request. */
export function decide(input: DecisionInput): Decision {
  const req = prepare(input.request);
  const p = input.request.principal;
  const action = input.request.action;
  const resourceAccount = input.request.resourceAccount;
  const sameAccount = p.kind !== 'anonymous' && p.kind !== 'service' && p.kind !== 'federated' && (resourceAccount === undefined || resourceAccount === p.accountId);

  if (input.ownerRootOverride && p.kind === 'account-root' && sameAccount) {
    return { decision: 'Allow', source: 'owner-root', reason: `the bucket owner's root user may always ${action} (no lock-out)` };
  }

  // 1. Explicit denies, everywhere.
  let idAllow: Statement | undefined;
  for (const pol of input.identityPolicies ?? NONE) {
    const r = scan(pol, req);
    if (r.deny) return fromStatement('ExplicitDeny', 'identity', r.deny, `explicit Deny in an identity-based policy (${describe(r.deny)})`);
    idAllow ??= r.allow;
  }
  const resource = input.resourcePolicy ? scan(input.resourcePolicy, req) : NOTHING;
  const boundary = input.permissionsBoundary ? scan(input.permissionsBoundary, req) : undefined;
  const sessions = (input.sessionPolicies ?? NONE).map((pol) => scan(pol, req));
  if (resource.deny) return fromStatement('ExplicitDeny', 'resource', resource.deny, `explicit Deny in the resource policy (${describe(resource.deny)})`);
  if (boundary?.deny) return fromStatement('ExplicitDeny', 'boundary', boundary.deny, `explicit Deny in the permissions boundary (${describe(boundary.deny)})`);
  for (const r of sessions) if (r.deny) return fromStatement('ExplicitDeny', 'session', r.deny, `explicit Deny in a session policy (${describe(r.deny)})`);

  const rpAllow = resource.allow;
  const resourceSide = (): Decision | undefined => {
    if (rpAllow) return fromStatement('Allow', 'resource', rpAllow, `allowed by the resource policy (${describe(rpAllow)})`);
    if (input.aclAllows) return { decision: 'Allow', source: 'acl', reason: 'allowed by the ACL' };
    return undefined;
  };

  // 2. Callers without an identity side: only the resource's grants count.
  if (p.kind === 'anonymous' || p.kind === 'service' || p.kind === 'federated') {
    return resourceSide() ?? { decision: 'ImplicitDeny', reason: `neither the resource policy nor the ACL grants ${action} to ${p.kind === 'anonymous' ? 'anonymous callers' : `the ${p.kind} principal`}` };
  }

  // 3. The root user: full access at home; elsewhere, whatever the resource's account grants.
  if (p.kind === 'account-root') {
    if (sameAccount) return { decision: 'Allow', source: 'root', reason: "the account's root user has full access to its own resources" };
    return resourceSide() ?? { decision: 'ImplicitDeny', reason: `cross-account: neither the resource policy nor the ACL grants ${action} to account ${p.accountId ?? '?'}` };
  }

  // 4. IAM users and role sessions.
  const boundaryOk = !boundary || boundary.allow !== undefined;
  const sessionOk = sessions.length === 0 || sessions.some((r) => r.allow);
  const capped = (): Decision | undefined => {
    if (!boundaryOk) return { decision: 'ImplicitDeny', source: 'boundary', reason: `the permissions boundary does not allow ${action}` };
    if (!sessionOk) return { decision: 'ImplicitDeny', source: 'session', reason: `no session policy allows ${action}` };
    return undefined;
  };

  if (sameAccount) {
    if (rpAllow && resource.allowLevel === PrincipalMatch.Direct) {
      return fromStatement('Allow', 'resource', rpAllow, `allowed by the resource policy, which names the caller (${describe(rpAllow)})`);
    }
    if (rpAllow && resource.allowLevel === PrincipalMatch.Role) {
      return capped() ?? fromStatement('Allow', 'resource', rpAllow, `allowed by the resource policy, which names the caller's role (${describe(rpAllow)})`);
    }
    if (idAllow) return capped() ?? fromStatement('Allow', 'identity', idAllow, `allowed by an identity-based policy (${describe(idAllow)})`);
    return {
      decision: 'ImplicitDeny',
      reason: rpAllow
        ? `the resource policy grants ${action} to the account only, and no identity-based policy allows it`
        : `no identity-based policy or resource policy allows ${action}`,
    };
  }

  // Cross-account: both the caller's account and the resource's account must allow.
  if (!idAllow) return { decision: 'ImplicitDeny', source: 'identity', reason: `cross-account: no identity-based policy of the caller allows ${action}` };
  const cap = capped();
  if (cap) return cap;
  const granted = resourceSide();
  if (!granted) return { decision: 'ImplicitDeny', source: 'resource', reason: `cross-account: neither the resource policy nor the ACL grants ${action} to the caller or its account` };
  return { ...granted, reason: `cross-account: ${granted.reason}, and an identity-based policy allows it (${describe(idAllow)})` };
}
