// Is a bucket policy "public", in the sense of S3 Block Public Access?
//
// S3 User Guide, "Blocking public access to your Amazon S3 storage", section "The meaning of
// 'public'" (access-control-block-public-access): S3 "begins by assuming that the policy is
// public" and a policy is non-public only if every Allow grants access only to fixed values
// ("values that don't contain a wildcard or an AWS Identity and Access Management Policy
// Variable") of:
// - an AWS principal, user, role, or service principal (e.g. aws:PrincipalOrgID);
// - a set of CIDRs using aws:SourceIp — "very broad IP ranges … broader than /8 for IPv4 and /32
//   for IPv6 (excluding RFC1918 private ranges)" count as public;
// - aws:SourceArn, aws:SourceVpc, aws:SourceVpce, aws:SourceOwner, aws:SourceAccount,
//   s3:x-amz-server-side-encryption-aws-kms-key-id;
// - aws:userid outside the pattern "AROLEID:*" (a role id followed by ":*" stays fixed);
// - s3:DataAccessPointArn — which may end in a wildcard access point name "as long as the
//   account id is fixed" — and s3:DataAccessPointAccount.
// Its examples: Principal "*" is public; Principal {"Federated": "graph.facebook.com"} is public;
// "*" conditioned on StringLike aws:SourceVpc "vpc-*" is public; on StringEquals aws:SourceVpc
// "vpc-91237329" it is not.
// Principal-describing keys (aws:PrincipalAccount, aws:PrincipalArn, aws:PrincipalOrgID,
// aws:PrincipalOrgPaths, aws:PrincipalServiceName) fix the principal as the first bullet says.
// Deny statements never make a policy public; a Deny that would cancel a public Allow is not
// analysed (S3 does not promise to either).

import type { Policy, Statement } from './document.js';
import type { Condition } from './conditions.js';
import { compileTemplate, splitArn } from './match.js';
import { parseCidr } from './ip.js';

const FIXING_KEYS: ReadonlySet<string> = new Set([
  'aws:sourceip', 'aws:sourcearn', 'aws:sourcevpc', 'aws:sourcevpce', 'aws:sourceowner', 'aws:sourceaccount',
  's3:x-amz-server-side-encryption-aws-kms-key-id', 'aws:userid', 's3:dataaccesspointarn', 's3:dataaccesspointaccount',
  'aws:principalaccount', 'aws:principalarn', 'aws:principalorgid', 'aws:principalorgpaths', 'aws:principalservicename',
]);

// Operators that require the key to equal (or lie within) the policy's values. Negated operators
// admit everything else, IfExists admits requests without the key, ForAllValues admits requests
// with no values: none of them narrows the audience.
const NARROWING: ReadonlySet<string> = new Set(['StringEquals', 'StringEqualsIgnoreCase', 'StringLike', 'ArnEquals', 'ArnLike', 'IpAddress']);

function isFixed(value: string): boolean {
  return !compileTemplate(value, { wildcards: true, variables: true }).wild && !value.includes('${');
}

// "broader than /8 for IPv4 and /32 for IPv6" is public. (RFC 1918 ranges, which the page
// excludes from that rule, are all /8 or narrower, so they pass anyway.)
function fixedSourceIp(value: string): boolean {
  const c = parseCidr(value);
  if (!c) return false;
  return c.prefix >= (c.v6 ? 32 : 8);
}

function fixedValue(key: string, value: string): boolean {
  switch (key) {
    case 'aws:sourceip':
      return fixedSourceIp(value);
    case 'aws:userid': {
      // "AROLEID:*": a fixed role id and any session of it.
      const colon = value.indexOf(':');
      if (colon > 0 && value.slice(colon + 1) === '*' && isFixed(value.slice(0, colon))) return true;
      return isFixed(value);
    }
    case 's3:dataaccesspointarn': {
      const parts = splitArn(value);
      if (!parts) return false;
      if (!parts.slice(0, 5).every(isFixed)) return false;
      return parts[5]!.startsWith('accesspoint/') || isFixed(parts[5]!);
    }
    default:
      return isFixed(value);
  }
}

function narrows(c: Condition): boolean {
  if (!FIXING_KEYS.has(c.key)) return false;
  if (c.ifExists || c.set === 'ForAllValues' || !NARROWING.has(c.base)) return false;
  if (c.base === 'IpAddress' && c.key !== 'aws:sourceip') return false;
  // One non-fixed value opens the condition to everyone matching it (values are OR-ed).
  return c.values.every((v) => fixedValue(c.key, v));
}

/** Does this Allow statement grant to an open audience? */
export function isPublicStatement(s: Statement): boolean {
  if (s.effect !== 'Allow') return false;
  const p = s.principal;
  if (!p) return false;
  const open = s.notPrincipal || p.spec.wildcard || p.spec.federated.length > 0;
  if (!open) return false;
  return !s.conditions.some(narrows);
}

/** S3's definition of a public bucket policy, for BlockPublicPolicy and RestrictPublicBuckets. */
export function isPublicPolicy(policy: Policy): boolean {
  return policy.statements.some(isPublicStatement);
}
