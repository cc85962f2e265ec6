// Storage policies as pure logic: parsing, quorums, the layout an id records, placement; the
// inverse of the blob file's length; and the Reed-Solomon codec recovering any M lost shards.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { dataSizeOf } from '../../src/store/blob/drives.js';
import { encodeParity, recompute } from '../../src/store/blob/erasure.js';
import { fileSize } from '../../src/store/blob/layout.js';
import { CHUNK, isBlobId, layoutId, overhead, parseLayout, parsePolicySpec, partSize, place, readQuorum, shardSize, tolerates, width, writeQuorum } from '../../src/store/blob/policy.js';

describe('storage policy specs', () => {
  it('parses replicas N and ec K+M, and refuses the rest', () => {
    assert.deepEqual(parsePolicySpec('replicas 3'), { kind: 'replicas', n: 3 });
    assert.deepEqual(parsePolicySpec(' EC 6+2 '), { kind: 'ec', k: 6, m: 2 });
    assert.deepEqual(parsePolicySpec('ec:4+2'), { kind: 'ec', k: 4, m: 2 });
    for (const bad of ['replicas 0', 'replicas 17', 'ec 0+2', 'ec 4+0', 'ec 25+1', 'ec 4+7', 'mirror 2', 'ec 4', '']) assert.throws(() => parsePolicySpec(bad), /./, bad);
  });

  it('quorums, tolerance and cost', () => {
    const r3 = parsePolicySpec('replicas 3');
    const ec42 = parsePolicySpec('ec 4+2');
    const ec22 = parsePolicySpec('ec 2+2');
    assert.equal(writeQuorum(r3), 2);
    assert.equal(writeQuorum(parsePolicySpec('replicas 2')), 2);
    assert.equal(writeQuorum(ec42), 4);
    // K = M: one more than K, so two disjoint halves can never both acknowledge.
    assert.equal(writeQuorum(ec22), 3);
    assert.equal(readQuorum(ec42), 4);
    assert.equal(readQuorum(r3), 1);
    assert.equal(tolerates(ec42), 2);
    assert.equal(tolerates(r3), 2);
    assert.equal(overhead(ec42), 1.5);
    assert.equal(width(ec42), 6);
  });
});

describe('layout ids', () => {
  it('round-trips and rejects malformed layouts', () => {
    const base = randomBytes(16).toString('hex');
    for (const spec of [parsePolicySpec('replicas 2'), parsePolicySpec('ec 4+2')]) {
      const drives = Array.from({ length: width(spec) }, (_, i) => (i * 3 + 1) % 11);
      const id = layoutId({ base, spec, drives });
      assert.ok(isBlobId(id), id);
      assert.deepEqual(parseLayout(id), { base, spec, drives });
    }
    assert.equal(parseLayout(base), undefined);
    assert.ok(isBlobId(base));
    // Wrong drive count, repeated drive, path tricks.
    for (const bad of [`${base}.r2.1`, `${base}.r2.1-1`, `${base}.e4x2.0-1-2-3-4`, `${base}.r2.0-1/..`, `../${base}`, `${base}.r2.0-1.x`]) {
      assert.equal(parseLayout(bad), undefined, bad);
      assert.ok(!isBlobId(bad), bad);
    }
  });

  it('places on distinct drives, healthy ones first, spread by id', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const base = randomBytes(16).toString('hex');
      const d = place(base, 3, 8, (x) => x !== 5)!;
      assert.equal(new Set(d).size, 3);
      assert.ok(!d.includes(5));
      seen.add(d[0]!);
    }
    assert.equal(seen.size, 7);
    // Not enough healthy drives: the unhealthy come last (the write then needs its quorum).
    const d = place('00000000' + '0'.repeat(24), 3, 3, (x) => x !== 0)!;
    assert.deepEqual(d, [1, 2, 0]);
    assert.equal(place('0'.repeat(32), 4, 3, () => true), undefined);
  });

  it('shard sizes', () => {
    assert.equal(shardSize(1, 4), CHUNK);
    assert.equal(shardSize(4 * CHUNK, 4), CHUNK);
    assert.equal(shardSize(4 * CHUNK + 1, 4), 2 * CHUNK);
    assert.equal(partSize(parsePolicySpec('replicas 2'), 12345), 12345);
  });
});

describe('blob file length inverse', () => {
  it('finds the data size of every file length it produced', () => {
    for (const n of [0, 1, 100, 65535, 65536, 65537, 131072, 1 << 20, (1 << 20) + 7, 3 * 65536 - 1, 10_000_000]) assert.equal(dataSizeOf(fileSize(n)), n, String(n));
    assert.equal(dataSizeOf(3), undefined);
  });
});

describe('Reed-Solomon codec', () => {
  it('rebuilds any M lost shards of ec 4+2 from the other K', async () => {
    const k = 4;
    const m = 2;
    const shard = 4096;
    const data = randomBytes(k * shard);
    const parity = Buffer.alloc(m * shard);
    await encodeParity(k, m, data, parity, shard);
    assert.ok(!parity.equals(Buffer.alloc(m * shard)));
    const all = () => [...Array.from({ length: k }, (_, i) => data.subarray(i * shard, (i + 1) * shard)), ...Array.from({ length: m }, (_, i) => parity.subarray(i * shard, (i + 1) * shard))].map((b) => Buffer.from(b));
    const original = all();
    for (let a = 0; a < k + m; a++) {
      for (let b = a + 1; b < k + m; b++) {
        const d = Buffer.from(data);
        const p = Buffer.from(parity);
        const wipe = (i: number) => (i < k ? d.fill(0xee, i * shard, (i + 1) * shard) : p.fill(0xee, (i - k) * shard, (i - k + 1) * shard));
        wipe(a);
        wipe(b);
        const sources = Array.from({ length: k + m }, (_, i) => i).filter((i) => i !== a && i !== b);
        await recompute(k, m, d, p, shard, sources, [a, b]);
        const got = [...Array.from({ length: k }, (_, i) => d.subarray(i * shard, (i + 1) * shard)), ...Array.from({ length: m }, (_, i) => p.subarray(i * shard, (i + 1) * shard))];
        for (let i = 0; i < k + m; i++) assert.ok(got[i]!.equals(original[i]!), `lost ${a},${b}: shard ${i}`);
      }
    }
  });

  it('refuses fewer than K sources', async () => {
    assert.throws(() => recompute(4, 2, Buffer.alloc(4 * 8), Buffer.alloc(2 * 8), 8, [0, 1, 2], [3]), /needed/);
  });
});
