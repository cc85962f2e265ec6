// ListMultipartUploads: GET /<bucket>?uploads  [prefix, delimiter, key-marker, upload-id-marker, max-uploads, encoding-type]
// Uploads by key (UTF-8 order), then by initiation (upload ids are time-ordered).

import type { Upload } from '../../store/meta/types.js';
import type { Handler } from '../handler.js';
import { bucketOf } from '../handler.js';
import { encoder, intParam, ownerXml } from '../common.js';
import type { XmlNode } from '../xml.js';
import { listPage, type Cursor } from '../bucket/listing.js';

export const listMultipartUploads: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const q = ctx.query;
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') ?? '';
  const maxUploads = intParam(q.get('max-uploads'), 'max-uploads', { min: 0, max: 1000, def: 1000 });
  const enc = encoder(q.get('encoding-type'));
  const keyMarker = q.get('key-marker') || undefined;
  const uploadIdMarker = keyMarker !== undefined ? q.get('upload-id-marker') || undefined : undefined;

  let start: Cursor<Upload>;
  if (keyMarker !== undefined && uploadIdMarker !== undefined) start = { after: { key: keyMarker, uploadId: uploadIdMarker } as Upload };
  else if (keyMarker !== undefined) start = { afterKey: keyMarker };
  const meta = ctx.app.meta;
  const page = await listPage<Upload>(
    (cursor, limit) => {
      if (cursor === undefined) return meta.listUploads(bucket.id, { prefix, limit });
      if ('after' in cursor) return meta.listUploads(bucket.id, { prefix, keyMarker: cursor.after.key, uploadIdMarker: cursor.after.uploadId, limit });
      if ('afterKey' in cursor) return meta.listUploads(bucket.id, { prefix, keyMarker: cursor.afterKey, limit });
      return meta.listUploads(bucket.id, { prefix, startKey: cursor.atKey, limit });
    },
    { prefix, delimiter, maxKeys: maxUploads, start, startKey: keyMarker, keyOf: (u) => u.key },
  );

  const uploads: XmlNode[] = [];
  for (const u of page.items) {
    const owner = await ownerXml(ctx.app, u.owner);
    const n: XmlNode = { Key: enc(u.key), UploadId: u.uploadId, Initiator: owner, Owner: owner, StorageClass: u.storageClass, Initiated: new Date(u.initiated) };
    if (u.checksumAlgorithm) {
      n.ChecksumAlgorithm = u.checksumAlgorithm;
      n.ChecksumType = u.checksumType;
    }
    uploads.push(n);
  }
  const body: XmlNode = { Bucket: bucket.name, KeyMarker: enc(keyMarker ?? ''), UploadIdMarker: uploadIdMarker ?? '' };
  if (page.truncated && page.last) {
    if ('item' in page.last) {
      body.NextKeyMarker = enc(page.last.item.key);
      body.NextUploadIdMarker = page.last.item.uploadId;
    } else {
      body.NextKeyMarker = enc(page.last.prefix);
    }
  }
  if (delimiter) body.Delimiter = enc(delimiter);
  body.Prefix = enc(prefix);
  body.MaxUploads = maxUploads;
  body.IsTruncated = page.truncated;
  body.Upload = uploads;
  body.CommonPrefixes = page.prefixes.map((p) => ({ Prefix: enc(p) }));
  if (q.has('encoding-type')) body.EncodingType = 'url';
  return { xml: { root: 'ListMultipartUploadsResult', body } };
};
