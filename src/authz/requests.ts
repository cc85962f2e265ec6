// What a request does, as IAM sees it: the (action, resource) pairs it must be allowed, derived
// from the operation table and the request itself. CopyObject is s3:GetObject on its source and
// s3:PutObject on its destination; a versionId turns s3:GetObject into s3:GetObjectVersion;
// headers that set tags or locks add the actions that set them. ACL headers on a write add none:
// AWS's own policies for cross-account uploads grant s3:PutObject alone, with conditions on
// s3:x-amz-acl / s3:x-amz-grant-* (example-bucket-policies-condition-keys). Some actions are asked
// for but not required: the handler learns whether they were granted (a governance bypass is
// honoured only for a caller allowed s3:BypassGovernanceRetention, as S3 does).

import type { IncomingHttpHeaders } from 'node:http';
import type { Query } from '../s3/handler.js';
import type { OperationSpec } from '../s3/operations.js';
import { parseCopySource } from '../s3/object/copySource.js';

export interface AccessRequest {
  /** The IAM action, e.g. s3:GetObjectVersion. */
  action: string;
  /** The bucket the action applies to ('' for service-level actions such as ListAllMyBuckets). */
  bucket: string;
  /** The object key, for object actions. */
  key?: string;
  /** The version addressed (versionId, or the copy source's), for object ACL checks. */
  versionId?: string;
  /** Asked for, not required: the request goes on either way and the handler reads the answer. */
  optional?: boolean;
  /** Only principals of the bucket owner's account may (OperationSpec.ownerAccountOnly). */
  ownerAccountOnly?: boolean;
  /** The bucket is being created: only the caller's own account decides (CreateBucket). */
  newBucket?: boolean;
  /** S3 Control: the account addressed (x-amz-account-id); only its own principals may act on it. */
  account?: string;
  /**
   * A KMS key of the built-in key service (its ARN), for kms:GenerateDataKey / kms:Decrypt: the
   * resource instead of a bucket. The keys are the server's, decided by the caller's own
   * account's rules (the root allowed, IAM users by their identity policies); no key policies.
   */
  kmsKey?: string;
}

/** Object actions with a distinct name when a version is addressed (AWS's S3 action list). */
const VERSIONED: Record<string, string> = {
  's3:GetObject': 's3:GetObjectVersion',
  's3:DeleteObject': 's3:DeleteObjectVersion',
  's3:GetObjectTagging': 's3:GetObjectVersionTagging',
  's3:PutObjectTagging': 's3:PutObjectVersionTagging',
  's3:DeleteObjectTagging': 's3:DeleteObjectVersionTagging',
  's3:GetObjectAcl': 's3:GetObjectVersionAcl',
  's3:PutObjectAcl': 's3:PutObjectVersionAcl',
  's3:GetObjectAttributes': 's3:GetObjectVersionAttributes',
  's3:GetObjectTorrent': 's3:GetObjectVersionTorrent',
};

export function versionedAction(action: string, versionId: string | undefined): string {
  return versionId === undefined ? action : (VERSIONED[action] ?? action);
}

const UNVERSIONED: Record<string, string> = Object.fromEntries(Object.entries(VERSIONED).map(([base, versioned]) => [versioned, base]));

/** The base action of a version-specific one (s3:GetObjectVersionAcl → s3:GetObjectAcl). */
export function unversionedAction(action: string): string {
  return UNVERSIONED[action] ?? action;
}

export const BYPASS_GOVERNANCE = 's3:BypassGovernanceRetention';

/** Which replication action a replica header needs, by operation (see src/replication/writes.ts). */
const REPLICA_ACTIONS: Record<string, { header: string; action: string }> = {
  PutObject: { header: 'x-trove-replica-version-id', action: 's3:ReplicateObject' },
  CompleteMultipartUpload: { header: 'x-trove-replica-version-id', action: 's3:ReplicateObject' },
  DeleteObject: { header: 'x-trove-replica-version-id', action: 's3:ReplicateDelete' },
  PutObjectTagging: { header: 'x-trove-replica', action: 's3:ReplicateTags' },
  DeleteObjectTagging: { header: 'x-trove-replica', action: 's3:ReplicateTags' },
  PutObjectRetention: { header: 'x-trove-replica', action: 's3:ReplicateTags' },
  PutObjectLegalHold: { header: 'x-trove-replica', action: 's3:ReplicateTags' },
};

function has(h: IncomingHttpHeaders, name: string): boolean {
  return h[name] !== undefined;
}

/** Writes of a new object version (PutObject, CopyObject, CreateMultipartUpload, PostObject). */
function writeExtras(h: IncomingHttpHeaders, bucket: string, key: string, out: AccessRequest[]): void {
  if (has(h, 'x-amz-tagging')) out.push({ action: 's3:PutObjectTagging', bucket, key });
  if (has(h, 'x-amz-object-lock-mode') || has(h, 'x-amz-object-lock-retain-until-date')) out.push({ action: 's3:PutObjectRetention', bucket, key });
  if (has(h, 'x-amz-object-lock-legal-hold')) out.push({ action: 's3:PutObjectLegalHold', bucket, key });
}

/**
 * Every check a request needs before its handler runs. Operations whose table entry says
 * `authorizes: 'per-object'` (DeleteObjects) check each object in the handler instead.
 */
export function accessRequests(op: OperationSpec, bucket: string, key: string, query: Query, headers: IncomingHttpHeaders): AccessRequest[] {
  if (op.authorizes === 'per-object') return [];
  if (op.resource === 'service') return [{ action: op.action, bucket: '' }];
  if (op.resource === 'account') {
    const id = headers['x-amz-account-id'];
    return [{ action: op.action, bucket: '', account: Array.isArray(id) ? id.join(',') : (id ?? '') }];
  }
  if (op.authorizes === 'new-bucket') return [{ action: op.action, bucket, newBucket: true }];
  if (op.authorizes === 'form') {
    // POST object: a PutObject of the key the form names, on the bucket of the URL (never one a
    // form field names), with the form's fields in the place of PutObject's headers.
    const out: AccessRequest[] = [{ action: op.action, bucket, key }];
    writeExtras(headers, bucket, key, out);
    return out;
  }
  if (op.resource === 'bucket') return [{ action: op.action, bucket, ...(op.ownerAccountOnly ? { ownerAccountOnly: true } : {}) }];
  const versionId = query.get('versionId');
  const out: AccessRequest[] = [{ action: versionedAction(op.action, versionId), bucket, key, ...(versionId !== undefined ? { versionId } : {}) }];
  switch (op.name) {
    case 'PutObject':
    case 'CreateMultipartUpload':
      writeExtras(headers, bucket, key, out);
      break;
    case 'CopyObject':
    case 'UploadPartCopy': {
      const raw = headers['x-amz-copy-source'];
      const src = parseCopySource(Array.isArray(raw) ? raw[0]! : (raw ?? ''));
      out.push({ action: versionedAction('s3:GetObject', src.versionId), bucket: src.bucket, key: src.key, ...(src.versionId !== undefined ? { versionId: src.versionId } : {}) });
      if (op.name === 'CopyObject') writeExtras(headers, bucket, key, out);
      break;
    }
  }
  // Replica writes (src/replication/writes.ts): the headers that let a write choose its version id
  // and mark itself a replica are honoured only for a caller allowed to replicate, and required
  // here, so anyone else sending them is refused (AccessDenied) rather than silently obeyed.
  const replica = REPLICA_ACTIONS[op.name];
  if (replica && headers[replica.header] !== undefined) out.push({ action: replica.action, bucket, key });
  if (String(headers['x-amz-bypass-governance-retention'] ?? '').toLowerCase() === 'true') {
    out.push({ action: BYPASS_GOVERNANCE, bucket, key, optional: true });
  }
  return out;
}

/** The ARN of an access request's resource ('*' for actions on no resource). */
export function resourceArn(r: Pick<AccessRequest, 'bucket' | 'key' | 'kmsKey'>): string {
  if (r.kmsKey !== undefined) return r.kmsKey;
  if (!r.bucket) return '*';
  return r.key === undefined ? `arn:aws:s3:::${r.bucket}` : `arn:aws:s3:::${r.bucket}/${r.key}`;
}
