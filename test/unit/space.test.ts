// The full-disk logic without a full disk: which errors mean "out of space", which operations
// consume space, the space guard's states (free space injected), and the blob GC's retry.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { ConfigError, DEFAULT_MIN_FREE, DEFAULT_SPACE_RESERVE, loadConfig } from '../../src/config.js';
import { ERRORS, S3Error } from '../../src/s3/errors.js';
import { OPERATIONS } from '../../src/s3/operations.js';
import type { BlobStore } from '../../src/store/blob/types.js';
import type { MetaStore } from '../../src/store/meta/types.js';
import { SpaceGuard, isOutOfSpace } from '../../src/store/space.js';
import { BlobGc } from '../../src/workers/gc.js';
import { tempDir } from '../helpers.js';

const log = pino({ level: 'silent' });
const KiB = 1024;

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(code), { code });
}

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('out-of-space errors', () => {
  it('recognises ENOSPC, EDQUOT and SQLITE_FULL, and nothing else', () => {
    assert.ok(isOutOfSpace(errno('ENOSPC')));
    assert.ok(isOutOfSpace(errno('EDQUOT')));
    // better-sqlite3's SqliteError carries the SQLite result code name.
    assert.ok(isOutOfSpace(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' })));
    // node-postgres's DatabaseError carries the SQLSTATE: disk_full.
    assert.ok(isOutOfSpace(Object.assign(new Error('could not extend file'), { code: '53100' })));
    for (const e of [errno('EACCES'), errno('EIO'), Object.assign(new Error('x'), { code: 'SQLITE_IOERR' }), Object.assign(new Error('x'), { code: '53200' }), new S3Error('InternalError'), new Error('x'), undefined, null, 'ENOSPC']) {
      assert.equal(isOutOfSpace(e), false, String(e));
    }
  });

  it('is answered 507 InsufficientStorage, which SDKs do not retry', () => {
    const e = new S3Error('InsufficientStorage');
    assert.equal(e.status, 507);
    assert.match(e.message, /storage is full/);
    assert.equal(ERRORS.InsufficientStorage[0], 507);
  });
});

describe('space settings', () => {
  it('come from flags or TROVE_* variables, in bytes', () => {
    const d = loadConfig([], {});
    assert.equal(d.spaceReserve, DEFAULT_SPACE_RESERVE);
    assert.equal(d.minFree, DEFAULT_MIN_FREE);
    const c = loadConfig(['--min-free', '5000'], { TROVE_SPACE_RESERVE: '0', TROVE_MIN_FREE: '1' });
    assert.equal(c.spaceReserve, 0);
    assert.equal(c.minFree, 5000);
    assert.throws(() => loadConfig(['--space-reserve=-1'], {}), ConfigError);
    assert.throws(() => loadConfig([], { TROVE_MIN_FREE: '1GB' }), ConfigError);
  });
});

describe('operations that consume space', () => {
  const flagged = new Set(OPERATIONS.filter((o) => o.consumesSpace).map((o) => o.name));

  it('are the writes', () => {
    for (const name of [
      'PutObject', 'CopyObject', 'UploadPart', 'UploadPartCopy', 'CreateMultipartUpload', 'CompleteMultipartUpload', 'CreateBucket', 'PostObject',
      'PutObjectTagging', 'PutObjectRetention', 'PutObjectLegalHold', 'PutObjectAcl', 'PutBucketTagging', 'PutBucketVersioning', 'PutObjectLockConfiguration', 'PutBucketPolicy',
    ]) {
      assert.ok(flagged.has(name), name);
    }
  });

  it('never include deletes or reads, so space can always be freed through S3', () => {
    for (const o of OPERATIONS) {
      if (o.method === 'DELETE' || o.method === 'GET' || o.method === 'HEAD' || o.name === 'DeleteObjects') assert.ok(!o.consumesSpace, o.name);
    }
  });
});

describe('SpaceGuard', () => {
  let dir: string;
  let free: number;
  let reads: number;
  const guards: SpaceGuard[] = [];
  const open = async (o: { reserve?: number; minFree?: number; intervalMs?: number } = {}) => {
    const g = await SpaceGuard.open({
      dir,
      reserveBytes: o.reserve ?? 64 * KiB,
      minFreeBytes: o.minFree ?? 100 * KiB,
      log,
      intervalMs: o.intervalMs ?? 60_000,
      freeBytes: async () => {
        reads++;
        return free;
      },
    });
    guards.push(g);
    return g;
  };
  const reserve = () => fs.statSync(path.join(dir, 'reserve'), { throwIfNoEntry: false });

  before(async () => {
    dir = await tempDir();
  });
  after(async () => {
    for (const g of guards) await g.close();
    await fs.promises.rm(dir, { recursive: true, force: true });
  });

  it('creates a reserve of real (non-sparse) bytes and admits writes when there is room for floor and reserve', async () => {
    free = 1000 * KiB;
    const g = await open();
    assert.equal(g.isFull, false);
    const st = reserve()!;
    assert.equal(st.size, 64 * KiB);
    assert.ok(st.blocks * 512 >= st.size, 'blocks are allocated');
    await g.close();
  });

  it('starts full, without creating the reserve, when free space cannot hold floor and reserve; recovers when it can', async () => {
    fs.rmSync(path.join(dir, 'reserve'), { force: true });
    free = 150 * KiB; // above the floor, but not above floor + reserve
    const g = await open();
    assert.equal(g.isFull, true);
    assert.equal(g.admits(), false);
    assert.equal(reserve(), undefined);
    free = 170 * KiB;
    await g.check();
    assert.equal(g.isFull, false);
    assert.equal(reserve()?.size, 64 * KiB);
    await g.close();
  });

  it('adopts what a previous run left of the reserve, but not a sparse file', async () => {
    free = 120 * KiB; // room for the floor only: a new reserve could not be made
    const g = await open();
    assert.equal(g.isFull, false, 'the existing reserve was kept');
    assert.equal(g.reserveHeld, 64 * KiB);
    await g.close();
    fs.truncateSync(path.join(dir, 'reserve'), 8 * KiB);
    const g2 = await open();
    assert.equal(g2.reserveHeld, 8 * KiB);
    assert.equal(g2.isFull, true, 'a partial reserve must be made whole first');
    await g2.close();
    fs.rmSync(path.join(dir, 'reserve'));
    fs.writeFileSync(path.join(dir, 'reserve'), '');
    fs.truncateSync(path.join(dir, 'reserve'), 64 * KiB); // sparse: no blocks
    const g3 = await open();
    assert.equal(g3.reserveHeld, 0);
    assert.equal(reserve(), undefined, 'removed');
    await g3.close();
  });

  it('turns full below the floor and back above it, keeping the reserve', async () => {
    free = 1000 * KiB;
    const g = await open();
    free = 50 * KiB;
    await g.check();
    assert.equal(g.isFull, true);
    assert.equal(reserve()?.size, 64 * KiB, 'kept for the metadata store');
    free = 100 * KiB;
    await g.check();
    assert.equal(g.isFull, false);
    await g.close();
  });

  it('refuses writes at once after an out-of-space error, and admits them again if the reading allows', async () => {
    free = 1000 * KiB;
    const g = await open();
    free = 120 * KiB; // one write was too large, the disk is not below the floor
    g.noteOutOfSpace();
    assert.equal(g.isFull, true);
    assert.equal(g.admits(), false);
    await g.check();
    assert.equal(g.isFull, false);
    assert.equal(g.reserveHeld, 64 * KiB, 'untouched: only the metadata store may use it');
    await g.close();
  });

  it('gives the reserve back slice by slice when the metadata store asks, and recovers only with room for floor and a whole reserve', async () => {
    free = 1000 * KiB;
    const g = await open();
    free = 0;
    g.releaseSlice();
    assert.equal(g.isFull, true);
    assert.equal(reserve()?.size, 56 * KiB, 'an eighth given back, synchronously');
    for (let i = 0; i < 8; i++) g.releaseSlice();
    assert.equal(g.reserveHeld, 0);
    assert.equal(reserve(), undefined);
    free = 163 * KiB;
    await g.check();
    assert.equal(g.isFull, true, 'room for the floor is not enough without the reserve');
    free = 164 * KiB;
    await g.check();
    assert.equal(g.isFull, false);
    assert.equal(reserve()?.size, 64 * KiB, 're-created');
    assert.deepEqual(fs.readdirSync(dir), ['reserve']);
    await g.close();
  });

  it('reads free space at most once per interval while admitting writes', async () => {
    free = 1000 * KiB;
    const g = await open({ intervalMs: 50 });
    reads = 0;
    for (let i = 0; i < 100; i++) assert.equal(g.admits(), true);
    assert.ok(reads <= 1, `${reads} reads`);
    await new Promise((r) => setTimeout(r, 60));
    free = 10 * KiB;
    g.admits(); // stale: refreshed in the background
    await until(() => g.isFull);
    await g.close();
  });

  it('re-checks by itself while full and stops when closed', async () => {
    free = 10 * KiB;
    const g = await open({ intervalMs: 10 });
    assert.equal(g.isFull, true);
    free = 1000 * KiB;
    await until(() => !g.isFull);
    free = 10 * KiB;
    await g.check();
    await g.close();
    reads = 0;
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(reads, 0, 'no timer left running');
  });

  it('never applies a reading taken before an out-of-space error', async () => {
    let gated = false;
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const g = await SpaceGuard.open({
      dir,
      reserveBytes: 0,
      minFreeBytes: 100 * KiB,
      log,
      intervalMs: 60_000,
      freeBytes: async () => {
        const reading = free; // taken now, returned later
        if (gated) await gate;
        return reading;
      },
    });
    guards.push(g);
    free = 1000 * KiB;
    await g.check();
    gated = true;
    const inFlight = g.check(); // reads 1000 KiB, answers after the error below
    free = 10 * KiB;
    g.noteOutOfSpace();
    open();
    await inFlight;
    assert.equal(g.isFull, true, 'the stale reading was read again, not applied');
    await g.close();
  });
});

describe('BlobGc', () => {
  it('retries a failed pass by itself, so garbage does not wait for the next delete', async () => {
    let calls = 0;
    const deleted: string[] = [];
    const meta = {
      async takeGarbage(): Promise<string[]> {
        calls++;
        if (calls === 1) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
        return calls === 2 ? ['a'.repeat(32)] : [];
      },
      async forgetBlobs(): Promise<void> {},
      async tryLease(): Promise<boolean> {
        return true;
      },
      async releaseLease(): Promise<void> {},
    } as unknown as MetaStore;
    const blobs = {
      async delete(id: string): Promise<void> {
        deleted.push(id);
      },
    } as unknown as BlobStore;
    const gc = new BlobGc(meta, blobs, log, { retryMs: 20 });
    gc.kick();
    await until(() => deleted.length === 1);
    await gc.stop();
  });
});
