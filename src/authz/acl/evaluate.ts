// What an ACL lets a requester do, and which ACL permission each S3 action needs.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html
//   ("ACL permissions", "Mapping of ACL permissions and access policy permissions")

import { ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY, type Acl, type Grantee, type Permission } from './types.js';

/**
 * Who asks: a canonical user (any signed caller of that account), an anonymous caller, or S3's
 * own log writer delivering server access logs (the LogDelivery group, authz/logDelivery.ts).
 */
export type AclRequester = { readonly canonicalId: string } | 'anonymous' | 'log-delivery';

export interface AclCheckOptions {
  /**
   * Disregard grants to AllUsers and AuthenticatedUsers: the IgnorePublicAcls setting of the
   * public access block ("Amazon S3 ignores all public ACLs on a bucket and any objects that it
   * contains").
   */
  ignorePublicGrants?: boolean;
}

/** A grant to this grantee makes an ACL public (see isPublicAcl). */
export function isPublicGrantee(g: Grantee): boolean {
  return g.type === 'Group' && (g.uri === ALL_USERS || g.uri === AUTHENTICATED_USERS);
}

function granteeIncludes(g: Grantee, who: AclRequester): boolean {
  switch (g.type) {
    case 'CanonicalUser':
      return typeof who === 'object' && who.canonicalId === g.id;
    case 'Group':
      if (g.uri === ALL_USERS) return true;
      // Any signed request, whatever account signed it.
      if (g.uri === AUTHENTICATED_USERS) return typeof who === 'object';
      // LogDelivery is S3's own log writer: never a caller of the API, only log delivery.
      return g.uri === LOG_DELIVERY && who === 'log-delivery';
    case 'AmazonCustomerByEmail':
      // Stored ACLs hold users, not addresses (resolveAcl); an address never matches a request.
      return false;
  }
}

/**
 * Whether the ACL grants `permission` to `who`. FULL_CONTROL includes every permission. The
 * resource's owner may always read and write the ACL (READ_ACP, WRITE_ACP) whatever its grants
 * say, so that an owner who removed its own grant can still restore it. S3's documentation does
 * not spell this out; Ceph's RGWAccessControlPolicy::get_perm grants the same.
 */
export function aclAllows(acl: Acl, who: AclRequester, permission: Permission, opts: AclCheckOptions = {}): boolean {
  if ((permission === 'READ_ACP' || permission === 'WRITE_ACP') && typeof who === 'object' && who.canonicalId === acl.owner.id) return true;
  return acl.grants.some(
    (g) => (g.permission === permission || g.permission === 'FULL_CONTROL') && !(opts.ignorePublicGrants && isPublicGrantee(g.grantee)) && granteeIncludes(g.grantee, who),
  );
}

export type AclResource = 'bucket' | 'object';

// S3's table "Mapping of ACL permissions and access policy permissions": the actions each
// permission allows, on a bucket's ACL and on an object's. WRITE on an object is "not
// applicable"; FULL_CONTROL is every row of its column.
const BUCKET_ACTIONS: Readonly<Record<string, Permission>> = {
  's3:ListBucket': 'READ',
  's3:ListBucketVersions': 'READ',
  's3:ListBucketMultipartUploads': 'READ',
  's3:PutObject': 'WRITE',
  's3:DeleteObject': 'WRITE',
  's3:GetBucketAcl': 'READ_ACP',
  's3:PutBucketAcl': 'WRITE_ACP',
};
const OBJECT_ACTIONS: Readonly<Record<string, Permission>> = {
  's3:GetObject': 'READ',
  's3:GetObjectVersion': 'READ',
  's3:GetObjectTorrent': 'READ',
  's3:GetObjectAcl': 'READ_ACP',
  's3:GetObjectVersionAcl': 'READ_ACP',
  's3:PutObjectAcl': 'WRITE_ACP',
  's3:PutObjectVersionAcl': 'WRITE_ACP',
};

/**
 * The permission an action needs in the ACL of `resource` (the bucket's ACL for bucket-level
 * rows, PutObject and DeleteObject included; the object's for object rows), or undefined when no
 * ACL permission grants it there (then only the owner and policies can).
 *
 * `s3:DeleteObjectVersion` is granted by the bucket's WRITE only "when the grantee is the bucket
 * owner"; the caller says whether the requester is.
 */
export function aclPermissionFor(action: string, resource: AclResource, opts: { requesterIsBucketOwner?: boolean } = {}): Permission | undefined {
  if (resource === 'bucket') {
    if (action === 's3:DeleteObjectVersion') return opts.requesterIsBucketOwner ? 'WRITE' : undefined;
    return Object.hasOwn(BUCKET_ACTIONS, action) ? BUCKET_ACTIONS[action] : undefined;
  }
  return Object.hasOwn(OBJECT_ACTIONS, action) ? OBJECT_ACTIONS[action] : undefined;
}
