// What lifecycle rules do, as pure functions of a configuration, the versions of one key and the
// time: which version expires, which transitions, whether a delete marker goes, which upload is
// aborted, and the x-amz-expiration header. The pass (pass.ts) applies what these decide.
//
// Time: S3 counts whole days and acts at midnight UTC — an object written at lastModified with
// "Days: n" expires at the first midnight UTC at or after lastModified + n days; a noncurrent
// version counts from when it became noncurrent (its successor's write). A shortened day (tests:
// TROVE_LIFECYCLE_DAY_SECONDS, as Ceph's rgw_lc_debug_interval) counts n short days from the
// write itself, without rounding: n·10 s after it with a 10-second day.

import type { LifecycleConfig, LifecycleFilter, LifecycleRule } from '../s3/bucket/config/lifecycle.js';

export const DAY_MS = 86_400_000;
/** Below this size S3 transitions nothing by default (x-amz-transition-default-minimum-object-size). */
export const MIN_TRANSITION_SIZE = 128 * 1024;
/**
 * Amazon's classes that keep the 128 KiB minimum under `varies_by_storage_class` (S3 Glacier
 * Flexible Retrieval and Deep Archive take smaller objects then). Classes an operator configured
 * for tiers of their own are no Amazon class and have no minimum.
 */
const AWS_MINIMUM_CLASSES = new Set(['STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'GLACIER_IR']);
const AWS_CLASSES = new Set([...AWS_MINIMUM_CLASSES, 'GLACIER', 'DEEP_ARCHIVE', 'REDUCED_REDUNDANCY', 'STANDARD']);

/** When something `days` days after `from` is due (see the top of this file). */
export function dueAt(from: number, days: number, dayMs = DAY_MS): number {
  if (dayMs !== DAY_MS) return from + days * dayMs;
  const t = from + days * DAY_MS;
  return Math.ceil(t / DAY_MS) * DAY_MS;
}

/** One version as the rules see it. */
export interface VersionFacts {
  key: string;
  versionId: string;
  size: number;
  lastModified: number;
  deleteMarker: boolean;
  storageClass: string;
  etag: string;
  /** Only needed (and only fetched) when a rule filters on tags. */
  tags?: [string, string][];
}

export function needsTags(rules: readonly LifecycleRule[]): boolean {
  return rules.some((r) => r.enabled && r.filter.tags.length > 0);
}

/** The filter's prefix and size bounds (tags apart). */
export function matchesWithoutTags(f: LifecycleFilter, key: string, size: number): boolean {
  if (!key.startsWith(f.prefix)) return false;
  if (f.sizeGreaterThan !== undefined && !(size > f.sizeGreaterThan)) return false;
  if (f.sizeLessThan !== undefined && !(size < f.sizeLessThan)) return false;
  return true;
}

export function matches(f: LifecycleFilter, v: { key: string; size: number; tags?: [string, string][] }): boolean {
  if (!matchesWithoutTags(f, v.key, v.size)) return false;
  for (const [k, val] of f.tags) if (!(v.tags ?? []).some(([tk, tv]) => tk === k && tv === val)) return false;
  return true;
}

/**
 * x-amz-expiration for the current version of an object: the earliest expiry an enabled rule
 * with a Days or Date expiration gives it, and that rule's id. Calendar days always (what S3
 * answers; the shortened test day changes when passes act, not this header).
 */
export function expirationOf(config: LifecycleConfig, v: { key: string; size: number; lastModified: number; tags?: [string, string][] }): { at: number; ruleId: string } | undefined {
  let best: { at: number; ruleId: string } | undefined;
  for (const r of config.rules) {
    if (!r.enabled || !r.expiration || !matches(r.filter, v)) continue;
    const at = r.expiration.days !== undefined ? dueAt(v.lastModified, r.expiration.days) : r.expiration.date;
    if (at === undefined) continue;
    if (!best || at < best.at) best = { at, ruleId: r.id };
  }
  return best;
}

/** The header's value: expiry-date="Fri, 23 Dec 2012 00:00:00 GMT", rule-id="…". */
export function expirationHeader(e: { at: number; ruleId: string }): string {
  return `expiry-date="${new Date(e.at).toUTCString()}", rule-id="${e.ruleId.replace(/["\\]/g, (c) => '\\' + c)}"`;
}

/** Whether a transition to `storageClass` may take an object of `size` bytes. */
export function transitionAllowsSize(config: LifecycleConfig, rule: LifecycleRule, storageClass: string, size: number): boolean {
  if (size >= MIN_TRANSITION_SIZE) return true;
  // Back to STANDARD (RGW's superset, see config/lifecycle.ts): no cheaper class, no minimum.
  if (storageClass === 'STANDARD') return true;
  // A rule that filters on size decides for itself (S3: the filter overrides the default).
  if (rule.filter.sizeGreaterThan !== undefined || rule.filter.sizeLessThan !== undefined) return true;
  if (!AWS_CLASSES.has(storageClass)) return true;
  if (config.minimumObjectSize === 'varies_by_storage_class') return !AWS_MINIMUM_CLASSES.has(storageClass);
  return false;
}

export type Action =
  | { kind: 'expire-current'; version: VersionFacts; ruleId: string }
  | { kind: 'expire-noncurrent'; version: VersionFacts; ruleId: string }
  | { kind: 'remove-delete-marker'; version: VersionFacts; ruleId: string }
  | { kind: 'transition'; version: VersionFacts; storageClass: string; ruleId: string };

/**
 * What the enabled rules do to one key at `now`: `versions` newest first (as ListObjectVersions
 * gives them), the first being the latest. Tags, when a rule needs them, are on the versions.
 * Noncurrent versions are numbered from the newest (0); one became noncurrent when the version
 * after it was written. A delete marker left with no other version (an "expired object delete
 * marker") goes under ExpiredObjectDeleteMarker, or under a Days expiration once that old.
 */
export function decide(config: LifecycleConfig, versions: readonly VersionFacts[], now: number, dayMs = DAY_MS): Action[] {
  const rules = config.rules.filter((r) => r.enabled);
  if (versions.length === 0 || rules.length === 0) return [];
  const out: Action[] = [];
  const [latest, ...older] = versions as [VersionFacts, ...VersionFacts[]];
  const expired = new Set<VersionFacts>();

  // The current version: expiration first; a version that expires is not transitioned.
  if (!latest.deleteMarker) {
    let done = false;
    for (const r of rules) {
      const e = r.expiration;
      if (!e || !matches(r.filter, latest)) continue;
      const at = e.days !== undefined ? dueAt(latest.lastModified, e.days, dayMs) : e.date;
      if (at !== undefined && now >= at) {
        out.push({ kind: 'expire-current', version: latest, ruleId: r.id });
        done = true;
        break;
      }
    }
    if (!done) {
      const t = dueTransition(config, rules, latest, latest.lastModified, 0, now, dayMs, false);
      if (t) out.push({ kind: 'transition', version: latest, storageClass: t.storageClass, ruleId: t.ruleId });
    }
  }

  // Noncurrent versions (delete markers among them count as versions).
  older.forEach((v, i) => {
    const since = versions[i]!.lastModified;
    for (const r of rules) {
      const ne = r.noncurrentExpiration;
      if (!ne || !matches(r.filter, v)) continue;
      const ageOk = ne.noncurrentDays === undefined || now >= dueAt(since, ne.noncurrentDays, dayMs);
      const countOk = ne.newerNoncurrentVersions === undefined || i >= ne.newerNoncurrentVersions;
      if (ageOk && countOk) {
        out.push({ kind: 'expire-noncurrent', version: v, ruleId: r.id });
        expired.add(v);
        return;
      }
    }
    if (v.deleteMarker) return;
    const t = dueTransition(config, rules, v, since, i, now, dayMs, true);
    if (t) out.push({ kind: 'transition', version: v, storageClass: t.storageClass, ruleId: t.ruleId });
  });

  // An expired object delete marker: the latest is a marker and nothing else is left.
  if (latest.deleteMarker && older.every((v) => expired.has(v))) {
    for (const r of rules) {
      const e = r.expiration;
      if (!e || !latest.key.startsWith(r.filter.prefix) || r.filter.tags.length) continue;
      if (e.expiredObjectDeleteMarker === true || (e.days !== undefined && now >= dueAt(latest.lastModified, e.days, dayMs))) {
        out.push({ kind: 'remove-delete-marker', version: latest, ruleId: r.id });
        break;
      }
    }
  }
  return out;
}

/** The transition due for a version: of the due ones, the latest in its rule's schedule. */
function dueTransition(
  config: LifecycleConfig,
  rules: readonly LifecycleRule[],
  v: VersionFacts,
  since: number,
  noncurrentIndex: number,
  now: number,
  dayMs: number,
  noncurrent: boolean,
): { storageClass: string; ruleId: string } | undefined {
  let best: { storageClass: string; ruleId: string; at: number } | undefined;
  for (const r of rules) {
    if (!matches(r.filter, v)) continue;
    const list = noncurrent
      ? r.noncurrentTransitions.map((t) => ({ at: dueAt(since, t.noncurrentDays, dayMs), storageClass: t.storageClass, keep: t.newerNoncurrentVersions }))
      : r.transitions.map((t) => ({ at: t.days !== undefined ? dueAt(since, t.days, dayMs) : t.date!, storageClass: t.storageClass, keep: undefined as number | undefined }));
    for (const t of list) {
      if (now < t.at) continue;
      if (t.keep !== undefined && noncurrentIndex < t.keep) continue;
      if (!transitionAllowsSize(config, r, t.storageClass, v.size)) continue;
      if (!best || t.at > best.at) best = { storageClass: t.storageClass, ruleId: r.id, at: t.at };
    }
  }
  if (!best || best.storageClass === v.storageClass) return undefined;
  return { storageClass: best.storageClass, ruleId: best.ruleId };
}

/** Whether an upload initiated at `initiated` is aborted by some enabled rule at `now`; the rule's id. */
export function abortRule(config: LifecycleConfig, key: string, initiated: number, now: number, dayMs = DAY_MS): string | undefined {
  for (const r of config.rules) {
    if (!r.enabled || r.abortIncompleteMultipartDays === undefined || !key.startsWith(r.filter.prefix)) continue;
    if (now >= dueAt(initiated, r.abortIncompleteMultipartDays, dayMs)) return r.id;
  }
  return undefined;
}

/**
 * The key ranges a pass must walk: the prefixes of the enabled rules that act on objects, those
 * inside another left out ('' alone when one covers the bucket), in byte order.
 */
export function scanPrefixes(config: LifecycleConfig): string[] {
  const ps = config.rules
    .filter((r) => r.enabled && (r.expiration || r.noncurrentExpiration || r.transitions.length || r.noncurrentTransitions.length))
    .map((r) => r.filter.prefix);
  return minimalPrefixes(ps);
}

/** The prefixes of the enabled rules that abort uploads, minimal (as scanPrefixes). */
export function uploadPrefixes(config: LifecycleConfig): string[] {
  return minimalPrefixes(config.rules.filter((r) => r.enabled && r.abortIncompleteMultipartDays !== undefined).map((r) => r.filter.prefix));
}

function minimalPrefixes(ps: string[]): string[] {
  const sorted = [...new Set(ps)].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const out: string[] = [];
  for (const p of sorted) if (!out.some((q) => p.startsWith(q))) out.push(p);
  return out;
}
