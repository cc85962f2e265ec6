// Who owns the object a write creates (PutObject, CopyObject, CreateMultipartUpload, whose
// upload's owner and ACL become the object's at Complete), and the ACL it starts with.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html
//
// - ObjectWriter (and buckets without the setting): the writing account owns the object.
// - BucketOwnerPreferred: the bucket owner owns an object written with the
//   bucket-owner-full-control canned ACL; otherwise the writer does.
// - BucketOwnerEnforced: ACLs are disabled and the bucket owner owns every object. A write may
//   name no ACL or one that only gives the bucket owner full control (bucket-owner-full-control,
//   or grants equivalent to it); any other, private included, is AccessControlListNotSupported
//   ("All S3 PUT requests must either specify the bucket-owner-full-control canned ACL or not
//   specify an ACL", object-ownership-error-responses).
// The ACL comes from the request alone (x-amz-acl or x-amz-grant-*; CopyObject never copies the
// source's), is private to the owner when none is named, and a public one is refused under
// BlockPublicAcls (AccessDenied).

import { aclFromHeaders } from '../../authz/acl/index.js';
import { storedAcl } from '../../authz/bucketAccess.js';
import { refusePublicAcl } from '../bucket/config/publicAccessBlock.js';
import { S3Error } from '../errors.js';
import { bucketOf, writerOf, type S3Context } from '../handler.js';
import { grantsOnlyTo, headerAcl } from '../acl.js';

export interface NewObjectAccess {
  /** Canonical id of the new object's owner. */
  owner: string;
  /** Its stored ACL; undefined for the default (private to the owner). */
  acl?: string;
}

export async function newObjectAccess(ctx: S3Context): Promise<NewObjectAccess> {
  const bucket = bucketOf(ctx);
  const settings = await ctx.app.bucketAccess.get(bucket);
  // The operations that create objects have no x-amz-grant-write.
  const requested = aclFromHeaders(ctx.headers, { write: false });
  const bucketOwner = { id: bucket.owner };
  if (!settings.aclsEnabled) {
    if (requested) {
      const acl = await headerAcl(ctx.app, requested, { owner: bucketOwner, bucketOwner, forBucket: false });
      const ownerOnly = requested.kind === 'canned' ? requested.canned === 'bucket-owner-full-control' : grantsOnlyTo(acl, bucket.owner) && acl.grants.some((g) => g.permission === 'FULL_CONTROL');
      if (!ownerOnly) throw new S3Error('AccessControlListNotSupported');
    }
    return { owner: bucket.owner };
  }
  const preferred = settings.ownership === 'BucketOwnerPreferred' && requested?.kind === 'canned' && requested.canned === 'bucket-owner-full-control';
  const owner = preferred ? bucket.owner : writerOf(ctx);
  if (!requested) return { owner };
  const acl = await headerAcl(ctx.app, requested, { owner: { id: owner }, bucketOwner, forBucket: false });
  refusePublicAcl(settings.block, acl);
  const stored = storedAcl(acl, owner);
  return stored === undefined ? { owner } : { owner, acl: stored };
}
