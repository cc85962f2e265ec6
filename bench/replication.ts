// Replication throughput between two Trove servers (issue 13): objects/s and MB/s for 4 KiB and
// 1 MiB objects.
//
//   npx tsc -p . && node dist/bench/replication.js [--small 2000] [--large 200] [--port 8770] [--concurrency 32]
//        [--sse AES256|aws:kms] [--rounds small,large,small-live,large-live]
//
// Two servers (their own processes, one worker each, SQLite, fsync on) on ports --port and
// --port+1. The source bucket is filled first, without replication; then a rule is put and
// `trove admin replication resync` queues every version at once, and the clock runs from there
// until the destination lists them all: the engine's replication alone (--replication-concurrency
// versions at a time, default 32), not the client's writes. The `-live` rounds put the rule
// first and time from the first client write (16 at a time) until the destination has the last.
// --sse writes the objects encrypted (SSE-S3, or SSE-KMS with a key `bench-key` on both servers
// and a rule selecting SSE-KMS objects): replication decrypts them and the destination encrypts
// them again. Each round also reports the CPU time the two server processes spent per object
// (/proc/<pid>/stat: utime + stime), which the load of a shared machine barely changes.

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
const SSE = args.get('sse') as 'AES256' | 'aws:kms' | undefined;
const ROUNDS = new Set((args.get('rounds') ?? 'small,large,small-live,large-live').split(','));
const MASTER = '00'.repeat(32);
const KEY = 'BENCHREPLICATION0001';
const SECRET = 'bench/replication/secret/000000000000001';
const MAIN = path.resolve(import.meta.dirname, '../src/main.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function server(port: number, dataDir: string): ChildProcess {
  return spawn(process.execPath, [MAIN, 'server', '--address', `127.0.0.1:${port}`, '--data-dir', dataDir, '--workers', '1', '--replication-concurrency', CONCURRENCY, '--root-access-key', KEY, '--root-secret-key', SECRET], {
    env: { ...process.env, TROVE_LOG_LEVEL: 'warn', ...(SSE ? { TROVE_MASTER_KEY: MASTER } : {}) },
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

/** CPU time (ms) a process has used so far (user + system). */
function cpuMs(pid: number | undefined): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

let servers: ChildProcess[] = [];

async function round(src: S3Client, dst: S3Client, srcDir: string, name: string, objects: number, size: number, live = false): Promise<void> {
  if (!ROUNDS.has(name)) return;
  const bucket = `src-${name}`;
  const dest = `dst-${name}`;
  for (const [s3, b] of [[src, bucket], [dst, dest]] as const) {
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
  }
  const body = Buffer.alloc(size, 7);
  const sse = SSE === 'aws:kms' ? { ServerSideEncryption: SSE, SSEKMSKeyId: 'bench-key' } : SSE ? { ServerSideEncryption: SSE } : {};
  const writeAll = () => parallel(objects, 16, (i) => src.send(new PutObjectCommand({ Bucket: bucket, Key: `o/${String(i).padStart(6, '0')}`, Body: body, ...sse })));
  if (!live) await writeAll();
  execFileSync(process.execPath, [MAIN, 'admin', 'remote', 'add', `to-${dest}`, '--endpoint', `http://127.0.0.1:${PORT + 1}`, '--access-key', KEY, '--secret-key', SECRET, '--buckets', dest, '--data-dir', srcDir]);
  await src.send(
    new PutBucketReplicationCommand({
      Bucket: bucket,
      ReplicationConfiguration: { Role: 'arn:aws:iam::000000000000:role/r', Rules: [
          {
            ID: 'all',
            Priority: 1,
            Status: 'Enabled',
            Filter: { Prefix: '' },
            DeleteMarkerReplication: { Status: 'Disabled' },
            Destination: { Bucket: `arn:aws:s3:::${dest}`, ...(SSE === 'aws:kms' ? { EncryptionConfiguration: { ReplicaKmsKeyID: 'bench-key' } } : {}) },
            ...(SSE === 'aws:kms' ? { SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: 'Enabled' } } } : {}),
          },
        ] },
    }),
  );
  const t0 = Date.now();
  const cpu0 = servers.map((p) => cpuMs(p.pid));
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
  const cpu = servers.map((p, i) => ((cpuMs(p.pid) - cpu0[i]!) / objects).toFixed(2));
  const s = (end - t0) / 1000;
  const lag = live ? `; writes took ${((written - t0) / 1000).toFixed(2)} s, the last was replicated ${((end - written) / 1000).toFixed(2)} s after` : '';
  console.log(`${name}: ${objects} objects of ${size} bytes replicated in ${s.toFixed(2)} s: ${(objects / s).toFixed(0)} objects/s, ${((objects * size) / s / 1e6).toFixed(1)} MB/s${lag}; CPU per object: source ${cpu[0]} ms, destination ${cpu[1]} ms${live ? ' (the source includes the client writes)' : ''}`);
}

async function main(): Promise<void> {
  const srcDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trove-bench-repl-src-'));
  const dstDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trove-bench-repl-dst-'));
  servers = [server(PORT, srcDir), server(PORT + 1, dstDir)];
  const src = client(PORT);
  const dst = client(PORT + 1);
  try {
    await ready(src);
    await ready(dst);
    if (SSE === 'aws:kms') for (const dir of [srcDir, dstDir]) execFileSync(process.execPath, [MAIN, 'admin', 'kms', 'create', '--id', 'bench-key', '--data-dir', dir], { env: { ...process.env, TROVE_MASTER_KEY: MASTER } });
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
