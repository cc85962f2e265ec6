// Put/Get/DeletePublicAccessBlock: PUT|GET|DELETE /<bucket>?publicAccessBlock
// The bucket's Block Public Access settings (bucket configuration 'public-access-block'); what
// each does is enforced where it applies: BlockPublicAcls where ACLs are set, IgnorePublicAcls
// and RestrictPublicBuckets in authorisation (authz/bucketGrants.ts), BlockPublicPolicy in
// PutBucketPolicy. Only the bucket level exists: there is no account-level configuration (S3
// Control's PutPublicAccessBlock).
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutPublicAccessBlock.html

import { S3Error } from '../errors.js';
import type { Handler } from '../handler.js';
import { bucketOf } from '../handler.js';
import { PUBLIC_ACCESS_BLOCK_ROOT, PUBLIC_ACCESS_BLOCK_XML_LIMITS, parsePublicAccessBlock, renderPublicAccessBlock } from './config/publicAccessBlock.js';

export const putPublicAccessBlock: Handler = async (ctx) => {
  const block = parsePublicAccessBlock(await ctx.readXml(PUBLIC_ACCESS_BLOCK_ROOT, PUBLIC_ACCESS_BLOCK_XML_LIMITS));
  await ctx.app.bucketAccess.putPublicAccessBlock(bucketOf(ctx), block);
  return {};
};

export const getPublicAccessBlock: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const { publicAccessBlock } = await ctx.app.bucketAccess.get(bucket);
  if (!publicAccessBlock) throw new S3Error('NoSuchPublicAccessBlockConfiguration', undefined, { BucketName: bucket.name });
  return { xml: renderPublicAccessBlock(publicAccessBlock) };
};

export const deletePublicAccessBlock: Handler = async (ctx) => {
  await ctx.app.bucketAccess.putPublicAccessBlock(bucketOf(ctx), undefined);
  return { status: 204 };
};
