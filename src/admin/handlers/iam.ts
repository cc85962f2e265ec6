// Users, groups, access keys and managed and inline policies of an account: the IAM API's own
// action handlers (src/iam/actions/), called as the account's root user would call them — one
// implementation, three faces (IAM API, admin API, CLI). Parameters are IAM's (so are their
// rules and errors: ValidationError, NoSuchEntity, EntityAlreadyExists, DeleteConflict…), and
// the answers are IAM's result shapes as JSON (lists as arrays, documents decoded).

import type { Identity } from '../../auth/types.js';
import { findIamAction, isReadOnly } from '../../iam/api.js';
import { IamParams, type IamContext } from '../../iam/request.js';
import { policyArn } from '../../iam/shapes.js';
import type { XmlNode, XmlValue } from '../../s3/xml.js';
import { AdminError } from '../errors.js';
import type { AdminCall } from '../route.js';
import { findAccount } from '../service.js';

type Params = Record<string, string | undefined>;

/** Runs IAM action `action` in the path's account as its root user; its result as JSON. */
export async function iamCall(c: AdminCall, action: string, params: Params): Promise<any> {
  const account = await findAccount(c.app.meta, c.params.accountId!);
  const spec = findIamAction(action);
  if (!spec?.handler) throw new Error(`IAM action ${action} has no handler`);
  const identity: Identity = { accessKeyId: 'admin-api', userId: account.id, accountId: account.accountId, displayName: account.displayName };
  const values = new Map<string, string>();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) values.set(k, v);
  const ctx: IamContext = {
    action,
    params: new IamParams(values),
    caller: { identity, accountId: account.accountId, canonicalId: account.id, user: undefined },
    app: c.app,
    iam: c.app.iam,
    requestId: c.requestId,
    now: c.now,
  };
  ctx.params.validateAll();
  try {
    return toJson(await spec.handler(ctx)) ?? {};
  } finally {
    if (!isReadOnly(action)) c.app.iam.changed(account.accountId);
  }
}

const DOCUMENTS = new Set(['Document', 'PolicyDocument', 'AssumeRolePolicyDocument']);

/** An IAM result node as JSON: `{ member: [...] }` lists become arrays, URL-encoded documents text. */
function toJson(v: XmlValue, key?: string): any {
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return v.map((x) => toJson(x));
  if (typeof v === 'string') return key && DOCUMENTS.has(key) ? decodeURIComponent(v) : v;
  if (typeof v !== 'object' || v instanceof Date) return v instanceof Date ? v.toISOString() : v;
  const node = v as XmlNode;
  const keys = Object.keys(node);
  if (keys.length === 1 && keys[0] === 'member') return toJson(node.member as XmlValue[]);
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const x = toJson(node[k] as XmlValue, k);
    if (x !== undefined) out[k] = x;
  }
  return out;
}

/** Paging: ?marker=…&maxItems=… as IAM's Marker and MaxItems. */
function paging(c: AdminCall): Params {
  return { Marker: c.query.get('marker') ?? undefined, MaxItems: c.query.get('maxItems') ?? undefined };
}

function page(r: { IsTruncated?: boolean; Marker?: string }): { isTruncated: boolean; marker?: string } {
  return { isTruncated: r.IsTruncated === true, ...(r.Marker !== undefined ? { marker: r.Marker } : {}) };
}

/** The ARN of the account's managed policy of that name (AWS managed ones are named by ARN in IAM). */
async function managedPolicyArn(c: AdminCall, name: string): Promise<string> {
  const account = await findAccount(c.app.meta, c.params.accountId!);
  const p = await c.app.iam.store.getPolicy(account.accountId, name);
  if (!p) throw new AdminError(404, 'NoSuchEntity', `The policy with name ${name} cannot be found.`);
  return policyArn(p);
}

// ---------------------------------------------------------------- users

export async function listUsers(c: AdminCall) {
  const r = await iamCall(c, 'ListUsers', { ...paging(c), PathPrefix: c.query.get('pathPrefix') ?? undefined });
  return { users: r.Users ?? [], ...page(r) };
}
export const createUser = async (c: AdminCall) => iamCall(c, 'CreateUser', { UserName: c.body.name, Path: c.body.path });
export async function getUser(c: AdminCall) {
  const r = await iamCall(c, 'GetUser', { UserName: c.params.userName });
  const groups = await iamCall(c, 'ListGroupsForUser', { UserName: c.params.userName });
  return { ...r, Groups: groups.Groups ?? [] };
}
export async function updateUser(c: AdminCall) {
  await iamCall(c, 'UpdateUser', { UserName: c.params.userName, NewUserName: c.body.name, NewPath: c.body.path });
  return iamCall({ ...c, params: { ...c.params, userName: c.body.name ?? c.params.userName } }, 'GetUser', { UserName: c.body.name ?? c.params.userName });
}
export const deleteUser = (c: AdminCall) => iamCall(c, 'DeleteUser', { UserName: c.params.userName });

// ---------------------------------------------------------------- access keys (a user's, or the account root's)

export async function listKeys(c: AdminCall) {
  const r = await iamCall(c, 'ListAccessKeys', { UserName: c.params.userName, ...paging(c) });
  return { keys: r.AccessKeyMetadata ?? [], ...page(r) };
}
export async function createKey(c: AdminCall) {
  return (await iamCall(c, 'CreateAccessKey', { UserName: c.params.userName })).AccessKey;
}
export async function updateKey(c: AdminCall) {
  await iamCall(c, 'UpdateAccessKey', { UserName: c.params.userName, AccessKeyId: c.params.accessKeyId, Status: c.body.status });
  const keys = await listKeys({ ...c, query: new URLSearchParams({ maxItems: '1000' }) });
  return keys.keys.find((k: { AccessKeyId: string }) => k.AccessKeyId === c.params.accessKeyId);
}
export const deleteKey = (c: AdminCall) => iamCall(c, 'DeleteAccessKey', { UserName: c.params.userName, AccessKeyId: c.params.accessKeyId });

// ---------------------------------------------------------------- groups

export async function listGroups(c: AdminCall) {
  const r = await iamCall(c, 'ListGroups', { ...paging(c), PathPrefix: c.query.get('pathPrefix') ?? undefined });
  return { groups: r.Groups ?? [], ...page(r) };
}
export const createGroup = async (c: AdminCall) => iamCall(c, 'CreateGroup', { GroupName: c.body.name, Path: c.body.path });
export async function getGroup(c: AdminCall) {
  const r = await iamCall(c, 'GetGroup', { GroupName: c.params.groupName, ...paging(c) });
  return { Group: r.Group, Users: r.Users ?? [], ...page(r) };
}
export const deleteGroup = (c: AdminCall) => iamCall(c, 'DeleteGroup', { GroupName: c.params.groupName });
export const addGroupMember = (c: AdminCall) => iamCall(c, 'AddUserToGroup', { GroupName: c.params.groupName, UserName: c.params.userName });
export const removeGroupMember = (c: AdminCall) => iamCall(c, 'RemoveUserFromGroup', { GroupName: c.params.groupName, UserName: c.params.userName });

// ---------------------------------------------------------------- managed policies

export async function listPolicies(c: AdminCall) {
  const r = await iamCall(c, 'ListPolicies', { Scope: 'Local', ...paging(c) });
  return { policies: r.Policies ?? [], ...page(r) };
}
export async function createPolicy(c: AdminCall) {
  const r = await iamCall(c, 'CreatePolicy', { PolicyName: c.body.name, Path: c.body.path, Description: c.body.description, PolicyDocument: JSON.stringify(c.body.document) });
  return { ...r.Policy, Document: c.body.document };
}
export async function getPolicy(c: AdminCall) {
  const arn = await managedPolicyArn(c, c.params.policyName!);
  const p = (await iamCall(c, 'GetPolicy', { PolicyArn: arn })).Policy;
  const v = (await iamCall(c, 'GetPolicyVersion', { PolicyArn: arn, VersionId: p.DefaultVersionId })).PolicyVersion;
  return { ...p, Document: JSON.parse(v.Document) };
}
export async function updatePolicy(c: AdminCall) {
  const arn = await managedPolicyArn(c, c.params.policyName!);
  // A new default version; the oldest non-default one goes when the five versions are used up.
  const versions = (await iamCall(c, 'ListPolicyVersions', { PolicyArn: arn })).Versions as { VersionId: string; IsDefaultVersion: boolean; CreateDate: string }[];
  if (versions.length >= 5) {
    const oldest = versions.filter((v) => !v.IsDefaultVersion).sort((a, b) => a.CreateDate.localeCompare(b.CreateDate) || Number(a.VersionId.slice(1)) - Number(b.VersionId.slice(1)))[0];
    if (oldest) await iamCall(c, 'DeletePolicyVersion', { PolicyArn: arn, VersionId: oldest.VersionId });
  }
  await iamCall(c, 'CreatePolicyVersion', { PolicyArn: arn, PolicyDocument: JSON.stringify(c.body.document), SetAsDefault: 'true' });
  return getPolicy(c);
}
export async function deletePolicy(c: AdminCall) {
  const arn = await managedPolicyArn(c, c.params.policyName!);
  // IAM refuses to delete a policy with versions besides the default: the admin API removes them.
  const versions = (await iamCall(c, 'ListPolicyVersions', { PolicyArn: arn })).Versions as { VersionId: string; IsDefaultVersion: boolean }[];
  for (const v of versions) if (!v.IsDefaultVersion) await iamCall(c, 'DeletePolicyVersion', { PolicyArn: arn, VersionId: v.VersionId });
  return iamCall(c, 'DeletePolicy', { PolicyArn: arn });
}

// ---------------------------------------------------------------- roles

function roleJson(r: Record<string, unknown>) {
  return { ...r, AssumeRolePolicyDocument: JSON.parse(r.AssumeRolePolicyDocument as string) };
}

export async function listRoles(c: AdminCall) {
  const r = await iamCall(c, 'ListRoles', { ...paging(c), PathPrefix: c.query.get('pathPrefix') ?? undefined });
  return { roles: (r.Roles ?? []).map(roleJson), ...page(r) };
}
export async function createRole(c: AdminCall) {
  const b = c.body as { name: string; path?: string; description?: string; maxSessionDuration?: number; trustPolicy: unknown };
  const r = await iamCall(c, 'CreateRole', {
    RoleName: b.name, Path: b.path, Description: b.description, AssumeRolePolicyDocument: JSON.stringify(b.trustPolicy),
    MaxSessionDuration: b.maxSessionDuration === undefined ? undefined : String(b.maxSessionDuration),
  });
  return { Role: roleJson(r.Role) };
}
export async function getRole(c: AdminCall) {
  return { Role: roleJson((await iamCall(c, 'GetRole', { RoleName: c.params.roleName })).Role) };
}
export const deleteRole = (c: AdminCall) => iamCall(c, 'DeleteRole', { RoleName: c.params.roleName });

// ---------------------------------------------------------------- attachments and inline policies of users, groups and roles

const KIND = { user: ['User', 'UserName', 'userName'], group: ['Group', 'GroupName', 'groupName'], role: ['Role', 'RoleName', 'roleName'] } as const;

export function attachments(kind: 'user' | 'group' | 'role') {
  const [Kind, NameParam, pathParam] = KIND[kind];
  return {
    async list(c: AdminCall) {
      const r = await iamCall(c, `ListAttached${Kind}Policies`, { [NameParam]: c.params[pathParam], ...paging(c) });
      return { policies: r.AttachedPolicies ?? [], ...page(r) };
    },
    async attach(c: AdminCall) {
      return iamCall(c, `Attach${Kind}Policy`, { [NameParam]: c.params[pathParam], PolicyArn: await managedPolicyArn(c, c.params.policyName!) });
    },
    async detach(c: AdminCall) {
      return iamCall(c, `Detach${Kind}Policy`, { [NameParam]: c.params[pathParam], PolicyArn: await managedPolicyArn(c, c.params.policyName!) });
    },
    async listInline(c: AdminCall) {
      const r = await iamCall(c, `List${Kind}Policies`, { [NameParam]: c.params[pathParam], ...paging(c) });
      return { policyNames: r.PolicyNames ?? [], ...page(r) };
    },
    async putInline(c: AdminCall) {
      await iamCall(c, `Put${Kind}Policy`, { [NameParam]: c.params[pathParam], PolicyName: c.params.policyName, PolicyDocument: JSON.stringify(c.body.document) });
      return { PolicyName: c.params.policyName, Document: c.body.document };
    },
    async getInline(c: AdminCall) {
      const r = await iamCall(c, `Get${Kind}Policy`, { [NameParam]: c.params[pathParam], PolicyName: c.params.policyName });
      return { PolicyName: r.PolicyName, Document: JSON.parse(r.PolicyDocument) };
    },
    deleteInline: (c: AdminCall) => iamCall(c, `Delete${Kind}Policy`, { [NameParam]: c.params[pathParam], PolicyName: c.params.policyName }),
  };
}
