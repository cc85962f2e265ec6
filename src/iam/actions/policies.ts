// Managed policies — CreatePolicy, GetPolicy, DeletePolicy, ListPolicies, their versions — and
// their attachment to users, groups and roles (Attach/Detach/ListAttached{User,Group,Role}Policies).
// AWS managed policies (aws-managed.ts) are read and attached here like the account's own; the
// actions that would change them are refused before a handler runs (targets.ts).

import type { IamEntityKind, IamManagedPolicy, IamPolicyVersion } from '../../store/meta/types.js';
import { AWS_MANAGED_POLICIES, awsManagedPolicyById, cmpName } from '../aws-managed.js';
import { checkDocument } from '../documents.js';
import { IamError } from '../errors.js';
import { uniqueId } from '../ids.js';
import { isAwsManaged, namedEntity, namedPolicy, type IamContext, type IamHandler } from '../request.js';
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
    QUOTAS.policiesPerAccount,
  );
  return { Policy: policyXml(policy) };
};

export const getPolicy: IamHandler = async (ctx) => ({ Policy: policyXml(await namedPolicy(ctx)) });

export const deletePolicy: IamHandler = async (ctx) => {
  const policy = await namedPolicy(ctx);
  await ctx.iam.store.deletePolicy(policy.id);
  return undefined;
};

/**
 * Listings that mix the account's managed policies and AWS's are in name order, the account's
 * first on a tie; their Marker is the last name shown, prefixed "aws:" when that was AWS's.
 */
const AWS_MARKER = 'aws:';

function markerOf(p: IamManagedPolicy): string {
  return isAwsManaged(p) ? AWS_MARKER + p.name : p.name;
}

/** Whether `p` comes after the marker in such a listing. */
function afterMarker(p: IamManagedPolicy, marker: string | undefined): boolean {
  if (marker === undefined) return true;
  const aws = marker.startsWith(AWS_MARKER);
  const c = cmpName(p.name, aws ? marker.slice(AWS_MARKER.length) : marker);
  return c > 0 || (c === 0 && !aws && isAwsManaged(p));
}

function byListingOrder(a: IamManagedPolicy, b: IamManagedPolicy): number {
  return cmpName(a.name, b.name) || Number(isAwsManaged(a)) - Number(isAwsManaged(b));
}

export const listPolicies: IamHandler = async (ctx) => {
  const scope = ctx.params.optional('Scope') ?? 'All';
  const usage = ctx.params.optional('PolicyUsageFilter');
  const onlyAttached = ctx.params.bool('OnlyAttached') ?? false;
  const pathPrefix = ctx.params.optional('PathPrefix');
  const { after, maxItems } = ctx.params.page();
  const rows: IamManagedPolicy[] = [];
  // No permissions boundaries exist on this server: no policy is used as one.
  if (usage !== 'PermissionsBoundary') {
    if (scope !== 'AWS') {
      const afterName = after?.startsWith(AWS_MARKER) ? after.slice(AWS_MARKER.length) : after;
      rows.push(...(await ctx.iam.store.listPolicies(ctx.caller.accountId, { after: afterName, limit: maxItems + 1, onlyAttached, ...(pathPrefix !== undefined ? { pathPrefix } : {}) })));
    }
    if (scope !== 'Local') {
      for (const { policy } of AWS_MANAGED_POLICIES) {
        if (!afterMarker({ ...policy, attachmentCount: 0 }, after) || (pathPrefix !== undefined && !policy.path.startsWith(pathPrefix))) continue;
        const attachmentCount = await ctx.iam.store.countPolicyAttachments(policy.id, ctx.caller.accountId);
        if (!onlyAttached || attachmentCount > 0) rows.push({ ...policy, attachmentCount });
      }
    }
  }
  const p = page(rows.sort(byListingOrder).slice(0, maxItems + 1), maxItems, markerOf);
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

/** The versions of a policy: an AWS managed policy has its default one only. */
async function versionsOf(ctx: IamContext, policy: IamManagedPolicy): Promise<IamPolicyVersion[]> {
  if (!isAwsManaged(policy)) return ctx.iam.store.listPolicyVersions(policy.id);
  const aws = awsManagedPolicyById(policy.id);
  return aws ? [aws.version] : [];
}

export const getPolicyVersion: IamHandler = async (ctx) => {
  const policy = await namedPolicy(ctx);
  const versionId = ctx.params.required('VersionId');
  const v = isAwsManaged(policy) ? (await versionsOf(ctx, policy)).find((x) => x.versionId === versionId) : await ctx.iam.store.getPolicyVersion(policy.id, versionId);
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
  const all = await versionsOf(ctx, policy);
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
    await ctx.iam.store.attachPolicy({ kind, id: entity.id }, policy.id, QUOTAS.managedPoliciesPerEntity, isAwsManaged(policy));
    return undefined;
  };

  const detach: IamHandler = async (ctx) => {
    const entity = await namedEntity(ctx, kind);
    const policy = await namedPolicy(ctx);
    if (!(await ctx.iam.store.attachedPolicyIds(entity.id)).includes(policy.id)) throw new IamError('NoSuchEntity', `Policy ${policyArn(policy)} was not found.`);
    await ctx.iam.store.detachPolicy(entity.id, policy.id);
    return undefined;
  };

  // An entity has at most QUOTAS.managedPoliciesPerEntity policies: they are listed in memory.
  const list: IamHandler = async (ctx) => {
    const entity = await namedEntity(ctx, kind);
    const pathPrefix = ctx.params.optional('PathPrefix');
    const { after, maxItems } = ctx.params.page();
    const ids = await ctx.iam.store.attachedPolicyIds(entity.id);
    const own = await ctx.iam.store.listAttachedPolicies(entity.id, { limit: ids.length + 1 });
    const aws = ids.flatMap((id) => {
      const a = awsManagedPolicyById(id);
      return a ? [{ ...a.policy, attachmentCount: 0 }] : [];
    });
    const rows = [...own, ...aws].filter((r) => (pathPrefix === undefined || r.path.startsWith(pathPrefix)) && afterMarker(r, after)).sort(byListingOrder);
    const p = page(rows, maxItems, markerOf);
    return { AttachedPolicies: members(p.items.map((r) => ({ PolicyName: r.name, PolicyArn: policyArn(r) }))), IsTruncated: p.IsTruncated, Marker: p.Marker };
  };

  return { attach, detach, list };
}
