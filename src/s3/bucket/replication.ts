// Put/Get/DeleteBucketReplication: PUT|GET|DELETE /<bucket>?replication
// The configuration is validated here (src/replication/config.ts) and kept parsed per bucket
// (app.replication.configs); writes consult it to record replication work (src/replication/).

import { S3Error } from '../errors.js';
import type { Handler } from '../handler.js';
import { bucketOf } from '../handler.js';
import { REPLICATION_ROOT, REPLICATION_XML_LIMITS, parseReplication, renderReplication } from '../../replication/config.js';

export const putBucketReplication: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  if (ctx.contentLength === 0) throw new S3Error('MissingRequestBodyError', 'Request Body is empty');
  const config = parseReplication(await ctx.readXml(REPLICATION_ROOT, REPLICATION_XML_LIMITS));
  if (bucket.versioning !== 'Enabled') throw new S3Error('InvalidRequest', "Versioning must be 'Enabled' on the bucket to apply a replication configuration");
  // The destination must be somewhere this server can reach: a remote the operator registered.
  for (const r of config.rules) {
    if (!(await ctx.app.replication.remotes.forBucket(r.destination.bucket))) {
      throw new S3Error('InvalidRequest', `Destination bucket must exist: no remote is registered for bucket ${r.destination.bucket} (trove admin remote add).`);
    }
  }
  await ctx.app.replication.configs.put(bucket, config);
  return {};
};

export const getBucketReplication: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const config = await ctx.app.replication.configs.get(bucket);
  if (!config) throw new S3Error('ReplicationConfigurationNotFoundError', undefined, { BucketName: bucket.name });
  return { xml: renderReplication(config) };
};

export const deleteBucketReplication: Handler = async (ctx) => {
  await ctx.app.replication.configs.put(bucketOf(ctx), undefined);
  return { status: 204 };
};
