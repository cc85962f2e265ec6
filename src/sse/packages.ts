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
// Data format: the plaintext is cut into packages of `p` bytes (the descriptor's `p`; the last
// package may be shorter); each is sealed with AES-256-GCM under the blob key, nonce = 4 zero
// bytes | uint64 BE package index, and stored as ciphertext followed by its 16-byte tag. Because
// each blob key encrypts exactly one blob, a (key, nonce) pair is never used twice: a counter nonce
// is safe, and binds a package to its position (a package moved, swapped with another blob's or
// replayed fails its tag). The number of packages follows from the plaintext size in the
// metadata, so truncation is caught by the blob store's length check before any byte is read. A
// range read maps to the packages that cover it and decrypts only those.
//
// Package sizes (the descriptor records which, so both kinds read):
//   PACKAGE     = BLOCK_SIZE - TAG (65520): a sealed package is exactly one 64 KiB block of the blob
//               store's CRC layout (store/blob/layout.ts), so reading N packages is one read of N
//               whole blocks, each read and checked once. Every object written since.
//   PACKAGE_V1  = 64 KiB: objects written before; a sealed package (64 KiB + 16) straddles two
//               blocks. They read through the same code, with reads that do not align.
// Integrity: the GCM tag stands in for the blob store's block CRCs. The store still writes a
// CRC32 per 64 KiB block of the sealed bytes, and still checks, when a sealed blob is opened, that
// the file is there with the length the metadata implies and that its CRC table and trailer are
// intact (their own CRC); but reads of sealed bytes skip the per-block CRC check (OpenOptions.
// authenticated), which was a tenth of an encrypted GET's CPU. The tag covers every failure the
// CRC covers, and more:
//   - every sealed byte a read hands out belongs to a whole package read and authenticated before
//     any of its plaintext is handed out (openingBody never reads part of a package), so nothing
//     is served unchecked, with either package size;
//   - a tag is a 128-bit MAC (GHASH under a key derived from the blob key, which no error or
//     on-disk process knows): any change to a package's ciphertext or tag — a flipped bit, a burst,
//     a torn or zeroed write, whole garbage — passes with probability at most about 2^-116 for a
//     64 KiB package, where CRC32 lets through 2^-32 of random damage;
//   - bytes in the wrong place pass a CRC check if the CRC table moved with them, or the whole
//     file is another blob's of the same length; a tag does not (the nonce is the package index
//     and the key is this blob's);
//   - truncation and a damaged CRC table or trailer are found at open, as for any blob;
//   - damage is reported as for a CRC mismatch: BlobDamagedError with the package's offset, the
//     request fails with InternalError, it is logged and counted, nothing of the package is sent.
// What the CRC gave and the tag does not: telling damage from a wrong key. The key is checked
// before any read (the SSE-C key's HMAC; KMS and SSE-S3 keys unwrap under their own GCM tag).
//
// The descriptor (algorithm, wrapped data key, key id and version, the SSE-C HMAC and salt, the
// inline nonce id, the package size) lives in the object's metadata JSON (`e`), so objects need
// no schema change. node:crypto only.

import { createCipheriv, createDecipheriv, createHmac, randomBytes, type CipherGCM } from 'node:crypto';
import type { PooledBody } from '../common/body.js';
import { BLOCK_SIZE } from '../store/blob/layout.js';
import { BlobDamagedError } from '../store/blob/types.js';

export const TAG = 16;
/** Plaintext bytes per package of objects written now: a sealed package fills one blob block. */
export const PACKAGE = BLOCK_SIZE - TAG;
/** Plaintext bytes per package of objects written before packages were aligned with blocks. */
export const PACKAGE_V1 = 64 * 1024;

/** The package size a descriptor records (`p`); descriptors always had it, the fallback is the first format. */
export function packageSizeOf(desc: { p?: number }): number {
  const p = desc.p ?? PACKAGE_V1;
  if (!Number.isInteger(p) || p <= 0) throw new Error(`invalid package size ${String(desc.p)}`);
  return p;
}

/** Stored bytes for `size` bytes of plaintext in packages of `p` bytes. */
export function sealedSize(size: number, p: number): number {
  return size + Math.ceil(size / p) * TAG;
}

/**
 * HKDF-SHA256(data key, no salt, info = "trove-sse-blob:" + blob id), 32 bytes (RFC 5869), as
 * its two HMACs: extract, PRK = HMAC(32 zero bytes, data key); expand, one block, T(1) =
 * HMAC(PRK, info | 0x01). The same bytes as hkdfSync (a unit test checks), for half its cost:
 * every GET of an encrypted object derives one per blob.
 */
export function blobKey(dataKey: Buffer, blobId: string): Buffer {
  const prk = createHmac('sha256', NO_SALT).update(dataKey).digest();
  return createHmac('sha256', prk).update('trove-sse-blob:' + blobId + '\x01').digest();
}
const NO_SALT = Buffer.alloc(32);

/** The nonce of package `index`: 4 zero bytes | uint64 BE index (into `n` when given: node:crypto copies it). */
function nonce(index: number, n: Buffer = Buffer.alloc(12)): Buffer {
  n.writeUInt32BE(Math.floor(index / 0x1_0000_0000), 4);
  n.writeUInt32BE(index >>> 0, 8);
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
export function openPackage(key: Buffer, index: number, sealed: Buffer, iv?: Buffer): Buffer {
  if (sealed.length < TAG) throw new Error('short package');
  const d = createDecipheriv('aes-256-gcm', key, nonce(index, iv));
  d.setAuthTag(sealed.subarray(sealed.length - TAG));
  const p = d.update(sealed.subarray(0, sealed.length - TAG));
  d.final();
  return p;
}

/** Seals a whole buffer (inline objects) in packages of `p` bytes. */
export function sealAll(key: Buffer, plain: Buffer, p: number): Buffer {
  const out: Buffer[] = [];
  for (let i = 0, off = 0; off < plain.length; i++, off += p) out.push(sealPackage(key, i, plain.subarray(off, off + p)));
  return Buffer.concat(out);
}

/** Opens a whole buffer sealed by sealAll with packages of `p` bytes. */
export function openAll(key: Buffer, sealed: Buffer, p: number): Buffer {
  const out: Buffer[] = [];
  for (let i = 0, off = 0; off < sealed.length; i++, off += p + TAG) out.push(openPackage(key, i, sealed.subarray(off, off + p + TAG)));
  return Buffer.concat(out);
}

/**
 * Cuts a stream of plaintext chunks into sealed packages of `p` bytes, encrypting each piece of a
 * chunk as it comes (GCM encrypts as a stream; a package's tag is appended when it is full):
 * nothing is gathered or copied, whatever the chunks' sizes. Returns the stored bytes in order,
 * as ciphertext pieces and tags.
 */
export class Sealer {
  private index = 0;
  private cipher: CipherGCM | undefined;
  private filled = 0;
  constructor(
    private readonly key: Buffer,
    private readonly p: number,
  ) {}

  /** Sealed bytes produced by this chunk (ciphertext, and the tags of the packages it completed). */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(this.p - this.filled, chunk.length - off);
      this.cipher ??= createCipheriv('aes-256-gcm', this.key, nonce(this.index));
      const c = this.cipher.update(n === chunk.length ? chunk : chunk.subarray(off, off + n));
      if (c.length > 0) out.push(c);
      this.filled += n;
      off += n;
      if (this.filled === this.p) out.push(...this.seal());
    }
    return out;
  }

  /** The end of the last, short package (nothing when the plaintext ended on a package boundary). */
  end(): Buffer[] {
    return this.filled > 0 ? this.seal() : [];
  }

  private seal(): Buffer[] {
    const c = this.cipher!;
    const rest = c.final();
    this.cipher = undefined;
    this.filled = 0;
    this.index++;
    return rest.length > 0 ? [rest, c.getAuthTag()] : [c.getAuthTag()];
  }
}

/** Which sealed bytes [from, to] hold plaintext bytes [start, end] (packages of `p`), and what to drop from the first package. */
export function sealedRange(start: number, end: number, size: number, p: number): { from: number; to: number; first: number; skip: number } {
  const first = Math.floor(start / p);
  const last = Math.floor(end / p);
  return { from: first * (p + TAG), to: Math.min(sealedSize(size, p), (last + 1) * (p + TAG)) - 1, first, skip: start - first * p };
}

/**
 * Buffers the sealed bytes of a read() land in before they are opened: a few, recycled, so that a
 * busy GET path allocates none (each read() holds one only while it runs). Big enough for the
 * packages behind a 256 KiB reader buffer (http/pooled.ts): its worth of plaintext, one package
 * more (the one that fills it up), and their tags.
 */
const SEALED_BUF = 256 * 1024 + 2 * 64 * 1024 + 8 * TAG;
const SEALED_POOL_MAX = 16;
const sealedPool: Buffer[] = [];

/**
 * Plaintext bytes [start, end] of a blob holding `size` bytes sealed under `key` in packages of
 * `p` bytes, read from `sealed` (a body over the sealed bytes of sealedRange): packages are read
 * whole, authenticated, then handed out. A package that fails its tag fails the read
 * (BlobDamagedError of `blobId`) and nothing of it is handed out.
 *
 * Each read() fills the caller's buffer as a plain read does: the plaintext left over from the
 * last call, then the packages that follow, read in one read of the sealed body (into a recycled
 * buffer), each opened whole and copied out; the last of them may fill the buffer up with its
 * first bytes, and the rest waits for the next call (decryption makes a new buffer anyway:
 * node:crypto has no in-place update). With the 256 KiB buffers of http/pooled.ts, a 1 MiB object
 * is four reads and four writes, as for a plain GET, rather than four of four packages and a fifth
 * for the 256 bytes of the seventeenth.
 *
 * Where an encrypted read's CPU goes beyond a plain one's (which checks a CRC32 per block): AES-GCM
 * itself (several GB/s with AES-NI), and as much again in node:crypto around it — every update()
 * allocates its output, zero-fills a second one, and copies into it; and each package needs its
 * own Decipheriv (a new IV), which looks the cipher up again. Neither can be avoided through
 * node:crypto's API (WebCrypto costs more per 64 KiB package: a thread-pool job each).
 */
export function openingBody(key: Buffer, sealed: PooledBody, start: number, end: number, size: number, blobId: string, p: number): PooledBody {
  const r = sealedRange(start, end, size, p);
  const S = p + TAG;
  const last = Math.floor(end / p);
  const iv = Buffer.alloc(12);
  let index = r.first;
  let skip = r.skip;
  let remaining = end - start + 1;
  /** Plaintext of an authenticated package not handed out yet. */
  let pending: Buffer | undefined;

  /** Sealed length of package i. */
  const sealedLen = (i: number) => Math.min(p, size - i * p) + TAG;
  /** Reads exactly `want` sealed bytes into buf[0, want). */
  const readSealed = async (buf: Buffer, want: number): Promise<void> => {
    for (let got = 0; got < want; ) {
      const n = await sealed.read(buf.subarray(got, want));
      if (n === 0) throw new BlobDamagedError(blobId, index * S + got, 'encrypted package cut short');
      got += n;
    }
  };
  const open = (i: number, bytes: Buffer): Buffer => {
    try {
      return openPackage(key, i, bytes, iv);
    } catch {
      throw new BlobDamagedError(blobId, i * S, `encrypted package ${i} does not authenticate`);
    }
  };
  /** Hands out plaintext (after the range's first bytes are dropped) into out at `at`; keeps what does not fit. */
  const emit = (plain: Buffer, out: Buffer, at: number): number => {
    let from = 0;
    if (skip > 0) {
      from = skip;
      skip = 0;
    }
    const n = Math.min(plain.length - from, remaining, out.length - at);
    plain.copy(out, at, from, from + n);
    remaining -= n;
    pending = from + n < plain.length && remaining > 0 ? plain.subarray(from + n) : undefined;
    return n;
  };

  return {
    async read(out: Buffer): Promise<number> {
      if (remaining <= 0 || out.length === 0) return 0;
      let written = 0;
      if (pending) written = emit(pending, out, 0);
      if (written === out.length || remaining <= 0 || index > last) return written;
      // The packages whose plaintext fills the rest of `out` (the last one perhaps in part).
      let count = 0;
      let want = 0;
      for (let handed = 0, drop = skip, room = out.length - written; index + count <= last && handed < room; drop = 0) {
        handed += Math.min(sealedLen(index + count) - TAG - drop, remaining - handed);
        want += sealedLen(index + count++);
      }
      const pooled = want <= SEALED_BUF;
      const buf = pooled ? (sealedPool.pop() ?? Buffer.allocUnsafeSlow(SEALED_BUF)) : Buffer.allocUnsafe(want);
      try {
        await readSealed(buf, want);
        for (let off = 0; count > 0; count--) {
          const len = sealedLen(index);
          const plain = open(index, buf.subarray(off, off + len));
          index++;
          off += len;
          written += emit(plain, out, written);
        }
        return written;
      } finally {
        if (pooled && sealedPool.length < SEALED_POOL_MAX) sealedPool.push(buf);
      }
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
