// CreateBucket: PUT /<bucket>  [CreateBucketConfiguration]
//   x-amz-acl or x-amz-grant-* (the bucket's ACL), x-amz-object-ownership,
//   x-amz-bucket-object-lock-enabled.
// A new bucket starts with the settings --bucket-defaults names: 'compatible' stores none
// (ObjectWriter, ACLs honoured, nothing blocked); 'aws' stores what S3 gives a bucket since
// April 2023: BucketOwnerEnforced unless the request names another ownership, and every Block
// Public Access setting on. As on S3 then, a bucket ACL that grants anyone but the owner is
// refused under BucketOwnerEnforced (InvalidBucketAclWithObjectOwnership), and a public one
// under BlockPublicAcls (InvalidBucketAclWithBlockPublicAccessError: create the bucket, then
// lift the block and set the ACL).

import { POLICY_HEADER, PolicyError } from '../../storage/policies.js';
import { aclFromHeaders, type Acl } from '../../authz/acl/index.js';
import { privateAcl } from '../../authz/bucketAccess.js';
import { StoreError } from '../../store/errors.js';
import type { Bucket } from '../../store/meta/types.js';
import { checkAclChange, grantsOnlyTo, headerAcl } from '../acl.js';
import { SSE_C_BLOCKED } from './encryption.js';
import { S3Error } from '../errors.js';
import type { Handler, S3Context } from '../handler.js';
import { childText } from '../xml.js';
import { DEFAULT_OBJECT_OWNERSHIP, parseObjectOwnershipHeader, type ObjectOwnership } from './config/ownership.js';
import { ALL_PUBLIC_ACCESS_BLOCKED, isPublicAcl, type PublicAccessBlock } from './config/publicAccessBlock.js';
import { validateBucketName } from './naming.js';

function header(ctx: S3Context, name: string): string | undefined {
  const v = ctx.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

export const createBucket: Handler = async (ctx) => {
  const name = ctx.bucketName;
  validateBucketName(name);
  const region = ctx.app.config.region;

  {
    const conf = await ctx.readXml('CreateBucketConfiguration', { maxBytes: 64 * 1024, optional: true });
    const location = childText(conf, 'LocationConstraint');
    if (location !== undefined && location !== '' && location !== region) {
      throw new S3Error(
        'IllegalLocationConstraintException',
        `The ${location} location constraint is incompatible for the region specific endpoint this request was sent to.`,
      );
    }
    if (location === 'us-east-1' && region === 'us-east-1') throw new S3Error('InvalidLocationConstraint', undefined, { LocationConstraint: location });
  }

  const owner = ctx.identity!.userId;
  const aws = ctx.app.config.bucketDefaults === 'aws';
  const ownership: ObjectOwnership | undefined = parseObjectOwnershipHeader(header(ctx, 'x-amz-object-ownership')) ?? (aws ? DEFAULT_OBJECT_OWNERSHIP : undefined);
  const block: PublicAccessBlock | undefined = aws ? ALL_PUBLIC_ACCESS_BLOCKED : undefined;
  const requested = aclFromHeaders(ctx.headers);
  const acl = requested && (await headerAcl(ctx.app, requested, { owner: { id: owner }, bucketOwner: { id: owner }, forBucket: true }));
  if (acl) {
    if (ownership === 'BucketOwnerEnforced' && !grantsOnlyTo(acl, owner)) throw new S3Error('InvalidBucketAclWithObjectOwnership');
    if (block?.blockPublicAcls && isPublicAcl(acl)) throw new S3Error('InvalidBucketAclWithBlockPublicAccessError');
    // The account's BlockPublicAcls refuses a public ACL on CreateBucket too ("PUT Bucket calls
    // fail if the request includes a public ACL").
    if (isPublicAcl(acl) && (await ctx.app.accountPublicAccessBlocks.get(ctx.identity!.accountId))?.blockPublicAcls) throw new S3Error('AccessDenied');
  }
  const lock = String(ctx.headers['x-amz-bucket-object-lock-enabled'] ?? '').toLowerCase() === 'true';
  // The storage policy (a Trove extension): asked for, or the default; fixed for the bucket's life.
  let policy;
  try {
    policy = await ctx.app.storagePolicies.forNewBucket(header(ctx, POLICY_HEADER));
  } catch (e) {
    if (e instanceof PolicyError) throw new S3Error('InvalidArgument', e.message, { ArgumentName: POLICY_HEADER, ArgumentValue: header(ctx, POLICY_HEADER) ?? '' });
    throw e;
  }

  let bucket;
  try {
    bucket = await ctx.app.meta.createBucket({
      name,
      owner,
      createdAt: ctx.now,
      region,
      versioning: lock ? 'Enabled' : 'Unversioned',
      objectLock: lock,
    });
  } catch (e) {
    // Amazon S3 in us-east-1 answers 200 to an owner re-creating its bucket and "resets the
    // bucket access control lists"; every other region answers 409 BucketAlreadyOwnedByYou.
    if (e instanceof StoreError && e.code === 'BucketAlreadyOwnedByYou' && region === 'us-east-1') {
      await resetAcl(ctx, name, acl ?? privateAcl(owner));
      return { headers: { Location: '/' + name } };
    }
    throw e;
  }
  if (policy) await ctx.app.storagePolicies.buckets.put(bucket, policy.name);
  // Restrictions before grants.
  if (block) await ctx.app.bucketAccess.putPublicAccessBlock(bucket, block);
  if (ownership !== undefined) await ctx.app.bucketAccess.putOwnership(bucket, ownership);
  if (acl) await ctx.app.bucketAccess.putAcl(bucket, acl);
  // S3 since April 2026: new buckets refuse writes with customer keys (SSE-C) until unblocked.
  if (aws) await ctx.app.bucketEncryption.put(bucket, SSE_C_BLOCKED);
  return { headers: { Location: '/' + name } };
};

/** The re-created bucket's ACL, as its settings allow (a bucket without ACLs keeps none). */
async function resetAcl(ctx: S3Context, name: string, acl: Acl): Promise<void> {
  const bucket: Bucket | undefined = await ctx.app.meta.getBucket(name);
  if (!bucket) return;
  const settings = await ctx.app.bucketAccess.get(bucket);
  if (!settings.aclsEnabled) {
    if (!grantsOnlyTo(acl, bucket.owner)) throw new S3Error('InvalidBucketAclWithObjectOwnership');
    return;
  }
  checkAclChange(settings, acl);
  await ctx.app.bucketAccess.putAcl(bucket, acl);
}
