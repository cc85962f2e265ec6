// AbortMultipartUpload: DELETE /<bucket>/<key>?uploadId=U  (its parts' blobs are released)

import type { Handler } from '../handler.js';
import { bucketOf } from '../handler.js';
import { loadUpload } from './common.js';

export const abortMultipartUpload: Handler = async (ctx) => {
  const up = await loadUpload(ctx);
  await ctx.app.meta.abortUpload(bucketOf(ctx).id, up.uploadId);
  return { status: 204 };
};
