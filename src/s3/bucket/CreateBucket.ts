// CreateBucket: PUT /<bucket>  [CreateBucketConfiguration]

import { S3Error } from '../errors.js';
import type { Handler } from '../handler.js';
import { childText } from '../xml.js';
import { validateBucketName } from './naming.js';

const OWNERSHIP = new Set(['BucketOwnerEnforced', 'BucketOwnerPreferred', 'ObjectWriter']);
const CANNED_ACLS = new Set(['private', 'public-read', 'public-read-write', 'authenticated-read']);

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

  const acl = ctx.headers['x-amz-acl'];
  if (acl !== undefined && !CANNED_ACLS.has(String(acl))) throw new S3Error('InvalidArgument', undefined, { ArgumentName: 'x-amz-acl', ArgumentValue: String(acl) });
  if (acl !== undefined && acl !== 'private') throw new S3Error('NotImplemented', 'Canned ACLs other than private are not implemented by this server.');
  const ownership = ctx.headers['x-amz-object-ownership'];
  if (ownership !== undefined && !OWNERSHIP.has(String(ownership))) {
    throw new S3Error('InvalidArgument', 'Invalid x-amz-object-ownership header', { ArgumentName: 'x-amz-object-ownership', ArgumentValue: String(ownership) });
  }
  const lock = String(ctx.headers['x-amz-bucket-object-lock-enabled'] ?? '').toLowerCase() === 'true';

  let bucket;
  try {
    bucket = await ctx.app.meta.createBucket({
      name,
      owner: ctx.identity!.userId,
      createdAt: ctx.now,
      region,
      versioning: lock ? 'Enabled' : 'Unversioned',
      objectLock: lock,
    });
  } catch (e) {
    // Amazon S3 in us-east-1 answers 200 to an owner re-creating its bucket (legacy behaviour);
    // every other region answers 409 BucketAlreadyOwnedByYou.
    if (e instanceof S3Error && e.code === 'BucketAlreadyOwnedByYou' && region === 'us-east-1') return { headers: { Location: '/' + name } };
    throw e;
  }
  if (ownership !== undefined) await ctx.app.meta.putBucketConfig(bucket.id, 'ownership', String(ownership));
  return { headers: { Location: '/' + name } };
};
