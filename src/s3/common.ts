// Small protocol helpers shared by handlers.

import type { App } from '../app.js';
import { bucketOf, type S3Context } from './handler.js';
import { S3Error } from './errors.js';
import { escapeXml, type XmlNode } from './xml.js';

/** <Owner><ID/><DisplayName/></Owner> */
export async function ownerXml(app: App, userId: string): Promise<XmlNode> {
  return { ID: userId, DisplayName: await app.displayName(userId) };
}

export function quoteEtag(etag: string): string {
  return `"${etag}"`;
}

/** Parses an integer query parameter; InvalidArgument as S3 answers for junk or out-of-range values. */
export function intParam(value: string | undefined, name: string, opts: { min?: number; max?: number; def: number }): number {
  if (value === undefined) return opts.def;
  if (!/^-?\d+$/.test(value.trim())) {
    throw new S3Error('InvalidArgument', `Provided ${name} not an integer or within integer range`, { ArgumentName: name, ArgumentValue: value });
  }
  const n = Number(value);
  if (opts.min !== undefined && n < opts.min) {
    throw new S3Error('InvalidArgument', `Argument ${name} must be an integer between ${opts.min} and ${opts.max ?? 2147483647}`, { ArgumentName: name, ArgumentValue: value });
  }
  if (opts.max !== undefined && n > opts.max) return opts.max;
  return n;
}

/** encoding-type=url: percent-encode like S3 (every byte but unreserved characters and '/'). */
export function urlEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase()).replace(/%2F/g, '/');
}

/** Validates encoding-type; returns an encoder (identity when absent). */
export function encoder(encodingType: string | undefined): (s: string) => string {
  if (encodingType === undefined) return (s) => s;
  if (encodingType.toLowerCase() !== 'url') {
    throw new S3Error('InvalidArgument', 'Invalid Encoding Method specified in Request', { ArgumentName: 'encoding-type', ArgumentValue: encodingType });
  }
  return urlEncode;
}

/** <Owner> fragments for a listing page, looked up once per distinct owner. */
export function ownerFragments(app: App): (userId: string) => Promise<string> {
  const memo = new Map<string, string>();
  return async (userId) => {
    let s = memo.get(userId);
    if (s === undefined) {
      s = `<Owner><ID>${escapeXml(userId)}</ID><DisplayName>${escapeXml(await app.displayName(userId))}</DisplayName></Owner>`;
      memo.set(userId, s);
    }
    return s;
  };
}

/**
 * <Owner> fragments for the objects of a listing: each version's owner, except under
 * BucketOwnerEnforced, where the bucket owner owns every object.
 */
export async function objectOwnerFragments(ctx: S3Context): Promise<(owner: string) => Promise<string>> {
  const bucket = bucketOf(ctx);
  const owner = ownerFragments(ctx.app);
  if ((await ctx.app.bucketAccess.get(bucket)).aclsEnabled) return owner;
  return () => owner(bucket.owner);
}
