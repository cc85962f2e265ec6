// RestoreObject's side of restores: marks the version "restore ongoing" and records the `restore`
// work item in one transaction, or moves the expiry of a copy already restored.

import type { App } from '../app.js';
import { S3Error } from '../s3/errors.js';
import type { ObjectVersion } from '../store/meta/types.js';
import { restoreExpiry } from './work.js';
import type { EventRequest } from '../notify/events.js';
import { NOTIFY_KIND } from '../notify/notifier.js';

export type RestoreOutcome = 'started' | 'in-progress' | 'extended';

/** `req`: the RestoreObject request, named by the s3:ObjectRestore:Post event recorded when a restore starts. */
export async function requestRestore(app: App, v: ObjectVersion, days: number, req?: EventRequest): Promise<RestoreOutcome> {
  let outcome: RestoreOutcome = 'in-progress';
  const payload = { bucketId: v.bucketId, key: v.key, versionId: v.versionId, rowId: v.rowId };
  const events = await app.notify.eventWork(v.bucketId, v.key, 's3:ObjectRestore:Post', { versionId: v.versionId, size: v.size, etag: v.etag }, undefined, req);
  const after = await app.meta.updateTier(v.bucketId, v.key, v.versionId, v.rowId, (cur) => {
    const t = cur.tier;
    if (!t) return undefined;
    if (t.restore?.ongoing) {
      outcome = 'in-progress';
      return undefined;
    }
    if (t.restore?.blob) {
      outcome = 'extended';
      const expiry = restoreExpiry(app, days);
      return { tier: { ...t, restore: { ...t.restore, days, expiry } }, work: [{ kind: 'restore.expire', payload, notBefore: expiry }] };
    }
    outcome = 'started';
    return { tier: { ...t, restore: { ongoing: true, days } }, work: [{ kind: 'restore', payload }, ...events] };
  });
  if (!after) throw new S3Error('NoSuchKey', undefined, { Key: v.key });
  if ((outcome as RestoreOutcome) === 'started' && events.length) app.engine.kick(NOTIFY_KIND);
  return outcome;
}
