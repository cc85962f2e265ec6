// What every role-session action shares: the session policies a caller may pass (an inline Policy
// and managed PolicyArns, packed within STS's limit), the role a RoleArn names, and the response
// AWS gives for a new role session.

import { PolicyError, parsePolicy, policySize, type Policy } from '../authz/policy/index.js';
import type { App } from '../app.js';
import { iamArn, parseIamArn } from '../iam/names.js';
import type { IamRole } from '../store/meta/types.js';
import { StsError } from './errors.js';
import { MAX_POLICY_ARNS, PACKED_POLICY_LIMIT, assumedRoleArn } from './names.js';
import type { StsParams } from './params.js';
import { credentialsXml } from './request.js';
import type { IssuedCredentials } from './service.js';
import type { XmlValue } from '../s3/xml.js';

/** The inline session policy, validated as AWS does (MalformedPolicyDocument with the reason). */
function sessionPolicy(text: string): Policy {
  try {
    // Its size is counted with the managed policies' ARNs (PackedPolicyTooLarge), not here.
    return parsePolicy(text, 'session', { maxSize: Number.MAX_SAFE_INTEGER });
  } catch (e) {
    if (e instanceof PolicyError) throw new StsError('MalformedPolicyDocument', e.message);
    throw e;
  }
}

export interface SessionPolicies {
  /** The inline session policy, as given. */
  policyText: string | undefined;
  /** ARNs of the managed session policies. */
  policyArns: string[];
  /** Their packed size in percent of the limit (0 without any). */
  packedPercent: number;
}

/** Reads Policy and PolicyArns: the inline one must parse; with the managed ones' ARNs, they must fit. */
export function readSessionPolicies(params: StsParams): SessionPolicies {
  const policyText = params.optional('Policy');
  const policyArns = params.list('PolicyArns', 'arn', 'PolicyArn', MAX_POLICY_ARNS);
  if (policyText !== undefined) sessionPolicy(policyText);
  const packed = (policyText === undefined ? 0 : policySize(policyText, 'session')) + policyArns.reduce((n, arn) => n + arn.length, 0);
  const packedPercent = Math.ceil((packed * 100) / PACKED_POLICY_LIMIT);
  if (packed > PACKED_POLICY_LIMIT) throw new StsError('PackedPolicyTooLarge', `Packed policy consumes ${packedPercent}% of allotted space, please use smaller policy for the session.`);
  for (const arn of policyArns) {
    const p = parseIamArn(arn);
    if (!p || p.kind !== 'policy') throw new StsError('ValidationError', `The policy ARN ${arn} is not valid.`);
  }
  return { policyText, policyArns, packedPercent };
}

/** Managed session policies: customer managed policies of the role's account, kept by unique id. */
export async function sessionPolicyIds(app: App, role: IamRole, policyArns: readonly string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const arn of policyArns) {
    const p = parseIamArn(arn)!;
    const policy = p.accountId === role.accountId ? await app.iam.store.getPolicy(p.accountId, p.name) : undefined;
    if (!policy || policy.path !== p.path) throw new StsError('ValidationError', `Policy ${arn} does not exist in the role's account, or is not available on this server.`);
    ids.push(policy.id);
  }
  return ids;
}

/**
 * The role a role ARN names, or undefined (no such role, or the ARN's path is not the role's).
 * Throws ValidationError for something that is not a role ARN.
 */
export async function roleOf(app: App, roleArn: string): Promise<IamRole | undefined> {
  const parsed = parseIamArn(roleArn);
  if (!parsed || parsed.kind !== 'role') throw new StsError('ValidationError', `${roleArn} is not a valid role ARN.`);
  const role = parsed.accountId === 'aws' ? undefined : await app.iam.store.getRole(parsed.accountId, parsed.name);
  // Names compare case-insensitively in the store; the ARN, path included, must be the role's own.
  if (!role || iamArn(role.accountId, 'role', role.path, role.name) !== roleArn) return undefined;
  return role;
}

/** The elements every AssumeRole* result has: the credentials, the session's user, the packed size. */
export function roleSessionXml(role: IamRole, sessionName: string, issued: IssuedCredentials, policies: SessionPolicies): Record<string, XmlValue> {
  return {
    Credentials: credentialsXml(issued),
    AssumedRoleUser: { AssumedRoleId: `${role.id}:${sessionName}`, Arn: assumedRoleArn(role.accountId, role.name, sessionName) },
    PackedPolicySize: policies.packedPercent > 0 ? policies.packedPercent : undefined,
  };
}

/** Issues a session of `role` (its account must still exist, else undefined). */
export async function issueRoleSession(
  app: App,
  role: IamRole,
  s: { sessionName: string; sourceIdentity: string | undefined; policies: SessionPolicies; policyIds: readonly string[]; duration: number; now: number },
): Promise<IssuedCredentials | undefined> {
  const account = await app.meta.getAccountById(role.accountId);
  if (!account) return undefined;
  return app.sts.issue(
    {
      kind: 'assumed-role',
      accountId: role.accountId,
      canonicalId: account.id,
      arn: iamArn(role.accountId, 'role', role.path, role.name),
      principalId: role.id,
      sessionName: s.sessionName,
      ...(s.sourceIdentity !== undefined ? { sourceIdentity: s.sourceIdentity } : {}),
      ...(s.policies.policyText !== undefined ? { policy: s.policies.policyText } : {}),
      ...(s.policyIds.length > 0 ? { policyIds: [...s.policyIds] } : {}),
    },
    s.duration,
    s.now,
  );
}
