// ListParts: GET /<bucket>/<key>?uploadId=U  [max-parts, part-number-marker]

import type { Handler } from '../handler.js';
import { bucketOf } from '../handler.js';
import { intParam, ownerXml, quoteEtag } from '../common.js';
import type { XmlNode } from '../xml.js';
import { MAX_PARTS, loadUpload } from './common.js';

export const listParts: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const up = await loadUpload(ctx);
  const maxParts = intParam(ctx.query.get('max-parts'), 'max-parts', { min: 0, max: 1000, def: 1000 });
  const marker = intParam(ctx.query.get('part-number-marker'), 'part-number-marker', { min: 0, max: MAX_PARTS, def: 0 });
  const rows = await ctx.app.meta.listParts(up.uploadId, marker, maxParts + 1);
  const page = rows.slice(0, maxParts);
  const truncated = rows.length > maxParts;
  const owner = await ownerXml(ctx.app, up.owner);
  const body: XmlNode = {
    Bucket: bucket.name,
    Key: ctx.key,
    UploadId: up.uploadId,
    PartNumberMarker: marker,
    NextPartNumberMarker: page.length ? page[page.length - 1]!.partNumber : marker,
    MaxParts: maxParts,
    IsTruncated: truncated,
    Part: page.map((p) => {
      const n: XmlNode = { PartNumber: p.partNumber, LastModified: new Date(p.lastModified), ETag: quoteEtag(p.etag), Size: p.size };
      if (p.checksum && up.checksumAlgorithm) n[`Checksum${up.checksumAlgorithm}`] = p.checksum;
      return n;
    }),
    Initiator: owner,
    Owner: owner,
    StorageClass: up.storageClass,
  };
  if (up.checksumAlgorithm) {
    body.ChecksumAlgorithm = up.checksumAlgorithm;
    body.ChecksumType = up.checksumType;
  }
  return { xml: { root: 'ListPartsResult', body } };
};
