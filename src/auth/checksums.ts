// Additional checksums of S3 (x-amz-checksum-*): CRC32, CRC32C, CRC64NVME, SHA1, SHA256.
//
// Digests are the big-endian bytes of the checksum; base64 of them is what travels in headers and
// trailers. CRC32 is zlib's native one. CRC32C and CRC64NVME have no native implementation in
// Node 20, so they are table-driven here (slicing-by-16, below). These run over every uploaded
// byte, so the inner loops avoid allocation and BigInt.

import { createHash } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm } from '../common/checksums.js';

export { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm };

export interface ChecksumHasher {
  update(data: Buffer): void;
  /** The checksum of everything passed to update(), as big-endian bytes. Call once. */
  digest(): Buffer;
}

/** Case-insensitive; undefined for an absent or unknown name (the caller picks the S3 error). */
export function parseChecksumAlgorithm(s: string | undefined): ChecksumAlgorithm | undefined {
  if (s === undefined) return undefined;
  const upper = s.trim().toUpperCase();
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(upper) ? (upper as ChecksumAlgorithm) : undefined;
}

/** 'CRC32' → 'x-amz-checksum-crc32' (header and trailer name). */
export function checksumHeader(alg: ChecksumAlgorithm): string {
  return `x-amz-checksum-${alg.toLowerCase()}`;
}

export function checksumByteLength(alg: ChecksumAlgorithm): number {
  switch (alg) {
    case 'CRC32':
    case 'CRC32C':
      return 4;
    case 'CRC64NVME':
      return 8;
    case 'SHA1':
      return 20;
    case 'SHA256':
      return 32;
  }
}

export function createChecksum(alg: ChecksumAlgorithm): ChecksumHasher {
  switch (alg) {
    case 'CRC32':
      return new Crc32Hasher();
    case 'CRC32C':
      return new Crc32cHasher();
    case 'CRC64NVME':
      return new Crc64NvmeHasher();
    case 'SHA1':
      return new DigestHasher('sha1');
    case 'SHA256':
      return new DigestHasher('sha256');
  }
}

// ---------------------------------------------------------------------------------------------
// Hashers

class DigestHasher implements ChecksumHasher {
  private readonly hash;
  constructor(name: 'sha1' | 'sha256') {
    this.hash = createHash(name);
  }
  update(data: Buffer): void {
    this.hash.update(data);
  }
  digest(): Buffer {
    return this.hash.digest();
  }
}

class Crc32Hasher implements ChecksumHasher {
  private crc = 0;
  update(data: Buffer): void {
    // zlib.crc32 returns 0, not the running value, for an empty buffer without a backing store
    // (e.g. randomBytes(0)) in Node 20; an empty update must be a no-op.
    if (data.length === 0) return;
    this.crc = zlibCrc32(data, this.crc);
  }
  digest(): Buffer {
    const out = Buffer.allocUnsafe(4);
    out.writeUInt32BE(this.crc >>> 0, 0);
    return out;
  }
}

class Crc32cHasher implements ChecksumHasher {
  /** The register between updates: init and final XOR are applied only at the ends. */
  private reg = 0xffffffff;
  update(data: Buffer): void {
    this.reg = crc32cUpdate(this.reg, data);
  }
  digest(): Buffer {
    const out = Buffer.allocUnsafe(4);
    out.writeUInt32BE((this.reg ^ 0xffffffff) >>> 0, 0);
    return out;
  }
}

class Crc64NvmeHasher implements ChecksumHasher {
  // The 64-bit register as two 32-bit halves; JS bitwise operators work on 32 bits.
  private lo = 0xffffffff;
  private hi = 0xffffffff;
  update(data: Buffer): void {
    crc64Update(this, data);
  }
  /** Used by crc64Update to store the register back without allocating a result object. */
  set(lo: number, hi: number): void {
    this.lo = lo;
    this.hi = hi;
  }
  get low(): number {
    return this.lo;
  }
  get high(): number {
    return this.hi;
  }
  digest(): Buffer {
    const out = Buffer.allocUnsafe(8);
    out.writeUInt32BE((this.hi ^ 0xffffffff) >>> 0, 0);
    out.writeUInt32BE((this.lo ^ 0xffffffff) >>> 0, 4);
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// Table-driven reflected CRCs, slicing-by-16: table k (k = 0..15) holds the CRC of byte b followed
// by k zero bytes, so sixteen input bytes fold into the register with sixteen independent lookups
// instead of sixteen dependent steps. Input is read as little-endian 32-bit words through a
// DataView (endian-independent, no alignment requirement), which V8 compiles to plain loads.
// Measured on 64 MiB: ~1.7 GB/s (CRC32C), ~1 GB/s (CRC64NVME) versus ~0.8 with slicing-by-8 on bytes.

const SLICES = 16;

// CRC32C (Castagnoli), reflected polynomial 0x82F63B78.
const CRC32C_POLY = 0x82f63b78;
const CRC32C_TABLE = buildCrc32Tables(CRC32C_POLY);

function buildCrc32Tables(poly: number): Uint32Array {
  const t = new Uint32Array(SLICES * 256);
  for (let b = 0; b < 256; b++) {
    let c = b;
    for (let i = 0; i < 8; i++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    t[b] = c >>> 0;
  }
  for (let k = 1; k < SLICES; k++) {
    for (let b = 0; b < 256; b++) {
      const prev = t[(k - 1) * 256 + b]!;
      t[k * 256 + b] = ((prev >>> 8) ^ t[prev & 0xff]!) >>> 0;
    }
  }
  return t;
}

function crc32cUpdate(reg: number, data: Uint8Array): number {
  const t = CRC32C_TABLE;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const n = data.length;
  const end16 = n - (n & 15);
  let crc = reg | 0;
  let i = 0;
  while (i < end16) {
    const a = crc ^ view.getInt32(i, true);
    const b = view.getInt32(i + 4, true);
    const c = view.getInt32(i + 8, true);
    const d = view.getInt32(i + 12, true);
    crc =
      t[3840 + (a & 0xff)]! ^ t[3584 + ((a >>> 8) & 0xff)]! ^ t[3328 + ((a >>> 16) & 0xff)]! ^ t[3072 + (a >>> 24)]! ^
      t[2816 + (b & 0xff)]! ^ t[2560 + ((b >>> 8) & 0xff)]! ^ t[2304 + ((b >>> 16) & 0xff)]! ^ t[2048 + (b >>> 24)]! ^
      t[1792 + (c & 0xff)]! ^ t[1536 + ((c >>> 8) & 0xff)]! ^ t[1280 + ((c >>> 16) & 0xff)]! ^ t[1024 + (c >>> 24)]! ^
      t[768 + (d & 0xff)]! ^ t[512 + ((d >>> 8) & 0xff)]! ^ t[256 + ((d >>> 16) & 0xff)]! ^ t[d >>> 24]!;
    i += 16;
  }
  for (; i < n; i++) crc = (crc >>> 8) ^ t[(crc ^ data[i]!) & 0xff]!;
  return crc >>> 0;
}

// CRC64/NVME, reflected polynomial 0x9a6c9329ac4bc9b5, init and final XOR all ones.
// The 64-bit register and table entries are kept as two 32-bit halves (lo, hi).

const CRC64_POLY = 0x9a6c9329ac4bc9b5n;
const [CRC64_LO, CRC64_HI] = buildCrc64Tables(CRC64_POLY);

function buildCrc64Tables(poly: bigint): [Uint32Array, Uint32Array] {
  // BigInt is fine here: this runs once at load time, never per byte.
  const entries = new Array<bigint>(SLICES * 256);
  for (let b = 0; b < 256; b++) {
    let c = BigInt(b);
    for (let i = 0; i < 8; i++) c = c & 1n ? (c >> 1n) ^ poly : c >> 1n;
    entries[b] = c;
  }
  for (let k = 1; k < SLICES; k++) {
    for (let b = 0; b < 256; b++) {
      const prev = entries[(k - 1) * 256 + b]!;
      entries[k * 256 + b] = (prev >> 8n) ^ entries[Number(prev & 0xffn)]!;
    }
  }
  const lo = new Uint32Array(SLICES * 256);
  const hi = new Uint32Array(SLICES * 256);
  for (let i = 0; i < entries.length; i++) {
    lo[i] = Number(entries[i]! & 0xffffffffn);
    hi[i] = Number(entries[i]! >> 32n);
  }
  return [lo, hi];
}

function crc64Update(h: Crc64NvmeHasher, data: Uint8Array): void {
  const tl = CRC64_LO;
  const th = CRC64_HI;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const n = data.length;
  const end16 = n - (n & 15);
  let lo = h.low;
  let hi = h.high;
  let i = 0;
  while (i < end16) {
    // The first eight bytes are XORed into the (reflected, so little-endian) register, which
    // the lookups then consume whole; the next eight go straight to the lookups.
    const a = lo ^ view.getInt32(i, true);
    const b = hi ^ view.getInt32(i + 4, true);
    const c = view.getInt32(i + 8, true);
    const d = view.getInt32(i + 12, true);
    const k0 = 3840 + (a & 0xff);
    const k1 = 3584 + ((a >>> 8) & 0xff);
    const k2 = 3328 + ((a >>> 16) & 0xff);
    const k3 = 3072 + (a >>> 24);
    const k4 = 2816 + (b & 0xff);
    const k5 = 2560 + ((b >>> 8) & 0xff);
    const k6 = 2304 + ((b >>> 16) & 0xff);
    const k7 = 2048 + (b >>> 24);
    const k8 = 1792 + (c & 0xff);
    const k9 = 1536 + ((c >>> 8) & 0xff);
    const k10 = 1280 + ((c >>> 16) & 0xff);
    const k11 = 1024 + (c >>> 24);
    const k12 = 768 + (d & 0xff);
    const k13 = 512 + ((d >>> 8) & 0xff);
    const k14 = 256 + ((d >>> 16) & 0xff);
    const k15 = d >>> 24;
    lo =
      tl[k0]! ^ tl[k1]! ^ tl[k2]! ^ tl[k3]! ^ tl[k4]! ^ tl[k5]! ^ tl[k6]! ^ tl[k7]! ^
      tl[k8]! ^ tl[k9]! ^ tl[k10]! ^ tl[k11]! ^ tl[k12]! ^ tl[k13]! ^ tl[k14]! ^ tl[k15]!;
    hi =
      th[k0]! ^ th[k1]! ^ th[k2]! ^ th[k3]! ^ th[k4]! ^ th[k5]! ^ th[k6]! ^ th[k7]! ^
      th[k8]! ^ th[k9]! ^ th[k10]! ^ th[k11]! ^ th[k12]! ^ th[k13]! ^ th[k14]! ^ th[k15]!;
    i += 16;
  }
  for (; i < n; i++) {
    // One byte: reg = T0[(reg ^ byte) & 0xff] ^ (reg >>> 8), on the two halves.
    const idx = (lo ^ data[i]!) & 0xff;
    const shiftedLo = (lo >>> 8) | (hi << 24);
    const shiftedHi = hi >>> 8;
    lo = tl[idx]! ^ shiftedLo;
    hi = th[idx]! ^ shiftedHi;
  }
  h.set(lo >>> 0, hi >>> 0);
}

// ---------------------------------------------------------------------------------------------
// Combining: crc(A‖B) = crc(A)·x^(8·len(B)) mod P  ⊕  crc(B).
// (The all-ones init and final XOR cancel out; see zlib's crc32_combine.) Polynomials are kept in
// the reflected representation, where the top bit is x^0. Runs once per part, so BigInt is fine.

interface CrcParams {
  width: bigint;
  poly: bigint;
}

const COMBINE_PARAMS: Record<'CRC32' | 'CRC32C' | 'CRC64NVME', CrcParams> = {
  CRC32: { width: 32n, poly: 0xedb88320n },
  CRC32C: { width: 32n, poly: BigInt(CRC32C_POLY) },
  CRC64NVME: { width: 64n, poly: CRC64_POLY },
};

/** crc(A‖B) from crc(A), crc(B) and len(B) — needed for FULL_OBJECT multipart checksums. */
export function combineCrc(alg: 'CRC32' | 'CRC32C' | 'CRC64NVME', crcA: Buffer, crcB: Buffer, lengthB: number): Buffer {
  const p = COMBINE_PARAMS[alg];
  const bytes = Number(p.width / 8n);
  if (crcA.length !== bytes || crcB.length !== bytes) {
    throw new RangeError(`combineCrc(${alg}): checksums must be ${bytes} bytes`);
  }
  if (!Number.isSafeInteger(lengthB) || lengthB < 0) throw new RangeError('combineCrc: bad length');
  const a = bytesToBigInt(crcA);
  const b = bytesToBigInt(crcB);
  const shifted = multModP(p, xPow8nModP(p, BigInt(lengthB)), a);
  return bigIntToBytes(shifted ^ b, bytes);
}

/** a·b mod P, both in reflected form. */
function multModP(p: CrcParams, a: bigint, b: bigint): bigint {
  let m = 1n << (p.width - 1n);
  let product = 0n;
  while (m !== 0n) {
    if (a & m) product ^= b;
    m >>= 1n;
    b = b & 1n ? (b >> 1n) ^ p.poly : b >> 1n;
  }
  return product;
}

/** x^(8·n) mod P, by square-and-multiply over the bits of n. */
function xPow8nModP(p: CrcParams, n: bigint): bigint {
  let result = xPow(p, 0);
  let square = xPow(p, 8); // x^(8·2^i) at step i
  while (n > 0n) {
    if (n & 1n) result = multModP(p, square, result);
    square = multModP(p, square, square);
    n >>= 1n;
  }
  return result;
}

/** x^k mod P for a small k (< width), in reflected form. */
function xPow(p: CrcParams, k: number): bigint {
  return 1n << (p.width - 1n - BigInt(k));
}

function bytesToBigInt(buf: Buffer): bigint {
  let v = 0n;
  for (const byte of buf) v = (v << 8n) | BigInt(byte);
  return v;
}

function bigIntToBytes(v: bigint, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}
