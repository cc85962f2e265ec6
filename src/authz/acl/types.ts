// The vocabulary of S3 access control lists: grantees, permissions, grants, ACLs.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html

/** The owner of a bucket or object, by canonical user id. */
export interface AclOwner {
  id: string;
  /** S3 stopped returning display names in 2025; kept when known, never required. */
  displayName?: string;
}

/**
 * Who a grant is for. AmazonCustomerByEmail exists only on the way in (PutBucketAcl…): S3 turns
 * it into the account's CanonicalUser before storing the ACL (see resolveAcl).
 */
export type Grantee =
  | { type: 'CanonicalUser'; id: string; displayName?: string }
  | { type: 'Group'; uri: GroupUri }
  | { type: 'AmazonCustomerByEmail'; email: string };

export type GranteeType = Grantee['type'];

export const PERMISSIONS = ['FULL_CONTROL', 'WRITE', 'WRITE_ACP', 'READ', 'READ_ACP'] as const;
export type Permission = (typeof PERMISSIONS)[number];

export interface Grant {
  grantee: Grantee;
  permission: Permission;
}

export interface Acl {
  owner: AclOwner;
  grants: Grant[];
}

/** Every requester, signed or not. */
export const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
/** Every signed request, whatever its account (not "users of this server's account"). */
export const AUTHENTICATED_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';
/** The server-access-logging writer. */
export const LOG_DELIVERY = 'http://acs.amazonaws.com/groups/s3/LogDelivery';

export const GROUP_URIS = [ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY] as const;
export type GroupUri = (typeof GROUP_URIS)[number];

/**
 * The owner S3 records for an object uploaded by an unsigned request ("a special canonical user
 * ID", acl-overview, "Finding an AWS account canonical user ID").
 */
export const ANONYMOUS_OWNER_ID = '65a011a29cdf8ec533ec3d1ccaae921c';

/** An ACL may hold at most 100 grants (acl-overview); more is MalformedACLError. */
export const MAX_GRANTS = 100;

export function isPermission(s: string): s is Permission {
  return (PERMISSIONS as readonly string[]).includes(s);
}

export function isGroupUri(s: string): s is GroupUri {
  return (GROUP_URIS as readonly string[]).includes(s);
}

/** The grantee for a canonical user, with its display name when known. */
export function canonicalUser(owner: AclOwner): Grantee {
  return owner.displayName === undefined ? { type: 'CanonicalUser', id: owner.id } : { type: 'CanonicalUser', id: owner.id, displayName: owner.displayName };
}

export function group(uri: GroupUri): Grantee {
  return { type: 'Group', uri };
}
