// GetObjectAttributes: GET /<bucket>/<key>?attributes
//   x-amz-object-attributes: ETag,Checksum,ObjectParts,StorageClass,ObjectSize
//   x-amz-max-parts, x-amz-part-number-marker paginate ObjectParts.

import { S3Error } from '../errors.js';
import type { Handler } from '../handler.js';
import { bucketOf } from '../handler.js';
import { intParam } from '../common.js';
import { httpDate, type XmlNode } from '../xml.js';
import { loadForRead } from './GetObject.js';
import { dataKeyForRead } from './encryption.js';

const ATTRIBUTES = new Set(['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize']);

export const getObjectAttributes: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const raw = ctx.headers['x-amz-object-attributes'];
  const wanted = new Set(
    (Array.isArray(raw) ? raw.join(',') : raw ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  if (wanted.size === 0) throw new S3Error('InvalidRequest', 'The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty');
  for (const a of wanted) if (!ATTRIBUTES.has(a)) throw new S3Error('InvalidArgument', 'Invalid attribute name specified.', { ArgumentName: 'x-amz-object-attributes', ArgumentValue: a });
  const header = (n: string) => {
    const v = ctx.headers[n];
    return Array.isArray(v) ? v[0] : v;
  };
  const maxParts = intParam(header('x-amz-max-parts'), 'x-amz-max-parts', { min: 0, max: 1000, def: 1000 });
  const marker = intParam(header('x-amz-part-number-marker'), 'x-amz-part-number-marker', { min: 0, max: 10000, def: 0 });

  const v = await loadForRead(ctx);
  // An SSE-C object's attributes need its key, as its data does.
  await dataKeyForRead(ctx, v);
  const body: XmlNode = {};
  if (wanted.has('ETag')) body.ETag = v.etag;
  if (wanted.has('Checksum') && v.checksum) body.Checksum = { [`Checksum${v.checksum.algorithm}`]: v.checksum.value, ChecksumType: v.checksum.type };
  if (wanted.has('ObjectParts') && v.partsCount) {
    const parts = await ctx.app.meta.getObjectParts(v.rowId, marker + 1, maxParts + 1);
    const page = parts.slice(0, maxParts);
    body.ObjectParts = {
      PartsCount: v.partsCount,
      PartNumberMarker: marker,
      NextPartNumberMarker: page.length ? page[page.length - 1]!.partNumber : marker,
      MaxParts: maxParts,
      IsTruncated: parts.length > maxParts,
      Part: page.map((p) => {
        const n: XmlNode = { PartNumber: p.partNumber, Size: p.size };
        if (p.checksum && v.checksum) n[`Checksum${v.checksum.algorithm}`] = p.checksum;
        return n;
      }),
    };
  }
  if (wanted.has('StorageClass')) body.StorageClass = v.storageClass;
  if (wanted.has('ObjectSize')) body.ObjectSize = v.size;
  const headers: Record<string, string> = { 'Last-Modified': httpDate(v.lastModified) };
  if (bucket.versioning !== 'Unversioned' || v.versionId !== 'null') headers['x-amz-version-id'] = v.versionId;
  return { headers, xml: { root: 'GetObjectAttributesResponse', body } };
};
