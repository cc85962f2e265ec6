// A throwaway PostgreSQL cluster for the benchmark (--meta postgres): initdb + pg_ctl in a temp dir,
// on a free port of 127.0.0.1, its socket in the temp dir. Adapted from test/support/postgres.ts
// with two differences that matter for fairness:
//  - durability as Trove's SQLite store has it: fsync on, synchronous_commit on (the test
//    cluster runs with fsync off), full_page_writes on (PostgreSQL's default);
//  - the postmaster is started under `taskset -c <server cpu>`, so it and every backend it forks
//    (they inherit the affinity) share the core of the Trove server they serve.
// As root, PostgreSQL runs as the `postgres` user (or `nobody`), as in the tests.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findPgBin, runAs, runPgProgram } from '../../test/support/postgres.js';
import { childPids, treeCpuTicks } from './procfs.js';
import { freePort } from './servers.js';

const PG_USER = 'trove';

export interface BenchPg {
  /** Connection URL of a fresh, empty database (CREATE DATABASE). */
  freshDatabase(tag: string): Promise<string>;
  dropDatabase(url: string): Promise<void>;
  /** The postmaster and its live children (backends, checkpointer, WAL writer, …). */
  pids(): number[];
  /** CPU (clock ticks) of the postmaster, its live children and its reaped ones. */
  cpuTicks(): number;
  /**
   * Sets the cpu affinity of the postmaster and every live child (backends forked later inherit
   * the postmaster's): the runner lets the cluster use every cpu during an unmeasured setup and
   * pins it back to the server cpu before measuring.
   */
  pin(cpus: string): void;
  stop(): void;
}

export async function startBenchPg(cpu: string, dataRoot: string): Promise<BenchPg> {
  const bin = findPgBin();
  if (!bin) throw new Error('--meta postgres: PostgreSQL server binaries not found (initdb under /usr/lib/postgresql/*/bin, or TROVE_TEST_PG_BIN)');
  const as = runAs();
  const dir = await fs.promises.mkdtemp(path.join(dataRoot || os.tmpdir(), 'trove-bench-pg-'));
  const data = path.join(dir, 'data');
  const sock = path.join(dir, 'sock');
  await fs.promises.mkdir(sock);
  if (as) for (const d of [dir, sock]) await fs.promises.chown(d, as.uid, as.gid);
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    spawnSync(path.join(bin, 'pg_ctl'), ['stop', '-D', data, '-m', 'immediate', '-w'], { cwd: dir, stdio: 'ignore', ...(as ?? {}) });
    fs.rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stop);
  await runPgProgram(path.join(bin, 'initdb'), ['-D', data, '-U', PG_USER, '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'], as, dir);
  const port = await freePort();
  const opts = [`-p ${port}`, `-k ${sock}`, '-c listen_addresses=127.0.0.1', '-c fsync=on', '-c synchronous_commit=on', '-c max_connections=100', '-c shared_buffers=128MB'].join(' ');
  // taskset execs pg_ctl, which forks the postmaster: the affinity is inherited all the way down.
  await runPgProgram('taskset', ['-c', cpu, path.join(bin, 'pg_ctl'), 'start', '-D', data, '-w', '-t', '60', '-l', path.join(dir, 'log'), '-o', opts], as, dir);
  const postmaster = Number(fs.readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n', 1)[0]);
  const adminUrl = `postgres://${PG_USER}@127.0.0.1:${port}/postgres`;
  const { default: pg } = await import('pg');
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  let n = 0;
  return {
    async freshDatabase(tag) {
      const name = `bench_${tag.replace(/[^a-z0-9]/gi, '').toLowerCase()}_${n++}`;
      await admin(`CREATE DATABASE ${name}`);
      return `postgres://${PG_USER}@127.0.0.1:${port}/${name}`;
    },
    async dropDatabase(url) {
      const name = new URL(url).pathname.slice(1);
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
    pids: () => [postmaster, ...childPids(postmaster)],
    cpuTicks: () => treeCpuTicks(postmaster),
    pin(cpus) {
      for (const pid of [postmaster, ...childPids(postmaster)]) {
        const r = spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { encoding: 'utf8' });
        // A backend may have exited meanwhile; the postmaster must follow.
        if (r.status !== 0 && pid === postmaster) throw new Error(`taskset -p ${cpus} ${pid} failed: ${r.stderr}`);
      }
    },
    stop,
  };
}
