// The decisions every MetaStore makes inside its write transactions, as pure functions: a second
// store reuses them verbatim so that both refuse exactly the same writes.

import { StoreError } from '../../errors.js';
import { prefixSuccessor, compareKeys } from '../../keys.js';
import type { DeleteConditions, DeleteOptions, Retention, WriteConditions } from '../types.js';

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

/** What a conditional delete compares: the version it would remove (or the key's current one). */
export interface DeleteTarget {
  deleteMarker: boolean;
  etag: string;
  size: number;
  lastModified: number;
}

/**
 * S3's conditional delete, against the version read (and locked) in the delete's transaction.
 * Returns false when the delete must do nothing and succeed (204): the target does not exist.
 *
 * - Without a version id the target is the key's current version. If-Match ('*' or an ETag)
 *   needs a current object: none, or a delete marker, is NoSuchKey (general purpose buckets,
 *   as for If-Match on PutObject). The last-modified-time and size conditions alone on a key
 *   with no version at all succeed without deleting; a current delete marker is compared as
 *   it is (size 0, its own time), so a wrong value still fails.
 * - With a version id the target is that version; a missing version succeeds without deleting
 *   (as an unconditional version delete does).
 * - Any condition that does not hold is 412 PreconditionFailed.
 */
export function checkDeleteConditions(target: DeleteTarget | undefined, c: DeleteConditions | undefined, key: string, byVersion: boolean): boolean {
  if (!c || (c.ifMatch === undefined && c.ifMatchLastModified === undefined && c.ifMatchSize === undefined)) return true;
  if (!byVersion && c.ifMatch !== undefined && (!target || target.deleteMarker)) throw new StoreError('NoSuchKey', { key });
  if (!target) return false;
  if (c.ifMatch !== undefined && c.ifMatch !== '*' && (target.deleteMarker || c.ifMatch !== target.etag)) throw new StoreError('PreconditionFailed', { condition: 'If-Match' });
  if (c.ifMatchLastModified !== undefined && Math.floor(target.lastModified / 1000) !== Math.floor(c.ifMatchLastModified / 1000)) {
    throw new StoreError('PreconditionFailed', { condition: 'x-amz-if-match-last-modified-time' });
  }
  if (c.ifMatchSize !== undefined && target.size !== c.ifMatchSize) throw new StoreError('PreconditionFailed', { condition: 'x-amz-if-match-size' });
  return true;
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
