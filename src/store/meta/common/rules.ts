// The decisions every MetaStore makes inside its write transactions, as pure functions: a second
// store reuses them verbatim so that both refuse exactly the same writes.

import { StoreError } from '../../errors.js';
import { prefixSuccessor, compareKeys } from '../../keys.js';
import type { DeleteOptions, Retention, WriteConditions } from '../types.js';

/** The S3 version id of a stored version: its time-ordered id, or 'null' for the null version. */
export function s3VersionId(vid: string, isNull: boolean): string {
  return isNull ? 'null' : vid;
}

/** What a write condition needs to know of the key's latest version (a delete marker counts as absent). */
export interface LatestState {
  deleteMarker: boolean;
  etag: string;
}

/**
 * Compare-and-swap of a conditional write, against the latest version read in the same
 * transaction: If-None-Match ('*' or an ETag) fails with PreconditionFailed when the object exists
 * (with that ETag); If-Match fails with NoSuchKey when it does not exist and PreconditionFailed
 * when its ETag differs.
 */
export function checkConditions(latest: LatestState | undefined, c: WriteConditions | undefined, key: string): void {
  if (!c) return;
  const exists = latest !== undefined && !latest.deleteMarker;
  if (c.ifNoneMatch !== undefined) {
    if (exists && (c.ifNoneMatch === '*' || c.ifNoneMatch === latest.etag)) throw new StoreError('PreconditionFailed', { condition: 'If-None-Match' });
  }
  if (c.ifMatch !== undefined) {
    if (!exists) throw new StoreError('NoSuchKey', { key });
    if (c.ifMatch !== '*' && c.ifMatch !== latest.etag) throw new StoreError('PreconditionFailed', { condition: 'If-Match' });
  }
}

/**
 * Object lock on deleting one version: a legal hold always refuses; unexpired retention refuses
 * unless it is GOVERNANCE and the caller may bypass it.
 */
export function checkDeletable(lock: { legalHold?: boolean | undefined; retention?: Retention | undefined }, opts: Pick<DeleteOptions, 'now' | 'bypassGovernance'>): void {
  if (lock.legalHold) throw new StoreError('ObjectLocked');
  const r = lock.retention;
  if (r && r.until > opts.now && (r.mode === 'COMPLIANCE' || !opts.bypassGovernance)) throw new StoreError('ObjectLocked');
}

/** How long a completed upload is remembered for idempotent re-completion. */
export const COMPLETION_MEMORY_MS = 24 * 3600 * 1000;

/**
 * Bounds on keys for "keys with this prefix, from `start` on": the lower bound is the greater of
 * the prefix (inclusive) and start; the upper bound (exclusive) is the prefix's successor. Absent
 * bounds do not constrain. Keys compare as UTF-8 bytes.
 */
export interface KeyBounds {
  lower?: { key: string; inclusive: boolean };
  upper?: string;
}

export function keyBounds(prefix: string, start: string | undefined, startInclusive: boolean): KeyBounds {
  const b: KeyBounds = {};
  let lower = prefix;
  let inclusive = true;
  if (start !== undefined && compareKeys(start, prefix) >= 0) {
    lower = start;
    inclusive = startInclusive;
  }
  if (lower !== '' || !inclusive) b.lower = { key: lower, inclusive };
  const upper = prefix ? prefixSuccessor(prefix) : undefined;
  if (upper !== undefined) b.upper = upper;
  return b;
}
