// Put/GetBucketLogging: PUT|GET /<bucket>?logging — server access logging (src/logging/).
// The configuration is checked against its target as S3 checks it: the target bucket must exist
// (InvalidTargetBucketForLogging), belong to the source bucket's owner
// (InvalidTargetBucketForLogging: "The destination bucket must be in the same AWS Region and AWS
// account as the source bucket", S3 User Guide) and be in its region
// (CrossLocationLoggingProhibited); TargetGrants need ACLs on the target (not with
// BucketOwnerEnforced); and the target must let logging.s3.amazonaws.com deliver
// (authz/logDelivery.ts), else AccessDenied. The target may be the source bucket itself.

import { S3Error } from '../errors.js';
import type { Handler } from '../handler.js';
import { bucketOf } from '../handler.js';
import { resolveAcl } from '../../authz/acl/index.js';
import { mayDeliverLogs } from '../../authz/logDelivery.js';
import { granteeResolver } from '../acl.js';
import { logObjectKey } from '../../logging/keys.js';
import { LOGGING_ROOT, LOGGING_XML_LIMITS, parseLogging, renderLogging } from './config/logging.js';

export const putBucketLogging: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const config = parseLogging(await ctx.readXml(LOGGING_ROOT, LOGGING_XML_LIMITS));
  if (!config) {
    await ctx.app.bucketLogging.put(bucket, undefined);
    return {};
  }
  const target = config.targetBucket === bucket.name ? bucket : await ctx.app.meta.getBucket(config.targetBucket);
  if (!target) throw new S3Error('InvalidTargetBucketForLogging', 'The target bucket for logging does not exist', { TargetBucket: config.targetBucket });
  if (target.owner !== bucket.owner) {
    throw new S3Error('InvalidTargetBucketForLogging', 'The owner for the bucket to be logged and the target bucket must be the same.', { TargetBucket: config.targetBucket });
  }
  if (target.region !== bucket.region) throw new S3Error('CrossLocationLoggingProhibited', undefined, { SourceBucketLocation: bucket.region, TargetBucketLocation: target.region });
  if (config.targetGrants.length > 0) {
    if (!(await ctx.app.bucketAccess.get(target)).aclsEnabled) {
      throw new S3Error('InvalidTargetBucketForLogging', 'Target grants are not supported for a target bucket that uses the bucket owner enforced setting for Object Ownership.', { TargetBucket: config.targetBucket });
    }
    const owner = { id: target.owner };
    config.targetGrants = (await resolveAcl({ owner, grants: config.targetGrants }, { resourceOwner: owner, resolver: granteeResolver(ctx.app), from: 'document' })).grants;
  }
  // Would a delivery be allowed? Asked of a key such a delivery would write now.
  const sample = logObjectKey({
    prefix: config.targetPrefix,
    format: config.keyFormat,
    sourceAccountId: (await ctx.app.accountIdOf(bucket.owner)) ?? bucket.owner,
    sourceRegion: bucket.region,
    sourceBucket: bucket.name,
    eventTime: ctx.now,
    deliveryTime: ctx.now,
    unique: ctx.requestId,
  });
  if (!(await mayDeliverLogs(ctx.app, bucket, target, config.targetPrefix, sample))) {
    throw new S3Error('AccessDenied', `Logging bucket ${target.name} does not allow logging.s3.amazonaws.com to write to ${config.targetPrefix}.`);
  }
  await ctx.app.bucketLogging.put(bucket, config);
  return {};
};

export const getBucketLogging: Handler = async (ctx) => {
  return { xml: renderLogging(await ctx.app.bucketLogging.get(bucketOf(ctx))) };
};
