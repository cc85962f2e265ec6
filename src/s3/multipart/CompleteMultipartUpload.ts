// CompleteMultipartUpload: POST /<bucket>/<key>?uploadId=U
//   <CompleteMultipartUpload><Part><PartNumber/><ETag/>[<ChecksumCRC32/>…]</Part>…</CompleteMultipartUpload>
// The object becomes the ordered list of its parts' blobs: no byte is copied, so completing a
// 100 GiB upload takes milliseconds. Repeating a Complete that succeeded answers the same.

import { combineWork, notified, notifyWork } from '../bucket/notification.js';
import { replicationForWrite } from '../../replication/writes.js';
import { expirationHeaderFor } from '../../lifecycle/header.js';
import { dataKeyForUpload, encryptionHeaders } from '../object/encryption.js';
import { createHash } from 'node:crypto';
import { checksumHeader } from '../../auth/checksums.js';
import type { ObjectContent, ObjectPart, StoredChecksum } from '../../store/meta/types.js';
import { S3Error } from '../errors.js';
import type { Handler, S3Context, S3Response } from '../handler.js';
import { bucketOf } from '../handler.js';
import { quoteEtag, urlEncode } from '../common.js';
import { childText, children, type ParsedDoc, type XmlLimits, type XmlNode } from '../xml.js';
import { parseWriteConditions, unquoteEtag } from '../object/headers.js';
import { multipartChecksum, multipartEtag } from './checksums.js';
import { MAX_OBJECT_SIZE, MAX_PARTS, MIN_PART_SIZE } from './common.js';

interface RequestedPart {
  partNumber: number;
  etag: string;
  checksums: Record<string, string>;
}

const CHECKSUM_ELEMENTS = ['ChecksumCRC32', 'ChecksumCRC32C', 'ChecksumCRC64NVME', 'ChecksumSHA1', 'ChecksumSHA256'];

/** 10,000 <Part>s, each a part number, an ETag and up to five checksums, with room for layout. */
const LIMITS: XmlLimits = { maxBytes: 10 * 1024 * 1024, maxElements: 2 + MAX_PARTS * 8, repeated: { name: 'Part', max: MAX_PARTS } };

function parseParts(doc: ParsedDoc): RequestedPart[] {
  const parts = children(doc, 'Part').map((p) => {
    const n = childText(p, 'PartNumber');
    const etag = childText(p, 'ETag');
    if (n === undefined || etag === undefined || !/^\d+$/.test(n.trim())) throw new S3Error('MalformedXML');
    const checksums: Record<string, string> = {};
    for (const el of CHECKSUM_ELEMENTS) {
      const v = childText(p, el);
      if (v !== undefined) checksums[el] = v.trim();
    }
    return { partNumber: Number(n), etag: unquoteEtag(etag), checksums };
  });
  if (parts.length === 0) throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');
  // Ascending part numbers; a number repeated (a part re-sent while the list was built) counts once, last entry winning.
  const out: RequestedPart[] = [];
  for (const p of parts) {
    const prev = out[out.length - 1];
    if (prev && p.partNumber < prev.partNumber) throw new S3Error('InvalidPartOrder');
    if (prev && p.partNumber === prev.partNumber) out[out.length - 1] = p;
    else out.push(p);
  }
  if (out.length > MAX_PARTS) throw new S3Error('MalformedXML');
  return out;
}

function partsDigest(parts: RequestedPart[]): string {
  return createHash('sha256')
    .update(parts.map((p) => `${p.partNumber}:${p.etag}`).join('\n'))
    .digest('hex');
}

function location(ctx: S3Context, bucket: string): string {
  const host = ctx.headers.host ?? '';
  return `http://${host}/${bucket}/${urlEncode(ctx.key)}`;
}

function result(ctx: S3Context, bucket: string, etag: string, checksum: StoredChecksum | undefined, versionId: string): S3Response {
  const body: XmlNode = { Location: location(ctx, bucket), Bucket: bucket, Key: ctx.key, ETag: quoteEtag(etag) };
  const headers: Record<string, string> = {};
  if (checksum) {
    body[`Checksum${checksum.algorithm}`] = checksum.value;
    body.ChecksumType = checksum.type;
    headers[checksumHeader(checksum.algorithm)] = checksum.value;
    headers['x-amz-checksum-type'] = checksum.type;
  }
  if (versionId !== 'null') headers['x-amz-version-id'] = versionId;
  return { headers, xml: { root: 'CompleteMultipartUploadResult', body } };
}

export const completeMultipartUpload: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const uploadId = ctx.query.get('uploadId') ?? '';
  const requested = parseParts(await ctx.readXml('CompleteMultipartUpload', LIMITS));
  const digest = partsDigest(requested);
  const up = uploadId ? await ctx.app.meta.getUpload(bucket.id, uploadId) : undefined;
  if (!up || up.key !== ctx.key) {
    const done = uploadId ? await ctx.app.meta.getCompletedUpload(bucket.id, uploadId) : undefined;
    if (done && done.key === ctx.key && done.partsDigest === digest) return result(ctx, bucket.name, done.etag, done.checksum, done.versionId);
    throw new S3Error('NoSuchUpload', undefined, { UploadId: uploadId });
  }

  // An SSE-C upload is completed with its key, as its parts were (400 without it or with another).
  if (up.sse?.a === 'SSE-C') await dataKeyForUpload(ctx, up);
  const stored = new Map((await ctx.app.meta.listParts(up.uploadId, 0, MAX_PARTS)).map((p) => [p.partNumber, p]));
  const parts: ObjectPart[] = [];
  let offset = 0;
  for (const [i, r] of requested.entries()) {
    const p = stored.get(r.partNumber);
    if (!p || p.etag !== r.etag) throw new S3Error('InvalidPart', undefined, { UploadId: up.uploadId, PartNumber: r.partNumber, ETag: r.etag });
    if (up.checksumAlgorithm) {
      const sent = r.checksums[`Checksum${up.checksumAlgorithm}`];
      if (sent !== undefined && p.checksum !== undefined && sent !== p.checksum) {
        throw new S3Error('InvalidPart', `The ${up.checksumAlgorithm.toLowerCase()} checksum of part ${r.partNumber} does not match the part that was uploaded.`, { UploadId: up.uploadId, PartNumber: r.partNumber });
      }
    }
    if (i < requested.length - 1 && p.size < MIN_PART_SIZE) {
      throw new S3Error('EntityTooSmall', undefined, { UploadId: up.uploadId, PartNumber: r.partNumber, ProposedSize: p.size, MinSizeAllowed: MIN_PART_SIZE });
    }
    parts.push({ partNumber: p.partNumber, offset, size: p.size, etag: p.etag, blobId: p.blobId, ...(p.checksum ? { checksum: p.checksum } : {}) });
    offset += p.size;
  }
  if (offset > MAX_OBJECT_SIZE) throw new S3Error('EntityTooLarge', undefined, { ProposedSize: offset, MaxSizeAllowed: MAX_OBJECT_SIZE });

  const etag = multipartEtag(parts.map((p) => p.etag));
  let checksum: StoredChecksum | undefined;
  if (up.checksumAlgorithm && up.checksumType && parts.every((p) => p.checksum !== undefined)) {
    const value = multipartChecksum(up.checksumAlgorithm, up.checksumType, parts.map((p) => ({ checksum: p.checksum!, size: p.size })));
    checksum = { algorithm: up.checksumAlgorithm, value, type: up.checksumType };
    const expected = ctx.headers[checksumHeader(up.checksumAlgorithm)];
    if (expected !== undefined && String(expected).trim() !== value) {
      throw new S3Error('BadDigest', `The ${up.checksumAlgorithm.toLowerCase()} you specified for the object did not match the calculated checksum.`);
    }
  }

  const content: ObjectContent = {
    size: offset,
    etag,
    lastModified: Date.now(),
    owner: up.owner,
    storageClass: up.storageClass,
    headers: up.headers,
    userMeta: up.userMeta,
    parts,
  };
  if (checksum) content.checksum = checksum;
  if (up.tags) content.tags = up.tags;
  if (up.retention) content.retention = up.retention;
  if (up.legalHold !== undefined) content.legalHold = up.legalHold;
  if (up.acl !== undefined) content.acl = up.acl;
  if (up.sse) content.sse = up.sse;
  const events = await notifyWork(ctx, 's3:ObjectCreated:CompleteMultipartUpload', ctx.key, { size: content.size, etag });
  const work = combineWork(events, await replicationForWrite(ctx, bucket, content));
  const res = await ctx.app.meta.completeUpload(
    bucket.id,
    up.uploadId,
    content,
    { uploadId: up.uploadId, bucketId: bucket.id, key: ctx.key, etag, ...(checksum ? { checksum } : {}), partsDigest: digest, completedAt: Date.now() },
    parseWriteConditions(ctx.headers),
    work ? { work } : undefined,
  );
  notified(ctx, events);
  const r = result(ctx, bucket.name, etag, checksum, res.versionId);
  Object.assign(r.headers!, encryptionHeaders(ctx, up.sse));
  const expiration = await expirationHeaderFor(ctx.app, bucket, { key: ctx.key, size: offset, lastModified: content.lastModified, tags: content.tags });
  if (expiration) r.headers!['x-amz-expiration'] = expiration;
  return r;
};
