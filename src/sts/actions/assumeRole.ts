// AssumeRole: temporary credentials of a role session, for an IAM user or a role session (role
// chaining) the role's trust policy admits (trust.ts). Root users cannot assume roles.

import { principalOf } from '../../authz/authorize.js';
import { parsePolicy } from '../../authz/policy/index.js';
import { StsError } from '../errors.js';
import { CHAINED_SESSION_MAX_SECONDS, DURATIONS } from '../names.js';
import type { StsParams } from '../params.js';
import type { StsHandler } from '../request.js';
import { issueRoleSession, readSessionPolicies, roleOf, roleSessionXml, sessionPolicyIds } from '../sessionPolicies.js';
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

export const assumeRole: StsHandler = async (ctx) => {
  const { params, identity } = ctx;
  refuseUnsupported(params);
  const roleArnParam = params.required('RoleArn');
  const sessionName = params.required('RoleSessionName');
  const requested = params.int('DurationSeconds', DURATIONS.AssumeRole.min, DURATIONS.AssumeRole.max);
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
  const policies = readSessionPolicies(params);

  // The role. One that does not exist is refused like one the caller may not assume: whether a
  // role exists is no business of a caller who may not assume it.
  const role = await roleOf(ctx.app, roleArnParam);
  if (!role) throw notAuthorized(callerArn, 'sts:AssumeRole', roleArnParam);
  // Stored trust policies were validated; one that no longer parses fails the call (500) rather than being half-read.
  const trust = parsePolicy(role.assumeRolePolicy, 'trust');
  await authorizeAssumeRole(ctx, role, trust, { roleArn: roleArnParam, sessionName, externalId, sourceIdentity });

  const duration = requested ?? DURATIONS.AssumeRole.default;
  if (identity.session?.role && duration > CHAINED_SESSION_MAX_SECONDS) {
    throw new StsError('ValidationError', 'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.');
  }
  if (duration > role.maxSessionDuration) throw new StsError('ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');

  const policyIds = await sessionPolicyIds(ctx.app, role, policies.policyArns);

  const issued = await issueRoleSession(ctx.app, role, { sessionName, sourceIdentity, policies, policyIds, duration, now: ctx.now });
  if (!issued) throw notAuthorized(callerArn, 'sts:AssumeRole', roleArnParam);
  return { ...roleSessionXml(role, sessionName, issued, policies), SourceIdentity: sourceIdentity };
};
