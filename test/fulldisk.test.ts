// A full disk, for real: a small tmpfs holds the data directory of a real server driven by the
// AWS SDK, and of a bare metadata store. Mounting needs root (CI runs as root); skipped otherwise.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { pino } from 'pino';
import { SqliteMetaStore } from '../src/store/meta/sqlite/index.js';
import { SpaceGuard } from '../src/store/space.js';
import type { Bucket, ObjectContent } from '../src/store/meta/types.js';
import { DEFAULT_INLINE_THRESHOLD } from '../src/config.js';
import { bodyBytes, countBlobFiles, errorCode, s3error, signer, startServer, tempDir, tempFiles, type TestServer } from './helpers.js';

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

async function until<T>(what: string, attempt: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await attempt();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

/** The call fails with 507 InsufficientStorage, at the first attempt (the SDK does not retry it). */
async function insufficientStorage(p: Promise<unknown>): Promise<void> {
  const e = await s3error(p);
  assert.equal(e.$metadata.httpStatusCode, 507, `${e.name}: ${e.message}`);
  assert.equal(e.name, 'InsufficientStorage');
  assert.match(e.message, /storage is full/);
  assert.equal(e.$metadata.attempts, 1);
}

describe('a server whose disk fills up', { skip: SKIP }, () => {
  let mnt: string | undefined;
  let server: TestServer | undefined;
  let dataDir: string;
  const bucket = 'full';
  /** Every acknowledged object still expected to exist: key → MD5 of its bytes, and whether it is a blob file. */
  const acked = new Map<string, string>();
  const blobKeys = new Set<string>();
  let uploadId: string;

  const s3 = () => server!.s3;
  const put = async (key: string, body: Buffer) => {
    await s3().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    acked.set(key, md5(body));
    if (body.length > DEFAULT_INLINE_THRESHOLD) blobKeys.add(key);
  };
  const tmpFiles = () => tempFiles(dataDir);

  before(async () => {
    mnt = await mountTmpfs(24 * MiB);
    dataDir = path.join(mnt, 'data');
    server = await startServer({ dataDir, spaceReserve: MiB, minFree: 2 * MiB });
    await s3().send(new CreateBucketCommand({ Bucket: bucket }));
    await s3().send(new CreateBucketCommand({ Bucket: 'spare' }));
    uploadId = (await s3().send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mpu' }))).UploadId!;
    await s3().send(new UploadPartCommand({ Bucket: bucket, Key: 'mpu', UploadId: uploadId, PartNumber: 1, Body: randomBytes(MiB) }));
  });

  after(async () => {
    await server?.stop();
    if (mnt) await unmount(mnt);
  });

  it('answers 507 InsufficientStorage, not 500, to a write that runs out of space mid-body, and removes its temp file', async () => {
    await put('before', randomBytes(300 * KiB));
    // Admitted (plenty of room when it starts), then larger than the whole disk.
    await insufficientStorage(s3().send(new PutObjectCommand({ Bucket: bucket, Key: 'too-big', Body: randomBytes(30 * MiB) })));
    assert.deepEqual(tmpFiles(), []);
    const head = await s3error(s3().send(new HeadObjectCommand({ Bucket: bucket, Key: 'too-big' })));
    assert.equal(head.$metadata.httpStatusCode, 404);
    // That failure was one write too large, not a full disk: writes resume by themselves.
    await until('writes to resume', () => put('after', Buffer.from('x')).then(() => true, () => undefined));
  });

  it('fills up: every failed write is 507, and then writes are refused before their body is read', async () => {
    let failures = 0;
    for (let i = 0; failures < 3; i++) {
      // Small objects live inline in SQLite, larger ones are blob files.
      const body = randomBytes(i % 2 === 0 ? 100 * KiB : MiB);
      try {
        await put(`obj-${i}`, body);
      } catch (e) {
        failures++;
        await insufficientStorage(Promise.reject(e));
      }
      assert.ok(i < 200, 'the disk never filled up');
    }
    await until('the full state', async () => (server!.trove.app.space.isFull ? true : undefined));

    // Refused up front: a client waiting for 100-continue is answered 507 without sending a byte.
    const r = await putExpectingContinue(server!, `/${bucket}/refused`, randomBytes(MiB));
    assert.equal(r.status, 507);
    assert.equal(r.continued, false, 'the body was never asked for');
    assert.equal(errorCode(r.text), 'InsufficientStorage');

    await insufficientStorage(s3().send(new PutObjectCommand({ Bucket: bucket, Key: 'refused', Body: 'x' })));
    await insufficientStorage(s3().send(new UploadPartCommand({ Bucket: bucket, Key: 'mpu', UploadId: uploadId, PartNumber: 2, Body: randomBytes(KiB) })));
    await insufficientStorage(s3().send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mpu2' })));
    await insufficientStorage(s3().send(new CreateBucketCommand({ Bucket: 'another' })));
    await insufficientStorage(s3().send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'before', Tagging: { TagSet: [{ Key: 'k', Value: 'v' }] } })));
    assert.deepEqual(tmpFiles(), []);
  });

  it('keeps DeleteObject, DeleteObjects, AbortMultipartUpload, DeleteBucket and reads working on a disk full to the last byte', async () => {
    // Another process takes what is left: from here on not a byte is free but the reserve.
    fillUp(path.join(mnt!, 'filler'));
    const keys = [...acked.keys()].filter((k) => k.startsWith('obj-'));
    assert.ok(keys.length >= 6, `only ${keys.length} objects were written`);
    await s3().send(new DeleteObjectCommand({ Bucket: bucket, Key: keys[0] }));
    acked.delete(keys[0]!);
    const res = await s3().send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: keys[1] }, { Key: keys[2] }] } }));
    assert.equal(res.Errors, undefined);
    assert.equal(res.Deleted?.length, 2);
    acked.delete(keys[1]!);
    acked.delete(keys[2]!);
    await s3().send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'mpu', UploadId: uploadId }));
    await s3().send(new DeleteBucketCommand({ Bucket: 'spare' }));
    assert.equal(server!.trove.app.space.isFull, true, 'still full: nothing freed enough yet');
    // Reads need no space: every acknowledged object is served intact.
    for (const [key, sum] of acked) {
      const o = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      assert.equal(md5(await bodyBytes(o.Body)), sum, key);
    }
  });

  it('accepts writes again, without a restart, once enough is deleted', async () => {
    const large = [...acked.keys()].filter((k) => /^obj-\d*[13579]$/.test(k));
    for (const key of large.slice(0, Math.ceil(large.length / 2))) {
      await s3().send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      acked.delete(key);
    }
    const body = randomBytes(512 * KiB);
    await until('a write to succeed', () =>
      put('after-recovery', body).then(
        () => true,
        async (e: unknown) => {
          await insufficientStorage(Promise.reject(e));
          return undefined;
        },
      ),
    );
    assert.equal(server!.trove.app.space.isFull, false);
    assert.equal(fs.statSync(path.join(dataDir, 'reserve')).size, MiB, 'the reserve is back');
    for (const [key, sum] of acked) {
      const o = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      assert.equal(md5(await bodyBytes(o.Body)), sum, key);
    }
    assert.deepEqual(tmpFiles(), []);
    // No blob file outlives its object: failed writes left none behind, deleted ones were collected.
    await server!.trove.app.gc.drain();
    assert.equal(countBlobFiles(dataDir), [...acked.keys()].filter((k) => blobKeys.has(k)).length);
  });
});

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

/** PUTs with Expect: 100-continue, sending the body only if the server asks for it. */
async function putExpectingContinue(server: TestServer, p: string, body: Buffer): Promise<{ status: number; continued: boolean; text: string }> {
  const headers = { host: `127.0.0.1:${server.port}`, 'content-length': String(body.length), expect: '100-continue', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' };
  const signed = await signer().sign({ method: 'PUT', protocol: 'http:', hostname: '127.0.0.1', port: server.port, path: p, query: {}, headers });
  return new Promise((resolve, reject) => {
    let continued = false;
    const req = http.request({ host: '127.0.0.1', port: server.port, method: 'PUT', path: p, headers: signed.headers, agent: false });
    req.on('continue', () => {
      continued = true;
      req.end(body);
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, continued, text: Buffer.concat(chunks).toString() });
      });
    });
    req.on('error', reject);
    req.flushHeaders();
  });
}
