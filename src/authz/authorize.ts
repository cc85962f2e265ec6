// Authorisation: may this identity perform this operation on this resource?
//
// Today: every request must be signed by a known key (anonymous requests get nothing, as no
// bucket policy or ACL can grant them anything yet), and bucket and object operations are
// allowed to the bucket's owner only. Bucket policies, IAM policies, ACLs and the public access
// block plug in here.

import { S3Error } from '../s3/errors.js';
import type { S3Context } from '../s3/handler.js';

export function authorize(ctx: S3Context): void {
  const who = ctx.identity;
  if (!who) throw new S3Error('AccessDenied');
  if (ctx.op.resource === 'service' || ctx.op.name === 'CreateBucket') return;
  const bucket = ctx.bucket;
  if (bucket && bucket.owner !== who.userId) throw new S3Error('AccessDenied');
}
