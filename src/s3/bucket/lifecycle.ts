// Put/Get/DeleteBucketLifecycleConfiguration: PUT|GET|DELETE /<bucket>?lifecycle
// The configuration is validated here (config/lifecycle.ts) and kept parsed per bucket
// (app.bucketLifecycle): object reads and writes consult it for x-amz-expiration, and the
// lifecycle passes (src/lifecycle/) apply it.

import { S3Error } from '../errors.js';
import type { Handler } from '../handler.js';
import { bucketOf } from '../handler.js';
import { STORAGE_CLASSES } from '../object/headers.js';
import { LIFECYCLE_ROOT, LIFECYCLE_XML_LIMITS, parseLifecycle, parseMinimumObjectSize, renderLifecycle } from './config/lifecycle.js';

const MINIMUM_SIZE_HEADER = 'x-amz-transition-default-minimum-object-size';

/** The storage classes a transition may name: S3's, and those the operator's tiers name. */
export function lifecycleStorageClass(name: string, tierClasses?: ReadonlySet<string>): boolean {
  return STORAGE_CLASSES.has(name) || tierClasses?.has(name) === true;
}

export const putBucketLifecycle: Handler = async (ctx) => {
  if (ctx.contentLength === 0) throw new S3Error('MissingRequestBodyError', 'Request Body is empty');
  const header = ctx.headers[MINIMUM_SIZE_HEADER];
  const minimum = parseMinimumObjectSize(typeof header === 'string' ? header : undefined);
  const config = parseLifecycle(await ctx.readXml(LIFECYCLE_ROOT, LIFECYCLE_XML_LIMITS), (c) => lifecycleStorageClass(c, ctx.app.tiers.classes), minimum);
  const bucket = bucketOf(ctx);
  config.since = ctx.now;
  await ctx.app.bucketLifecycle.put(bucket, config);
  // A first pass soon (once the configuration has settled), rather than at the next scheduled one.
  await ctx.app.lifecycle.schedule(bucket.id, config);
  return { headers: { [MINIMUM_SIZE_HEADER]: config.minimumObjectSize } };
};

export const getBucketLifecycle: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const config = await ctx.app.bucketLifecycle.get(bucket);
  if (!config) throw new S3Error('NoSuchLifecycleConfiguration', undefined, { BucketName: bucket.name });
  return { headers: { [MINIMUM_SIZE_HEADER]: config.minimumObjectSize }, xml: renderLifecycle(config) };
};

export const deleteBucketLifecycle: Handler = async (ctx) => {
  await ctx.app.bucketLifecycle.put(bucketOf(ctx), undefined);
  return { status: 204 };
};
