// Micro-benchmark of what metrics and usage accounting add to every request: the Prometheus
// counters and histogram (Metrics.started/finished, with their cached label children) and the
// usage reports' in-memory counter (UsageRecorder.record), plus the amortised flush of those
// counters to the metadata store (a real SQLite store, one transaction per flush).
// Run: npx tsc -p . && node dist/bench/accounting.js
// Prints CPU ns per request (process.cpuUsage: user + system, median of rounds), which load on a
// shared machine barely changes; compare with the server CPU per request of put4k/get4k (the
// put4k-acct/get4k-acct rows of npm run bench measure the whole on/off difference end to end).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import type { Identity } from '../src/auth/types.js';
import { Metrics } from '../src/observe/metrics.js';
import { OPERATIONS } from '../src/s3/operations.js';
import { SqliteMetaStore } from '../src/store/meta/sqlite/index.js';
import { UsageRecorder } from '../src/usage/recorder.js';

const log = pino({ level: 'silent' });
const op = (name: string) => OPERATIONS.find((o) => o.name === name)!;
const put = op('PutObject');
const get = op('GetObject');
const head = op('HeadObject');
const owner = 'a'.repeat(64);
const buckets = Array.from({ length: 4 }, (_, i) => ({ name: `bucket-${i}`, owner }));
const root: Identity = { accessKeyId: 'AKIAROOT', userId: owner, accountId: '123456789012', displayName: 'root' };
const users: Identity[] = Array.from({ length: 8 }, (_, i) => ({ ...root, accessKeyId: `AKIAUSER${i}`, user: { id: `AIDA${i}`, name: `user-${i}`, path: '/', arn: `arn:aws:iam::123456789012:user/user-${i}` } }));
const callers = [root, ...users];

/** CPU ns per call of fn, median of 7 rounds of n calls. */
function cpuNs(fn: (i: number) => void, n = 500_000): number {
  for (let i = 0; i < 200_000; i++) fn(i);
  const rounds: number[] = [];
  for (let r = 0; r < 7; r++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) fn(i);
    const c = process.cpuUsage(c0);
    rounds.push(((c.user + c.system) * 1000) / n);
  }
  rounds.sort((a, b) => a - b);
  return rounds[3]!;
}

async function main(): Promise<void> {
  const metrics = new Metrics({ meta: { workStats: async () => undefined }, config: { dataDir: os.tmpdir(), minFree: 0 }, counters: { integrityFailures: 0 }, gc: { collected: 0 }, log } as unknown as ConstructorParameters<typeof Metrics>[0]);
  const recorder = new UsageRecorder({ addUsageRequests: async () => undefined }, log, { flushMs: 3_600_000 });
  const ops = [put, get, head];
  const m = cpuNs((i) => {
    metrics.started();
    metrics.finished(ops[i % 3]!.name, 200, 0.0012, 4096, 0);
  });
  const u = cpuNs((i) => recorder.record(ops[i % 3]!, buckets[i & 3], callers[i % 9], 200, 4096, 0));

  // The flush: 10 s of a busy node's distinct counters (hour × bucket × caller × class) into SQLite.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trove-bench-acct-'));
  const meta = await SqliteMetaStore.open({ dir, fsync: true });
  try {
    const rows = buckets.flatMap((b) => callers.flatMap((c) => ['A', 'B', 'free'].map((opClass) => ({ hour: 0, account: owner, bucket: b.name, principal: c.user?.arn ?? 'root', opClass, requests: 1000, errors4xx: 1, errors5xx: 0, bytesIn: 4096000, bytesOut: 0 }))));
    await meta.addUsageRequests(rows);
    const times: number[] = [];
    for (let r = 0; r < 7; r++) {
      const c0 = process.cpuUsage();
      await meta.addUsageRequests(rows);
      const c = process.cpuUsage(c0);
      times.push((c.user + c.system) / 1000);
    }
    times.sort((a, b) => a - b);
    const flushMs = times[3]!;
    console.log(`metrics (started + finished):       ${m.toFixed(0).padStart(6)} ns CPU per request`);
    console.log(`usage counter (record):             ${u.toFixed(0).padStart(6)} ns CPU per request`);
    console.log(`usage flush of ${rows.length} counters (SQLite): ${flushMs.toFixed(2).padStart(6)} ms CPU per flush (every --usage-flush seconds, 10 by default)`);
    console.log(`together: ${((m + u) / 1000).toFixed(2)} µs per request, against ~100-300 µs of server CPU per 4 KiB GET/PUT`);
  } finally {
    await meta.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
