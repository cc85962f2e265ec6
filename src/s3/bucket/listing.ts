// The listing engine shared by ListObjects (v1, v2), ListObjectVersions and ListMultipartUploads.
//
// It folds keys into CommonPrefixes at the delimiter and, having emitted a prefix, seeks straight
// past it with one index seek (to the prefix's successor) instead of scanning its keys: a page costs
// its results, not the number of keys hidden under its prefixes.

import { prefixSuccessor } from '../../store/keys.js';

/**
 * Where a fetch resumes: strictly after an item already seen, strictly after a key (a marker),
 * or at a key (inclusive: the successor of a common prefix). undefined: from the beginning.
 */
export type Cursor<T> = { after: T } | { afterKey: string } | { atKey: string } | undefined;

/** Fetches up to `limit` entries with the listing's prefix, in listing order, from `cursor`. */
export type Fetch<T> = (cursor: Cursor<T>, limit: number) => Promise<T[]>;

export interface Page<T> {
  items: T[];
  prefixes: string[];
  truncated: boolean;
  /** The last item or prefix emitted (for NextMarker / continuation tokens). */
  last: { item: T } | { prefix: string } | undefined;
}

export interface PageOptions<T> {
  prefix: string;
  /** '' for none. */
  delimiter: string;
  maxKeys: number;
  /** Resume point: after this item / key (marker, start-after, continuation token). */
  start: Cursor<T>;
  /** Key of the start cursor, used to skip a common prefix the marker lies in. */
  startKey: string | undefined;
  keyOf: (item: T) => string;
}

const BATCH_MAX = 1000;
/**
 * With a delimiter, rows under an emitted prefix are wasted reads. Batches start small and grow
 * (×4) while no prefix interrupts them, and shrink back after every seek, so a prefix costs at
 * most a small batch of wasted rows plus one index seek.
 */
const BATCH_PROBE = 16;

export function commonPrefixOf(key: string, prefix: string, delimiter: string): string | undefined {
  if (!delimiter || !key.startsWith(prefix)) return undefined;
  const i = key.indexOf(delimiter, prefix.length);
  return i < 0 ? undefined : key.slice(0, i + delimiter.length);
}

export async function listPage<T>(fetch: Fetch<T>, o: PageOptions<T>): Promise<Page<T>> {
  const page: Page<T> = { items: [], prefixes: [], truncated: false, last: undefined };
  // S3 answers max-keys=0 with an empty, untruncated page.
  if (o.maxKeys <= 0) return page;
  let cursor = o.start;
  // A marker inside a common prefix means that prefix was already returned: skip all of it.
  if (o.startKey !== undefined) {
    const cp = commonPrefixOf(o.startKey, o.prefix, o.delimiter);
    if (cp !== undefined) {
      const next = prefixSuccessor(cp);
      if (next === undefined) return page;
      cursor = { atKey: next };
    }
  }
  let count = 0;
  let batchSize = o.delimiter ? BATCH_PROBE : BATCH_MAX;
  for (;;) {
    const limit = Math.min(o.maxKeys - count + 1, batchSize);
    const batch = await fetch(cursor, limit);
    let seek: string | undefined;
    for (let i = 0; i < batch.length; i++) {
      const item = batch[i]!;
      if (count >= o.maxKeys) {
        page.truncated = true;
        return page;
      }
      const key = o.keyOf(item);
      const cp = commonPrefixOf(key, o.prefix, o.delimiter);
      if (cp === undefined) {
        page.items.push(item);
        page.last = { item };
        count++;
        continue;
      }
      page.prefixes.push(cp);
      page.last = { prefix: cp };
      count++;
      // Skip what this batch already holds under the prefix; seek past the rest.
      let j = i + 1;
      while (j < batch.length && o.keyOf(batch[j]!).startsWith(cp)) j++;
      if (j < batch.length) {
        i = j - 1;
        continue;
      }
      seek = prefixSuccessor(cp);
      if (seek === undefined) return page;
      break;
    }
    if (seek !== undefined) {
      cursor = { atKey: seek };
      batchSize = BATCH_PROBE;
      continue;
    }
    if (batch.length < limit) return page;
    cursor = { after: batch[batch.length - 1]! };
    batchSize = Math.min(batchSize * 4, BATCH_MAX);
  }
}
