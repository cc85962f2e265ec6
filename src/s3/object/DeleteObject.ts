// DeleteObject: DELETE /<bucket>/<key>  [versionId, x-amz-bypass-governance-retention, If-Match]

import { replicationForDelete } from '../../replication/writes.js';
import type { Handler } from '../handler.js';
import { bucketOf } from '../handler.js';
import { unquoteEtag } from './headers.js';
import { versionParam } from './GetObject.js';
import { bypassGovernance } from './lock.js';
import { combineWork, notified, notifyWork, removalEvent } from '../bucket/notification.js';

export const deleteObject: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const versionId = versionParam(ctx);
  const ifMatch = ctx.headers['if-match'];
  const events = await notifyWork(ctx, removalEvent(bucket, versionId), ctx.key);
  const replication = await replicationForDelete(ctx, bucket, ctx.key, versionId);
  const work = combineWork(events, replication.work);
  const r = await ctx.app.meta.deleteObject(bucket.id, ctx.key, {
    ...(versionId !== undefined ? { versionId } : {}),
    bypassGovernance: bypassGovernance(ctx),
    now: Date.now(),
    ...(ifMatch !== undefined ? { conditions: { ifMatch: ifMatch.trim() === '*' ? '*' : unquoteEtag(ifMatch) } } : {}),
    ...replication,
    ...(work ? { work } : {}),
  });
  notified(ctx, events);
  const headers: Record<string, string> = {};
  if (r.versionId !== undefined && (versionId !== undefined || bucket.versioning !== 'Unversioned')) headers['x-amz-version-id'] = r.versionId;
  if (r.deleteMarker) headers['x-amz-delete-marker'] = 'true';
  return { status: 204, headers };
};
