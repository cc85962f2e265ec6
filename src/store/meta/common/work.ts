// What both stores' work queues share: the statistics' shape.

import type { WorkKindStats, WorkStats } from '../types.js';

/** One kind's figures as both stores' queries answer them. */
export interface StatsRow {
  kind: string;
  depth: number;
  due: number;
  running: number;
  failing: number;
  oldest_due: number | null;
  max_attempts: number;
}

/** Totals from per-kind rows . */
export function statsOf(rows: StatsRow[], now: number): WorkStats {
  const kinds: WorkKindStats[] = rows.map((r) => ({
    kind: r.kind,
    depth: Number(r.depth),
    due: Number(r.due),
    running: Number(r.running),
    failing: Number(r.failing),
    lagMs: r.oldest_due === null ? 0 : Math.max(0, now - Number(r.oldest_due)),
    maxAttempts: Number(r.max_attempts),
  }));
  return {
    depth: kinds.reduce((n, k) => n + k.depth, 0),
    lagMs: kinds.reduce((n, k) => Math.max(n, k.lagMs), 0),
    failing: kinds.reduce((n, k) => n + k.failing, 0),
    kinds,
  };
}
