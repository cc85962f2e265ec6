// Reed-Solomon erasure coding over GF(2^8) through @ronomon/reed-solomon: a native addon (N-API)
// that runs in libuv's thread pool, off the event loop. The code is systematic: data shards hold
// the data as is, so a read with every data shard healthy decodes nothing.
//
// Buffers: `data` holds the K data shards one after the other, `parity` the M parity shards, each
// shard `shard` bytes (a multiple of 8). A codeword is the bytes at one position of every shard,
// so any run of stripes, laid out shard by shard, is coded in one call.

import { createRequire } from 'node:module';
import type * as RS from '@ronomon/reed-solomon';

const require = createRequire(import.meta.url);
const rs = require('@ronomon/reed-solomon') as typeof RS;

const contexts = new Map<string, RS.Context>();

function context(k: number, m: number): RS.Context {
  const key = `${k}+${m}`;
  let c = contexts.get(key);
  if (!c) contexts.set(key, (c = rs.create(k, m)));
  return c;
}

/**
 * Recomputes the shards in `targets` (indexes: data 0…K-1, parity K…K+M-1) from those in
 * `sources` (at least K of them), in place.
 */
export function recompute(k: number, m: number, data: Buffer, parity: Buffer, shard: number, sources: number[], targets: number[]): Promise<void> {
  if (shard % 8 !== 0) throw new Error(`shard size ${shard} is not a multiple of 8`);
  if (sources.length < k) throw new Error(`${sources.length} shards to reconstruct from, ${k} needed`);
  if (targets.length === 0) return Promise.resolve();
  let s = 0;
  let t = 0;
  for (const i of sources) s |= 1 << i;
  for (const i of targets) t |= 1 << i;
  return new Promise((resolve, reject) => {
    rs.encode(context(k, m), s, t, data, 0, k * shard, parity, 0, m * shard, (e) => (e ? reject(e) : resolve()));
  });
}

/** Computes the M parity shards of K data shards. */
export function encodeParity(k: number, m: number, data: Buffer, parity: Buffer, shard: number): Promise<void> {
  return recompute(
    k,
    m,
    data,
    parity,
    shard,
    Array.from({ length: k }, (_, i) => i),
    Array.from({ length: m }, (_, i) => k + i),
  );
}

/**
 * Codes `stripes` stripes laid out one after the other (stripe s: K data chunks at s·K·chunk in
 * `data`, M parity chunks at s·M·chunk in `parity`), each on its own: the codec's output depends
 * on the shard size it is given, so every stripe is always coded with shards of exactly `chunk`
 * bytes, by writers, readers and healers alike.
 */
export async function codeStripes(k: number, m: number, data: Buffer, parity: Buffer, chunk: number, stripes: number, sources: number[], targets: number[]): Promise<void> {
  const jobs: Promise<void>[] = [];
  for (let s = 0; s < stripes; s++) {
    jobs.push(recompute(k, m, data.subarray(s * k * chunk, (s + 1) * k * chunk), parity.subarray(s * m * chunk, (s + 1) * m * chunk), chunk, sources, targets));
  }
  await Promise.all(jobs);
}

/** Where shard i's chunk of stripe s lies in stripe-major `data` / `parity` buffers. */
export function chunkOf(k: number, m: number, data: Buffer, parity: Buffer, chunk: number, s: number, i: number): Buffer {
  return i < k ? data.subarray((s * k + i) * chunk, (s * k + i + 1) * chunk) : parity.subarray((s * m + i - k) * chunk, (s * m + i - k + 1) * chunk);
}
