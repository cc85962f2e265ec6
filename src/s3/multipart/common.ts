// Shared pieces of the multipart operations.

import type { Upload } from '../../store/meta/types.js';
import { S3Error } from '../errors.js';
import type { S3Context } from '../handler.js';
import { bucketOf } from '../handler.js';

export const MAX_PARTS = 10_000;
export const MAX_PART_SIZE = 5 * 1024 ** 3;
export const MIN_PART_SIZE = 5 * 1024 ** 2;
export const MAX_OBJECT_SIZE = 5 * 1024 ** 4;

export function partNumberParam(ctx: S3Context): number {
  const raw = ctx.query.get('partNumber') ?? '';
  const n = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= MAX_PARTS)) {
    throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', { ArgumentName: 'partNumber', ArgumentValue: raw });
  }
  return n;
}

/** The upload named by ?uploadId, which must be for this bucket and key. */
export async function loadUpload(ctx: S3Context): Promise<Upload> {
  const uploadId = ctx.query.get('uploadId') ?? '';
  const up = uploadId ? await ctx.app.meta.getUpload(bucketOf(ctx).id, uploadId) : undefined;
  if (!up || up.key !== ctx.key) throw new S3Error('NoSuchUpload', undefined, { UploadId: uploadId });
  return up;
}
