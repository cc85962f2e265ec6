// DeleteObjects: POST /<bucket>?delete   <Delete><Quiet/><Object><Key/><VersionId/><ETag/><LastModifiedTime/><Size/></Object>…</Delete>
// Up to 1000 keys; each is deleted in its own transaction (they share fsyncs through group
// commit); per-key failures are reported in the result, not as a request error.

import { combineWork, notified, notifyWork, removalEvent } from '../bucket/notification.js';
import { replicationForDelete } from '../../replication/writes.js';
import { createHash } from 'node:crypto';
import { CHECKSUM_ALGORITHMS, checksumHeader, createChecksum } from '../../auth/checksums.js';
import { isMintedId } from '../../store/ids.js';
import { MAX_KEY_BYTES } from '../../http/request.js';
import { S3Error } from '../errors.js';
import { asS3Error } from '../store-errors.js';
import type { Handler, S3Context } from '../handler.js';
import { bucketOf } from '../handler.js';
import { childText, children, type XmlLimits, type XmlNode } from '../xml.js';
import { parseContentMd5, parseMatchSize, parseMatchTime, unquoteEtag } from './headers.js';
import type { DeleteConditions } from '../../store/meta/types.js';
import { BYPASS_GOVERNANCE, versionedAction } from '../../authz/requests.js';

const MAX_KEYS = 1000;
const CONCURRENCY = 64;

/**
 * 1000 <Object>s, each with a key of up to 1024 bytes (written with character references at
 * worst ~5 bytes a byte), a version id and a few conditions.
 */
const LIMITS: XmlLimits = { maxBytes: 8 * 1024 * 1024, maxElements: 2 + MAX_KEYS * 8, repeated: { name: 'Object', max: MAX_KEYS } };

/**
 * DeleteObjects must carry Content-MD5 or a flexible checksum of its body, which must match.
 * Returns the hash to feed with the body as it streams, and the check to run at its end.
 */
function bodyDigest(ctx: S3Context): { update(chunk: Buffer): void; verify(): void } {
  const md5 = parseContentMd5(ctx.headers);
  if (md5) {
    const h = createHash('md5');
    return {
      update: (c) => h.update(c),
      verify: () => {
        if (!h.digest().equals(md5)) throw new S3Error('BadDigest');
      },
    };
  }
  for (const alg of CHECKSUM_ALGORITHMS) {
    const expected = ctx.headers[checksumHeader(alg)];
    if (expected === undefined) continue;
    const h = createChecksum(alg);
    return {
      update: (c) => h.update(c),
      verify: () => {
        if (h.digest().toString('base64') !== expected) throw new S3Error('BadDigest', `The ${alg} you specified did not match the calculated checksum.`);
      },
    };
  }
  if (ctx.auth.payload.kind === 'chunked' && ctx.auth.payload.trailerNames.some((n) => n.startsWith('x-amz-checksum-'))) return { update: () => undefined, verify: () => undefined };
  throw new S3Error('InvalidRequest', 'Missing required header for this request: Content-MD5');
}

/** A key as S3 stores it: 1..1024 bytes of UTF-8 (the parser already refused what XML forbids). */
function checkKey(key: string): void {
  if (key === '') throw new S3Error('InvalidArgument', 'An object key must not be empty.');
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw new S3Error('KeyTooLongError');
}

interface Target {
  key: string;
  versionId: string | undefined;
  /** ETag, LastModifiedTime, Size: a conditional delete of this key (see DeleteObject). */
  conditions: DeleteConditions | undefined;
}

export const deleteObjects: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const digest = bodyDigest(ctx);
  const doc = await ctx.readXml('Delete', LIMITS, digest.update);
  digest.verify();
  const quiet = (childText(doc, 'Quiet') ?? 'false').trim().toLowerCase() === 'true';
  const objects = children(doc, 'Object');
  if (objects.length === 0 || objects.length > MAX_KEYS) throw new S3Error('MalformedXML');
  const targets: Target[] = objects.map((o) => {
    const key = childText(o, 'Key');
    if (key === undefined) throw new S3Error('MalformedXML');
    const etag = childText(o, 'ETag');
    const time = childText(o, 'LastModifiedTime');
    const size = childText(o, 'Size');
    let conditions: DeleteConditions | undefined;
    if (etag !== undefined || time !== undefined || size !== undefined) {
      conditions = {};
      if (etag !== undefined) conditions.ifMatch = etag.trim() === '*' ? '*' : unquoteEtag(etag);
      if (time !== undefined) conditions.ifMatchLastModified = parseMatchTime(time, 'LastModifiedTime');
      if (size !== undefined) conditions.ifMatchSize = parseMatchSize(size, 'Size');
    }
    return { key, versionId: childText(o, 'VersionId'), conditions };
  });
  const askedBypass = String(ctx.headers['x-amz-bypass-governance-retention'] ?? '').toLowerCase() === 'true';

  const results: XmlNode[] = new Array(targets.length);
  const done: { key: string; versionId?: string | undefined }[] = new Array(targets.length);
  const deleteOne = async (t: Target, i: number): Promise<void> => {
    try {
      checkKey(t.key);
      // Each key is authorised as the DeleteObject(Version) it is.
      if (!(await ctx.mayAccess(versionedAction('s3:DeleteObject', t.versionId), t.key))) throw new S3Error('AccessDenied');
      if (t.versionId !== undefined && t.versionId !== 'null' && !isMintedId(t.versionId)) throw new S3Error('NoSuchVersion');
      const events = await notifyWork(ctx, removalEvent(bucket, t.versionId), t.key);
      const replication = await replicationForDelete(ctx, bucket, t.key, t.versionId);
      const work = combineWork(events, replication.work);
      const r = await ctx.app.meta.deleteObject(bucket.id, t.key, {
        ...(t.versionId !== undefined ? { versionId: t.versionId } : {}),
        bypassGovernance: askedBypass && (await ctx.mayAccess(BYPASS_GOVERNANCE, t.key)),
        now: Date.now(),
        ...(t.conditions ? { conditions: t.conditions } : {}),
        ...replication,
        ...(work ? { work } : {}),
      });
      notified(ctx, events);
      done[i] = { key: t.key, versionId: r.deleteMarker ? r.versionId : t.versionId };
      if (quiet) return;
      const node: XmlNode = { Key: t.key };
      if (t.versionId !== undefined) node.VersionId = t.versionId;
      if (r.deleteMarker) {
        node.DeleteMarker = true;
        node.DeleteMarkerVersionId = r.versionId;
      }
      results[i] = { Deleted: node };
    } catch (e) {
      const err = asS3Error(e);
      if (!err) throw e;
      const node: XmlNode = { Key: t.key };
      if (t.versionId !== undefined) node.VersionId = t.versionId;
      node.Code = err.code;
      node.Message = err.message;
      results[i] = { Error: node };
    }
  };
  let next = 0;
  const worker = async () => {
    while (next < targets.length) {
      const i = next++;
      await deleteOne(targets[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, targets.length) }, worker));
  ctx.batchDeleted = done.filter((d) => d !== undefined);

  const deleted = results.filter((r) => r && 'Deleted' in r).map((r) => r.Deleted);
  const errors = results.filter((r) => r && 'Error' in r).map((r) => r.Error);
  return { xml: { root: 'DeleteResult', body: { Deleted: deleted, Error: errors } } };
};
