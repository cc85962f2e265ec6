// CopyObject: PUT /<bucket>/<key> with x-amz-copy-source
// The copy shares the source's bytes (inline bytes are duplicated; blobs and parts take another
// reference), so copying a large object moves no data. x-amz-metadata-directive COPY keeps the
// source's headers and metadata, REPLACE takes the request's.

import { combineWork, notified, notifyWork } from '../bucket/notification.js';
import { replicationForWrite } from '../../replication/writes.js';
import { checksumHeader, createChecksum, parseChecksumAlgorithm } from '../../auth/checksums.js';
import type { ObjectContent } from '../../store/meta/types.js';
import { S3Error } from '../errors.js';
import type { Handler } from '../handler.js';
import { bucketOf } from '../handler.js';
import { quoteEtag } from '../common.js';
import { loadCopySource } from './copySource.js';
import { checkStorageClass, checkRedirectLocation, parseWriteConditions, parseWriteHeaders } from './headers.js';
import { MAX_PUT_SIZE, refuseUnsupported } from './PutObject.js';
import { bodyChunks, checkStoredData, closeBody, objectBody } from './read.js';
import { lockForWrite } from './lock.js';
import { parseTaggingHeader } from './tagging.js';
import { newObjectAccess } from './writeAcl.js';
import { dataKeyForRead, encryptionForWrite, encryptionHeaders, sealing } from './encryption.js';
import { discardBlob, storeBytes } from './ingest.js';
import { encryptedEtag, parseSseRequest } from '../../sse/object.js';

function directive(value: string | string[] | undefined, name: string): 'COPY' | 'REPLACE' {
  const v = (Array.isArray(value) ? value[0] : value) ?? 'COPY';
  if (v !== 'COPY' && v !== 'REPLACE') throw new S3Error('InvalidArgument', `Unknown ${name}.`, { ArgumentName: name, ArgumentValue: v });
  return v;
}

export const copyObject: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  refuseUnsupported(ctx);
  const metadataDirective = directive(ctx.headers['x-amz-metadata-directive'], 'x-amz-metadata-directive');
  const taggingDirective = directive(ctx.headers['x-amz-tagging-directive'], 'x-amz-tagging-directive');
  const requestTags = parseTaggingHeader(ctx.headers);
  // The copy's owner and ACL come from this request, never from the source.
  const access = await newObjectAccess(ctx);
  const src = await loadCopySource(ctx);
  const v = src.version;
  if (v.size > MAX_PUT_SIZE) {
    throw new S3Error('InvalidRequest', `The specified copy source is larger than the maximum allowable size for a copy source: ${MAX_PUT_SIZE}`);
  }
  const storageClassHeader = ctx.headers['x-amz-storage-class'];
  const storageClass = storageClassHeader === undefined ? 'STANDARD' : String(storageClassHeader);
  checkStorageClass(storageClass, ctx.app.tiers.classes);
  const algHeader = ctx.headers['x-amz-checksum-algorithm'];
  const algorithm = algHeader === undefined ? undefined : parseChecksumAlgorithm(String(algHeader));
  if (algHeader !== undefined && !algorithm) throw new S3Error('InvalidRequest', 'Checksum algorithm provided is unsupported.');

  // Source and destination encryption are independent: the source's key (SSE-C: the
  // x-amz-copy-source-server-side-encryption-customer-* headers) opens it; the copy is encrypted
  // as this request (or the bucket's default) says, whatever the source was.
  const srcKey = await dataKeyForRead(ctx, v, 'x-amz-copy-source-server-side-encryption');
  const requested = parseSseRequest(ctx.headers);
  const selfCopy = src.bucket.id === bucket.id && src.key === ctx.key && (src.versionId === undefined || v.isLatest);
  const changes = metadataDirective === 'REPLACE' || taggingDirective === 'REPLACE' || storageClassHeader !== undefined || ctx.headers['x-amz-website-redirect-location'] !== undefined || algorithm !== undefined || requested !== undefined;
  if (selfCopy && !changes) {
    throw new S3Error(
      'InvalidRequest',
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  }

  // The copy shares or duplicates the source's data: it must be intact.
  await checkStoredData(ctx.app, src.bucket.name, v);

  const write = metadataDirective === 'REPLACE' ? parseWriteHeaders(ctx.headers, ctx.app.tiers.classes) : { headers: copiedHeaders(v.headers, ctx.headers['x-amz-website-redirect-location']), userMeta: v.userMeta };
  const content: ObjectContent = {
    size: v.size,
    etag: v.etag,
    lastModified: Date.now(),
    owner: access.owner,
    storageClass,
    headers: write.headers,
    userMeta: write.userMeta,
  };
  if (access.acl !== undefined) content.acl = access.acl;
  const tags = taggingDirective === 'REPLACE' ? requestTags : v.tags;
  if (tags && tags.length) content.tags = tags;
  const lock = await lockForWrite(ctx, content.lastModified);
  if (lock.retention) content.retention = lock.retention;
  if (lock.legalHold !== undefined) content.legalHold = lock.legalHold;
  const sse = await encryptionForWrite(ctx);
  let written: string | undefined;
  // A tiered source's bytes are not here to share (each remote copy belongs to one version).
  const rewrite = srcKey !== undefined || sse !== undefined || v.tier !== undefined;
  if (rewrite) {
    // Encrypted bytes are sealed under their object's keys: decrypt and re-seal (a rewrite).
    const body = await objectBody(ctx.app, src.bucket.name, v, 0, v.size - 1, srcKey);
    let data;
    try {
      const computeAlgorithm = algorithm ?? (v.checksum?.type === 'FULL_OBJECT' ? v.checksum.algorithm : undefined);
      data = await storeBytes(ctx.app, bodyChunks(body), v.size, () => ({}), { computeAlgorithm, inlineThreshold: ctx.app.config.inlineThreshold, maxSize: MAX_PUT_SIZE, seal: sealing(sse?.desc, sse?.dataKey), policy: await ctx.app.storagePolicies.specOf(bucket) });
    } finally {
      await closeBody(body);
    }
    content.etag = sse ? encryptedEtag(sse.desc, data.md5, sse.dataKey) : data.md5;
    if (data.inline) content.inline = data.inline;
    if (data.blobId) content.blobId = written = data.blobId;
    if (sse) content.sse = data.inlineId ? { ...sse.desc, n: data.inlineId } : sse.desc;
    if (data.checksum) content.checksum = { ...data.checksum, type: 'FULL_OBJECT' };
  } else if (v.inline) {
    content.inline = Buffer.from(v.inline);
  } else if (v.blobId) {
    content.blobId = v.blobId;
    content.sharedData = true;
  } else if (v.partsCount) {
    content.parts = await ctx.app.meta.getObjectParts(v.rowId, 1, v.partsCount);
    content.sharedData = true;
  }
  if (rewrite) {
    // Rewritten above, with its checksum.
  } else if (algorithm && (v.checksum?.algorithm !== algorithm || v.checksum.type !== 'FULL_OBJECT')) {
    // A new algorithm: read the bytes once to compute it (they are still not rewritten).
    const h = createChecksum(algorithm);
    const body = await objectBody(ctx.app, src.bucket.name, v, 0, v.size - 1);
    try {
      for await (const chunk of bodyChunks(body)) h.update(chunk);
    } finally {
      await closeBody(body);
    }
    content.checksum = { algorithm, value: h.digest().toString('base64'), type: 'FULL_OBJECT' };
  } else if (v.checksum) {
    content.checksum = v.checksum;
  }

  let res;
  try {
    const events = await notifyWork(ctx, 's3:ObjectCreated:Copy', ctx.key, { size: content.size, etag: content.etag });
    const work = combineWork(events, await replicationForWrite(ctx, bucket, content));
    res = await ctx.app.meta.putObject(bucket.id, ctx.key, content, parseWriteConditions(ctx.headers), work ? { work } : undefined);
    notified(ctx, events);
  } catch (e) {
    await discardBlob(ctx.app, written, e);
    throw e;
  }
  const result: Record<string, string | Date> = { ETag: quoteEtag(content.etag), LastModified: new Date(content.lastModified) };
  const headers: Record<string, string> = { ...encryptionHeaders(ctx, content.sse) };
  if (content.checksum) {
    result[`Checksum${content.checksum.algorithm}`] = content.checksum.value;
    result.ChecksumType = content.checksum.type;
    headers[checksumHeader(content.checksum.algorithm)] = content.checksum.value;
  }
  if (res.versionId !== 'null') headers['x-amz-version-id'] = res.versionId;
  if (v.versionId !== 'null') headers['x-amz-copy-source-version-id'] = v.versionId;
  return { headers, xml: { root: 'CopyObjectResult', body: result } };
};

/**
 * The source's stored headers for a COPY: all but its website redirect location, which "is unique
 * to each object and is not copied" — the copy gets the request's, if it names one.
 */
function copiedHeaders(source: Record<string, string>, redirect: string | string[] | undefined): Record<string, string> {
  const { ['x-amz-website-redirect-location']: _dropped, ...rest } = source;
  const location = Array.isArray(redirect) ? redirect.join(',') : redirect;
  if (location !== undefined) checkRedirectLocation(location);
  return location === undefined ? rest : { ...rest, 'x-amz-website-redirect-location': location };
}
