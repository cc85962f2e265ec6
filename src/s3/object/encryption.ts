// Server-side encryption in the S3 handlers: what a write asks for (its headers, else the
// bucket's default encryption), and the data key a read or a copy's source needs.

import type { ObjectVersion, Upload } from '../../store/meta/types.js';
import { newDataKey, openDataKey, parseCustomerKey, parseSseRequest, sseHeaders, type CustomerKey, type SseDescriptor, type SseRequest } from '../../sse/object.js';
import { packageSizeOf } from '../../sse/packages.js';
import type { S3Context } from '../handler.js';
import { bucketOf } from '../handler.js';
import { defaultEncryption } from '../bucket/encryption.js';
import { S3Error } from '../errors.js';

/** The encryption of a new object or upload: the request's headers, else the bucket's default; undefined for none. */
/**
 * S3 refuses customer keys over plain HTTP. Trove speaks HTTP and is meant to sit behind TLS
 * termination: a key is accepted from a loopback client, from a trusted proxy that says the client
 * came over https (X-Forwarded-Proto), or from anyone with --sse-c-allow-http.
 */
function requireSecureForCustomerKey(ctx: S3Context): void {
  if (ctx.app.config.sseCAllowHttp || ctx.transport.forwardedHttps || isLoopback(ctx.transport.sourceIp)) return;
  throw new S3Error('InvalidRequest', 'Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.');
}

function isLoopback(ip: string | undefined): boolean {
  return ip !== undefined && (ip === '::1' || /^127\./.test(ip));
}

function customerKeyOf(ctx: S3Context, prefix?: string): CustomerKey | undefined {
  const k = parseCustomerKey(ctx.headers, prefix);
  if (k) requireSecureForCustomerKey(ctx);
  return k;
}

export async function encryptionForWrite(ctx: S3Context): Promise<{ dataKey: Buffer; desc: SseDescriptor } | undefined> {
  const req: SseRequest | undefined = parseSseRequest(ctx.headers) ?? (await defaultEncryption(ctx.app, bucketOf(ctx).id));
  if (!req) return undefined;
  if (req.mode === 'SSE-C') requireSecureForCustomerKey(ctx);
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
  return openDataKey(ctx.app.kms, v.sse, customerKeyOf(ctx, prefix));
}

/** The data key of an upload's parts: SSE-C uploads need the same customer key on every part request. */
export async function dataKeyForUpload(ctx: S3Context, up: Upload): Promise<Buffer | undefined> {
  if (up.sse?.a === 'aws:kms') await requireKeyUse(ctx, 'kms:Decrypt', up.sse);
  return openDataKey(ctx.app.kms, up.sse, customerKeyOf(ctx), true);
}

/** How bytes written under `desc` with `dataKey` are sealed (undefined: not encrypted). */
export function sealing(desc: SseDescriptor | undefined, dataKey: Buffer | undefined): { dataKey: Buffer; p: number } | undefined {
  return desc && dataKey ? { dataKey, p: packageSizeOf(desc) } : undefined;
}

export function encryptionHeaders(ctx: S3Context, desc: SseDescriptor | undefined): Record<string, string> {
  return sseHeaders(desc, ctx.app.kms);
}
