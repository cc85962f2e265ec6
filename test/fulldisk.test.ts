// A full disk, for real: a small tmpfs holds a bare metadata store. Mounting needs root (CI runs
// as root); skipped otherwise.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { SqliteMetaStore } from '../src/store/meta/sqlite.js';
import { SpaceGuard } from '../src/store/space.js';
import type { Bucket, ObjectContent } from '../src/store/meta/types.js';
import { tempDir } from './helpers.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const SKIP = process.getuid?.() === 0 ? false : 'mounting a tmpfs needs root (CI runs as root)';

/** Mounts a tmpfs of `bytes` on a new temporary directory. */
async function mountTmpfs(bytes: number): Promise<string> {
  const dir = await tempDir('trove-fulldisk-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir]);
  } catch (e) {
    await fs.promises.rmdir(dir);
    throw e;
  }
  return dir;
}

async function unmount(dir: string): Promise<void> {
  try {
    execFileSync('umount', [dir]);
  } catch {
    execFileSync('umount', ['-l', dir]);
  }
  await fs.promises.rmdir(dir);
}

/** Fills the filesystem holding `file` to the last byte, as another process might. */
function fillUp(file: string): void {
  const fd = fs.openSync(file, 'a');
  try {
    for (const size of [MiB, 4 * KiB, 512]) {
      const b = Buffer.alloc(size, 7);
      try {
        for (;;) fs.writeSync(fd, b);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  assert.equal(fs.statfsSync(path.dirname(file)).bavail, 0);
}

describe('the metadata store on a disk filled to the last byte by another process', { skip: SKIP }, () => {
  let mnt: string | undefined;
  let meta: SqliteMetaStore | undefined;
  let space: SpaceGuard | undefined;
  let bucket: Bucket;
  let fulls = 0;
  const checkpoints: (Error | undefined)[] = [];
  const content = (bytes: number): ObjectContent => ({
    size: bytes,
    etag: 'e',
    lastModified: Date.now(),
    owner: 'u',
    storageClass: 'STANDARD',
    headers: {},
    userMeta: {},
    inline: randomBytes(bytes),
  });

  before(async () => {
    mnt = await mountTmpfs(4 * MiB);
  });
  after(async () => {
    await meta?.close();
    await space?.close();
    if (mnt) await unmount(mnt);
  });

  it('commits deletes batched with a write that does not fit, with a slice of the reserve, and stays usable', async () => {
    space = await SpaceGuard.open({ dir: mnt!, reserveBytes: 512 * KiB, minFreeBytes: 0, log: pino({ level: 'silent' }) });
    // No checkpoints until close: every commit appends to the WAL, so every commit needs space.
    meta = await SqliteMetaStore.open({
      dir: path.join(mnt!, 'meta'),
      fsync: true,
      checkpointIntervalMs: 3_600_000,
      onFull: () => {
        fulls++;
        space!.releaseSlice();
      },
      onCheckpoint: (e) => checkpoints.push(e),
    });
    bucket = await meta.createBucket({ name: 'b', owner: 'u', createdAt: Date.now(), region: 'us-east-1', versioning: 'Unversioned', objectLock: false });
    for (const k of ['a', 'b', 'c']) await meta.putObject(bucket.id, k, content(100 * KiB));
    fillUp(path.join(mnt!, 'filler'));

    // One batch: a write larger than the reserve, and two deletes.
    const [big, delA, delB] = await Promise.allSettled([
      meta.putObject(bucket.id, 'big', content(MiB)),
      meta.deleteObject(bucket.id, 'a', { now: Date.now() }),
      meta.deleteObject(bucket.id, 'b', { now: Date.now() }),
    ]);
    assert.equal(fulls, 1);
    assert.equal(space.reserveHeld, 448 * KiB, 'one slice was enough');
    assert.equal(big.status, 'rejected');
    assert.equal((big as PromiseRejectedResult).reason.code, 'SQLITE_FULL');
    assert.equal(delA.status, 'fulfilled', String((delA as PromiseRejectedResult).reason));
    assert.equal(delB.status, 'fulfilled', String((delB as PromiseRejectedResult).reason));
    assert.equal(await meta.getObject(bucket.id, 'a'), undefined);
    assert.equal(await meta.getObject(bucket.id, 'big'), undefined);
    assert.equal((await meta.getObject(bucket.id, 'c'))?.size, 100 * KiB);

    // Not failed: with room again, writes work.
    fs.rmSync(path.join(mnt!, 'filler'));
    await meta.putObject(bucket.id, 'd', content(10 * KiB));
  });

  it('reports a checkpoint that fails for lack of space, and closes normally', async () => {
    fillUp(path.join(mnt!, 'filler'));
    await meta!.close(); // the last checkpoint cannot grow the database file
    meta = undefined;
    assert.equal(checkpoints.length, 1);
    assert.equal((checkpoints[0] as Error & { code?: string }).code, 'SQLITE_FULL');
    fs.rmSync(path.join(mnt!, 'filler'));
    meta = await SqliteMetaStore.open({ dir: path.join(mnt!, 'meta'), fsync: true });
    assert.equal(await meta.getObject(bucket.id, 'b'), undefined);
    assert.equal((await meta.getObject(bucket.id, 'c'))?.size, 100 * KiB);
    assert.equal((await meta.getObject(bucket.id, 'd'))?.size, 10 * KiB);
  });
});
