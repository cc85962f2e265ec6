// Authorisation: may this caller do what this request does? Decided here, once per request, from
// what the operation table says the request does (authz/requests.ts) and the policies in force:
// AWS's evaluation logic (authz/policy) over the bucket policy of every bucket involved and the
// caller's identity-based policies. An account's root user has full access to its account's
// buckets unless a bucket policy denies it; an IAM user needs an allow in its identity policies
// (its own and its groups', inline and managed) or a bucket policy statement naming it; another
// account, or an anonymous caller, gets what a bucket policy or an ACL grants it, within the
// bucket's Block Public Access settings (bucketGrants.ts) — an IAM user of another account needs
// both sides.
//
// Handlers never check permissions themselves, with two exceptions that need what only they
// know: DeleteObjects checks each key it deletes (ctx.mayAccess), and optional actions such as
// s3:BypassGovernanceRetention are read from ctx.granted.

import type { App } from '../app.js';
import type { Identity } from '../auth/types.js';
import { S3Error } from '../s3/errors.js';
import type { Bucket } from '../store/meta/types.js';
import { decide, rootArn, type DecisionInput, type Policy, type RequestContext, type RequestPrincipal } from './policy/index.js';
import { resourceArn, unversionedAction, type AccessRequest } from './requests.js';
import { aclAllows, aclPermissionFor } from './acl/index.js';
import { objectAcl } from './bucketAccess.js';
import { aclGrants, effectiveBucketPolicy } from './bucketGrants.js';

const EXISTING_TAG = 's3:existingobjecttag/';
const existingTagUse = new WeakMap<Policy, boolean>();

/** Whether a policy has a condition on s3:ExistingObjectTag/<key> (computed once per policy). */
function usesExistingObjectTag(p: Policy): boolean {
  let v = existingTagUse.get(p);
  if (v === undefined) {
    v = p.statements.some((st) => st.conditions.some((c) => c.key.startsWith(EXISTING_TAG)));
    existingTagUse.set(p, v);
  }
  return v;
}

const identityTagUse = new WeakMap<readonly Policy[], boolean>();

/** Whether any of a caller's identity policies (a cached array: computed once per array) uses s3:ExistingObjectTag. */
function anyUsesExistingObjectTag(policies: readonly Policy[] | undefined): boolean {
  if (!policies || policies.length === 0) return false;
  let v = identityTagUse.get(policies);
  if (v === undefined) {
    v = policies.some(usesExistingObjectTag);
    identityTagUse.set(policies, v);
  }
  return v;
}

/** The bucket owner's root may always read, replace and delete its bucket policy (no lock-out). */
const NO_LOCKOUT = new Set(['s3:getbucketpolicy', 's3:putbucketpolicy', 's3:deletebucketpolicy']);

/**
 * The policy principal of an authenticated identity or of an anonymous caller. A role session is
 * the 'assumed-role' principal; a GetSessionToken session is the user or root that asked for it.
 */
export function principalOf(identity: Identity | null): RequestPrincipal {
  if (!identity) return ANONYMOUS;
  let p = principals.get(identity);
  if (!p) {
    p = Object.freeze(newPrincipal(identity));
    principals.set(identity, p);
  }
  return p;
}

const ANONYMOUS: RequestPrincipal = Object.freeze({ kind: 'anonymous' });
/** Principals by identity (auth/context.ts identityOf hands out one identity per credential): derived once, never modified. */
const principals = new WeakMap<Identity, RequestPrincipal>();

function newPrincipal(identity: Identity): RequestPrincipal {
  const s = identity.session;
  const session = s ? { session: s.sourceIdentity === undefined ? { issuedAt: s.issuedAt } : { issuedAt: s.issuedAt, sourceIdentity: s.sourceIdentity } } : {};
  const r = s?.role;
  if (r) return { kind: 'assumed-role', accountId: identity.accountId, arn: r.sessionArn, roleArn: r.arn, userId: `${r.id}:${r.sessionName}`, canonicalId: identity.userId, ...session };
  const u = identity.user;
  if (u) return { kind: 'user', accountId: identity.accountId, arn: u.arn, userId: u.id, username: u.name, canonicalId: identity.userId, ...session };
  return { kind: 'account-root', accountId: identity.accountId, arn: rootArn(identity.accountId), userId: identity.accountId, canonicalId: identity.userId, ...session };
}

export interface AuthzRequest {
  principal: RequestPrincipal;
  /** Condition keys of the whole request (authz/keys.ts). */
  keys: Map<string, string[]>;
  /** Buckets already loaded by the pipeline, by name. */
  buckets: Map<string, Bucket | undefined>;
  /** The caller's identity-based policies (IAM users, role sessions; IamService.callerPolicies, cached). */
  identityPolicies?: readonly Policy[];
  /** A role session's session policies, which cap its identity-based policies. */
  sessionPolicies?: readonly Policy[];
  /** Set when an access was allowed only by an ACL grant (the access log's "ACL required"). */
  aclRequired?: boolean;
  /** When set (an audit log is kept), every decision made for the request is appended here. */
  decisions?: AuditDecision[];
}

/** One access decision, as the audit log records it. */
export interface AuditDecision {
  action: string;
  resource: string;
  decision: 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';
  /** The policy kind that decided (identity, resource, session, acl, root…), when one did. */
  source?: string;
  sid?: string;
  reason: string;
}

/**
 * Decides one access request. Resolves true when allowed. A bucket that does not exist has no
 * policy and is owned by nobody: only the caller's own-account rules apply (CreateBucket), and
 * the handler reports the missing bucket.
 */
export async function mayAccess(app: App, req: AuthzRequest, r: AccessRequest): Promise<boolean> {
  let bucket: Bucket | undefined;
  if (r.bucket && !r.newBucket) {
    if (req.buckets.has(r.bucket)) bucket = req.buckets.get(r.bucket);
    else {
      bucket = await app.meta.getBucket(r.bucket);
      req.buckets.set(r.bucket, bucket);
    }
  }
  // A bucket's account is its owner's; an S3 Control request names its account; anything else
  // (ListBuckets, CreateBucket) is the caller's own. The caches below answer synchronously when
  // warm (peek): this runs for every request.
  const resourceAccount = bucket ? (app.peekAccountIdOf(bucket.owner)?.value ?? (await app.accountIdOf(bucket.owner))) : (r.account ?? req.principal.accountId);
  if (r.ownerAccountOnly && (req.principal.accountId === undefined || req.principal.accountId !== resourceAccount)) {
    app.log.debug({ action: r.action, bucket: r.bucket }, "access denied: only the bucket owner's account may");
    return false;
  }
  // The request's keys, plus those of this resource. Per-object keys (existing tags) go into a
  // copy: DeleteObjects checks its keys concurrently.
  let keys = req.keys;
  if (resourceAccount !== undefined) keys.set('s3:resourceaccount', [resourceAccount]);
  else keys.delete('s3:resourceaccount');
  const stored = bucket ? (app.bucketPolicies.peek(bucket) ?? { policy: await app.bucketPolicies.get(bucket) }).policy : undefined;
  // s3:ExistingObjectTag/<key> is the addressed object's tags: read it only when a policy asks.
  if (bucket && r.key !== undefined && ((stored !== undefined && usesExistingObjectTag(stored)) || anyUsesExistingObjectTag(req.identityPolicies))) {
    const v = await app.meta.getObject(bucket.id, r.key, r.versionId);
    keys = new Map(keys);
    for (const [k, value] of v && !v.deleteMarker ? (v.tags ?? []) : []) keys.set(`s3:existingobjecttag/${k.toLowerCase()}`, [value]);
  }
  const action = r.action;
  const request: { -readonly [K in keyof RequestContext]: RequestContext[K] } = { principal: req.principal, action, resource: resourceArn(r), keys };
  if (resourceAccount !== undefined) request.resourceAccount = resourceAccount;
  const input: { -readonly [K in keyof DecisionInput]: DecisionInput[K] } = { request, ownerRootOverride: NO_LOCKOUT.has(action.toLowerCase()) };
  if (req.identityPolicies) input.identityPolicies = req.identityPolicies;
  if (req.sessionPolicies) input.sessionPolicies = req.sessionPolicies;
  // ACLs and Block Public Access (bucketGrants.ts), read only when they can matter:
  // RestrictPublicBuckets narrows a policy; an ACL grant is looked for only when the policies
  // leave the request implicitly denied.
  const settings = bucket && stored ? (app.bucketAccess.peek(bucket)?.settings ?? (await app.bucketAccess.get(bucket))) : undefined;
  const policy = stored && settings ? effectiveBucketPolicy(stored, settings, req.principal, resourceAccount) : stored;
  if (policy) input.resourcePolicy = policy;
  let d = decide(input);
  if (d.decision === 'ImplicitDeny' && bucket && (await aclGrants(app.meta, req.principal, r, bucket, settings ?? (await app.bucketAccess.get(bucket))))) {
    d = decide({ ...input, aclAllows: true });
  }
  if (d.decision === 'Allow' && d.source !== 'acl' && bucket && r.key !== undefined && OBJECT_ACP.has(action.toLowerCase()) && resourceAccount === req.principal.accountId) {
    if (!(await ownAccountMayUseObjectAcl(app, req.principal, r, bucket))) {
      req.decisions?.push({ action, resource: input.request.resource, decision: 'ImplicitDeny', source: 'acl', reason: "the object belongs to another account and its ACL does not grant the bucket owner's account" });
      app.log.debug({ action, resource: input.request.resource }, "access denied: the object belongs to another account and its ACL does not grant the bucket owner's account");
      return false;
    }
  }
  if (d.decision === 'Allow' && d.source === 'acl') req.aclRequired = true;
  req.decisions?.push({ action, resource: input.request.resource, decision: d.decision, ...(d.source ? { source: d.source } : {}), ...(d.sid ? { sid: d.sid } : {}), reason: d.reason });
  if (d.decision !== 'Allow') app.log.debug({ action, resource: input.request.resource, decision: d.decision, reason: d.reason }, 'access denied');
  return d.decision === 'Allow';
}

/** Reading and writing an object's ACL (ACL permissions READ_ACP and WRITE_ACP). */
const OBJECT_ACP = new Set(['s3:getobjectacl', 's3:getobjectversionacl', 's3:putobjectacl', 's3:putobjectversionacl']);

/**
 * An object another account wrote (ObjectWriter) is that account's: the bucket owner's account
 * reads or changes its ACL only where the object's ACL grants it READ_ACP / WRITE_ACP. Its
 * bucket policy does not reach the object ("The permissions attached to the bucket apply to all
 * of the objects in the bucket that are owned by the bucket owner. These permissions don't apply
 * to objects that are owned by other AWS accounts", S3 User Guide, bucket policies). Only
 * the ACL sub-resource is held to this for now: the bucket owner still reads and deletes such
 * objects (README, ACL details). Under BucketOwnerEnforced the bucket owner owns every object.
 */
async function ownAccountMayUseObjectAcl(app: App, principal: RequestPrincipal, r: AccessRequest, bucket: Bucket): Promise<boolean> {
  const v = await app.meta.getObject(bucket.id, r.key!, r.versionId);
  if (!v || v.deleteMarker || v.owner === bucket.owner) return true;
  if (!(await app.bucketAccess.get(bucket)).aclsEnabled) return true;
  if (principal.canonicalId === undefined) return false;
  const permission = aclPermissionFor(unversionedAction(r.action), 'object');
  return permission !== undefined && aclAllows(objectAcl(v), { canonicalId: principal.canonicalId }, permission);
}

/**
 * Checks every access request; throws AccessDenied (or NoSuchKey, see refusal) at the first
 * required one refused. Returns the optional actions that were granted.
 */
export async function authorize(app: App, req: AuthzRequest, requests: AccessRequest[]): Promise<Set<string>> {
  const granted = new Set<string>();
  for (const r of requests) {
    const ok = await mayAccess(app, req, r);
    if (ok) granted.add(r.action);
    else if (!r.optional) throw await refusal(app, req, r);
  }
  return granted;
}

/**
 * The error for a refused request. A read of an object that does not exist is NoSuchKey when the
 * caller may list the bucket under the key, AccessDenied otherwise: "If you have the
 * s3:ListBucket permission on the bucket, Amazon S3 returns an HTTP status code 404 Not Found
 * error. If you don't have the s3:ListBucket permission, Amazon S3 returns an HTTP status code
 * 403" (GetObject, Permissions). Whoever may list learns nothing new from the 404.
 */
async function refusal(app: App, req: AuthzRequest, r: AccessRequest): Promise<S3Error> {
  const bucket = req.buckets.get(r.bucket);
  if (r.action !== 's3:GetObject' || r.key === undefined || !bucket) return new S3Error('AccessDenied');
  const v = await app.meta.getObject(bucket.id, r.key);
  if (v && !v.deleteMarker) return new S3Error('AccessDenied');
  return (await mayList(app, req, r.bucket, r.key)) ? new S3Error('NoSuchKey', undefined, { Key: r.key }) : new S3Error('AccessDenied');
}

/** Whether the caller may list `bucket` under `key` (s3:ListBucket with s3:prefix = key). */
function mayList(app: App, req: AuthzRequest, bucket: string, key: string): Promise<boolean> {
  const listing = { ...req, keys: new Map(req.keys).set('s3:prefix', [key]) };
  return mayAccess(app, listing, { action: 's3:ListBucket', bucket });
}

/** Reads whose missing key is concealed from a caller who may not list the bucket. */
const CONCEALING_READS = new Set(['GetObject', 'HeadObject', 'GetObjectAttributes']);

/**
 * The same rule when the read itself was allowed (say, s3:GetObject on bucket/* to everyone) but
 * the key is not there: S3 answers 403 AccessDenied rather than 404 NoSuchKey to a caller without
 * s3:ListBucket, so that a public read grant does not reveal which keys exist. Called with the
 * error the operation's handler threw; returns the error to send. Costs nothing on success.
 */
export async function concealAbsence(app: App, req: AuthzRequest | undefined, operation: string, bucket: string, key: string, e: unknown): Promise<unknown> {
  if (!req || !(e instanceof S3Error) || e.code !== 'NoSuchKey' || !key || !CONCEALING_READS.has(operation)) return e;
  return (await mayList(app, req, bucket, key)) ? e : new S3Error('AccessDenied');
}
