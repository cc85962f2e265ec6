// CreateRole, GetRole, UpdateRole, UpdateRoleDescription, DeleteRole, ListRoles,
// UpdateAssumeRolePolicy. Roles are stored with their trust, inline and attached policies; STS's
// AssumeRole (src/sts) assumes them. Deleting a role ends its sessions; a change to its policies
// applies to them.

import { POLICY_SIZE_LIMITS } from '../../authz/policy/index.js';
import type { IamRole } from '../../store/meta/types.js';
import { checkDocument } from '../documents.js';
import { uniqueId } from '../ids.js';
import { findEntity, type IamHandler } from '../request.js';
import { QUOTAS } from '../service.js';
import { members, page, roleXml } from '../shapes.js';

const TRUST_TOO_LARGE = `Cannot exceed quota for ACLSizePerRole: ${POLICY_SIZE_LIMITS.trust}`;

export const createRole: IamHandler = async (ctx) => {
  const name = ctx.params.required('RoleName');
  const path = ctx.params.optional('Path') ?? '/';
  const trust = ctx.params.required('AssumeRolePolicyDocument');
  const description = ctx.params.optional('Description');
  const maxSessionDuration = ctx.params.int('MaxSessionDuration') ?? 3600;
  checkDocument(trust, 'trust', undefined, TRUST_TOO_LARGE);
  const role: IamRole = { accountId: ctx.caller.accountId, id: uniqueId('AROA'), name, path, createdAt: ctx.now, assumeRolePolicy: trust, maxSessionDuration };
  if (description !== undefined) role.description = description;
  await ctx.iam.store.createRole(role, QUOTAS.rolesPerAccount);
  return { Role: roleXml(role) };
};

export const getRole: IamHandler = async (ctx) => {
  const role = await findEntity(ctx, 'role', ctx.params.required('RoleName'));
  // When a role was last assumed is not recorded (no store write per AssumeRole): RoleLastUsed is empty.
  return { Role: { ...roleXml(role), RoleLastUsed: {} } };
};

export const updateRole: IamHandler = async (ctx) => {
  const role = await findEntity(ctx, 'role', ctx.params.required('RoleName'));
  const description = ctx.params.optional('Description');
  const maxSessionDuration = ctx.params.int('MaxSessionDuration');
  await ctx.iam.store.updateRole(role.id, { ...(description !== undefined ? { description } : {}), ...(maxSessionDuration !== undefined ? { maxSessionDuration } : {}) });
  // UpdateRole answers an empty UpdateRoleResult element.
  return {};
};

/** UpdateRoleDescription answers the role as it now is. */
export const updateRoleDescription: IamHandler = async (ctx) => {
  const role = await findEntity(ctx, 'role', ctx.params.required('RoleName'));
  const description = ctx.params.required('Description');
  await ctx.iam.store.updateRole(role.id, { description });
  return { Role: { ...roleXml({ ...role, description }), RoleLastUsed: {} } };
};

export const updateAssumeRolePolicy: IamHandler = async (ctx) => {
  const role = await findEntity(ctx, 'role', ctx.params.required('RoleName'));
  const trust = ctx.params.required('PolicyDocument');
  checkDocument(trust, 'trust', undefined, TRUST_TOO_LARGE);
  await ctx.iam.store.updateRole(role.id, { assumeRolePolicy: trust });
  return undefined;
};

export const deleteRole: IamHandler = async (ctx) => {
  const role = await findEntity(ctx, 'role', ctx.params.required('RoleName'));
  await ctx.iam.store.deleteRole(role.id);
  return undefined;
};

export const listRoles: IamHandler = async (ctx) => {
  const { after, maxItems } = ctx.params.page();
  const pathPrefix = ctx.params.optional('PathPrefix');
  const rows = await ctx.iam.store.listRoles(ctx.caller.accountId, { after, limit: maxItems + 1, ...(pathPrefix !== undefined ? { pathPrefix } : {}) });
  const p = page(rows, maxItems, (r) => r.name);
  return { Roles: members(p.items.map(roleXml)), IsTruncated: p.IsTruncated, Marker: p.Marker };
};
