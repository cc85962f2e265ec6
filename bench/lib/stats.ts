// Small statistics helpers.

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Nearest-rank percentile of an already sorted array (p in 0..100). */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** A growable array of latency samples (milliseconds). */
export class Samples {
  private buf = new Float64Array(4096);
  length = 0;

  push(x: number): void {
    if (this.length === this.buf.length) {
      const b = new Float64Array(this.buf.length * 2);
      b.set(this.buf);
      this.buf = b;
    }
    this.buf[this.length++] = x;
  }

  summary(): { p50: number; p99: number; max: number; mean: number } {
    const s = this.buf.slice(0, this.length).sort();
    let sum = 0;
    for (const x of s) sum += x;
    return { p50: percentileSorted(s, 50), p99: percentileSorted(s, 99), max: s.length ? s[s.length - 1]! : NaN, mean: s.length ? sum / s.length : NaN };
  }
}
