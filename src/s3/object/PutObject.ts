// PutObject: PUT /<bucket>/<key>
// Bytes are verified (Content-MD5, flexible checksum, SigV4 payload hash or chunk signatures) and
// made durable before the metadata commit; conditions (If-None-Match: *, If-Match) are checked
// inside that commit, so of two racing conditional writers exactly one wins.

import { DEGRADED_HEADER } from '../../storage/policies.js';
import { expirationHeaderFor } from '../../lifecycle/header.js';
import { checksumHeader } from '../../auth/checksums.js';
import type { ObjectContent } from '../../store/meta/types.js';
import { S3Error } from '../errors.js';
import type { Handler, S3Context } from '../handler.js';
import { bucketOf } from '../handler.js';
import { quoteEtag } from '../common.js';
import { parseChecksumSpec, parseContentMd5, parseWriteConditions, parseWriteHeaders } from './headers.js';
import { discardBlob, ingest } from './ingest.js';
import { encryptionForWrite, encryptionHeaders, sealing } from './encryption.js';
import { encryptedEtag } from '../../sse/object.js';
import { lockForWrite } from './lock.js';
import { parseTaggingHeader } from './tagging.js';
import { newObjectAccess } from './writeAcl.js';
import { combineWork, notified, notifyWork } from '../bucket/notification.js';
import { replicationForWrite } from '../../replication/writes.js';

const LOCK_HEADERS = ['x-amz-object-lock-mode', 'x-amz-object-lock-retain-until-date', 'x-amz-object-lock-legal-hold'];

/** The largest object a single PUT may carry. */
export const MAX_PUT_SIZE = 5 * 1024 ** 3;

/** Headers for features this server does not implement yet: refusing beats silently ignoring. */
const UNSUPPORTED_HEADERS: string[] = [];

export function refuseUnsupported(ctx: S3Context, names: readonly string[] = UNSUPPORTED_HEADERS): void {
  for (const name of names) {
    if (ctx.headers[name] !== undefined) throw new S3Error('NotImplemented', `The ${name} header is not implemented by this server.`, { Header: name });
  }
}

export const putObject: Handler = async (ctx) => {
  // A length is required, except for Transfer-Encoding: chunked bodies (streamed, size-checked).
  if (ctx.contentLength === undefined && !ctx.headers['transfer-encoding']) throw new S3Error('MissingContentLength');
  if (ctx.contentLength !== undefined && ctx.contentLength > MAX_PUT_SIZE) throw new S3Error('EntityTooLarge', undefined, { ProposedSize: ctx.contentLength, MaxSizeAllowed: MAX_PUT_SIZE });
  const { headers } = await writeObject(ctx);
  return { headers };
};

export interface WriteOptions {
  /** Smallest size accepted (EntityTooSmall below), checked before anything is committed. */
  minSize?: number;
  /** Largest size accepted (EntityTooLarge beyond, as soon as the body grows past it); at most MAX_PUT_SIZE. */
  maxSize?: number;
  /** Runs once the bytes are stored, before the metadata commit; a throw abandons the write. */
  beforeCommit?: () => Promise<void>;
}

export interface Written {
  etag: string;
  /** Response headers: ETag, x-amz-version-id, the checksum. */
  headers: Record<string, string>;
}

/**
 * Writes the request's body as a new version of ctx.key, described by the request's headers:
 * the one storage path of PutObject and POST object (whose context maps its form fields to the
 * same headers and its file to the body).
 */
export async function writeObject(ctx: S3Context, o: WriteOptions = {}): Promise<Written> {
  const bucket = bucketOf(ctx);
  refuseUnsupported(ctx);
  const write = parseWriteHeaders(ctx.headers, ctx.app.tiers.classes);
  const contentMd5 = parseContentMd5(ctx.headers);
  const checksum = parseChecksumSpec(ctx.headers, ctx.auth.payload);
  if (checksum && checksum.type !== 'FULL_OBJECT') throw new S3Error('InvalidRequest', 'The COMPOSITE checksum type applies to multipart uploads only.');
  const conditions = parseWriteConditions(ctx.headers);
  const tags = parseTaggingHeader(ctx.headers);
  const access = await newObjectAccess(ctx);
  const now = Date.now();
  const lock = await lockForWrite(ctx, now);
  if (LOCK_HEADERS.some((h) => ctx.headers[h] !== undefined) && !contentMd5 && !checksum) {
    throw new S3Error('InvalidRequest', 'Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters');
  }

  const sse = await encryptionForWrite(ctx);
  const data = await ingest(ctx, { contentMd5, checksum, inlineThreshold: ctx.app.config.inlineThreshold, maxSize: Math.min(o.maxSize ?? MAX_PUT_SIZE, MAX_PUT_SIZE), minSize: o.minSize, seal: sealing(sse?.desc, sse?.dataKey), policy: await ctx.app.storagePolicies.specOf(bucket) });
  const content: ObjectContent = {
    size: data.size,
    etag: sse ? encryptedEtag(sse.desc, data.md5, sse.dataKey) : data.md5,
    lastModified: Date.now(),
    owner: access.owner,
    storageClass: write.storageClass,
    headers: write.headers,
    userMeta: write.userMeta,
  };
  if (access.acl !== undefined) content.acl = access.acl;
  if (data.checksum) content.checksum = { ...data.checksum, type: 'FULL_OBJECT' };
  if (tags && tags.length) content.tags = tags;
  if (lock.retention) content.retention = lock.retention;
  if (lock.legalHold !== undefined) content.legalHold = lock.legalHold;
  if (data.inline) content.inline = data.inline;
  if (data.blobId) content.blobId = data.blobId;
  if (sse) content.sse = data.inlineId ? { ...sse.desc, n: data.inlineId } : sse.desc;

  let result;
  try {
    const events = await notifyWork(ctx, ctx.op.name === 'PostObject' ? 's3:ObjectCreated:Post' : 's3:ObjectCreated:Put', ctx.key, { size: content.size, etag: content.etag });
    const work = combineWork(events, await replicationForWrite(ctx, bucket, content));
    await o.beforeCommit?.();
    result = await ctx.app.meta.putObject(bucket.id, ctx.key, content, conditions, work ? { work } : undefined);
    notified(ctx, events);
  } catch (e) {
    await discardBlob(ctx.app, data.blobId, e);
    throw e;
  }
  // A replica already there (a retried replication): this copy of the bytes is not needed.
  if (result.existed && data.blobId) await ctx.app.blobs.delete(data.blobId).catch((e: unknown) => ctx.log.warn({ err: e, blobId: data.blobId }, 'could not remove an unneeded blob'));
  const headers: Record<string, string> = { ETag: quoteEtag(content.etag), ...encryptionHeaders(ctx, content.sse) };
  // Null versions (unversioned and suspended buckets) are not announced.
  if (result.versionId !== 'null') headers['x-amz-version-id'] = result.versionId;
  if (content.checksum) {
    headers[checksumHeader(content.checksum.algorithm)] = content.checksum.value;
    headers['x-amz-checksum-type'] = 'FULL_OBJECT';
  }
  if (data.degraded) headers[DEGRADED_HEADER] = String(data.degraded);
  const expiration = await expirationHeaderFor(ctx.app, bucket, { key: ctx.key, size: content.size, lastModified: content.lastModified, tags: content.tags });
  if (expiration) headers['x-amz-expiration'] = expiration;
  return { etag: content.etag, headers };
}
