// The load driver: N concurrent loops issuing one operation after another, either for a fixed
// time after a warm-up, or for a fixed number of operations.

import { clockTicks, treeCpuTicks } from './procfs.js';
import { Samples } from './stats.js';

const CLK_TCK = clockTicks();

export interface LoadSpec {
  concurrency: number;
  /** Seconds of load before measuring starts (ignored in count mode). */
  warmupSec?: number;
  /** Fixed-time mode: measure for this many seconds. */
  durationSec?: number;
  /** Fixed-count mode: run exactly this many operations (all measured). */
  count?: number;
  /** Give up after this many failed operations (default 20). */
  maxErrors?: number;
  /**
   * One operation. `loop` is the loop's index, `seq` the loop's own operation counter (fixed-time
   * mode) or the global operation index (fixed-count mode). Resolves to the payload bytes moved.
   */
  op(loop: number, seq: number): Promise<number>;
  /** Server processes whose CPU (their trees', children included) is read at the window's ends. */
  serverPids?: number[];
}

export interface LoadResult {
  ops: number;
  bytes: number;
  seconds: number;
  opsPerSec: number;
  /** Payload megabytes (10^6 bytes) per second. */
  mbPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  errors: number;
  firstError?: string;
  /** CPU used by this (client) process over the measuring window, in % of one core. */
  clientCpuPct: number;
  /** With serverPids: CPU-seconds the server processes (and their children) used over the window. */
  serverCpuSec?: number;
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const samples = new Samples();
  const maxErrors = spec.maxErrors ?? 20;
  let ops = 0;
  let bytes = 0;
  let errors = 0;
  let firstError: string | undefined;
  let stop = false;

  const t0 = performance.now();
  const countMode = spec.count !== undefined;
  const measureFrom = countMode ? t0 : t0 + (spec.warmupSec ?? 0) * 1000;
  const measureTo = countMode ? Infinity : measureFrom + (spec.durationSec ?? 5) * 1000;
  let next = 0;
  let timer: NodeJS.Timeout | undefined;
  let cpuFrom = process.cpuUsage();
  let cpuTo: NodeJS.CpuUsage | undefined;
  let warmTimer: NodeJS.Timeout | undefined;
  const serverTicks = () => (spec.serverPids ?? []).reduce((sum, pid) => sum + treeCpuTicks(pid), 0);
  let serverFrom = serverTicks();
  let serverTo: number | undefined;
  if (!countMode) {
    warmTimer = setTimeout(() => {
      cpuFrom = process.cpuUsage();
      serverFrom = serverTicks();
    }, measureFrom - t0);
    timer = setTimeout(() => {
      stop = true;
      cpuTo = process.cpuUsage(cpuFrom);
      serverTo = serverTicks();
    }, measureTo - t0);
  }

  const loop = async (l: number): Promise<void> => {
    for (let seq = 0; !stop; seq++) {
      let index = seq;
      if (countMode) {
        if (next >= spec.count!) return;
        index = next++;
      }
      const start = performance.now();
      try {
        const n = await spec.op(l, index);
        const end = performance.now();
        // Throughput counts completions inside the window.
        if (end >= measureFrom && end <= measureTo) {
          ops++;
          bytes += n;
          samples.push(end - start);
        }
      } catch (e) {
        errors++;
        firstError ??= (e as Error).message;
        if (errors >= maxErrors) stop = true;
      }
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, (_, i) => loop(i)));
  if (timer) clearTimeout(timer);
  if (warmTimer) clearTimeout(warmTimer);
  cpuTo ??= process.cpuUsage(cpuFrom);
  serverTo ??= serverTicks();
  const seconds = countMode ? (performance.now() - t0) / 1000 : (measureTo - measureFrom) / 1000;
  const s = samples.summary();
  const result: LoadResult = {
    ops,
    bytes,
    seconds,
    opsPerSec: ops / seconds,
    mbPerSec: bytes / 1e6 / seconds,
    p50Ms: s.p50,
    p99Ms: s.p99,
    maxMs: s.max,
    meanMs: s.mean,
    errors,
    clientCpuPct: Math.round(((cpuTo.user + cpuTo.system) / 1e6 / seconds) * 100),
  };
  if (firstError !== undefined) result.firstError = firstError;
  if (spec.serverPids?.length) result.serverCpuSec = (serverTo - serverFrom) / CLK_TCK;
  return result;
}
