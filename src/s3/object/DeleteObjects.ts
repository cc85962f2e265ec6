// DeleteObjects: POST /<bucket>?delete   <Delete><Quiet/><Object><Key/><VersionId/></Object>…</Delete>
// Up to 1000 keys; each is deleted in its own transaction (they share fsyncs through group
// commit); per-key failures are reported in the result, not as a request error.

import { createHash } from 'node:crypto';
import { CHECKSUM_ALGORITHMS, checksumHeader, createChecksum } from '../../auth/checksums.js';
import { isMintedId } from '../../store/ids.js';
import { MAX_KEY_BYTES } from '../../http/request.js';
import { S3Error, isS3Error } from '../errors.js';
import type { Handler, S3Context } from '../handler.js';
import { bucketOf } from '../handler.js';
import { childText, children, parseXmlBody, type XmlNode } from '../xml.js';
import { parseContentMd5, unquoteEtag } from './headers.js';

const MAX_KEYS = 1000;
const CONCURRENCY = 64;

/** DeleteObjects must carry Content-MD5 or a flexible checksum of its body, which must match. */
function verifyBodyDigest(ctx: S3Context, body: Buffer): void {
  const md5 = parseContentMd5(ctx.headers);
  if (md5) {
    if (!createHash('md5').update(body).digest().equals(md5)) throw new S3Error('BadDigest');
    return;
  }
  for (const alg of CHECKSUM_ALGORITHMS) {
    const expected = ctx.headers[checksumHeader(alg)];
    if (expected === undefined) continue;
    const h = createChecksum(alg);
    h.update(body);
    if (h.digest().toString('base64') !== expected) throw new S3Error('BadDigest', `The ${alg} you specified did not match the calculated checksum.`);
    return;
  }
  if (ctx.auth.payload.kind === 'chunked' && ctx.auth.payload.trailerNames.some((n) => n.startsWith('x-amz-checksum-'))) return;
  throw new S3Error('InvalidRequest', 'Missing required header for this request: Content-MD5');
}

interface Target {
  key: string;
  versionId: string | undefined;
  etag: string | undefined;
}

export const deleteObjects: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const body = await ctx.readBody(4 * 1024 * 1024);
  const doc = parseXmlBody(body, 'Delete');
  verifyBodyDigest(ctx, body);
  const quiet = (childText(doc, 'Quiet') ?? 'false').trim().toLowerCase() === 'true';
  const objects = children(doc, 'Object');
  if (objects.length === 0 || objects.length > MAX_KEYS) throw new S3Error('MalformedXML');
  const targets: Target[] = objects.map((o) => {
    const key = childText(o, 'Key');
    if (key === undefined) throw new S3Error('MalformedXML');
    const etag = childText(o, 'ETag');
    return { key, versionId: childText(o, 'VersionId'), etag: etag === undefined ? undefined : unquoteEtag(etag) };
  });
  const bypass = String(ctx.headers['x-amz-bypass-governance-retention'] ?? '').toLowerCase() === 'true';

  const results: XmlNode[] = new Array(targets.length);
  const deleteOne = async (t: Target, i: number): Promise<void> => {
    try {
      if (t.key === '' || Buffer.byteLength(t.key) > MAX_KEY_BYTES) throw new S3Error(t.key === '' ? 'InvalidArgument' : 'KeyTooLongError');
      if (t.versionId !== undefined && t.versionId !== 'null' && !isMintedId(t.versionId)) throw new S3Error('NoSuchVersion');
      const r = await ctx.app.meta.deleteObject(bucket.id, t.key, {
        ...(t.versionId !== undefined ? { versionId: t.versionId } : {}),
        bypassGovernance: bypass,
        now: Date.now(),
        ...(t.etag !== undefined ? { conditions: { ifMatch: t.etag } } : {}),
      });
      if (quiet) return;
      const node: XmlNode = { Key: t.key };
      if (t.versionId !== undefined) node.VersionId = t.versionId;
      if (r.deleteMarker) {
        node.DeleteMarker = true;
        node.DeleteMarkerVersionId = r.versionId;
      }
      results[i] = { Deleted: node };
    } catch (e) {
      if (!isS3Error(e)) throw e;
      const node: XmlNode = { Key: t.key };
      if (t.versionId !== undefined) node.VersionId = t.versionId;
      node.Code = e.code;
      node.Message = e.message;
      results[i] = { Error: node };
    }
  };
  let next = 0;
  const worker = async () => {
    while (next < targets.length) {
      const i = next++;
      await deleteOne(targets[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, targets.length) }, worker));

  const deleted = results.filter((r) => r && 'Deleted' in r).map((r) => r.Deleted);
  const errors = results.filter((r) => r && 'Error' in r).map((r) => r.Error);
  return { xml: { root: 'DeleteResult', body: { Deleted: deleted, Error: errors } } };
};
