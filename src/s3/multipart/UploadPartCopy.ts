// UploadPartCopy: PUT /<bucket>/<key>?partNumber=N&uploadId=U  with x-amz-copy-source[-range]
// A whole single-blob source is shared (another reference, no bytes copied) when no checksum
// has to be computed; otherwise the range is copied server-side into a new blob.

import { checksumHeader } from '../../auth/checksums.js';
import { S3Error } from '../errors.js';
import type { Handler } from '../handler.js';
import { bucketOf } from '../handler.js';
import { quoteEtag } from '../common.js';
import { loadCopySource } from '../object/copySource.js';
import { discardBlob, storeBytes } from '../object/ingest.js';
import { bodyChunks, checkStoredData, closeBody, objectBody } from '../object/read.js';
import { MAX_PART_SIZE, loadUpload, partNumberParam } from './common.js';
import { dataKeyForRead, dataKeyForUpload, encryptionHeaders, sealing } from '../object/encryption.js';

function parseCopyRange(v: string | undefined, size: number): { start: number; end: number } | undefined {
  if (v === undefined) return undefined;
  const m = /^bytes=(\d+)-(\d+)$/.exec(v.trim());
  if (!m || Number(m[1]) > Number(m[2])) {
    throw new S3Error(
      'InvalidArgument',
      'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy',
      { ArgumentName: 'x-amz-copy-source-range', ArgumentValue: v },
    );
  }
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (end >= size) throw new S3Error('InvalidRange', `Range specified is not valid for source object of size: ${size}`, { RangeRequested: v, ActualObjectSize: size });
  return { start, end };
}

export const uploadPartCopy: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const partNumber = partNumberParam(ctx);
  const up = await loadUpload(ctx);
  const src = await loadCopySource(ctx);
  const v = src.version;
  // Source and destination keys are independent (x-amz-copy-source-server-side-encryption-customer-*).
  const srcKey = await dataKeyForRead(ctx, v, 'x-amz-copy-source-server-side-encryption');
  const partKey = await dataKeyForUpload(ctx, up, true);
  const rangeHeader = ctx.headers['x-amz-copy-source-range'];
  const range = parseCopyRange(Array.isArray(rangeHeader) ? rangeHeader[0] : rangeHeader, v.size);
  const start = range?.start ?? 0;
  const end = range?.end ?? v.size - 1;
  const size = Math.max(0, end - start + 1);
  if (size > MAX_PART_SIZE) throw new S3Error('InvalidRequest', `The specified copy source is larger than the maximum allowable size for a copy source: ${MAX_PART_SIZE}`);

  const whole = start === 0 && end === v.size - 1;
  const reusableChecksum = !up.checksumAlgorithm || (v.checksum?.algorithm === up.checksumAlgorithm && v.checksum.type === 'FULL_OBJECT');
  let part: { etag: string; checksum?: string | undefined; size: number; blobId: string; shared: boolean };
  // Encrypted bytes are sealed under their object's keys: they are copied (re-sealed), never shared.
  if (whole && v.blobId && !v.partsCount && reusableChecksum && !srcKey && !partKey) {
    await checkStoredData(ctx.app, src.bucket.name, v);
    part = { etag: v.etag, checksum: up.checksumAlgorithm ? v.checksum?.value : undefined, size: v.size, blobId: v.blobId, shared: true };
  } else {
    // Read through the verifying path: a damaged block fails the copy.
    const body = await objectBody(ctx.app, src.bucket.name, v, start, end, srcKey);
    let data;
    try {
      data = await storeBytes(ctx.app, bodyChunks(body), size, () => ({}), { computeAlgorithm: up.checksumAlgorithm, inlineThreshold: -1, maxSize: MAX_PART_SIZE, seal: sealing(up.sse, partKey), policy: await ctx.app.storagePolicies.specOf(bucket) });
    } finally {
      await closeBody(body);
    }
    part = { etag: data.md5, checksum: data.checksum?.value, size: data.size, blobId: data.blobId!, shared: false };
  }
  const lastModified = Date.now();
  try {
    await ctx.app.meta.putPart(bucket.id, up.uploadId, {
      partNumber,
      size: part.size,
      etag: part.etag,
      ...(part.checksum ? { checksum: part.checksum } : {}),
      lastModified,
      blobId: part.blobId,
      shared: part.shared,
    });
  } catch (e) {
    if (!part.shared) await discardBlob(ctx.app, part.blobId, e);
    throw e;
  }
  const result: Record<string, string | Date> = { ETag: quoteEtag(part.etag), LastModified: new Date(lastModified) };
  if (part.checksum && up.checksumAlgorithm) result[`Checksum${up.checksumAlgorithm}`] = part.checksum;
  const headers: Record<string, string | undefined> = { ...encryptionHeaders(ctx, up.sse) };
  if (v.versionId !== 'null') headers['x-amz-copy-source-version-id'] = v.versionId;
  if (part.checksum && up.checksumAlgorithm) headers[checksumHeader(up.checksumAlgorithm)] = part.checksum;
  return { headers, xml: { root: 'CopyPartResult', body: result } };
};
