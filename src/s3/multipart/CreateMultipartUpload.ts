// CreateMultipartUpload: POST /<bucket>/<key>?uploads

import { parseChecksumAlgorithm } from '../../auth/checksums.js';
import { timeOrderedId } from '../../store/ids.js';
import type { Upload } from '../../store/meta/types.js';
import { S3Error } from '../errors.js';
import type { Handler } from '../handler.js';
import { bucketOf } from '../handler.js';
import { parseChecksumType, parseWriteHeaders } from '../object/headers.js';
import { refuseUnsupported } from '../object/PutObject.js';
import { defaultChecksumType, validateChecksumType } from './checksums.js';
import { lockForWrite } from '../object/lock.js';
import { parseTaggingHeader } from '../object/tagging.js';
import { newObjectAccess } from '../object/writeAcl.js';
import { encryptionForWrite, encryptionHeaders } from '../object/encryption.js';

export const createMultipartUpload: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  refuseUnsupported(ctx);
  const write = parseWriteHeaders(ctx.headers, ctx.app.tiers.classes);
  const algHeader = ctx.headers['x-amz-checksum-algorithm'];
  const algorithm = parseChecksumAlgorithm(Array.isArray(algHeader) ? algHeader[0] : algHeader);
  if (algHeader !== undefined && !algorithm) {
    throw new S3Error('InvalidRequest', 'Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]');
  }
  const type = parseChecksumType(ctx.headers);
  if (type && !algorithm) throw new S3Error('InvalidRequest', 'The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.');
  const tags = parseTaggingHeader(ctx.headers);
  // The upload's owner and ACL become the object's at Complete.
  const access = await newObjectAccess(ctx);
  const lock = await lockForWrite(ctx, Date.now());
  const sse = await encryptionForWrite(ctx);
  const upload: Upload = {
    uploadId: timeOrderedId(),
    bucketId: bucket.id,
    key: ctx.key,
    initiated: Date.now(),
    owner: access.owner,
    storageClass: write.storageClass,
    headers: write.headers,
    userMeta: write.userMeta,
  };
  if (access.acl !== undefined) upload.acl = access.acl;
  if (sse) upload.sse = sse.desc;
  if (tags && tags.length) upload.tags = tags;
  if (lock.retention) upload.retention = lock.retention;
  if (lock.legalHold !== undefined) upload.legalHold = lock.legalHold;
  if (algorithm) {
    upload.checksumAlgorithm = algorithm;
    upload.checksumType = type ?? defaultChecksumType(algorithm);
    validateChecksumType(algorithm, upload.checksumType);
  }
  await ctx.app.meta.createUpload(upload);
  const headers: Record<string, string | undefined> = {
    ...encryptionHeaders(ctx, upload.sse),
    'x-amz-checksum-algorithm': upload.checksumAlgorithm,
    'x-amz-checksum-type': upload.checksumType,
  };
  return { headers, xml: { root: 'InitiateMultipartUploadResult', body: { Bucket: bucket.name, Key: ctx.key, UploadId: upload.uploadId } } };
};
