// ListObjects (v1): GET /<bucket>           — marker / NextMarker
// ListObjectsV2:    GET /<bucket>?list-type=2 — continuation-token / start-after

import { POLICY_HEADER } from '../../storage/policies.js';
import { S3Error } from '../errors.js';
import type { Handler, S3Context } from '../handler.js';
import { bucketOf } from '../handler.js';
import { encoder, intParam, objectOwnerFragments } from '../common.js';
import { RawXml, escapeXml, isoTime, type XmlNode } from '../xml.js';
import type { ListedObject } from '../../store/meta/types.js';
import { listPage, type Cursor, type Page } from './listing.js';

interface Common {
  prefix: string;
  delimiter: string;
  maxKeys: number;
  enc: (s: string) => string;
}

function commonParams(ctx: S3Context): Common {
  const q = ctx.query;
  return {
    prefix: q.get('prefix') ?? '',
    delimiter: q.get('delimiter') ?? '',
    maxKeys: intParam(q.get('max-keys'), 'max-keys', { min: 0, max: 1000, def: 1000 }),
    enc: encoder(q.get('encoding-type')),
  };
}

async function runListing(ctx: S3Context, c: Common, startAfter: string | undefined): Promise<Page<ListedObject>> {
  const bucketId = bucketOf(ctx).id;
  const meta = ctx.app.meta;
  const start: Cursor<ListedObject> = startAfter !== undefined ? { afterKey: startAfter } : undefined;
  return listPage<ListedObject>(
    (cursor, limit) => {
      if (cursor === undefined) return meta.listObjects(bucketId, { prefix: c.prefix, limit });
      if ('after' in cursor) return meta.listObjects(bucketId, { prefix: c.prefix, start: cursor.after.key, limit });
      if ('afterKey' in cursor) return meta.listObjects(bucketId, { prefix: c.prefix, start: cursor.afterKey, limit });
      return meta.listObjects(bucketId, { prefix: c.prefix, start: cursor.atKey, startInclusive: true, limit });
    },
    { prefix: c.prefix, delimiter: c.delimiter, maxKeys: c.maxKeys, start, startKey: startAfter, keyOf: (o) => o.key },
  );
}

/** <Contents> entries, rendered with a template (a page holds up to 1000 of them). */
async function contents(ctx: S3Context, items: ListedObject[], c: Common, withOwner: boolean): Promise<RawXml> {
  const owner = await objectOwnerFragments(ctx);
  let out = '';
  for (const o of items) {
    out += `<Contents><Key>${escapeXml(c.enc(o.key))}</Key><LastModified>${isoTime(o.lastModified)}</LastModified><ETag>&quot;${o.etag}&quot;</ETag>`;
    if (o.checksumAlgorithm) out += `<ChecksumAlgorithm>${o.checksumAlgorithm}</ChecksumAlgorithm>`;
    if (o.checksumType) out += `<ChecksumType>${o.checksumType}</ChecksumType>`;
    out += `<Size>${o.size}</Size>`;
    if (withOwner) out += await owner(o.owner);
    out += `<StorageClass>${o.storageClass}</StorageClass></Contents>`;
  }
  return new RawXml(out);
}

function lastName(page: Page<ListedObject>): string | undefined {
  if (!page.last) return undefined;
  return 'item' in page.last ? page.last.item.key : page.last.prefix;
}

export const listObjectsV1: Handler = async (ctx) => {
  const c = commonParams(ctx);
  const marker = ctx.query.get('marker');
  const page = await runListing(ctx, c, marker || undefined);
  const body: XmlNode = {
    Name: bucketOf(ctx).name,
    // S3 encodes Key, Marker, NextMarker, Delimiter and CommonPrefixes in v1, but not Prefix.
    Prefix: c.prefix,
    Marker: c.enc(marker ?? ''),
    MaxKeys: c.maxKeys,
  };
  if (c.delimiter) body.Delimiter = c.enc(c.delimiter);
  body.IsTruncated = page.truncated;
  if (page.truncated && c.delimiter) body.NextMarker = c.enc(lastName(page)!);
  body.Contents = await contents(ctx, page.items, c, true);
  body.CommonPrefixes = page.prefixes.map((p) => ({ Prefix: c.enc(p) }));
  if (ctx.query.has('encoding-type')) body.EncodingType = 'url';
  return { xml: { root: 'ListBucketResult', body }, headers: { [POLICY_HEADER]: await ctx.app.storagePolicies.nameOf(bucketOf(ctx)) } };
};

const TOKEN_TAG = 'v1:';

function encodeToken(key: string): string {
  return Buffer.from(TOKEN_TAG + key, 'utf8').toString('base64');
}

function decodeToken(token: string): string {
  const s = Buffer.from(token, 'base64').toString('utf8');
  if (!s.startsWith(TOKEN_TAG) || Buffer.from(s, 'utf8').toString('base64') !== token) {
    throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect', { ArgumentName: 'continuation-token' });
  }
  return s.slice(TOKEN_TAG.length);
}

export const listObjectsV2: Handler = async (ctx) => {
  const c = commonParams(ctx);
  const q = ctx.query;
  const token = q.get('continuation-token');
  const startAfter = q.get('start-after');
  let resumeAfter: string | undefined;
  if (token) {
    resumeAfter = decodeToken(token);
  } else if (startAfter) {
    resumeAfter = startAfter;
  }
  const page = await runListing(ctx, c, resumeAfter);
  const body: XmlNode = {
    Name: bucketOf(ctx).name,
    Prefix: c.enc(c.prefix),
    MaxKeys: c.maxKeys,
    KeyCount: page.items.length + page.prefixes.length,
  };
  if (c.delimiter) body.Delimiter = c.enc(c.delimiter);
  body.IsTruncated = page.truncated;
  if (token !== undefined) body.ContinuationToken = token;
  if (page.truncated) body.NextContinuationToken = encodeToken(lastName(page)!);
  if (startAfter !== undefined) body.StartAfter = c.enc(startAfter);
  body.Contents = await contents(ctx, page.items, c, q.get('fetch-owner') === 'true');
  body.CommonPrefixes = page.prefixes.map((p) => ({ Prefix: c.enc(p) }));
  if (q.has('encoding-type')) body.EncodingType = 'url';
  return { xml: { root: 'ListBucketResult', body }, headers: { [POLICY_HEADER]: await ctx.app.storagePolicies.nameOf(bucketOf(ctx)) } };
};
