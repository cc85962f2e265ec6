// Storage policies against the single-directory default, in one run (issue 14): PUT and GET of
// 1 MiB and 256 MiB objects into buckets of policy `single` (one file in --data-dir), `replicas 2`
// and `ec 4+2` (six drives: directories on the same disk here), on one server process.
//
//   npx tsc -p . && node dist/bench/storage.js [--port 9450] [--small 64] [--large 2] [--rounds 3] [--no-fsync]
//
// For each phase it reports the wall-clock rate and the server's CPU-seconds per MiB (utime +
// stime of the server process, all threads, from /proc: libuv's pool, where fsync and the
// Reed-Solomon coding run, included), and each policy's ratio to `single`. On a shared machine
// trust the CPU figures; the rates need a quiet one. The policies take turns within each round
// (single, rep2, ec42, then the reverse) so that drift cancels; medians over rounds.

import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { cpuTicks } from './lib/procfs.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i]!.replace(/^--/, '');
  if (a === 'no-fsync') args.set(a, '1');
  else args.set(a, process.argv[++i] ?? '');
}
const PORT = Number(args.get('port') ?? 9450);
const SMALL = Number(args.get('small') ?? 64);
const LARGE = Number(args.get('large') ?? 2);
const ROUNDS = Number(args.get('rounds') ?? 3);
const KEY = 'BENCHSTORAGE00000001';
const SECRET = 'bench/storage/secret/00000000000000000001';
const MAIN = path.resolve(import.meta.dirname, '../src/main.js');
const TICK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
const MiB = 1024 * 1024;
const POLICIES = ['single', 'rep2', 'ec42'] as const;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function parallel(n: number, width: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < n) await fn(next++);
  }));
}

interface Figure {
  mibps: number;
  cpuPerMiB: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'trove-bench-storage-'));
  const dataDir = path.join(root, 'data');
  const drives = Array.from({ length: 6 }, (_, i) => path.join(root, `drive${i}`));
  for (const d of drives) fs.mkdirSync(d, { recursive: true });
  const admin = (...a: string[]) => execFileSync(process.execPath, [MAIN, 'admin', ...a, '--data-dir', dataDir]);
  admin('policy', 'add', 'rep2', 'replicas 2');
  admin('policy', 'add', 'ec42', 'ec 4+2');
  const child = spawn(
    process.execPath,
    [MAIN, 'server', '--address', `127.0.0.1:${PORT}`, '--data-dir', dataDir, '--data-dirs', drives.join(','), '--workers', '1', '--scrub-interval', '0', '--root-access-key', KEY, '--root-secret-key', SECRET, ...(args.has('no-fsync') ? ['--no-fsync'] : [])],
    { env: { ...process.env, TROVE_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const s3 = new S3Client({ endpoint: `http://127.0.0.1:${PORT}`, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: KEY, secretAccessKey: SECRET }, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED', maxAttempts: 1 });
  try {
    for (let i = 0; i < 100; i++) {
      try {
        await s3.send(new ListObjectsV2Command({ Bucket: 'none' }));
        break;
      } catch (e) {
        if ((e as { name?: string }).name === 'NoSuchBucket') break;
        await sleep(100);
      }
    }
    // The policy is chosen at creation, with the x-trove-storage-policy header.
    await s3.send(new CreateBucketCommand({ Bucket: 'b-single' }));
    for (const p of POLICIES) {
      if (p === 'single') continue;
      const c = new S3Client({ endpoint: `http://127.0.0.1:${PORT}`, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: KEY, secretAccessKey: SECRET } });
      c.middlewareStack.add(
        (next) => async (a) => {
          (a.request as { headers: Record<string, string> }).headers['x-trove-storage-policy'] = p;
          return next(a);
        },
        { step: 'build' },
      );
      await c.send(new CreateBucketCommand({ Bucket: `p-${p}` }));
      c.destroy();
    }
    const bucketOf = (p: string) => (p === 'single' ? 'b-single' : `p-${p}`);
    const results = new Map<string, Figure[]>();
    const phase = async (name: string, p: string, mib: number, fn: () => Promise<void>) => {
      const c0 = cpuTicks(child.pid!);
      const t0 = process.hrtime.bigint();
      await fn();
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      const cpu = (cpuTicks(child.pid!) - c0) / TICK;
      const key = `${name} ${p}`;
      results.set(key, [...(results.get(key) ?? []), { mibps: mib / s, cpuPerMiB: cpu / mib }]);
    };
    const small = Buffer.alloc(MiB, 'a');
    const large = Buffer.alloc(256 * MiB);
    for (let i = 0; i < large.length; i += 4096) large.writeUInt32LE(i, i);
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? [...POLICIES] : [...POLICIES].reverse();
      for (const p of order) {
        const b = bucketOf(p);
        await phase('PUT 1MiB', p, SMALL, () => parallel(SMALL, 8, (i) => s3.send(new PutObjectCommand({ Bucket: b, Key: `s/${i}`, Body: small }))));
        await phase('GET 1MiB', p, SMALL, () => parallel(SMALL, 8, async (i) => {
          const o = await s3.send(new GetObjectCommand({ Bucket: b, Key: `s/${i}` }));
          for await (const _ of o.Body as AsyncIterable<Buffer>) void _;
        }));
        await phase('PUT 256MiB', p, 256 * LARGE, () => parallel(LARGE, 2, (i) => s3.send(new PutObjectCommand({ Bucket: b, Key: `l/${i}`, Body: large }))));
        await phase('GET 256MiB', p, 256 * LARGE, () => parallel(LARGE, 2, async (i) => {
          const o = await s3.send(new GetObjectCommand({ Bucket: b, Key: `l/${i}` }));
          for await (const _ of o.Body as AsyncIterable<Buffer>) void _;
        }));
      }
    }
    console.log(`server CPU-seconds per MiB and MiB/s (medians of ${ROUNDS} rounds; ${SMALL}×1 MiB, ${LARGE}×256 MiB per round; fsync ${args.has('no-fsync') ? 'off' : 'on'})`);
    console.log(`${'phase'.padEnd(12)} ${'policy'.padEnd(7)} ${'MiB/s'.padStart(8)} ${'ratio'.padStart(6)} ${'cpu-s/MiB'.padStart(10)} ${'ratio'.padStart(6)}`);
    for (const name of ['PUT 1MiB', 'GET 1MiB', 'PUT 256MiB', 'GET 256MiB']) {
      const base = results.get(`${name} single`)!;
      const bm = median(base.map((f) => f.mibps));
      const bc = median(base.map((f) => f.cpuPerMiB));
      for (const p of POLICIES) {
        const f = results.get(`${name} ${p}`)!;
        const m = median(f.map((x) => x.mibps));
        const c = median(f.map((x) => x.cpuPerMiB));
        console.log(`${name.padEnd(12)} ${p.padEnd(7)} ${m.toFixed(1).padStart(8)} ${(m / bm).toFixed(2).padStart(6)} ${c.toFixed(5).padStart(10)} ${(c / bc).toFixed(2).padStart(6)}`);
      }
    }
  } finally {
    s3.destroy();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    fs.rmSync(root, { recursive: true, force: true });
  }
}

await main();
