// CreateUser, GetUser, UpdateUser, DeleteUser, ListUsers.

import { rootArn } from '../../authz/policy/index.js';
import { IamError } from '../errors.js';
import { findUser, type IamHandler } from '../request.js';
import { refuseRoleSession } from '../targets.js';
import { iamDate, members, page, userXml } from '../shapes.js';

export const createUser: IamHandler = async (ctx) => {
  const name = ctx.params.required('UserName');
  const path = ctx.params.optional('Path') ?? '/';
  const user = await ctx.iam.createUser(ctx.caller.accountId, name, path, ctx.now);
  return { User: userXml(user) };
};

export const getUser: IamHandler = async (ctx) => {
  const name = ctx.params.optional('UserName');
  if (name !== undefined) return { User: userXml(await findUser(ctx, name)) };
  refuseRoleSession(ctx);
  const self = ctx.caller.user;
  if (self) return { User: userXml(await findUser(ctx, self.name)) };
  // The account's root user, as AWS describes it: the account id as its id, no name or path.
  const account = await ctx.app.meta.getAccount(ctx.caller.canonicalId);
  if (!account) throw new IamError('NoSuchEntity', 'The account cannot be found.');
  return { User: { UserId: account.accountId, Arn: rootArn(account.accountId), CreateDate: iamDate(account.createdAt) } };
};

export const updateUser: IamHandler = async (ctx) => {
  const user = await findUser(ctx, ctx.params.required('UserName'));
  const name = ctx.params.optional('NewUserName');
  const path = ctx.params.optional('NewPath');
  await ctx.iam.store.updateUser(user.id, { ...(name !== undefined ? { name } : {}), ...(path !== undefined ? { path } : {}) });
  return undefined;
};

export const deleteUser: IamHandler = async (ctx) => {
  const user = await findUser(ctx, ctx.params.required('UserName'));
  await ctx.iam.store.deleteUser(user.id);
  return undefined;
};

export const listUsers: IamHandler = async (ctx) => {
  const { after, maxItems } = ctx.params.page();
  const pathPrefix = ctx.params.optional('PathPrefix');
  const rows = await ctx.iam.store.listUsers(ctx.caller.accountId, { after, limit: maxItems + 1, ...(pathPrefix !== undefined ? { pathPrefix } : {}) });
  const p = page(rows, maxItems, (u) => u.name);
  return { Users: members(p.items.map(userXml)), IsTruncated: p.IsTruncated, Marker: p.Marker };
};
