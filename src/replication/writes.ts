// What S3 writes do about replication, in one place for every write handler: an ordinary write
// of a version a rule matches gets PENDING and a `replicate` item in its transaction; a replica
// write (x-trove-replica-version-id, allowed only to callers granted s3:ReplicateObject /
// s3:ReplicateDelete — authz/requests.ts requires it) is written with the source's version id,
// REPLICA status and no replication work of its own, so active-active pairs do not loop.

import type { S3Context } from '../s3/handler.js';
import { S3Error } from '../s3/errors.js';
import type { Bucket, DeleteOptions, ObjectContent, WorkSpec } from '../store/meta/types.js';
import { REPLICA_HEADER, REPLICA_VERSION_HEADER, VERSION_ID } from './service.js';

function header(ctx: S3Context, name: string): string | undefined {
  const v = ctx.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The replica version id a request carries, validated; undefined for an ordinary write. */
export function replicaVersionOf(ctx: S3Context, bucket: Bucket): string | undefined {
  const vid = header(ctx, REPLICA_VERSION_HEADER);
  if (vid === undefined) return undefined;
  if (!VERSION_ID.test(vid)) throw new S3Error('InvalidArgument', `${REPLICA_VERSION_HEADER} must be a version id of 32 hexadecimal digits.`, { ArgumentName: REPLICA_VERSION_HEADER, ArgumentValue: vid });
  if (bucket.versioning !== 'Enabled') throw new S3Error('InvalidRequest', 'Replicas can only be written to a bucket with versioning enabled.');
  return vid;
}

/** Whether a metadata change comes from replication (x-trove-replica: true; s3:ReplicateTags required). */
export function isReplicaChange(ctx: S3Context): boolean {
  if (!['PutObjectTagging', 'DeleteObjectTagging', 'PutObjectRetention', 'PutObjectLegalHold'].includes(ctx.op.name)) return false;
  return (header(ctx, REPLICA_HEADER) ?? '').toLowerCase() === 'true';
}

/**
 * Prepares a new version's content for replication and answers the work to record with it:
 * a replica gets its version id and REPLICA; a version a rule matches gets PENDING.
 */
export async function replicationForWrite(ctx: S3Context, bucket: Bucket, content: ObjectContent): Promise<WorkSpec | undefined> {
  // Only PutObject and CompleteMultipartUpload write replicas (their authorisation requires
  // s3:ReplicateObject for the header); anywhere else (a POST form field, CopyObject) it is ignored.
  const vid = ctx.op.name === 'PutObject' || ctx.op.name === 'CompleteMultipartUpload' ? replicaVersionOf(ctx, bucket) : undefined;
  if (vid !== undefined) {
    content.replicaVersionId = vid;
    content.replicationStatus = 'REPLICA';
    return undefined;
  }
  if (bucket.versioning !== 'Enabled') return undefined;
  const r = await ctx.app.replication.forWrite(bucket, ctx.key, content.tags, content.size, content.sse?.a);
  if (r.status) content.replicationStatus = r.status;
  return r.work;
}

/** The replication part of a simple DELETE's options (a versioned DELETE is never replicated). */
export async function replicationForDelete(ctx: S3Context, bucket: Bucket, key: string, versionId: string | undefined): Promise<Pick<DeleteOptions, 'work' | 'markerVersionId' | 'markerReplicationStatus'>> {
  // Replicated delete markers come one by one (DeleteObject, where s3:ReplicateDelete is required).
  const vid = ctx.op.name === 'DeleteObject' ? replicaVersionOf(ctx, bucket) : undefined;
  if (vid !== undefined) {
    if (versionId !== undefined) throw new S3Error('InvalidRequest', `${REPLICA_VERSION_HEADER} cannot be combined with versionId.`);
    return { markerVersionId: vid, markerReplicationStatus: 'REPLICA' };
  }
  if (versionId !== undefined) return {};
  const work = await ctx.app.replication.forDelete(bucket, key);
  return work ? { work } : {};
}

/** The work a tag / retention / legal-hold change records (none when replication made it). */
export async function replicationForMeta(ctx: S3Context, bucket: Bucket, tags: readonly [string, string][] | undefined): Promise<WorkSpec | undefined> {
  if (isReplicaChange(ctx) || bucket.versioning !== 'Enabled') return undefined;
  return ctx.app.replication.forMeta(bucket, ctx.key, tags);
}
