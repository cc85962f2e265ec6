// S3 bucket naming rules (general purpose buckets).

import { S3Error } from '../errors.js';

export function validateBucketName(name: string): void {
  const bad = (): never => {
    throw new S3Error('InvalidBucketName', undefined, { BucketName: name });
  };
  if (name.length < 3 || name.length > 63) bad();
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) bad();
  if (name.includes('..') || name.includes('.-') || name.includes('-.')) bad();
  if (/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)) bad();
  if (/^(xn--|sthree-|amzn-s3-demo-)/.test(name)) bad();
  if (/(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$/.test(name)) bad();
}
