// GET of 1 MiB objects, concurrency 16, over 256 objects read round robin. Baseline: stream the
// file.

import { MiB, createBucket, fromLoad, load, populate, roundTrip } from './common.js';
import type { KeySpec } from '../lib/keys.js';
import type { Scenario } from './types.js';

const BUCKET = 'bench-get1m';
const KEYS: KeySpec = { kind: 'seq', prefix: 'obj/', count: 256 };

export const get1m: Scenario = {
  id: 'get1m',
  label: 'get 1MiB c16',
  unit: 'MB/s',
  bare: 'stream',
  goal: { kind: 'ratio', min: 0.8 },
  async setup(t, ctx) {
    await createBucket(t, ctx, BUCKET);
    await roundTrip(t, ctx, BUCKET, MiB);
    await populate(t, ctx, BUCKET, KEYS, MiB);
  },
  async measure(t, ctx) {
    const { concurrency, warmupSec, durationSec } = ctx.opts;
    return fromLoad(await load(t, ctx, { op: 'get', bucket: BUCKET, size: MiB, concurrency, warmupSec, durationSec, keys: KEYS }), 'mb');
  },
};
