// STS's names: the API version and XML namespace, the constraints the STS API reference gives for
// each parameter (checked with IAM's ValidationError wording, which STS shares), the limits of
// sessions, and the ARNs of role sessions.

import type { Rule } from '../iam/names.js';

export const STS_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';
export const STS_API_VERSION = '2011-06-15';

const SESSION_NAME = { min: 2, max: 64, pattern: /^[\w+=,.@-]*$/, patternText: '[\\w+=,.@-]*' };

/** The constraints of every parameter STS reads (STS API Reference, AssumeRole and GetSessionToken). */
export const STS_RULES = {
  RoleArn: { min: 20, max: 2048 },
  RoleSessionName: SESSION_NAME,
  SourceIdentity: SESSION_NAME,
  ExternalId: { min: 2, max: 1224, pattern: /^[\w+=,.@:/-]*$/, patternText: '[\\w+=,.@:\\/-]*' },
  Policy: { min: 1, max: 2048, pattern: /^[\u0009\u000A\u000D\u0020-\u00FF]+$/, patternText: '[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+' },
  PolicyArn: { min: 20, max: 2048 },
} as const satisfies Record<string, Rule>;

export type StsRuledParam = keyof typeof STS_RULES;

/** DurationSeconds of each action: the API's own range (a role's MaxSessionDuration narrows AssumeRole's). */
export const DURATIONS = {
  AssumeRole: { min: 900, max: 43200, default: 3600 },
  GetSessionToken: { min: 900, max: 129600, default: 43200 },
} as const;

/** Sessions of an account's root user (GetSessionToken) and sessions chained from role sessions last an hour at most. */
export const ROOT_SESSION_MAX_SECONDS = 3600;
export const CHAINED_SESSION_MAX_SECONDS = 3600;

/** At most this many managed session policies (PolicyArns). */
export const MAX_POLICY_ARNS = 10;

/**
 * "The plaintext that you use for both inline and managed session policies can't exceed 2,048
 * characters" (AssumeRole): here the packed size is the inline policy without white space plus
 * the managed policies' ARNs, and PackedPolicySize its percentage of this.
 */
export const PACKED_POLICY_LIMIT = 2048;

/** arn:aws:sts::<account>:assumed-role/<role name>/<session name> (the role's path is not in it). */
export function assumedRoleArn(accountId: string, roleName: string, sessionName: string): string {
  return `arn:aws:sts::${accountId}:assumed-role/${roleName}/${sessionName}`;
}
