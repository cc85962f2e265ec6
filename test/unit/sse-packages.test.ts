// Sealed packages through a real blob store: both package sizes (the aligned one written now, and
// the 64 KiB one of objects written before) read back exactly, for ranges across package
// boundaries and for readers with small and large buffers; the aligned layout reads whole blocks
// in one read per call; a damaged package fails the read without a byte of it handed out.

import assert from 'node:assert/strict';
import { hkdfSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { PooledBody } from '../../src/common/body.js';
import { BLOCK_SIZE } from '../../src/store/blob/layout.js';
import { FsBlobStore } from '../../src/store/blob/fs.js';
import { BlobDamagedError } from '../../src/store/blob/types.js';
import { blobKey, openAll, openingBody, PACKAGE, PACKAGE_V1, packageSizeOf, sealAll, sealedRange, sealedSize, Sealer, TAG } from '../../src/sse/packages.js';

const dataKey = randomBytes(32);
/** HKDF-SHA256(32 bytes of 1, no salt, "trove-sse-blob:b"), as hkdfSync derived it before blobKey was two HMACs. */
const KNOWN = 'd300c0ba0abd8a94917fb92b4e280a37e393a610bb66125bf916c8d44d530fb2';

async function readAll(body: PooledBody, bufSize: number): Promise<Buffer> {
  const out: Buffer[] = [];
  const buf = Buffer.alloc(bufSize);
  try {
    for (;;) {
      const n = await body.read(buf);
      if (n === 0) break;
      out.push(Buffer.from(buf.subarray(0, n)));
    }
  } finally {
    await body.close();
  }
  return Buffer.concat(out);
}

/** Stores `plain` sealed in packages of `p`, fed in chunks of `chunk` bytes. */
async function storeSealed(blobs: FsBlobStore, plain: Buffer, p: number, chunk: number): Promise<string> {
  const w = await blobs.create();
  const sealer = new Sealer(blobKey(dataKey, w.id), p);
  for (let off = 0; off < plain.length; off += chunk) for (const b of sealer.push(plain.subarray(off, off + chunk))) await w.write(b);
  for (const b of sealer.end()) await w.write(b);
  assert.equal(w.size, sealedSize(plain.length, p));
  await w.commit();
  return w.id;
}

/** Plaintext [start, end] as a GET reads it (objectBody's openBlob), counting the reads of sealed bytes. */
async function openPlain(blobs: FsBlobStore, id: string, size: number, start: number, end: number, p: number, reads = { n: 0 }): Promise<PooledBody> {
  const r = sealedRange(start, end, size, p);
  const sealed = await blobs.openRange(id, sealedSize(size, p), r.from, r.to, { authenticated: true });
  const counted: PooledBody = {
    read: (b) => {
      reads.n++;
      return sealed.read(b);
    },
    close: () => sealed.close(),
  };
  return openingBody(blobKey(dataKey, id), counted, start, end, size, id, p);
}

describe('sealed packages in blobs', () => {
  let dir: string;
  let blobs: FsBlobStore;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trove-sse-packages-'));
    blobs = await FsBlobStore.open({ root: dir, fsync: false });
  });
  after(async () => {
    await blobs.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a sealed package of the current size is exactly one blob block', () => {
    assert.equal(PACKAGE + TAG, BLOCK_SIZE);
    assert.equal(packageSizeOf({ p: PACKAGE }), PACKAGE);
    assert.equal(packageSizeOf({}), PACKAGE_V1, 'a descriptor without p is of the first format');
  });

  for (const p of [PACKAGE, PACKAGE_V1]) {
    it(`packages of ${p} bytes: every range reads back exactly, with any reader buffer`, async () => {
      const plain = randomBytes(5 * p + 777);
      // Chunk sizes that do and do not line up with packages.
      const ids = [await storeSealed(blobs, plain, p, 64 * 1024), await storeSealed(blobs, plain, p, 1000), await storeSealed(blobs, plain, p, 3 * p)];
      const ranges: [number, number][] = [
        [0, plain.length - 1],
        [0, 0],
        [p - 1, p],
        [p, 2 * p - 1],
        [p - 10, 3 * p + 10],
        [5 * p, plain.length - 1],
        [123, plain.length - 2],
      ];
      for (const id of ids) {
        for (const [a, b] of ranges) {
          for (const bufSize of [256 * 1024, 1000, p + TAG, 2 * (p + TAG) - 1]) {
            const got = await readAll(await openPlain(blobs, id, plain.length, a, b, p), bufSize);
            assert.ok(got.equals(plain.subarray(a, b + 1)), `p ${p}, ${a}-${b}, buffers of ${bufSize}`);
          }
        }
      }
    });
  }

  it('aligned packages: each call fills the 256 KiB buffer with one read of whole blocks', async () => {
    const plain = randomBytes(16 * PACKAGE);
    const id = await storeSealed(blobs, plain, PACKAGE, 64 * 1024);
    const reads = { n: 0 };
    const body = await openPlain(blobs, id, plain.length, 0, plain.length - 1, PACKAGE, reads);
    const buf = Buffer.alloc(256 * 1024);
    let calls = 0;
    const out: Buffer[] = [];
    for (;;) {
      const n = await body.read(buf);
      if (n === 0) break;
      calls++;
      assert.equal(n, Math.min(buf.length, plain.length - (calls - 1) * buf.length), 'a full buffer but for the last');
      out.push(Buffer.from(buf.subarray(0, n)));
    }
    await body.close();
    assert.equal(calls, 4);
    assert.equal(reads.n, 4, 'one read of the sealed body per call');
    assert.ok(Buffer.concat(out).equals(plain));
  });

  it('a 1 MiB object reads in four calls of one read each, as a plain one (not a fifth for its short last package)', async () => {
    const plain = randomBytes(1024 * 1024);
    const id = await storeSealed(blobs, plain, PACKAGE, 64 * 1024);
    for (const [a, b] of [
      [0, plain.length - 1],
      [1000, plain.length - 1],
    ] as const) {
      const reads = { n: 0 };
      const body = await openPlain(blobs, id, plain.length, a, b, PACKAGE, reads);
      const buf = Buffer.alloc(256 * 1024);
      const out: Buffer[] = [];
      for (;;) {
        const n = await body.read(buf);
        if (n === 0) break;
        out.push(Buffer.from(buf.subarray(0, n)));
      }
      await body.close();
      assert.equal(out.length, 4, `${a}-${b}: calls`);
      assert.equal(reads.n, 4, `${a}-${b}: one read of the sealed body per call`);
      assert.ok(Buffer.concat(out).equals(plain.subarray(a, b + 1)));
    }
  });

  it('blob keys are HKDF-SHA256 of the data key (the bytes every stored object was sealed with)', () => {
    for (const id of ['', 'inline', '0123456789abcdef0123456789abcdef', 'é/ü']) {
      const dk = randomBytes(32);
      assert.ok(blobKey(dk, id).equals(Buffer.from(hkdfSync('sha256', dk, Buffer.alloc(0), 'trove-sse-blob:' + id, 32))), id);
    }
    // A known answer, so that the derivation cannot drift along with a test's own HKDF.
    assert.equal(blobKey(Buffer.alloc(32, 1), 'b').toString('hex'), KNOWN);
  });

  it('inline objects: sealAll and openAll with either package size', () => {
    for (const p of [PACKAGE, PACKAGE_V1]) {
      const plain = randomBytes(2 * p + 5);
      const key = blobKey(dataKey, 'inline');
      const sealed = sealAll(key, plain, p);
      assert.equal(sealed.length, sealedSize(plain.length, p));
      assert.ok(openAll(key, sealed, p).equals(plain));
    }
  });

  for (const p of [PACKAGE, PACKAGE_V1]) {
    it(`packages of ${p} bytes: a damaged package fails the read, nothing of it is handed out`, async () => {
      const plain = randomBytes(4 * p);
      const id = await storeSealed(blobs, plain, p, 64 * 1024);
      const file = blobs.pathOf(id);
      const bytes = fs.readFileSync(file);
      bytes[2 * (p + TAG) + 100]! ^= 0x10;
      fs.writeFileSync(file, bytes);
      await blobs.close(); // forget the open file
      blobs = await FsBlobStore.open({ root: dir, fsync: false });
      for (const bufSize of [256 * 1024, p + TAG, 100]) {
        const body = await openPlain(blobs, id, plain.length, 0, plain.length - 1, p);
        const buf = Buffer.alloc(bufSize);
        const got: Buffer[] = [];
        let failure: unknown;
        try {
          for (;;) {
            const n = await body.read(buf);
            if (n === 0) break;
            got.push(Buffer.from(buf.subarray(0, n)));
          }
        } catch (e) {
          failure = e;
        } finally {
          await body.close();
        }
        assert.ok(failure instanceof BlobDamagedError, `buffers of ${bufSize}: the read fails`);
        assert.equal(failure.offset, 2 * (p + TAG));
        const served = Buffer.concat(got);
        assert.ok(served.length <= 2 * p, `buffers of ${bufSize}: nothing of package 2 is handed out`);
        assert.ok(served.equals(plain.subarray(0, served.length)));
      }
      // The packages before it still read.
      assert.ok((await readAll(await openPlain(blobs, id, plain.length, 0, 2 * p - 1, p), 256 * 1024)).equals(plain.subarray(0, 2 * p)));
    });
  }
});
