// Put/Get/DeleteBucketTagging: PUT|GET|DELETE /<bucket>?tagging  (up to 50 tags)

import { S3Error } from '../errors.js';
import type { Handler } from '../handler.js';
import { bucketOf } from '../handler.js';
import { readTagging, tagSetXml, type TagSet } from '../object/tagging.js';

export const putBucketTagging: Handler = async (ctx) => {
  const tags = await readTagging(ctx, 50);
  await ctx.app.meta.putBucketConfig(bucketOf(ctx).id, 'tagging', JSON.stringify(tags));
  // AWS answers 204 here, but minio-js accepts only 200 (as Ceph RGW and MinIO answer); every
  // AWS SDK accepts any 2xx. Every configuration PUT answers 200.
  return {};
};

export const getBucketTagging: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const doc = await ctx.app.meta.getBucketConfig(bucket.id, 'tagging');
  if (doc === undefined) throw new S3Error('NoSuchTagSet', undefined, { BucketName: bucket.name });
  return { xml: { root: 'Tagging', body: tagSetXml(JSON.parse(doc) as TagSet) } };
};

export const deleteBucketTagging: Handler = async (ctx) => {
  await ctx.app.meta.putBucketConfig(bucketOf(ctx).id, 'tagging', undefined);
  return { status: 204 };
};
