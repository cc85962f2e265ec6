// CreateGroup, GetGroup (with its users), UpdateGroup, DeleteGroup, ListGroups, AddUserToGroup,
// RemoveUserFromGroup, ListGroupsForUser.

import { IamStoreError } from '../../store/meta/types.js';
import { IamError } from '../errors.js';
import { uniqueId } from '../ids.js';
import { findEntity, findUser, type IamHandler } from '../request.js';
import { QUOTAS } from '../service.js';
import { groupXml, members, page, userXml } from '../shapes.js';

export const createGroup: IamHandler = async (ctx) => {
  const name = ctx.params.required('GroupName');
  const path = ctx.params.optional('Path') ?? '/';
  const group = { accountId: ctx.caller.accountId, id: uniqueId('AGPA'), name, path, createdAt: ctx.now };
  await ctx.iam.store.createGroup(group, QUOTAS.groupsPerAccount);
  return { Group: groupXml(group) };
};

export const getGroup: IamHandler = async (ctx) => {
  const group = await findEntity(ctx, 'group', ctx.params.required('GroupName'));
  const { after, maxItems } = ctx.params.page();
  const rows = await ctx.iam.store.listGroupMembers(group.id, { after, limit: maxItems + 1 });
  const p = page(rows, maxItems, (u) => u.name);
  return { Group: groupXml(group), Users: members(p.items.map(userXml)), IsTruncated: p.IsTruncated, Marker: p.Marker };
};

/** Renames and/or moves a group; its members and policies stay with it. */
export const updateGroup: IamHandler = async (ctx) => {
  const group = await findEntity(ctx, 'group', ctx.params.required('GroupName'));
  const name = ctx.params.optional('NewGroupName');
  const path = ctx.params.optional('NewPath');
  await ctx.iam.store.updateGroup(group.id, { ...(name !== undefined ? { name } : {}), ...(path !== undefined ? { path } : {}) });
  return undefined;
};

export const deleteGroup: IamHandler = async (ctx) => {
  const group = await findEntity(ctx, 'group', ctx.params.required('GroupName'));
  await ctx.iam.store.deleteGroup(group.id);
  return undefined;
};

export const listGroups: IamHandler = async (ctx) => {
  const { after, maxItems } = ctx.params.page();
  const pathPrefix = ctx.params.optional('PathPrefix');
  const rows = await ctx.iam.store.listGroups(ctx.caller.accountId, { after, limit: maxItems + 1, ...(pathPrefix !== undefined ? { pathPrefix } : {}) });
  const p = page(rows, maxItems, (g) => g.name);
  return { Groups: members(p.items.map(groupXml)), IsTruncated: p.IsTruncated, Marker: p.Marker };
};

export const addUserToGroup: IamHandler = async (ctx) => {
  const group = await findEntity(ctx, 'group', ctx.params.required('GroupName'));
  const user = await findUser(ctx, ctx.params.required('UserName'));
  await ctx.iam.store.addUserToGroup(group.id, user.id, QUOTAS.groupsPerUser);
  return undefined;
};

export const removeUserFromGroup: IamHandler = async (ctx) => {
  const group = await findEntity(ctx, 'group', ctx.params.required('GroupName'));
  const user = await findUser(ctx, ctx.params.required('UserName'));
  try {
    await ctx.iam.store.removeUserFromGroup(group.id, user.id);
  } catch (e) {
    if (e instanceof IamStoreError && e.code === 'NoSuchEntity') throw new IamError('NoSuchEntity', `User ${user.name} is not in group ${group.name}.`);
    throw e;
  }
  return undefined;
};

export const listGroupsForUser: IamHandler = async (ctx) => {
  const user = await findUser(ctx, ctx.params.required('UserName'));
  const { after, maxItems } = ctx.params.page();
  const rows = await ctx.iam.store.listGroupsOfUser(user.id, { after, limit: maxItems + 1 });
  const p = page(rows, maxItems, (g) => g.name);
  return { Groups: members(p.items.map(groupXml)), IsTruncated: p.IsTruncated, Marker: p.Marker };
};
