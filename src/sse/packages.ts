// Server-side encryption: the key hierarchy and the format of encrypted object data.
//
// Key hierarchy
//   master key   32 bytes the operator supplies (--master-key-file, mode 0600 and owned by the
//                server's user, else TROVE_MASTER_KEY; hex or base64). Never written anywhere by
//                Trove. Once anything is encrypted (the metadata setting `sse:used`), the server
//                refuses to start without it, and with a wrong one (a key that fails to unwrap).
//   KMS keys     named keys of the built-in key service (keys.ts): each version is 32 random
//                bytes wrapped by the master key (AES-256-GCM) and kept in the metadata store.
//                The SSE-S3 key is one of them, reserved (`trove/sse-s3`), created on first use.
//                Rotation adds a version; old versions stay to unwrap what they wrapped. Rotating
//                the master key re-wraps these few records only, never object data.
//   data key     32 random bytes per object (per multipart upload), wrapped by: the KMS key
//                (SSE-KMS), the SSE-S3 key (SSE-S3), or a key derived with HKDF from the
//                customer's key and a random salt (SSE-C; only a salted HMAC of the customer's key
//                is kept, to tell a wrong key from damage; never the key).
//   blob key     HKDF-SHA256(data key, info = "trove-sse-blob:" + blob id) per stored blob (each
//                part of a multipart object is its own blob; an inline object uses a random id
//                kept in its descriptor). Every blob id is minted fresh for each write, so no two
//                encryptions ever share a blob key, even when a part number is uploaded again.
//
// Data format: the plaintext is cut into packages of PACKAGE bytes (the last may be shorter);
// each is sealed with AES-256-GCM under the blob key, nonce = 4 zero bytes | uint64 BE package
// index, and stored as ciphertext followed by its 16-byte tag. Because each blob key encrypts
// exactly one blob, a (key, nonce) pair is never used twice: a counter nonce is safe, and binds a
// package to its position (a package moved, swapped with another blob's or replayed fails its
// tag). The number of packages follows from the plaintext size in the metadata, so truncation is
// caught by the blob store's length check before any byte is read. A range read maps to the
// packages that cover it and decrypts only those. The blob store below keeps its own CRC32 per
// 64 KiB block of the stored (encrypted) bytes; the GCM tag authenticates each package on top.
//
// The descriptor (algorithm, wrapped data key, key id and version, the SSE-C HMAC and salt, the
// inline nonce id, the package size) lives in the object's metadata JSON (`e`), so objects need
// no schema change. node:crypto only.

import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { PooledBody } from '../common/body.js';
import { BlobDamagedError } from '../store/blob/types.js';

export const PACKAGE = 64 * 1024;
export const TAG = 16;

/** Stored bytes for `size` bytes of plaintext. */
export function sealedSize(size: number): number {
  return size + Math.ceil(size / PACKAGE) * TAG;
}

export function blobKey(dataKey: Buffer, blobId: string): Buffer {
  return Buffer.from(hkdfSync('sha256', dataKey, Buffer.alloc(0), 'trove-sse-blob:' + blobId, 32));
}

function nonce(index: number): Buffer {
  const n = Buffer.alloc(12);
  n.writeBigUInt64BE(BigInt(index), 4);
  return n;
}

export function sealPackage(key: Buffer, index: number, plain: Buffer): Buffer {
  const c = createCipheriv('aes-256-gcm', key, nonce(index));
  const out = Buffer.allocUnsafe(plain.length + TAG);
  const n = c.update(plain).copy(out, 0);
  c.final();
  c.getAuthTag().copy(out, n);
  return out;
}

/** Decrypts one sealed package; throws when it does not authenticate. */
export function openPackage(key: Buffer, index: number, sealed: Buffer): Buffer {
  if (sealed.length < TAG) throw new Error('short package');
  const d = createDecipheriv('aes-256-gcm', key, nonce(index));
  d.setAuthTag(sealed.subarray(sealed.length - TAG));
  const p = d.update(sealed.subarray(0, sealed.length - TAG));
  d.final();
  return p;
}

/** Seals a whole buffer (inline objects). */
export function sealAll(key: Buffer, plain: Buffer): Buffer {
  const out: Buffer[] = [];
  for (let i = 0, off = 0; off < plain.length; i++, off += PACKAGE) out.push(sealPackage(key, i, plain.subarray(off, off + PACKAGE)));
  return Buffer.concat(out);
}

/** Opens a whole buffer sealed by sealAll. */
export function openAll(key: Buffer, sealed: Buffer): Buffer {
  const out: Buffer[] = [];
  for (let i = 0, off = 0; off < sealed.length; i++, off += PACKAGE + TAG) out.push(openPackage(key, i, sealed.subarray(off, off + PACKAGE + TAG)));
  return Buffer.concat(out);
}

/** Cuts a stream of plaintext chunks into sealed packages. */
export class Sealer {
  private index = 0;
  private fill: Buffer[] = [];
  private filled = 0;
  constructor(private readonly key: Buffer) {}

  /** Sealed packages completed by this chunk. */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(PACKAGE - this.filled, chunk.length - off);
      this.fill.push(chunk.subarray(off, off + n));
      this.filled += n;
      off += n;
      if (this.filled === PACKAGE) out.push(this.flush());
    }
    return out;
  }

  /** The last, short package (none when the plaintext ended on a package boundary). */
  end(): Buffer[] {
    return this.filled > 0 ? [this.flush()] : [];
  }

  private flush(): Buffer {
    const plain = this.fill.length === 1 ? this.fill[0]! : Buffer.concat(this.fill, this.filled);
    this.fill = [];
    this.filled = 0;
    return sealPackage(this.key, this.index++, plain);
  }
}

/** Which sealed bytes [from, to] hold plaintext bytes [start, end], and what to drop from the first package. */
export function sealedRange(start: number, end: number, size: number): { from: number; to: number; first: number; skip: number } {
  const first = Math.floor(start / PACKAGE);
  const last = Math.floor(end / PACKAGE);
  return { from: first * (PACKAGE + TAG), to: Math.min(sealedSize(size), (last + 1) * (PACKAGE + TAG)) - 1, first, skip: start - first * PACKAGE };
}

/**
 * Plaintext bytes [start, end] of a blob holding `size` bytes sealed under `key`, read from
 * `sealed` (a body over the sealed bytes of sealedRange): packages are read whole, authenticated,
 * then handed out. A package that fails its tag fails the read (BlobDamagedError of `blobId`).
 */
export function openingBody(key: Buffer, sealed: PooledBody, start: number, end: number, size: number, blobId: string): PooledBody {
  const r = sealedRange(start, end, size);
  let index = r.first;
  let skip = r.skip;
  let remaining = end - start + 1;
  let pending: Buffer | undefined;
  let scratch: Buffer | undefined;
  const readPackage = async (): Promise<Buffer | undefined> => {
    const plainLen = Math.min(PACKAGE, size - index * PACKAGE);
    if (plainLen <= 0) return undefined;
    const want = plainLen + TAG;
    const buf = (scratch ??= Buffer.allocUnsafe(PACKAGE + TAG));
    for (let got = 0; got < want; ) {
      const n = await sealed.read(buf.subarray(got, want));
      if (n === 0) throw new BlobDamagedError(blobId, index * (PACKAGE + TAG), 'encrypted package cut short');
      got += n;
    }
    let plain: Buffer;
    try {
      plain = openPackage(key, index, buf.subarray(0, want));
    } catch {
      throw new BlobDamagedError(blobId, index * (PACKAGE + TAG), `encrypted package ${index} does not authenticate`);
    }
    index++;
    return plain;
  };
  return {
    async read(out: Buffer): Promise<number> {
      if (remaining <= 0) return 0;
      let written = 0;
      while (written < out.length && remaining > 0) {
        if (!pending || pending.length === 0) {
          pending = await readPackage();
          if (!pending) break;
          if (skip > 0) {
            pending = pending.subarray(skip);
            skip = 0;
          }
        }
        const n = Math.min(pending.length, out.length - written, remaining);
        pending.copy(out, written, 0, n);
        pending = pending.subarray(n);
        written += n;
        remaining -= n;
      }
      return written;
    },
    close: () => sealed.close(),
  };
}

/** Wraps (AES-256-GCM, random IV) a key under a key-encryption key: iv | ciphertext | tag. */
export function wrapKey(kek: Buffer, key: Buffer, aad = ''): Buffer {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', kek, iv);
  c.setAAD(Buffer.from(aad));
  const ct = Buffer.concat([c.update(key), c.final()]);
  return Buffer.concat([iv, ct, c.getAuthTag()]);
}

/** Unwraps a key wrapped by wrapKey; throws when the key-encryption key (or the AAD) is wrong. */
export function unwrapKey(kek: Buffer, wrapped: Buffer, aad = ''): Buffer {
  const d = createDecipheriv('aes-256-gcm', kek, wrapped.subarray(0, 12));
  d.setAAD(Buffer.from(aad));
  d.setAuthTag(wrapped.subarray(wrapped.length - TAG));
  return Buffer.concat([d.update(wrapped.subarray(12, wrapped.length - TAG)), d.final()]);
}
