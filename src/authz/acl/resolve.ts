// From the ACL a request asks for to the ACL S3 stores: users checked against the directory,
// email grantees turned into their users, the owner checked against the resource's.

import { S3Error } from '../../s3/errors.js';
import { MAX_GRANTS, canonicalUser, type Acl, type AclOwner, type Grant, type Grantee } from './types.js';

/** The caller's user directory. */
export interface GranteeResolver {
  /** The user with this canonical id, or undefined if there is none. */
  userById(id: string): Promise<AclOwner | undefined>;
  /**
   * The users registered with this email address (none, one, or several). Without it every
   * email grantee is unresolvable. (AWS stopped accepting email grantees on 1 October 2025 and
   * now answers them 405; a server with email addresses may still resolve them.)
   */
  usersByEmail?(email: string): Promise<readonly AclOwner[]>;
}

export interface ResolveOptions {
  /** The owner of the bucket or object the ACL is for. The stored ACL's owner is always it. */
  resourceOwner: AclOwner;
  resolver: GranteeResolver;
  /**
   * Where the ACL came from. S3 names an unknown user `id` when it came from a grant header and
   * `CanonicalUser/ID` when it came from a document (AWS, per LocalStack's snapshots).
   */
  from: 'headers' | 'document';
}

/**
 * The ACL to store for `requested` (from parseGrantHeaders, cannedAcl or parseAclXml):
 * - a document's Owner must be a known user (else InvalidArgument "Invalid id") and the resource's
 *   owner (else AccessDenied: an ACL cannot give a resource away);
 * - every CanonicalUser grantee must be a known user (else InvalidArgument "Invalid id"); its
 *   display name is the directory's, whatever the request said;
 * - every email grantee must match exactly one user (UnresolvableGrantByEmailAddress /
 *   AmbiguousGrantByEmailAddress) and becomes that CanonicalUser;
 * - at most 100 grants (MalformedACLError).
 * Each id and address is looked up once.
 */
export async function resolveAcl(requested: Acl, opts: ResolveOptions): Promise<Acl> {
  if (requested.grants.length > MAX_GRANTS) throw new S3Error('MalformedACLError');
  const argumentName = opts.from === 'headers' ? 'id' : 'CanonicalUser/ID';
  const byId = new Map<string, Promise<AclOwner | undefined>>();
  const lookUp = (id: string) => {
    let p = byId.get(id);
    if (!p) byId.set(id, (p = opts.resolver.userById(id)));
    return p;
  };
  const known = async (id: string): Promise<AclOwner> => {
    const user = await lookUp(id);
    if (!user) throw new S3Error('InvalidArgument', 'Invalid id', { ArgumentName: argumentName, ArgumentValue: id });
    return user;
  };

  if (requested.owner.id !== opts.resourceOwner.id) {
    await known(requested.owner.id);
    throw new S3Error('AccessDenied');
  }

  const byEmail = new Map<string, Promise<AclOwner>>();
  const userForEmail = (email: string): Promise<AclOwner> => {
    const k = email.toLowerCase();
    let p = byEmail.get(k);
    if (!p) {
      p = (async () => {
        const users = opts.resolver.usersByEmail ? await opts.resolver.usersByEmail(email) : [];
        if (users.length === 0) throw new S3Error('UnresolvableGrantByEmailAddress');
        if (users.length > 1) throw new S3Error('AmbiguousGrantByEmailAddress');
        return users[0]!;
      })();
      byEmail.set(k, p);
    }
    return p;
  };

  // In order, one at a time: the first bad grantee is the one reported.
  const grants: Grant[] = [];
  for (const g of requested.grants) {
    const grantee: Grantee =
      g.grantee.type === 'CanonicalUser'
        ? canonicalUser(await known(g.grantee.id))
        : g.grantee.type === 'AmazonCustomerByEmail'
          ? canonicalUser(await userForEmail(g.grantee.email))
          : g.grantee;
    grants.push({ grantee, permission: g.permission });
  }
  return { owner: { ...opts.resourceOwner }, grants };
}
