// GetObjectAcl / PutObjectAcl: GET|PUT /<bucket>/<key>?acl[&versionId=V]
// Each version has its own ACL, kept in its record; the ACL's owner is the version's owner.
// PutObjectAcl takes a canned x-amz-acl, x-amz-grant-* headers or an AccessControlPolicy
// document and leaves the object (its data, metadata and Last-Modified) untouched. Under
// BucketOwnerEnforced ACLs are disabled: setting one is AccessControlListNotSupported and the ACL
// read back is the bucket owner's full control. A public ACL is refused under BlockPublicAcls.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectAcl.html

import { notified, notifyWork } from '../bucket/notification.js';
import { objectAcl, privateAcl, storedAcl } from '../../authz/bucketAccess.js';
import { aclResponse, checkAclChange, requestedAcl } from '../acl.js';
import { S3Error } from '../errors.js';
import type { Handler, S3Context } from '../handler.js';
import { bucketOf } from '../handler.js';
import { loadVersion } from './GetObject.js';

/** x-amz-version-id: shown for versioned buckets and for an explicitly addressed version. */
function versionHeader(ctx: S3Context, versionId: string): string | undefined {
  return bucketOf(ctx).versioning !== 'Unversioned' || ctx.query.has('versionId') ? versionId : undefined;
}

export const getObjectAcl: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const v = await loadVersion(ctx);
  const settings = await ctx.app.bucketAccess.get(bucket);
  const acl = settings.aclsEnabled ? objectAcl(v) : privateAcl(bucket.owner);
  return { headers: { 'x-amz-version-id': versionHeader(ctx, v.versionId) }, xml: await aclResponse(ctx.app, acl) };
};

export const putObjectAcl: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const settings = await ctx.app.bucketAccess.get(bucket);
  checkAclChange(settings);
  const v = await loadVersion(ctx);
  const acl = await requestedAcl(ctx, { owner: { id: v.owner }, bucketOwner: { id: bucket.owner }, forBucket: false });
  checkAclChange(settings, acl);
  // The version read above, whatever was written since: the ACL was made for its owner.
  const work = await notifyWork(ctx, 's3:ObjectAcl:Put', ctx.key, { size: v.size, etag: v.etag, versionId: v.versionId });
  await ctx.app.meta.updateObject(
    bucket.id,
    ctx.key,
    v.versionId,
    { acl: storedAcl(acl, v.owner) },
    (current) => {
      if (current.owner !== v.owner) throw new S3Error('OperationAborted');
    },
    work && { work },
  );
  notified(ctx, work);
  return { headers: { 'x-amz-version-id': versionHeader(ctx, v.versionId) } };
};
