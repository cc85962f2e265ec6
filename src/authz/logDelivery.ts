// May server access logs be delivered to a target bucket? Decided as AWS decides it, through the
// same evaluation as every request (authorize.ts mayAccess): the caller is the logging service
// principal `logging.s3.amazonaws.com` asking s3:PutObject on the log object, with the source
// bucket in aws:SourceArn and its owner's account in aws:SourceAccount, so the target bucket's
// policy can allow it ("Permissions for log delivery", S3 User Guide), or the legacy way, a
// bucket ACL grant of WRITE to the LogDelivery group (bucketGrants.ts maps this principal to it).
//
// Two resources are tried: the log object's key, as AWS checks, and the bare TargetPrefix — the
// resource Ceph RGW checks and its test suite's policies name (`arn:aws:s3:::logs/log/`, no
// wildcard). A policy that names neither gets nothing; an explicit Deny on the key alone does not
// stop a grant on the bare prefix (README, Server access logs).
//
// PutBucketLogging asks the same question with a sample key before it accepts a configuration
// (AccessDenied otherwise, as the Ceph suite expects of S3), and each delivery asks again: a
// policy changed since is obeyed.

import type { App } from '../app.js';
import type { Bucket } from '../store/meta/types.js';
import { mayAccess, type AuthzRequest } from './authorize.js';
import { requestKeys } from './keys.js';
import type { RequestPrincipal } from './policy/index.js';

export const LOGGING_SERVICE = 'logging.s3.amazonaws.com';

const PRINCIPAL: RequestPrincipal = { kind: 'service', service: LOGGING_SERVICE };

export async function mayDeliverLogs(app: App, source: Pick<Bucket, 'name' | 'owner'>, target: Bucket, prefix: string, key: string): Promise<boolean> {
  const keys = requestKeys({ principal: PRINCIPAL, method: 'anonymous', headers: {}, query: new Map(), sourceIp: undefined, secureTransport: false, now: Date.now() });
  // aws:SourceAccount is the source bucket owner's 12-digit account id; its canonical id is a
  // second value, so that policies written for Ceph RGW (which names the user id) match too.
  const account = await app.accountIdOf(source.owner);
  keys.set('aws:sourceaccount', account === undefined ? [source.owner] : [account, source.owner]);
  keys.set('aws:sourcearn', [`arn:aws:s3:::${source.name}`]);
  const req: AuthzRequest = { principal: PRINCIPAL, keys, buckets: new Map([[target.name, target]]) };
  if (await mayAccess(app, req, { action: 's3:PutObject', bucket: target.name, key })) return true;
  return key !== prefix && mayAccess(app, req, { action: 's3:PutObject', bucket: target.name, key: prefix });
}
