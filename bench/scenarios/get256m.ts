// One 256 MiB object GET per round (the object is written, and read once unmeasured, in setup).

import { MiB, createBucket, fromLoad, load } from './common.js';
import type { KeySpec } from '../lib/keys.js';
import type { Scenario } from './types.js';

const BUCKET = 'bench-get256m';
const SIZE = 256 * MiB;
const KEYS: KeySpec = { kind: 'seq', prefix: 'big-', count: 1 };

export const get256m: Scenario = {
  id: 'get256m',
  label: 'get 256MiB x1',
  unit: 'MB/s',
  bare: 'stream',
  goal: { kind: 'ratio', min: 0.8 },
  async setup(t, ctx) {
    await createBucket(t, ctx, BUCKET);
    await load(t, ctx, { op: 'put', bucket: BUCKET, size: SIZE, concurrency: 1, count: 1, keys: KEYS });
    await load(t, ctx, { op: 'get', bucket: BUCKET, size: SIZE, concurrency: 1, count: 1, keys: KEYS });
  },
  async measure(t, ctx) {
    return fromLoad(await load(t, ctx, { op: 'get', bucket: BUCKET, size: SIZE, concurrency: 1, count: 1, keys: KEYS }), 'mb');
  },
};
