// Put/Get/DeleteBucketCors: PUT|GET|DELETE /<bucket>?cors
// The rules are validated here and kept parsed per bucket (app.bucketCors); http/cors.ts applies
// them to preflight requests and to every response to a request with Origin.

import { S3Error } from '../errors.js';
import type { Handler } from '../handler.js';
import { bucketOf } from '../handler.js';
import { CORS_ROOT, CORS_XML_LIMITS, parseCors, renderCors } from './config/cors.js';

export const putBucketCors: Handler = async (ctx) => {
  if (ctx.contentLength === 0) throw new S3Error('MissingRequestBodyError', 'Request Body is empty');
  const rules = parseCors(await ctx.readXml(CORS_ROOT, CORS_XML_LIMITS));
  await ctx.app.bucketCors.put(bucketOf(ctx), rules);
  return {};
};

export const getBucketCors: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const rules = await ctx.app.bucketCors.get(bucket);
  if (!rules) throw new S3Error('NoSuchCORSConfiguration', undefined, { BucketName: bucket.name });
  return { xml: renderCors(rules) };
};

export const deleteBucketCors: Handler = async (ctx) => {
  await ctx.app.bucketCors.put(bucketOf(ctx), undefined);
  return { status: 204 };
};
