// AssumeRole: temporary credentials of a role session, for an IAM user or a role session (role
// chaining) the role's trust policy admits (trust.ts). Root users cannot assume roles.

import { principalOf } from '../../authz/authorize.js';
import { PolicyError, parsePolicy, policySize, type Policy } from '../../authz/policy/index.js';
import { iamArn, parseIamArn } from '../../iam/names.js';
import type { IamRole } from '../../store/meta/types.js';
import { StsError } from '../errors.js';
import { CHAINED_SESSION_MAX_SECONDS, DURATIONS, MAX_POLICY_ARNS, PACKED_POLICY_LIMIT, assumedRoleArn } from '../names.js';
import type { StsParams } from '../params.js';
import { credentialsXml, type StsHandler } from '../request.js';
import { authorizeAssumeRole, notAuthorized } from '../trust.js';

/** Parameters this server does not honour: refused rather than silently ignored. */
function refuseUnsupported(params: StsParams): void {
  for (const name of params.names()) {
    if (name.startsWith('Tags.') || name.startsWith('TransitiveTagKeys.')) throw new StsError('NotImplemented', 'Session tags are not implemented by this server.');
    if (name.startsWith('ProvidedContexts.')) throw new StsError('NotImplemented', 'Provided contexts are not implemented by this server.');
  }
  // This server has no MFA devices: an MFA code cannot be validated.
  if (params.get('SerialNumber') !== undefined || params.get('TokenCode') !== undefined) throw new StsError('AccessDenied', 'MultiFactorAuthentication failed: this server has no MFA devices.');
}

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

export const assumeRole: StsHandler = async (ctx) => {
  const { params, identity } = ctx;
  refuseUnsupported(params);
  const roleArnParam = params.required('RoleArn');
  const sessionName = params.required('RoleSessionName');
  const requested = params.int('DurationSeconds', DURATIONS.AssumeRole.min, DURATIONS.AssumeRole.max);
  const policyText = params.optional('Policy');
  const policyArns = params.list('PolicyArns', 'arn', 'PolicyArn', MAX_POLICY_ARNS);
  const externalId = params.optional('ExternalId');
  const givenSource = params.optional('SourceIdentity');

  if (!identity.user && !identity.session?.role) throw new StsError('AccessDenied', 'Roles may not be assumed by root accounts.');
  const callerArn = principalOf(identity).arn ?? '';

  // A source identity, once set, stays: a chained session inherits it and cannot change it.
  if (givenSource !== undefined && givenSource.toLowerCase().startsWith('aws:')) throw new StsError('ValidationError', 'SourceIdentity cannot begin with the reserved prefix aws:');
  const inherited = identity.session?.sourceIdentity;
  if (inherited !== undefined && givenSource !== undefined && givenSource !== inherited) {
    throw new StsError('AccessDenied', `The source identity of this session (${inherited}) cannot be changed in a chained role session.`);
  }
  const sourceIdentity = inherited ?? givenSource;

  // Session policies: the inline one must parse; with the managed ones' ARNs, they must fit.
  if (policyText !== undefined) sessionPolicy(policyText);
  const packed = (policyText === undefined ? 0 : policySize(policyText, 'session')) + policyArns.reduce((n, arn) => n + arn.length, 0);
  const packedPercent = Math.ceil((packed * 100) / PACKED_POLICY_LIMIT);
  if (packed > PACKED_POLICY_LIMIT) throw new StsError('PackedPolicyTooLarge', `Packed policy consumes ${packedPercent}% of allotted space, please use smaller policy for the session.`);
  for (const arn of policyArns) {
    const p = parseIamArn(arn);
    if (!p || p.kind !== 'policy') throw new StsError('ValidationError', `The policy ARN ${arn} is not valid.`);
  }

  // The role. One that does not exist is refused like one the caller may not assume: whether a
  // role exists is no business of a caller who may not assume it.
  const parsed = parseIamArn(roleArnParam);
  if (!parsed || parsed.kind !== 'role') throw new StsError('ValidationError', `${roleArnParam} is not a valid role ARN.`);
  const role: IamRole | undefined = parsed.accountId === 'aws' ? undefined : await ctx.app.iam.store.getRole(parsed.accountId, parsed.name);
  // Names compare case-insensitively in the store; the ARN, path included, must be the role's own.
  if (!role || iamArn(role.accountId, 'role', role.path, role.name) !== roleArnParam) throw notAuthorized(callerArn, 'sts:AssumeRole', roleArnParam);
  const roleArn = roleArnParam;
  // Stored trust policies were validated; one that no longer parses fails the call (500) rather than being half-read.
  const trust = parsePolicy(role.assumeRolePolicy, 'trust');
  await authorizeAssumeRole(ctx, role, trust, { roleArn, sessionName, externalId, sourceIdentity });

  const duration = requested ?? DURATIONS.AssumeRole.default;
  if (identity.session?.role && duration > CHAINED_SESSION_MAX_SECONDS) {
    throw new StsError('ValidationError', 'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.');
  }
  if (duration > role.maxSessionDuration) throw new StsError('ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');

  // Managed session policies: customer managed policies of the role's account, kept by unique id.
  const policyIds: string[] = [];
  for (const arn of policyArns) {
    const p = parseIamArn(arn)!;
    const policy = p.accountId === role.accountId ? await ctx.app.iam.store.getPolicy(p.accountId, p.name) : undefined;
    if (!policy || policy.path !== p.path) throw new StsError('ValidationError', `Policy ${arn} does not exist in the role's account, or is not available on this server.`);
    policyIds.push(policy.id);
  }

  const account = await ctx.app.meta.getAccountById(role.accountId);
  if (!account) throw notAuthorized(callerArn, 'sts:AssumeRole', roleArnParam);
  const issued = await ctx.app.sts.issue(
    {
      kind: 'assumed-role',
      accountId: role.accountId,
      canonicalId: account.id,
      arn: roleArn,
      principalId: role.id,
      sessionName,
      ...(sourceIdentity !== undefined ? { sourceIdentity } : {}),
      ...(policyText !== undefined ? { policy: policyText } : {}),
      ...(policyIds.length > 0 ? { policyIds } : {}),
    },
    duration,
    ctx.now,
  );
  return {
    Credentials: credentialsXml(issued),
    AssumedRoleUser: { AssumedRoleId: `${role.id}:${sessionName}`, Arn: assumedRoleArn(role.accountId, role.name, sessionName) },
    PackedPolicySize: packed > 0 ? packedPercent : undefined,
    SourceIdentity: sourceIdentity,
  };
};
