// What a scenario is. Each scenario is a small module in bench/scenarios/ registered in
// bench/scenarios/index.ts. The runner starts fresh servers for it (the bare baseline in the
// scenario's mode, and Trove), calls setup() on each, then alternates measure() between them
// (bare, trove, trove, bare, bare, trove… so that linear drift cancels), waiting for both servers
// to go idle between measurements, and reports medians and the ratio of medians.

import type { Endpoint } from '../lib/s3client.js';
import type { ServerKind } from '../lib/servers.js';

export interface BenchOptions {
  /** Seconds measured per round of a fixed-time load. */
  durationSec: number;
  /** Seconds of load before measuring (per round). */
  warmupSec: number;
  /** Rounds per server (alternations). */
  rounds: number;
  /** Concurrency of the loads (the issue asks for 16). */
  concurrency: number;
  serverCpu: string;
  clientCpu: string;
  /** Where fresh data directories are made. */
  dataRoot: string;
}

export interface Target {
  kind: ServerKind;
  endpoint: Endpoint;
  pid: number;
  dataDir: string;
  /**
   * Roots of the process trees whose CPU is the server's (Trove and, with --meta postgres, the
   * PostgreSQL postmaster); absent: [pid].
   */
  serverPids?: number[];
  /** Trove's PostgreSQL database (--meta postgres); absent: SQLite in <dataDir>/meta. */
  metaUrl?: string;
}

export interface RunContext {
  readonly opts: BenchOptions;
  /**
   * Runs a job in a fresh load-client process pinned to the client core: `module` relative to
   * dist/bench/ (e.g. 'lib/jobs.js'), `fn` an exported async function taking `args` (JSON).
   */
  job<T>(module: string, fn: string, args: unknown): Promise<T>;
  log(msg: string): void;
}

/** One round's figure for one server. */
export interface Measurement {
  /** The figure compared (in the scenario's unit). */
  value: number;
  p50Ms?: number;
  p99Ms?: number;
  /**
   * Replaces the formatted value in the table (e.g. several memory figures). Over several rounds
   * the table shows the display of the median round (the round whose value is the median).
   */
  display?: string;
  /**
   * Keys the runner reads: clientCpuPct (the load client's CPU over its measuring window, % of one
   * core: ≥90 marks the row as client-bound), serverCpuPct (set by the runner over the whole
   * measure() call unless the scenario measured it itself, e.g. per phase).
   */
  detail?: Record<string, unknown>;
  /** The figures of the scenario's further rows (Scenario.rows) from this same round, by row key. */
  rows?: Record<string, Measurement>;
}

/** A further table row of a scenario, filled from Measurement.rows[key] of the same rounds. */
export interface Row {
  /** Row id is `<scenario id>.<key>`. */
  key: string;
  label: string;
  unit: string;
  goal: Goal;
}

export type Goal =
  /** Trove / bare must be at least `min`. */
  | { kind: 'ratio'; min: number }
  /** Trove's value must be at least `min` (in `unit`). */
  | { kind: 'atLeast'; min: number; text: string }
  /** Trove's value must be at most `max` (in `unit`). */
  | { kind: 'atMost'; max: number; text: string }
  /** Trove / bare must be at most `max` (costs: CPU per operation). */
  | { kind: 'ratioAtMost'; max: number }
  /** No target: the figure is shown for information. */
  | { kind: 'none' };

export interface Scenario {
  /** Name for --only. */
  id: string;
  /** Row label, e.g. "put 4KiB c16". */
  label: string;
  /** Unit of Measurement.value, e.g. "ops/s", "MB/s", "keys/s". */
  unit: string;
  /** Baseline mode of the bare server; absent for Trove-only scenarios. */
  bare?: 'small' | 'stream';
  /**
   * The baseline is Trove itself, started with these extra flags (e.g. --no-metrics --no-usage),
   * instead of the bare server: the table's "bare" column is that Trove, and the ratio is the
   * cost of what the flags turn off, measured in the same alternated rounds.
   */
  baselineTroveArgs?: string[];
  goal: Goal;
  /** Not run by default; needs its flag (e.g. --big) or --only. */
  optionalFlag?: string;
  /**
   * Further rows measured in the same rounds (e.g. the download of the object a round uploaded):
   * each gets its own figures, ratio and goal. Their values come from Measurement.rows.
   */
  rows?: Row[];
  /** Rounds per server, when the default does not suit (e.g. one long 5 GiB transfer). */
  rounds?(opts: BenchOptions): number;
  /**
   * Scenarios naming the same fixture and run one after another share servers, and only the first
   * one's setup() runs (e.g. two listings of one populated bucket).
   */
  fixture?: string;
  /** Extra node flags for Trove (e.g. a larger heap), if any. */
  troveNodeFlags?: string[];
  setup?(t: Target, ctx: RunContext): Promise<void>;
  /**
   * Trove is stopped and started again on the same data (and database) after setup(), before any
   * measurement: for a setup that wrote to the store behind the server's back.
   */
  restartAfterSetup?: boolean;
  /** Called once per server after that restart (e.g. a check of what setup wrote). */
  afterRestart?(t: Target, ctx: RunContext): Promise<void>;
  measure(t: Target, ctx: RunContext, round: number): Promise<Measurement>;
}
