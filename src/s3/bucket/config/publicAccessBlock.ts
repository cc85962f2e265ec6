// S3 Block Public Access: four switches, set on a bucket and on its owner's account.
//   PutPublicAccessBlock / GetPublicAccessBlock: PUT|GET /<bucket>?publicAccessBlock
//   <PublicAccessBlockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
//     <BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>true</IgnorePublicAcls>
//     <BlockPublicPolicy>true</BlockPublicPolicy><RestrictPublicBuckets>true</RestrictPublicBuckets>
//   </PublicAccessBlockConfiguration>
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutPublicAccessBlock.html
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html

import { isPublicGrantee } from '../../../authz/acl/evaluate.js';
import type { Acl } from '../../../authz/acl/types.js';
import { S3Error } from '../../errors.js';
import { childText, type ParsedDoc, type XmlLimits, type XmlNode } from '../../xml.js';

export interface PublicAccessBlock {
  /** Refuse requests that set a public ACL (PutBucketAcl, PutObjectAcl, PutObject…). */
  blockPublicAcls: boolean;
  /** Disregard public grants of the bucket's and its objects' ACLs. */
  ignorePublicAcls: boolean;
  /** Refuse a bucket policy that grants public access. */
  blockPublicPolicy: boolean;
  /** A public policy grants access only to the owner's account and AWS services. */
  restrictPublicBuckets: boolean;
}

/** Nothing blocked: a bucket or account without a configuration. */
export const NO_PUBLIC_ACCESS_BLOCK: Readonly<PublicAccessBlock> = Object.freeze({
  blockPublicAcls: false,
  ignorePublicAcls: false,
  blockPublicPolicy: false,
  restrictPublicBuckets: false,
});

export const PUBLIC_ACCESS_BLOCK_ROOT = 'PublicAccessBlockConfiguration';
export const PUBLIC_ACCESS_BLOCK_XML_LIMITS: XmlLimits = { maxBytes: 64 * 1024 };

/** Element names in the order S3 writes them (GetPublicAccessBlock). */
const FIELDS = [
  ['BlockPublicAcls', 'blockPublicAcls'],
  ['IgnorePublicAcls', 'ignorePublicAcls'],
  ['BlockPublicPolicy', 'blockPublicPolicy'],
  ['RestrictPublicBuckets', 'restrictPublicBuckets'],
] as const;

/**
 * The configuration a PutPublicAccessBlock document asks for. An absent setting is false
 * (S3 then reads it back as false; AWS, LocalStack test_crud_public_access_block); a value other
 * than true or false is MalformedXML; a document with none of the four is InvalidRequest "Must
 * specify at least one configuration." (moto's reading of AWS; not in LocalStack's snapshots).
 */
export function parsePublicAccessBlock(doc: ParsedDoc): PublicAccessBlock {
  const out: PublicAccessBlock = { ...NO_PUBLIC_ACCESS_BLOCK };
  let given = 0;
  for (const [element, field] of FIELDS) {
    // Any case: S3's own reference writes the values "TRUE" ("Setting this element to TRUE…").
    const v = childText(doc, element)?.trim().toLowerCase();
    if (v === undefined) continue;
    if (v !== 'true' && v !== 'false') throw new S3Error('MalformedXML');
    out[field] = v === 'true';
    given++;
  }
  if (given === 0) throw new S3Error('InvalidRequest', 'Must specify at least one configuration.');
  return out;
}

/** The GetPublicAccessBlock response, every setting written, `{ root, body }` for renderXml. */
export function renderPublicAccessBlock(c: PublicAccessBlock): { root: typeof PUBLIC_ACCESS_BLOCK_ROOT; body: XmlNode } {
  const body: XmlNode = {};
  for (const [element, field] of FIELDS) body[element] = c[field];
  return { root: PUBLIC_ACCESS_BLOCK_ROOT, body };
}

/**
 * The settings in force for a request: "Amazon S3 applies the most restrictive combination of the
 * access point, bucket, and account settings" — each switch is on if any level turns it on.
 * Levels without a configuration are undefined.
 */
export function effectivePublicAccessBlock(...levels: (PublicAccessBlock | undefined)[]): PublicAccessBlock {
  const out: PublicAccessBlock = { ...NO_PUBLIC_ACCESS_BLOCK };
  for (const level of levels) {
    if (!level) continue;
    for (const [, field] of FIELDS) out[field] ||= level[field];
  }
  return out;
}

/**
 * "Amazon S3 considers a bucket or object ACL public if it grants any permissions to members of
 * the predefined AllUsers or AuthenticatedUsers groups." (The meaning of "public".)
 */
export function isPublicAcl(acl: Acl): boolean {
  return acl.grants.some((g) => isPublicGrantee(g.grantee));
}

/**
 * BlockPublicAcls: a request that sets a public ACL — PutBucketAcl, PutObjectAcl, or an ACL given
 * with PutObject / CopyObject / CreateMultipartUpload (and CreateBucket, when the setting is the
 * account's) — is refused with AccessDenied.
 */
export function refusePublicAcl(block: PublicAccessBlock, acl: Acl): void {
  if (block.blockPublicAcls && isPublicAcl(acl)) throw new S3Error('AccessDenied');
}

/** Every setting on: what S3 gives a new bucket since April 2023. */
export const ALL_PUBLIC_ACCESS_BLOCKED: Readonly<PublicAccessBlock> = Object.freeze({
  blockPublicAcls: true,
  ignorePublicAcls: true,
  blockPublicPolicy: true,
  restrictPublicBuckets: true,
});

/** The stored form of a bucket's configuration (bucket configuration 'public-access-block'). */
export function serializePublicAccessBlock(c: PublicAccessBlock): string {
  return JSON.stringify({ v: 1, b: [c.blockPublicAcls, c.ignorePublicAcls, c.blockPublicPolicy, c.restrictPublicBuckets] });
}

/** Reads what serializePublicAccessBlock wrote. A damaged record blocks everything: it must not open a bucket its owner had closed. */
export function deserializePublicAccessBlock(s: string): PublicAccessBlock {
  let flags: unknown;
  try {
    flags = (JSON.parse(s) as { b?: unknown }).b;
  } catch {
    flags = undefined;
  }
  if (!Array.isArray(flags) || flags.length !== 4 || !flags.every((f): f is boolean => typeof f === 'boolean')) return { ...ALL_PUBLIC_ACCESS_BLOCKED };
  const [blockPublicAcls, ignorePublicAcls, blockPublicPolicy, restrictPublicBuckets] = flags as [boolean, boolean, boolean, boolean];
  return { blockPublicAcls, ignorePublicAcls, blockPublicPolicy, restrictPublicBuckets };
}
