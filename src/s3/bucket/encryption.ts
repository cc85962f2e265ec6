// Put/Get/DeleteBucketEncryption: PUT|GET|DELETE /<bucket>?encryption
// A bucket's default encryption (SSE-S3, or SSE-KMS with a key id) applies to new objects whose
// write names no encryption of its own. Its blocked encryption types (BlockedEncryptionTypes, S3
// since April 2026: SSE-C, or NONE) refuse writes of new data that ask for them: "When SSE-C is
// blocked for a bucket, any PutObject, CopyObject, PostObject, or Multipart Upload … requests that
// specify SSE-C encryption will be rejected with an HTTP 403 AccessDenied error"; objects already
// stored that way are still read (S3 User Guide, blocking-unblocking-s3-c-encryption-gpb).
// Stored as JSON: { a?: 'AES256' | 'aws:kms', k?: key id, b?: bucket key, x?: blocked types as put }.
// A PutBucketEncryption replaces the whole configuration: a rule without BlockedEncryptionTypes
// blocks nothing. Read through a cache (app.bucketEncryption): every write consults it.

import type { App } from '../../app.js';
import type { Bucket } from '../../store/meta/types.js';
import { S3Error } from '../errors.js';
import type { Handler } from '../handler.js';
import { bucketOf } from '../handler.js';
import { children, childText, type ParsedXml, type XmlNode } from '../xml.js';
import type { SseRequest } from '../../sse/object.js';

export interface BucketEncryption {
  /** The default encryption of new objects; absent: none (the rule only blocks types). */
  a?: 'AES256' | 'aws:kms';
  k?: string;
  b?: boolean;
  /** BlockedEncryptionTypes' EncryptionType values as put: ['SSE-C'] or ['NONE']. */
  x?: BlockedEncryptionType[];
}

export type BlockedEncryptionType = 'SSE-C' | 'NONE';

/** What `--bucket-defaults aws` gives a new bucket, as S3 does since April 2026: SSE-C blocked. */
export const SSE_C_BLOCKED: BucketEncryption = { x: ['SSE-C'] };

export function serializeBucketEncryption(c: BucketEncryption): string {
  return JSON.stringify(c);
}

export function deserializeBucketEncryption(s: string): BucketEncryption {
  return JSON.parse(s) as BucketEncryption;
}

function blockedTypes(rule: ParsedXml): BlockedEncryptionType[] | undefined {
  const blocked = children(rule, 'BlockedEncryptionTypes');
  if (blocked.length === 0) return undefined;
  if (blocked.length > 1) throw new S3Error('MalformedXML');
  const types = children(blocked[0], 'EncryptionType').map((t) => {
    if (typeof t !== 'string' || (t !== 'SSE-C' && t !== 'NONE')) throw new S3Error('MalformedXML');
    return t;
  });
  if (types.length === 0) throw new S3Error('MalformedXML');
  const distinct = [...new Set(types)];
  if (distinct.length > 1) throw new S3Error('InvalidArgument', 'NONE cannot be combined with another blocked encryption type.', { ArgumentName: 'BlockedEncryptionTypes' });
  return distinct;
}

export const putBucketEncryption: Handler = async (ctx) => {
  const doc = await ctx.readXml('ServerSideEncryptionConfiguration', { maxBytes: 16 * 1024 });
  const rules = children(doc, 'Rule');
  if (rules.length !== 1) throw new S3Error('MalformedXML');
  const rule = rules[0] as ParsedXml;
  const by = children(rule, 'ApplyServerSideEncryptionByDefault');
  const blocked = blockedTypes(rule);
  if (by.length > 1 || (by.length === 0 && blocked === undefined)) throw new S3Error('MalformedXML');
  const config: BucketEncryption = {};
  if (by.length === 1) {
    const alg = childText(by[0], 'SSEAlgorithm');
    const keyId = childText(by[0], 'KMSMasterKeyID');
    if (alg === 'AES256') {
      if (keyId !== undefined) throw new S3Error('InvalidArgument', 'a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms');
      config.a = 'AES256';
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
  }
  const bucketKey = childText(rule, 'BucketKeyEnabled');
  if (bucketKey !== undefined) {
    if (bucketKey !== 'true' && bucketKey !== 'false') throw new S3Error('MalformedXML');
    if (bucketKey === 'true') config.b = true;
  }
  if (blocked) config.x = blocked;
  await ctx.app.bucketEncryption.put(bucketOf(ctx), config);
  return {};
};

export const getBucketEncryption: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const c = await ctx.app.bucketEncryption.get(bucket);
  if (c === undefined) throw new S3Error('ServerSideEncryptionConfigurationNotFoundError', undefined, { BucketName: bucket.name });
  const rule: XmlNode = {};
  if (c.a !== undefined) {
    const by: Record<string, string> = { SSEAlgorithm: c.a };
    if (c.k !== undefined) by['KMSMasterKeyID'] = c.k;
    rule['ApplyServerSideEncryptionByDefault'] = by;
    rule['BucketKeyEnabled'] = c.b ? 'true' : 'false';
  }
  if (c.x !== undefined) rule['BlockedEncryptionTypes'] = { EncryptionType: c.x };
  return { xml: { root: 'ServerSideEncryptionConfiguration', body: { Rule: rule } } };
};

export const deleteBucketEncryption: Handler = async (ctx) => {
  await ctx.app.bucketEncryption.put(bucketOf(ctx), undefined);
  return { status: 204 };
};

/** The encryption a bucket's default gives a new object; undefined for none. */
export async function defaultEncryption(app: App, bucket: Bucket): Promise<SseRequest | undefined> {
  const c = await app.bucketEncryption.get(bucket);
  if (c?.a === undefined) return undefined;
  if (c.a === 'AES256') return c.b ? { mode: 'AES256', bucketKey: true } : { mode: 'AES256' };
  const r: SseRequest = { mode: 'aws:kms' };
  if (c.k !== undefined) r.keyId = c.k;
  if (c.b) r.bucketKey = true;
  return r;
}

/** Whether the bucket refuses new data encrypted with customer keys (BlockedEncryptionTypes SSE-C). */
export async function sseCBlocked(app: App, bucket: Bucket): Promise<boolean> {
  return (await app.bucketEncryption.get(bucket))?.x?.includes('SSE-C') ?? false;
}
