// The cost of metrics and usage accounting on the hot path: put4k and get4k against Trove with
// Prometheus metrics and usage reports' request counting on (the default) and, as the baseline
// (the table's "bare" column), the same Trove started with --no-metrics --no-usage, measured in
// the same alternated rounds. Target: at most 5 % fewer operations per second, and at most 5 %
// more server CPU per operation (the second row: µs of server CPU, user + system, per request,
// read from /proc over the measuring window; on a shared machine this is the figure to trust).

import { KiB, createBucket, fromLoad, load, populate, roundTrip } from './common.js';
import type { KeySpec } from '../lib/keys.js';
import type { Measurement, Scenario } from './types.js';

const OFF = ['--no-metrics', '--no-usage'];
const GET_KEYS: KeySpec = { kind: 'seq', prefix: 'obj/', count: 4096 };

/** The load's figure, and its server CPU per operation as the 'cpu' row. */
function withCpu(m: Measurement): Measurement {
  const ms = m.detail?.['serverCpuMsPerOp'];
  if (typeof ms !== 'number') throw new Error('the load did not measure the server\'s CPU');
  return { ...m, rows: { cpu: { value: ms * 1000 } } };
}

const cpuRow = { key: 'cpu', label: '  server CPU per op (on/off)', unit: 'µs', goal: { kind: 'ratioAtMost', max: 1.05 } } as const;

export const put4kAccounting: Scenario = {
  id: 'put4k-acct',
  label: 'put 4KiB c16, metrics+usage on (bare: off)',
  unit: 'ops/s',
  baselineTroveArgs: OFF,
  goal: { kind: 'ratio', min: 0.95 },
  rows: [cpuRow],
  async setup(t, ctx) {
    await createBucket(t, ctx, 'bench-put4k-acct');
    await roundTrip(t, ctx, 'bench-put4k-acct', 4 * KiB);
  },
  async measure(t, ctx, round) {
    const { concurrency, warmupSec, durationSec } = ctx.opts;
    const r = await load(t, ctx, { op: 'put', bucket: 'bench-put4k-acct', size: 4 * KiB, concurrency, warmupSec, durationSec, keys: { kind: 'seq', prefix: `r${round}/`, count: 0 } });
    return withCpu(fromLoad(r, 'ops'));
  },
};

export const get4kAccounting: Scenario = {
  id: 'get4k-acct',
  label: 'get 4KiB c16, metrics+usage on (bare: off)',
  unit: 'ops/s',
  baselineTroveArgs: OFF,
  goal: { kind: 'ratio', min: 0.95 },
  rows: [cpuRow],
  async setup(t, ctx) {
    await createBucket(t, ctx, 'bench-get4k-acct');
    await roundTrip(t, ctx, 'bench-get4k-acct', 4 * KiB);
    await populate(t, ctx, 'bench-get4k-acct', GET_KEYS, 4 * KiB);
  },
  async measure(t, ctx) {
    const { concurrency, warmupSec, durationSec } = ctx.opts;
    return withCpu(fromLoad(await load(t, ctx, { op: 'get', bucket: 'bench-get4k-acct', size: 4 * KiB, concurrency, warmupSec, durationSec, keys: GET_KEYS }), 'ops'));
  },
};
