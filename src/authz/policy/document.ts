// Parsing and validation of policy documents into compiled, normalised policies.
//
// Grammar: IAM User Guide, "IAM JSON policy element reference" and "Grammar of the IAM JSON policy
// language" (reference_policies_elements_*, reference_policies_grammar). What differs by kind:
// - resource (bucket) policies name a Principal or NotPrincipal; for a bucket policy every
//   Resource must be able to name the bucket or its objects ("Policy has invalid resource");
// - trust policies (a role's AssumeRolePolicyDocument) name a Principal and no Resource, and
//   cannot use NotPrincipal (reference_policies_elements_notprincipal);
// - identity, session and boundary policies name neither Principal nor NotPrincipal.
// Everything a request evaluation needs is compiled here — actions lower-cased into exact sets and
// glob templates, resources into per-segment ARN patterns, conditions into test closures — so
// evaluation never re-parses.

import { PolicyError, MSG, iamResourceFormat, invalidEffect, missingField, prohibitedField, unknownField } from './errors.js';
import { type ArnPattern, type Template, compileArnPattern, compileTemplate, matchTemplate, splitArn } from './match.js';
import { type Condition, compileCondition } from './conditions.js';
import { type PrincipalMatcher, parsePrincipal } from './principal.js';
import { parseCidr } from './ip.js';

export type PolicyKind = 'identity' | 'resource' | 'trust' | 'session' | 'boundary';
export type PolicyVersion = '2012-10-17' | '2008-10-17';
export type Effect = 'Allow' | 'Deny';

/**
 * Size limits by kind.
 * - resource: "Bucket policies are limited to 20 KB in size" (S3 User Guide, "Bucket policies and
 *   user policies", using-iam-policies), counted in bytes of the document as sent.
 * - IAM documents (IAM User Guide, "IAM and AWS STS quotas", reference_iam-quotas; "IAM does not
 *   count white space when calculating the size of a policy"): managed policies 6,144 characters
 *   (a permissions boundary is a managed policy); role trust policy 2,048 by default (4,096 at
 *   most on request); inline policies in aggregate per entity: user 2,048, group 5,120,
 *   role 10,240. Session policies: "The plaintext that you use for both inline and managed
 *   session policies can't exceed 2,048 characters" (STS API Reference, AssumeRole).
 * An identity policy is parsed against the managed limit; the IAM service adds up inline
 * policies with `policySize` against the per-entity aggregates.
 */
export const POLICY_SIZE_LIMITS = {
  resource: 20 * 1024,
  identity: 6144,
  boundary: 6144,
  trust: 2048,
  session: 2048,
  userInline: 2048,
  groupInline: 5120,
  roleInline: 10240,
} as const;

/** A document's size as its kind's limit counts it. */
export function policySize(json: string, kind: PolicyKind): number {
  if (kind === 'resource') return Buffer.byteLength(json, 'utf8');
  let n = 0;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) n++;
  }
  return n;
}

/**
 * What a service's actions apply to, for the checks S3 runs on PutBucketPolicy: an unknown action
 * ("Policy has invalid action"), an action that applies to none of the statement's resources
 * ("Action does not apply to any resource(s) in statement"), a service condition key no action
 * knows ("Policy has an invalid condition key") or one the statement's actions do not support
 * ("Conditions do not apply to combination of actions and resources in statement").
 */
export interface ActionCatalog {
  /** The service prefix described, e.g. "s3"; actions of other services are not checked. */
  readonly service: string;
  /** Lower-cased action name ("s3:getobject") → what it applies to. */
  readonly actions: ReadonlyMap<string, CatalogAction>;
  /** The resource type an ARN denotes ("bucket", "object"…), or undefined. */
  resourceType(arn: string): string | undefined;
}

export interface CatalogAction {
  /** Resource types the action applies to; empty: it takes no resource (Resource "*"). */
  readonly resources: readonly string[];
  /** Lower-cased service condition keys it supports; one ending in "/" covers a tag-key family. */
  readonly conditionKeys: readonly string[];
}

export interface ParseOptions {
  /** Bucket policies: the bucket the policy is attached to; every Resource must lie in it. */
  readonly bucket?: string;
  /** Override the kind's size limit. */
  readonly maxSize?: number;
  /** Check actions, resources and condition keys against a service's catalog. */
  readonly catalog?: ActionCatalog;
}

export interface ActionSet {
  /** The element as written. */
  readonly values: readonly string[];
  readonly any: boolean;
  /** Lower-cased names without wildcards. */
  readonly exact: ReadonlySet<string>;
  /** Lower-cased wildcard patterns. */
  readonly patterns: readonly Template[];
}

export interface ResourceSet {
  readonly values: readonly string[];
  readonly any: boolean;
  readonly patterns: readonly ArnPattern[];
}

export interface Statement {
  /** Position in the document, from 0. */
  readonly index: number;
  readonly sid: string | undefined;
  readonly effect: Effect;
  /** Principal or NotPrincipal; undefined in identity, session and boundary policies. */
  readonly principal: PrincipalMatcher | undefined;
  readonly notPrincipal: boolean;
  readonly actions: ActionSet;
  readonly notAction: boolean;
  /** Resource or NotResource; undefined in trust policies (the role is the resource). */
  readonly resources: ResourceSet | undefined;
  readonly notResource: boolean;
  readonly conditions: readonly Condition[];
}

export interface Policy {
  readonly kind: PolicyKind;
  readonly version: PolicyVersion;
  readonly id: string | undefined;
  readonly statements: readonly Statement[];
  /** The document as given (S3 returns a bucket policy as it was put). */
  readonly text: string;
  /** Its size as the kind's limit counts it. */
  readonly size: number;
}

const TOP_FIELDS: ReadonlySet<string> = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_FIELDS: ReadonlySet<string> = new Set(['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition']);
const IAM_ACTION = /^[A-Za-z0-9-]+:[A-Za-z0-9*?]+$/;
// A service prefix (aws:, s3:, sts:…) or, in trust policies, an OpenID Connect provider's URL
// (`token.example.com/realm:sub`, `idp.example.com:8443:aud`).
const CONDITION_KEY = /^[A-Za-z0-9][A-Za-z0-9./:-]*:\S.*$/;
// "Policy documents can contain only the following Unicode characters: horizontal tab (U+0009),
// linefeed (U+000A), carriage return (U+000D), and characters in the range U+0020 to U+00FF"
// (reference_iam-quotas). Bucket policies are not IAM documents and take any UTF-8.
const IAM_CHARSET = /^[\t\n\r\u0020-\u00ff]*$/;

/** Parses, validates and compiles a policy document; throws PolicyError with AWS's reason. */
export function parsePolicy(json: string, kind: PolicyKind, options: ParseOptions = {}): Policy {
  const iam = kind !== 'resource';
  const size = policySize(json, kind);
  const limit = options.maxSize ?? POLICY_SIZE_LIMITS[kind];
  if (size > limit) {
    throw new PolicyError(iam ? `Cannot exceed quota for PolicySize: ${limit}` : `Policies must be less than ${limit / 1024} KB`, { tooLarge: true });
  }
  if (iam && !IAM_CHARSET.test(json)) throw new PolicyError('The policy document contains characters outside the range IAM allows (tab, line feed, carriage return, U+0020 to U+00FF)');
  if (!iam && json[0] !== '{') throw new PolicyError(MSG.firstByte);

  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    throw new PolicyError(MSG.invalidJson);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new PolicyError(MSG.invalidJson);
  const top = doc as Record<string, unknown>;
  for (const k of Object.keys(top)) if (!TOP_FIELDS.has(k)) throw new PolicyError(unknownField(k));

  // An absent Version means the original language: 2008-10-17, without policy variables
  // (reference_policies_elements_version). S3 and IAM both accept its absence.
  let version: PolicyVersion = '2008-10-17';
  if (top.Version !== undefined) {
    if (top.Version !== '2012-10-17' && top.Version !== '2008-10-17') throw new PolicyError(MSG.invalidVersion);
    version = top.Version;
  }
  if (top.Id !== undefined && typeof top.Id !== 'string') throw new PolicyError('Id must be a string');

  if (top.Statement === undefined) throw new PolicyError(MSG.missingStatement);
  const raw = Array.isArray(top.Statement) ? top.Statement : [top.Statement];
  if (raw.length === 0) throw new PolicyError(MSG.emptyStatement);

  const ctx: StatementContext = { kind, iam, variables: version === '2012-10-17', options };
  const statements = raw.map((s, i) => parseStatement(s, i, ctx));

  if (iam) {
    const sids = new Set<string>();
    for (const s of statements) {
      if (s.sid === undefined || s.sid === '') continue;
      if (sids.has(s.sid)) throw new PolicyError(MSG.iamSidUnique);
      sids.add(s.sid);
    }
  }
  return { kind, version, id: top.Id as string | undefined, statements, text: json, size };
}

interface StatementContext {
  readonly kind: PolicyKind;
  readonly iam: boolean;
  readonly variables: boolean;
  readonly options: ParseOptions;
}

function parseStatement(v: unknown, index: number, ctx: StatementContext): Statement {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new PolicyError(MSG.invalidJson);
  const s = v as Record<string, unknown>;
  for (const k of Object.keys(s)) if (!STATEMENT_FIELDS.has(k)) throw new PolicyError(unknownField(k));

  let sid: string | undefined;
  if (s.Sid !== undefined) {
    if (typeof s.Sid !== 'string') throw new PolicyError('Sid must be a string');
    if (ctx.iam && !/^[0-9A-Za-z]*$/.test(s.Sid)) throw new PolicyError(MSG.iamSid);
    sid = s.Sid;
  }

  if (s.Effect === undefined) throw new PolicyError(missingField('Effect'));
  if (s.Effect !== 'Allow' && s.Effect !== 'Deny') throw new PolicyError(invalidEffect(String(s.Effect)));
  const effect: Effect = s.Effect;

  // Principal / NotPrincipal
  const needsPrincipal = ctx.kind === 'resource' || ctx.kind === 'trust';
  let principal: PrincipalMatcher | undefined;
  let notPrincipal = false;
  if (s.Principal !== undefined && s.NotPrincipal !== undefined) throw new PolicyError('A statement cannot contain both Principal and NotPrincipal');
  if (needsPrincipal) {
    if (s.NotPrincipal !== undefined && ctx.kind === 'trust') throw new PolicyError(prohibitedField('NotPrincipal'));
    if (s.Principal === undefined && s.NotPrincipal === undefined) throw new PolicyError(missingField('Principal'));
    notPrincipal = s.NotPrincipal !== undefined;
    principal = parsePrincipal(notPrincipal ? s.NotPrincipal : s.Principal);
  } else {
    if (s.Principal !== undefined) throw new PolicyError(prohibitedField('Principal'));
    if (s.NotPrincipal !== undefined) throw new PolicyError(prohibitedField('NotPrincipal'));
  }

  // Action / NotAction
  if (s.Action !== undefined && s.NotAction !== undefined) throw new PolicyError('A statement cannot contain both Action and NotAction');
  if (s.Action === undefined && s.NotAction === undefined) throw new PolicyError(ctx.iam ? MSG.iamNoActions : missingField('Action'));
  const notAction = s.NotAction !== undefined;
  const actions = parseActions(notAction ? s.NotAction : s.Action, ctx);

  // Resource / NotResource
  let resources: ResourceSet | undefined;
  let notResource = false;
  if (ctx.kind === 'trust') {
    if (s.Resource !== undefined) throw new PolicyError(prohibitedField('Resource'));
    if (s.NotResource !== undefined) throw new PolicyError(prohibitedField('NotResource'));
  } else {
    if (s.Resource !== undefined && s.NotResource !== undefined) throw new PolicyError('A statement cannot contain both Resource and NotResource');
    if (s.Resource === undefined && s.NotResource === undefined) throw new PolicyError(ctx.iam ? MSG.iamNoResources : missingField('Resource'));
    notResource = s.NotResource !== undefined;
    resources = parseResources(notResource ? s.NotResource : s.Resource, ctx);
  }

  const conditions = s.Condition === undefined ? [] : parseConditions(s.Condition, ctx);

  const stmt: Statement = { index, sid, effect, principal, notPrincipal, actions, notAction, resources, notResource, conditions };
  if (ctx.options.catalog && !notAction) checkCatalog(stmt, ctx.options.catalog, ctx);
  return stmt;
}

function stringList(v: unknown, invalid: string): string[] {
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0) throw new PolicyError(invalid);
  for (const x of list) if (typeof x !== 'string' || x === '') throw new PolicyError(invalid);
  return list as string[];
}

function parseActions(v: unknown, ctx: StatementContext): ActionSet {
  const invalid = ctx.iam ? MSG.iamVendorPrefix : MSG.invalidAction;
  const values = stringList(v, invalid);
  const exact = new Set<string>();
  const patterns: Template[] = [];
  let any = false;
  for (const a of values) {
    if (a === '*') {
      any = true;
      continue;
    }
    if (!IAM_ACTION.test(a)) throw new PolicyError(invalid);
    // A bucket policy can only speak of S3's actions.
    if (ctx.options.bucket !== undefined && !a.toLowerCase().startsWith('s3:')) throw new PolicyError(MSG.invalidAction);
    // "The prefix and the action name are case insensitive" (reference_policies_elements_action).
    const t = compileTemplate(a, { wildcards: true, variables: false, lower: true });
    if (t.fast.kind === 'exact') exact.add(t.fast.s);
    else patterns.push(t);
  }
  return { values, any, exact, patterns };
}

function parseResources(v: unknown, ctx: StatementContext): ResourceSet {
  const invalid = (r: string): PolicyError => new PolicyError(ctx.iam ? iamResourceFormat(r) : MSG.invalidResource);
  const values = stringList(v, ctx.iam ? MSG.iamNoResources : MSG.invalidResource);
  const bucket = ctx.options.bucket;
  const patterns: ArnPattern[] = [];
  let any = false;
  for (const r of values) {
    if (r === '*') {
      if (bucket !== undefined) throw invalid(r);
      any = true;
      continue;
    }
    const parts = splitArn(r);
    // "You can't use a wildcard in the service segment" (reference_policies_elements_resource).
    if (!parts || parts[0] !== 'arn' || parts[1] === '' || parts[2] === '' || /[*?]/.test(parts[2]!)) throw invalid(r);
    if (bucket !== undefined && !coversBucket(r, bucket)) throw invalid(r);
    patterns.push(compileArnPattern(r, { variables: ctx.variables, varsInResourceOnly: true }));
  }
  return { values, any, patterns };
}

/**
 * Whether a bucket policy's Resource can name the bucket or objects in it: an S3 ARN
 * (`arn:aws:s3:::…`) whose resource part, wildcards and policy variables read as `*`, matches the
 * bucket's name or some key under it. `arn:aws:s3:::*` and `arn:aws:s3:::*\/*` qualify (AWS
 * accepts them: the policy still applies only to its bucket); another bucket's name and a bare
 * `*` ("Policy has invalid resource", as AWS answers) do not.
 */
export function coversBucket(resource: string, bucket: string): boolean {
  const prefix = 'arn:aws:s3:::';
  if (!resource.startsWith(prefix)) return false;
  const pattern = resource.slice(prefix.length).replace(/\$\{[^}]*\}/g, '*');
  // The states of a glob automaton over `pattern` (* any run, ? one character).
  const close = (states: Set<number>): Set<number> => {
    for (const i of [...states]) for (let j = i; pattern[j] === '*'; j++) states.add(j + 1);
    return states;
  };
  const step = (states: Set<number>, c: string): Set<number> => {
    const next = new Set<number>();
    for (const i of states) {
      const p = pattern[i];
      if (p === '*') next.add(i);
      else if (p === '?' || p === c) next.add(i + 1);
    }
    return close(next);
  };
  let states = close(new Set([0]));
  for (const c of bucket) {
    states = step(states, c);
    if (states.size === 0) return false;
  }
  if (states.has(pattern.length)) return true;
  // Any state left after "bucket/" can go on to match some key.
  return step(states, '/').size > 0;
}

function conditionValues(v: unknown, key: string): string[] {
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0) throw new PolicyError(`Condition key ${key} has no values`);
  return list.map((x) => {
    if (typeof x === 'string') return x;
    if (typeof x === 'number' || typeof x === 'boolean') return String(x);
    throw new PolicyError(`Invalid value for condition key ${key}`);
  });
}

function parseConditions(v: unknown, ctx: StatementContext): Condition[] {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new PolicyError('Condition must be an object of condition operators');
  const out: Condition[] = [];
  for (const [op, block] of Object.entries(v as Record<string, unknown>)) {
    if (typeof block !== 'object' || block === null || Array.isArray(block)) throw new PolicyError(`Condition operator ${op} must map condition keys to values`);
    for (const [key, raw] of Object.entries(block as Record<string, unknown>)) {
      if (!CONDITION_KEY.test(key)) throw new PolicyError(ctx.iam ? MSG.iamVendorPrefix : MSG.invalidConditionKey);
      const values = conditionValues(raw, key);
      // S3 checks aws:SourceIp values as addresses whatever the operator (observed by
      // versitygw, auth/bucket_policy_condition.go: "ipSemantic").
      if (!ctx.iam && key.toLowerCase() === 'aws:sourceip' && values.some((x) => !parseCidr(x))) throw new PolicyError(MSG.invalidIp);
      out.push(compileCondition(op, key, values, { variables: ctx.variables }));
    }
  }
  return out;
}

// ---- catalog checks (PutBucketPolicy)

function checkCatalog(s: Statement, catalog: ActionCatalog, ctx: StatementContext): void {
  const prefix = `${catalog.service}:`;
  const invalidAction = ctx.iam ? MSG.iamVendorPrefix : MSG.invalidAction;
  // The resource types the statement names; NotResource names the complement, so it cannot
  // make an action inapplicable.
  let types: Set<string> | 'all' = 'all';
  if (s.resources && !s.notResource && !s.resources.any) {
    types = new Set<string>();
    for (const r of s.resources.values) {
      const t = catalog.resourceType(r);
      if (t !== undefined) types.add(t);
    }
  }
  const applies = (a: CatalogAction): boolean => (types === 'all' ? true : a.resources.some((t) => (types as Set<string>).has(t)));

  const serviceKeys = s.conditions.map((c) => c.key).filter((k) => k.startsWith(prefix));
  const supports = (a: CatalogAction, key: string): boolean => a.conditionKeys.some((k) => k === key || (k.endsWith('/') && key.startsWith(k)));
  for (const key of serviceKeys) {
    let known = false;
    for (const a of catalog.actions.values()) if (supports(a, key)) { known = true; break; }
    if (!known) throw new PolicyError(MSG.invalidConditionKey);
  }

  // Each Action value is checked on its own: every one must name some action of the service, and
  // some of those must apply to the statement's resources and support its condition keys.
  const patterns: ((name: string) => boolean)[] = [];
  if (s.actions.any) patterns.push(() => true);
  for (const e of s.actions.exact) if (e.startsWith(prefix)) patterns.push((n) => n === e);
  for (const t of s.actions.patterns) {
    const head = t.pieces[0];
    if (typeof head === 'string' && !head.startsWith(prefix) && !prefix.startsWith(head)) continue;
    patterns.push((n) => matchTemplate(t, n, undefined));
  }
  for (const p of patterns) {
    const matched: CatalogAction[] = [];
    for (const [name, a] of catalog.actions) if (p(name)) matched.push(a);
    if (matched.length === 0) throw new PolicyError(invalidAction);
    const applicable = matched.filter(applies);
    if (applicable.length === 0) throw new PolicyError(MSG.actionResourceMismatch);
    for (const key of serviceKeys) {
      if (!applicable.some((a) => supports(a, key))) throw new PolicyError(MSG.conditionMismatch);
    }
  }
}
