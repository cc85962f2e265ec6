// What the metadata stores report for metrics: one process-wide feed (the stores know nothing of
// Prometheus; src/observe/metrics.ts listens). A call costs nothing when nobody listens.

export interface BatchReport {
  /** Writes committed together in one transaction (SQLite group commit). */
  size: number;
  /** From the batch's BEGIN to the end of its WAL sync (ms). */
  ms: number;
}

type Listener = (r: BatchReport) => void;
const listeners = new Set<Listener>();

export const metaTelemetry = {
  /** Reports a committed batch (src/store/meta/sqlite/commit.ts). */
  batch(size: number, ms: number): void {
    if (listeners.size === 0) return;
    for (const l of listeners) l({ size, ms });
  },
  /** Listens for batches; returns the function that stops listening. */
  onBatch(l: Listener): () => void {
    listeners.add(l);
    return () => listeners.delete(l);
  },
};
