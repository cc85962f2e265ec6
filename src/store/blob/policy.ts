// Storage policies and the layout a blob's id records. Pure functions only: no I/O here.
//
// A storage policy says how a blob is spread over the drives (--data-dirs):
//   replicas N   N full copies on N distinct drives; survives the loss of N-1 drives; costs N×.
//   ec K+M       Reed-Solomon: K data and M parity shards on K+M distinct drives; survives the
//                loss of any M drives; costs (K+M)/K×.
//
// The layout is recorded in the blob id itself, which every layer above treats as opaque (objects,
// parts, reference counts, garbage collection, the orphan sweep): a plain id is 32 hex digits (one
// file in the data directory); a placed blob's id adds its layout:
//
//   <32 hex>.r<N>.<d0>-<d1>-…          replicas on drives d0, d1, …
//   <32 hex>.e<K>x<M>.<d0>-<d1>-…       shard i (data 0…K-1, then parity) on drive di
//
// Drive numbers are positions in --data-dirs. Each shard or replica is a blob file (layout.ts:
// per-block CRC32s and a trailer) named by the whole id on its drive.

export type StoragePolicySpec = { kind: 'replicas'; n: number } | { kind: 'ec'; k: number; m: number };

export interface StoragePolicy {
  name: string;
  spec: StoragePolicySpec;
}

/** The largest shard count: ec K+M and replicas N (the Reed-Solomon codec supports K ≤ 24, M ≤ 6). */
export const MAX_DATA_SHARDS = 24;
export const MAX_PARITY_SHARDS = 6;
export const MAX_REPLICAS = 16;

export const POLICY_NAME_RE = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** Parses `replicas N` or `ec K+M` (also `replicas=N`, `ec:K+M`); throws a readable error. */
export function parsePolicySpec(text: string): StoragePolicySpec {
  const t = text.trim().toLowerCase();
  let m = /^replicas?[\s:=]*(\d+)$/.exec(t);
  if (m) {
    const n = Number(m[1]);
    if (n < 1 || n > MAX_REPLICAS) throw new Error(`replicas must be 1-${MAX_REPLICAS}, got ${n}`);
    return { kind: 'replicas', n };
  }
  m = /^ec[\s:=]*(\d+)\s*\+\s*(\d+)$/.exec(t);
  if (m) {
    const k = Number(m[1]);
    const p = Number(m[2]);
    if (k < 1 || k > MAX_DATA_SHARDS) throw new Error(`ec: data shards must be 1-${MAX_DATA_SHARDS}, got ${k}`);
    if (p < 1 || p > MAX_PARITY_SHARDS) throw new Error(`ec: parity shards must be 1-${MAX_PARITY_SHARDS}, got ${p}`);
    return { kind: 'ec', k, m: p };
  }
  throw new Error(`a storage policy is "replicas N" or "ec K+M", got "${text}"`);
}

export function formatPolicySpec(s: StoragePolicySpec): string {
  return s.kind === 'replicas' ? `replicas ${s.n}` : `ec ${s.k}+${s.m}`;
}

/** Drives a blob of this policy occupies. */
export function width(s: StoragePolicySpec): number {
  return s.kind === 'replicas' ? s.n : s.k + s.m;
}

/** Shards (or replicas) that must be durable before a write is acknowledged. */
export function writeQuorum(s: StoragePolicySpec): number {
  // Replicas: a majority. EC: K, plus one when K = M, so that two disjoint sets of K drives can
  // never both hold a "complete" write (MinIO's rule).
  if (s.kind === 'replicas') return Math.floor(s.n / 2) + 1;
  return s.k === s.m ? s.k + 1 : s.k;
}

/** Shards (or replicas) a read needs. */
export function readQuorum(s: StoragePolicySpec): number {
  return s.kind === 'replicas' ? 1 : s.k;
}

/** Space used per byte stored. */
export function overhead(s: StoragePolicySpec): number {
  return s.kind === 'replicas' ? s.n : (s.k + s.m) / s.k;
}

/** Drives that may fail (or be lost) without losing data. */
export function tolerates(s: StoragePolicySpec): number {
  return s.kind === 'replicas' ? s.n - 1 : s.m;
}

/** A placed blob's layout, as its id records it. */
export interface Layout {
  /** The 32-hex-digit random part. */
  base: string;
  spec: StoragePolicySpec;
  /** drives[i]: the drive holding shard (or replica) i. */
  drives: number[];
}

const LAYOUT_RE = /^([0-9a-f]{32})\.(?:r(\d{1,2})|e(\d{1,2})x(\d))\.(\d{1,3}(?:-\d{1,3})*)$/;

export function layoutId(l: Layout): string {
  const p = l.spec.kind === 'replicas' ? `r${l.spec.n}` : `e${l.spec.k}x${l.spec.m}`;
  return `${l.base}.${p}.${l.drives.join('-')}`;
}

/** The layout of a placed blob's id; undefined for a plain id (or anything else). */
export function parseLayout(id: string): Layout | undefined {
  if (id.length === 32) return undefined;
  const m = LAYOUT_RE.exec(id);
  if (!m) return undefined;
  const spec: StoragePolicySpec = m[2] !== undefined ? { kind: 'replicas', n: Number(m[2]) } : { kind: 'ec', k: Number(m[3]), m: Number(m[4]) };
  const drives = m[5]!.split('-').map(Number);
  if (drives.length !== width(spec) || new Set(drives).size !== drives.length) return undefined;
  return { base: m[1]!, spec, drives };
}

/** Whether `id` is a blob id this store mints: plain or placed. */
export function isBlobId(id: string): boolean {
  return /^[0-9a-f]{32}$/.test(id) || parseLayout(id) !== undefined;
}

/**
 * Chooses `n` distinct drives of `count`, healthy ones first, spreading blobs evenly: a rotation
 * of the drive list starting at a position derived from the blob's random id. Undefined when
 * fewer than `n` drives exist.
 */
export function place(base: string, n: number, count: number, healthy: (d: number) => boolean): number[] | undefined {
  if (n > count) return undefined;
  const start = parseInt(base.slice(0, 8), 16) % count;
  const order = Array.from({ length: count }, (_, i) => (start + i) % count);
  const good = order.filter(healthy);
  const bad = order.filter((d) => !healthy(d));
  return [...good, ...bad].slice(0, n);
}

// Erasure-coding geometry. Data is cut into stripes of K chunks of CHUNK bytes; chunk j of every
// stripe goes to data shard j, and the M parity chunks of each stripe to the parity shards. A
// shard's data is therefore stripes × CHUNK bytes (the last stripe zero-padded), and a CHUNK is one
// checksummed block of the shard's file, so a damaged block costs exactly one chunk of one stripe.

export const CHUNK = 64 * 1024;

export function stripeSize(k: number): number {
  return k * CHUNK;
}

export function stripeCount(size: number, k: number): number {
  return Math.ceil(size / stripeSize(k));
}

/** Bytes of data in each shard file of a blob of `size` bytes. */
export function shardSize(size: number, k: number): number {
  return stripeCount(size, k) * CHUNK;
}

/** Bytes of data in each shard file of a blob of `size` bytes under `spec`. */
export function partSize(spec: StoragePolicySpec, size: number): number {
  return spec.kind === 'replicas' ? size : shardSize(size, spec.k);
}
