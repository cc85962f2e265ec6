// The IAM API's response shapes (IAM API Reference, "Data Types"): User, Group, Role, Policy,
// PolicyVersion, AccessKey…, and the IsTruncated/Marker of a listing page. Dates are ISO 8601 in
// seconds; policy documents are URL-encoded (RFC 3986), as IAM returns them.

import type { XmlNode } from '../s3/xml.js';
import type { IamEntity, IamManagedPolicy, IamPolicyVersion, IamRole } from '../store/meta/types.js';
import { iamArn } from './names.js';

/** 2024-05-01T12:00:00Z */
export function iamDate(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** IAM returns documents percent-encoded; the SDKs leave decoding to the caller (boto3 decodes). */
export function encodeDocument(doc: string): string {
  return encodeURIComponent(doc);
}

export function userXml(u: IamEntity): XmlNode {
  return { Path: u.path, UserName: u.name, UserId: u.id, Arn: iamArn(u.accountId, 'user', u.path, u.name), CreateDate: iamDate(u.createdAt) };
}

export function groupXml(g: IamEntity): XmlNode {
  return { Path: g.path, GroupName: g.name, GroupId: g.id, Arn: iamArn(g.accountId, 'group', g.path, g.name), CreateDate: iamDate(g.createdAt) };
}

export function roleXml(r: IamRole): XmlNode {
  return {
    Path: r.path,
    RoleName: r.name,
    RoleId: r.id,
    Arn: iamArn(r.accountId, 'role', r.path, r.name),
    CreateDate: iamDate(r.createdAt),
    AssumeRolePolicyDocument: encodeDocument(r.assumeRolePolicy),
    Description: r.description,
    MaxSessionDuration: r.maxSessionDuration,
  };
}

export function policyArn(p: IamEntity): string {
  return iamArn(p.accountId, 'policy', p.path, p.name);
}

export function policyXml(p: IamManagedPolicy): XmlNode {
  return {
    PolicyName: p.name,
    PolicyId: p.id,
    Arn: policyArn(p),
    Path: p.path,
    DefaultVersionId: p.defaultVersionId,
    AttachmentCount: p.attachmentCount,
    PermissionsBoundaryUsageCount: 0,
    IsAttachable: true,
    Description: p.description,
    CreateDate: iamDate(p.createdAt),
    UpdateDate: iamDate(p.updatedAt),
  };
}

export function versionXml(v: IamPolicyVersion, withDocument: boolean): XmlNode {
  return { Document: withDocument ? encodeDocument(v.document) : undefined, VersionId: v.versionId, IsDefaultVersion: v.isDefault, CreateDate: iamDate(v.createdAt) };
}

/**
 * One page of a listing fetched with one item more than asked: the items to show, and IsTruncated
 * with the Marker (the last item's key) to continue from.
 */
export function page<T>(rows: T[], maxItems: number, keyOf: (t: T) => string): { items: T[]; IsTruncated: boolean; Marker: string | undefined } {
  const truncated = rows.length > maxItems;
  const items = truncated ? rows.slice(0, maxItems) : rows;
  return { items, IsTruncated: truncated, Marker: truncated ? keyOf(items[items.length - 1]!) : undefined };
}

/** `{ member: [...] }`: how the query protocol renders a list. */
export function members(items: XmlNode[] | string[]): XmlNode {
  return { member: items };
}
