// GetBucketAcl / PutBucketAcl: GET|PUT /<bucket>?acl
// PutBucketAcl takes exactly one of a canned x-amz-acl, x-amz-grant-* headers or an
// AccessControlPolicy document; the ACL's owner is always the bucket owner. Under
// BucketOwnerEnforced ACLs are disabled: setting one is AccessControlListNotSupported and the ACL
// read back is the bucket owner's full control. A public ACL is refused under BlockPublicAcls.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketAcl.html

import { privateAcl } from '../../authz/bucketAccess.js';
import { aclResponse, checkAclChange, requestedAcl } from '../acl.js';
import type { Handler } from '../handler.js';
import { bucketOf } from '../handler.js';

export const getBucketAcl: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const settings = await ctx.app.bucketAccess.get(bucket);
  return { xml: await aclResponse(ctx.app, settings.aclsEnabled ? settings.acl : privateAcl(bucket.owner)) };
};

export const putBucketAcl: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const settings = await ctx.app.bucketAccess.get(bucket);
  checkAclChange(settings);
  const owner = { id: bucket.owner };
  const acl = await requestedAcl(ctx, { owner, bucketOwner: owner, forBucket: true });
  checkAclChange(settings, acl);
  await ctx.app.bucketAccess.putAcl(bucket, acl);
  return {};
};
