// Server-side encryption in the S3 handlers: what a write asks for (its headers, else the
// bucket's default encryption), and the data key a read or a copy's source needs.

import type { ObjectVersion, Upload } from '../../store/meta/types.js';
import { newDataKey, openDataKey, parseCustomerKey, parseSseRequest, sseHeaders, type SseDescriptor, type SseRequest } from '../../sse/object.js';
import type { S3Context } from '../handler.js';
import { bucketOf } from '../handler.js';
import { defaultEncryption } from '../bucket/encryption.js';
import { S3Error } from '../errors.js';

/** The encryption of a new object or upload: the request's headers, else the bucket's default; undefined for none. */
export async function encryptionForWrite(ctx: S3Context): Promise<{ dataKey: Buffer; desc: SseDescriptor } | undefined> {
  const req: SseRequest | undefined = parseSseRequest(ctx.headers) ?? (await defaultEncryption(ctx.app, bucketOf(ctx).id));
  if (!req) return undefined;
  const made = await newDataKey(ctx.app.kms, req);
  if (made.desc.a === 'aws:kms') await requireKeyUse(ctx, 'kms:GenerateDataKey', made.desc);
  return made;
}

/** SSE-KMS: the caller must be allowed to use the key (SSE-S3's built-in key needs no grant, as in S3). */
async function requireKeyUse(ctx: S3Context, action: string, desc: SseDescriptor): Promise<void> {
  const arn = ctx.app.kms.arn(desc.i!);
  if (!(await ctx.mayUseKey(action, arn))) throw new S3Error('AccessDenied', `User is not authorized to perform: ${action} on resource: ${arn}`);
}

/** The data key of a stored object for this request (SSE-C key headers: `prefix`). */
export async function dataKeyForRead(ctx: S3Context, v: Pick<ObjectVersion, 'sse'>, prefix?: string): Promise<Buffer | undefined> {
  if (v.sse?.a === 'aws:kms') await requireKeyUse(ctx, 'kms:Decrypt', v.sse);
  return openDataKey(ctx.app.kms, v.sse, parseCustomerKey(ctx.headers, prefix));
}

/** The data key of an upload's parts: SSE-C uploads need the same customer key on every part request. */
export async function dataKeyForUpload(ctx: S3Context, up: Upload): Promise<Buffer | undefined> {
  if (up.sse?.a === 'aws:kms') await requireKeyUse(ctx, 'kms:Decrypt', up.sse);
  return openDataKey(ctx.app.kms, up.sse, parseCustomerKey(ctx.headers), true);
}

export function encryptionHeaders(ctx: S3Context, desc: SseDescriptor | undefined): Record<string, string> {
  return sseHeaders(desc, ctx.app.kms);
}
