// x-amz-expiration on PUT, GET, HEAD and CompleteMultipartUpload: when the bucket's lifecycle
// rules will expire the object (its current version), and by which rule.

import type { App } from '../app.js';
import type { Bucket } from '../store/meta/types.js';
import { expirationHeader, expirationOf } from './rules.js';

export async function expirationHeaderFor(
  app: Pick<App, 'bucketLifecycle'>,
  bucket: Bucket,
  v: { key: string; size: number; lastModified: number; tags?: [string, string][] | undefined },
): Promise<string | undefined> {
  const config = await app.bucketLifecycle.get(bucket);
  if (!config) return undefined;
  const e = expirationOf(config, { key: v.key, size: v.size, lastModified: v.lastModified, ...(v.tags ? { tags: v.tags } : {}) });
  return e && expirationHeader(e);
}
