// S3 lifecycle configuration: parsed and validated once (PutBucketLifecycleConfiguration), stored
// as JSON, rendered back as it was given (GetBucketLifecycleConfiguration). What the rules do is
// src/lifecycle/rules.ts.
//   <LifecycleConfiguration><Rule>{1,1000}
//     <ID/>? <Status>Enabled|Disabled</Status>
//     ( <Prefix/> | <Filter> ( <Prefix/> | <Tag/> | <ObjectSizeGreaterThan/> | <ObjectSizeLessThan/>
//                             | <And> <Prefix/>? <Tag/>* <ObjectSizeGreaterThan/>? <ObjectSizeLessThan/>? </And>
//                             | what And holds, side by side, with or without an And: RGW's superset, see parseFilter )? </Filter> )
//     <Expiration> ( <Days/> | <Date/> | <ExpiredObjectDeleteMarker/> ) </Expiration>?
//     <Transition> ( <Days/> | <Date/> ) <StorageClass/> </Transition>*
//     <NoncurrentVersionExpiration> <NoncurrentDays/> <NewerNoncurrentVersions/>? </NoncurrentVersionExpiration>?
//     <NoncurrentVersionTransition> <NoncurrentDays/> <NewerNoncurrentVersions/>? <StorageClass/> </NoncurrentVersionTransition>*
//     <AbortIncompleteMultipartUpload> <DaysAfterInitiation/> </AbortIncompleteMultipartUpload>?
//   </Rule></LifecycleConfiguration>
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketLifecycleConfiguration.html
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-rules.html

import { randomBytes } from 'node:crypto';
import { S3Error } from '../../errors.js';
import { children, childText, isoTime, type ParsedDoc, type ParsedXml, type XmlLimits, type XmlNode } from '../../xml.js';

export const LIFECYCLE_ROOT = 'LifecycleConfiguration';
export const MAX_LIFECYCLE_RULES = 1000;
export const LIFECYCLE_XML_LIMITS: XmlLimits = { maxBytes: 2 * 1024 * 1024, maxElements: 100_000, repeated: { name: 'Rule', max: MAX_LIFECYCLE_RULES } };

/** x-amz-transition-default-minimum-object-size: which small objects transitions leave alone. */
export type MinimumObjectSize = 'all_storage_classes_128K' | 'varies_by_storage_class';
export const MINIMUM_OBJECT_SIZES: readonly MinimumObjectSize[] = ['all_storage_classes_128K', 'varies_by_storage_class'];
export const DEFAULT_MINIMUM_OBJECT_SIZE: MinimumObjectSize = 'all_storage_classes_128K';

export interface LifecycleFilter {
  prefix: string;
  tags: [string, string][];
  sizeGreaterThan?: number;
  sizeLessThan?: number;
}

/** How the rule named its objects, so that GET answers the document as it was given. */
export type FilterForm =
  | { kind: 'legacy-prefix' }
  | { kind: 'none' }
  | { kind: 'filter'; element: 'empty' | 'Prefix' | 'Tag' | 'ObjectSizeGreaterThan' | 'ObjectSizeLessThan' | 'And' }
  /** Several of Prefix, Tag and the sizes side by side, beside an And or not (see parseFilter): the Filter as given. */
  | { kind: 'filter'; element: 'Siblings'; given: XmlNode };

export interface Transition {
  days?: number;
  /** ms since epoch, midnight UTC */
  date?: number;
  storageClass: string;
}

export interface NoncurrentTransition {
  noncurrentDays: number;
  newerNoncurrentVersions?: number;
  storageClass: string;
}

export interface LifecycleRule {
  id: string;
  enabled: boolean;
  form: FilterForm;
  filter: LifecycleFilter;
  expiration?: { days?: number; date?: number; expiredObjectDeleteMarker?: boolean };
  noncurrentExpiration?: { noncurrentDays?: number; newerNoncurrentVersions?: number };
  abortIncompleteMultipartDays?: number;
  transitions: Transition[];
  noncurrentTransitions: NoncurrentTransition[];
}

export interface LifecycleConfig {
  rules: LifecycleRule[];
  minimumObjectSize: MinimumObjectSize;
  /** When it was put (ms since epoch): passes leave it a moment to settle (lifecycle/service.ts). */
  since?: number;
}

const malformed = (message?: string) => new S3Error('MalformedXML', message);
const invalid = (message: string) => new S3Error('InvalidArgument', message);

/** A non-negative integer element (MalformedXML when not one). */
function intOf(node: ParsedXml, name: string): number | undefined {
  const t = childText(node, name);
  if (t === undefined) return undefined;
  const s = t.trim();
  if (!/^-?\d+$/.test(s) || !Number.isSafeInteger(Number(s))) throw malformed();
  return Number(s);
}

/** A boolean element: true / false. */
function boolOf(node: ParsedXml, name: string): boolean | undefined {
  const t = childText(node, name);
  if (t === undefined) return undefined;
  const s = t.trim().toLowerCase();
  if (s !== 'true' && s !== 'false') throw malformed();
  return s === 'true';
}

/** An ISO 8601 date that must be midnight UTC (S3: "'Date' must be at midnight GMT"). */
function dateOf(node: ParsedXml, name: string): number | undefined {
  const t = childText(node, name);
  if (t === undefined) return undefined;
  const s = t.trim();
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?)?$/.exec(s);
  if (!m) throw invalid(`'${name}' must be an ISO 8601 date at midnight GMT`);
  const ms = Date.parse(m[4] === undefined ? `${s}T00:00:00Z` : m[8] === undefined ? `${s}Z` : s);
  if (!Number.isFinite(ms)) throw invalid(`'${name}' must be an ISO 8601 date at midnight GMT`);
  if (ms % 86_400_000 !== 0) throw invalid(`'${name}' must be at midnight GMT`);
  return ms;
}

/** Only these children (MalformedXML for any other: S3 validates against its schema). */
function only(node: ParsedXml, names: string[]): void {
  if (typeof node === 'string') {
    if (node.trim() !== '') throw malformed();
    return;
  }
  for (const k of Object.keys(node)) if (!names.includes(k)) throw malformed();
}

function tagOf(node: ParsedXml): [string, string] {
  only(node, ['Key', 'Value']);
  const k = childText(node, 'Key');
  const v = childText(node, 'Value') ?? '';
  if (k === undefined) throw malformed();
  if (k.length > 128 || k.length === 0) throw new S3Error('InvalidTag', 'The TagKey you have provided is invalid');
  if (v.length > 256) throw new S3Error('InvalidTag', 'The TagValue you have provided is too long');
  return [k, v];
}

function sizeOf(node: ParsedXml, name: string): number | undefined {
  const n = intOf(node, name);
  if (n !== undefined && n < 0) throw invalid(`'${name}' must be a non-negative integer`);
  return n;
}

/** What one group of a Filter names (And's children, or the Filter's own children beside it). */
interface FilterGroup {
  prefix?: string;
  tags: [string, string][];
  gt?: number;
  lt?: number;
}

function parseGroup(node: ParsedXml): FilterGroup {
  if (children(node, 'Prefix').length > 1) throw malformed();
  const g: FilterGroup = { tags: children(node, 'Tag').map(tagOf) };
  const prefix = childText(node, 'Prefix');
  const gt = sizeOf(node, 'ObjectSizeGreaterThan');
  const lt = sizeOf(node, 'ObjectSizeLessThan');
  if (prefix !== undefined) g.prefix = prefix;
  if (gt !== undefined) g.gt = gt;
  if (lt !== undefined) g.lt = lt;
  return g;
}

function groupXml(g: FilterGroup): XmlNode {
  const x: XmlNode = {};
  if (g.prefix !== undefined) x.Prefix = g.prefix;
  if (g.tags.length) x.Tag = g.tags.map(tagXml);
  if (g.gt !== undefined) x.ObjectSizeGreaterThan = g.gt;
  if (g.lt !== undefined) x.ObjectSizeLessThan = g.lt;
  return x;
}

function parseFilter(rule: ParsedXml): { form: FilterForm; filter: LifecycleFilter } {
  const legacy = childText(rule, 'Prefix');
  const filters = children(rule, 'Filter');
  if (filters.length > 1) throw malformed();
  if (legacy !== undefined && filters.length) throw malformed('Rule can have either Prefix or Filter, not both');
  if (legacy !== undefined) return { form: { kind: 'legacy-prefix' }, filter: { prefix: legacy, tags: [] } };
  if (filters.length === 0) throw malformed('Rule must have either Prefix or Filter');
  const f = filters[0]!;
  if (typeof f === 'string' || Object.keys(f).length === 0) {
    if (typeof f === 'string' && f.trim() !== '') throw malformed();
    return { form: { kind: 'filter', element: 'empty' }, filter: { prefix: '', tags: [] } };
  }
  const present = Object.keys(f);
  only(f, ['Prefix', 'Tag', 'ObjectSizeGreaterThan', 'ObjectSizeLessThan', 'And']);
  const filter: LifecycleFilter = { prefix: '', tags: [] };
  if (present.length === 1 && present[0] !== 'And' && children(f, present[0]!).length === 1) {
    const element = present[0] as 'Prefix' | 'Tag' | 'ObjectSizeGreaterThan' | 'ObjectSizeLessThan';
    if (element === 'Prefix') filter.prefix = childText(f, 'Prefix') ?? '';
    else if (element === 'Tag') filter.tags = [tagOf(children(f, 'Tag')[0]!)];
    else if (element === 'ObjectSizeGreaterThan') filter.sizeGreaterThan = sizeOf(f, element);
    else filter.sizeLessThan = sizeOf(f, element);
    return { form: { kind: 'filter', element }, filter: checkSizes(filter) };
  }
  // And — or what S3 refuses as MalformedXML but Ceph RGW (and the Ceph suite's timed lifecycle
  // tests) accept: several of Prefix, Tag and the sizes side by side in the Filter itself, even
  // beside an And. All of them must match, as inside one And. Accepting them breaks no AWS client
  // (none sends a document S3 refuses) and keeps configurations written for RGW working.
  const ands = children(f, 'And');
  if (ands.length > 1) throw malformed();
  let and: FilterGroup | undefined;
  if (ands.length) {
    const a = ands[0]!;
    only(a, ['Prefix', 'Tag', 'ObjectSizeGreaterThan', 'ObjectSizeLessThan']);
    and = parseGroup(typeof a === 'string' ? {} : a);
  }
  const { And: _and, ...rest } = f as Record<string, ParsedXml>;
  const side = present.length > (ands.length ? 1 : 0) ? parseGroup(rest as ParsedXml) : undefined;
  // Two prefixes: a key must start with both, i.e. with the longer, which must extend the other.
  const prefixes = [side?.prefix, and?.prefix].filter((p): p is string => p !== undefined).sort((x, y) => x.length - y.length);
  if (prefixes.length === 2 && !prefixes[1]!.startsWith(prefixes[0]!)) throw malformed('Filter prefixes that no key can match');
  filter.prefix = prefixes[prefixes.length - 1] ?? '';
  filter.tags = [...(side?.tags ?? []), ...(and?.tags ?? [])];
  const gts = [side?.gt, and?.gt].filter((n): n is number => n !== undefined);
  const lts = [side?.lt, and?.lt].filter((n): n is number => n !== undefined);
  if (gts.length) filter.sizeGreaterThan = Math.max(...gts);
  if (lts.length) filter.sizeLessThan = Math.min(...lts);
  const keys = new Set<string>();
  for (const [k] of filter.tags) {
    if (keys.has(k)) throw invalid('Duplicate Tag Keys are not allowed.');
    keys.add(k);
  }
  if (!side) return { form: { kind: 'filter', element: 'And' }, filter: checkSizes(filter) };
  const given: XmlNode = groupXml(side);
  if (and) given.And = groupXml(and);
  return { form: { kind: 'filter', element: 'Siblings', given }, filter: checkSizes(filter) };
}

function checkSizes(filter: LifecycleFilter): LifecycleFilter {
  if (filter.sizeGreaterThan !== undefined && filter.sizeLessThan !== undefined && filter.sizeLessThan <= filter.sizeGreaterThan) {
    throw invalid('ObjectSizeLessThan must be greater than ObjectSizeGreaterThan');
  }
  return filter;
}

/**
 * The configuration a PutBucketLifecycleConfiguration document asks for, validated as S3 does.
 * `knownStorageClass` says which classes a transition may name (S3's, and the operator's tiers').
 */
export function parseLifecycle(doc: ParsedDoc, knownStorageClass: (c: string) => boolean, minimumObjectSize: MinimumObjectSize = DEFAULT_MINIMUM_OBJECT_SIZE): LifecycleConfig {
  only(doc as ParsedXml, ['Rule']);
  const nodes = children(doc, 'Rule');
  if (nodes.length === 0 || nodes.length > MAX_LIFECYCLE_RULES) throw malformed();
  const ids = new Set<string>();
  const rules = nodes.map((r): LifecycleRule => {
    if (typeof r === 'string') throw malformed();
    only(r, ['ID', 'Status', 'Prefix', 'Filter', 'Expiration', 'Transition', 'NoncurrentVersionExpiration', 'NoncurrentVersionTransition', 'AbortIncompleteMultipartUpload']);
    let id = childText(r, 'ID');
    if (id !== undefined && id.length > 255) throw invalid('ID length should not exceed allowed limit of 255');
    if (id === undefined || id === '') id = randomBytes(36).toString('base64').replace(/[+/=]/g, '').slice(0, 48);
    if (ids.has(id)) throw invalid('Rule ID must be unique. Found same ID for more than one rule');
    ids.add(id);
    const status = childText(r, 'Status');
    if (status !== 'Enabled' && status !== 'Disabled') throw malformed();
    const { form, filter } = parseFilter(r);
    const rule: LifecycleRule = { id, enabled: status === 'Enabled', form, filter, transitions: [], noncurrentTransitions: [] };
    const hasTags = filter.tags.length > 0;
    const hasSize = filter.sizeGreaterThan !== undefined || filter.sizeLessThan !== undefined;

    const exps = children(r, 'Expiration');
    if (exps.length > 1) throw malformed();
    if (exps.length) {
      const e = exps[0]!;
      only(e, ['Days', 'Date', 'ExpiredObjectDeleteMarker']);
      const days = intOf(e, 'Days');
      const date = dateOf(e, 'Date');
      const eodm = boolOf(e, 'ExpiredObjectDeleteMarker');
      const given = [days, date, eodm].filter((x) => x !== undefined).length;
      if (given === 0) throw malformed('Expiration must have Days, Date or ExpiredObjectDeleteMarker');
      if (given > 1) throw malformed('ExpiredObjectDeleteMarker, Days and Date cannot be combined in one Expiration');
      if (days !== undefined && days <= 0) throw invalid("'Days' for Expiration action must be a positive integer");
      if (eodm !== undefined && (hasTags || hasSize)) throw invalid('ExpiredObjectDeleteMarker cannot be specified with tags or object size filters');
      rule.expiration = {};
      if (days !== undefined) rule.expiration.days = days;
      if (date !== undefined) rule.expiration.date = date;
      if (eodm !== undefined) rule.expiration.expiredObjectDeleteMarker = eodm;
    }

    for (const t of children(r, 'Transition')) {
      only(t, ['Days', 'Date', 'StorageClass']);
      const days = intOf(t, 'Days');
      const date = dateOf(t, 'Date');
      const storageClass = transitionClass(t, knownStorageClass);
      if ((days === undefined) === (date === undefined)) throw malformed('Transition must have exactly one of Days or Date');
      if (days !== undefined && days < 0) throw invalid("'Days' in Transition action must be nonnegative");
      if (days !== undefined && (storageClass === 'STANDARD_IA' || storageClass === 'ONEZONE_IA') && days < 30) {
        throw invalid(`'Days' in Transition action must be greater than or equal to 30 for storageClass '${storageClass}'`);
      }
      rule.transitions.push(days !== undefined ? { days, storageClass } : { date: date!, storageClass });
    }
    if (rule.transitions.length) {
      const byDays = rule.transitions.filter((t) => t.days !== undefined).length;
      if (byDays !== 0 && byDays !== rule.transitions.length) throw new S3Error('InvalidRequest', "Found mixed 'Date' and 'Days' based Transition actions in lifecycle rule");
      if (new Set(rule.transitions.map((t) => t.storageClass)).size !== rule.transitions.length) {
        throw invalid("'StorageClass' must be different for 'Transition' actions in same 'Rule'");
      }
      const exp = rule.expiration;
      if (exp?.days !== undefined && rule.transitions.some((t) => t.days !== undefined && t.days >= exp.days!)) {
        throw invalid("'Days' in Expiration action must be greater than 'Days' in Transition action");
      }
      if (exp?.date !== undefined && rule.transitions.some((t) => t.date !== undefined && t.date >= exp.date!)) {
        throw invalid("'Date' in Expiration action must be later than 'Date' in Transition action");
      }
      if ((exp?.days !== undefined && byDays === 0) || (exp?.date !== undefined && byDays !== 0)) {
        throw new S3Error('InvalidRequest', "Found mixed 'Date' and 'Days' based Expiration and Transition actions in lifecycle rule");
      }
    }

    const nexps = children(r, 'NoncurrentVersionExpiration');
    if (nexps.length > 1) throw malformed();
    if (nexps.length) {
      const n = nexps[0]!;
      only(n, ['NoncurrentDays', 'NewerNoncurrentVersions']);
      const days = intOf(n, 'NoncurrentDays');
      const newer = intOf(n, 'NewerNoncurrentVersions');
      if (days === undefined && newer === undefined) throw malformed('NoncurrentVersionExpiration must have NoncurrentDays');
      if (days !== undefined && days <= 0) throw invalid("'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer");
      if (newer !== undefined && (newer < 1 || newer > 100)) throw invalid("'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be a positive integer up to 100");
      rule.noncurrentExpiration = {};
      if (days !== undefined) rule.noncurrentExpiration.noncurrentDays = days;
      if (newer !== undefined) rule.noncurrentExpiration.newerNoncurrentVersions = newer;
    }

    for (const t of children(r, 'NoncurrentVersionTransition')) {
      only(t, ['NoncurrentDays', 'NewerNoncurrentVersions', 'StorageClass']);
      const days = intOf(t, 'NoncurrentDays');
      const newer = intOf(t, 'NewerNoncurrentVersions');
      const storageClass = transitionClass(t, knownStorageClass);
      if (days === undefined) throw malformed('NoncurrentVersionTransition must have NoncurrentDays');
      if (days < 0) throw invalid("'NoncurrentDays' in NoncurrentVersionTransition action must be nonnegative");
      if ((storageClass === 'STANDARD_IA' || storageClass === 'ONEZONE_IA') && days < 30) {
        throw invalid(`'NoncurrentDays' in NoncurrentVersionTransition action must be greater than or equal to 30 for storageClass '${storageClass}'`);
      }
      if (newer !== undefined && (newer < 1 || newer > 100)) throw invalid("'NewerNoncurrentVersions' in NoncurrentVersionTransition action must be a positive integer up to 100");
      rule.noncurrentTransitions.push(newer !== undefined ? { noncurrentDays: days, newerNoncurrentVersions: newer, storageClass } : { noncurrentDays: days, storageClass });
    }
    if (new Set(rule.noncurrentTransitions.map((t) => t.storageClass)).size !== rule.noncurrentTransitions.length) {
      throw invalid("'StorageClass' must be different for 'NoncurrentVersionTransition' actions in same 'Rule'");
    }
    const ne = rule.noncurrentExpiration?.noncurrentDays;
    if (ne !== undefined && rule.noncurrentTransitions.some((t) => t.noncurrentDays >= ne)) {
      throw invalid("'NoncurrentDays' in NoncurrentVersionExpiration action must be greater than 'NoncurrentDays' in NoncurrentVersionTransition action");
    }

    const aborts = children(r, 'AbortIncompleteMultipartUpload');
    if (aborts.length > 1) throw malformed();
    if (aborts.length) {
      const a = aborts[0]!;
      only(a, ['DaysAfterInitiation']);
      const days = intOf(a, 'DaysAfterInitiation');
      if (days === undefined) throw malformed();
      if (days <= 0) throw invalid("'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer");
      if (hasTags || hasSize) throw invalid('AbortIncompleteMultipartUpload cannot be specified with tags or object size filters');
      rule.abortIncompleteMultipartDays = days;
    }

    if (!rule.expiration && !rule.noncurrentExpiration && rule.abortIncompleteMultipartDays === undefined && !rule.transitions.length && !rule.noncurrentTransitions.length) {
      throw new S3Error('InvalidRequest', 'At least one action needs to be specified in a rule');
    }
    return rule;
  });
  return { rules, minimumObjectSize };
}

function transitionClass(node: ParsedXml, known: (c: string) => boolean): string {
  const c = childText(node, 'StorageClass');
  if (c === undefined) throw malformed('Transition must have a StorageClass');
  const s = c.trim();
  // STANDARD: S3 refuses it as a transition's class (InvalidStorageClass); Ceph RGW accepts it, and
  // so do we: a version written with (or labelled) another class that is stored here becomes
  // STANDARD again. A version already moved to a remote tier stays there (tiering/work.ts).
  // No AWS client sends it, so accepting it breaks none.
  if (s !== 'STANDARD' && !known(s)) throw new S3Error('InvalidStorageClass', undefined, { StorageClassRequested: s });
  return s;
}

/** The x-amz-transition-default-minimum-object-size a request asks for (default: S3's). */
export function parseMinimumObjectSize(header: string | undefined): MinimumObjectSize {
  if (header === undefined || header === '') return DEFAULT_MINIMUM_OBJECT_SIZE;
  if (!(MINIMUM_OBJECT_SIZES as readonly string[]).includes(header)) {
    throw new S3Error('InvalidRequest', `Invalid x-amz-transition-default-minimum-object-size: ${header}`);
  }
  return header as MinimumObjectSize;
}

function tagXml([k, v]: [string, string]): XmlNode {
  return { Key: k, Value: v };
}

function filterXml(rule: LifecycleRule): XmlNode | undefined {
  const f = rule.filter;
  if (rule.form.kind !== 'filter') return undefined;
  switch (rule.form.element) {
    case 'empty':
      return {};
    case 'Prefix':
      return { Prefix: f.prefix };
    case 'Tag':
      return { Tag: tagXml(f.tags[0]!) };
    case 'ObjectSizeGreaterThan':
      return { ObjectSizeGreaterThan: f.sizeGreaterThan! };
    case 'ObjectSizeLessThan':
      return { ObjectSizeLessThan: f.sizeLessThan! };
    case 'Siblings':
      return rule.form.given;
    case 'And': {
      const a: XmlNode = {};
      if (f.prefix !== '') a.Prefix = f.prefix;
      if (f.tags.length) a.Tag = f.tags.map(tagXml);
      if (f.sizeGreaterThan !== undefined) a.ObjectSizeGreaterThan = f.sizeGreaterThan;
      if (f.sizeLessThan !== undefined) a.ObjectSizeLessThan = f.sizeLessThan;
      return { And: a };
    }
  }
}

/** The GetBucketLifecycleConfiguration document, elements in S3's order. */
export function renderLifecycle(config: LifecycleConfig): { root: typeof LIFECYCLE_ROOT; body: XmlNode } {
  return {
    root: LIFECYCLE_ROOT,
    body: {
      Rule: config.rules.map((r) => {
        const n: XmlNode = {};
        if (r.expiration) {
          const e: XmlNode = {};
          if (r.expiration.date !== undefined) e.Date = isoTime(r.expiration.date);
          if (r.expiration.days !== undefined) e.Days = r.expiration.days;
          if (r.expiration.expiredObjectDeleteMarker !== undefined) e.ExpiredObjectDeleteMarker = r.expiration.expiredObjectDeleteMarker;
          n.Expiration = e;
        }
        n.ID = r.id;
        if (r.form.kind === 'legacy-prefix') n.Prefix = r.filter.prefix;
        const f = filterXml(r);
        if (f) n.Filter = f;
        n.Status = r.enabled ? 'Enabled' : 'Disabled';
        if (r.transitions.length) {
          n.Transition = r.transitions.map((t) => (t.date !== undefined ? { Date: isoTime(t.date), StorageClass: t.storageClass } : { Days: t.days!, StorageClass: t.storageClass }));
        }
        if (r.noncurrentTransitions.length) {
          n.NoncurrentVersionTransition = r.noncurrentTransitions.map((t) => {
            const x: XmlNode = { NoncurrentDays: t.noncurrentDays, StorageClass: t.storageClass };
            if (t.newerNoncurrentVersions !== undefined) x.NewerNoncurrentVersions = t.newerNoncurrentVersions;
            return x;
          });
        }
        if (r.noncurrentExpiration) {
          const x: XmlNode = {};
          if (r.noncurrentExpiration.noncurrentDays !== undefined) x.NoncurrentDays = r.noncurrentExpiration.noncurrentDays;
          if (r.noncurrentExpiration.newerNoncurrentVersions !== undefined) x.NewerNoncurrentVersions = r.noncurrentExpiration.newerNoncurrentVersions;
          n.NoncurrentVersionExpiration = x;
        }
        if (r.abortIncompleteMultipartDays !== undefined) n.AbortIncompleteMultipartUpload = { DaysAfterInitiation: r.abortIncompleteMultipartDays };
        return n;
      }),
    },
  };
}

export function serializeLifecycle(config: LifecycleConfig): string {
  return JSON.stringify({ v: 1, ...config });
}

export function deserializeLifecycle(s: string): LifecycleConfig {
  const parsed = JSON.parse(s) as Partial<LifecycleConfig>;
  const config: LifecycleConfig = { rules: parsed.rules ?? [], minimumObjectSize: parsed.minimumObjectSize ?? DEFAULT_MINIMUM_OBJECT_SIZE };
  if (typeof parsed.since === 'number') config.since = parsed.since;
  return config;
}
