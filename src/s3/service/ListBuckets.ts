// ListBuckets: GET /  — the caller's buckets, by name, optionally paginated.

import { S3Error } from '../errors.js';
import type { Handler } from '../handler.js';
import { intParam, ownerXml } from '../common.js';
import type { XmlNode } from '../xml.js';

export const listBuckets: Handler = async (ctx) => {
  const owner = ctx.identity!.userId;
  const q = ctx.query;
  const paginated = q.has('max-buckets') || q.has('continuation-token');
  const max = intParam(q.get('max-buckets'), 'max-buckets', { min: 1, max: 10000, def: 10000 });
  const prefix = q.get('prefix') ?? '';
  const region = q.get('bucket-region');
  let after: string | undefined;
  const token = q.get('continuation-token');
  if (token !== undefined) {
    after = Buffer.from(token, 'base64url').toString('utf8');
    if (!after || Buffer.from(after, 'utf8').toString('base64url') !== token) {
      throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect', { ArgumentName: 'continuation-token' });
    }
  }
  const rows = await ctx.app.meta.listBuckets(owner, { prefix, ...(after !== undefined ? { after } : {}), limit: paginated ? max + 1 : 1_000_000 });
  const filtered = region ? rows.filter((b) => b.region === region) : rows;
  const page = paginated ? filtered.slice(0, max) : filtered;
  const more = paginated && rows.length > max;
  const body: XmlNode = {
    Owner: await ownerXml(ctx.app, owner),
    Buckets: { Bucket: page.map((b) => ({ Name: b.name, CreationDate: new Date(b.createdAt), BucketRegion: b.region })) },
  };
  if (more) body.ContinuationToken = Buffer.from(page[page.length - 1]!.name, 'utf8').toString('base64url');
  if (q.has('prefix')) body.Prefix = prefix;
  return { xml: { root: 'ListAllMyBucketsResult', body } };
};
