// Server-side encryption as requests ask for it and objects record it: the SSE headers of a write
// (or of a copy's source), the descriptor kept in an object's metadata JSON, the data key behind
// it, and the response headers S3 sends. Formats and the key hierarchy: packages.ts.

import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../s3/errors.js';
import { blobKey, PACKAGE, unwrapKey, wrapKey } from './packages.js';
import { KeyError, type BuiltinKeyService } from './keys.js';

/** What an object (or a multipart upload) records about its encryption; stored as JSON `e`. */
export interface SseDescriptor {
  /** S3's algorithm: AES256 (SSE-S3), aws:kms, or SSE-C (customer key, AES256). */
  a: 'AES256' | 'aws:kms' | 'SSE-C';
  /** base64 of the wrapped data key. */
  k: string;
  /** KMS key id (SSE-S3: the built-in SSE-S3 key) and its version. */
  i?: string;
  v?: number;
  /** SSE-C: salt (base64) and HMAC-SHA256(salt, customer key) (base64); the key's MD5 (base64). */
  s?: string;
  h?: string;
  m?: string;
  /** Inline objects: the random id their blob key is derived from (hex). */
  n?: string;
  /** SSE-KMS: the key as the request (or the bucket default) named it, echoed in responses. */
  r?: string;
  /** SSE-KMS encryption context as sent (base64 JSON), and the bucket key flag. */
  c?: string;
  b?: boolean;
  /** Plaintext bytes per package: PACKAGE for objects written now, PACKAGE_V1 (64 KiB) before packages were aligned with blob blocks (packages.ts). */
  p: number;
}

export type SseRequest =
  | { mode: 'SSE-C'; key: Buffer; md5: string }
  | { mode: 'AES256'; bucketKey?: boolean }
  | { mode: 'aws:kms'; keyId?: string; context?: string; bucketKey?: boolean };

export type CustomerKey = { key: Buffer; md5: string };

const H = 'x-amz-server-side-encryption';

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The SSE-C key of a request (`prefix` = x-amz-server-side-encryption or x-amz-copy-source-server-side-encryption), validated as S3 does. */
export function parseCustomerKey(h: IncomingHttpHeaders, prefix = H): CustomerKey | undefined {
  const alg = header(h, `${prefix}-customer-algorithm`);
  const key = header(h, `${prefix}-customer-key`);
  const md5 = header(h, `${prefix}-customer-key-md5`);
  if (alg === undefined && key === undefined && md5 === undefined) return undefined;
  if (alg === undefined) throw new S3Error('InvalidArgument', 'Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.', { ArgumentName: `${prefix}-customer-algorithm` });
  if (alg !== 'AES256') throw new S3Error('InvalidEncryptionAlgorithmError', 'The encryption request you specified is not valid. The valid value is AES256.', { ArgumentName: `${prefix}-customer-algorithm`, ArgumentValue: alg });
  if (key === undefined) throw new S3Error('InvalidArgument', 'Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.', { ArgumentName: `${prefix}-customer-key` });
  const k = Buffer.from(key, 'base64');
  if (k.length !== 32 || k.toString('base64') !== key.trim()) throw new S3Error('InvalidArgument', 'The secret key was invalid for the specified algorithm.', { ArgumentName: `${prefix}-customer-key` });
  if (md5 === undefined) throw new S3Error('InvalidArgument', 'Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.', { ArgumentName: `${prefix}-customer-key-MD5` });
  const actual = createHash('md5').update(k).digest('base64');
  if (md5 !== actual) throw new S3Error('InvalidArgument', 'The calculated MD5 hash of the key did not match the hash that was provided.', { ArgumentName: `${prefix}-customer-key-MD5` });
  return { key: k, md5 };
}

/** The encryption a write asks for (undefined: none asked; the bucket default may apply). */
export function parseSseRequest(h: IncomingHttpHeaders): SseRequest | undefined {
  const customer = parseCustomerKey(h);
  const sse = header(h, H);
  const kmsKey = header(h, `${H}-aws-kms-key-id`);
  const context = header(h, `${H}-context`);
  const bucketKeyHeader = header(h, `${H}-bucket-key-enabled`);
  const bucketKey = bucketKeyHeader === undefined ? undefined : bucketKeyHeader.toLowerCase() === 'true';
  if (customer) {
    if (sse !== undefined || kmsKey !== undefined) throw new S3Error('InvalidArgument', 'Server Side Encryption with Customer provided key is incompatible with the encryption method specified', { ArgumentName: H, ArgumentValue: sse ?? '' });
    return { mode: 'SSE-C', ...customer };
  }
  if (sse === undefined) {
    if (kmsKey !== undefined || context !== undefined) throw new S3Error('InvalidArgument', 'Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms', { ArgumentName: H });
    return undefined;
  }
  if (sse === 'AES256') {
    if (kmsKey !== undefined) throw new S3Error('InvalidArgument', 'Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms', { ArgumentName: H, ArgumentValue: sse });
    return bucketKey === undefined ? { mode: 'AES256' } : { mode: 'AES256', bucketKey };
  }
  if (sse === 'aws:kms') {
    if (context !== undefined) {
      let ok = false;
      try {
        const j: unknown = JSON.parse(Buffer.from(context, 'base64').toString('utf8'));
        ok = typeof j === 'object' && j !== null && !Array.isArray(j) && Object.values(j).every((x) => typeof x === 'string');
      } catch {
        ok = false;
      }
      if (!ok) throw new S3Error('InvalidArgument', 'The header x-amz-server-side-encryption-context is not valid base64-encoded UTF-8 JSON of string pairs.', { ArgumentName: `${H}-context` });
    }
    const r: SseRequest = { mode: 'aws:kms' };
    if (kmsKey !== undefined && kmsKey !== '') r.keyId = kmsKey;
    if (context !== undefined) r.context = context;
    if (bucketKey !== undefined) r.bucketKey = bucketKey;
    return r;
  }
  if (sse === 'aws:kms:dsse') throw new S3Error('NotImplemented', 'Dual-layer server-side encryption (aws:kms:dsse) is not implemented by this server.', { Header: H });
  throw new S3Error('InvalidArgument', 'The encryption method specified is not supported', { ArgumentName: H, ArgumentValue: sse });
}

/** Errors of the key service as S3 answers them. */
function kmsError(e: unknown, keyRef: string): unknown {
  if (!(e instanceof KeyError)) return e;
  if (e.reason === 'not-found') return new S3Error('KMS.NotFoundException', `Invalid keyId ${keyRef}`);
  if (e.reason === 'disabled') return new S3Error('KMS.DisabledException', e.message);
  if (e.reason === 'no-master-key') return new S3Error('NotImplemented', 'Server-side encryption with server-managed keys needs a master key, and this server has none (see --master-key-file).');
  return new S3Error('InvalidArgument', e.message);
}

/** The AAD a KMS-wrapped data key is bound to: its key and the encryption context. */
function kmsContext(keyId: string, context: string | undefined): string {
  return `${keyId}|${context ?? ''}`;
}

/** A data key for a new object (or upload) encrypted as `req` asks, and its descriptor. */
export async function newDataKey(kms: BuiltinKeyService, req: SseRequest): Promise<{ dataKey: Buffer; desc: SseDescriptor }> {
  if (req.mode === 'SSE-C') {
    const dataKey = randomBytes(32);
    const salt = randomBytes(16);
    const desc: SseDescriptor = {
      a: 'SSE-C',
      k: wrapKey(customerKek(req.key, salt), dataKey).toString('base64'),
      s: salt.toString('base64'),
      h: customerHmac(req.key, salt).toString('base64'),
      m: req.md5,
      p: PACKAGE,
    };
    return { dataKey, desc };
  }
  let keyId: string;
  try {
    keyId = req.mode === 'AES256' ? (await kms.sseS3Key()).id : await resolveKmsKey(kms, req.keyId);
  } catch (e) {
    throw kmsError(e, req.mode === 'aws:kms' ? req.keyId ?? '' : '');
  }
  const context = req.mode === 'aws:kms' ? req.context : undefined;
  let dk;
  try {
    dk = await kms.generateDataKey(keyId, kmsContext(keyId, context));
  } catch (e) {
    throw kmsError(e, keyId);
  }
  const desc: SseDescriptor = { a: req.mode, k: dk.wrapped.toString('base64'), i: dk.keyId, v: dk.version, p: PACKAGE };
  if (context !== undefined) desc.c = context;
  if (req.mode === 'aws:kms' && req.keyId !== undefined) desc.r = req.keyId;
  if (req.bucketKey) desc.b = true;
  return { dataKey: dk.plaintext, desc };
}

/** The id of the KMS key a request names (by id, alias or ARN); without one, the account's default is the built-in aws/s3 key: here the SSE-S3 key. */
export async function resolveKmsKey(kms: BuiltinKeyService, ref: string | undefined): Promise<string> {
  if (ref === undefined) return (await kms.sseS3Key()).id;
  const k = await kms.describe(ref);
  if (!k) throw new KeyError('not-found', `no key ${ref}`);
  return k.id;
}

function customerKek(key: Buffer, salt: Buffer): Buffer {
  return createHmac('sha256', key).update(Buffer.concat([Buffer.from('trove-sse-c-kek:'), salt])).digest();
}

function customerHmac(key: Buffer, salt: Buffer): Buffer {
  return createHmac('sha256', salt).update(key).digest();
}

/**
 * The data key of an encrypted object. SSE-C objects need the customer key of the request
 * (`which` names the headers for the message): missing → 400 InvalidRequest, wrong → 403
 * AccessDenied (400 InvalidRequest for a part of an upload: `forUpload`), as S3 answers. A customer key sent for an object that is not SSE-C is refused
 * (400 InvalidRequest), as S3 does.
 */
export async function openDataKey(kms: BuiltinKeyService, desc: SseDescriptor | undefined, customer: CustomerKey | undefined, forUpload = false): Promise<Buffer | undefined> {
  if (!desc) {
    if (customer) throw new S3Error('InvalidRequest', 'The encryption parameters are not applicable to this object.');
    return undefined;
  }
  if (desc.a === 'SSE-C') {
    if (!customer) throw new S3Error('InvalidRequest', 'The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.');
    const salt = Buffer.from(desc.s!, 'base64');
    if (!timingSafeEqual(customerHmac(customer.key, salt), Buffer.from(desc.h!, 'base64'))) {
      // A part sent with another key than its upload's is a bad request; a read with another key is refused.
      if (forUpload) throw new S3Error('InvalidRequest', 'The provided encryption parameters did not match the ones used originally.');
      throw new S3Error('AccessDenied', 'The provided customer key does not match the key the object was stored with.');
    }
    return unwrapKey(customerKek(customer.key, salt), Buffer.from(desc.k, 'base64'));
  }
  if (customer) throw new S3Error('InvalidRequest', 'The encryption parameters are not applicable to this object.');
  try {
    return await kms.decrypt(desc.i!, desc.v!, Buffer.from(desc.k, 'base64'), kmsContext(desc.i!, desc.c));
  } catch (e) {
    throw kmsError(e, desc.i!);
  }
}

/** The key sealing one blob (or, with its `n`, an inline object's bytes). */
export function keyOfBlob(dataKey: Buffer, blobId: string): Buffer {
  return blobKey(dataKey, blobId);
}

/** Response headers S3 sends about an object's encryption. */
export function sseHeaders(desc: SseDescriptor | undefined, kms: BuiltinKeyService): Record<string, string> {
  if (!desc) return {};
  if (desc.a === 'SSE-C') return { [`${H}-customer-algorithm`]: 'AES256', [`${H}-customer-key-md5`]: desc.m! };
  if (desc.a === 'AES256') return { [H]: 'AES256', ...(desc.b ? { [`${H}-bucket-key-enabled`]: 'true' } : {}) };
  // The key as it was named (Ceph RGW does so and its suite expects it); its ARN when none was.
  const h: Record<string, string> = { [H]: 'aws:kms', [`${H}-aws-kms-key-id`]: desc.r ?? kms.arn(desc.i!) };
  if (desc.b) h[`${H}-bucket-key-enabled`] = 'true';
  if (desc.c !== undefined) h[`${H}-context`] = desc.c;
  return h;
}

/** The ETag of an encrypted single-part object: S3's is the plaintext MD5 for SSE-S3 only. */
export function encryptedEtag(desc: SseDescriptor, md5: string, dataKey: Buffer): string {
  if (desc.a === 'AES256') return md5;
  return createHmac('sha256', dataKey).update(md5).digest('hex').slice(0, 32);
}
