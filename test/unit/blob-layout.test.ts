// The blob file layout: sizes, the checksum tail, and the block-aligned read plan.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { BLOCK_SIZE, TRAILER_SIZE, blockCount, decodeTail, encodeTail, fileSize, planRead, tailSize, verifiedPrefix } from '../../src/store/blob/layout.js';

const BS = BLOCK_SIZE;

function blockCrcs(data: Buffer): number[] {
  const out: number[] = [];
  for (let i = 0; i < data.length; i += BS) out.push(crc32(data.subarray(i, i + BS)));
  return out;
}

describe('blob layout', () => {
  it('sizes: one CRC per started block, a fixed trailer', () => {
    assert.equal(TRAILER_SIZE, 24);
    for (const [size, blocks] of [
      [0, 0],
      [1, 1],
      [BS - 1, 1],
      [BS, 1],
      [BS + 1, 2],
      [5 * BS, 5],
    ] as const) {
      assert.equal(blockCount(size), blocks, `blocks of ${size}`);
      assert.equal(tailSize(size), blocks * 4 + 24);
      assert.equal(fileSize(size), size + blocks * 4 + 24);
    }
  });

  it('encodes a tail that decodes to the table, and refuses any damaged tail', () => {
    for (const size of [0, 1, BS, 3 * BS + 7]) {
      const data = randomBytes(size);
      const tail = encodeTail(blockCrcs(data), size);
      assert.equal(tail.length, tailSize(size));
      assert.equal(tail.subarray(tail.length - 24, tail.length - 16).toString('latin1'), 'TROVBLK1');
      const ok = decodeTail(tail, size);
      assert.ok('table' in ok);
      assert.deepEqual(ok.table, tail.subarray(0, blockCount(size) * 4));
      // Every single flipped byte is caught (table, magic, size, block size, CRC).
      for (let i = 0; i < tail.length; i++) {
        const bad = Buffer.from(tail);
        bad[i]! ^= 0x01;
        assert.ok('invalid' in decodeTail(bad, size), `flip at ${i} of the tail of ${size}`);
      }
      assert.ok('invalid' in decodeTail(tail, size + 1), 'size other than recorded');
      assert.ok('invalid' in decodeTail(tail.subarray(1), size), 'short tail');
    }
    assert.throws(() => encodeTail([1, 2], BS), /2 block CRCs/);
  });

  it('plans block-aligned reads that serve every range exactly once', () => {
    const sizes = [1, 2, BS - 1, BS, BS + 1, 2 * BS, 4 * BS + 3, 9 * BS - 1];
    for (const size of sizes) {
      const points = [0, 1, BS - 1, BS, BS + 1, 2 * BS - 1, 2 * BS, 4 * BS, 4 * BS + 1, size - 2, size - 1].filter((p) => p >= 0 && p < size);
      for (const start of points) {
        for (const end of points) {
          if (end < start) continue;
          for (const capacity of [BS, 4 * BS, 4 * BS + 100]) {
            let pos = start;
            let reads = 0;
            while (pos <= end) {
              const r = planRead(pos, end, size, capacity);
              const label = `size ${size} range ${start}-${end} cap ${capacity} at ${pos}`;
              assert.equal(r.from % BS, 0, label);
              assert.equal(r.skip, pos - r.from, label);
              assert.ok(r.length <= capacity && r.length > 0, label);
              // Whole blocks, the last one short only at the end of the data.
              assert.ok(r.length % BS === 0 || r.from + r.length === size, label);
              assert.ok(r.from + r.length <= size, label);
              assert.ok(r.take > 0 && r.skip + r.take <= r.length, label);
              assert.ok(pos + r.take - 1 <= end, label);
              // A read covers no block beyond the one holding `end`.
              assert.ok(r.from + r.length - 1 < (Math.floor(end / BS) + 1) * BS, label);
              pos += r.take;
              reads++;
            }
            assert.equal(pos, end + 1);
            // After the first read, reads are aligned and full.
            assert.ok(reads <= Math.floor(end / BS) - Math.floor(start / BS) + 1);
          }
        }
      }
    }
    assert.throws(() => planRead(0, 10, 100, BS - 1), /smaller than a block/);
    assert.throws(() => planRead(5, 4, 100, BS), /bad range/);
    assert.throws(() => planRead(0, 100, 100, BS), /bad range/);
  });

  it('verifies blocks in order and reports where the first damaged one starts', () => {
    const size = 3 * BS + 10;
    const data = randomBytes(size);
    const table = encodeTail(blockCrcs(data), size).subarray(0, blockCount(size) * 4);
    assert.equal(verifiedPrefix(data, size, 0, table), size);
    // A read starting at block 1.
    assert.equal(verifiedPrefix(data.subarray(BS), size - BS, 1, table), size - BS);
    for (const [at, expected] of [
      [0, 0],
      [BS - 1, 0],
      [BS, BS],
      [2 * BS + 5, 2 * BS],
      [size - 1, 3 * BS],
    ] as const) {
      const bad = Buffer.from(data);
      bad[at]! ^= 0x80;
      assert.equal(verifiedPrefix(bad, size, 0, table), expected, `flip at ${at}`);
    }
  });
});
