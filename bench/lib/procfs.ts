// Reading a process's memory and CPU use from /proc.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

/** Resident set size in bytes (VmRSS), or NaN when the process is gone. */
export function rssBytes(pid: number): number {
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(s);
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** utime + stime of a process (all its threads) in clock ticks, or NaN when it is gone. */
export function cpuTicks(pid: number): number {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces: fields after the last ')' are fixed.
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return NaN;
  }
}

/**
 * CPU of this process plus that of its reaped children (utime + stime + cutime + cstime of
 * /proc/self/stat), in clock ticks: the orchestrator's own work and that of the load clients and
 * other helpers (sync) it ran and waited for.
 */
export function ownAndChildrenCpuTicks(): number {
  const s = fs.readFileSync('/proc/self/stat', 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
}

/** Pids of a process's children (Linux: /proc/<pid>/task/<tid>/children), empty when gone. */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tasks) {
    try {
      for (const c of fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/)) if (c) out.push(Number(c));
    } catch {
      /* gone */
    }
  }
  return out;
}

/**
 * CPU (utime + stime, clock ticks) of a process and of all its live descendants — e.g. a
 * `trove server --workers N` primary and its workers — plus what its reaped children used
 * (cutime + cstime).
 */
export function treeCpuTicks(pid: number): number {
  let total = 0;
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    total += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  } catch {
    return NaN;
  }
  for (const c of childPids(pid)) {
    const t = treeCpuTicks(c);
    if (!Number.isNaN(t)) total += t;
  }
  return total;
}

/** utime and stime of a process (all its threads) in clock ticks, or NaN when it is gone. */
export function cpuTimes(pid: number): { user: number; system: number } {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { user: Number(f[11]), system: Number(f[12]) };
  } catch {
    return { user: NaN, system: NaN };
  }
}

/** Samples a process's RSS at a fixed interval; `mark()` starts a new named phase. */
export class RssSampler {
  private timer: NodeJS.Timeout | undefined;
  private phase = 'idle';
  readonly peaks = new Map<string, number>();
  readonly series: Array<{ t: number; phase: string; rss: number }> = [];
  private readonly t0 = performance.now();

  constructor(
    private readonly pid: number,
    private readonly intervalMs = 100,
  ) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    return this;
  }

  mark(phase: string): void {
    this.sample();
    this.phase = phase;
    this.sample();
  }

  private sample(): void {
    const rss = rssBytes(this.pid);
    if (Number.isNaN(rss)) return;
    this.series.push({ t: Math.round(performance.now() - this.t0), phase: this.phase, rss });
    this.peaks.set(this.phase, Math.max(this.peaks.get(this.phase) ?? 0, rss));
  }

  stop(): void {
    this.sample();
    if (this.timer) clearInterval(this.timer);
  }

  /** Median RSS of a phase. */
  medianOf(phase: string): number {
    const xs = this.series.filter((s) => s.phase === phase).map((s) => s.rss).sort((a, b) => a - b);
    return xs.length ? xs[xs.length >> 1]! : NaN;
  }
}

/**
 * Waits until the given processes have been idle (at most `maxTicks` clock ticks of CPU over
 * `windowMs`), or `timeoutMs` passed. Returns the milliseconds waited.
 */
export async function waitIdle(pids: number[], { windowMs = 300, maxTicks = 2, timeoutMs = 10_000 } = {}): Promise<number> {
  const t0 = performance.now();
  const total = () => pids.reduce((s, p) => s + (Number.isNaN(cpuTicks(p)) ? 0 : cpuTicks(p)), 0);
  let before = total();
  for (;;) {
    await new Promise((r) => setTimeout(r, windowMs));
    const now = total();
    if (now - before <= maxTicks || performance.now() - t0 >= timeoutMs) return performance.now() - t0;
    before = now;
  }
}

/** Busy clock ticks of the whole machine (all CPUs) since boot, from /proc/stat. */
export function machineBusyTicks(): number {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  // cpu user nice system idle iowait irq softirq steal guest guest_nice
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  return f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!;
}

/**
 * CPU used by processes other than `pids` over `windowMs`, in % of one core (the benchmark's own
 * orchestrator is idle while waiting, so it counts as quiet).
 */
export async function foreignCpuPct(pids: number[], windowMs: number): Promise<number> {
  const mine = () => pids.reduce((s, p) => s + (Number.isNaN(cpuTicks(p)) ? 0 : cpuTicks(p)), 0);
  const b0 = machineBusyTicks();
  const m0 = mine();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, windowMs));
  const ticks = machineBusyTicks() - b0 - (mine() - m0);
  return (ticks / clockTicks() / ((performance.now() - t0) / 1000)) * 100;
}

let clk: number | undefined;
/** USER_HZ: /proc's clock ticks per second (100 on Linux). */
export function clockTicks(): number {
  clk ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;
  return clk;
}
