// Put/Get/DeleteBucketOwnershipControls: PUT|GET|DELETE /<bucket>?ownershipControls
// The setting is a bucket configuration ('ownership', also written by CreateBucket's
// x-amz-object-ownership). A bucket without one behaves as ObjectWriter, and
// GetBucketOwnershipControls answers OwnershipControlsNotFoundError. BucketOwnerEnforced is
// refused while the bucket ACL grants anyone but the bucket owner
// (InvalidBucketAclWithObjectOwnership): "your bucket ACL must give full control only to the
// bucket owner" (object-ownership-error-responses).
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketOwnershipControls.html

import { grantsOnlyTo } from '../acl.js';
import { S3Error } from '../errors.js';
import type { Handler } from '../handler.js';
import { bucketOf } from '../handler.js';
import { OWNERSHIP_ROOT, OWNERSHIP_XML_LIMITS, parseOwnershipControls, renderOwnershipControls } from './config/ownership.js';

export const putBucketOwnershipControls: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const ownership = parseOwnershipControls(await ctx.readXml(OWNERSHIP_ROOT, OWNERSHIP_XML_LIMITS));
  if (ownership === 'BucketOwnerEnforced') {
    const settings = await ctx.app.bucketAccess.get(bucket);
    if (!grantsOnlyTo(settings.acl, bucket.owner)) throw new S3Error('InvalidBucketAclWithObjectOwnership');
  }
  await ctx.app.bucketAccess.putOwnership(bucket, ownership);
  return {};
};

export const getBucketOwnershipControls: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const { ownershipControls } = await ctx.app.bucketAccess.get(bucket);
  if (ownershipControls === undefined) throw new S3Error('OwnershipControlsNotFoundError', undefined, { BucketName: bucket.name });
  return { xml: renderOwnershipControls(ownershipControls) };
};

export const deleteBucketOwnershipControls: Handler = async (ctx) => {
  await ctx.app.bucketAccess.putOwnership(bucketOf(ctx), undefined);
  return { status: 204 };
};
