// DrivesBlobStore on its own: ec 4+2 blobs of awkward sizes read back whole and by ranges with
// every pair of drives unavailable; a block damaged mid-read is reconstructed; heal rebuilds
// exactly the original shard files; replicas fail over; a write below quorum leaves nothing.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FsBlobStore } from '../src/store/blob/fs.js';
import { DrivesBlobStore } from '../src/store/blob/drives.js';
import { BLOCK_SIZE } from '../src/store/blob/layout.js';
import { parseLayout, type StoragePolicySpec } from '../src/store/blob/policy.js';
import { BlobDamagedError } from '../src/store/blob/types.js';
import { StoreError } from '../src/store/errors.js';
import { tempDir } from './helpers.js';

const EC: StoragePolicySpec = { kind: 'ec', k: 4, m: 2 };
const REP: StoragePolicySpec = { kind: 'replicas', n: 2 };

async function readRange(s: DrivesBlobStore, id: string, size: number, a: number, b: number, bufSize = 100_000): Promise<Buffer> {
  const body = await s.openRange(id, size, a, b);
  const out: Buffer[] = [];
  try {
    for (;;) {
      const buf = Buffer.alloc(bufSize);
      const n = await body.read(buf);
      if (n === 0) break;
      out.push(buf.subarray(0, n));
    }
  } finally {
    await body.close();
  }
  return Buffer.concat(out);
}

describe('DrivesBlobStore', () => {
  let root: string;
  let drives: string[];
  let store: DrivesBlobStore;
  const damaged: string[] = [];
  const blobs: [string, Buffer][] = [];

  /** A store as a server starting now opens it (no files kept open from earlier reads). */
  async function open(): Promise<DrivesBlobStore> {
    const main = await FsBlobStore.open({ root: path.join(root, 'main'), fsync: false });
    return DrivesBlobStore.open(main, drives, { fsync: false }, { onDamage: (id) => damaged.push(id) });
  }

  /** Runs `fn` with a store opened while drives `off` are unavailable. */
  async function without(off: number[], fn: () => Promise<void>): Promise<void> {
    await store.close();
    for (const d of off) fs.renameSync(drives[d]!, drives[d]! + '.off');
    try {
      store = await open();
      await fn();
    } finally {
      await store.close();
      for (const d of off) fs.renameSync(drives[d]! + '.off', drives[d]!);
      store = await open();
    }
  }

  before(async () => {
    root = await tempDir('trove-drives-store-');
    drives = [0, 1, 2, 3, 4, 5].map((i) => path.join(root, `d${i}`));
    for (const d of drives) fs.mkdirSync(d);
    store = await open();
    for (const size of [1, 1000, BLOCK_SIZE, 4 * BLOCK_SIZE, 4 * BLOCK_SIZE + 1, 33 * BLOCK_SIZE - 5, 3 * 1024 * 1024 + 12345]) {
      const w = await store.create({ policy: EC });
      const body = randomBytes(size);
      // Writes that do not align with chunks or stripes.
      for (let o = 0; o < size; o += 77_777) await w.write(body.subarray(o, Math.min(size, o + 77_777)));
      await w.commit();
      assert.equal(w.degraded, 0);
      blobs.push([w.id, body]);
    }
  });
  after(async () => {
    await store.close();
    await fs.promises.rm(root, { recursive: true, force: true });
  });

  const ranges = (size: number) =>
    ([[0, size - 1], [0, 0], [size - 1, size - 1], [1, 100], [BLOCK_SIZE - 3, 5 * BLOCK_SIZE + 2], [size - 70_000, size - 1], [Math.floor(size / 3), Math.floor((2 * size) / 3)]] as [number, number][]).filter(
      ([a, b]) => a >= 0 && a <= b && b < size,
    );

  it('reads whole blobs and ranges with every pair of drives unavailable', async () => {
    for (let x = 0; x < 6; x++) {
      for (let y = x + 1; y < 6; y++) {
        await without([x, y], async () => {
          for (const [id, body] of blobs) {
            for (const [a, b] of ranges(body.length)) assert.ok((await readRange(store, id, body.length, a, b, 4096 + ((a * 7919) % 200_000))).equals(body.subarray(a, b + 1)), `drives ${x},${y} off: ${body.length} ${a}-${b}`);
          }
        });
      }
    }
    // Three unavailable: fewer than K, refused as damaged (never wrong bytes).
    const [id, body] = blobs.at(-1)!;
    await without(parseLayout(id)!.drives.slice(0, 3), async () => {
      await assert.rejects(readRange(store, id, body.length, 0, body.length - 1), BlobDamagedError);
    });
  });

  it('reconstructs a block damaged in the middle of a read, and heal restores the exact shard', async () => {
    const [id, body] = blobs.at(-1)!;
    const l = parseLayout(id)!;
    const file = path.join(drives[l.drives[2]!]!, 'blobs', id.slice(0, 2), id);
    const original = fs.readFileSync(file);
    const fd = fs.openSync(file, 'r+');
    // Block 9 of data shard 2: well inside the second read batch.
    fs.writeSync(fd, Buffer.from('XXXX'), 0, 4, 9 * BLOCK_SIZE + 10);
    fs.closeSync(fd);
    damaged.length = 0;
    assert.ok((await readRange(store, id, body.length, 0, body.length - 1)).equals(body));
    assert.deepEqual(damaged, [id]);
    const r = await store.heal(id);
    assert.deepEqual({ damaged: r.damaged, healed: r.healed, lost: r.lost }, { damaged: 1, healed: 1, lost: false });
    assert.ok(fs.readFileSync(file).equals(original));
    assert.equal((await store.heal(id)).damaged, 0);
  });

  it('replicas: fails over at a damaged block; a write below quorum leaves nothing', async () => {
    const w = await store.create({ policy: REP });
    const body = randomBytes(5 * BLOCK_SIZE + 3);
    await w.write(body);
    await w.commit();
    const l = parseLayout(w.id)!;
    for (const d of l.drives) {
      const file = path.join(drives[d]!, 'blobs', w.id.slice(0, 2), w.id);
      const original = fs.readFileSync(file);
      const fd = fs.openSync(file, 'r+');
      fs.writeSync(fd, Buffer.from('X'), 0, 1, 2 * BLOCK_SIZE);
      fs.closeSync(fd);
      assert.ok((await readRange(store, w.id, body.length, 0, body.length - 1)).equals(body));
      assert.equal((await store.heal(w.id)).healed, 1);
      assert.ok(fs.readFileSync(file).equals(original));
    }
    // Five drives off: a replicas 2 write has at most one healthy drive, below its quorum of 2.
    await without([0, 1, 2, 3, 4], async () => {
      await assert.rejects(
        (async () => {
          const x = await store.create({ policy: REP });
          await x.write(body);
          await x.commit();
        })(),
        (e: unknown) => e instanceof StoreError && e.code === 'InsufficientDrives',
      );
    });
    // Nothing of the refused write stays on the drive that took it (nor in its temp directory).
    const left = fs.readdirSync(path.join(drives[5]!, 'blobs')).flatMap((d) => fs.readdirSync(path.join(drives[5]!, 'blobs', d)));
    assert.ok(left.every((f) => blobs.some(([id]) => id === f) || f === w.id), left.join(','));
    const tmp = path.join(drives[5]!, 'tmp', store.nodeId);
    assert.deepEqual(fs.existsSync(tmp) ? fs.readdirSync(tmp) : [], []);
  });
});
