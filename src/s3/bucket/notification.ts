// Put/GetBucketNotificationConfiguration: PUT|GET /<bucket>?notification
// Validated here (notify/config.ts); every destination must be a target the operator registered
// (trove admin target add), else InvalidArgument "Unable to validate the following destination
// configurations", as S3 answers for a destination it cannot publish to — unless the request says
// x-amz-skip-destination-validation: true. Each destination then gets an s3:TestEvent.

import { HOST_ID } from '../../http/request.js';
import { S3Error } from '../errors.js';
import type { Handler, S3Context } from '../handler.js';
import { bucketOf } from '../handler.js';
import { NOTIFICATION_ROOT, NOTIFICATION_XML_LIMITS, parseNotification, renderNotification } from '../../notify/config.js';
import type { EmittedEvent, EventRequest } from '../../notify/events.js';
import { NOTIFY_KIND, type ObjectFacts } from '../../notify/notifier.js';
import type { Bucket, WorkSpec, WriteEffect } from '../../store/meta/types.js';

export const putBucketNotificationConfiguration: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  // An empty configuration (or body) turns notifications off.
  const config = parseNotification(await ctx.readXml(NOTIFICATION_ROOT, { ...NOTIFICATION_XML_LIMITS, optional: true }));
  const skip = String(ctx.headers['x-amz-skip-destination-validation'] ?? '').toLowerCase() === 'true';
  const targets = await ctx.app.notify.targets(true);
  if (!skip) {
    const unknown = [...new Set(config.rules.map((r) => r.arn).filter((arn) => !targets.has(arn)))];
    if (unknown.length) {
      const details: Record<string, string> = {};
      unknown.forEach((arn, i) => {
        details[`ArgumentName${i + 1}`] = arn;
        details[`ArgumentValue${i + 1}`] = 'The destination does not exist (targets are registered with trove admin target add)';
      });
      throw new S3Error('InvalidArgument', 'Unable to validate the following destination configurations', details);
    }
  }
  await ctx.app.bucketNotification.put(bucket, config.rules.length ? config : undefined);
  await ctx.app.notify.sendTestEvents(bucket, config.rules.map((r) => r.arn).filter((arn) => targets.has(arn)), ctx.requestId, HOST_ID);
  return {};
};

export const getBucketNotificationConfiguration: Handler = async (ctx) => {
  return { xml: renderNotification(await ctx.app.bucketNotification.get(bucketOf(ctx))) };
};

/**
 * The event of a DELETE: of a version (versionId given) or in an unversioned bucket the object is
 * removed; otherwise a delete marker is created.
 */
export function removalEvent(bucket: Bucket, versionId: string | undefined): EmittedEvent {
  return versionId !== undefined || bucket.versioning === 'Unversioned' ? 's3:ObjectRemoved:Delete' : 's3:ObjectRemoved:DeleteMarkerCreated';
}

/** Who caused an event, as its record says (userIdentity, requestParameters, responseElements). */
export function eventRequest(ctx: S3Context): EventRequest {
  const id = ctx.identity;
  let principalId = 'anonymous';
  if (id?.session?.role) principalId = `AWS:${id.session.role.id}:${id.session.role.sessionName}`;
  else if (id?.user) principalId = `AWS:${id.user.id}`;
  else if (id) principalId = id.accountId;
  return { principalId, sourceIp: ctx.transport.sourceIp ?? '', requestId: ctx.requestId, hostId: HOST_ID };
}

/**
 * The notification work of an object write this request makes: pass it as the write's `work`
 * (committed with the write). `facts` may be a function read inside the write's transaction.
 */
/** Both kinds of follow-up work of one write (notification and replication), in one spec. */
export function combineWork(a: WorkSpec | undefined, b: WorkSpec | undefined): WorkSpec | undefined {
  if (!a) return b;
  if (!b) return a;
  const run = (w: WorkSpec, effect: WriteEffect) => (typeof w === 'function' ? w(effect) : w);
  return (effect) => [...run(a, effect), ...run(b, effect)];
}

/** Wakes delivery once a write that recorded notification work has committed. */
export function notified(ctx: S3Context, work: WorkSpec | undefined): void {
  if (work) ctx.app.engine.kick(NOTIFY_KIND);
}

export function notifyWork(ctx: S3Context, event: EmittedEvent, key: string, facts?: ObjectFacts | (() => ObjectFacts | undefined)): Promise<WorkSpec | undefined> {
  return ctx.app.notify.work(bucketOf(ctx), key, event, eventRequest(ctx), facts);
}
