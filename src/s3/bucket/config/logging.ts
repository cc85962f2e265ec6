// Server access logging, the bucket configuration (PutBucketLogging / GetBucketLogging):
//   <BucketLoggingStatus xmlns="http://doc.s3.amazonaws.com/2006-03-01">
//     <LoggingEnabled>
//       <TargetBucket>logs</TargetBucket>
//       <TargetGrants><Grant><Grantee xsi:type="CanonicalUser"><ID>…</ID></Grantee><Permission>READ</Permission></Grant></TargetGrants>
//       <TargetPrefix>log/</TargetPrefix>
//       <TargetObjectKeyFormat><SimplePrefix/></TargetObjectKeyFormat>
//         or <PartitionedPrefix><PartitionDateSource>EventTime|DeliveryTime</PartitionDateSource></PartitionedPrefix>
//     </LoggingEnabled>
//   </BucketLoggingStatus>
// An empty BucketLoggingStatus turns logging off.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketLogging.html
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_LoggingEnabled.html,
// API_TargetGrant.html (permissions FULL_CONTROL | READ | WRITE), API_TargetObjectKeyFormat.html.
// Checks against the target bucket (it exists, same owner, same region, delivery allowed) need
// the store and authorisation: the handler (s3/bucket/logging.ts) makes them.

import { S3Error } from '../../errors.js';
import { parseGrantee, granteeXml } from '../../../authz/acl/document.js';
import { MAX_GRANTS, type Grant } from '../../../authz/acl/types.js';
import { ATTRS, childText, children, type ParsedDoc, type ParsedXml, type XmlLimits, type XmlNode } from '../../xml.js';

export const LOGGING_ROOT = 'BucketLoggingStatus';
/** The namespace S3 writes on BucketLoggingStatus (its own, not the usual 2006-03-01/ one). */
export const LOGGING_NS = 'http://doc.s3.amazonaws.com/2006-03-01';
export const LOGGING_XML_LIMITS: XmlLimits = { maxBytes: 256 * 1024, attributes: true };

export type KeyFormat = { kind: 'simple' } | { kind: 'partitioned'; dateSource: 'EventTime' | 'DeliveryTime' };

export interface LoggingConfig {
  targetBucket: string;
  targetPrefix: string;
  /** Grants given on every log object, beside the target bucket owner's full control. */
  targetGrants: Grant[];
  keyFormat: KeyFormat;
  /** Whether TargetObjectKeyFormat was given. */
  keyFormatGiven: boolean;
}

const TARGET_PERMISSIONS = new Set(['FULL_CONTROL', 'READ', 'WRITE']);

function malformed(): S3Error {
  return new S3Error('MalformedXML');
}

/** The single element child `name` (undefined when absent; MalformedXML when repeated). */
function optionalChild(node: ParsedXml | undefined, name: string): ParsedXml | undefined {
  const c = children(node, name);
  if (c.length > 1) throw malformed();
  if (c.length === 0) return undefined;
  const v = c[0]!;
  return typeof v === 'string' ? (v.trim() === '' ? {} : (() => { throw malformed(); })()) : v;
}

function text(node: ParsedXml, name: string): string | undefined {
  try {
    return childText(node, name);
  } catch {
    throw malformed();
  }
}

function onlyKnown(node: ParsedXml, known: readonly string[]): void {
  if (typeof node === 'string') return;
  for (const k of Object.keys(node)) if (k !== ATTRS && !known.includes(k)) throw malformed();
}

/** The configuration a PutBucketLogging body asks for; undefined turns logging off. */
export function parseLogging(doc: ParsedDoc): LoggingConfig | undefined {
  onlyKnown(doc, ['LoggingEnabled']);
  const le = optionalChild(doc, 'LoggingEnabled');
  if (le === undefined) return undefined;
  onlyKnown(le, ['TargetBucket', 'TargetPrefix', 'TargetGrants', 'TargetObjectKeyFormat']);
  const targetBucket = text(le, 'TargetBucket')?.trim();
  const targetPrefix = text(le, 'TargetPrefix');
  // Both are required members of LoggingEnabled.
  if (!targetBucket || targetPrefix === undefined) throw malformed();
  if (Buffer.byteLength(targetPrefix) > 1024) throw new S3Error('InvalidArgument', 'TargetPrefix is too long.', { ArgumentName: 'TargetPrefix', ArgumentValue: targetPrefix });
  const targetGrants: Grant[] = [];
  const tg = optionalChild(le, 'TargetGrants');
  if (tg !== undefined) {
    onlyKnown(tg, ['Grant']);
    const grants = children(tg, 'Grant');
    if (grants.length > MAX_GRANTS) throw malformed();
    for (const g of grants) {
      if (typeof g === 'string') throw malformed();
      const permission = text(g, 'Permission')?.trim();
      const granteeNode = optionalChild(g, 'Grantee');
      if (!permission || !granteeNode || !TARGET_PERMISSIONS.has(permission)) throw malformed();
      let grantee;
      try {
        grantee = parseGrantee(granteeNode);
      } catch {
        throw malformed();
      }
      if (grantee.type === 'UnknownGroup') throw new S3Error('InvalidArgument', 'Invalid group uri', { ArgumentName: 'Group/URI', ArgumentValue: grantee.uri });
      targetGrants.push({ grantee, permission: permission as Grant['permission'] });
    }
  }
  let keyFormat: KeyFormat = { kind: 'simple' };
  const kf = optionalChild(le, 'TargetObjectKeyFormat');
  if (kf !== undefined) {
    onlyKnown(kf, ['SimplePrefix', 'PartitionedPrefix']);
    const simple = optionalChild(kf, 'SimplePrefix');
    const partitioned = optionalChild(kf, 'PartitionedPrefix');
    // Exactly one of the two.
    if ((simple === undefined) === (partitioned === undefined)) throw malformed();
    if (partitioned !== undefined) {
      onlyKnown(partitioned, ['PartitionDateSource']);
      const source = text(partitioned, 'PartitionDateSource')?.trim() ?? 'EventTime';
      if (source !== 'EventTime' && source !== 'DeliveryTime') throw malformed();
      keyFormat = { kind: 'partitioned', dateSource: source };
    } else onlyKnown(simple!, []);
  }
  return { targetBucket, targetPrefix, targetGrants, keyFormat, keyFormatGiven: kf !== undefined };
}

/** The GetBucketLogging response body (an empty BucketLoggingStatus when logging is off). */
export function renderLogging(c: LoggingConfig | undefined): { root: string; body: XmlNode; namespace: string } {
  if (!c) return { root: LOGGING_ROOT, body: {}, namespace: LOGGING_NS };
  const le: XmlNode = { TargetBucket: c.targetBucket };
  if (c.targetGrants.length) le.TargetGrants = { Grant: c.targetGrants.map((g) => ({ Grantee: granteeXml(g.grantee), Permission: g.permission })) };
  le.TargetPrefix = c.targetPrefix;
  // Always, SimplePrefix by default (what the Ceph suite's test_put_bucket_logging, which is not
  // marked as failing on AWS, expects back from a configuration that did not name one).
  {
    le.TargetObjectKeyFormat = c.keyFormat.kind === 'simple' ? { SimplePrefix: '' } : { PartitionedPrefix: { PartitionDateSource: c.keyFormat.dateSource } };
  }
  return { root: LOGGING_ROOT, body: { LoggingEnabled: le }, namespace: LOGGING_NS };
}

export function serializeLogging(c: LoggingConfig): string {
  return JSON.stringify(c);
}

export function deserializeLogging(s: string): LoggingConfig {
  return JSON.parse(s) as LoggingConfig;
}
