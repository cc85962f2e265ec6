// GetBucketLocation: GET /<bucket>?location  (empty for us-east-1, as S3 answers)

import type { Handler } from '../handler.js';
import { bucketOf } from '../handler.js';
import { TEXT } from '../xml.js';

export const getBucketLocation: Handler = async (ctx) => {
  const region = bucketOf(ctx).region;
  return { xml: { root: 'LocationConstraint', body: { [TEXT]: region === 'us-east-1' ? '' : region } } };
};
