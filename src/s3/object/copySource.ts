// x-amz-copy-source for CopyObject and UploadPartCopy: "<bucket>/<key>[?versionId=<id>]",
// URL-encoded, optionally with a leading slash, and its x-amz-copy-source-if-* conditions.

import type { ObjectVersion } from '../../store/meta/types.js';
import type { Bucket } from '../../store/meta/types.js';
import { isMintedId } from '../../store/ids.js';
import { S3Error } from '../errors.js';
import type { S3Context } from '../handler.js';
import { etagMatches, parseHttpDate } from './read.js';

export interface CopySource {
  bucket: Bucket;
  key: string;
  /** The version asked for, if the copy source named one. */
  versionId: string | undefined;
  version: ObjectVersion;
}

function decodePart(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new S3Error('InvalidArgument', 'Invalid copy source encoding', { ArgumentName: 'x-amz-copy-source' });
  }
}

export function parseCopySource(header: string): { bucket: string; key: string; versionId: string | undefined } {
  let raw = header.trim();
  if (raw.startsWith('/')) raw = raw.slice(1);
  // Split on the raw '?' before decoding: an encoded "%3F" belongs to the key.
  const q = raw.indexOf('?');
  const path = q >= 0 ? raw.slice(0, q) : raw;
  let versionId: string | undefined;
  if (q >= 0) {
    for (const param of raw.slice(q + 1).split('&')) {
      const [name, value = ''] = param.split('=');
      if (name === 'versionId') versionId = decodePart(value);
    }
  }
  const slash = path.indexOf('/');
  const bucket = slash > 0 ? decodePart(path.slice(0, slash)) : '';
  const key = slash > 0 ? decodePart(path.slice(slash + 1)) : '';
  if (!bucket || !key) {
    throw new S3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', { ArgumentName: 'x-amz-copy-source', ArgumentValue: header });
  }
  if (versionId !== undefined && versionId !== 'null' && !isMintedId(versionId)) {
    throw new S3Error('InvalidArgument', 'Invalid version id specified', { ArgumentName: 'x-amz-copy-source', ArgumentValue: header });
  }
  return { bucket, key, versionId };
}

/** x-amz-copy-source-if-*: every failing condition is 412, with S3's precedence. */
export function checkCopySourceConditions(ctx: S3Context, v: ObjectVersion): void {
  const h = ctx.headers;
  const header = (n: string) => {
    const x = h[n];
    return Array.isArray(x) ? x.join(',') : x;
  };
  const ifMatch = header('x-amz-copy-source-if-match');
  const ifNoneMatch = header('x-amz-copy-source-if-none-match');
  const lm = Math.floor(v.lastModified / 1000) * 1000;
  const fail = (condition: string) => new S3Error('PreconditionFailed', undefined, { Condition: condition });
  if (ifMatch !== undefined) {
    if (!etagMatches(ifMatch, v.etag)) throw fail('x-amz-copy-source-If-Match');
  } else {
    const ius = parseHttpDate(header('x-amz-copy-source-if-unmodified-since'));
    if (ius !== undefined && lm > ius) throw fail('x-amz-copy-source-If-Unmodified-Since');
  }
  if (ifNoneMatch !== undefined) {
    if (etagMatches(ifNoneMatch, v.etag)) throw fail('x-amz-copy-source-If-None-Match');
  } else {
    const ims = parseHttpDate(header('x-amz-copy-source-if-modified-since'));
    if (ims !== undefined && lm <= ims) throw fail('x-amz-copy-source-If-Modified-Since');
  }
}

/** Resolves and checks the copy source: it must exist, be readable by the caller, and meet its conditions. */
export async function loadCopySource(ctx: S3Context): Promise<CopySource> {
  const header = ctx.headers['x-amz-copy-source'];
  const { bucket: bucketName, key, versionId } = parseCopySource(Array.isArray(header) ? header[0]! : header ?? '');
  const bucket = await ctx.app.meta.getBucket(bucketName);
  // Reading the source was authorised with the request (authz/requests.ts).
  if (!bucket) throw new S3Error('NoSuchBucket', undefined, { BucketName: bucketName });
  const version = await ctx.app.meta.getObject(bucket.id, key, versionId);
  if (!version) {
    throw versionId === undefined ? new S3Error('NoSuchKey', undefined, { Key: key }) : new S3Error('NoSuchVersion', undefined, { Key: key, VersionId: versionId });
  }
  if (version.deleteMarker) {
    if (versionId !== undefined) throw new S3Error('InvalidRequest', 'The source of a copy request may not specifically refer to a delete marker by version id.');
    throw new S3Error('NoSuchKey', undefined, { Key: key });
  }
  checkCopySourceConditions(ctx, version);
  return { bucket, key, versionId, version };
}
