// Policy documents as the IAM API accepts them: parsed and validated by the policy engine
// (authz/policy) before they are stored, refused with MalformedPolicyDocument and the reason, or
// LimitExceeded when too large.

import { PolicyError, parsePolicy, policySize, POLICY_SIZE_LIMITS, type Policy } from '../authz/policy/index.js';
import { IamError } from './errors.js';

/**
 * Validates an identity-based (inline or managed) or trust policy. `maxSize` overrides the kind's
 * limit (an inline policy counts against its owner's aggregate), `tooLarge` words the refusal.
 */
export function checkDocument(json: string, kind: 'identity' | 'trust', maxSize?: number, tooLarge?: string): Policy {
  try {
    return parsePolicy(json, kind, maxSize === undefined ? {} : { maxSize });
  } catch (e) {
    if (!(e instanceof PolicyError)) throw e;
    if (e.tooLarge) throw new IamError('LimitExceeded', tooLarge ?? e.message);
    throw new IamError('MalformedPolicyDocument', e.message);
  }
}

/** Aggregate limits of the inline policies of one user, group or role (non-white-space characters). */
export const INLINE_LIMITS = { user: POLICY_SIZE_LIMITS.userInline, group: POLICY_SIZE_LIMITS.groupInline, role: POLICY_SIZE_LIMITS.roleInline } as const;

export function identitySize(json: string): number {
  return policySize(json, 'identity');
}
