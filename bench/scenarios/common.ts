// Helpers shared by scenario modules.

import type { LoadJobArgs } from '../lib/jobs.js';
import type { LoadResult } from '../lib/load.js';
import type { KeySpec } from '../lib/keys.js';
import type { Measurement, RunContext, Target } from './types.js';

export const KiB = 1024;
export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

export async function createBucket(t: Target, ctx: RunContext, bucket: string): Promise<void> {
  await ctx.job('lib/jobs.js', 'createBucket', { endpoint: t.endpoint, bucket });
}

/** Writes one object and reads it back, comparing bytes (run once per server in setup). */
export async function roundTrip(t: Target, ctx: RunContext, bucket: string, size: number): Promise<void> {
  await ctx.job('lib/jobs.js', 'roundTrip', { endpoint: t.endpoint, bucket, key: `roundtrip-${size}`, size });
}

export async function load(t: Target, ctx: RunContext, args: Omit<LoadJobArgs, 'endpoint'>): Promise<LoadResult> {
  const r = await ctx.job<LoadResult>('lib/jobs.js', 'load', { serverPids: t.serverPids ?? [t.pid], ...args, endpoint: t.endpoint });
  if (r.errors > 0) throw new Error(`${t.kind}: ${r.errors} failed operations; first: ${r.firstError}`);
  if (r.ops === 0) throw new Error(`${t.kind}: no operation completed inside the measuring window`);
  return r;
}

/** Populates `count` objects of `size` bytes (fixed-count PUT load). */
export async function populate(t: Target, ctx: RunContext, bucket: string, keys: KeySpec, size: number, concurrency = ctx.opts.concurrency, headers?: Record<string, string>): Promise<LoadResult> {
  const r = await load(t, ctx, { op: 'put', bucket, size, concurrency, count: keys.count, keys, ...(headers ? { headers } : {}) });
  ctx.log(`  ${t.kind}: populated ${r.ops} × ${size} B in ${r.seconds.toFixed(1)} s (${Math.round(r.opsPerSec)} PUT/s)`);
  return r;
}

export function fromLoad(r: LoadResult, metric: 'ops' | 'mb'): Measurement {
  return {
    value: metric === 'ops' ? r.opsPerSec : r.mbPerSec,
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    detail: {
      ops: r.ops,
      seconds: r.seconds,
      opsPerSec: r.opsPerSec,
      mbPerSec: r.mbPerSec,
      meanMs: r.meanMs,
      maxMs: r.maxMs,
      clientCpuPct: r.clientCpuPct,
      ...(r.serverCpuSec !== undefined && r.ops > 0 ? { serverCpuMsPerOp: (r.serverCpuSec * 1000) / r.ops } : {}),
    },
  };
}
