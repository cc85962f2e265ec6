// `trove server --workers N`: N worker processes serve one listening socket (node:cluster; the
// primary accepts connections and hands them to the workers in turn). The primary serves nothing
// itself: it prepares the data directory (migrations and root credentials, once, before any
// worker opens it), starts the workers, starts a worker again when one dies, and on SIGTERM or
// SIGINT asks each to stop gracefully (no new connections, in-flight requests finish, stores
// close), exiting once all are gone. A second signal kills them at once.
//
// What makes N processes over one data directory correct is in the stores: per-process temp
// directories (FsBlobStore), a metadata file shared in WAL mode whose commits are visible only once
// durable and whose caches notice other processes' commits (SqliteMetaStore `shared`), leases on
// background jobs (GC, orphan sweep) and GC's grace period for reads in other processes.

import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { generateNodeId } from './store/blob/fs.js';
import { ensureRoot, openStores, type RootCredentials } from './trove.js';

/** Environment a worker gets: its index, and the node id its own is derived from. */
export const WORKER_INDEX_ENV = 'TROVE_WORKER_INDEX';
export const CLUSTER_NODE_ENV = 'TROVE_CLUSTER_NODE';

/** A worker that dies sooner than this after its start is started again only after RESTART_DELAY_MS. */
const QUICK_DEATH_MS = 5000;
const RESTART_DELAY_MS = 1000;

/** In a worker: its node id (`<node>-w<index>`: the same for a worker started again in its place). */
export function workerNodeId(): string | undefined {
  if (!cluster.isWorker) return undefined;
  return `${process.env[CLUSTER_NODE_ENV]}-w${process.env[WORKER_INDEX_ENV]}`;
}

export interface Primary {
  root: RootCredentials;
  /** Resolves when every worker has exited after a stop. */
  done: Promise<number>;
}

/**
 * Runs the primary: prepares the data directory, forks `config.workers` workers running `argv`
 * (the same `trove server …` command line) and supervises them.
 */
export async function runPrimary(config: Config, exec: string, argv: string[], log: Logger): Promise<Primary> {
  // Migrations and the root user, once, before the workers open the file at the same time.
  const { meta, blobs } = await openStores(config, { shared: true }, log);
  let root: RootCredentials;
  try {
    root = await ensureRoot(meta, config);
  } finally {
    await meta.close();
    await blobs.close();
  }
  const node = config.nodeId ?? generateNodeId();
  cluster.setupPrimary({ exec, args: argv });

  const workers = new Map<number, Worker>();
  let stopping = false;
  let exitCode = 0;
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));
  let listening = 0;
  let resolveReady!: () => void;
  let rejectReady!: (e: Error) => void;
  const ready = new Promise<void>((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });

  const fork = (index: number, first: boolean): void => {
    const startedAt = Date.now();
    const w = cluster.fork({ [WORKER_INDEX_ENV]: String(index), [CLUSTER_NODE_ENV]: node });
    workers.set(index, w);
    let listened = false;
    w.once('listening', () => {
      listened = true;
      if (first && ++listening === config.workers) resolveReady();
    });
    w.once('exit', (code, signal) => {
      workers.delete(index);
      if (stopping) {
        if (code !== 0) exitCode = 1;
        if (workers.size === 0) resolveDone(exitCode);
        return;
      }
      if (first && !listened) {
        // It never served: the same would happen again (address in use, a broken data directory).
        exitCode = 1;
        rejectReady(new Error(`worker ${index} exited before it listened (code ${code ?? signal})`));
        stop('SIGTERM');
        return;
      }
      log.error({ worker: index, pid: w.process.pid, code, signal }, 'worker died; starting another');
      const delay = Date.now() - startedAt < QUICK_DEATH_MS ? RESTART_DELAY_MS : 0;
      setTimeout(() => {
        if (!stopping) fork(index, false);
      }, delay);
    });
  };

  const stop = (signal: string): void => {
    if (stopping) {
      log.warn({ signal }, 'second signal: killing the workers now');
      for (const w of workers.values()) w.process.kill('SIGKILL');
      exitCode = 1;
      return;
    }
    stopping = true;
    log.info({ signal, workers: workers.size }, 'shutting down: workers finish their in-flight requests');
    if (workers.size === 0) resolveDone(exitCode);
    for (const w of workers.values()) {
      if (w.isConnected()) w.send({ type: 'shutdown' });
      else w.process.kill('SIGTERM');
    }
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // Each worker serves with its own certificate: it reads the files again when told.
  process.on('SIGHUP', () => {
    log.info({ workers: workers.size }, 'SIGHUP: workers reload their TLS certificate and metrics token');
    for (const w of workers.values()) if (w.isConnected()) w.send({ type: 'reload' });
  });

  for (let i = 0; i < config.workers; i++) fork(i, true);
  await ready;
  log.info({ workers: config.workers, node }, 'all workers listening');
  return { root, done };
}
