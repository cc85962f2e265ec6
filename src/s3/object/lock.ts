// Object lock on objects: retention and legal-hold headers on writes (with the bucket's default
// retention), and Put/GetObjectRetention, Put/GetObjectLegalHold per version.
//
// Rules (as S3): COMPLIANCE retention can only be extended; GOVERNANCE retention can be
// shortened, removed or changed to another mode only with x-amz-bypass-governance-retention by a
// caller allowed to bypass; a legal hold blocks deletion until released. Deletion itself is refused by the store.

import { replicationForMeta } from '../../replication/writes.js';
import { BYPASS_GOVERNANCE } from '../../authz/requests.js';
import type { IncomingHttpHeaders } from 'node:http';
import type { Bucket, ObjectVersion, Retention } from '../../store/meta/types.js';
import { S3Error } from '../errors.js';
import type { Handler, S3Context } from '../handler.js';
import { bucketOf } from '../handler.js';
import { isoTime } from '../xml.js';
import { childText } from '../xml.js';
import { defaultRetainUntil, lockConfiguration } from '../bucket/objectLock.js';
import { loadVersion, versionParam } from './GetObject.js';

export interface LockState {
  retention?: Retention;
  legalHold?: boolean;
}

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

function parseMode(v: string, malformed: () => S3Error): 'GOVERNANCE' | 'COMPLIANCE' {
  if (v !== 'GOVERNANCE' && v !== 'COMPLIANCE') throw malformed();
  return v;
}

function parseUntil(v: string, now: number): number {
  const t = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(v.trim()) ? Date.parse(v) : NaN;
  if (Number.isNaN(t)) throw new S3Error('InvalidArgument', 'The retain until date must be provided in ISO 8601 format');
  if (t <= now) throw new S3Error('InvalidArgument', 'The retain until date must be in the future!');
  return t;
}

function requireLock(bucket: Bucket): void {
  if (!bucket.objectLock) throw new S3Error('InvalidRequest', 'Bucket is missing Object Lock Configuration');
}

/** Lock state for a new object: explicit headers, else the bucket's default retention. */
export async function lockForWrite(ctx: S3Context, now: number): Promise<LockState> {
  const bucket = bucketOf(ctx);
  const h = ctx.headers;
  const mode = header(h, 'x-amz-object-lock-mode');
  const until = header(h, 'x-amz-object-lock-retain-until-date');
  const hold = header(h, 'x-amz-object-lock-legal-hold');
  const state: LockState = {};
  if (mode !== undefined || until !== undefined || hold !== undefined) requireLock(bucket);
  if ((mode === undefined) !== (until === undefined)) {
    throw new S3Error('InvalidArgument', 'x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied');
  }
  if (mode !== undefined && until !== undefined) {
    state.retention = { mode: parseMode(mode, () => new S3Error('InvalidArgument', 'Unknown wormMode directive.')), until: parseUntil(until, now) };
  } else {
    const config = await lockConfiguration(ctx.app, bucket);
    if (config?.rule) state.retention = { mode: config.rule.mode, until: defaultRetainUntil(config.rule, now) };
  }
  if (hold !== undefined) {
    if (hold !== 'ON' && hold !== 'OFF') throw new S3Error('InvalidArgument', "Legal Hold must be either of 'ON' or 'OFF'");
    state.legalHold = hold === 'ON';
  }
  return state;
}

/**
 * x-amz-bypass-governance-retention: true, from a caller allowed s3:BypassGovernanceRetention
 * (authorisation asked; without the permission the header is ignored and a governance lock holds).
 */
export function bypassGovernance(ctx: S3Context): boolean {
  return String(ctx.headers['x-amz-bypass-governance-retention'] ?? '').toLowerCase() === 'true' && ctx.granted(BYPASS_GOVERNANCE);
}

/** May `current` retention be replaced by `next` (undefined = removed)? */
function checkRetentionChange(current: Retention | undefined, next: Retention | undefined, canBypass: boolean, now: number): void {
  if (!current || current.until <= now) return;
  const denied = () => new S3Error('AccessDenied', 'Access Denied because object protected by object lock.');
  // Only extending the date in the same mode is free; removing, shortening or changing the mode
  // overrides the retention (even GOVERNANCE -> COMPLIANCE needs the governance bypass).
  const overrides = !next || next.until < current.until || next.mode !== current.mode;
  if (!overrides) return;
  if (current.mode === 'COMPLIANCE' || !canBypass) throw denied();
}

export const putObjectRetention: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  requireLock(bucket);
  const now = Date.now();
  const doc = await ctx.readXml('Retention', { maxBytes: 64 * 1024 });
  const mode = childText(doc, 'Mode');
  const until = childText(doc, 'RetainUntilDate');
  if ((mode === undefined) !== (until === undefined)) throw new S3Error('MalformedXML');
  const next: Retention | undefined =
    mode !== undefined && until !== undefined ? { mode: parseMode(mode, () => new S3Error('MalformedXML')), until: parseUntil(until, now) } : undefined;
  const work = await replicationForMeta(ctx, bucket, undefined);
  const v = await ctx.app.meta.updateObject(
    bucket.id,
    ctx.key,
    versionParam(ctx),
    { retention: next },
    (cur: ObjectVersion) => checkRetentionChange(cur.retention, next, bypassGovernance(ctx), now),
    work ? { work } : undefined,
  );
  return { headers: { 'x-amz-version-id': v.versionId !== 'null' ? v.versionId : undefined } };
};

export const getObjectRetention: Handler = async (ctx) => {
  requireLock(bucketOf(ctx));
  const v = await loadVersion(ctx);
  if (!v.retention) throw new S3Error('NoSuchObjectLockConfiguration', 'The specified object does not have a ObjectLock configuration');
  return { xml: { root: 'Retention', body: { Mode: v.retention.mode, RetainUntilDate: isoTime(v.retention.until) } } };
};

export const putObjectLegalHold: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  requireLock(bucket);
  const doc = await ctx.readXml('LegalHold', { maxBytes: 64 * 1024 });
  const status = childText(doc, 'Status');
  if (status !== 'ON' && status !== 'OFF') throw new S3Error('MalformedXML');
  const work = await replicationForMeta(ctx, bucket, undefined);
  const v = await ctx.app.meta.updateObject(bucket.id, ctx.key, versionParam(ctx), { legalHold: status === 'ON' }, undefined, work ? { work } : undefined);
  return { headers: { 'x-amz-version-id': v.versionId !== 'null' ? v.versionId : undefined } };
};

export const getObjectLegalHold: Handler = async (ctx) => {
  requireLock(bucketOf(ctx));
  const v = await loadVersion(ctx);
  if (v.legalHold === undefined) throw new S3Error('NoSuchObjectLockConfiguration', 'The specified object does not have a ObjectLock configuration');
  return { xml: { root: 'LegalHold', body: { Status: v.legalHold ? 'ON' : 'OFF' } } };
};
