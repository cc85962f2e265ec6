// What a bucket's ACLs and its Block Public Access settings add to, or take from, the policy
// decision (authorize.ts calls both).
//
// ACLs: AWS evaluates ACLs with the resource-based policies: an explicit Deny in any policy wins;
// otherwise an ACL grant is a resource-side allow, as a bucket policy naming the caller's account
// would be (decide's `aclAllows`). Since the bucket owner's own requests never get here (its
// root user is allowed by its account), the ACL is read only when the policies leave a request
// implicitly denied and the action is one an ACL permission grants:
// - bucket-level actions (listing, Get/PutBucketAcl) and object writes and deletes (PutObject,
//   DeleteObject: WRITE) are granted by the bucket's ACL;
// - object reads and object ACL reads and writes by the addressed object version's ACL.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html ("Mapping of ACL
// permissions and access policy permissions").
//
// RestrictPublicBuckets: "only AWS service principals and authorized users within the bucket
// owner's account" get access through a public bucket policy; "public and cross-account access
// within any public bucket policy, including non-public delegation to specific accounts, is
// blocked" (access-control-block-public-access, "RestrictPublicBuckets"). Its Deny statements
// still apply to everyone.

import type { Bucket, MetaStore } from '../store/meta/types.js';
import { aclAllows, aclPermissionFor, type AclRequester } from './acl/index.js';
import { objectAcl, type BucketAccessSettings } from './bucketAccess.js';
import { isPublicPolicy, type Policy, type RequestPrincipal } from './policy/index.js';
import { unversionedAction, type AccessRequest } from './requests.js';
import { LOGGING_SERVICE } from './logDelivery.js';

function requester(p: RequestPrincipal): AclRequester | undefined {
  if (p.kind === 'anonymous') return 'anonymous';
  // Server access log delivery is S3's LogDelivery group (authz/logDelivery.ts).
  if (p.kind === 'service' && p.service === LOGGING_SERVICE) return 'log-delivery';
  // Other service principals and federated callers are no canonical user: no grant names them.
  return p.canonicalId === undefined ? undefined : { canonicalId: p.canonicalId };
}

/** Whether the bucket's ACLs grant the access request (ignoring public grants when told so). */
export async function aclGrants(meta: MetaStore, principal: RequestPrincipal, r: AccessRequest, bucket: Bucket, settings: BucketAccessSettings): Promise<boolean> {
  if (!settings.aclsEnabled) return false;
  const who = requester(principal);
  if (who === undefined) return false;
  const opts = { ignorePublicGrants: settings.block.ignorePublicAcls };
  const action = r.action;
  if (r.key !== undefined) {
    const permission = aclPermissionFor(action, 'object') ?? aclPermissionFor(unversionedAction(action), 'object');
    if (permission !== undefined) {
      const v = await meta.getObject(bucket.id, r.key, r.versionId);
      if (!v || v.deleteMarker) return false;
      return aclAllows(objectAcl(v), who, permission, opts);
    }
  }
  const permission = aclPermissionFor(action, 'bucket', { requesterIsBucketOwner: typeof who === 'object' && who.canonicalId === bucket.owner });
  return permission !== undefined && aclAllows(settings.acl, who, permission, opts);
}

/** A policy's Deny statements alone, per policy (policies are parsed once and cached). */
const restricted = new WeakMap<Policy, { public: boolean; denies: Policy }>();

/**
 * The bucket policy as it applies to this caller: under RestrictPublicBuckets, a public policy
 * grants nothing to callers outside the bucket owner's account other than service principals.
 */
export function effectiveBucketPolicy(policy: Policy, settings: BucketAccessSettings, principal: RequestPrincipal, bucketAccount: string | undefined): Policy {
  if (!settings.block.restrictPublicBuckets) return policy;
  if (principal.kind === 'service' || (principal.accountId !== undefined && principal.accountId === bucketAccount)) return policy;
  let r = restricted.get(policy);
  if (!r) {
    r = { public: isPublicPolicy(policy), denies: { ...policy, statements: policy.statements.filter((s) => s.effect === 'Deny') } };
    restricted.set(policy, r);
  }
  return r.public ? r.denies : policy;
}
