// Log object keys (S3 User Guide, "Log object key format"):
//   SimplePrefix:      [TargetPrefix][YYYY]-[MM]-[DD]-[hh]-[mm]-[ss]-[UniqueString]
//   PartitionedPrefix: [TargetPrefix][SourceAccountId]/[SourceRegion]/[SourceBucket]/[YYYY]/[MM]/[DD]/[YYYY]-[MM]-[DD]-[hh]-[mm]-[ss]-[UniqueString]
// The partition's date is the batch's first event (EventTime) or its delivery time
// (DeliveryTime); the time in the name is the delivery time. Both are fixed when the batch opens
// (its opening time and its deadline) and the unique string is derived from the batch's id, so a
// delivery that is retried writes the same key again: it replaces, it never duplicates.

import { createHash } from 'node:crypto';
import type { KeyFormat } from '../s3/bucket/config/logging.js';

const two = (n: number) => (n < 10 ? '0' : '') + n;

function stamp(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}-${two(d.getUTCHours())}-${two(d.getUTCMinutes())}-${two(d.getUTCSeconds())}`;
}

function day(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}/${two(d.getUTCMonth() + 1)}/${two(d.getUTCDate())}`;
}

export interface KeyInput {
  prefix: string;
  format: KeyFormat;
  sourceAccountId: string;
  sourceRegion: string;
  sourceBucket: string;
  /** ms: the batch's first event. */
  eventTime: number;
  /** ms: the batch's delivery time (its deadline). */
  deliveryTime: number;
  /** What makes the key unique and stable across retries (the batch's id and the store's identity). */
  unique: string;
}

/** 16 upper-case hex digits, as long as S3's unique strings. */
export function uniqueString(seed: string): string {
  return createHash('sha256').update(seed).digest('hex').slice(0, 16).toUpperCase();
}

export function logObjectKey(k: KeyInput): string {
  const name = `${stamp(k.deliveryTime)}-${uniqueString(k.unique)}`;
  if (k.format.kind === 'simple') return k.prefix + name;
  const date = k.format.dateSource === 'EventTime' ? k.eventTime : k.deliveryTime;
  return `${k.prefix}${k.sourceAccountId}/${k.sourceRegion}/${k.sourceBucket}/${day(date)}/${name}`;
}
