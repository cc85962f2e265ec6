// Shared fixtures for the authentication unit tests: building AuthRequests, a credential store,
// a node:crypto hash for @smithy/signature-v4, and an independent aws-chunked encoder.

import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import type { AuthRequest, Credential, CredentialLookup } from '../../src/auth/types.js';
import { isS3Error, type S3ErrorCode } from '../../src/s3/errors.js';

/** The example credentials of the AWS documentation. */
export const EXAMPLE: Credential = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  userId: 'a'.repeat(64),
  accountId: '111111111111',
  displayName: 'example',
};

/** A credential with characters that trip naive HMAC key handling. */
export const ODD: Credential = {
  accessKeyId: 'ODDKEY0000000000TEST',
  secretAccessKey: 'sécret/with+odd=chars%20 and spaces!',
  userId: 'b'.repeat(64),
  accountId: '222222222222',
  displayName: 'odd',
};

export const lookup: CredentialLookup = (id) => [EXAMPLE, ODD].find((c) => c.accessKeyId === id);
/** The same store, answering asynchronously, as a database-backed one would. */
export const asyncLookup: CredentialLookup = async (id) => lookup(id);

export const EXAMPLE_DATE = new Date(Date.UTC(2013, 4, 24, 0, 0, 0));
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export interface RequestSpec {
  method?: string;
  rawPath?: string;
  rawQuery?: string;
  /** Headers in wire order; repeated names allowed. */
  headers?: [string, string][];
  region?: string;
  now?: Date;
  virtualHostBucket?: string;
}

/** An AuthRequest as the HTTP layer would build it from node's IncomingMessage. */
export function makeRequest(spec: RequestSpec): AuthRequest {
  const list = spec.headers ?? [];
  const headers: Record<string, string> = {};
  for (const [name, value] of list) {
    const k = name.toLowerCase();
    headers[k] = k in headers ? `${headers[k]}, ${value}` : value;
  }
  return {
    method: spec.method ?? 'GET',
    rawPath: spec.rawPath ?? '/',
    rawQuery: spec.rawQuery ?? '',
    headers,
    rawHeaders: list.flat(),
    region: spec.region ?? 'us-east-1',
    now: spec.now ?? EXAMPLE_DATE,
    ...(spec.virtualHostBucket !== undefined ? { virtualHostBucket: spec.virtualHostBucket } : {}),
  };
}

/** Asserts that `promise` rejects with an S3Error of `code`; returns it for further checks. */
export async function rejectsWith(promise: Promise<unknown>, code: S3ErrorCode) {
  try {
    await promise;
  } catch (e) {
    assert.ok(isS3Error(e), `expected an S3Error ${code}, got ${String(e)}`);
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
    return e;
  }
  assert.fail(`expected ${code}, but it succeeded`);
}

/** SigV4's UriEncode, written independently of src/auth (what the SDKs do to keys). */
export function strictEncode(s: string, keepSlash = false): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-._~]/.test(c) || (keepSlash && c === '/')) out += c;
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** SHA-256 / HMAC-SHA256 for @smithy/signature-v4, backed by node:crypto. */
export class NodeSha256 {
  private hash;
  constructor(private readonly secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = this.fresh();
  }
  private fresh() {
    if (this.secret === undefined) return createHash('sha256');
    const key =
      typeof this.secret === 'string'
        ? this.secret
        : this.secret instanceof ArrayBuffer
          ? Buffer.from(this.secret)
          : Buffer.from(this.secret.buffer, this.secret.byteOffset, this.secret.byteLength);
    return createHmac('sha256', key);
  }
  update(data: Uint8Array): void {
    this.hash.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

// ---------------------------------------------------------------------------------------------
// An aws-chunked encoder, independent of src/auth/chunked.ts.

export interface ChunkSigner {
  key: Buffer;
  amzDate: string;
  scope: string;
  seed: string;
}

export function deriveKey(secret: string, date: string, region: string): Buffer {
  const h = (k: Buffer | string, d: string) => createHmac('sha256', k).update(d).digest();
  return h(h(h(h('AWS4' + secret, date), region), 's3'), 'aws4_request');
}

export function chunkSignature(s: ChunkSigner, previous: string, data: Buffer): string {
  const sts = ['AWS4-HMAC-SHA256-PAYLOAD', s.amzDate, s.scope, previous, EMPTY_SHA256, createHash('sha256').update(data).digest('hex')].join('\n');
  return createHmac('sha256', s.key).update(sts).digest('hex');
}

export function trailerSignature(s: ChunkSigner, previous: string, trailers: [string, string][]): string {
  const canonical = trailers.map(([n, v]) => `${n}:${v}\n`).join('');
  const sts = ['AWS4-HMAC-SHA256-TRAILER', s.amzDate, s.scope, previous, createHash('sha256').update(canonical).digest('hex')].join('\n');
  return createHmac('sha256', s.key).update(sts).digest('hex');
}

export interface EncodeOptions {
  chunkSize: number;
  /** Sign chunks (and the trailer, if any) with this. */
  signer?: ChunkSigner;
  trailers?: [string, string][];
}

/** Frames `data` as aws-chunked the way the SDKs do. */
export function encodeAwsChunked(data: Buffer, opts: EncodeOptions): Buffer {
  const parts: Buffer[] = [];
  let previous = opts.signer?.seed ?? '';
  const header = (chunk: Buffer) => {
    const size = chunk.length.toString(16);
    if (!opts.signer) return `${size}\r\n`;
    previous = chunkSignature(opts.signer, previous, chunk);
    return `${size};chunk-signature=${previous}\r\n`;
  };
  for (let off = 0; off < data.length; off += opts.chunkSize) {
    const chunk = data.subarray(off, off + opts.chunkSize);
    parts.push(Buffer.from(header(chunk)), chunk, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(header(Buffer.alloc(0))));
  if (opts.trailers) {
    for (const [n, v] of opts.trailers) parts.push(Buffer.from(`${n}:${v}\r\n`));
    if (opts.signer) parts.push(Buffer.from(`x-amz-trailer-signature:${trailerSignature(opts.signer, previous, opts.trailers)}\r\n`));
  }
  parts.push(Buffer.from('\r\n'));
  return Buffer.concat(parts);
}

/** Feeds `data` as an async source in pieces of the given sizes (cycled). */
export async function* pieces(data: Buffer, sizes: number[]): AsyncGenerator<Buffer> {
  let off = 0;
  let i = 0;
  while (off < data.length) {
    const n = Math.max(1, sizes[i++ % sizes.length]!);
    yield data.subarray(off, off + n);
    off += n;
  }
}

/** Reads a decoded body to the end; reports whether iteration completed. */
export async function drain(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const b of body) out.push(b);
  return Buffer.concat(out);
}
