// HeadBucket: HEAD /<bucket>

import { POLICY_HEADER } from '../../storage/policies.js';
import type { Handler } from '../handler.js';
import { bucketOf } from '../handler.js';

export const headBucket: Handler = async (ctx) => {
  const b = bucketOf(ctx);
  return { headers: { 'x-amz-bucket-region': b.region, 'x-amz-access-point-alias': 'false', [POLICY_HEADER]: await ctx.app.storagePolicies.nameOf(b) } };
};
