// GetObject:  GET  /<bucket>/<key>  [versionId, partNumber, response-*, Range, If-*]
// HeadObject: HEAD /<bucket>/<key>

import { expirationHeaderFor } from '../../lifecycle/header.js';
import { checksumHeader } from '../../auth/checksums.js';
import type { ObjectVersion } from '../../store/meta/types.js';
import { isMintedId } from '../../store/ids.js';
import { S3Error } from '../errors.js';
import type { Handler, S3Context, S3Response } from '../handler.js';
import { bucketOf } from '../handler.js';
import { intParam, quoteEtag } from '../common.js';
import { httpDate } from '../xml.js';
import { checkReadConditions, closeBody, objectBody, parseRange, type ByteRange } from './read.js';
import { encodeHeaderText } from './headers.js';
import { dataKeyForRead, encryptionHeaders } from './encryption.js';
import { restoreHeader } from '../../tiering/read.js';

const RESPONSE_OVERRIDES: Record<string, string> = {
  'response-content-type': 'Content-Type',
  'response-content-language': 'Content-Language',
  'response-expires': 'Expires',
  'response-cache-control': 'Cache-Control',
  'response-content-disposition': 'Content-Disposition',
  'response-content-encoding': 'Content-Encoding',
};

/** Validates a versionId query parameter: 'null' or an id this server minted. */
export function versionParam(ctx: S3Context): string | undefined {
  const v = ctx.query.get('versionId');
  if (v === undefined) return undefined;
  if (v !== 'null' && !isMintedId(v)) throw new S3Error('InvalidArgument', 'Invalid version id specified', { ArgumentName: 'versionId', ArgumentValue: v });
  return v;
}

/**
 * Loads the addressed version for a read, with S3's answers for what is not there: NoSuchKey,
 * NoSuchVersion, and delete markers (404 with x-amz-delete-marker, or 405 when addressed by id).
 */
export async function loadForRead(ctx: S3Context): Promise<ObjectVersion> {
  const versionId = versionParam(ctx);
  const latest = ctx.latest;
  ctx.latest = undefined;
  const v = versionId === undefined && latest?.key === ctx.key ? latest.version : await ctx.app.meta.getObject(bucketOf(ctx).id, ctx.key, versionId);
  if (!v) {
    throw versionId === undefined
      ? new S3Error('NoSuchKey', undefined, { Key: ctx.key }, { 'x-amz-delete-marker': 'false' })
      : new S3Error('NoSuchVersion', undefined, { Key: ctx.key, VersionId: versionId });
  }
  if (v.deleteMarker) {
    const headers = { 'x-amz-delete-marker': 'true', 'x-amz-version-id': v.versionId, 'Last-Modified': httpDate(v.lastModified) };
    if (versionId !== undefined) throw new S3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.', { Method: ctx.method, ResourceType: 'DeleteMarker' }, { ...headers, Allow: 'DELETE' });
    throw new S3Error('NoSuchKey', undefined, { Key: ctx.key }, headers);
  }
  return v;
}

/**
 * The addressed version for a sub-resource of an object (tagging, retention, legal hold):
 * NoSuchKey / NoSuchVersion when absent or behind a delete marker, 405 on a delete marker
 * addressed by version id.
 */
export async function loadVersion(ctx: S3Context): Promise<ObjectVersion> {
  const versionId = versionParam(ctx);
  const v = await ctx.app.meta.getObject(bucketOf(ctx).id, ctx.key, versionId);
  if (!v || (versionId === undefined && v.deleteMarker)) {
    throw versionId === undefined ? new S3Error('NoSuchKey', undefined, { Key: ctx.key }) : new S3Error('NoSuchVersion', undefined, { Key: ctx.key, VersionId: versionId });
  }
  if (v.deleteMarker) throw new S3Error('MethodNotAllowed', undefined, {}, { 'x-amz-delete-marker': 'true', Allow: 'DELETE' });
  return v;
}

/** Headers describing a stored object version (GET and HEAD). */
export function objectHeaders(v: ObjectVersion, versioned: boolean): Record<string, string | number | undefined> {
  const h: Record<string, string | number | undefined> = {
    'Last-Modified': httpDate(v.lastModified),
    ETag: quoteEtag(v.etag),
    'Accept-Ranges': 'bytes',
    'Content-Type': v.headers['content-type'] ?? 'binary/octet-stream',
  };
  for (const [name, value] of Object.entries(v.headers)) if (name !== 'content-type') h[name] = value;
  for (const [name, value] of Object.entries(v.userMeta)) h['x-amz-meta-' + name] = encodeHeaderText(value);
  if (versioned || v.versionId !== 'null') h['x-amz-version-id'] = v.versionId;
  if (v.storageClass !== 'STANDARD') h['x-amz-storage-class'] = v.storageClass;
  if (v.tags && v.tags.length > 0) h['x-amz-tagging-count'] = v.tags.length;
  if (v.retention) {
    h['x-amz-object-lock-mode'] = v.retention.mode;
    h['x-amz-object-lock-retain-until-date'] = new Date(v.retention.until).toISOString();
  }
  if (v.legalHold !== undefined) h['x-amz-object-lock-legal-hold'] = v.legalHold ? 'ON' : 'OFF';
  const restore = restoreHeader(v.tier);
  if (restore) h['x-amz-restore'] = restore;
  if (v.replicationStatus) h['x-amz-replication-status'] = v.replicationStatus;
  return h;
}

function checksumMode(ctx: S3Context): boolean {
  return String(ctx.headers['x-amz-checksum-mode'] ?? '').toUpperCase() === 'ENABLED';
}

async function read(ctx: S3Context, withBody: boolean): Promise<S3Response> {
  const bucket = bucketOf(ctx);
  const q = ctx.query;
  // Encryption is the object's: a read may only name an SSE-C key (S3: 400 InvalidArgument).
  for (const name of ['x-amz-server-side-encryption', 'x-amz-server-side-encryption-aws-kms-key-id', 'x-amz-server-side-encryption-context']) {
    if (ctx.headers[name] !== undefined) throw new S3Error('InvalidArgument', `The ${name} header is not supported for this operation.`, { ArgumentName: name });
  }
  for (const name of Object.keys(RESPONSE_OVERRIDES)) {
    if (q.has(name) && !ctx.identity) throw new S3Error('InvalidRequest', 'Request specific response headers cannot be used for anonymous GET requests.');
  }
  const v = await loadForRead(ctx);
  checkReadConditions(ctx.headers, v.etag, v.lastModified);

  const headers = { ...objectHeaders(v, bucket.versioning !== 'Unversioned'), ...encryptionHeaders(ctx, v.sse) };
  if (v.isLatest) {
    const expiration = await expirationHeaderFor(ctx.app, bucket, v);
    if (expiration) headers['x-amz-expiration'] = expiration;
  }
  let range: ByteRange | undefined;
  let status = 200;

  const partNumber = q.has('partNumber') ? intParam(q.get('partNumber'), 'partNumber', { min: 1, max: 10000, def: 1 }) : undefined;
  if (partNumber !== undefined) {
    if (ctx.headers.range !== undefined) throw new S3Error('InvalidRequest', 'Cannot specify both Range header and partNumber query parameter');
    if (v.partsCount) {
      const [part] = await ctx.app.meta.getObjectParts(v.rowId, partNumber, 1);
      if (!part || part.partNumber !== partNumber) throw new S3Error('InvalidPart', 'The requested partnumber is not satisfiable', { PartNumberRequested: partNumber, ActualPartCount: v.partsCount });
      range = { start: part.offset, end: part.offset + part.size - 1 };
      headers['x-amz-mp-parts-count'] = v.partsCount;
      if (part.checksum && v.checksum && checksumMode(ctx)) {
        headers[checksumHeader(v.checksum.algorithm)] = part.checksum;
        headers['x-amz-checksum-type'] = v.checksum.type;
      }
    } else if (partNumber !== 1) {
      throw new S3Error('InvalidPart', 'The requested partnumber is not satisfiable', { PartNumberRequested: partNumber, ActualPartCount: 1 });
    }
    if (range && v.size > 0) {
      status = 206;
      headers['Content-Range'] = `bytes ${range.start}-${range.end}/${v.size}`;
    }
  } else {
    range = parseRange(ctx.headers.range, v.size);
    if (range) {
      status = 206;
      headers['Content-Range'] = `bytes ${range.start}-${range.end}/${v.size}`;
    } else if (v.checksum && checksumMode(ctx)) {
      headers[checksumHeader(v.checksum.algorithm)] = v.checksum.value;
      headers['x-amz-checksum-type'] = v.checksum.type;
    }
  }
  for (const [param, name] of Object.entries(RESPONSE_OVERRIDES)) {
    const value = q.get(param);
    if (value !== undefined) {
      if (/[\x00-\x08\x0a-\x1f\x7f]/.test(value)) throw new S3Error('InvalidArgument', `Invalid value for ${param}`, { ArgumentName: param });
      delete headers[name.toLowerCase()];
      headers[name] = encodeHeaderText(value);
    }
  }
  const start = range?.start ?? 0;
  const end = range?.end ?? v.size - 1;
  headers['Content-Length'] = Math.max(0, end - start + 1);
  const dataKey = await dataKeyForRead(ctx, v);
  // A tiered version: HEAD answers from the metadata here (an archived one too, as S3 does);
  // GET reads through, or answers InvalidObjectState until an archived one is restored.
  if (v.tier && !withBody) return { status, headers };
  // HEAD checks the data too (the same checks, no data read): a 200 means a GET can be served.
  const body = await objectBody(ctx.app, bucket.name, v, start, end, dataKey);
  if (withBody) return { status, headers, body };
  await closeBody(body);
  return { status, headers };
}

export const getObject: Handler = (ctx) => read(ctx, true);
export const headObject: Handler = (ctx) => read(ctx, false);
