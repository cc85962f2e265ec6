// Server-side encryption: PUT and GET of 1 MiB objects (as put1m / get1m) and of one 256 MiB
// object (as put256m / get256m) with SSE-S3 and with SSE-C. Compare each row's ratio with the
// plain scenario's in the same run (the goal: at least 0.8 of the same run without
// encryption). The bare server gets no encryption headers: it does exactly what it does for the
// plain scenario.

import { createHash } from 'node:crypto';
import { MiB, createBucket, fromLoad, load, populate, roundTrip } from './common.js';
import type { KeySpec } from '../lib/keys.js';
import type { Scenario, Target } from './types.js';

const SSE_S3 = { 'x-amz-server-side-encryption': 'AES256' };
const CUSTOMER_KEY = Buffer.alloc(32, 7);
const SSE_C = {
  'x-amz-server-side-encryption-customer-algorithm': 'AES256',
  'x-amz-server-side-encryption-customer-key': CUSTOMER_KEY.toString('base64'),
  'x-amz-server-side-encryption-customer-key-md5': createHash('md5').update(CUSTOMER_KEY).digest('base64'),
};

function headersFor(t: Target, headers: Record<string, string>): Record<string, string> | undefined {
  return t.kind === 'trove' ? headers : undefined;
}

function putScenario(id: string, label: string, headers: Record<string, string>): Scenario {
  const bucket = `bench-${id}`;
  return {
    id,
    label,
    unit: 'MB/s',
    bare: 'stream',
    goal: { kind: 'ratio', min: 0.8 },
    async setup(t, ctx) {
      await createBucket(t, ctx, bucket);
      await roundTrip(t, ctx, bucket, MiB);
    },
    async measure(t, ctx, round) {
      const { concurrency, warmupSec, durationSec } = ctx.opts;
      const h = headersFor(t, headers);
      const r = await load(t, ctx, { op: 'put', bucket, size: MiB, concurrency, warmupSec, durationSec, keys: { kind: 'seq', prefix: `r${round}/`, count: 0 }, ...(h ? { headers: h } : {}) });
      return fromLoad(r, 'mb');
    },
  };
}

/** `written`: headers of the PUTs that populate the bucket; `read`: of the GETs (SSE-S3: none). */
function getScenario(id: string, label: string, written: Record<string, string>, read: Record<string, string>): Scenario {
  const bucket = `bench-${id}`;
  const keys: KeySpec = { kind: 'seq', prefix: 'obj/', count: 256 };
  return {
    id,
    label,
    unit: 'MB/s',
    bare: 'stream',
    goal: { kind: 'ratio', min: 0.8 },
    async setup(t, ctx) {
      await createBucket(t, ctx, bucket);
      await roundTrip(t, ctx, bucket, MiB);
      await populate(t, ctx, bucket, keys, MiB, ctx.opts.concurrency, headersFor(t, written));
    },
    async measure(t, ctx) {
      const { concurrency, warmupSec, durationSec } = ctx.opts;
      const h = headersFor(t, read);
      return fromLoad(await load(t, ctx, { op: 'get', bucket, size: MiB, concurrency, warmupSec, durationSec, keys, ...(h ? { headers: h } : {}) }), 'mb');
    },
  };
}

export const put1mSseS3 = putScenario('put1m-sse-s3', 'put 1MiB c16 SSE-S3', SSE_S3);
export const get1mSseS3 = getScenario('get1m-sse-s3', 'get 1MiB c16 SSE-S3', SSE_S3, {});
export const put1mSseC = putScenario('put1m-sse-c', 'put 1MiB c16 SSE-C', SSE_C);
export const get1mSseC = getScenario('get1m-sse-c', 'get 1MiB c16 SSE-C', SSE_C, SSE_C);

const BIG = 256 * MiB;

function put256Scenario(id: string, label: string, headers: Record<string, string>): Scenario {
  const bucket = `bench-${id}`;
  return {
    id,
    label,
    unit: 'MB/s',
    bare: 'stream',
    goal: { kind: 'ratio', min: 0.8 },
    async setup(t, ctx) {
      await createBucket(t, ctx, bucket);
      const h = headersFor(t, headers);
      await load(t, ctx, { op: 'put', bucket, size: BIG, concurrency: 1, count: 1, keys: { kind: 'seq', prefix: 'warmup-', count: 1 }, ...(h ? { headers: h } : {}) });
    },
    async measure(t, ctx, round) {
      const h = headersFor(t, headers);
      return fromLoad(await load(t, ctx, { op: 'put', bucket, size: BIG, concurrency: 1, count: 1, keys: { kind: 'seq', prefix: `r${round}-`, count: 1 }, ...(h ? { headers: h } : {}) }), 'mb');
    },
  };
}

function get256Scenario(id: string, label: string, written: Record<string, string>, read: Record<string, string>): Scenario {
  const bucket = `bench-${id}`;
  const keys: KeySpec = { kind: 'seq', prefix: 'big-', count: 1 };
  return {
    id,
    label,
    unit: 'MB/s',
    bare: 'stream',
    goal: { kind: 'ratio', min: 0.8 },
    async setup(t, ctx) {
      await createBucket(t, ctx, bucket);
      const w = headersFor(t, written);
      const r = headersFor(t, read);
      await load(t, ctx, { op: 'put', bucket, size: BIG, concurrency: 1, count: 1, keys, ...(w ? { headers: w } : {}) });
      await load(t, ctx, { op: 'get', bucket, size: BIG, concurrency: 1, count: 1, keys, ...(r ? { headers: r } : {}) });
    },
    async measure(t, ctx) {
      const h = headersFor(t, read);
      return fromLoad(await load(t, ctx, { op: 'get', bucket, size: BIG, concurrency: 1, count: 1, keys, ...(h ? { headers: h } : {}) }), 'mb');
    },
  };
}

export const put256mSseS3 = put256Scenario('put256m-sse-s3', 'put 256MiB x1 SSE-S3', SSE_S3);
export const get256mSseS3 = get256Scenario('get256m-sse-s3', 'get 256MiB x1 SSE-S3', SSE_S3, {});
export const put256mSseC = put256Scenario('put256m-sse-c', 'put 256MiB x1 SSE-C', SSE_C);
export const get256mSseC = get256Scenario('get256m-sse-c', 'get 256MiB x1 SSE-C', SSE_C, SSE_C);
