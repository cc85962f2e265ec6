// ACLs given in request headers: the canned x-amz-acl, or explicit x-amz-grant-* lists such as
//   x-amz-grant-read: id="79a59df9…", emailAddress="xyz@amazon.com", uri="http://acs.amazonaws.com/groups/global/AllUsers"
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketAcl.html (request headers)
//
// Error answers are AWS's, as recorded by LocalStack's test_s3_bucket_acl_exceptions /
// test_s3_object_acl_exceptions (snapshots taken against AWS):
//   unknown key      InvalidArgument "Argument format not recognized"  ArgumentName=<header> ArgumentValue=<the item>
//   unknown group    InvalidArgument "Invalid group uri"               ArgumentName=uri      ArgumentValue=<uri>
//   unknown user     InvalidArgument "Invalid id"                      ArgumentName=id       ArgumentValue=<id>   (resolveAcl)
//   x-amz-acl with grant headers   InvalidRequest "Specifying both Canned ACLs and Header Grants is not allowed"
//   headers with a body            UnexpectedContent "This request does not support content"
//   neither headers nor a body     MissingSecurityHeader, MissingHeaderName=x-amz-acl

import { S3Error } from '../../s3/errors.js';
import { parseCannedAcl, type CannedAcl } from './canned.js';
import { isGroupUri, type Grant, type Grantee, type Permission } from './types.js';

/** The grant headers, in the order their grants are listed. */
export const GRANT_HEADERS: readonly (readonly [header: string, permission: Permission])[] = [
  ['x-amz-grant-full-control', 'FULL_CONTROL'],
  ['x-amz-grant-read', 'READ'],
  ['x-amz-grant-read-acp', 'READ_ACP'],
  ['x-amz-grant-write', 'WRITE'],
  ['x-amz-grant-write-acp', 'WRITE_ACP'],
];

/** Request headers as node gives them (lower-case names). */
export type HeaderBag = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface GrantHeaderOptions {
  /**
   * Read x-amz-grant-write. PutBucketAcl and PutObjectAcl take it; the operations that create
   * objects (PutObject, CopyObject, CreateMultipartUpload) have no such parameter, so there it
   * is an unknown header and ignored.
   */
  write?: boolean;
}

function header(headers: HeaderBag, name: string): string | undefined {
  const v = headers[name];
  // Node joins repeated x-amz-* headers with ", "; an array (from other sources) means the same.
  return typeof v === 'string' || v === undefined ? v : v.join(',');
}

function notRecognised(headerName: string, item: string): S3Error {
  return new S3Error('InvalidArgument', 'Argument format not recognized', { ArgumentName: headerName, ArgumentValue: item });
}

/** Splits a grantee list on the commas that are not inside double quotes. */
function splitItems(value: string, headerName: string): string[] {
  const items: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '"') quoted = !quoted;
    else if (c === ',' && !quoted) {
      items.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  if (quoted) throw notRecognised(headerName, value.slice(start).trim());
  items.push(value.slice(start).trim());
  return items;
}

/** One `key="value"` item (quotes optional) as a grantee. */
function parseGrantee(item: string, headerName: string): Grantee {
  const eq = item.indexOf('=');
  if (eq < 0) throw notRecognised(headerName, item);
  const key = item.slice(0, eq).trim().toLowerCase();
  let value = item.slice(eq + 1).trim();
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
  if (value.includes('"')) throw notRecognised(headerName, item);
  // AWS documents the keys as id, emailAddress and uri; they are matched without regard to
  // case, as Ceph and CloudServer do, since a client writing "emailaddress" means nothing else.
  switch (key) {
    case 'id':
      return { type: 'CanonicalUser', id: value };
    case 'emailaddress':
      return { type: 'AmazonCustomerByEmail', email: value };
    case 'uri':
      if (!isGroupUri(value)) throw new S3Error('InvalidArgument', 'Invalid group uri', { ArgumentName: 'uri', ArgumentValue: value });
      return { type: 'Group', uri: value };
    default:
      throw notRecognised(headerName, item);
  }
}

/** Whether any grant header is present (an empty one counts: it is refused, not ignored). */
export function hasGrantHeaders(headers: HeaderBag, opts: GrantHeaderOptions = {}): boolean {
  return GRANT_HEADERS.some(([name, perm]) => (perm !== 'WRITE' || opts.write !== false) && header(headers, name) !== undefined);
}

/**
 * The grants the x-amz-grant-* headers ask for, or undefined when there is none. User ids and
 * email addresses are not checked here: resolveAcl does, with the caller's user directory.
 * The grants are only those listed: S3 adds no grant for the owner.
 */
export function parseGrantHeaders(headers: HeaderBag, opts: GrantHeaderOptions = {}): Grant[] | undefined {
  let grants: Grant[] | undefined;
  for (const [name, permission] of GRANT_HEADERS) {
    if (permission === 'WRITE' && opts.write === false) continue;
    const value = header(headers, name);
    if (value === undefined) continue;
    grants ??= [];
    for (const item of splitItems(value, name)) grants.push({ grantee: parseGrantee(item, name), permission });
  }
  return grants;
}

/** An ACL as request headers give it. */
export type HeaderAcl = { kind: 'canned'; canned: CannedAcl } | { kind: 'grants'; grants: Grant[] };

/**
 * The ACL the headers of a request ask for (PutObject, CreateBucket, CopyObject,
 * CreateMultipartUpload, PutBucketAcl, PutObjectAcl), or undefined when they name none.
 */
export function aclFromHeaders(headers: HeaderBag, opts: GrantHeaderOptions = {}): HeaderAcl | undefined {
  const cannedValue = header(headers, 'x-amz-acl');
  const canned = cannedValue === undefined ? undefined : parseCannedAcl(cannedValue);
  if (canned !== undefined) {
    if (hasGrantHeaders(headers, opts)) throw new S3Error('InvalidRequest', 'Specifying both Canned ACLs and Header Grants is not allowed');
    return { kind: 'canned', canned };
  }
  const grants = parseGrantHeaders(headers, opts);
  return grants && { kind: 'grants', grants };
}

/** What PutBucketAcl / PutObjectAcl asks for: exactly one of a canned ACL, grant headers, a document. */
export type PutAclRequest = HeaderAcl | { kind: 'document' };

/**
 * Which of the three ways a PutBucketAcl / PutObjectAcl request sets the ACL; `hasBody` is
 * whether the request has a (non-empty) body, which must then be an AccessControlPolicy.
 */
export function putAclRequest(headers: HeaderBag, hasBody: boolean): PutAclRequest {
  const fromHeaders = aclFromHeaders(headers);
  if (fromHeaders && hasBody) throw new S3Error('UnexpectedContent', 'This request does not support content');
  if (fromHeaders) return fromHeaders;
  if (hasBody) return { kind: 'document' };
  throw new S3Error('MissingSecurityHeader', 'Your request was missing a required header', { MissingHeaderName: 'x-amz-acl' });
}
