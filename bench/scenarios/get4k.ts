// GET of 4 KiB objects, concurrency 16, over 4096 objects read round robin. Baseline: read the
// object's file (fs.readFile) and send it.

import { KiB, createBucket, fromLoad, load, populate, roundTrip } from './common.js';
import type { KeySpec } from '../lib/keys.js';
import type { Scenario } from './types.js';

const BUCKET = 'bench-get4k';
const KEYS: KeySpec = { kind: 'seq', prefix: 'obj/', count: 4096 };

export const get4k: Scenario = {
  id: 'get4k',
  label: 'get 4KiB c16',
  unit: 'ops/s',
  bare: 'small',
  goal: { kind: 'ratio', min: 0.7 },
  async setup(t, ctx) {
    await createBucket(t, ctx, BUCKET);
    await roundTrip(t, ctx, BUCKET, 4 * KiB);
    await populate(t, ctx, BUCKET, KEYS, 4 * KiB);
  },
  async measure(t, ctx) {
    const { concurrency, warmupSec, durationSec } = ctx.opts;
    return fromLoad(await load(t, ctx, { op: 'get', bucket: BUCKET, size: 4 * KiB, concurrency, warmupSec, durationSec, keys: KEYS }), 'ops');
  },
};
