// Memory while a 5 GiB object goes in and out of Trove: the server's RSS (VmRSS) sampled every
// 100 ms: idle, peak during the PUT, peak during the GET. Optional (--big): it takes minutes and
// 5 GiB of disk. The goal (peak − idle ≤ 128 MiB) is the benchmark's reading of "flat".

import { GiB, MiB, createBucket, load } from './common.js';
import { RssSampler } from '../lib/procfs.js';
import type { KeySpec } from '../lib/keys.js';
import type { Scenario } from './types.js';

const BUCKET = 'bench-mem5g';
const SIZE = 5 * GiB;
const KEYS: KeySpec = { kind: 'seq', prefix: 'huge-', count: 1 };
const MAX_GROWTH = 128 * MiB;

const mib = (b: number) => Math.round(b / MiB);

export const mem5g: Scenario = {
  id: 'mem5g',
  label: 'rss 5GiB put+get',
  unit: 'MiB',
  goal: { kind: 'atMost', max: MAX_GROWTH / MiB, text: 'Δ≤128MiB' },
  optionalFlag: 'big',
  rounds: () => 1,
  async setup(t, ctx) {
    await createBucket(t, ctx, BUCKET);
  },
  async measure(t, ctx) {
    const sampler = new RssSampler(t.pid, 100).start();
    try {
      await new Promise((r) => setTimeout(r, 2000));
      sampler.mark('put');
      const put = await load(t, ctx, { op: 'put', bucket: BUCKET, size: SIZE, concurrency: 1, count: 1, keys: KEYS });
      sampler.mark('between');
      await new Promise((r) => setTimeout(r, 1000));
      sampler.mark('get');
      const get = await load(t, ctx, { op: 'get', bucket: BUCKET, size: SIZE, concurrency: 1, count: 1, keys: KEYS });
      sampler.stop();
      const idle = sampler.medianOf('idle');
      const peakPut = sampler.peaks.get('put') ?? NaN;
      const peakGet = sampler.peaks.get('get') ?? NaN;
      const growth = Math.max(peakPut, peakGet) - idle;
      return {
        value: growth / MiB,
        display: `idle ${mib(idle)} put ${mib(peakPut)} get ${mib(peakGet)} MiB`,
        detail: {
          idleRssMiB: mib(idle),
          peakPutRssMiB: mib(peakPut),
          peakGetRssMiB: mib(peakGet),
          putMBps: put.mbPerSec,
          getMBps: get.mbPerSec,
          putSeconds: put.seconds,
          getSeconds: get.seconds,
          samples: sampler.series.length,
          series: sampler.series.map((s) => [s.t, s.phase, mib(s.rss)]),
        },
      };
    } finally {
      sampler.stop();
    }
  },
};
