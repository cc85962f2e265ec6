// Managed policies — CreatePolicy, GetPolicy, DeletePolicy, ListPolicies, their versions — and
// their attachment to users, groups and roles (Attach/Detach/ListAttached{User,Group,Role}Policies).

import type { IamEntityKind } from '../../store/meta/types.js';
import { checkDocument } from '../documents.js';
import { IamError } from '../errors.js';
import { uniqueId } from '../ids.js';
import { namedEntity, namedPolicy, type IamHandler } from '../request.js';
import { QUOTAS } from '../service.js';
import { members, page, policyArn, policyXml, versionXml } from '../shapes.js';

export const createPolicy: IamHandler = async (ctx) => {
  const name = ctx.params.required('PolicyName');
  const path = ctx.params.optional('Path') ?? '/';
  const doc = ctx.params.required('PolicyDocument');
  const description = ctx.params.optional('Description');
  checkDocument(doc, 'identity');
  const policy = await ctx.iam.store.createPolicy(
    { accountId: ctx.caller.accountId, id: uniqueId('ANPA'), name, path, createdAt: ctx.now, ...(description !== undefined ? { description } : {}) },
    doc,
  );
  return { Policy: policyXml(policy) };
};

export const getPolicy: IamHandler = async (ctx) => ({ Policy: policyXml(await namedPolicy(ctx)) });

export const deletePolicy: IamHandler = async (ctx) => {
  const policy = await namedPolicy(ctx);
  await ctx.iam.store.deletePolicy(policy.id);
  return undefined;
};

export const listPolicies: IamHandler = async (ctx) => {
  const scope = ctx.params.optional('Scope') ?? 'All';
  const usage = ctx.params.optional('PolicyUsageFilter');
  const onlyAttached = ctx.params.bool('OnlyAttached') ?? false;
  const pathPrefix = ctx.params.optional('PathPrefix');
  const { after, maxItems } = ctx.params.page();
  // This server has no AWS managed policies, and no permissions boundaries use any policy.
  const none = scope === 'AWS' || usage === 'PermissionsBoundary';
  const rows = none ? [] : await ctx.iam.store.listPolicies(ctx.caller.accountId, { after, limit: maxItems + 1, onlyAttached, ...(pathPrefix !== undefined ? { pathPrefix } : {}) });
  const p = page(rows, maxItems, (r) => r.name);
  // ListPolicies leaves out descriptions, as AWS does.
  return { Policies: members(p.items.map((r) => ({ ...policyXml(r), Description: undefined }))), IsTruncated: p.IsTruncated, Marker: p.Marker };
};

export const createPolicyVersion: IamHandler = async (ctx) => {
  const policy = await namedPolicy(ctx);
  const doc = ctx.params.required('PolicyDocument');
  const setAsDefault = ctx.params.bool('SetAsDefault') ?? false;
  checkDocument(doc, 'identity');
  const v = await ctx.iam.store.createPolicyVersion(policy.id, doc, setAsDefault, ctx.now, QUOTAS.versionsPerPolicy);
  return { PolicyVersion: versionXml(v, false) };
};

export const getPolicyVersion: IamHandler = async (ctx) => {
  const policy = await namedPolicy(ctx);
  const versionId = ctx.params.required('VersionId');
  const v = await ctx.iam.store.getPolicyVersion(policy.id, versionId);
  if (!v) throw new IamError('NoSuchEntity', `Policy ${policyArn(policy)} version ${versionId} does not exist or is not attachable.`);
  return { PolicyVersion: versionXml(v, true) };
};

export const deletePolicyVersion: IamHandler = async (ctx) => {
  const policy = await namedPolicy(ctx);
  await ctx.iam.store.deletePolicyVersion(policy.id, ctx.params.required('VersionId'));
  return undefined;
};

export const listPolicyVersions: IamHandler = async (ctx) => {
  const policy = await namedPolicy(ctx);
  const { after, maxItems } = ctx.params.page();
  const all = await ctx.iam.store.listPolicyVersions(policy.id);
  const rest = after === undefined ? all : all.slice(all.findIndex((v) => v.versionId === after) + 1);
  const p = page(rest, maxItems, (v) => v.versionId);
  return { Versions: members(p.items.map((v) => versionXml(v, false))), IsTruncated: p.IsTruncated, Marker: p.Marker };
};

export const setDefaultPolicyVersion: IamHandler = async (ctx) => {
  const policy = await namedPolicy(ctx);
  await ctx.iam.store.setDefaultPolicyVersion(policy.id, ctx.params.required('VersionId'), ctx.now);
  return undefined;
};

export interface AttachmentHandlers {
  attach: IamHandler;
  detach: IamHandler;
  list: IamHandler;
}

export function attachmentHandlers(kind: IamEntityKind): AttachmentHandlers {
  const attach: IamHandler = async (ctx) => {
    const entity = await namedEntity(ctx, kind);
    const policy = await namedPolicy(ctx);
    await ctx.iam.store.attachPolicy({ kind, id: entity.id }, policy.id, QUOTAS.managedPoliciesPerEntity);
    return undefined;
  };

  const detach: IamHandler = async (ctx) => {
    const entity = await namedEntity(ctx, kind);
    const policy = await namedPolicy(ctx);
    const attached = await ctx.iam.store.listAttachedPolicies(entity.id, { limit: QUOTAS.managedPoliciesPerEntity + 100 });
    if (!attached.some((p) => p.id === policy.id)) throw new IamError('NoSuchEntity', `Policy ${policyArn(policy)} was not found.`);
    await ctx.iam.store.detachPolicy(entity.id, policy.id);
    return undefined;
  };

  const list: IamHandler = async (ctx) => {
    const entity = await namedEntity(ctx, kind);
    const pathPrefix = ctx.params.optional('PathPrefix');
    const { after, maxItems } = ctx.params.page();
    const rows = await ctx.iam.store.listAttachedPolicies(entity.id, { after, limit: maxItems + 1, ...(pathPrefix !== undefined ? { pathPrefix } : {}) });
    const p = page(rows, maxItems, (r) => r.name);
    return { AttachedPolicies: members(p.items.map((r) => ({ PolicyName: r.name, PolicyArn: policyArn(r) }))), IsTruncated: p.IsTruncated, Marker: p.Marker };
  };

  return { attach, detach, list };
}
