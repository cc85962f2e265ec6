// DeleteObject: DELETE /<bucket>/<key>  [versionId, x-amz-bypass-governance-retention,
// If-Match, x-amz-if-match-last-modified-time, x-amz-if-match-size]
// The conditions are decided by the store inside the delete's transaction (rules.ts
// checkDeleteConditions): 412 when one does not hold.

import { replicationForDelete } from '../../replication/writes.js';
import type { Handler } from '../handler.js';
import { bucketOf } from '../handler.js';
import { parseDeleteConditions } from './headers.js';
import { versionParam } from './GetObject.js';
import { bypassGovernance } from './lock.js';
import { combineWork, notified, notifyWork, removalEvent } from '../bucket/notification.js';

export const deleteObject: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const versionId = versionParam(ctx);
  const conditions = parseDeleteConditions(ctx.headers);
  const events = await notifyWork(ctx, removalEvent(bucket, versionId), ctx.key);
  const replication = await replicationForDelete(ctx, bucket, ctx.key, versionId);
  const work = combineWork(events, replication.work);
  const r = await ctx.app.meta.deleteObject(bucket.id, ctx.key, {
    ...(versionId !== undefined ? { versionId } : {}),
    bypassGovernance: bypassGovernance(ctx),
    now: Date.now(),
    ...(conditions ? { conditions } : {}),
    ...replication,
    ...(work ? { work } : {}),
  });
  notified(ctx, events);
  const headers: Record<string, string> = {};
  if (r.versionId !== undefined && (versionId !== undefined || bucket.versioning !== 'Unversioned')) headers['x-amz-version-id'] = r.versionId;
  if (r.deleteMarker) headers['x-amz-delete-marker'] = 'true';
  return { status: 204, headers };
};
