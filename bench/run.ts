// Trove's benchmark: each Trove figure beside a bare node:http server doing the same file I/O,
// measured in the same run, servers pinned to one core and the load client to another.
//
//   npm run bench                                   # scenarios 1-4 (see bench/scenarios/index.ts)
//   node dist/bench/run.js --only put4k,get4k       # some scenarios
//   node dist/bench/run.js --big                    # also the 5 GiB memory scenario
//   node dist/bench/run.js --meta sqlite,postgres   # Trove on each metadata store, beside one bare baseline
//   node dist/bench/run.js --help

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatSummary, summarizeProfile, type FrameShare } from './lib/profile.js';
import { startBenchPg, type BenchPg } from './lib/pg.js';
import { clockTicks, cpuTicks, foreignCpuPct, machineBusyTicks, ownAndChildrenCpuTicks, waitIdle } from './lib/procfs.js';
import { startBare, startTrove, troveAvailable, type ServerHandle } from './lib/servers.js';
import { runJob } from './lib/runjob.js';
import { median } from './lib/stats.js';
import { verifySigner } from './lib/verify-signer.js';
import { SCENARIOS } from './scenarios/index.js';
import type { BenchOptions, Goal, Measurement, RunContext, Scenario, Target } from './scenarios/types.js';

const BENCH_DIST = fileURLToPath(new URL('.', import.meta.url));
const REPO = path.resolve(BENCH_DIST, '..', '..');
const RESULTS_DIR = path.join(REPO, 'bench', 'results');

/** Other processes using more than this much CPU (% of one core) make a measurement noisy. */
const QUIET_PCT = 15;
let quietTimeoutMs = 600_000;
/**
 * A round during which other processes used more than this (% of one core, load client excluded)
 * is repeated (up to NOISY_RETRIES times). The kernel's own work for the server's I/O (journal,
 * writeback) counts as "other" and stays well below this.
 */
const NOISY_PCT = 40;
const NOISY_RETRIES = 3;

const HELP = `Usage: node dist/bench/run.js [options]

  --only a,b            run only these scenarios (ids below); may name optional ones
  --big                 also run the optional 5 GiB memory scenario (minutes, 5 GiB of disk)
  --rounds N            measurements per server, alternated bare/trove (default 5)
  --duration S          seconds measured per round of fixed-time loads (default 5)
  --warmup S            seconds of load before measuring, per round (default 2)
  --concurrency N       concurrent requests of the c16 loads (default 16)
  --server-cpu C        taskset cpu list for the servers (default 0)
  --client-cpu C        taskset cpu list for the load client (default 1)
  --data-root DIR       where fresh data directories are made (default $TMPDIR)
  --meta m1,m2          Trove's metadata stores: sqlite (default), postgres, or both
                        (sqlite,postgres: each scenario measured on bare, trove-sqlite and
                        trove-postgres in alternated rounds; one row per store, each against the
                        same bare rounds). postgres: a throwaway cluster (fsync on) pinned to the
                        server cpu, a fresh database per scenario group; its CPU counts as the server's
  --trove-args "A B"    extra flags for every Trove server (e.g. "--no-metrics")
  --bare-only           measure only the bare baseline (while Trove does not build)
  --cpu-prof            after setup, restart both servers under node --cpu-prof; print their top
                        frames over the measurements (profiles in bench/results/profiles/)
  --quiet-timeout S     wait at most this long for other processes to go quiet before each
                        measurement (default 600); noisy rounds are repeated up to ${NOISY_RETRIES} times
  --out FILE            JSON results file (default bench/results/latest.json)
  --list                list scenarios and exit

Scenarios: ${SCENARIOS.map((s) => s.id + (s.optionalFlag ? ` (--${s.optionalFlag})` : '')).join(', ')}
`;

interface CliOptions extends BenchOptions {
  only: string[] | undefined;
  flags: Set<string>;
  bareOnly: boolean;
  cpuProf: boolean;
  out: string;
  metas: Meta[];
  /** Extra `trove server` flags (e.g. --no-metrics, to measure what metrics cost). */
  troveArgs: string[];
}

type Meta = 'sqlite' | 'postgres';

function parseArgs(argv: string[]): CliOptions {
  const o: CliOptions = {
    durationSec: 5,
    warmupSec: 2,
    rounds: 5,
    concurrency: 16,
    serverCpu: '0',
    clientCpu: '1',
    dataRoot: os.tmpdir(),
    only: undefined,
    flags: new Set(),
    bareOnly: false,
    cpuProf: false,
    out: path.join(RESULTS_DIR, 'latest.json'),
    metas: ['sqlite'],
    troveArgs: [],
  };
  const num = (v: string | undefined, name: string): number => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n <= 0) throw new Error(`--${name} needs a positive number`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const name = a.startsWith('--') ? a.slice(2, eq > 0 ? eq : undefined) : a;
    const value = () => (eq > 0 ? a.slice(eq + 1) : argv[++i]);
    switch (name) {
      case 'help':
      case 'h':
        process.stdout.write(HELP);
        process.exit(0);
      // falls through (unreachable)
      case 'list':
        for (const s of SCENARIOS) process.stdout.write(`${s.id.padEnd(12)} ${s.label}${s.optionalFlag ? `  (--${s.optionalFlag})` : ''}\n`);
        process.exit(0);
      // falls through (unreachable)
      case 'only':
        o.only = (value() ?? '').split(',').map((s) => s.trim()).filter(Boolean);
        break;
      case 'big':
        o.flags.add('big');
        break;
      case 'rounds':
        o.rounds = Math.round(num(value(), name));
        break;
      case 'duration':
        o.durationSec = num(value(), name);
        break;
      case 'warmup':
        o.warmupSec = Number(value() ?? NaN);
        if (!(o.warmupSec >= 0)) throw new Error('--warmup needs a number ≥ 0');
        break;
      case 'concurrency':
        o.concurrency = Math.round(num(value(), name));
        break;
      case 'server-cpu':
        o.serverCpu = value() ?? '0';
        break;
      case 'client-cpu':
        o.clientCpu = value() ?? '1';
        break;
      case 'data-root':
        o.dataRoot = path.resolve(value() ?? os.tmpdir());
        break;
      case 'meta': {
        const ms = (value() ?? '').split(',').map((x) => x.trim().toLowerCase()).map((x) => (x === 'pg' ? 'postgres' : x));
        const bad = ms.filter((x) => x !== 'sqlite' && x !== 'postgres');
        if (!ms.length || bad.length) throw new Error(`--meta takes sqlite, postgres or both (got ${bad.join(',') || 'nothing'})`);
        o.metas = [...new Set(ms)] as Meta[];
        break;
      }
      case 'trove-args':
        o.troveArgs = (value() ?? '').split(/\s+/).filter(Boolean);
        break;
      case 'bare-only':
        o.bareOnly = true;
        break;
      case 'cpu-prof':
        o.cpuProf = true;
        break;
      case 'quiet-timeout':
        quietTimeoutMs = num(value(), name) * 1000;
        break;
      case 'out':
        o.out = path.resolve(value() ?? o.out);
        break;
      default:
        throw new Error(`unknown argument ${a} (see --help)`);
    }
  }
  return o;
}

function selectScenarios(o: CliOptions): Scenario[] {
  if (o.only) {
    const unknown = o.only.filter((id) => !SCENARIOS.some((s) => s.id === id));
    if (unknown.length) throw new Error(`unknown scenario(s): ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.id).join(', ')}`);
    return SCENARIOS.filter((s) => o.only!.includes(s.id));
  }
  return SCENARIOS.filter((s) => !s.optionalFlag || o.flags.has(s.optionalFlag));
}

// ---- the load client ------------------------------------------------------------------------------

const CLK_TCK = clockTicks();

// ---- servers: start, freeze the one not measured, stop ----------------------------------------------

/**
 * A server under test: the bare baseline, or Trove on one metadata store. With PostgreSQL, the
 * cluster's processes are part of the server: pinned to its core, their CPU counted as its CPU,
 * waited for with it to go idle, and never frozen (they are idle while their Trove is frozen, and
 * another Trove of the run may need the cluster... not today, but a stopped database is a trap).
 */
type Srv = ServerHandle & { variant: string; meta?: Meta; pg?: BenchPg; metaUrl?: string; extraArgs?: string[] };

/** The pids that make up a server (Trove, plus its PostgreSQL cluster). */
function pidsOf(s: Srv): number[] {
  return s.pg ? [s.pid, ...s.pg.pids()] : [s.pid];
}

/** CPU ticks of a server, its PostgreSQL cluster included. */
function serverTicks(s: Srv): number {
  return cpuTicks(s.pid) + (s.pg ? s.pg.cpuTicks() : 0);
}

const live = new Set<Srv>();
const frozen = new Set<number>();

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone */
  }
}

process.on('exit', () => {
  // Never leave a stopped or running server behind.
  for (const s of live) {
    signal(s.pid, 'SIGCONT');
    signal(s.pid, 'SIGKILL');
  }
  for (const s of live) {
    try {
      fs.rmSync(s.dataDir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      /* best effort */
    }
  }
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));

/**
 * Gives the machine to one server: the others finish what they were doing and are frozen
 * (SIGSTOP), so that their background work (WAL checkpoints, sweeps) cannot steal the server core
 * from the measurement; then dirty pages are flushed and the chosen server is left to go idle.
 */
async function focus(target: Srv, all: Srv[], log: (s: string) => void): Promise<void> {
  for (const s of all) {
    if (s === target || frozen.has(s.pid)) continue;
    // A Trove on PostgreSQL: it and its backends finish, then Trove alone is frozen (the cluster
    // is left running: idle, since nothing else talks to it).
    await waitIdle(pidsOf(s));
    signal(s.pid, 'SIGSTOP');
    frozen.add(s.pid);
  }
  if (frozen.delete(target.pid)) signal(target.pid, 'SIGCONT');
  spawnSync('sync');
  const waited = await waitIdle(pidsOf(target));
  if (waited > 3000) log(`  (${target.variant} took ${(waited / 1000).toFixed(1)} s to go idle)`);
  // A PostgreSQL cluster is "other processes" unless it is the measured server's.
  await waitQuiet([...all.map((s) => s.pid), ...pidsOf(target)], log);
}

/** Waits (up to quietTimeoutMs) until the rest of the machine is quiet. */
async function waitQuiet(pids: number[], log: (s: string) => void): Promise<void> {
  const t0 = performance.now();
  let said = false;
  for (;;) {
    const pct = await foreignCpuPct(pids, 500);
    if (pct <= QUIET_PCT) {
      if (said) log(`  (machine quiet again after ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
      return;
    }
    if (!said) {
      log(`  (other processes use ${pct.toFixed(0)}% cpu; waiting up to ${quietTimeoutMs / 1000} s for quiet)`);
      said = true;
    }
    if (performance.now() - t0 > quietTimeoutMs) {
      log(`  (still busy: measuring anyway; see foreignCpuPct in the results)`);
      return;
    }
  }
}

async function stopAll(servers: Srv[]): Promise<void> {
  for (const s of servers) {
    if (frozen.delete(s.pid)) signal(s.pid, 'SIGCONT');
  }
  await Promise.all(servers.map((s) => s.stop()));
  for (const s of servers) {
    live.delete(s);
    await fs.promises.rm(s.dataDir, { recursive: true, force: true });
    if (s.pg && s.metaUrl) await s.pg.dropDatabase(s.metaUrl);
  }
}

// ---- results ---------------------------------------------------------------------------------------

interface SideResult {
  median: number;
  rounds: number[];
  p50Ms?: number;
  p99Ms?: number;
  display?: string;
  /** Medians of the CPU use (% of one core) of the server and of the load client. */
  serverCpuPct?: number;
  clientCpuPct?: number;
  /** Estimated CPU used by unrelated processes while measuring (noise). */
  foreignCpuPct?: number;
  details: Array<Record<string, unknown> | undefined>;
}

interface ScenarioResult {
  id: string;
  label: string;
  /** Trove's metadata store in this row. */
  meta?: Meta;
  unit: string;
  target: string;
  bare?: SideResult;
  trove?: SideResult;
  /** median(trove) / median(bare). */
  ratio?: number;
  /** trove / bare of each adjacent pair, for judging noise. */
  pairRatios?: number[];
  ok: boolean | null;
  error?: string;
  /** With --cpu-prof: the servers' main-thread profiles over the measurements. */
  profiles?: Partial<Record<string, { file: string; busySamples: number; self: FrameShare[]; total: FrameShare[] }>>;
}

function side(ms: Measurement[]): SideResult {
  const r: SideResult = { median: median(ms.map((m) => m.value)), rounds: ms.map((m) => m.value), details: ms.map((m) => m.detail) };
  const p50 = ms.map((m) => m.p50Ms).filter((x): x is number => x !== undefined);
  const p99 = ms.map((m) => m.p99Ms).filter((x): x is number => x !== undefined);
  if (p50.length) r.p50Ms = median(p50);
  if (p99.length) r.p99Ms = median(p99);
  if (ms.every((m) => m.display !== undefined)) {
    // Several rounds: the display of the round whose value is the (lower) median.
    const order = ms.map((m, i) => i).sort((a, b) => ms[a]!.value - ms[b]!.value);
    r.display = ms[order[(order.length - 1) >> 1]!]!.display!;
  }
  for (const k of ['serverCpuPct', 'clientCpuPct', 'foreignCpuPct'] as const) {
    const xs = ms.map((m) => m.detail?.[k]).filter((x): x is number => typeof x === 'number');
    if (xs.length) r[k] = median(xs);
  }
  return r;
}

function targetText(g: Goal): string {
  return g.kind === 'ratio' ? `≥${g.min.toFixed(2)}` : g.kind === 'ratioAtMost' ? `≤${g.max.toFixed(2)}` : g.kind === 'none' ? '-' : g.text;
}

function judge(g: Goal, r: ScenarioResult): boolean | null {
  if (g.kind === 'none') return null;
  if (g.kind === 'ratio') return r.ratio === undefined || Number.isNaN(r.ratio) ? null : r.ratio >= g.min;
  if (g.kind === 'ratioAtMost') return r.ratio === undefined || Number.isNaN(r.ratio) ? null : r.ratio <= g.max;
  if (!r.trove) return null;
  return g.kind === 'atLeast' ? r.trove.median >= g.min : r.trove.median <= g.max;
}

function fmtValue(v: number, unit: string): string {
  if (Number.isNaN(v)) return '-';
  const n = unit === 'MB/s' ? v.toFixed(1) : unit === '×' ? v.toFixed(2) : String(Math.round(v));
  return `${n} ${unit}`;
}

function fmtSide(r: SideResult | undefined, unit: string): string {
  if (!r) return '-';
  return r.display ?? fmtValue(r.median, unit);
}

function fmtMs(x: number | undefined): string {
  if (x === undefined || Number.isNaN(x)) return '-';
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

/** A load client at or above this CPU use (% of its core) caps the figure it measured. */
const CLIENT_BOUND_PCT = 90;

function clientBound(r: ScenarioResult): boolean {
  return [r.bare, r.trove].some((x) => x?.clientCpuPct !== undefined && x.clientCpuPct >= CLIENT_BOUND_PCT);
}

function table(results: ScenarioResult[]): string {
  const rows: string[][] = [['scenario', 'bare', 'trove', 'ratio', 'target', 'ok']];
  for (const r of results) {
    rows.push([
      r.label,
      fmtSide(r.bare, r.unit),
      r.error ? 'ERROR' : fmtSide(r.trove, r.unit),
      r.ratio === undefined || Number.isNaN(r.ratio) ? '-' : r.ratio.toFixed(2),
      r.target,
      (r.error ? 'ERR' : r.ok === null ? '-' : r.ok ? 'yes' : 'NO') + (clientBound(r) ? '*' : ''),
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)) + 2);
  return rows.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('')).join('\n');
}

function latencyTable(results: ScenarioResult[]): string {
  const rows: string[][] = [['scenario', 'bare p50/p99 ms', 'trove p50/p99 ms', 'cpu% srv/cli bare', 'trove', 'bare rounds', 'trove rounds']];
  const cpu = (r: SideResult | undefined) => (r && r.serverCpuPct !== undefined ? `${r.serverCpuPct}/${r.clientCpuPct ?? '-'}` : '-');
  const rounds = (r: SideResult | undefined, unit: string) => (r ? r.rounds.map((v) => (unit === 'MB/s' ? v.toFixed(0) : unit === '×' ? v.toFixed(2) : String(Math.round(v)))).join(' ') : '-');
  for (const r of results) {
    rows.push([
      r.label,
      r.bare ? `${fmtMs(r.bare.p50Ms)} / ${fmtMs(r.bare.p99Ms)}` : '-',
      r.trove ? `${fmtMs(r.trove.p50Ms)} / ${fmtMs(r.trove.p99Ms)}` : '-',
      cpu(r.bare),
      cpu(r.trove),
      rounds(r.bare, r.unit),
      rounds(r.trove, r.unit),
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)) + 2);
  return rows.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('')).join('\n');
}

function targetOf(s: Srv): Target {
  return { kind: s.kind, endpoint: s.endpoint, pid: s.pid, dataDir: s.dataDir, ...(s.pg ? { serverPids: [s.pid, s.pg.pids()[0]!], metaUrl: s.metaUrl! } : {}) };
}

/**
 * One measurement of one server: focus it, run the scenario's measure(), note CPU use (the
 * server's, the client's and everyone else's), and repeat the round if other processes were busy.
 */
async function measureRound(sc: Scenario, s: Srv, servers: Srv[], ctx: RunContext, r: number, rounds: number): Promise<Measurement> {
  const target = targetOf(s);
  for (let attempt = 0; ; attempt++) {
    await focus(s, servers, ctx.log);
    const ticks0 = serverTicks(s);
    const busy0 = machineBusyTicks();
    const ours0 = ownAndChildrenCpuTicks();
    const w0 = performance.now();
    const m = await sc.measure(target, ctx, r);
    // CPU over the whole measure() call (warm-up and client start included), % of one core: the
    // server's, and everything else's minus ours (this process and the load clients and other
    // helpers it ran, all reaped by now): an estimate of noise.
    const secs = (performance.now() - w0) / 1000;
    const srvTicks = serverTicks(s) - ticks0;
    const serverCpuPct = Math.round((srvTicks / CLK_TCK / secs) * 100);
    const clientCpu = m.detail?.['clientCpuPct'];
    const othersPct = ((machineBusyTicks() - busy0 - srvTicks - (ownAndChildrenCpuTicks() - ours0)) / CLK_TCK / secs) * 100;
    const foreignPct = Math.max(0, Math.round(othersPct));
    // A scenario may have measured the server's CPU itself (per phase): its figure stays.
    m.detail = { serverCpuPct, ...(m.detail ?? {}), foreignCpuPct: foreignPct, repeats: attempt };
    const extra = Object.entries(m.rows ?? {})
      .map(([key, x]) => {
        const row = sc.rows?.find((w) => w.key === key);
        return `  | ${row?.label ?? key}: ${x.display ?? fmtValue(x.value, row?.unit ?? '')}`;
      })
      .join('');
    ctx.log(
      `  ${sc.id} round ${r + 1}/${rounds} ${s.variant.padEnd(12)} ${m.display ?? fmtValue(m.value, sc.unit)}` +
        `${m.p50Ms !== undefined ? `  p50 ${fmtMs(m.p50Ms)} ms p99 ${fmtMs(m.p99Ms)} ms` : ''}` +
        `  cpu server ${serverCpuPct}%${clientCpu !== undefined ? ` client ${String(clientCpu)}%` : ''} others ~${foreignPct}%` +
        extra,
    );
    if (foreignPct <= NOISY_PCT || attempt >= NOISY_RETRIES) return m;
    ctx.log(`  (other processes used ~${foreignPct}% cpu during that round: repeating it)`);
  }
}

// ---- main ----------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const scenarios = selectScenarios(o);
  const log = (s: string) => process.stderr.write(s + '\n');
  const startedAt = new Date();

  await verifySigner();
  log('signer: agrees with @smithy/signature-v4');
  if (!o.bareOnly) {
    const t = troveAvailable();
    if (!t.ok) throw new Error(`Trove is not runnable: ${t.why}\n(use --bare-only to measure the baseline alone)`);
  }
  for (const cpu of [o.serverCpu, o.clientCpu]) {
    const r = spawnSync('taskset', ['-c', cpu, 'true']);
    if (r.status !== 0) throw new Error(`taskset -c ${cpu} does not work: ${r.stderr?.toString() ?? r.error?.message}`);
  }
  log(
    `node ${process.version}, ${os.cpus().length} cpus; servers on cpu ${o.serverCpu}, client on cpu ${o.clientCpu}; ` +
      `${o.rounds} rounds × (${o.warmupSec} s warm-up + ${o.durationSec} s) per server, c${o.concurrency}`,
  );

  const troveMetas: Meta[] = o.bareOnly ? [] : o.metas;
  let pg: BenchPg | undefined;
  if (troveMetas.includes('postgres')) {
    pg = await startBenchPg(o.serverCpu, o.dataRoot);
    log(`postgres: throwaway cluster (fsync on), postmaster ${pg.pids()[0]} on cpu ${o.serverCpu}`);
  }
  // Row labels name the store when the run is not the plain SQLite one.
  const tagged = troveMetas.length > 1 || troveMetas[0] === 'postgres';
  const variantOf = (m: Meta) => `trove-${m === 'postgres' ? 'pg' : m}`;
  // A scenario whose baseline is Trove with some flags (Scenario.baselineTroveArgs): that Trove.
  const offVariantOf = (m: Meta) => `${variantOf(m)}-off`;
  const startVariant = async (meta: Meta, dataDir: string, nodeFlags: string[], metaUrl: string | undefined, extraArgs?: string[]): Promise<Srv> => {
    const h = await startTrove({ cpu: o.serverCpu, dataDir, nodeFlags, args: ['--workers', '1', ...(metaUrl ? ['--meta', metaUrl] : []), ...o.troveArgs, ...(extraArgs ?? [])] });
    return Object.assign(h, { variant: extraArgs ? offVariantOf(meta) : variantOf(meta), meta, ...(extraArgs ? { extraArgs } : {}), ...(meta === 'postgres' ? { pg: pg!, metaUrl: metaUrl! } : {}) });
  };

  const ctx: RunContext = { opts: o, job: (m, f, a) => runJob(o, m, f, a), log };
  const results: ScenarioResult[] = [];
  const profDirRoot = path.join(RESULTS_DIR, 'profiles');

  let i = 0;
  while (i < scenarios.length) {
    // A group: consecutive scenarios sharing a fixture (servers + setup), or one scenario alone.
    const first = scenarios[i]!;
    const group = [first];
    while (first.fixture && scenarios[i + group.length]?.fixture === first.fixture) group.push(scenarios[i + group.length]!);
    i += group.length;

    const groupId = first.fixture ?? first.id;
    const servers: Srv[] = [];
    const profDir = path.join(profDirRoot, groupId.replace(/[^a-zA-Z0-9_-]/g, '_'));
    // One result per table row: for each metadata store, the scenario's own, then its further rows.
    const rowMetas: Meta[] = troveMetas.length ? troveMetas : ['sqlite'];
    const rowResults = group.map((s) =>
      rowMetas.map((m) => {
        const id = (x: string) => (tagged ? `${x}@${m}` : x);
        const label = (x: string) => (tagged ? `${x} [${m === 'postgres' ? 'pg' : m}]` : x);
        return [
          { id: id(s.id), label: label(s.label), ...(troveMetas.length ? { meta: m } : {}), unit: s.unit, target: targetText(s.goal), ok: null } as ScenarioResult,
          ...(s.rows ?? []).map((w): ScenarioResult => ({ id: id(`${s.id}.${w.key}`), label: label(w.label), ...(troveMetas.length ? { meta: m } : {}), unit: w.unit, target: targetText(w.goal), ok: null })),
        ];
      }),
    );
    const groupResults = rowResults.flat(2);
    results.push(...groupResults);
    try {
      log(`\n== ${group.map((s) => s.id).join(', ')}`);
      const mkdir = (kind: string) => fs.promises.mkdtemp(path.join(o.dataRoot, `trove-bench-${groupId.replace(/[^a-zA-Z0-9]/g, '')}-${kind}-`));
      const bareMode = first.bare;
      if (bareMode) {
        const s = Object.assign(await startBare({ cpu: o.serverCpu, dataDir: await mkdir('bare'), mode: bareMode }), { variant: 'bare' });
        servers.push(s);
        live.add(s);
      }
      if (first.baselineTroveArgs) {
        for (const meta of troveMetas) {
          const metaUrl = meta === 'postgres' ? await pg!.freshDatabase(`${groupId}-off`) : undefined;
          const s = await startVariant(meta, await mkdir(offVariantOf(meta)), first.troveNodeFlags ?? [], metaUrl, first.baselineTroveArgs);
          servers.push(s);
          live.add(s);
        }
      }
      for (const meta of troveMetas) {
        const metaUrl = meta === 'postgres' ? await pg!.freshDatabase(groupId) : undefined;
        const s = await startVariant(meta, await mkdir(variantOf(meta)), first.troveNodeFlags ?? [], metaUrl);
        servers.push(s);
        live.add(s);
      }
      if (servers.length === 0) {
        log('  (nothing to measure: Trove-only scenario with --bare-only)');
        continue;
      }

      if (first.setup) {
        // Setup is not measured: PostgreSQL may use every cpu meanwhile (Trove stays pinned).
        pg?.pin(`0-${os.cpus().length - 1}`);
        try {
          for (const s of servers) {
            await focus(s, servers, log);
            const t0 = performance.now();
            await first.setup(targetOf(s), ctx);
            log(`  ${s.variant}: setup ${((performance.now() - t0) / 1000).toFixed(1)} s`);
          }
        } finally {
          pg?.pin(o.serverCpu);
        }
      }

      if (first.restartAfterSetup) {
        for (let k = 0; k < servers.length; k++) {
          const old = servers[k]!;
          if (old.kind !== 'trove') continue;
          if (frozen.delete(old.pid)) signal(old.pid, 'SIGCONT');
          await old.stop();
          live.delete(old);
          const s = await startVariant(old.meta!, old.dataDir, first.troveNodeFlags ?? [], old.metaUrl, old.extraArgs);
          servers[k] = s;
          live.add(s);
          log(`  ${s.variant}: restarted after setup`);
        }
        if (first.afterRestart) {
          for (const s of servers) {
            await focus(s, servers, log);
            await first.afterRestart(targetOf(s), ctx);
          }
        }
      }

      if (o.cpuProf) {
        // Profile the measurements only: restart each server on the same data under --cpu-prof.
        for (let k = 0; k < servers.length; k++) {
          const old = servers[k]!;
          if (frozen.delete(old.pid)) signal(old.pid, 'SIGCONT');
          await old.stop();
          live.delete(old);
          const dir = path.join(profDir, old.variant);
          await fs.promises.rm(dir, { recursive: true, force: true });
          const flags = ['--cpu-prof', `--cpu-prof-dir=${dir}`];
          const s: Srv =
            old.kind === 'trove'
              ? await startVariant(old.meta!, old.dataDir, [...(first.troveNodeFlags ?? []), ...flags], old.metaUrl, old.extraArgs)
              : Object.assign(await startBare({ cpu: o.serverCpu, dataDir: old.dataDir, mode: first.bare!, nodeFlags: flags }), { variant: 'bare' });
          servers[k] = s;
          live.add(s);
          log(`  ${s.variant}: restarted under --cpu-prof (profiles in ${path.relative(process.cwd(), dir)})`);
        }
      }

      for (let k = 0; k < group.length; k++) {
        const sc = group[k]!;
        const res = rowResults[k]![0]![0]!;
        try {
          const rounds = sc.rounds?.(o) ?? o.rounds;
          const by = new Map<string, Measurement[]>();
          // bare, trove-sqlite, trove-pg, then the other way round, …: linear drift cancels.
          const order = servers.map((x) => x.variant);
          for (let r = 0; r < rounds; r++) {
            for (const variant of r % 2 === 0 ? order : order.slice().reverse()) {
              const s = servers.find((x) => x.variant === variant)!;
              by.set(variant, [...(by.get(variant) ?? []), await measureRound(sc, s, servers, ctx, r, rounds)]);
            }
          }
          const fill = (row: ScenarioResult, goal: Goal, bare: Measurement[] | undefined, trove: Measurement[] | undefined) => {
            if (bare) row.bare = side(bare);
            if (trove) row.trove = side(trove);
            if (bare && trove && (sc.bare || sc.baselineTroveArgs)) {
              row.ratio = row.trove!.median / row.bare!.median;
              row.pairRatios = trove.map((m, r) => m.value / bare[r]!.value);
            }
            row.ok = judge(goal, row);
          };
          // Each store's rows against the same bare rounds.
          for (const [mi, meta] of rowMetas.entries()) {
            const mine = by.get(variantOf(meta));
            const base = sc.baselineTroveArgs ? by.get(offVariantOf(meta)) : by.get('bare');
            fill(rowResults[k]![mi]![0]!, sc.goal, base, mine);
            // Further rows: their figures from each round's Measurement.rows; the runner's CPU
            // figures of the round where the scenario gave none.
            for (const [j, w] of (sc.rows ?? []).entries()) {
              const pick = (ms: Measurement[] | undefined) =>
                ms?.map((m, r) => {
                  const x = m.rows?.[w.key];
                  if (!x) throw new Error(`${sc.id} round ${r + 1} has no figure for its row ${w.key}`);
                  return { ...x, detail: { serverCpuPct: m.detail?.['serverCpuPct'], foreignCpuPct: m.detail?.['foreignCpuPct'], ...(x.detail ?? {}) } };
                });
              fill(rowResults[k]![mi]![j + 1]!, w.goal, pick(base), pick(mine));
            }
          }
        } catch (e) {
          for (const row of rowResults[k]!.flat()) row.error = (e as Error).message;
          log(`  ${sc.id} FAILED: ${res.error}`);
          for (const s of servers) if (s.output().trim()) log(`  ${s.variant} server output (tail):\n${s.output().trim().split('\n').slice(-15).join('\n')}`);
        }
      }
    } catch (e) {
      for (const r of groupResults) r.error ??= (e as Error).message;
      log(`  ${groupId} FAILED: ${(e as Error).message}`);
      for (const s of servers) if (s.output().trim()) log(`  ${s.variant} server output (tail):\n${s.output().trim().split('\n').slice(-15).join('\n')}`);
    } finally {
      const kinds = servers.map((s) => s.variant);
      await stopAll(servers);
      if (o.cpuProf) {
        for (const kind of kinds) {
          const dir = path.join(profDir, kind);
          const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')) : [];
          for (const f of files) {
            // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the main thread.
            const main = /\.\d+\.0\.\d+\.cpuprofile$/.test(f);
            const file = path.join(dir, f);
            log(`\n${kind} ${main ? 'main thread' : 'worker thread'}: ` + formatSummary(file, main ? 25 : 5));
            if (!main) continue;
            const s = summarizeProfile(file, 25);
            const summary = { file: path.relative(REPO, file), busySamples: s.busySamples, self: s.self, total: s.total };
            for (const r of groupResults) r.profiles = { ...(r.profiles ?? {}), [kind]: summary };
          }
        }
      }
    }
  }

  const finishedAt = new Date();
  const out = {
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    machine: { node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30), kernel: os.release(), loadavg: os.loadavg() },
    options: { rounds: o.rounds, durationSec: o.durationSec, warmupSec: o.warmupSec, concurrency: o.concurrency, serverCpu: o.serverCpu, clientCpu: o.clientCpu, bareOnly: o.bareOnly, cpuProf: o.cpuProf, metas: troveMetas },
    notes: [
      'ratio = median(trove) / median(bare) over alternated rounds (bare, trove, trove, bare, …) in one run; pairRatios are per adjacent pair',
      'servers pinned to serverCpu, load client to clientCpu (taskset); the server not being measured is frozen with SIGSTOP',
      'Trove runs with TROVE_LOG_LEVEL=warn: access logs off',
      ...(pg
        ? ['trove-pg: PostgreSQL 15 throwaway cluster (fsync on, synchronous_commit on, shared_buffers 128MB), postmaster and backends pinned to serverCpu; their CPU counts as the server\'s; a fresh database per scenario group; the cluster is never frozen']
        : []),
      'requests signed with SigV4, x-amz-content-sha256: UNSIGNED-PAYLOAD; MB = 10^6 bytes',
      'throughput counts operations completing inside the measuring window; p50/p99 are medians over rounds',
    ],
    scenarios: results,
  };
  await fs.promises.mkdir(path.dirname(o.out), { recursive: true });
  await fs.promises.writeFile(o.out, JSON.stringify(out, null, 2) + '\n');

  process.stdout.write('\n' + table(results) + '\n\n' + latencyTable(results) + '\n');
  if (results.some(clientBound)) process.stdout.write(`\n* the load client used ≥${CLIENT_BOUND_PCT}% of its core in this row: the figure is (partly) the client's ceiling.\n`);
  process.stdout.write(`\n(servers on cpu ${o.serverCpu}, client on cpu ${o.clientCpu}; ${o.rounds} alternated rounds, medians; Trove access logs off)\nresults: ${path.relative(process.cwd(), o.out) || o.out}\n`);
  if (results.some((r) => r.error)) process.exitCode = 1;
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${(e as Error).message}\n`);
  process.exit(2);
});
