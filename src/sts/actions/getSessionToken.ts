// GetSessionToken: temporary credentials that act as the IAM user or root user that asked for
// them, with the same permissions (no MFA here: aws:MultiFactorAuthPresent is false). Not callable
// with temporary credentials (the action table says so).

import { rootArn } from '../../authz/policy/index.js';
import { StsError } from '../errors.js';
import { DURATIONS, ROOT_SESSION_MAX_SECONDS } from '../names.js';
import { credentialsXml, type StsHandler } from '../request.js';

export const getSessionToken: StsHandler = async (ctx) => {
  const { params, identity } = ctx;
  const requested = params.int('DurationSeconds', DURATIONS.GetSessionToken.min, DURATIONS.GetSessionToken.max);
  // This server has no MFA devices: an MFA code cannot be validated.
  if (params.get('SerialNumber') !== undefined || params.get('TokenCode') !== undefined) throw new StsError('AccessDenied', 'MultiFactorAuthentication failed: this server has no MFA devices.');
  const user = identity.user;
  // "Sessions for AWS account owners are restricted to a maximum of 3,600 seconds": longer is shortened.
  const duration = Math.min(requested ?? DURATIONS.GetSessionToken.default, user ? DURATIONS.GetSessionToken.max : ROOT_SESSION_MAX_SECONDS);
  const issued = await ctx.app.sts.issue(
    {
      kind: 'session-token',
      accountId: identity.accountId,
      canonicalId: identity.userId,
      arn: user?.arn ?? rootArn(identity.accountId),
      ...(user ? { principalId: user.id } : {}),
    },
    duration,
    ctx.now,
  );
  return { Credentials: credentialsXml(issued) };
};
