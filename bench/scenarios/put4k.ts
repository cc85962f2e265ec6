// PUT of 4 KiB objects, concurrency 16, fresh keys. Baseline: one file per object, written with
// open, write, fdatasync, close. Trove keeps such objects inline in SQLite (group commit).

import { KiB, createBucket, fromLoad, load, roundTrip } from './common.js';
import type { Scenario } from './types.js';

const BUCKET = 'bench-put4k';

export const put4k: Scenario = {
  id: 'put4k',
  label: 'put 4KiB c16',
  unit: 'ops/s',
  bare: 'small',
  goal: { kind: 'ratio', min: 1.0 },
  async setup(t, ctx) {
    await createBucket(t, ctx, BUCKET);
    await roundTrip(t, ctx, BUCKET, 4 * KiB);
  },
  async measure(t, ctx, round) {
    const { concurrency, warmupSec, durationSec } = ctx.opts;
    const r = await load(t, ctx, { op: 'put', bucket: BUCKET, size: 4 * KiB, concurrency, warmupSec, durationSec, keys: { kind: 'seq', prefix: `r${round}/`, count: 0 } });
    return fromLoad(r, 'ops');
  },
};
