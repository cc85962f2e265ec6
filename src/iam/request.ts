// What an IAM action handler works with: the caller, its parameters (read through their rules, so
// a value that breaks a constraint is a ValidationError before anything happens), and the
// entities parameters name, resolved in the caller's account with IAM's NoSuchEntity messages.

import type { App } from '../app.js';
import type { Identity, IdentityUser } from '../auth/types.js';
import type { XmlNode } from '../s3/xml.js';
import type { IamEntityKind, IamGroup, IamManagedPolicy, IamRole, IamUser } from '../store/meta/types.js';
import { awsManagedPolicy } from './aws-managed.js';
import { IamError } from './errors.js';
import { INT_RANGES, LIST_MEMBER_RULES, RULES, intViolation, memberName, missingValue, parseIamArn, ruleViolation, type RuledParam } from './names.js';
import type { IamService } from './service.js';

/** Who is calling: an account's root user, one of its IAM users, or a role session. */
export interface IamCaller {
  /** A role session's carries it (identity.session.role); `user` is then absent. */
  readonly identity: Identity;
  /** 12 digits: every IAM action acts in this account. */
  readonly accountId: string;
  /** The account's canonical id. */
  readonly canonicalId: string;
  /** Absent for the account's root user. */
  readonly user: IdentityUser | undefined;
}

export interface IamContext {
  readonly action: string;
  readonly params: IamParams;
  readonly caller: IamCaller;
  readonly app: App;
  readonly iam: IamService;
  readonly requestId: string;
  /** ms since epoch */
  readonly now: number;
}

/** The <ActionResult> element's content; undefined for actions that answer only metadata. */
export type IamResult = XmlNode | undefined;
export type IamHandler = (ctx: IamContext) => Promise<IamResult>;

/** Get* and List* change nothing; every other action may, and drops the account's cached IAM state. */
export function isReadOnly(action: string): boolean {
  return /^(Get|List)[A-Z]/.test(action);
}

/** Something an action acts on, as authorisation sees it: `iam:<Action>` on `arn`. */
export interface IamTarget {
  readonly arn: string;
  /** The account it is authorised as belonging to, when not the one its ARN names. */
  readonly account?: string;
  /** Action-specific condition keys (lower-cased), e.g. iam:policyarn for Attach*Policy. */
  readonly keys?: Readonly<Record<string, string>>;
}

/** The targets of an action, computed before its handler runs. */
export type TargetsOf = (ctx: IamContext) => Promise<IamTarget[]>;

/** Parameters of the query protocol: decoded names → values (the first occurrence wins). */
export class IamParams {
  constructor(private readonly values: ReadonlyMap<string, string>) {}

  has(name: string): boolean {
    return this.values.has(name);
  }

  names(): IterableIterator<string> {
    return this.values.keys();
  }

  get(name: string): string | undefined {
    return this.values.get(name);
  }

  /** A parameter that must be given, checked against its rule. */
  required(name: RuledParam): string {
    const v = this.values.get(name);
    if (v === undefined) throw new IamError('ValidationError', missingValue(name));
    return this.check(name, v);
  }

  optional(name: RuledParam): string | undefined {
    const v = this.values.get(name);
    return v === undefined ? undefined : this.check(name, v);
  }

  private check(name: RuledParam, v: string): string {
    const bad = ruleViolation(name, v, RULES[name]);
    if (bad) throw new IamError('ValidationError', bad);
    return v;
  }

  int(name: keyof typeof INT_RANGES): number | undefined {
    const v = this.values.get(name);
    if (v === undefined) return undefined;
    if (!/^-?\d{1,10}$/.test(v)) throw new IamError('ValidationError', `1 validation error detected: Value '${v}' at '${memberName(name)}' failed to satisfy constraint: Member must be an integer`);
    const n = Number(v);
    const bad = intViolation(name, n, INT_RANGES[name]);
    if (bad) throw new IamError('ValidationError', bad);
    return n;
  }

  bool(name: string): boolean | undefined {
    const v = this.values.get(name);
    if (v === undefined) return undefined;
    if (v !== 'true' && v !== 'false') throw new IamError('ValidationError', `1 validation error detected: Value '${v}' at '${memberName(name)}' failed to satisfy constraint: Member must be a boolean`);
    return v === 'true';
  }

  /**
   * Checks every parameter given against its constraint, as AWS does before an action runs: a
   * value out of bounds is a ValidationError whatever else is wrong with the request (a PolicyName
   * too long for a user that does not exist is a ValidationError, not NoSuchEntity).
   */
  validateAll(): void {
    for (const name of this.values.keys()) {
      if (Object.hasOwn(RULES, name)) this.optional(name as RuledParam);
      else if (Object.hasOwn(INT_RANGES, name)) this.int(name as keyof typeof INT_RANGES);
    }
    for (const list of Object.keys(LIST_MEMBER_RULES) as (keyof typeof LIST_MEMBER_RULES)[]) this.list(list, LIST_MEMBER_RULES[list]);
  }

  /**
   * A list parameter as the query protocol sends it (Name.member.1, Name.member.2, …; an empty list
   * may come as a bare `Name=`), each member checked against `memberRule`.
   */
  list(name: string, memberRule?: RuledParam): string[] {
    const out: string[] = [];
    for (let i = 1; ; i++) {
      const v = this.values.get(`${name}.member.${i}`);
      if (v === undefined) return out;
      const bad = memberRule && ruleViolation(`${name}.${i}.member`, v, RULES[memberRule]);
      if (bad) throw new IamError('ValidationError', bad);
      out.push(v);
    }
  }

  /** Marker and MaxItems of a listing (100 items by default, as AWS). */
  page(): { after: string | undefined; maxItems: number } {
    return { after: this.optional('Marker'), maxItems: this.int('MaxItems') ?? 100 };
  }
}

// ---------------------------------------------------------------- entities named by parameters

const NAME_PARAM = { user: 'UserName', group: 'GroupName', role: 'RoleName' } as const satisfies Record<IamEntityKind, RuledParam>;

export function nameParam(kind: IamEntityKind): 'UserName' | 'GroupName' | 'RoleName' {
  return NAME_PARAM[kind];
}

function notFound(kind: IamEntityKind, name: string): IamError {
  return new IamError('NoSuchEntity', `The ${kind} with name ${name} cannot be found.`);
}

export async function findUser(ctx: IamContext, name: string): Promise<IamUser> {
  const u = await ctx.iam.store.getUser(ctx.caller.accountId, name);
  if (!u) throw notFound('user', name);
  return u;
}

export async function findEntity(ctx: IamContext, kind: 'user', name: string): Promise<IamUser>;
export async function findEntity(ctx: IamContext, kind: 'group', name: string): Promise<IamGroup>;
export async function findEntity(ctx: IamContext, kind: 'role', name: string): Promise<IamRole>;
export async function findEntity(ctx: IamContext, kind: IamEntityKind, name: string): Promise<IamUser | IamGroup | IamRole>;
export async function findEntity(ctx: IamContext, kind: IamEntityKind, name: string): Promise<IamUser | IamGroup | IamRole> {
  const store = ctx.iam.store;
  const e = kind === 'user' ? await store.getUser(ctx.caller.accountId, name) : kind === 'group' ? await store.getGroup(ctx.caller.accountId, name) : await store.getRole(ctx.caller.accountId, name);
  if (!e) throw notFound(kind, name);
  return e;
}

/** The user, group or role named by its parameter (UserName, GroupName, RoleName). */
export function namedEntity(ctx: IamContext, kind: IamEntityKind): Promise<IamUser | IamGroup | IamRole> {
  return findEntity(ctx, kind, ctx.params.required(nameParam(kind)));
}

/**
 * The IAM user an action names with UserName, or the caller when it gives none (key actions):
 * undefined means the account's root user.
 */
export async function userOrCaller(ctx: IamContext): Promise<IamUser | undefined> {
  const name = ctx.params.optional('UserName');
  if (name !== undefined) return findUser(ctx, name);
  // Never the root user for a role session (userOrSelf refused it already; this is the backstop).
  if (ctx.caller.identity.session?.role) throw new IamError('ValidationError', 'Must specify userName when calling with non-User credentials');
  const self = ctx.caller.user;
  if (!self) return undefined;
  const u = await ctx.iam.store.getUserById(self.id);
  if (!u) throw notFound('user', self.name);
  return u;
}

/**
 * The managed policy a PolicyArn names: one of the caller's account, or an AWS managed policy
 * (accountId "aws", its attachment count the caller's account's). Another account's policy is not
 * attachable.
 */
export async function namedPolicy(ctx: IamContext): Promise<IamManagedPolicy> {
  const arn = ctx.params.required('PolicyArn');
  const parsed = parseIamArn(arn);
  if (!parsed || parsed.kind !== 'policy') throw new IamError('InvalidInput', `ARN ${arn} is not valid.`);
  const missing = () => new IamError('NoSuchEntity', `Policy ${arn} does not exist or is not attachable.`);
  if (parsed.accountId === 'aws') {
    const aws = awsManagedPolicy(parsed.name, parsed.path);
    if (!aws) throw missing();
    return { ...aws.policy, attachmentCount: await ctx.iam.store.countPolicyAttachments(aws.policy.id, ctx.caller.accountId) };
  }
  const p = parsed.accountId === ctx.caller.accountId ? await ctx.iam.store.getPolicy(parsed.accountId, parsed.name) : undefined;
  if (!p || p.path !== parsed.path) throw missing();
  return p;
}

/** Whether a managed policy is one of AWS's (read-only, not a row of the store). */
export function isAwsManaged(p: IamManagedPolicy): boolean {
  return p.accountId === 'aws';
}
