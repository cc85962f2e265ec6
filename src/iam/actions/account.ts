// GetAccountSummary: what the account has in IAM, counted from the store, and the quotas this
// server enforces (AWS's defaults). Entries for what this server does not have — MFA devices,
// server certificates, instance profiles — are counted as none; their quotas are left out.

import { POLICY_SIZE_LIMITS } from '../../authz/policy/index.js';
import type { IamHandler } from '../request.js';
import { QUOTAS } from '../service.js';

export const getAccountSummary: IamHandler = async (ctx) => {
  const n = await ctx.iam.store.accountSummary(ctx.caller.accountId, ctx.caller.canonicalId);
  const summary: Record<string, number> = {
    Users: n.users,
    UsersQuota: QUOTAS.usersPerAccount,
    Groups: n.groups,
    GroupsQuota: QUOTAS.groupsPerAccount,
    Roles: n.roles,
    RolesQuota: QUOTAS.rolesPerAccount,
    Policies: n.policies,
    PoliciesQuota: QUOTAS.policiesPerAccount,
    PolicyVersionsInUse: n.policyVersions,
    // Never reached: five versions of each of 1500 policies are fewer.
    PolicyVersionsInUseQuota: 10_000,
    VersionsPerPolicyQuota: QUOTAS.versionsPerPolicy,
    PolicySizeQuota: POLICY_SIZE_LIMITS.identity,
    UserPolicySizeQuota: POLICY_SIZE_LIMITS.userInline,
    GroupPolicySizeQuota: POLICY_SIZE_LIMITS.groupInline,
    RolePolicySizeQuota: POLICY_SIZE_LIMITS.roleInline,
    AssumeRolePolicySizeQuota: POLICY_SIZE_LIMITS.trust,
    AttachedPoliciesPerUserQuota: QUOTAS.managedPoliciesPerEntity,
    AttachedPoliciesPerGroupQuota: QUOTAS.managedPoliciesPerEntity,
    AttachedPoliciesPerRoleQuota: QUOTAS.managedPoliciesPerEntity,
    GroupsPerUserQuota: QUOTAS.groupsPerUser,
    AccessKeysPerUserQuota: QUOTAS.accessKeysPerUser,
    AccountAccessKeysPresent: n.rootAccessKeys > 0 ? 1 : 0,
    Providers: n.oidcProviders,
    AccountMFAEnabled: 0,
    MFADevices: 0,
    MFADevicesInUse: 0,
    AccountSigningCertificatesPresent: 0,
    ServerCertificates: 0,
    InstanceProfiles: 0,
  };
  // A map in the query protocol: <SummaryMap><entry><key>Users</key><value>3</value></entry>…
  return { SummaryMap: { entry: Object.entries(summary).map(([key, value]) => ({ key, value })) } };
};
