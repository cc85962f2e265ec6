// What each action acts on, for authorisation: the ARN of the user, group, role or policy its
// parameters name (with the entity's path when it exists, as AWS evaluates it), or "*" for the
// listings AWS does not scope to resources. The dispatcher authorises iam:<Action> on every target
// before the handler runs, so no handler can forget to.

import { rootArn } from '../authz/policy/index.js';
import type { IamEntityKind } from '../store/meta/types.js';
import { IamError } from './errors.js';
import { oidcUrl } from './actions/oidc.js';
import { iamArn, oidcProviderArn, parseIamArn, parseOidcProviderArn } from './names.js';
import { isReadOnly, nameParam, type IamContext, type IamTarget, type TargetsOf } from './request.js';

/** Listings (ListUsers, ListGroups, ListRoles, ListPolicies) cannot be scoped to resources in AWS. */
export const anyResource: TargetsOf = async () => [{ arn: '*' }];

async function pathOf(ctx: IamContext, kind: IamEntityKind, name: string): Promise<string> {
  const store = ctx.iam.store;
  const acct = ctx.caller.accountId;
  const e = kind === 'user' ? await store.getUser(acct, name) : kind === 'group' ? await store.getGroup(acct, name) : await store.getRole(acct, name);
  // Authorisation comes before existence: a missing entity is authorised at the root path, and
  // the handler then answers NoSuchEntity to a caller allowed to know.
  return e?.path ?? '/';
}

/** An entity the action creates: its ARN from the Path and name parameters. */
export function newEntity(kind: IamEntityKind | 'policy'): TargetsOf {
  return async (ctx) => {
    const name = ctx.params.required(kind === 'policy' ? 'PolicyName' : nameParam(kind));
    const path = ctx.params.optional('Path') ?? '/';
    return [{ arn: iamArn(ctx.caller.accountId, kind, path, name) }];
  };
}

async function entityTarget(ctx: IamContext, kind: IamEntityKind, name: string): Promise<IamTarget> {
  return { arn: iamArn(ctx.caller.accountId, kind, await pathOf(ctx, kind, name), name) };
}

/** The user, group or role named by UserName / GroupName / RoleName. */
export function entity(kind: IamEntityKind): TargetsOf {
  return async (ctx) => [await entityTarget(ctx, kind, ctx.params.required(nameParam(kind)))];
}

/**
 * The user named by UserName, or the caller itself (its user ARN, or the account's root). A role
 * session is neither: it must name the user (AWS's ValidationError), never act on the root's keys.
 */
export const userOrSelf: TargetsOf = async (ctx) => {
  const name = ctx.params.optional('UserName');
  if (name !== undefined) return [await entityTarget(ctx, 'user', name)];
  refuseRoleSession(ctx);
  return [{ arn: ctx.caller.user?.arn ?? rootArn(ctx.caller.accountId) }];
};

export function refuseRoleSession(ctx: IamContext): void {
  if (ctx.caller.identity.session?.role) throw new IamError('ValidationError', 'Must specify userName when calling with non-User credentials');
}

/** UpdateUser and UpdateGroup act on the entity as it is and as it will be (a rename needs both allowed). */
export function beforeAndAfter(kind: 'user' | 'group'): TargetsOf {
  return async (ctx) => {
    const name = ctx.params.required(nameParam(kind));
    const before = await entityTarget(ctx, kind, name);
    const newName = ctx.params.optional(kind === 'user' ? 'NewUserName' : 'NewGroupName') ?? name;
    const newPath = ctx.params.optional('NewPath') ?? parseIamArn(before.arn)?.path ?? '/';
    const afterArn = iamArn(ctx.caller.accountId, kind, newPath, newName);
    return afterArn === before.arn ? [before] : [before, { arn: afterArn }];
  };
}

export const userBeforeAndAfter = beforeAndAfter('user');

/**
 * A managed policy named by PolicyArn, as given (another account's is denied as cross-account).
 * AWS managed policies are readable by any account, as its own resources are (an identity-based
 * policy of the caller suffices), and changed by none: they are AWS's account's.
 */
export const policy: TargetsOf = async (ctx) => {
  const arn = ctx.params.required('PolicyArn');
  const parsed = parseIamArn(arn);
  if (!parsed || parsed.kind !== 'policy') throw new IamError('InvalidInput', `ARN ${arn} is not valid.`);
  if (parsed.accountId === 'aws' && isReadOnly(ctx.action)) return [{ arn, account: ctx.caller.accountId }];
  return [{ arn }];
};

/** Attach/Detach*Policy act on the user, group or role, with iam:PolicyARN naming the policy. */
export function entityWithPolicy(kind: IamEntityKind): TargetsOf {
  return async (ctx) => {
    const t = await entityTarget(ctx, kind, ctx.params.required(nameParam(kind)));
    return [{ ...t, keys: { 'iam:policyarn': ctx.params.required('PolicyArn') } }];
  };
}

/** GetAccessKeyLastUsed acts on the key's owner: its IAM user, or its account's root. */
export const keyOwner: TargetsOf = async (ctx) => {
  const id = ctx.params.required('AccessKeyId');
  const key = await ctx.app.meta.getAccessKey(id);
  if (!key) throw new IamError('NoSuchEntity', `The Access Key with id ${id} cannot be found.`);
  if (key.iamUserId !== undefined) {
    const u = await ctx.iam.store.getUserById(key.iamUserId);
    if (u) return [{ arn: iamArn(u.accountId, 'user', u.path, u.name) }];
  }
  const account = await ctx.app.meta.getAccount(key.userId);
  if (!account) throw new IamError('NoSuchEntity', `The Access Key with id ${id} cannot be found.`);
  return [{ arn: rootArn(account.accountId) }];
};

/** An OpenID Connect provider named by OpenIDConnectProviderArn (another account's is denied as cross-account). */
export const oidcProvider: TargetsOf = async (ctx) => {
  const arn = ctx.params.required('OpenIDConnectProviderArn');
  if (!parseOidcProviderArn(arn)) throw new IamError('InvalidInput', `ARN ${arn} is not valid.`);
  return [{ arn }];
};

/** CreateOpenIDConnectProvider acts on the provider it creates, named by its Url. */
export const newOidcProvider: TargetsOf = async (ctx) => [{ arn: oidcProviderArn(ctx.caller.accountId, oidcUrl(ctx.params.required('Url'))) }];
