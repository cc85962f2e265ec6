// Canned ACLs: the x-amz-acl header's named grant sets.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html#canned-acl

import { S3Error } from '../../s3/errors.js';
import { ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY, canonicalUser, group, type Acl, type AclOwner, type Grant } from './types.js';

export const CANNED_ACLS = [
  'private',
  'public-read',
  'public-read-write',
  'aws-exec-read',
  'authenticated-read',
  'bucket-owner-read',
  'bucket-owner-full-control',
  'log-delivery-write',
] as const;
export type CannedAcl = (typeof CANNED_ACLS)[number];

/**
 * The account Amazon EC2 reads machine-image bundles with: `aws-exec-read` grants it READ. S3
 * stores it as this CanonicalUser grant (display name "za-team" where names are still shown).
 */
export const EC2_BUNDLE_READER: AclOwner = { id: '6aa5a366c34c1cbe25dc49211496e913e0351eb0e8c37aa3477e40942ec6b97c', displayName: 'za-team' };

export function isCannedAcl(s: string): s is CannedAcl {
  return (CANNED_ACLS as readonly string[]).includes(s);
}

/**
 * The x-amz-acl value, validated: S3 answers an unknown one InvalidArgument naming the header,
 * with an empty message (recorded from AWS by LocalStack's test_s3_bucket_acl_exceptions).
 */
export function parseCannedAcl(value: string): CannedAcl {
  if (!isCannedAcl(value)) throw new S3Error('InvalidArgument', '', { ArgumentName: 'x-amz-acl', ArgumentValue: value });
  return value;
}

export interface CannedContext {
  /** The owner of the resource the ACL is for (for an object: its writer, per Object Ownership). */
  owner: AclOwner;
  /** The bucket's owner: bucket-owner-read / bucket-owner-full-control grant to it. */
  bucketOwner: AclOwner;
  /** A bucket's ACL rather than an object's. */
  forBucket: boolean;
}

/**
 * The ACL a canned name stands for. Grants to groups come first and the owner's FULL_CONTROL
 * after them, as Ceph RGW lists them (AllUsers READ before WRITE); grants to other accounts
 * (bucket-owner-*) follow the owner's. Order carries no meaning in S3 (AWS lists the owner
 * first), but clients written against RGW, the Ceph suite among them, index the list.
 *
 * - bucket-owner-read and bucket-owner-full-control concern objects; "if you specify this canned
 *   ACL when creating a bucket, Amazon S3 ignores it": a bucket gets `private`. On an object
 *   written by the bucket owner they add nothing to the owner's FULL_CONTROL.
 * - log-delivery-write is documented for buckets; on an object it means the same grants (S3's
 *   SDKs do not offer it for objects, and nothing documents a refusal).
 */
export function cannedAcl(name: CannedAcl | string, ctx: CannedContext): Acl {
  const canned = parseCannedAcl(name);
  const groups: Grant[] = [];
  const others: Grant[] = [];
  const add = (g: Grant) => (g.grantee.type === 'Group' ? groups : others).push(g);
  switch (canned) {
    case 'private':
      break;
    case 'public-read':
      add({ grantee: group(ALL_USERS), permission: 'READ' });
      break;
    case 'public-read-write':
      add({ grantee: group(ALL_USERS), permission: 'READ' });
      add({ grantee: group(ALL_USERS), permission: 'WRITE' });
      break;
    case 'aws-exec-read':
      add({ grantee: canonicalUser(EC2_BUNDLE_READER), permission: 'READ' });
      break;
    case 'authenticated-read':
      add({ grantee: group(AUTHENTICATED_USERS), permission: 'READ' });
      break;
    case 'bucket-owner-read':
      if (!ctx.forBucket && ctx.bucketOwner.id !== ctx.owner.id) add({ grantee: canonicalUser(ctx.bucketOwner), permission: 'READ' });
      break;
    case 'bucket-owner-full-control':
      if (!ctx.forBucket && ctx.bucketOwner.id !== ctx.owner.id) add({ grantee: canonicalUser(ctx.bucketOwner), permission: 'FULL_CONTROL' });
      break;
    case 'log-delivery-write':
      add({ grantee: group(LOG_DELIVERY), permission: 'WRITE' });
      add({ grantee: group(LOG_DELIVERY), permission: 'READ_ACP' });
      break;
  }
  return { owner: { ...ctx.owner }, grants: [...groups, { grantee: canonicalUser(ctx.owner), permission: 'FULL_CONTROL' }, ...others] };
}
