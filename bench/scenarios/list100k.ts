// Listing a bucket of 100,000 keys shaped dir%03d/file%05d (100 directories of 1000), with
// ListObjectsV2 pages of 1000: a flat walk (no delimiter), and a delimiter '/' walk (the root
// page, whose 100 common prefixes fold every key, then each directory listed with the
// delimiter). Trove only (the bare server cannot list). Reported as keys returned per second.

import { createBucket, populate } from './common.js';
import type { ListJobArgs, ListJobResult } from '../lib/jobs.js';
import type { KeySpec } from '../lib/keys.js';
import type { Measurement, RunContext, Scenario, Target } from './types.js';

const BUCKET = 'bench-list100k';
const KEYS: Extract<KeySpec, { kind: 'tree' }> = { kind: 'tree', count: 100_000, perDir: 1000 };

async function setup(t: Target, ctx: RunContext): Promise<void> {
  await createBucket(t, ctx, BUCKET);
  // Tiny objects (1 byte): cheap to write, and listings show a real size.
  await populate(t, ctx, BUCKET, KEYS, 1, 32);
}

async function walk(t: Target, ctx: RunContext, mode: ListJobArgs['mode']): Promise<Measurement> {
  const args: ListJobArgs = { endpoint: t.endpoint, bucket: BUCKET, maxKeys: 1000, mode };
  const r = await ctx.job<ListJobResult>('lib/jobs.js', 'list', args);
  if (r.keys !== KEYS.count) throw new Error(`${mode} listing returned ${r.keys} keys, expected ${KEYS.count}`);
  const wantPrefixes = mode === 'tree' ? KEYS.count / KEYS.perDir : 0;
  if (r.prefixes !== wantPrefixes) throw new Error(`${mode} listing returned ${r.prefixes} common prefixes, expected ${wantPrefixes}`);
  return { value: r.keysPerSec, p50Ms: r.pageP50Ms, p99Ms: r.pageP99Ms, detail: { ...r } };
}

const common = {
  unit: 'keys/s',
  goal: { kind: 'atLeast', min: 100_000, text: '≥100k' },
  fixture: 'list100k',
  setup,
} as const;

export const list100k: Scenario = {
  ...common,
  id: 'list100k',
  label: 'list 100k',
  measure: (t, ctx) => walk(t, ctx, 'flat'),
};

export const list100kDelimiter: Scenario = {
  ...common,
  id: 'list100k/',
  label: 'list 100k delim /',
  measure: (t, ctx) => walk(t, ctx, 'tree'),
};
