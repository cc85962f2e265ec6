// S3 replication configuration: parsed and validated once (PutBucketReplication), stored as JSON,
// rendered back (GetBucketReplication), and matched against object writes.
//   <ReplicationConfiguration><Role/><Rule><ID/><Priority/><Status/>
//     (<Prefix/> | <Filter>(<Prefix/> | <Tag/> | <And><Prefix/><Tag/>*</And>)</Filter>)
//     <SourceSelectionCriteria><ReplicaModifications><Status/></…><SseKmsEncryptedObjects>…</…></…>
//     <ExistingObjectReplication><Status/></…><Destination><Bucket/><StorageClass/><Account/>…</Destination>
//     <DeleteMarkerReplication><Status/></…></Rule>{1,1000}</ReplicationConfiguration>
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketReplication.html
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-add-config.html
//
// Rules with a top-level <Prefix> are the V1 schema (delete markers always replicated, no
// priorities); rules with <Filter> are V2 (Priority decides between overlapping rules,
// DeleteMarkerReplication is required, and cannot be Enabled with a tag filter). The two schemas
// cannot be mixed in one configuration.

import { STORAGE_CLASSES } from '../s3/object/headers.js';
import { S3Error } from '../s3/errors.js';
import { children, childText, type ParsedDoc, type ParsedXml, type XmlLimits, type XmlNode } from '../s3/xml.js';
import { randomBytes } from 'node:crypto';

export interface ReplicationRule {
  id: string;
  priority?: number;
  enabled: boolean;
  /** V2 (a <Filter>) or V1 (a top-level <Prefix>). */
  v2: boolean;
  prefix: string;
  /** Every tag must be on the object (V2 filters). */
  tags: [string, string][];
  /** How the filter was written, to render it back: 'prefix' | 'tag' | 'and' | 'none' (V2) */
  filterForm: 'prefix' | 'tag' | 'and' | 'none';
  deleteMarkers: boolean;
  /** ExistingObjectReplication given and Enabled (used by resync). */
  existingObjects?: boolean;
  /** SourceSelectionCriteria/ReplicaModifications (metadata changes of replicas go back too). */
  replicaModifications?: boolean;
  /** SourceSelectionCriteria/SseKmsEncryptedObjects: SSE-KMS objects are replicated only when Enabled (as S3). */
  sseKms?: boolean;
  destination: {
    /** The bucket's name (from arn:aws:s3:::name). */
    bucket: string;
    storageClass?: string;
    account?: string;
    /** EncryptionConfiguration/ReplicaKmsKeyID: the destination's KMS key replicas of SSE-KMS objects are encrypted with. */
    replicaKmsKeyId?: string;
  };
}

export interface ReplicationConfig {
  role: string;
  rules: ReplicationRule[];
}

export const REPLICATION_ROOT = 'ReplicationConfiguration';
export const REPLICATION_XML_LIMITS: XmlLimits = { maxBytes: 2 * 1024 * 1024, repeated: { name: 'Rule', max: 1000 } };
const MAX_RULES = 1000;

function status(node: ParsedXml | ParsedXml[] | undefined, name: string, required: boolean): boolean | undefined {
  const el = children(node, name);
  if (el.length === 0) {
    if (required) throw new S3Error('MalformedXML');
    return undefined;
  }
  if (el.length > 1) throw new S3Error('MalformedXML');
  const s = childText(el[0], 'Status');
  if (s !== 'Enabled' && s !== 'Disabled') throw new S3Error('MalformedXML');
  return s === 'Enabled';
}

function one(node: ParsedXml, name: string): ParsedXml | undefined {
  const el = children(node, name);
  if (el.length > 1) throw new S3Error('MalformedXML');
  return el[0];
}

function tagOf(t: ParsedXml): [string, string] {
  const k = childText(t, 'Key');
  const v = childText(t, 'Value') ?? '';
  if (k === undefined || k === '') throw new S3Error('InvalidArgument', 'Tag key must not be empty.', { ArgumentName: 'Key' });
  if (k.length > 128 || v.length > 256) throw new S3Error('InvalidTag', 'The TagKey or TagValue you have provided is too long.');
  return [k, v];
}

/** The bucket named by a destination ARN; InvalidArgument when it is not one. */
export function bucketOfArn(arn: string): string {
  const m = /^arn:aws:s3:::([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])$/.exec(arn);
  if (!m) throw new S3Error('InvalidArgument', 'Invalid bucket ARN.', { ArgumentName: 'Bucket', ArgumentValue: arn });
  return m[1]!;
}

/** The configuration a PutBucketReplication document asks for, validated as S3 does. */
export function parseReplication(doc: ParsedDoc): ReplicationConfig {
  const role = childText(doc, 'Role');
  if (role === undefined) throw new S3Error('MalformedXML');
  const ruleNodes = children(doc, 'Rule');
  if (ruleNodes.length === 0 || ruleNodes.length > MAX_RULES) throw new S3Error('MalformedXML');
  const rules = ruleNodes.map((r): ReplicationRule => {
    if (typeof r === 'string') throw new S3Error('MalformedXML');
    const st = childText(r, 'Status');
    if (st !== 'Enabled' && st !== 'Disabled') throw new S3Error('MalformedXML');
    let id = childText(r, 'ID');
    if (id !== undefined && id.length > 255) throw new S3Error('InvalidArgument', 'ID must be less than 255 characters', { ArgumentName: 'ID' });
    if (id === undefined || id === '') id = randomBytes(24).toString('base64').replace(/[+/=]/g, '').slice(0, 32);
    const prefixV1 = childText(r, 'Prefix');
    const filter = one(r, 'Filter');
    if (prefixV1 !== undefined && filter !== undefined) throw new S3Error('MalformedXML');
    const rule: ReplicationRule = { id, enabled: st === 'Enabled', v2: filter !== undefined, prefix: prefixV1 ?? '', tags: [], filterForm: 'none', deleteMarkers: true, destination: { bucket: '' } };
    if (prefixV1 === undefined && filter === undefined) {
      // Neither: V2 with an empty filter is how the console writes "whole bucket"; S3 takes it as V2.
      rule.v2 = true;
    }
    if (filter !== undefined && typeof filter !== 'string') {
      const forms = ['Prefix', 'Tag', 'And'].filter((n) => children(filter, n).length > 0);
      if (forms.length > 1 || children(filter, 'Tag').length > 1) throw new S3Error('MalformedXML');
      if (forms[0] === 'Prefix') {
        rule.prefix = childText(filter, 'Prefix') ?? '';
        rule.filterForm = 'prefix';
      } else if (forms[0] === 'Tag') {
        rule.tags = [tagOf(children(filter, 'Tag')[0]!)];
        rule.filterForm = 'tag';
      } else if (forms[0] === 'And') {
        const and = one(filter, 'And')!;
        rule.prefix = childText(and, 'Prefix') ?? '';
        rule.tags = children(and, 'Tag').map(tagOf);
        const keys = new Set(rule.tags.map(([k]) => k));
        if (keys.size !== rule.tags.length) throw new S3Error('InvalidRequest', 'Duplicate Tag Keys are not allowed.');
        rule.filterForm = 'and';
      }
    }
    if (prefixV1 !== undefined && prefixV1.length > 1024) throw new S3Error('InvalidArgument', 'Prefix too long', { ArgumentName: 'Prefix' });
    const prio = childText(r, 'Priority');
    if (prio !== undefined) {
      if (!/^\d+$/.test(prio.trim()) || !Number.isSafeInteger(Number(prio.trim()))) throw new S3Error('MalformedXML');
      rule.priority = Number(prio.trim());
    }
    const dm = status(r, 'DeleteMarkerReplication', false);
    if (rule.v2) {
      if (dm === undefined) throw new S3Error('InvalidRequest', 'DeleteMarkerReplication must be specified for this version of Cross Region Replication configuration schema.');
      if (dm && rule.tags.length) throw new S3Error('InvalidRequest', 'Delete marker replication is not supported if any Tag filter is specified.');
      rule.deleteMarkers = dm;
    } else {
      if (dm !== undefined) throw new S3Error('MalformedXML');
      if (prio !== undefined) throw new S3Error('InvalidRequest', 'Priority must not be specified for this version of Cross Region Replication configuration schema.');
    }
    const existing = status(r, 'ExistingObjectReplication', false);
    if (existing !== undefined) rule.existingObjects = existing;
    const ssc = one(r, 'SourceSelectionCriteria');
    if (ssc !== undefined) {
      const rm = status(ssc, 'ReplicaModifications', false);
      if (rm !== undefined) rule.replicaModifications = rm;
      const kms = status(ssc, 'SseKmsEncryptedObjects', false);
      if (kms !== undefined) rule.sseKms = kms;
    }
    const dest = one(r, 'Destination');
    if (dest === undefined || typeof dest === 'string') throw new S3Error('MalformedXML');
    const arn = childText(dest, 'Bucket');
    if (arn === undefined) throw new S3Error('MalformedXML');
    rule.destination.bucket = bucketOfArn(arn.trim());
    const sc = childText(dest, 'StorageClass');
    if (sc !== undefined) {
      if (!STORAGE_CLASSES.has(sc)) throw new S3Error('InvalidStorageClass', 'The storage class you specified is not valid', { StorageClassRequested: sc });
      rule.destination.storageClass = sc;
    }
    const account = childText(dest, 'Account');
    if (account !== undefined) rule.destination.account = account;
    // SSE-KMS objects replicate only when the rule selects them, and then with the destination's
    // key: S3 requires both or neither.
    const enc = one(dest, 'EncryptionConfiguration');
    if (enc !== undefined) {
      if (typeof enc === 'string') throw new S3Error('MalformedXML');
      const keyId = childText(enc, 'ReplicaKmsKeyID');
      if (keyId !== undefined && keyId.trim() !== '') rule.destination.replicaKmsKeyId = keyId.trim();
    }
    if (rule.sseKms && rule.destination.replicaKmsKeyId === undefined) throw new S3Error('InvalidRequest', 'ReplicaKmsKeyID must be specified if SseKmsEncryptedObjects tag is present.');
    if (rule.destination.replicaKmsKeyId !== undefined && !rule.sseKms) throw new S3Error('InvalidRequest', 'SseKmsEncryptedObjects must be specified if EncryptionConfiguration is present.');
    return rule;
  });
  const v2 = rules.some((r) => r.v2);
  if (v2 && rules.some((r) => !r.v2)) throw new S3Error('InvalidRequest', 'Configurations with rules of both the V1 and the V2 schema are not supported.');
  const ids = new Set<string>();
  for (const r of rules) {
    if (ids.has(r.id)) throw new S3Error('InvalidRequest', 'Rule Id must be unique.');
    ids.add(r.id);
  }
  if (v2 && rules.length > 1) {
    const prios = new Set<number>();
    for (const r of rules) {
      if (r.priority === undefined) throw new S3Error('InvalidRequest', 'Priority must be specified for this version of Cross Region Replication configuration schema.');
      if (prios.has(r.priority)) throw new S3Error('InvalidRequest', `Found duplicate priority ${r.priority} when priorities should be unique.`);
      prios.add(r.priority);
    }
  }
  return { role, rules };
}

/** The GetBucketReplication document, elements in S3's order. */
export function renderReplication(c: ReplicationConfig): { root: typeof REPLICATION_ROOT; body: XmlNode } {
  return {
    root: REPLICATION_ROOT,
    body: {
      Role: c.role,
      Rule: c.rules.map((r) => {
        const n: XmlNode = { ID: r.id };
        if (r.priority !== undefined) n.Priority = r.priority;
        if (!r.v2) n.Prefix = r.prefix;
        else if (r.filterForm === 'prefix') n.Filter = { Prefix: r.prefix };
        else if (r.filterForm === 'tag') n.Filter = { Tag: { Key: r.tags[0]![0], Value: r.tags[0]![1] } };
        else if (r.filterForm === 'and') {
          const and: XmlNode = {};
          if (r.prefix) and.Prefix = r.prefix;
          and.Tag = r.tags.map(([Key, Value]) => ({ Key, Value }));
          n.Filter = { And: and };
        } else n.Filter = {};
        n.Status = r.enabled ? 'Enabled' : 'Disabled';
        if (r.replicaModifications !== undefined || r.sseKms !== undefined) {
          const ssc: XmlNode = {};
          if (r.sseKms !== undefined) ssc.SseKmsEncryptedObjects = { Status: r.sseKms ? 'Enabled' : 'Disabled' };
          if (r.replicaModifications !== undefined) ssc.ReplicaModifications = { Status: r.replicaModifications ? 'Enabled' : 'Disabled' };
          n.SourceSelectionCriteria = ssc;
        }
        if (r.existingObjects !== undefined) n.ExistingObjectReplication = { Status: r.existingObjects ? 'Enabled' : 'Disabled' };
        const d: XmlNode = { Bucket: `arn:aws:s3:::${r.destination.bucket}` };
        if (r.destination.account !== undefined) d.Account = r.destination.account;
        if (r.destination.storageClass !== undefined) d.StorageClass = r.destination.storageClass;
        if (r.destination.replicaKmsKeyId !== undefined) d.EncryptionConfiguration = { ReplicaKmsKeyID: r.destination.replicaKmsKeyId };
        n.Destination = d;
        if (r.v2) n.DeleteMarkerReplication = { Status: r.deleteMarkers ? 'Enabled' : 'Disabled' };
        return n;
      }),
    },
  };
}

export function serializeReplication(c: ReplicationConfig): string {
  return JSON.stringify({ v: 1, ...c });
}

export function deserializeReplication(s: string): ReplicationConfig {
  const j = JSON.parse(s) as ReplicationConfig & { v: number };
  return { role: j.role, rules: j.rules };
}

/**
 * The rule that replicates a key with these tags: among the enabled rules whose filter matches,
 * the one of highest priority (V1: the first).
 */
export function matchRule(c: ReplicationConfig | undefined, key: string, tags: readonly [string, string][] | undefined): ReplicationRule | undefined {
  if (!c) return undefined;
  let best: ReplicationRule | undefined;
  for (const r of c.rules) {
    if (!r.enabled || !key.startsWith(r.prefix)) continue;
    if (r.tags.some(([k, v]) => !(tags ?? []).some(([tk, tv]) => tk === k && tv === v))) continue;
    if (!best || (r.priority ?? 0) > (best.priority ?? 0)) best = r;
  }
  return best;
}
