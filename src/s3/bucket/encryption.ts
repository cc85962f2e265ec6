// Put/Get/DeleteBucketEncryption: PUT|GET|DELETE /<bucket>?encryption
// A bucket's default encryption (SSE-S3, or SSE-KMS with a key id) applies to new objects whose
// write names no encryption of its own. Stored as JSON: { a: 'AES256' | 'aws:kms', k?: key id, b?: bucket key }.

import type { App } from '../../app.js';
import { S3Error } from '../errors.js';
import type { Handler } from '../handler.js';
import { bucketOf } from '../handler.js';
import { children, childText, type ParsedXml } from '../xml.js';
import type { SseRequest } from '../../sse/object.js';

interface DefaultEncryption {
  a: 'AES256' | 'aws:kms';
  k?: string;
  b?: boolean;
}

export const putBucketEncryption: Handler = async (ctx) => {
  const doc = await ctx.readXml('ServerSideEncryptionConfiguration', { maxBytes: 16 * 1024 });
  const rules = children(doc, 'Rule');
  if (rules.length !== 1) throw new S3Error('MalformedXML');
  const rule = rules[0] as ParsedXml;
  const by = children(rule, 'ApplyServerSideEncryptionByDefault');
  if (by.length !== 1) throw new S3Error('MalformedXML');
  const alg = childText(by[0], 'SSEAlgorithm');
  const keyId = childText(by[0], 'KMSMasterKeyID');
  const bucketKey = childText(rule, 'BucketKeyEnabled');
  const config: DefaultEncryption = { a: 'AES256' };
  if (alg === 'AES256') {
    if (keyId !== undefined) throw new S3Error('InvalidArgument', 'a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms');
  } else if (alg === 'aws:kms') {
    config.a = 'aws:kms';
    if (keyId !== undefined && keyId !== '') {
      if (!(await ctx.app.kms.describe(keyId))) throw new S3Error('KMS.NotFoundException', `Invalid keyId ${keyId}`);
      config.k = keyId;
    }
  } else if (alg === 'aws:kms:dsse') {
    throw new S3Error('NotImplemented', 'Dual-layer server-side encryption (aws:kms:dsse) is not implemented by this server.');
  } else {
    throw new S3Error('MalformedXML');
  }
  if (bucketKey !== undefined) {
    if (bucketKey !== 'true' && bucketKey !== 'false') throw new S3Error('MalformedXML');
    if (bucketKey === 'true') config.b = true;
  }
  await ctx.app.meta.putBucketConfig(bucketOf(ctx).id, 'encryption', JSON.stringify(config));
  return {};
};

export const getBucketEncryption: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const doc = await ctx.app.meta.getBucketConfig(bucket.id, 'encryption');
  if (doc === undefined) throw new S3Error('ServerSideEncryptionConfigurationNotFoundError', undefined, { BucketName: bucket.name });
  const c = JSON.parse(doc) as DefaultEncryption;
  const by: Record<string, string> = { SSEAlgorithm: c.a };
  if (c.k !== undefined) by['KMSMasterKeyID'] = c.k;
  return { xml: { root: 'ServerSideEncryptionConfiguration', body: { Rule: { ApplyServerSideEncryptionByDefault: by, BucketKeyEnabled: c.b ? 'true' : 'false' } } } };
};

export const deleteBucketEncryption: Handler = async (ctx) => {
  await ctx.app.meta.putBucketConfig(bucketOf(ctx).id, 'encryption', undefined);
  return { status: 204 };
};

/** The encryption a bucket's default gives a new object; undefined for none. */
export async function defaultEncryption(app: App, bucketId: number): Promise<SseRequest | undefined> {
  const doc = await app.meta.getBucketConfig(bucketId, 'encryption');
  if (doc === undefined) return undefined;
  const c = JSON.parse(doc) as DefaultEncryption;
  if (c.a === 'AES256') return c.b ? { mode: 'AES256', bucketKey: true } : { mode: 'AES256' };
  const r: SseRequest = { mode: 'aws:kms' };
  if (c.k !== undefined) r.keyId = c.k;
  if (c.b) r.bucketKey = true;
  return r;
}
