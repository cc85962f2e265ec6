// ListObjectVersions: GET /<bucket>?versions
// Every version and delete marker, key ascending and newest first within a key, interleaved as S3
// lists them; in unversioned buckets every object is listed once with version id "null".

import type { ListedObject } from '../../store/meta/types.js';
import { isMintedId } from '../../store/ids.js';
import { S3Error } from '../errors.js';
import type { Handler } from '../handler.js';
import { bucketOf } from '../handler.js';
import { encoder, intParam, ownerXml, quoteEtag } from '../common.js';
import { SEQ, type XmlNode } from '../xml.js';
import { listPage, type Cursor } from './listing.js';

export const listObjectVersions: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const q = ctx.query;
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') ?? '';
  const maxKeys = intParam(q.get('max-keys'), 'max-keys', { min: 0, max: 1000, def: 1000 });
  const enc = encoder(q.get('encoding-type'));
  const keyMarker = q.get('key-marker') || undefined;
  const versionIdMarker = q.get('version-id-marker') || undefined;
  if (versionIdMarker !== undefined) {
    if (keyMarker === undefined) throw new S3Error('InvalidArgument', 'A version-id marker cannot be specified without a key marker.', { ArgumentName: 'version-id-marker', ArgumentValue: versionIdMarker });
    if (versionIdMarker !== 'null' && !isMintedId(versionIdMarker)) throw new S3Error('InvalidArgument', 'Invalid version id specified', { ArgumentName: 'version-id-marker', ArgumentValue: versionIdMarker });
  }

  let start: Cursor<ListedObject>;
  if (keyMarker !== undefined && versionIdMarker !== undefined) start = { after: { key: keyMarker, versionId: versionIdMarker } as ListedObject };
  else if (keyMarker !== undefined) start = { afterKey: keyMarker };
  const meta = ctx.app.meta;
  const page = await listPage<ListedObject>(
    (cursor, limit) => {
      if (cursor === undefined) return meta.listVersions(bucket.id, { prefix, limit });
      if ('after' in cursor) return meta.listVersions(bucket.id, { prefix, keyMarker: cursor.after.key, versionIdMarker: cursor.after.versionId, limit });
      if ('afterKey' in cursor) return meta.listVersions(bucket.id, { prefix, keyMarker: cursor.afterKey, limit });
      return meta.listVersions(bucket.id, { prefix, startKey: cursor.atKey, limit });
    },
    { prefix, delimiter, maxKeys, start, startKey: keyMarker, keyOf: (v) => v.key },
  );

  const entries: XmlNode[] = [];
  for (const v of page.items) {
    const owner = await ownerXml(ctx.app, v.owner);
    if (v.deleteMarker) {
      entries.push({ DeleteMarker: { Key: enc(v.key), VersionId: v.versionId, IsLatest: v.isLatest, LastModified: new Date(v.lastModified), Owner: owner } });
      continue;
    }
    const node: XmlNode = { Key: enc(v.key), VersionId: v.versionId, IsLatest: v.isLatest, LastModified: new Date(v.lastModified), ETag: quoteEtag(v.etag) };
    if (v.checksumAlgorithm) node.ChecksumAlgorithm = v.checksumAlgorithm;
    if (v.checksumType) node.ChecksumType = v.checksumType;
    node.Size = v.size;
    node.Owner = owner;
    node.StorageClass = v.storageClass;
    entries.push({ Version: node });
  }
  const body: XmlNode = {
    Name: bucket.name,
    Prefix: enc(prefix),
    KeyMarker: enc(keyMarker ?? ''),
    VersionIdMarker: versionIdMarker ?? '',
  };
  if (page.truncated && page.last) {
    if ('item' in page.last) {
      body.NextKeyMarker = enc(page.last.item.key);
      body.NextVersionIdMarker = page.last.item.versionId;
    } else {
      body.NextKeyMarker = enc(page.last.prefix);
    }
  }
  body.MaxKeys = maxKeys;
  if (delimiter) body.Delimiter = enc(delimiter);
  body.IsTruncated = page.truncated;
  body[SEQ] = entries;
  body.CommonPrefixes = page.prefixes.map((p) => ({ Prefix: enc(p) }));
  if (q.has('encoding-type')) body.EncodingType = 'url';
  return { xml: { root: 'ListVersionsResult', body } };
};
