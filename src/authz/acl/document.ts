// The AccessControlPolicy document: PutBucketAcl / PutObjectAcl bodies in, GetBucketAcl /
// GetObjectAcl responses out.
//
// <AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
//   <Owner><ID>…</ID><DisplayName>…</DisplayName></Owner>
//   <AccessControlList>
//     <Grant>
//       <Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>…</ID><DisplayName>…</DisplayName></Grantee>
//       <Permission>FULL_CONTROL</Permission>
//     </Grant>
//     <Grant><Grantee … xsi:type="Group"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission></Grant>
//     <Grant><Grantee … xsi:type="AmazonCustomerByEmail"><EmailAddress>…</EmailAddress></Grantee><Permission>WRITE</Permission></Grant>
//   </AccessControlList>
// </AccessControlPolicy>
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketAcl.html,
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketAcl.html
//
// Errors as AWS answers them (LocalStack's snapshots of AWS, test_s3_bucket_acl_exceptions):
// a document without Owner or without AccessControlList, an unknown Permission or grantee type
// is MalformedACLError; an unknown group is InvalidArgument "Invalid group uri" (Group/URI); an
// unknown user is InvalidArgument "Invalid id" (CanonicalUser/ID, see resolveAcl). More than 100
// grants is MalformedACLError (AWS's answer, quoted in Ceph's commit a1b05dd "rgw: acl grants num
// limit").

import { S3Error } from '../../s3/errors.js';
import { ATTRS, attributesOf, childText, children, type ParsedDoc, type ParsedXml, type XmlLimits, type XmlNode } from '../../s3/xml.js';
import { MAX_GRANTS, isGroupUri, isPermission, type Acl, type AclOwner, type Grant, type Grantee } from './types.js';

export const ACL_ROOT = 'AccessControlPolicy';
const XSI = 'http://www.w3.org/2001/XMLSchema-instance';

/**
 * How to read a PutBucketAcl / PutObjectAcl body: attributes kept (the grantee's xsi:type), and
 * every refusal is MalformedACLError. 100 maximal grants fit well inside the size.
 */
export const ACL_XML_LIMITS: XmlLimits = { maxBytes: 256 * 1024, errorCode: 'MalformedACLError', attributes: true };

function malformed(): S3Error {
  return new S3Error('MalformedACLError');
}

/** The single child element `name`; MalformedACLError when absent, repeated or text. */
function one(node: ParsedXml | undefined, name: string): ParsedXml {
  const c = children(node, name);
  if (c.length !== 1) throw malformed();
  const v = c[0]!;
  if (typeof v !== 'string') return v;
  // An empty element (<AccessControlList/>, or only layout inside) is a valid empty container.
  if (v.trim() === '') return {};
  throw malformed();
}

/** Trimmed text of the single child `name`; undefined when absent; MalformedACLError when not text. */
function text(node: ParsedXml, name: string): string | undefined {
  try {
    return childText(node, name)?.trim();
  } catch {
    throw malformed();
  }
}

function required(node: ParsedXml, name: string): string {
  const t = text(node, name);
  if (t === undefined || t === '') throw malformed();
  return t;
}

function parseOwner(node: ParsedXml): AclOwner {
  const id = required(node, 'ID');
  const displayName = text(node, 'DisplayName');
  return displayName === undefined ? { id } : { id, displayName };
}

/** A grantee as written, before its group is known to be one S3 has. */
export type WrittenGrantee = Grantee | { type: 'UnknownGroup'; uri: string };

export function parseGrantee(node: ParsedXml): WrittenGrantee {
  switch (attributesOf(node).type) {
    case 'CanonicalUser': {
      const id = required(node, 'ID');
      const displayName = text(node, 'DisplayName');
      return displayName === undefined ? { type: 'CanonicalUser', id } : { type: 'CanonicalUser', id, displayName };
    }
    case 'Group': {
      const uri = required(node, 'URI');
      return isGroupUri(uri) ? { type: 'Group', uri } : { type: 'UnknownGroup', uri };
    }
    case 'AmazonCustomerByEmail':
      return { type: 'AmazonCustomerByEmail', email: required(node, 'EmailAddress') };
    default:
      throw malformed();
  }
}

/**
 * The ACL an AccessControlPolicy document (read with ACL_XML_LIMITS) asks for. The owner and
 * the user ids are as written: resolveAcl checks them against the user directory and the
 * resource's owner, and turns email grantees into users.
 */
export function parseAclXml(doc: ParsedDoc): Acl {
  const owner = parseOwner(one(doc, 'Owner'));
  const list = one(doc, 'AccessControlList');
  // Anything but Grant in the list would be a grant silently dropped (a typo such as <Grants>).
  if (Object.keys(list).some((k) => k !== 'Grant' && k !== ATTRS)) throw malformed();
  const grantNodes = children(list, 'Grant');
  if (grantNodes.length > MAX_GRANTS) throw malformed();
  const written = grantNodes.map((g) => {
    if (typeof g === 'string') throw malformed();
    const permission = required(g, 'Permission');
    const grantee = parseGrantee(one(g, 'Grantee'));
    if (!isPermission(permission)) throw malformed();
    return { grantee, permission };
  });
  // Schema errors first, then values: a document both malformed and naming an unknown group is
  // answered as malformed.
  const grants: Grant[] = written.map(({ grantee, permission }) => {
    if (grantee.type === 'UnknownGroup') {
      throw new S3Error('InvalidArgument', 'Invalid group uri', { ArgumentName: 'Group/URI', ArgumentValue: grantee.uri });
    }
    return { grantee, permission };
  });
  return { owner, grants };
}

function ownerXml(o: AclOwner): XmlNode {
  return o.displayName === undefined ? { ID: o.id } : { ID: o.id, DisplayName: o.displayName };
}

export function granteeXml(g: Grantee): XmlNode {
  const attrs: XmlNode = { [ATTRS]: { 'xmlns:xsi': XSI, 'xsi:type': g.type } };
  switch (g.type) {
    case 'CanonicalUser':
      return { ...attrs, ...ownerXml(g) };
    case 'Group':
      return { ...attrs, URI: g.uri };
    case 'AmazonCustomerByEmail':
      return { ...attrs, EmailAddress: g.email };
  }
}

/**
 * The GetBucketAcl / GetObjectAcl response: `{ root, body }` for renderXml (which adds S3's
 * namespace to the root). Each Grantee declares xmlns:xsi itself, as S3 writes it.
 */
export function renderAcl(acl: Acl): { root: typeof ACL_ROOT; body: XmlNode } {
  return {
    root: ACL_ROOT,
    body: {
      Owner: ownerXml(acl.owner),
      AccessControlList: { Grant: acl.grants.map((g) => ({ Grantee: granteeXml(g.grantee), Permission: g.permission })) },
    },
  };
}
