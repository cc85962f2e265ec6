// ACLs as the handlers apply them (the ACL language itself is authz/acl): the accounts of the
// metadata store as the grantee directory, the ACL a request asks for turned into the ACL stored
// for a bucket or an object, the checks Object Ownership and Block Public Access make on it, and
// the AccessControlPolicy responses with current display names.

import type { App } from '../app.js';
import {
  ACL_ROOT,
  ACL_XML_LIMITS,
  cannedAcl,
  parseAclXml,
  putAclRequest,
  renderAcl,
  resolveAcl,
  type Acl,
  type AclOwner,
  type Grant,
  type GranteeResolver,
  type HeaderAcl,
} from '../authz/acl/index.js';
import type { BucketAccessSettings } from '../authz/bucketAccess.js';
import { refusePublicAcl } from './bucket/config/publicAccessBlock.js';
import { S3Error } from './errors.js';
import type { S3Context } from './handler.js';
import type { XmlNode } from './xml.js';

/** The accounts of this server, by canonical id and by email address. */
export function granteeResolver(app: App): GranteeResolver {
  return {
    async userById(id) {
      const a = await app.meta.getAccount(id);
      return a && { id: a.id, displayName: a.displayName };
    },
    async usersByEmail(email) {
      // Email grants are rare (AWS no longer takes them) and accounts few: no index for them.
      const wanted = email.toLowerCase();
      return (await app.meta.listAccounts()).filter((a) => a.email?.toLowerCase() === wanted).map((a) => ({ id: a.id, displayName: a.displayName }));
    },
  };
}

/** Where an ACL is being set: the resource's owner, and the bucket's owner (for bucket-owner-* ACLs). */
export interface AclTarget {
  owner: AclOwner;
  bucketOwner: AclOwner;
  forBucket: boolean;
}

/** The ACL a canned header or grant headers ask for, with every grantee resolved. */
export async function headerAcl(app: App, requested: HeaderAcl, target: AclTarget): Promise<Acl> {
  if (requested.kind === 'canned') return cannedAcl(requested.canned, target);
  return resolveAcl({ owner: target.owner, grants: requested.grants }, { resourceOwner: target.owner, resolver: granteeResolver(app), from: 'headers' });
}

/** Whether the request has a body (PutBucketAcl / PutObjectAcl: then it is the ACL document). */
function hasBody(ctx: S3Context): boolean {
  if (ctx.contentLength !== undefined) return ctx.contentLength > 0;
  return ctx.headers['transfer-encoding'] !== undefined;
}

/** The ACL a PutBucketAcl / PutObjectAcl request asks for: canned header, grant headers or document. */
export async function requestedAcl(ctx: S3Context, target: AclTarget): Promise<Acl> {
  const requested = putAclRequest(ctx.headers, hasBody(ctx));
  if (requested.kind !== 'document') return headerAcl(ctx.app, requested, target);
  const doc = parseAclXml(await ctx.readXml(ACL_ROOT, ACL_XML_LIMITS));
  return resolveAcl(doc, { resourceOwner: target.owner, resolver: granteeResolver(ctx.app), from: 'document' });
}

/** Whether every grant of the ACL is to `owner` (what a bucket without ACLs may still be given). */
export function grantsOnlyTo(acl: Acl, owner: string): boolean {
  return acl.grants.every((g) => g.grantee.type === 'CanonicalUser' && g.grantee.id === owner);
}

/**
 * The checks on an ACL a request sets on a bucket or object that exists: ACLs must be enabled
 * (else AccessControlListNotSupported), and a public ACL is refused under BlockPublicAcls.
 */
export function checkAclChange(settings: BucketAccessSettings, acl?: Acl): void {
  if (!settings.aclsEnabled) throw new S3Error('AccessControlListNotSupported');
  if (acl) refusePublicAcl(settings.block, acl);
}

/**
 * An AccessControlPolicy response. Display names are the accounts' current ones (the name kept
 * in the ACL only for ids this server does not know, such as the EC2 bundle reader's).
 */
export async function aclResponse(app: App, acl: Acl): Promise<{ root: string; body: XmlNode }> {
  const named = async (o: AclOwner): Promise<AclOwner> => {
    const current = await app.displayName(o.id);
    const displayName = current !== o.id ? current : o.displayName;
    return displayName === undefined ? { id: o.id } : { id: o.id, displayName };
  };
  const owner = await named(acl.owner);
  const grants: Grant[] = [];
  for (const g of acl.grants) {
    grants.push(g.grantee.type === 'CanonicalUser' ? { grantee: { type: 'CanonicalUser' as const, ...(await named(g.grantee)) }, permission: g.permission } : g);
  }
  return renderAcl({ owner, grants });
}
