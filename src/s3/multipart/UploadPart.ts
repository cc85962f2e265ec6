// UploadPart: PUT /<bucket>/<key>?partNumber=N&uploadId=U
// Each part becomes its own blob; re-uploading a part number replaces (and releases) the old one.

import { DEGRADED_HEADER } from '../../storage/policies.js';
import { checksumHeader } from '../../auth/checksums.js';
import { S3Error } from '../errors.js';
import type { Handler } from '../handler.js';
import { bucketOf } from '../handler.js';
import { quoteEtag } from '../common.js';
import { parseChecksumSpec, parseContentMd5 } from '../object/headers.js';
import { discardBlob, ingest } from '../object/ingest.js';
import { MAX_PART_SIZE, loadUpload, partNumberParam } from './common.js';
import { dataKeyForUpload, encryptionHeaders, sealing } from '../object/encryption.js';

export const uploadPart: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const partNumber = partNumberParam(ctx);
  const up = await loadUpload(ctx);
  if (ctx.contentLength === undefined && !ctx.headers['transfer-encoding']) throw new S3Error('MissingContentLength');
  if (ctx.contentLength !== undefined && ctx.contentLength > MAX_PART_SIZE) {
    throw new S3Error('EntityTooLarge', undefined, { ProposedSize: ctx.contentLength, MaxSizeAllowed: MAX_PART_SIZE });
  }
  const contentMd5 = parseContentMd5(ctx.headers);
  const checksum = parseChecksumSpec(ctx.headers, ctx.auth.payload);
  if (checksum && up.checksumAlgorithm && checksum.algorithm !== up.checksumAlgorithm) {
    throw new S3Error(
      'InvalidRequest',
      `Checksum Type mismatch occurred, expected checksum Type: ${up.checksumAlgorithm.toLowerCase()}, actual checksum Type: ${checksum.algorithm.toLowerCase()}`,
    );
  }
  // SSE-C uploads need the upload's customer key on every part (400 without, 403 with another).
  const dataKey = await dataKeyForUpload(ctx, up, true);
  // Parts are always blobs (an object is the ordered list of its parts' blobs).
  const data = await ingest(ctx, { contentMd5, checksum, computeAlgorithm: up.checksumAlgorithm, inlineThreshold: -1, maxSize: MAX_PART_SIZE, seal: sealing(up.sse, dataKey), policy: await ctx.app.storagePolicies.specOf(bucket) });
  try {
    await ctx.app.meta.putPart(bucket.id, up.uploadId, {
      partNumber,
      size: data.size,
      etag: data.md5,
      ...(data.checksum ? { checksum: data.checksum.value } : {}),
      lastModified: Date.now(),
      blobId: data.blobId!,
    });
  } catch (e) {
    await discardBlob(ctx.app, data.blobId, e);
    throw e;
  }
  const headers: Record<string, string> = { ETag: quoteEtag(data.md5), ...encryptionHeaders(ctx, up.sse) };
  if (data.checksum) headers[checksumHeader(data.checksum.algorithm)] = data.checksum.value;
  if (data.degraded) headers[DEGRADED_HEADER] = String(data.degraded);
  return { headers };
};
