// Storage policies over several drives: ec 4+2 and replicas 2 on six data directories. Objects
// read correctly with two drives gone or with damaged shards; damage is healed; a replaced (empty)
// drive is rebuilt by the scrubber; a write with a drive missing is acknowledged degraded, one
// below the write quorum refused; a server killed during degraded writes leaves old or new.

import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CompleteMultipartUploadCommand, CreateMultipartUploadCommand, GetObjectCommand, PutObjectCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { ACCESS_KEY, REGION, SECRET_KEY, freePort, startServerProcess, bodyBytes, errorCode, raw, startServer, tempDir, uniqueBucket, type TestServer } from './helpers.js';
import { parseLayout } from '../src/store/blob/policy.js';
import { BLOCK_SIZE } from '../src/store/blob/layout.js';
import type { DrivesBlobStore } from '../src/store/blob/drives.js';

const MAIN = path.join(import.meta.dirname, '..', 'src', 'main.js');

function shardPath(drive: string, id: string): string {
  return path.join(drive, 'blobs', id.slice(0, 2), id);
}

async function makeDrives(n: number): Promise<string[]> {
  const root = await tempDir('trove-drives-');
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const d = path.join(root, `d${i}`);
      await fs.promises.mkdir(d);
      return d;
    }),
  );
}

async function createBucket(server: TestServer, bucket: string, policy?: string): Promise<void> {
  const r = await raw(server, { method: 'PUT', path: `/${bucket}`, headers: policy ? { 'x-trove-storage-policy': policy } : {} });
  assert.equal(r.status, 200, r.text);
}

async function get(s3: S3Client, bucket: string, key: string, range?: string): Promise<Buffer> {
  const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(range ? { Range: range } : {}) }));
  return bodyBytes(r.Body);
}

/** The blob id of an object (single-blob objects) from the metadata. */
async function blobOf(server: TestServer, bucket: string, key: string): Promise<string> {
  const b = (await server.trove.app.meta.getBucket(bucket))!;
  const v = await server.trove.app.meta.getObject(b.id, key);
  assert.ok(v?.blobId, 'object has a blob');
  return v.blobId;
}

const sizes = [100 * 1024, 4 * BLOCK_SIZE, 4 * BLOCK_SIZE + 1, 1024 * 1024 + 7, 3 * 1024 * 1024 + 12345];

describe('storage policies: ec 4+2 and replicas 2 over six drives', () => {
  let server: TestServer;
  let drives: string[];
  let blobs: DrivesBlobStore;
  const bucket = uniqueBucket('ec');
  const rbucket = uniqueBucket('rep');
  const objects = new Map<string, Buffer>();

  before(async () => {
    drives = await makeDrives(6);
    server = await startServer({ dataDirs: drives, scrubIntervalMs: 0, inlineThreshold: 4096 });
    blobs = server.trove.app.blobs as DrivesBlobStore;
    await server.trove.app.storagePolicies.add('ec42', 'ec 4+2');
    await server.trove.app.storagePolicies.add('rep2', 'replicas 2');
    await createBucket(server, bucket, 'ec42');
    await createBucket(server, rbucket, 'rep2');
  });
  after(async () => {
    await server.stop();
    await fs.promises.rm(path.dirname(drives[0]!), { recursive: true, force: true });
  });

  async function restoreDrives(): Promise<void> {
    // Drives removed by a test come back empty (replaced); the scrubber rebuilds them.
    for (const d of drives) if (!fs.existsSync(d)) await fs.promises.mkdir(d);
    for (const d of blobs.drives) d.usable();
    await new Promise((r) => setTimeout(r, 1100));
    for (const d of blobs.drives) d.usable();
    await waitFor(() => blobs.drives.every((d) => d.usable()), 'drives back');
    server.trove.app.storage.request();
    await waitFor(async () => {
      await server.trove.app.storage.idle();
      return blobs.drives.every((d) => !d.needsHeal());
    }, 'rebuild');
  }

  it('reports the policy; refuses unknown ones and ones wider than the drives', async () => {
    const h = await raw(server, { method: 'HEAD', path: `/${bucket}` });
    assert.equal(h.headers['x-trove-storage-policy'], 'ec42');
    const l = await raw(server, { method: 'GET', path: `/${rbucket}` });
    assert.equal(l.headers['x-trove-storage-policy'], 'rep2');
    const plain = uniqueBucket('plain');
    await createBucket(server, plain);
    assert.equal((await raw(server, { method: 'HEAD', path: `/${plain}` })).headers['x-trove-storage-policy'], 'single');
    const bad = await raw(server, { method: 'PUT', path: `/${uniqueBucket('x')}`, headers: { 'x-trove-storage-policy': 'nope' } });
    assert.equal(bad.status, 400);
    assert.equal(errorCode(bad.text), 'InvalidArgument');
    await server.trove.app.storagePolicies.add('wide', 'ec 6+2');
    const wide = await raw(server, { method: 'PUT', path: `/${uniqueBucket('x')}`, headers: { 'x-trove-storage-policy': 'wide' } });
    assert.equal(wide.status, 400);
    await server.trove.app.storagePolicies.remove('wide');
    // A policy in use cannot be removed.
    await assert.rejects(server.trove.app.storagePolicies.remove('ec42'), /uses policy/);
  });

  it('writes shards to six distinct drives and reads whole objects and ranges back', async () => {
    for (const [i, size] of sizes.entries()) {
      const body = randomBytes(size);
      const key = `obj-${i}`;
      objects.set(key, body);
      await server.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      const id = await blobOf(server, bucket, key);
      const layout = parseLayout(id)!;
      assert.deepEqual(layout.spec, { kind: 'ec', k: 4, m: 2 });
      assert.equal(new Set(layout.drives).size, 6);
      for (const d of layout.drives) assert.ok(fs.existsSync(shardPath(drives[d]!, id)), `shard on drive ${d}`);
      assert.ok((await get(server.s3, bucket, key)).equals(body), key);
      for (const [a, b] of [[0, 0], [1, 100], [BLOCK_SIZE - 3, BLOCK_SIZE * 5 + 2], [size - 10, size - 1], [Math.floor(size / 3), Math.floor((2 * size) / 3)]] as const) {
        if (b >= size) continue;
        assert.ok((await get(server.s3, bucket, key, `bytes=${a}-${b}`)).equals(body.subarray(a, b + 1)), `${key} ${a}-${b}`);
      }
    }
    // Multipart: each part is placed on its own.
    const key = 'multipart';
    const parts = [randomBytes(5 * 1024 * 1024), randomBytes(1234567)];
    const up = await server.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const etags = [];
    for (const [i, p] of parts.entries()) etags.push((await server.s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: up.UploadId, PartNumber: i + 1, Body: p }))).ETag);
    await server.s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: up.UploadId, MultipartUpload: { Parts: etags.map((e, i) => ({ ETag: e, PartNumber: i + 1 })) } }));
    objects.set(key, Buffer.concat(parts));
    assert.ok((await get(server.s3, bucket, key)).equals(objects.get(key)!));
    // Replicas: two copies.
    const rbody = randomBytes(700_000);
    await server.s3.send(new PutObjectCommand({ Bucket: rbucket, Key: 'r', Body: rbody }));
    objects.set('rep:r', rbody);
    const rid = await blobOf(server, rbucket, 'r');
    const rl = parseLayout(rid)!;
    assert.equal(rl.drives.length, 2);
    for (const d of rl.drives) assert.equal(fs.readFileSync(shardPath(drives[d]!, rid)).subarray(0, rbody.length).compare(rbody), 0);
  });

  it('reads every object with two drives removed, and a replaced drive is rebuilt', async () => {
    await fs.promises.rm(drives[1]!, { recursive: true });
    await fs.promises.rm(drives[4]!, { recursive: true });
    await new Promise((r) => setTimeout(r, 1100));
    for (const [key, body] of objects) {
      const [b, k] = key.startsWith('rep:') ? [rbucket, key.slice(4)] : [bucket, key];
      // Replicas 2 tolerates one lost drive only: skip a replica whose both copies were removed.
      if (b === rbucket) {
        const l = parseLayout(await blobOf(server, b, k))!;
        if (l.drives.every((d) => d === 1 || d === 4)) continue;
      }
      assert.ok((await get(server.s3, b, k)).equals(body), `${key} with drives 1 and 4 gone`);
      assert.ok((await get(server.s3, b, k, `bytes=${body.length - 70000}-${body.length - 1}`)).equals(body.subarray(body.length - 70000)), key);
    }
    await restoreDrives();
    // Every shard is back: now two other drives can go.
    for (const [key] of objects) {
      if (key.startsWith('rep:')) continue;
      const id = await blobOf(server, bucket, key).catch(() => undefined);
      if (!id) continue;
      for (const d of parseLayout(id)!.drives) assert.ok(fs.existsSync(shardPath(drives[d]!, id)), `${key}: shard on drive ${d} rebuilt`);
    }
    const p = await server.trove.app.storage.progress();
    assert.ok(p?.finishedAt && p.lost === 0, JSON.stringify(p));
    // The scrubber finds damage no read has met: a flipped byte in a parity shard.
    const id = await blobOf(server, bucket, 'obj-3');
    const parityFile = shardPath(drives[parseLayout(id)!.drives[5]!]!, id);
    const original = fs.readFileSync(parityFile);
    const fd = fs.openSync(parityFile, 'r+');
    fs.writeSync(fd, Buffer.from([original[100]! ^ 1]), 0, 1, 100);
    fs.closeSync(fd);
    server.trove.app.storage.request();
    await waitFor(async () => {
      await server.trove.app.storage.idle();
      const q = await server.trove.app.storage.progress();
      return q !== undefined && q.startedAt > p!.startedAt && q.finishedAt !== undefined;
    }, 'scrub pass');
    const q = (await server.trove.app.storage.progress())!;
    assert.equal(q.damaged, 1, JSON.stringify(q));
    assert.equal(q.healed, 1, JSON.stringify(q));
    assert.ok(fs.readFileSync(parityFile).equals(original), 'the scrubber healed the parity shard');
    await fs.promises.rm(drives[0]!, { recursive: true });
    await fs.promises.rm(drives[2]!, { recursive: true });
    await new Promise((r) => setTimeout(r, 1100));
    for (const [key, body] of objects) if (!key.startsWith('rep:')) assert.ok((await get(server.s3, bucket, key)).equals(body), `${key} with drives 0 and 2 gone`);
    await restoreDrives();
  });

  it('serves correct bytes from a shard with flipped bytes, and heals the shard', async () => {
    const key = 'obj-4';
    const body = objects.get(key)!;
    const id = await blobOf(server, bucket, key);
    const layout = parseLayout(id)!;
    // Damage data shard 1 in its second block, and parity shard 0 in its first.
    const victims = [shardPath(drives[layout.drives[1]!]!, id), shardPath(drives[layout.drives[4]!]!, id)];
    const originals = victims.map((f) => fs.readFileSync(f));
    for (const [i, f] of victims.entries()) {
      const fd = fs.openSync(f, 'r+');
      fs.writeSync(fd, Buffer.from([originals[i]![BLOCK_SIZE + 5]! ^ 0xff]), 0, 1, i === 0 ? BLOCK_SIZE + 5 : 17);
      fs.closeSync(fd);
    }
    assert.ok((await get(server.s3, bucket, key)).equals(body));
    // A read that met the damage queued a heal; a read of the data shards only never meets the parity damage, the heal finds it.
    await server.trove.app.engine.idle(['blob.heal']);
    await waitFor(() => victims.every((f, i) => fs.readFileSync(f).equals(originals[i]!)), 'healed shards');
    assert.ok((await get(server.s3, bucket, key)).equals(body));
  });

  it('replicas: reads past a damaged copy and heals it', async () => {
    const body = objects.get('rep:r')!;
    const id = await blobOf(server, rbucket, 'r');
    const files = parseLayout(id)!.drives.map((d) => shardPath(drives[d]!, id));
    const original = fs.readFileSync(files[0]!);
    const fd = fs.openSync(files[0]!, 'r+');
    fs.writeSync(fd, Buffer.from('garbage'), 0, 7, 3 * BLOCK_SIZE + 1);
    fs.closeSync(fd);
    // Whichever replica a read starts with, the bytes are right.
    for (let i = 0; i < 6; i++) assert.ok((await get(server.s3, rbucket, 'r')).equals(body));
    await server.trove.app.engine.idle(['blob.heal']);
    await waitFor(() => fs.readFileSync(files[0]!).equals(original), 'healed replica');
  });

  it('refuses a write below the write quorum; acknowledges one with a drive missing as degraded', async () => {
    const body = randomBytes(2 * 1024 * 1024 + 3);
    // Three of six drives unavailable (moved away, then back with their shards): ec 4+2 needs four.
    for (const d of [0, 3, 5]) await fs.promises.rename(drives[d]!, drives[d]! + '.away');
    await new Promise((r) => setTimeout(r, 1100));
    const refused = await raw(server, { method: 'PUT', path: `/${bucket}/refused`, body });
    assert.equal(refused.status, 503, refused.text);
    assert.equal(errorCode(refused.text), 'ServiceUnavailable');
    for (const d of [0, 3, 5]) await fs.promises.rename(drives[d]! + '.away', drives[d]!);
    await new Promise((r) => setTimeout(r, 1100));
    await waitFor(() => blobs.drives.every((d) => d.usable()), 'drives back');
    // One drive gone: the write is acknowledged with five shards, and says so.
    await fs.promises.rm(drives[3]!, { recursive: true });
    await new Promise((r) => setTimeout(r, 1100));
    const put = await raw(server, { method: 'PUT', path: `/${bucket}/degraded`, body });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.headers['x-trove-degraded'], '1');
    assert.ok((await get(server.s3, bucket, 'degraded')).equals(body));
    // The drive replaced: the scrubber writes the missing shard.
    await restoreDrives();
    const id = await blobOf(server, bucket, 'degraded');
    for (const d of parseLayout(id)!.drives) assert.ok(fs.existsSync(shardPath(drives[d]!, id)), `degraded write's shard on drive ${d} rebuilt`);
    assert.ok((await get(server.s3, bucket, 'degraded')).equals(body));
    const p = await server.trove.app.storage.progress();
    assert.equal(p?.lost, 0, JSON.stringify(p));
  });

  it('trove admin drive shows the drives and the scrubber; admin policy lists', async () => {
    const env = { ...process.env, TROVE_DATA_DIRS: drives.join(',') };
    const meta = server.trove.app.config.metaUrl ? ['--meta', server.trove.app.config.metaUrl] : [];
    const d = spawnSync(process.execPath, [MAIN, 'admin', 'drive', '--data-dir', server.dataDir, ...meta], { env, encoding: 'utf8' });
    assert.equal(d.status, 0, d.stderr);
    for (const dir of drives) assert.match(d.stdout, new RegExp(`ok .*${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(d.stdout, /scrub \(.*finished/);
    const l = spawnSync(process.execPath, [MAIN, 'admin', 'policy', 'list', '--data-dir', server.dataDir, ...meta], { env, encoding: 'utf8' });
    assert.equal(l.status, 0, l.stderr);
    assert.match(l.stdout, /ec42\s+ec 4\+2\s+6\s+4\s+2\s+1\.50x/);
    assert.match(l.stdout, /rep2\s+replicas 2\s+2\s+2\s+1\s+2\.00x/);
  });
});

async function waitFor(cond: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}


function startProcess(dataDir: string, drives: string[], port: number): Promise<ChildProcess> {
  return startServerProcess(dataDir, port, ['--data-dirs', drives.join(','), '--orphan-grace', '1', '--scrub-interval', '0']);
}

describe('storage policies: kill -9 during degraded writes', () => {
  it('leaves each object old or new, never torn', { skip: process.env.TROVE_TEST_META === 'postgres' }, async () => {
    const dataDir = await tempDir();
    const drives = await makeDrives(6);
    const port = await freePort();
    const admin = spawnSync(process.execPath, [MAIN, 'admin', 'policy', 'add', 'ec42', 'ec 4+2', '--data-dir', dataDir], { encoding: 'utf8' });
    assert.equal(admin.status, 0, admin.stderr);
    assert.equal(spawnSync(process.execPath, [MAIN, 'admin', 'policy', 'default', 'ec42', '--data-dir', dataDir], { encoding: 'utf8' }).status, 0);
    let child = await startProcess(dataDir, drives, port);
    const s3 = new S3Client({ endpoint: `http://127.0.0.1:${port}`, region: REGION, forcePathStyle: true, credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, maxAttempts: 1 });
    const bucket = 'crash';
    try {
      await fetchOk(port, bucket);
      const keys = Array.from({ length: 6 }, (_, i) => `k${i}`);
      const bodies = new Map<string, Set<string>>();
      const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
      for (const k of keys) {
        const b = randomBytes(1024 * 1024 + 17);
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: b }));
        bodies.set(k, new Set([md5(b)]));
      }
      // One drive gone: every write from now on is degraded.
      await fs.promises.rm(drives[2]!, { recursive: true });
      await new Promise((r) => setTimeout(r, 1200));
      const writes = keys.map(async (k) => {
        for (let i = 0; i < 50; i++) {
          const b = randomBytes(2 * 1024 * 1024 + i);
          bodies.get(k)!.add(md5(b));
          await s3.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: b }));
        }
      });
      await new Promise((r) => setTimeout(r, 1500));
      child.kill('SIGKILL');
      await Promise.allSettled(writes);
      child = await startProcess(dataDir, drives, port);
      for (const k of keys) {
        const got = await bodyBytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: k }))).Body);
        assert.ok(bodies.get(k)!.has(md5(got)), `${k}: the bytes are one of the versions written`);
      }
    } finally {
      s3.destroy();
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      await fs.promises.rm(dataDir, { recursive: true, force: true });
      await fs.promises.rm(path.dirname(drives[0]!), { recursive: true, force: true });
    }
  });
});

async function fetchOk(port: number, bucket: string): Promise<void> {
  const r = await raw({ port } as TestServer, { method: 'PUT', path: `/${bucket}` });
  assert.equal(r.status, 200, r.text);
}
