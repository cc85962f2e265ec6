// Buckets as an operator sees them: owner, usage, quota, versioning and object lock status, and
// which configurations are set; and their quotas.

import { deserializeReplication } from '../../replication/config.js';
import { resync } from '../../replication/service.js';
import type { Bucket } from '../../store/meta/types.js';
import { AdminError } from '../errors.js';
import type { AdminCall } from '../route.js';
import * as svc from '../service.js';

/** Every bucket (or an account's: ?account=<12 digits>), by name; ?prefix, ?after and ?limit page. */
export async function listBuckets(c: AdminCall) {
  let owner: string | undefined;
  const account = c.query.get('account');
  if (account !== null) owner = (await svc.findAccount(c.app.meta, account)).id;
  const limitArg = c.query.get('limit');
  const limit = limitArg === null ? 1000 : Number(limitArg);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw AdminError.of('BadRequest', 'limit is a whole number from 1 to 1000');
  const prefix = c.query.get('prefix');
  const after = c.query.get('after');
  const rows = await c.app.meta.listBuckets(owner, { limit: limit + 1, ...(prefix !== null ? { prefix } : {}), ...(after !== null ? { after } : {}) });
  const truncated = rows.length > limit;
  const page = truncated ? rows.slice(0, limit) : rows;
  const buckets = [];
  for (const b of page) buckets.push(await svc.describeBucket(c.app.meta, b, false));
  return { buckets, isTruncated: truncated, ...(truncated ? { next: page[page.length - 1]!.name } : {}) };
}

async function findBucket(c: AdminCall): Promise<Bucket> {
  const b = await c.app.meta.getBucket(c.params.bucket!);
  if (!b) throw AdminError.of('NoSuchBucket', `no bucket ${c.params.bucket}`);
  return b;
}

export async function getBucket(c: AdminCall) {
  return svc.describeBucket(c.app.meta, await findBucket(c), true);
}

export async function setBucketQuota(c: AdminCall) {
  return svc.setQuota(c.app.meta, await svc.bucketQuotaTarget(c.app.meta, c.params.bucket!), c.body);
}

export async function clearBucketQuota(c: AdminCall) {
  return svc.clearQuota(c.app.meta, await svc.bucketQuotaTarget(c.app.meta, c.params.bucket!));
}

/** Queues every existing version the bucket's replication rules match (versions the destination has are skipped). */
export async function resyncReplication(c: AdminCall) {
  const b = await findBucket(c);
  const stored = await c.app.meta.getBucketConfig(b.id, 'replication');
  if (!stored) throw AdminError.of('Conflict', `bucket ${b.name} has no replication configuration`);
  return { queued: await resync(c.app.meta, b, deserializeReplication(stored)) };
}
