// S3 Object Ownership: the bucket setting that says who owns uploaded objects and whether ACLs
// count at all.
//   PutBucketOwnershipControls / GetBucketOwnershipControls: PUT|GET /<bucket>?ownershipControls
//   <OwnershipControls xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
//     <Rule><ObjectOwnership>BucketOwnerEnforced|BucketOwnerPreferred|ObjectWriter</ObjectOwnership></Rule>
//   </OwnershipControls>
//   CreateBucket: x-amz-object-ownership header.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketOwnershipControls.html
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html
//
// Errors are AWS's as LocalStack recorded them against AWS (test_bucket_ownership_controls_exc):
// two rules, no rule or an unknown value is MalformedXML; an unknown header value is
// InvalidArgument "Invalid x-amz-object-ownership header: <value>"; a bucket without the setting
// answers GetBucketOwnershipControls with OwnershipControlsNotFoundError.

import { S3Error } from '../../errors.js';
import { childText, children, type ParsedDoc, type XmlLimits, type XmlNode } from '../../xml.js';

export const OBJECT_OWNERSHIPS = ['BucketOwnerEnforced', 'BucketOwnerPreferred', 'ObjectWriter'] as const;
export type ObjectOwnership = (typeof OBJECT_OWNERSHIPS)[number];

/** What S3 gives a bucket created without the header (since April 2023): ACLs disabled. */
export const DEFAULT_OBJECT_OWNERSHIP: ObjectOwnership = 'BucketOwnerEnforced';

export const OWNERSHIP_ROOT = 'OwnershipControls';
export const OWNERSHIP_XML_LIMITS: XmlLimits = { maxBytes: 64 * 1024 };

export function isObjectOwnership(s: string): s is ObjectOwnership {
  return (OBJECT_OWNERSHIPS as readonly string[]).includes(s);
}

/** The setting a PutBucketOwnershipControls document asks for: exactly one rule. */
export function parseOwnershipControls(doc: ParsedDoc): ObjectOwnership {
  const rules = children(doc, 'Rule');
  if (rules.length !== 1 || typeof rules[0] === 'string') throw new S3Error('MalformedXML');
  const value = childText(rules[0], 'ObjectOwnership')?.trim();
  if (value === undefined || !isObjectOwnership(value)) throw new S3Error('MalformedXML');
  return value;
}

/** The GetBucketOwnershipControls response, `{ root, body }` for renderXml. */
export function renderOwnershipControls(ownership: ObjectOwnership): { root: typeof OWNERSHIP_ROOT; body: XmlNode } {
  return { root: OWNERSHIP_ROOT, body: { Rule: { ObjectOwnership: ownership } } };
}

/** CreateBucket's x-amz-object-ownership header; undefined when absent. */
export function parseObjectOwnershipHeader(value: string | undefined): ObjectOwnership | undefined {
  if (value === undefined) return undefined;
  if (!isObjectOwnership(value)) {
    throw new S3Error('InvalidArgument', `Invalid x-amz-object-ownership header: ${value}`, { ArgumentName: 'x-amz-object-ownership' });
  }
  return value;
}

/**
 * Whether ACLs grant anything in a bucket with this setting. With BucketOwnerEnforced "ACLs are
 * disabled and no longer affect permissions": requests that set ACLs fail
 * (AccessControlListNotSupported) and reads of ACLs show the bucket owner's full control.
 */
export function aclsEnabled(ownership: ObjectOwnership): boolean {
  return ownership !== 'BucketOwnerEnforced';
}
