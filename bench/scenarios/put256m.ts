// One 256 MiB object PUT per round (after one unmeasured warm-up PUT). Baseline as for 1 MiB.

import { MiB, createBucket, fromLoad, load } from './common.js';
import type { Scenario } from './types.js';

const BUCKET = 'bench-put256m';
const SIZE = 256 * MiB;

export const put256m: Scenario = {
  id: 'put256m',
  label: 'put 256MiB x1',
  unit: 'MB/s',
  bare: 'stream',
  goal: { kind: 'ratio', min: 0.8 },
  async setup(t, ctx) {
    await createBucket(t, ctx, BUCKET);
    await load(t, ctx, { op: 'put', bucket: BUCKET, size: SIZE, concurrency: 1, count: 1, keys: { kind: 'seq', prefix: 'warmup-', count: 1 } });
  },
  async measure(t, ctx, round) {
    return fromLoad(await load(t, ctx, { op: 'put', bucket: BUCKET, size: SIZE, concurrency: 1, count: 1, keys: { kind: 'seq', prefix: `r${round}-`, count: 1 } }), 'mb');
  },
};
