// PUT of 1 MiB objects, concurrency 16, fresh keys. Baseline: stream to a temp file computing
// MD5, fdatasync, rename into place, fsync the directory.

import { MiB, createBucket, fromLoad, load, roundTrip } from './common.js';
import type { Scenario } from './types.js';

const BUCKET = 'bench-put1m';

export const put1m: Scenario = {
  id: 'put1m',
  label: 'put 1MiB c16',
  unit: 'MB/s',
  bare: 'stream',
  goal: { kind: 'ratio', min: 0.8 },
  async setup(t, ctx) {
    await createBucket(t, ctx, BUCKET);
    await roundTrip(t, ctx, BUCKET, MiB);
  },
  async measure(t, ctx, round) {
    const { concurrency, warmupSec, durationSec } = ctx.opts;
    const r = await load(t, ctx, { op: 'put', bucket: BUCKET, size: MiB, concurrency, warmupSec, durationSec, keys: { kind: 'seq', prefix: `r${round}/`, count: 0 } });
    return fromLoad(r, 'mb');
  },
};
