// Put/GetObjectLockConfiguration: PUT|GET /<bucket>?object-lock
//   <ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled>
//     [<Rule><DefaultRetention><Mode/>(<Days/>|<Years/>)</DefaultRetention></Rule>]
//   </ObjectLockConfiguration>
// Object lock can be turned on for an existing bucket only while its versioning is Enabled, and
// never turned off.

import type { Bucket } from '../../store/meta/types.js';
import type { App } from '../../app.js';
import { S3Error } from '../errors.js';
import type { Handler } from '../handler.js';
import { bucketOf } from '../handler.js';
import { childText, children, type ParsedXml, type XmlNode } from '../xml.js';

export interface DefaultRetention {
  mode: 'GOVERNANCE' | 'COMPLIANCE';
  days?: number;
  years?: number;
}

export interface LockConfiguration {
  rule?: DefaultRetention;
}

const DAY_MS = 24 * 3600 * 1000;

/** The retain-until date a default retention gives an object written at `now`. */
export function defaultRetainUntil(rule: DefaultRetention, now: number): number {
  if (rule.days !== undefined) return now + rule.days * DAY_MS;
  const d = new Date(now);
  d.setUTCFullYear(d.getUTCFullYear() + (rule.years ?? 0));
  return d.getTime();
}

export async function lockConfiguration(app: App, bucket: Bucket): Promise<LockConfiguration | undefined> {
  if (!bucket.objectLock) return undefined;
  const doc = await app.meta.getBucketConfig(bucket.id, 'object-lock');
  return doc ? (JSON.parse(doc) as LockConfiguration) : {};
}

function positiveInt(v: string): number {
  if (!/^-?\d+$/.test(v.trim())) throw new S3Error('MalformedXML');
  const n = Number(v);
  if (n <= 0) throw new S3Error('InvalidRetentionPeriod', 'Default retention period must be a positive integer value.');
  return n;
}

export const putObjectLockConfiguration: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const doc = await ctx.readXml('ObjectLockConfiguration', { maxBytes: 64 * 1024 });
  if (childText(doc, 'ObjectLockEnabled') !== 'Enabled') throw new S3Error('MalformedXML');
  const config: LockConfiguration = {};
  const rules = children(doc, 'Rule');
  if (rules.length > 1) throw new S3Error('MalformedXML');
  if (rules.length === 1) {
    const dr = children(rules[0] as ParsedXml, 'DefaultRetention');
    if (dr.length !== 1) throw new S3Error('MalformedXML');
    const mode = childText(dr[0], 'Mode');
    if (mode !== 'GOVERNANCE' && mode !== 'COMPLIANCE') throw new S3Error('MalformedXML');
    const days = childText(dr[0], 'Days');
    const years = childText(dr[0], 'Years');
    if ((days === undefined) === (years === undefined)) throw new S3Error('MalformedXML');
    config.rule = { mode, ...(days !== undefined ? { days: positiveInt(days) } : { years: positiveInt(years!) }) };
    if ((config.rule.days ?? 0) > 36500 || (config.rule.years ?? 0) > 100) throw new S3Error('InvalidRetentionPeriod', 'Default retention period is too large.');
  }
  if (!bucket.objectLock) {
    if (bucket.versioning !== 'Enabled') {
      throw new S3Error('InvalidBucketState', "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration");
    }
    await ctx.app.meta.enableObjectLock(bucket.id);
  }
  await ctx.app.meta.putBucketConfig(bucket.id, 'object-lock', JSON.stringify(config));
  return {};
};

export const getObjectLockConfiguration: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const config = await lockConfiguration(ctx.app, bucket);
  if (!config) throw new S3Error('ObjectLockConfigurationNotFoundError', undefined, { BucketName: bucket.name });
  const body: XmlNode = { ObjectLockEnabled: 'Enabled' };
  if (config.rule) {
    body.Rule = { DefaultRetention: { Mode: config.rule.mode, ...(config.rule.days !== undefined ? { Days: config.rule.days } : { Years: config.rule.years }) } };
  }
  return { xml: { root: 'ObjectLockConfiguration', body } };
};
