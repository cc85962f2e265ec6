// Object tagging: x-amz-tagging on writes, Put/Get/DeleteObjectTagging (per version), and the
// validation S3 applies to tag sets.

import { combineWork, notified, notifyWork } from '../bucket/notification.js';
import type { EmittedEvent } from '../../notify/events.js';
import type { ObjectVersion } from '../../store/meta/types.js';
import { replicationForMeta } from '../../replication/writes.js';
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../errors.js';
import type { Handler, S3Context } from '../handler.js';
import { bucketOf } from '../handler.js';
import { childText, children, parseXmlBody, type ParsedDoc, type ParsedXml } from '../xml.js';
import { compareKeys } from '../../store/keys.js';
import { loadVersion, versionParam } from './GetObject.js';

export type TagSet = [string, string][];

const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

/** Validates a tag set (10 per object, 50 per bucket; keys ≤ 128, values ≤ 256 characters). */
export function validateTags(tags: TagSet, max: number): TagSet {
  if (tags.length > max) throw new S3Error('InvalidTag', `Object tags cannot be greater than ${max}`);
  const seen = new Set<string>();
  for (const [k, v] of tags) {
    const klen = [...k].length;
    if (klen < 1 || klen > 128) throw new S3Error('InvalidTag', 'The TagKey you have provided is too long, max 128', { TagKey: k });
    if ([...v].length > 256) throw new S3Error('InvalidTag', 'The TagValue you have provided is too long, max 256', { TagKey: k, TagValue: v });
    if (!TAG_CHARS.test(k) || !TAG_CHARS.test(v)) throw new S3Error('InvalidTag', 'The TagKey or TagValue you have provided is invalid', { TagKey: k });
    if (k.toLowerCase().startsWith('aws:')) throw new S3Error('InvalidTag', 'Your TagKey cannot be prefixed with aws:', { TagKey: k });
    if (seen.has(k)) throw new S3Error('InvalidTag', 'Cannot provide multiple Tags with the same key', { TagKey: k });
    seen.add(k);
  }
  // Kept sorted by key, as S3 returns them.
  return [...tags].sort((a, b) => compareKeys(a[0], b[0]));
}

/** x-amz-tagging: "k1=v1&k2=v2", URL-encoded. */
export function parseTaggingHeader(h: IncomingHttpHeaders): TagSet | undefined {
  const raw = h['x-amz-tagging'];
  if (raw === undefined) return undefined;
  const text = Array.isArray(raw) ? raw.join('&') : raw;
  const tags: TagSet = [];
  for (const pair of text.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const dec = (s: string) => {
      try {
        return decodeURIComponent(s.replace(/\+/g, ' '));
      } catch {
        throw new S3Error('InvalidArgument', 'The header x-amz-tagging shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.', { ArgumentName: 'x-amz-tagging' });
      }
    };
    tags.push([dec(eq < 0 ? pair : pair.slice(0, eq)), eq < 0 ? '' : dec(pair.slice(eq + 1))]);
  }
  return validateTags(tags, 10);
}

/** <Tagging><TagSet><Tag><Key/><Value/></Tag>…</TagSet></Tagging>, with at most `max` tags. */
export async function readTagging(ctx: S3Context, max: number): Promise<TagSet> {
  return parseTagging(await ctx.readXml('Tagging', { maxBytes: 64 * 1024 + max * 2048 }), max);
}

/** A <Tagging> document held in memory (the tagging field of a POST form). */
export function parseTaggingXml(text: string, max: number): TagSet {
  return parseTagging(parseXmlBody(text, 'Tagging'), max);
}

/** Tags as x-amz-tagging writes them ("k1=v1&k2=v2", URL-encoded). */
export function taggingHeaderOf(tags: TagSet): string {
  return tags.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
}

function parseTagging(doc: ParsedDoc, max: number): TagSet {
  const sets = children(doc, 'TagSet');
  if (sets.length !== 1) throw new S3Error('MalformedXML');
  const tags: TagSet = children(sets[0] as ParsedXml, 'Tag').map((t) => {
    const k = childText(t, 'Key');
    const v = childText(t, 'Value');
    if (k === undefined || v === undefined) throw new S3Error('MalformedXML');
    return [k, v];
  });
  return validateTags(tags, max);
}

export function tagSetXml(tags: TagSet | undefined) {
  return { TagSet: { Tag: (tags ?? []).map(([Key, Value]) => ({ Key, Value })) } };
}

export const putObjectTagging: Handler = async (ctx) => {
  const tags = await readTagging(ctx, 10);
  const v = await updateWithEvent(ctx, 's3:ObjectTagging:Put', { tags });
  return { headers: { 'x-amz-version-id': versionHeader(ctx, v.versionId) } };
};

export const getObjectTagging: Handler = async (ctx) => {
  const v = await loadVersion(ctx);
  return { headers: { 'x-amz-version-id': versionHeader(ctx, v.versionId) }, xml: { root: 'Tagging', body: tagSetXml(v.tags) } };
};

export const deleteObjectTagging: Handler = async (ctx) => {
  const v = await updateWithEvent(ctx, 's3:ObjectTagging:Delete', { tags: undefined });
  return { status: 204, headers: { 'x-amz-version-id': versionHeader(ctx, v.versionId) } };
};

/** x-amz-version-id on tagging responses: shown for versioned buckets and explicit versions. */
function versionHeader(ctx: Parameters<Handler>[0], versionId: string): string | undefined {
  return bucketOf(ctx).versioning !== 'Unversioned' || ctx.query.has('versionId') ? versionId : undefined;
}

/** Updates the addressed version's tags, recording the event (notify/) and the replication of the change with it. */
async function updateWithEvent(ctx: S3Context, event: EmittedEvent, patch: { tags: TagSet | undefined }): Promise<ObjectVersion> {
  let current: ObjectVersion | undefined;
  const events = await notifyWork(ctx, event, ctx.key, () => current && { size: current.size, etag: current.etag, versionId: current.versionId });
  const work = combineWork(events, await replicationForMeta(ctx, bucketOf(ctx), patch.tags));
  const v = await ctx.app.meta.updateObject(bucketOf(ctx).id, ctx.key, versionParam(ctx), patch, (v) => (current = v), work && { work });
  notified(ctx, events);
  return v;
}
