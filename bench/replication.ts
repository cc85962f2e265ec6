// Replication throughput between two Trove servers (issue 13): objects/s and MB/s for 4 KiB and
// 1 MiB objects.
//
//   npx tsc -p . && node dist/bench/replication.js [--small 2000] [--large 200] [--port 8770] [--concurrency 32]
//
// Two servers (their own processes, one worker each, SQLite, fsync on) on ports --port and
// --port+1. The source bucket is filled first, without replication; then a rule is put and
// `trove admin replication resync` queues every version at once, and the clock runs from there
// until the destination lists them all: the engine's replication alone (--replication-concurrency
// versions at a time, default 32), not the client's writes. The `-live` rounds put the rule
// first and time from the first client write (16 at a time) until the destination has the last.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, ListObjectsV2Command, PutBucketReplicationCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const SMALL = Number(args.get('small') ?? 2000);
const LARGE = Number(args.get('large') ?? 200);
const PORT = Number(args.get('port') ?? 8770);
const CONCURRENCY = args.get('concurrency') ?? '32';
const KEY = 'BENCHREPLICATION0001';
const SECRET = 'bench/replication/secret/000000000000001';
const MAIN = path.resolve(import.meta.dirname, '../src/main.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function server(port: number, dataDir: string): ChildProcess {
  return spawn(process.execPath, [MAIN, 'server', '--address', `127.0.0.1:${port}`, '--data-dir', dataDir, '--workers', '1', '--replication-concurrency', CONCURRENCY, '--root-access-key', KEY, '--root-secret-key', SECRET], {
    env: { ...process.env, TROVE_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

function client(port: number): S3Client {
  return new S3Client({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: KEY, secretAccessKey: SECRET }, requestChecksumCalculation: 'WHEN_REQUIRED' });
}

async function ready(s3: S3Client): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      await s3.send(new ListObjectsV2Command({ Bucket: 'none' }));
      return;
    } catch (e) {
      if ((e as { name?: string }).name === 'NoSuchBucket') return;
      await sleep(100);
    }
  }
}

async function parallel(n: number, width: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < n) await fn(next++);
  }));
}

async function count(s3: S3Client, bucket: string, prefix: string): Promise<number> {
  let n = 0;
  let token: string | undefined;
  do {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    n += r.KeyCount ?? 0;
    token = r.NextContinuationToken;
  } while (token);
  return n;
}

async function round(src: S3Client, dst: S3Client, srcDir: string, name: string, objects: number, size: number, live = false): Promise<void> {
  const bucket = `src-${name}`;
  const dest = `dst-${name}`;
  for (const [s3, b] of [[src, bucket], [dst, dest]] as const) {
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
  }
  const body = Buffer.alloc(size, 7);
  const writeAll = () => parallel(objects, 16, (i) => src.send(new PutObjectCommand({ Bucket: bucket, Key: `o/${String(i).padStart(6, '0')}`, Body: body })));
  if (!live) await writeAll();
  execFileSync(process.execPath, [MAIN, 'admin', 'remote', 'add', `to-${dest}`, '--endpoint', `http://127.0.0.1:${PORT + 1}`, '--access-key', KEY, '--secret-key', SECRET, '--buckets', dest, '--data-dir', srcDir]);
  await src.send(
    new PutBucketReplicationCommand({
      Bucket: bucket,
      ReplicationConfiguration: { Role: 'arn:aws:iam::000000000000:role/r', Rules: [{ ID: 'all', Priority: 1, Status: 'Enabled', Filter: { Prefix: '' }, DeleteMarkerReplication: { Status: 'Disabled' }, Destination: { Bucket: `arn:aws:s3:::${dest}` } }] },
    }),
  );
  const t0 = Date.now();
  let written = 0;
  if (live) {
    // Replication while clients write (16 at a time): from the first write until the last is there.
    await writeAll();
    written = Date.now();
  } else {
    execFileSync(process.execPath, [MAIN, 'admin', 'replication', 'resync', bucket, '--data-dir', srcDir]);
  }
  while ((await count(dst, dest, 'o/')) < objects) await sleep(200);
  const end = Date.now();
  const s = (end - t0) / 1000;
  const lag = live ? `; writes took ${((written - t0) / 1000).toFixed(2)} s, the last was replicated ${((end - written) / 1000).toFixed(2)} s after` : '';
  console.log(`${name}: ${objects} objects of ${size} bytes replicated in ${s.toFixed(2)} s: ${(objects / s).toFixed(0)} objects/s, ${((objects * size) / s / 1e6).toFixed(1)} MB/s${lag}`);
}

async function main(): Promise<void> {
  const srcDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trove-bench-repl-src-'));
  const dstDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trove-bench-repl-dst-'));
  const servers = [server(PORT, srcDir), server(PORT + 1, dstDir)];
  const src = client(PORT);
  const dst = client(PORT + 1);
  try {
    await ready(src);
    await ready(dst);
    await round(src, dst, srcDir, 'small', SMALL, 4096);
    await round(src, dst, srcDir, 'large', LARGE, 1024 * 1024);
    await round(src, dst, srcDir, 'small-live', SMALL, 4096, true);
    await round(src, dst, srcDir, 'large-live', LARGE, 1024 * 1024, true);
  } finally {
    src.destroy();
    dst.destroy();
    for (const s of servers) s.kill('SIGTERM');
    await sleep(1000);
    fs.rmSync(srcDir, { recursive: true, force: true });
    fs.rmSync(dstDir, { recursive: true, force: true });
  }
}

await main();
