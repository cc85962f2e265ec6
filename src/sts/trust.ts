// Who may assume a role: AWS's rules, decided by the policy engine with the role's trust policy as
// the resource policy of the role's account (IAM User Guide, "Policy evaluation logic" and
// "Cross-account policy evaluation logic"):
// - a trust policy that names the caller itself (its user ARN, its session ARN) or "*" suffices
//   within the role's account;
// - one that names the caller's account (account id or root ARN) delegates to the account: the
//   caller's identity-based policies must also allow sts:AssumeRole on the role;
// - one that names the caller's role (role chaining) needs no identity allow, but the caller's
//   session policies still cap it;
// - a caller of another account always needs both sides.
// Conditions see sts:ExternalId, sts:RoleSessionName, sts:SourceIdentity and the request's global
// keys (aws:PrincipalArn, aws:SourceIp, aws:TokenIssueTime…). A session that will carry a source
// identity also needs sts:SetSourceIdentity, on both sides the same way.

import { principalOf } from '../authz/authorize.js';
import { decide, type Policy } from '../authz/policy/index.js';
import type { IamRole } from '../store/meta/types.js';
import { StsError } from './errors.js';
import type { StsContext } from './request.js';

export interface AssumeFacts {
  /** The role's ARN, with its path. */
  roleArn: string;
  sessionName: string;
  externalId: string | undefined;
  /** The source identity the new session will carry (given now, or inherited from the caller's session). */
  sourceIdentity: string | undefined;
}

/** Throws AccessDenied unless the caller may assume the role (and set its source identity). */
export async function authorizeAssumeRole(ctx: StsContext, role: IamRole, trust: Policy, facts: AssumeFacts): Promise<void> {
  const principal = principalOf(ctx.identity);
  const keys = new Map(ctx.keys);
  keys.set('sts:rolesessionname', [facts.sessionName]);
  if (facts.externalId !== undefined) keys.set('sts:externalid', [facts.externalId]);
  if (facts.sourceIdentity !== undefined) keys.set('sts:sourceidentity', [facts.sourceIdentity]);
  const policies = await ctx.app.iam.callerPolicies(ctx.identity);
  const actions = facts.sourceIdentity === undefined ? ['sts:AssumeRole'] : ['sts:AssumeRole', 'sts:SetSourceIdentity'];
  for (const action of actions) {
    const d = decide({ request: { principal, action, resource: facts.roleArn, resourceAccount: role.accountId, keys }, resourcePolicy: trust, ...policies });
    if (d.decision === 'Allow') continue;
    ctx.app.log.debug({ action, resource: facts.roleArn, decision: d.decision, reason: d.reason }, 'STS access denied');
    throw notAuthorized(principal.arn ?? '', action, facts.roleArn);
  }
}

/** AWS's sentence for a refused AssumeRole, also used for a role that does not exist. */
export function notAuthorized(callerArn: string, action: string, roleArn: string): StsError {
  return new StsError('AccessDenied', `User: ${callerArn} is not authorized to perform: ${action} on resource: ${roleArn}`);
}
