// The IAM API (query protocol, version 2010-05-08): one table of actions — what each acts on, for
// authorisation, and its handler — and the dispatcher that runs a call through it:
//   Action/Version → table entry → targets → iam:<Action> allowed on each? → handler → XML.
// Actions IAM has but this server does not implement are in the table without a handler and
// answer NotImplemented; names IAM does not have answer InvalidAction, as AWS does.
//
// Authorisation uses the policy engine S3 uses: an account's root user may do anything in its
// account; an IAM user, or a role session, needs an identity-based policy allowing iam:<Action> on
// the target's ARN (a role session's capped by its session policies); anything in another account
// is refused (no resource policies exist for IAM entities). Temporary credentials from
// GetSessionToken cannot call IAM without MFA, which this server does not have: AWS answers those
// InvalidClientTokenId, and so does this server.

import type { App } from '../app.js';
import type { Identity } from '../auth/types.js';
import { principalOf } from '../authz/authorize.js';
import { decide, rootArn } from '../authz/policy/index.js';
import { renderXml } from '../s3/xml.js';
import { IamStoreError } from '../store/meta/types.js';
import { getAccountSummary } from './actions/account.js';
import { attachmentHandlers, createPolicy, createPolicyVersion, deletePolicy, deletePolicyVersion, getPolicy, getPolicyVersion, listPolicies, listPolicyVersions, setDefaultPolicyVersion } from './actions/policies.js';
import { addUserToGroup, createGroup, deleteGroup, getGroup, listGroups, listGroupsForUser, removeUserFromGroup, updateGroup } from './actions/groups.js';
import { inlinePolicyHandlers } from './actions/inline.js';
import { createAccessKey, deleteAccessKey, getAccessKeyLastUsed, listAccessKeys, updateAccessKey } from './actions/keys.js';
import { createRole, deleteRole, getRole, listRoles, updateAssumeRolePolicy, updateRole, updateRoleDescription } from './actions/roles.js';
import { createUser, deleteUser, getUser, listUsers, updateUser } from './actions/users.js';
import {
  addClientIdToOidcProvider,
  createOidcProvider,
  deleteOidcProvider,
  getOidcProvider,
  listOidcProviders,
  removeClientIdFromOidcProvider,
  updateOidcProviderThumbprint,
} from './actions/oidc.js';
import { IamError, toIamError } from './errors.js';
import { IAM_API_VERSION, IAM_NAMESPACE } from './names.js';
import { IamParams, isReadOnly, type IamContext, type IamHandler, type IamTarget, type TargetsOf } from './request.js';
import { anyResource, beforeAndAfter, entity, entityWithPolicy, keyOwner, newEntity, newOidcProvider, oidcProvider, policy, userBeforeAndAfter, userOrSelf } from './targets.js';

export type IamActionSpec =
  /** Implemented: iam:<name> is authorised on every target, then the handler runs. */
  | { readonly name: string; readonly targets: TargetsOf; readonly handler: IamHandler }
  /** An IAM action this server does not implement (NotImplemented). */
  | { readonly name: string; readonly targets?: undefined; readonly handler?: undefined };

const userInline = inlinePolicyHandlers('user');
const groupInline = inlinePolicyHandlers('group');
const roleInline = inlinePolicyHandlers('role');
const userAttach = attachmentHandlers('user');
const groupAttach = attachmentHandlers('group');
const roleAttach = attachmentHandlers('role');

const NOT_IMPLEMENTED = [
  'AddRoleToInstanceProfile', 'ChangePassword', 'CreateAccountAlias', 'CreateInstanceProfile', 'CreateLoginProfile', 'CreateSAMLProvider',
  'CreateServiceLinkedRole', 'CreateServiceSpecificCredential', 'CreateVirtualMFADevice', 'DeactivateMFADevice', 'DeleteAccountAlias',
  'DeleteAccountPasswordPolicy', 'DeleteInstanceProfile', 'DeleteLoginProfile', 'DeleteRolePermissionsBoundary', 'DeleteSAMLProvider',
  'DeleteServerCertificate', 'DeleteServiceLinkedRole', 'DeleteServiceSpecificCredential', 'DeleteSigningCertificate',
  'DeleteSSHPublicKey', 'DeleteUserPermissionsBoundary', 'DeleteVirtualMFADevice', 'EnableMFADevice', 'GenerateCredentialReport',
  'GenerateOrganizationsAccessReport', 'GenerateServiceLastAccessedDetails', 'GetAccountAuthorizationDetails', 'GetAccountPasswordPolicy',
  'GetContextKeysForCustomPolicy', 'GetContextKeysForPrincipalPolicy', 'GetCredentialReport', 'GetInstanceProfile', 'GetLoginProfile',
  'GetMFADevice', 'GetOrganizationsAccessReport', 'GetSAMLProvider', 'GetServerCertificate', 'GetServiceLastAccessedDetails',
  'GetServiceLastAccessedDetailsWithEntities', 'GetServiceLinkedRoleDeletionStatus', 'GetSSHPublicKey', 'ListAccountAliases',
  'ListEntitiesForPolicy', 'ListInstanceProfiles', 'ListInstanceProfilesForRole', 'ListInstanceProfileTags', 'ListMFADevices',
  'ListMFADeviceTags', 'ListOpenIDConnectProviderTags', 'ListPoliciesGrantingServiceAccess', 'ListPolicyTags', 'ListRoleTags',
  'ListSAMLProviders', 'ListSAMLProviderTags', 'ListServerCertificates', 'ListServerCertificateTags', 'ListServiceSpecificCredentials',
  'ListSigningCertificates', 'ListSSHPublicKeys', 'ListUserTags', 'ListVirtualMFADevices', 'PutRolePermissionsBoundary',
  'PutUserPermissionsBoundary', 'RemoveRoleFromInstanceProfile', 'ResetServiceSpecificCredential', 'ResyncMFADevice',
  'SetSecurityTokenServicePreferences', 'SimulateCustomPolicy', 'SimulatePrincipalPolicy', 'TagInstanceProfile', 'TagMFADevice',
  'TagOpenIDConnectProvider', 'TagPolicy', 'TagRole', 'TagSAMLProvider', 'TagServerCertificate', 'TagUser', 'UntagInstanceProfile',
  'UntagMFADevice', 'UntagOpenIDConnectProvider', 'UntagPolicy', 'UntagRole', 'UntagSAMLProvider', 'UntagServerCertificate', 'UntagUser',
  'UpdateAccountPasswordPolicy', 'UpdateLoginProfile', 'UpdateSAMLProvider', 'UpdateServerCertificate', 'UpdateServiceSpecificCredential',
  'UpdateSigningCertificate', 'UpdateSSHPublicKey', 'UploadServerCertificate', 'UploadSigningCertificate', 'UploadSSHPublicKey',
] as const;

export const IAM_ACTIONS: readonly IamActionSpec[] = [
  // users
  { name: 'CreateUser', targets: newEntity('user'), handler: createUser },
  { name: 'GetUser', targets: userOrSelf, handler: getUser },
  { name: 'UpdateUser', targets: userBeforeAndAfter, handler: updateUser },
  { name: 'DeleteUser', targets: entity('user'), handler: deleteUser },
  { name: 'ListUsers', targets: anyResource, handler: listUsers },
  // access keys
  { name: 'CreateAccessKey', targets: userOrSelf, handler: createAccessKey },
  { name: 'UpdateAccessKey', targets: userOrSelf, handler: updateAccessKey },
  { name: 'DeleteAccessKey', targets: userOrSelf, handler: deleteAccessKey },
  { name: 'ListAccessKeys', targets: userOrSelf, handler: listAccessKeys },
  { name: 'GetAccessKeyLastUsed', targets: keyOwner, handler: getAccessKeyLastUsed },
  // groups
  { name: 'CreateGroup', targets: newEntity('group'), handler: createGroup },
  { name: 'GetGroup', targets: entity('group'), handler: getGroup },
  { name: 'UpdateGroup', targets: beforeAndAfter('group'), handler: updateGroup },
  { name: 'DeleteGroup', targets: entity('group'), handler: deleteGroup },
  { name: 'ListGroups', targets: anyResource, handler: listGroups },
  { name: 'AddUserToGroup', targets: entity('group'), handler: addUserToGroup },
  { name: 'RemoveUserFromGroup', targets: entity('group'), handler: removeUserFromGroup },
  { name: 'ListGroupsForUser', targets: entity('user'), handler: listGroupsForUser },
  // inline policies
  { name: 'PutUserPolicy', targets: entity('user'), handler: userInline.put },
  { name: 'GetUserPolicy', targets: entity('user'), handler: userInline.get },
  { name: 'DeleteUserPolicy', targets: entity('user'), handler: userInline.delete },
  { name: 'ListUserPolicies', targets: entity('user'), handler: userInline.list },
  { name: 'PutGroupPolicy', targets: entity('group'), handler: groupInline.put },
  { name: 'GetGroupPolicy', targets: entity('group'), handler: groupInline.get },
  { name: 'DeleteGroupPolicy', targets: entity('group'), handler: groupInline.delete },
  { name: 'ListGroupPolicies', targets: entity('group'), handler: groupInline.list },
  { name: 'PutRolePolicy', targets: entity('role'), handler: roleInline.put },
  { name: 'GetRolePolicy', targets: entity('role'), handler: roleInline.get },
  { name: 'DeleteRolePolicy', targets: entity('role'), handler: roleInline.delete },
  { name: 'ListRolePolicies', targets: entity('role'), handler: roleInline.list },
  // managed policies
  { name: 'CreatePolicy', targets: newEntity('policy'), handler: createPolicy },
  { name: 'GetPolicy', targets: policy, handler: getPolicy },
  { name: 'DeletePolicy', targets: policy, handler: deletePolicy },
  { name: 'ListPolicies', targets: anyResource, handler: listPolicies },
  { name: 'CreatePolicyVersion', targets: policy, handler: createPolicyVersion },
  { name: 'GetPolicyVersion', targets: policy, handler: getPolicyVersion },
  { name: 'DeletePolicyVersion', targets: policy, handler: deletePolicyVersion },
  { name: 'ListPolicyVersions', targets: policy, handler: listPolicyVersions },
  { name: 'SetDefaultPolicyVersion', targets: policy, handler: setDefaultPolicyVersion },
  { name: 'AttachUserPolicy', targets: entityWithPolicy('user'), handler: userAttach.attach },
  { name: 'DetachUserPolicy', targets: entityWithPolicy('user'), handler: userAttach.detach },
  { name: 'ListAttachedUserPolicies', targets: entity('user'), handler: userAttach.list },
  { name: 'AttachGroupPolicy', targets: entityWithPolicy('group'), handler: groupAttach.attach },
  { name: 'DetachGroupPolicy', targets: entityWithPolicy('group'), handler: groupAttach.detach },
  { name: 'ListAttachedGroupPolicies', targets: entity('group'), handler: groupAttach.list },
  { name: 'AttachRolePolicy', targets: entityWithPolicy('role'), handler: roleAttach.attach },
  { name: 'DetachRolePolicy', targets: entityWithPolicy('role'), handler: roleAttach.detach },
  { name: 'ListAttachedRolePolicies', targets: entity('role'), handler: roleAttach.list },
  // roles
  { name: 'CreateRole', targets: newEntity('role'), handler: createRole },
  { name: 'GetRole', targets: entity('role'), handler: getRole },
  { name: 'UpdateRole', targets: entity('role'), handler: updateRole },
  { name: 'UpdateRoleDescription', targets: entity('role'), handler: updateRoleDescription },
  { name: 'DeleteRole', targets: entity('role'), handler: deleteRole },
  { name: 'ListRoles', targets: anyResource, handler: listRoles },
  { name: 'UpdateAssumeRolePolicy', targets: entity('role'), handler: updateAssumeRolePolicy },
  // the account
  { name: 'GetAccountSummary', targets: anyResource, handler: getAccountSummary },
  // OpenID Connect providers
  { name: 'CreateOpenIDConnectProvider', targets: newOidcProvider, handler: createOidcProvider },
  { name: 'GetOpenIDConnectProvider', targets: oidcProvider, handler: getOidcProvider },
  { name: 'ListOpenIDConnectProviders', targets: anyResource, handler: listOidcProviders },
  { name: 'DeleteOpenIDConnectProvider', targets: oidcProvider, handler: deleteOidcProvider },
  { name: 'AddClientIDToOpenIDConnectProvider', targets: oidcProvider, handler: addClientIdToOidcProvider },
  { name: 'RemoveClientIDFromOpenIDConnectProvider', targets: oidcProvider, handler: removeClientIdFromOidcProvider },
  { name: 'UpdateOpenIDConnectProviderThumbprint', targets: oidcProvider, handler: updateOidcProviderThumbprint },
  // the rest of IAM
  ...NOT_IMPLEMENTED.map((name) => ({ name })),
];

const BY_NAME: ReadonlyMap<string, IamActionSpec> = new Map(IAM_ACTIONS.map((a) => [a.name, a]));

export function findIamAction(name: string): IamActionSpec | undefined {
  return BY_NAME.get(name);
}

export { isReadOnly };

/** Parameters this server does not honour: refused rather than silently ignored. */
function refuseUnsupported(params: IamParams): void {
  for (const name of params.names()) {
    if (name.startsWith('Tags.')) throw new IamError('NotImplemented', 'Tags on IAM entities are not implemented by this server.');
    if (name === 'PermissionsBoundary') throw new IamError('NotImplemented', 'Permissions boundaries are not implemented by this server.');
  }
}

export interface IamCall {
  /** Decoded query-protocol parameters (the form body, and the query string). */
  params: ReadonlyMap<string, string>;
  identity: Identity;
  requestId: string;
  /** ms since epoch */
  now: number;
  /** The request's global condition keys (aws:SourceIp, aws:CurrentTime…: authz/keys.ts). */
  keys: ReadonlyMap<string, string[]>;
}

/** Runs one IAM call: the action's response document, or an IamError. */
export async function dispatchIam(app: App, call: IamCall): Promise<{ action: string; xml: string }> {
  const params = new IamParams(call.params);
  const action = params.get('Action');
  if (action === undefined || action === '') throw new IamError('MissingAction', 'The request must contain the parameter Action.');
  const version = params.get('Version');
  if (version === undefined) throw new IamError('MissingParameter', 'The request must contain the parameter Version.');
  const spec = BY_NAME.get(action);
  if (!spec || version !== IAM_API_VERSION) throw new IamError('InvalidAction', `Could not find operation ${action} for version ${version}`);
  if (!spec.handler) throw new IamError('NotImplemented', `${action} is not implemented by this server.`);
  refuseUnsupported(params);
  params.validateAll();

  const identity = call.identity;
  if (identity.session?.kind === 'session-token') throw new IamError('InvalidClientTokenId');
  const ctx: IamContext = {
    action,
    params,
    caller: { identity, accountId: identity.accountId, canonicalId: identity.userId, user: identity.user },
    app,
    iam: app.iam,
    requestId: call.requestId,
    now: call.now,
  };
  try {
    for (const target of await spec.targets(ctx)) await authorizeOn(ctx, call.keys, `iam:${action}`, target);
    const result = await spec.handler(ctx);
    const xml = renderXml(`${action}Response`, { [`${action}Result`]: result, ResponseMetadata: { RequestId: call.requestId } }, { namespace: IAM_NAMESPACE });
    return { action, xml };
  } catch (e) {
    if (e instanceof IamStoreError) throw toIamError(e);
    throw e;
  } finally {
    if (!isReadOnly(action)) app.iam.changed(identity.accountId);
  }
}

/** The account an ARN is in ("aws" for AWS managed policies); undefined for "*". */
function accountOf(arn: string): string | undefined {
  return /^arn:aws:iam::(\d{12}|aws):/.exec(arn)?.[1];
}

async function authorizeOn(ctx: IamContext, base: ReadonlyMap<string, string[]>, action: string, target: IamTarget): Promise<void> {
  const caller = ctx.caller;
  const resourceAccount = target.account ?? accountOf(target.arn) ?? caller.accountId;
  const keys = new Map(base);
  for (const [k, v] of Object.entries(target.keys ?? {})) keys.set(k, [v]);
  const d = decide({
    request: { principal: principalOf(caller.identity), action, resource: target.arn, resourceAccount, keys },
    ...(await ctx.iam.callerPolicies(caller.identity)),
  });
  if (d.decision === 'Allow') return;
  ctx.app.log.debug({ action, resource: target.arn, decision: d.decision, reason: d.reason }, 'IAM access denied');
  const who = principalOf(caller.identity).arn ?? rootArn(caller.accountId);
  const why =
    d.decision === 'ExplicitDeny'
      ? ' with an explicit deny in an identity-based policy'
      : resourceAccount === caller.accountId
        ? ` because no identity-based policy allows the ${action} action`
        : '';
  throw new IamError('AccessDenied', `User: ${who} is not authorized to perform: ${action} on resource: ${target.arn}${why}`);
}
