// The JSON `meta` column of object versions and multipart uploads: representation headers, user
// metadata, checksum value, tags, retention, legal hold and ACL, in short keys. Every MetaStore
// stores the same document, so a data set keeps its meaning whichever store holds it.

import type { ChecksumAlgorithm } from '../../../common/checksums.js';
import type { ChecksumType, ObjectContent, ObjectVersion, ReplicationStatus, Retention, Upload } from '../types.js';
import type { SseDescriptor } from '../../../sse/object.js';

/** Tags, retention, legal hold and ACL, as objects and uploads store them in their JSON. */
export interface GovernanceJson {
  t?: [string, string][];
  r?: Retention;
  l?: boolean;
  a?: string;
}

export type Governance = Pick<ObjectContent, 'tags' | 'retention' | 'legalHold' | 'acl'>;

export function governanceToJson(g: Governance, into: GovernanceJson): void {
  if (g.tags && g.tags.length) into.t = g.tags;
  if (g.retention) into.r = g.retention;
  if (g.legalHold !== undefined) into.l = g.legalHold;
  if (g.acl !== undefined) into.a = g.acl;
}

export function governanceFromJson(j: GovernanceJson, into: Governance): void {
  if (j.t) into.tags = j.t;
  if (j.r) into.retention = j.r;
  if (j.l !== undefined) into.legalHold = j.l;
  if (j.a !== undefined) into.acl = j.a;
}

/** The JSON `meta` column of an object version (the checksum's algorithm and type are columns). */
export interface ObjectMetaJson extends GovernanceJson {
  h?: Record<string, string>;
  m?: Record<string, string>;
  c?: string;
  /** Server-side encryption descriptor (sse/object.ts). */
  e?: SseDescriptor;
  /** Replication status (ObjectContent.replicationStatus). */
  rs?: ReplicationStatus;
}

/** The `meta` column of a version: null when there is nothing to say. */
export function objectMetaJson(c: Pick<ObjectContent, 'headers' | 'userMeta' | 'checksum' | 'tags' | 'retention' | 'legalHold' | 'acl' | 'sse' | 'replicationStatus'>): string | null {
  const m: ObjectMetaJson = {};
  if (Object.keys(c.headers).length) m.h = c.headers;
  if (Object.keys(c.userMeta).length) m.m = c.userMeta;
  if (c.checksum) m.c = c.checksum.value;
  if (c.sse) m.e = c.sse;
  if (c.replicationStatus) m.rs = c.replicationStatus;
  governanceToJson(c, m);
  return Object.keys(m).length ? JSON.stringify(m) : null;
}

export function parseObjectMeta(meta: string | null): ObjectMetaJson {
  return meta ? (JSON.parse(meta) as ObjectMetaJson) : {};
}

/**
 * Fills a version's headers, user metadata, checksum and governance from its `meta` column and
 * its checksum columns.
 */
export function objectMetaInto(
  v: Pick<ObjectVersion, 'headers' | 'userMeta' | 'checksum' | 'tags' | 'retention' | 'legalHold' | 'acl' | 'sse' | 'replicationStatus'>,
  meta: string | null,
  checksumAlg: string | null,
  checksumType: string | null,
): void {
  const m = parseObjectMeta(meta);
  v.headers = m.h ?? {};
  v.userMeta = m.m ?? {};
  if (checksumAlg && m.c !== undefined) {
    v.checksum = { algorithm: checksumAlg as ChecksumAlgorithm, value: m.c, type: (checksumType ?? 'FULL_OBJECT') as ChecksumType };
  }
  if (m.e) v.sse = m.e;
  if (m.rs) v.replicationStatus = m.rs;
  governanceFromJson(m, v);
}

/** The JSON `meta` column of a multipart upload: what the object gets at completion. */
export interface UploadMetaJson extends GovernanceJson {
  sc: string;
  h: Record<string, string>;
  m: Record<string, string>;
  ca?: ChecksumAlgorithm;
  ct?: ChecksumType;
  e?: SseDescriptor;
}

export function uploadMetaJson(u: Upload): string {
  const m: UploadMetaJson = { sc: u.storageClass, h: u.headers, m: u.userMeta };
  if (u.checksumAlgorithm) m.ca = u.checksumAlgorithm;
  if (u.checksumType) m.ct = u.checksumType;
  if (u.sse) m.e = u.sse;
  governanceToJson(u, m);
  return JSON.stringify(m);
}

/** An upload from its columns and its `meta` column. */
export function uploadFromJson(columns: Pick<Upload, 'uploadId' | 'bucketId' | 'key' | 'initiated' | 'owner'>, meta: string): Upload {
  const m = JSON.parse(meta) as UploadMetaJson;
  const u: Upload = { ...columns, storageClass: m.sc, headers: m.h, userMeta: m.m };
  if (m.ca) u.checksumAlgorithm = m.ca;
  if (m.ct) u.checksumType = m.ct;
  if (m.e) u.sse = m.e;
  governanceFromJson(m, u);
  return u;
}
