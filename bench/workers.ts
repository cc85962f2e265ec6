// Trove with `--workers 2` against `--workers 1`: the standard scenarios' figures side by side,
// and the server's CPU-seconds per operation (the primary and every worker, children included,
// read from /proc/<pid>/stat at the ends of each measuring window by the load client).
//
//   npx tsc -p . && node dist/bench/workers.js                      # put4k,get4k,put1m,get1m
//   node dist/bench/workers.js --only get4k --rounds 1 --duration 2  # a quick check
//
// Servers may use --server-cpu (default 0,1: both cores of a 2-core machine, which is the point
// of workers); the load client is pinned to --client-cpu (default 1, as in run.ts). Rounds
// alternate w1, w2, w2, w1, … so that drift cancels; the table shows medians. Results go to
// bench/results/workers.json (not committed). No bare baseline here: run.ts has it.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { childPids, waitIdle } from './lib/procfs.js';
import { startTrove, type ServerHandle } from './lib/servers.js';
import { runJob } from './lib/runjob.js';
import { median } from './lib/stats.js';
import { SCENARIOS } from './scenarios/index.js';
import type { BenchOptions, Measurement, RunContext, Scenario, Target } from './scenarios/types.js';

const BENCH_DIST = fileURLToPath(new URL('.', import.meta.url));
const REPO = path.resolve(BENCH_DIST, '..', '..');

const DEFAULT_SCENARIOS = ['put4k', 'get4k', 'put1m', 'get1m'];
const WORKERS = [1, 2] as const;

interface Options extends BenchOptions {
  only: string[];
  out: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    durationSec: 5,
    warmupSec: 2,
    rounds: 3,
    concurrency: 16,
    serverCpu: '0,1',
    clientCpu: '1',
    dataRoot: os.tmpdir(),
    only: DEFAULT_SCENARIOS,
    out: path.join(REPO, 'bench', 'results', 'workers.json'),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${a} needs a value`);
      return x;
    };
    switch (a) {
      case '--only':
        o.only = v().split(',').filter(Boolean);
        break;
      case '--rounds':
        o.rounds = Number(v());
        break;
      case '--duration':
        o.durationSec = Number(v());
        break;
      case '--warmup':
        o.warmupSec = Number(v());
        break;
      case '--concurrency':
        o.concurrency = Number(v());
        break;
      case '--server-cpu':
        o.serverCpu = v();
        break;
      case '--client-cpu':
        o.clientCpu = v();
        break;
      case '--data-root':
        o.dataRoot = path.resolve(v());
        break;
      case '--out':
        o.out = path.resolve(v());
        break;
      case '--help':
        process.stdout.write('Usage: node dist/bench/workers.js [--only a,b] [--rounds N] [--duration S] [--warmup S] [--concurrency N] [--server-cpu C] [--client-cpu C] [--data-root DIR] [--out FILE]\n');
        process.exit(0);
      // falls through (unreachable)
      default:
        throw new Error(`unknown argument ${a}`);
    }
  }
  return o;
}

interface Side {
  workers: number;
  values: number[];
  cpuMsPerOp: number[];
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const log = (s: string) => process.stdout.write(s + '\n');
  const ctx: RunContext = { opts: o, job: (m, f, a) => runJob(o, m, f, a), log };
  const scenarios = o.only.map((id) => {
    const s = SCENARIOS.find((x) => x.id === id);
    if (!s) throw new Error(`unknown scenario ${id}`);
    return s;
  });
  const results: Array<{ id: string; label: string; unit: string; sides: Side[] }> = [];
  for (const sc of scenarios) {
    log(`${sc.label}`);
    const servers: ServerHandle[] = [];
    try {
      for (const n of WORKERS) {
        const dataDir = await fs.promises.mkdtemp(path.join(o.dataRoot, `trove-w${n}-`));
        const s = await startTrove({ cpu: o.serverCpu, dataDir, args: ['--workers', String(n)] });
        servers.push(s);
        // All workers listening before the setup's first request.
        const t0 = Date.now();
        while (n > 1 && childPids(s.pid).length < n && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 50));
        await new Promise((r) => setTimeout(r, n > 1 ? 1000 : 0));
        if (sc.setup) await sc.setup(target(s), ctx);
      }
      const sides: Side[] = WORKERS.map((workers) => ({ workers, values: [], cpuMsPerOp: [] }));
      for (let r = 0; r < o.rounds; r++) {
        const order = r % 2 === 0 ? [0, 1] : [1, 0];
        for (const i of order) {
          const s = servers[i]!;
          await waitIdle([s.pid, ...childPids(s.pid)]);
          const m: Measurement = await sc.measure(target(s), ctx, r * 2 + i);
          const cpu = m.detail?.['serverCpuMsPerOp'];
          sides[i]!.values.push(m.value);
          if (typeof cpu === 'number') sides[i]!.cpuMsPerOp.push(cpu);
          log(`  --workers ${WORKERS[i]} round ${r + 1}: ${m.value.toFixed(1)} ${sc.unit}, server ${typeof cpu === 'number' ? cpu.toFixed(3) : '-'} CPU-ms/op`);
        }
      }
      results.push({ id: sc.id, label: sc.label, unit: sc.unit, sides });
    } finally {
      for (const s of servers) {
        await s.stop();
        await fs.promises.rm(s.dataDir, { recursive: true, force: true });
      }
    }
  }
  const rows = [['scenario', '--workers 1', '--workers 2', 'ratio', 'CPU-ms/op w1', 'CPU-ms/op w2', 'ratio']];
  for (const r of results) {
    const [a, b] = r.sides as [Side, Side];
    const va = median(a.values);
    const vb = median(b.values);
    const ca = median(a.cpuMsPerOp);
    const cb = median(b.cpuMsPerOp);
    rows.push([r.label, `${va.toFixed(1)} ${r.unit}`, `${vb.toFixed(1)} ${r.unit}`, (vb / va).toFixed(2), ca.toFixed(3), cb.toFixed(3), (cb / ca).toFixed(2)]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)) + 2);
  log('\n' + rows.map((row) => row.map((c, i) => c.padEnd(widths[i]!)).join('')).join('\n'));
  await fs.promises.mkdir(path.dirname(o.out), { recursive: true });
  await fs.promises.writeFile(o.out, JSON.stringify({ options: o, results }, null, 2) + '\n');
  log(`\nresults: ${o.out}`);
}

function target(s: ServerHandle): Target {
  return { kind: s.kind, endpoint: s.endpoint, pid: s.pid, dataDir: s.dataDir };
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
