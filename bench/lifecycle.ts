// Request latency while a lifecycle pass expires many objects (issue 12: p99 of 4 KiB GETs while a
// pass expires 100k objects stays ≤ 2× idle).
//
//   npx tsc -p . && node dist/bench/lifecycle.js [--objects 100000] [--seconds 20] [--concurrency 8] [--port 8103]
//
// A Trove server (its own process, one worker, SQLite, fsync on, a 1-second lifecycle day) gets
// 1000 4 KiB objects in a `hot` bucket and N 4 KiB objects in a `cold` one. GETs of random hot
// objects run at a fixed concurrency: first for --seconds with nothing else going on (idle), then
// from the moment a lifecycle rule expiring all of `cold` is put until the pass has deleted it
// (during). The server is pinned to cpu 0 and this client to cpu 1 when taskset exists.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { S3BenchClient } from './lib/s3client.js';
import { percentileSorted } from './lib/stats.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const OBJECTS = Number(args.get('objects') ?? 100_000);
const SECONDS = Number(args.get('seconds') ?? 20);
const CONCURRENCY = Number(args.get('concurrency') ?? 8);
const PORT = Number(args.get('port') ?? 8103);
const KEY = 'BENCHLIFECYCLE000001';
const SECRET = 'bench/lifecycle/secret/00000000000000000001';
const dist = path.resolve(import.meta.dirname, '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hasTaskset = spawnSync('taskset', ['-V']).status === 0;

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trove-bench-lc-'));
  const cmd = [path.join(dist, 'src/main.js'), 'server', '--address', `127.0.0.1:${PORT}`, '--data-dir', dataDir, '--workers', '1', '--lifecycle-day-seconds', '1', '--root-access-key', KEY, '--root-secret-key', SECRET];
  const server = hasTaskset
    ? spawn('taskset', ['-c', '0', process.execPath, ...cmd], { env: { ...process.env, TROVE_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'inherit', 'inherit'] })
    : spawn(process.execPath, cmd, { env: { ...process.env, TROVE_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'inherit', 'inherit'] });
  if (hasTaskset) spawnSync('taskset', ['-p', '-c', '1', String(process.pid)]);
  const client = new S3BenchClient({ host: '127.0.0.1', port: PORT, accessKeyId: KEY, secretAccessKey: SECRET }, CONCURRENCY + 32);
  try {
    for (let i = 0; i < 100; i++) {
      try {
        await client.request({ method: 'GET', bucket: '' });
        break;
      } catch {
        await sleep(100);
      }
    }
    await client.createBucket('hot');
    await client.createBucket('cold');
    const body = Buffer.alloc(4096, 7);
    await parallel(1000, 32, (i) => client.ok({ method: 'PUT', bucket: 'hot', key: `k${i}`, body }));
    const t0 = Date.now();
    await parallel(OBJECTS, 32, (i) => client.ok({ method: 'PUT', bucket: 'cold', key: `c/${String(i).padStart(7, '0')}`, body }));
    console.log(`populated ${OBJECTS} objects in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await sleep(2000);

    const idle = await getLoad(client, async () => void (await sleep(SECONDS * 1000)));
    console.log(`idle:   ${fmt(idle)}`);

    const rule = `<LifecycleConfiguration><Rule><ID>all</ID><Filter><Prefix>c/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>`;
    let passMs = 0;
    const during = await getLoad(client, async () => {
      const start = Date.now();
      await client.ok({ method: 'PUT', bucket: 'cold', query: { lifecycle: '' }, body: Buffer.from(rule) });
      for (;;) {
        await sleep(500);
        const r = await client.ok({ method: 'GET', bucket: 'cold', query: { 'list-type': '2', 'max-keys': '1' }, collect: true });
        if (!r.body.toString().includes('<Key>')) break;
      }
      passMs = Date.now() - start;
    });
    console.log(`during: ${fmt(during)}`);
    console.log(`pass: ${OBJECTS} objects expired in ${(passMs / 1000).toFixed(1)} s (${Math.round(OBJECTS / (passMs / 1000))}/s)`);
    console.log(`p99 during / idle = ${(during.p99 / idle.p99).toFixed(2)}   p50 during / idle = ${(during.p50 / idle.p50).toFixed(2)}`);
    const loadavg = os.loadavg().map((x) => x.toFixed(2)).join(' ');
    console.log(`load average at the end: ${loadavg}`);
  } finally {
    client.close();
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

interface Figures {
  ops: number;
  seconds: number;
  p50: number;
  p99: number;
  max: number;
}

function fmt(f: Figures): string {
  return `${f.ops} GETs in ${f.seconds.toFixed(1)} s (${Math.round(f.ops / f.seconds)}/s), p50 ${f.p50.toFixed(2)} ms, p99 ${f.p99.toFixed(2)} ms, max ${f.max.toFixed(1)} ms`;
}

/** GETs of random hot objects at CONCURRENCY until `during` resolves. */
async function getLoad(client: S3BenchClient, during: () => Promise<void>): Promise<Figures> {
  const lat: number[] = [];
  let stop = false;
  const t0 = performance.now();
  const loop = async () => {
    while (!stop) {
      const s = performance.now();
      const r = await client.request({ method: 'GET', bucket: 'hot', key: `k${Math.floor(Math.random() * 1000)}` });
      if (r.status !== 200) throw new Error(`GET: ${r.status}`);
      lat.push(performance.now() - s);
    }
  };
  const loops = Array.from({ length: CONCURRENCY }, loop);
  await during();
  stop = true;
  await Promise.all(loops);
  const seconds = (performance.now() - t0) / 1000;
  const sorted = Float64Array.from(lat).sort();
  return { ops: lat.length, seconds, p50: percentileSorted(sorted, 50), p99: percentileSorted(sorted, 99), max: sorted[sorted.length - 1] ?? 0 };
}

async function parallel(n: number, width: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

await main();
