// ListObjectVersions: GET /<bucket>?versions
// Every version and delete marker, key ascending and newest first within a key, interleaved as S3
// lists them; in unversioned buckets every object is listed once with version id "null".

import type { ListedObject } from '../../store/meta/types.js';
import { isMintedId } from '../../store/ids.js';
import { S3Error } from '../errors.js';
import type { Handler } from '../handler.js';
import { bucketOf } from '../handler.js';
import { encoder, intParam, objectOwnerFragments } from '../common.js';
import { RawXml, escapeXml, isoTime, type XmlNode } from '../xml.js';
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

  // Versions and delete markers interleaved in listing order, rendered with templates.
  const owner = await objectOwnerFragments(ctx);
  let entries = '';
  for (const v of page.items) {
    const head = `<Key>${escapeXml(enc(v.key))}</Key><VersionId>${v.versionId}</VersionId><IsLatest>${v.isLatest}</IsLatest><LastModified>${isoTime(v.lastModified)}</LastModified>`;
    if (v.deleteMarker) {
      entries += `<DeleteMarker>${head}${await owner(v.owner)}</DeleteMarker>`;
      continue;
    }
    entries += `<Version>${head}<ETag>&quot;${v.etag}&quot;</ETag>`;
    if (v.checksumAlgorithm) entries += `<ChecksumAlgorithm>${v.checksumAlgorithm}</ChecksumAlgorithm>`;
    if (v.checksumType) entries += `<ChecksumType>${v.checksumType}</ChecksumType>`;
    entries += `<Size>${v.size}</Size>${await owner(v.owner)}<StorageClass>${v.storageClass}</StorageClass></Version>`;
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
  body.Entries = new RawXml(entries);
  body.CommonPrefixes = page.prefixes.map((p) => ({ Prefix: enc(p) }));
  if (q.has('encoding-type')) body.EncodingType = 'url';
  return { xml: { root: 'ListVersionsResult', body } };
};
