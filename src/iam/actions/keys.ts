// CreateAccessKey, UpdateAccessKey, DeleteAccessKey, ListAccessKeys, GetAccessKeyLastUsed.
// Without UserName these act on the caller's own keys: an IAM user's, or the account root's.

import type { AccessKey, AccessKeyOwner, IamUser } from '../../store/meta/types.js';
import { IamError } from '../errors.js';
import { userOrCaller, type IamContext, type IamHandler } from '../request.js';
import { iamDate, members, page } from '../shapes.js';

function ownerOf(ctx: IamContext, user: IamUser | undefined): AccessKeyOwner {
  return user ? { iamUserId: user.id } : { root: ctx.caller.canonicalId };
}

/** The key, if it is one of the owner's (another's is as unknown as a missing one). */
async function ownedKey(ctx: IamContext, user: IamUser | undefined): Promise<AccessKey> {
  const id = ctx.params.required('AccessKeyId');
  const key = await ctx.app.meta.getAccessKey(id);
  const owned = key !== undefined && key.userId === ctx.caller.canonicalId && key.iamUserId === user?.id;
  if (!owned) throw new IamError('NoSuchEntity', `The Access Key with id ${id} cannot be found.`);
  return key;
}

export const createAccessKey: IamHandler = async (ctx) => {
  const user = await userOrCaller(ctx);
  const key = await ctx.iam.createAccessKey({ id: ctx.caller.canonicalId, accountId: ctx.caller.accountId }, user, ctx.now);
  return {
    AccessKey: { UserName: user?.name, AccessKeyId: key.accessKeyId, Status: key.status ?? 'Active', SecretAccessKey: key.secretAccessKey, CreateDate: iamDate(key.createdAt) },
  };
};

export const updateAccessKey: IamHandler = async (ctx) => {
  const user = await userOrCaller(ctx);
  const status = ctx.params.required('Status');
  if (status !== 'Active' && status !== 'Inactive') throw new IamError('InvalidInput', `A key cannot be set to ${status}.`);
  const key = await ownedKey(ctx, user);
  await ctx.iam.store.setAccessKeyStatus(key.accessKeyId, status);
  return undefined;
};

export const deleteAccessKey: IamHandler = async (ctx) => {
  const user = await userOrCaller(ctx);
  const key = await ownedKey(ctx, user);
  await ctx.iam.store.deleteAccessKey(key.accessKeyId);
  return undefined;
};

export const listAccessKeys: IamHandler = async (ctx) => {
  const user = await userOrCaller(ctx);
  const { after, maxItems } = ctx.params.page();
  const rows = await ctx.iam.store.listAccessKeys(ownerOf(ctx, user), { after, limit: maxItems + 1 });
  const p = page(rows, maxItems, (k) => k.accessKeyId);
  return {
    AccessKeyMetadata: members(p.items.map((k) => ({ UserName: user?.name, AccessKeyId: k.accessKeyId, Status: k.status ?? 'Active', CreateDate: iamDate(k.createdAt) }))),
    IsTruncated: p.IsTruncated,
    Marker: p.Marker,
  };
};

export const getAccessKeyLastUsed: IamHandler = async (ctx) => {
  const id = ctx.params.required('AccessKeyId');
  const key = await ctx.app.meta.getAccessKey(id);
  // Authorisation (on the key's owner) has refused other accounts' keys already.
  if (!key || key.userId !== ctx.caller.canonicalId) throw new IamError('NoSuchEntity', `The Access Key with id ${id} cannot be found.`);
  const user = key.iamUserId !== undefined ? await ctx.iam.store.getUserById(key.iamUserId) : undefined;
  const used = key.lastUsed;
  return {
    UserName: user?.name,
    AccessKeyLastUsed: used ? { LastUsedDate: iamDate(used.at), ServiceName: used.service, Region: used.region } : { ServiceName: 'N/A', Region: 'N/A' },
  };
};
