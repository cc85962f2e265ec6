// DeleteBucket: DELETE /<bucket>  (BucketNotEmpty while any version or upload remains)

import type { Handler } from '../handler.js';
import { bucketOf } from '../handler.js';

export const deleteBucket: Handler = async (ctx) => {
  await ctx.app.meta.deleteBucket(bucketOf(ctx).id);
  return { status: 204 };
};
