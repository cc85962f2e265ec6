// The on-disk layout of a blob file, and the arithmetic of reading it in verified blocks.
//
//   [data][CRC table][trailer]
//
//   data      the object's bytes, from offset 0 (a byte range maps straight onto the file)
//   table     one uint32 LE CRC32 per BLOCK_SIZE block of data (the last block may be short)
//   trailer   "TROVBLK1" | uint64 LE data size | uint32 LE block size | uint32 LE CRC32 of the
//             table followed by the 20 trailer bytes before it
//
// A reader knows the data size from the metadata, so it knows where the table and trailer are
// and how long the file must be before reading a byte of it. Pure functions only: no I/O here.

import { crc32 } from 'node:zlib';

export const BLOCK_SIZE = 64 * 1024;
export const MAGIC = Buffer.from('TROVBLK1', 'latin1');
export const TRAILER_SIZE = MAGIC.length + 8 + 4 + 4;

/** Number of blocks holding `size` bytes of data. */
export function blockCount(size: number): number {
  return Math.ceil(size / BLOCK_SIZE);
}

/** Bytes after the data: CRC table and trailer. */
export function tailSize(size: number): number {
  return blockCount(size) * 4 + TRAILER_SIZE;
}

/** Length of the blob file holding `size` bytes of data. */
export function fileSize(size: number): number {
  return size + tailSize(size);
}

/** CRC32 that treats an empty buffer as the no-op it is (zlib may answer 0 for one). */
export function crc(data: Uint8Array, previous = 0): number {
  return data.length === 0 ? previous : crc32(data, previous);
}

/** The table and trailer written after `size` bytes of data whose block CRCs are `crcs`. */
export function encodeTail(crcs: ArrayLike<number>, size: number): Buffer {
  if (crcs.length !== blockCount(size)) throw new Error(`${crcs.length} block CRCs for ${size} bytes`);
  const tail = Buffer.allocUnsafe(tailSize(size));
  for (let i = 0; i < crcs.length; i++) tail.writeUInt32LE(crcs[i]! >>> 0, i * 4);
  const t = crcs.length * 4;
  MAGIC.copy(tail, t);
  tail.writeBigUInt64LE(BigInt(size), t + 8);
  tail.writeUInt32LE(BLOCK_SIZE, t + 16);
  tail.writeUInt32LE(crc(tail.subarray(0, t + 20)), t + 20);
  return tail;
}

/**
 * Checks the tail of a blob file that should hold `size` bytes of data: returns the CRC table, or
 * the reason the tail is not valid.
 */
export function decodeTail(tail: Buffer, size: number): { table: Buffer } | { invalid: string } {
  if (tail.length !== tailSize(size)) return { invalid: `tail of ${tail.length} bytes, expected ${tailSize(size)}` };
  const t = tail.length - TRAILER_SIZE;
  if (!tail.subarray(t, t + MAGIC.length).equals(MAGIC)) return { invalid: 'no trailer' };
  if (tail.readBigUInt64LE(t + 8) !== BigInt(size)) return { invalid: `trailer records ${tail.readBigUInt64LE(t + 8)} bytes, metadata ${size}` };
  if (tail.readUInt32LE(t + 16) !== BLOCK_SIZE) return { invalid: `block size ${tail.readUInt32LE(t + 16)}` };
  if (tail.readUInt32LE(t + 20) !== crc(tail.subarray(0, t + 20))) return { invalid: 'trailer checksum mismatch' };
  return { table: tail.subarray(0, t) };
}

/** One read of whole blocks serving bytes from `pos` on. */
export interface BlockRead {
  /** File offset of the first block read (block-aligned). */
  from: number;
  /** Bytes to read: whole blocks, the last one short at the end of the data. */
  length: number;
  /** Bytes at the start of the read that precede `pos` (dropped). */
  skip: number;
  /** Bytes handed out: from `pos`, at most up to `end`. */
  take: number;
}

/**
 * The next read serving bytes [pos, end] of `size` bytes of data into a buffer of `capacity`
 * bytes (at least one block): as many whole blocks as fit and are needed.
 */
export function planRead(pos: number, end: number, size: number, capacity: number): BlockRead {
  if (capacity < BLOCK_SIZE) throw new Error(`read buffer of ${capacity} bytes is smaller than a block`);
  if (pos > end || end >= size) throw new Error(`bad range ${pos}-${end} of ${size}`);
  const first = Math.floor(pos / BLOCK_SIZE);
  const blocks = Math.min(Math.floor(capacity / BLOCK_SIZE), Math.floor(end / BLOCK_SIZE) - first + 1);
  const from = first * BLOCK_SIZE;
  const length = Math.min(blocks * BLOCK_SIZE, size - from);
  const skip = pos - from;
  const take = Math.min(from + length - 1, end) - pos + 1;
  return { from, length, skip, take };
}

/**
 * Verifies the blocks in `buf[0, length)`, read from block index `firstBlock` on, against the CRC
 * table: returns the number of leading bytes that verified (`length` when all did).
 */
export function verifiedPrefix(buf: Buffer, length: number, firstBlock: number, table: Buffer): number {
  for (let off = 0, b = firstBlock; off < length; off += BLOCK_SIZE, b++) {
    const n = Math.min(BLOCK_SIZE, length - off);
    if (crc(buf.subarray(off, off + n)) !== table.readUInt32LE(b * 4)) return off;
  }
  return length;
}
