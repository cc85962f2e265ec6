// Put/Get/DeleteBucketWebsite: PUT|GET|DELETE /<bucket>?website
// Validated here and kept parsed per bucket (app.bucketWebsite); the website endpoints
// (s3/website/serve.ts) serve the bucket by it.

import { S3Error } from '../errors.js';
import type { Handler } from '../handler.js';
import { bucketOf } from '../handler.js';
import { WEBSITE_ROOT, WEBSITE_XML_LIMITS, parseWebsite, renderWebsite } from './config/website.js';

export const putBucketWebsite: Handler = async (ctx) => {
  if (ctx.contentLength === 0) throw new S3Error('MissingRequestBodyError', 'Request Body is empty');
  const config = parseWebsite(await ctx.readXml(WEBSITE_ROOT, WEBSITE_XML_LIMITS));
  await ctx.app.bucketWebsite.put(bucketOf(ctx), config);
  return {};
};

export const getBucketWebsite: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const config = await ctx.app.bucketWebsite.get(bucket);
  if (!config) throw new S3Error('NoSuchWebsiteConfiguration', undefined, { BucketName: bucket.name });
  return { xml: renderWebsite(config) };
};

export const deleteBucketWebsite: Handler = async (ctx) => {
  await ctx.app.bucketWebsite.put(bucketOf(ctx), undefined);
  return { status: 204 };
};
