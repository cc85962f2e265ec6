// Prometheus metrics (prom-client), one registry per server. The request path only bumps
// counters and observes a histogram (cached label children: no allocation per request); what
// needs a store query (the engine's queue) or a system call (free space) is read when scraped,
// at most once per SAMPLE_MS, so a scrape storm never becomes a store load.

import client from 'prom-client';
import type { App } from '../app.js';
import { statfsFree } from '../store/space.js';
import { metaTelemetry } from '../store/meta/telemetry.js';
import type { WorkStats } from '../store/meta/types.js';
import { IAM_ACTIONS } from '../iam/api.js';
import { STS_ACTIONS } from '../sts/api.js';

/**
 * IAM and STS requests are named by their `Action` parameter, which the client chooses: only
 * actions these APIs have become labels (`iam:other` otherwise), so a client cannot grow the
 * series without bound. Other names are the server's own (the S3 operation table's and a few
 * fixed ones).
 */
const QUERY_ACTIONS = new Set([...IAM_ACTIONS.map((a) => `iam:${a.name}`), ...STS_ACTIONS.map((a) => `sts:${a.name}`)]);
function operationLabel(op: string): string {
  if (op.startsWith('iam:') || op.startsWith('sts:')) return QUERY_ACTIONS.has(op) ? op : `${op.slice(0, 3)}:other`;
  return op;
}

/** Store-backed samples are reused for this long. */
const SAMPLE_MS = 2000;

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];
const COMMIT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

interface RequestChildren {
  count: client.Counter.Internal;
}

interface OpChildren {
  latency: client.Histogram.Internal<string>;
  bytesIn: client.Counter.Internal;
  bytesOut: client.Counter.Internal;
}

export class Metrics {
  readonly registry = new client.Registry();
  private readonly requests: client.Counter<string>;
  private readonly latency: client.Histogram<string>;
  private readonly bytesIn: client.Counter<string>;
  private readonly bytesOut: client.Counter<string>;
  private readonly inFlight: client.Gauge<string>;
  private readonly byStatus = new Map<string, RequestChildren>();
  private readonly byOp = new Map<string, OpChildren>();
  private readonly stopBatches: () => void;
  private work: { at: number; value: Promise<WorkStats | undefined> } | undefined;
  private free: { at: number; value: Promise<number | undefined> } | undefined;

  constructor(private readonly app: Pick<App, 'meta' | 'config' | 'counters' | 'gc' | 'log' | 'storage'>) {
    const r = this.registry;
    client.collectDefaultMetrics({ register: r, prefix: 'trove_' });
    this.requests = new client.Counter({ name: 'trove_requests_total', help: 'Requests answered, by operation (the S3 operation table\'s name, or the IAM/STS action) and HTTP status.', labelNames: ['operation', 'status'], registers: [r] });
    this.latency = new client.Histogram({ name: 'trove_request_duration_seconds', help: 'Time from the request\'s arrival to the end of its response, by operation.', labelNames: ['operation'], buckets: LATENCY_BUCKETS, registers: [r] });
    this.bytesIn = new client.Counter({ name: 'trove_request_bytes_total', help: 'Request body bytes received (decoded payload), by operation.', labelNames: ['operation'], registers: [r] });
    this.bytesOut = new client.Counter({ name: 'trove_response_bytes_total', help: 'Response body bytes sent, by operation.', labelNames: ['operation'], registers: [r] });
    this.inFlight = new client.Gauge({ name: 'trove_requests_in_flight', help: 'Requests being served now.', registers: [r] });

    const batchSize = new client.Histogram({ name: 'trove_meta_commit_batch_size', help: 'Writes per group-commit batch of the SQLite metadata store.', buckets: BATCH_BUCKETS, registers: [r] });
    const commitSeconds = new client.Histogram({ name: 'trove_meta_commit_duration_seconds', help: 'Metadata commit latency: one group-commit batch from BEGIN to the end of its WAL sync (SQLite).', buckets: COMMIT_BUCKETS, registers: [r] });
    // Process-wide feed: several servers in one process (tests) each count every batch.
    this.stopBatches = metaTelemetry.onBatch(({ size, ms }) => {
      batchSize.observe(size);
      commitSeconds.observe(ms / 1000);
    });

    const self = this;
    new client.Gauge({
      name: 'trove_work_queue_depth', help: 'Items of the durable work engine\'s queue (due, scheduled or claimed), by kind.', labelNames: ['kind'], registers: [r],
      async collect() {
        const s = await self.workStats();
        this.reset();
        for (const k of s?.kinds ?? []) this.set({ kind: k.kind }, k.depth);
      },
    });
    new client.Gauge({
      name: 'trove_work_queue_lag_seconds', help: 'How long the oldest due item of each kind has waited.', labelNames: ['kind'], registers: [r],
      async collect() {
        const s = await self.workStats();
        this.reset();
        for (const k of s?.kinds ?? []) this.set({ kind: k.kind }, k.lagMs / 1000);
      },
    });
    new client.Gauge({
      name: 'trove_work_queue_failing', help: 'Items whose last attempt failed (retried with backoff), by kind.', labelNames: ['kind'], registers: [r],
      async collect() {
        const s = await self.workStats();
        this.reset();
        for (const k of s?.kinds ?? []) this.set({ kind: k.kind }, k.failing);
      },
    });
    new client.Gauge({
      name: 'trove_data_dir_free_bytes', help: 'Free bytes on the data directory\'s filesystem.', registers: [r],
      async collect() {
        const v = await self.freeBytes();
        if (v !== undefined) this.set(v);
      },
    });
    new client.Gauge({
      name: 'trove_data_dir_min_free_bytes', help: 'Below this many free bytes writes are refused (--min-free).', registers: [r],
      collect() {
        this.set(app.config.minFree);
      },
    });
    new client.Counter({
      name: 'trove_integrity_failures_total', help: 'Reads refused because stored bytes did not verify (missing or damaged blobs, inline data).', registers: [r],
      collect() {
        this.reset();
        this.inc(app.counters.integrityFailures);
      },
    });
    const storageCounter = (name: string, help: string, pick: (s: ReturnType<App['storage']['stats']>) => number) =>
      new client.Counter({
        name, help, registers: [r],
        collect() {
          this.reset();
          this.inc(pick(app.storage.stats()));
        },
      });
    storageCounter('trove_storage_degraded_writes_total', 'Writes under a storage policy acknowledged with fewer shards (replicas) than the policy wants, the rest queued for healing.', (s) => s.degradedWrites);
    storageCounter('trove_storage_degraded_reads_total', 'Reads that met a missing or damaged shard (replica) and served the right bytes from the others.', (s) => s.degradedReads);
    storageCounter('trove_storage_shards_healed_total', 'Shards (replicas) rewritten by heal work and the scrubber in this process.', (s) => s.healed);
    storageCounter('trove_storage_blobs_lost_total', 'Blobs heal work found with fewer intact shards than a read needs.', (s) => s.healFailures);
    new client.Gauge({
      name: 'trove_storage_drives', help: 'Drives (--data-dirs) by state.', labelNames: ['state'], registers: [r],
      collect() {
        const s = app.storage.stats();
        this.set({ state: 'online' }, s.online);
        this.set({ state: 'offline' }, s.offline);
      },
    });
    new client.Counter({
      name: 'trove_gc_blobs_deleted_total', help: 'Released blob files deleted by the garbage collector of this process.', registers: [r],
      collect() {
        this.reset();
        this.inc(app.gc.collected);
      },
    });
    const pool = (app.meta as { db?: { pool?: { totalCount: number; idleCount: number; waitingCount: number } } }).db?.pool;
    if (pool) {
      new client.Gauge({
        name: 'trove_meta_pool_connections', help: 'PostgreSQL pool connections of this process, by state.', labelNames: ['state'], registers: [r],
        collect() {
          this.set({ state: 'total' }, pool.totalCount);
          this.set({ state: 'idle' }, pool.idleCount);
        },
      });
      new client.Gauge({
        name: 'trove_meta_pool_waiting', help: 'Queries waiting for a PostgreSQL pool connection.', registers: [r],
        collect() {
          this.set(pool.waitingCount);
        },
      });
    }
  }

  /** A request arrived. */
  started(): void {
    this.inFlight.inc();
  }

  /** A request's response ended (or its connection closed). */
  finished(op: string, status: number, seconds: number, bytesIn: number, bytesOut: number): void {
    this.inFlight.dec();
    const operation = operationLabel(op);
    const k = `${operation} ${status}`;
    let rc = this.byStatus.get(k);
    if (!rc) {
      rc = { count: this.requests.labels(operation, String(status)) };
      this.byStatus.set(k, rc);
    }
    rc.count.inc();
    let oc = this.byOp.get(operation);
    if (!oc) {
      oc = { latency: this.latency.labels(operation), bytesIn: this.bytesIn.labels(operation), bytesOut: this.bytesOut.labels(operation) };
      this.byOp.set(operation, oc);
    }
    oc.latency.observe(seconds);
    if (bytesIn > 0) oc.bytesIn.inc(bytesIn);
    if (bytesOut > 0) oc.bytesOut.inc(bytesOut);
  }

  /** The exposition text and its content type. */
  async render(): Promise<{ body: string; contentType: string }> {
    return { body: await this.registry.metrics(), contentType: this.registry.contentType };
  }

  close(): void {
    this.stopBatches();
  }

  private workStats(): Promise<WorkStats | undefined> {
    const now = Date.now();
    if (!this.work || now - this.work.at > SAMPLE_MS) {
      this.work = {
        at: now,
        value: this.app.meta.workStats().catch((e: unknown) => {
          this.app.log.warn({ err: e }, 'metrics: cannot read the work queue');
          return undefined;
        }),
      };
    }
    return this.work.value;
  }

  private freeBytes(): Promise<number | undefined> {
    const now = Date.now();
    if (!this.free || now - this.free.at > SAMPLE_MS) this.free = { at: now, value: statfsFree(this.app.config.dataDir).catch(() => undefined) };
    return this.free.value;
  }
}
