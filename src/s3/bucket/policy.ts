// Put/Get/DeleteBucketPolicy and GetBucketPolicyStatus: PUT|GET|DELETE /<bucket>?policy,
// GET /<bucket>?policyStatus. The document is JSON (the IAM policy language, authz/policy),
// validated against the bucket before it is stored; S3 answers MalformedPolicy with the reason.

import { PolicyError, isPublicPolicy, parsePolicy, POLICY_SIZE_LIMITS } from '../../authz/policy/index.js';
import { S3Error } from '../errors.js';
import type { Handler } from '../handler.js';
import { bucketOf } from '../handler.js';
import { isPublicAcl } from './config/publicAccessBlock.js';

/** S3 bucket policies are limited to 20 KB. */
const MAX_POLICY_BYTES = POLICY_SIZE_LIMITS.resource;

export const putBucketPolicy: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const body = await ctx.readBody(MAX_POLICY_BYTES + 1);
  if (body.length === 0) throw new S3Error('MissingRequestBodyError', 'Request Body is empty');
  if (body.length > MAX_POLICY_BYTES) throw new S3Error('MalformedPolicy', 'Policies must be less than 20 KB');
  const json = new TextDecoder('utf-8', { fatal: false }).decode(body);
  let policy;
  try {
    policy = parsePolicy(json, 'resource', { bucket: bucket.name });
  } catch (e) {
    if (e instanceof PolicyError) throw new S3Error('MalformedPolicy', e.message);
    throw e;
  }
  // Block Public Access: BlockPublicPolicy refuses a policy that grants public access.
  if (isPublicPolicy(policy) && (await ctx.app.bucketAccess.get(bucket)).block.blockPublicPolicy) throw new S3Error('AccessDenied');
  await ctx.app.bucketPolicies.put(bucket, json);
  // 204 as Amazon S3 and MinIO answer (the MinIO clients expect exactly that).
  return { status: 204 };
};

export const getBucketPolicy: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const json = await ctx.app.meta.getBucketConfig(bucket.id, 'policy');
  if (json === undefined) throw new S3Error('NoSuchBucketPolicy', undefined, { BucketName: bucket.name });
  return { headers: { 'Content-Type': 'application/json' }, body: json };
};

export const deleteBucketPolicy: Handler = async (ctx) => {
  await ctx.app.bucketPolicies.put(bucketOf(ctx), undefined);
  return { status: 204 };
};

/**
 * Whether the bucket is public ("The meaning of public"): its policy is public, or its ACL grants
 * AllUsers or AuthenticatedUsers (while ACLs count: not under BucketOwnerEnforced nor
 * IgnorePublicAcls). AWS answers a bucket without a policy NoSuchBucketPolicy (its CloudTrail
 * records show it); Ceph RGW answers IsPublic, from the ACL too (s3-tests
 * test_get_bucket_policy_status and the *_acl_bucket_policy_status cases assert it). We answer
 * as RGW: a client written for AWS handles that error as "no public policy", which an IsPublic
 * of false also says, while a client written for RGW would fail on the error.
 */
export const getBucketPolicyStatus: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const [policy, access] = await Promise.all([ctx.app.bucketPolicies.get(bucket), ctx.app.bucketAccess.get(bucket)]);
  const publicAcl = access.aclsEnabled && !access.block.ignorePublicAcls && isPublicAcl(access.acl);
  return { xml: { root: 'PolicyStatus', body: { IsPublic: (policy !== undefined && isPublicPolicy(policy)) || publicAcl } } };
};
