// A throwaway PostgreSQL cluster for tests: initdb + pg_ctl from the PostgreSQL server binaries
// (/usr/lib/postgresql/<version>/bin, or TROVE_TEST_PG_BIN), in a temp dir, on a free port of
// 127.0.0.1, its unix socket in the temp dir, fsync off. One cluster per test process, started on
// first use; every caller gets a fresh database (CREATE DATABASE). The cluster is stopped and its
// directory removed when the process exits.
//
// PostgreSQL refuses to run as root: when the tests run as root (CI does), the binaries run as the
// `postgres` user (or `nobody`) and the temp dir is given to that user.
//
// Without the binaries: in CI (env CI set) this throws — a suite that needs PostgreSQL never
// passes by skipping — and elsewhere `postgresAvailable()` is false so callers may skip.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface PgCluster {
  host: string;
  port: number;
  user: string;
  /** Connection URL of the maintenance database. */
  adminUrl: string;
  dir: string;
}

const PG_USER = 'trove';

/** The directory with initdb/pg_ctl/postgres: TROVE_TEST_PG_BIN, else the newest /usr/lib/postgresql/<n>/bin. */
export function findPgBin(): string | undefined {
  const env = process.env.TROVE_TEST_PG_BIN;
  if (env) return fs.existsSync(path.join(env, 'initdb')) ? env : undefined;
  const base = '/usr/lib/postgresql';
  let versions: string[];
  try {
    versions = fs.readdirSync(base);
  } catch {
    return undefined;
  }
  const found = versions
    .filter((v) => fs.existsSync(path.join(base, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return found.length ? path.join(base, found[0]!, 'bin') : undefined;
}

/** True when a cluster can be started here. In CI, missing binaries are an error, never a skip. */
export function postgresAvailable(): boolean {
  if (findPgBin()) return true;
  if (process.env.CI) throw new Error('PostgreSQL server binaries not found (initdb under /usr/lib/postgresql/*/bin); CI must install them (.ci/run does)');
  return false;
}

/** uid/gid to run PostgreSQL as: ourselves unless we are root. */
export function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
      if (Number.isInteger(uid) && uid > 0) return { uid, gid };
    } catch {
      // no such user
    }
  }
  throw new Error('running as root and neither a postgres nor a nobody user exists to run PostgreSQL as');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Runs a PostgreSQL program (as `as` when given) and fails with its output. */
export function runPgProgram(bin: string, args: string[], as: { uid: number; gid: number } | undefined, cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(bin, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], ...(as ?? {}), env: { ...process.env, LC_ALL: 'C', LANG: 'C' } });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.once('error', reject);
    p.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${path.basename(bin)} ${args.join(' ')} exited ${code}:\n${out}`))));
  });
}

let cluster: Promise<PgCluster> | undefined;

async function start(): Promise<PgCluster> {
  const bin = findPgBin();
  if (!bin) throw new Error('PostgreSQL server binaries not found (initdb under /usr/lib/postgresql/*/bin)');
  const as = runAs();
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'trove-pg-'));
  const data = path.join(dir, 'data');
  const sock = path.join(dir, 'sock');
  await fs.promises.mkdir(sock);
  if (as) {
    for (const d of [dir, sock]) await fs.promises.chown(d, as.uid, as.gid);
  }
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    spawnSync(path.join(bin, 'pg_ctl'), ['stop', '-D', data, '-m', 'immediate', '-w'], { cwd: dir, stdio: 'ignore', ...(as ?? {}) });
    fs.rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stop);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      stop();
      process.exit(130);
    });
  }
  // UTF-8 with the C collation: text compares as bytes unless told otherwise.
  await runPgProgram(path.join(bin, 'initdb'), ['-D', data, '-U', PG_USER, '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'], as, dir);
  const port = await freePort();
  const opts = [
    `-p ${port}`,
    `-k ${sock}`,
    "-c listen_addresses=127.0.0.1",
    '-c fsync=off',
    '-c synchronous_commit=on',
    '-c full_page_writes=off',
    '-c max_connections=200',
    '-c shared_buffers=32MB',
  ].join(' ');
  await runPgProgram(path.join(bin, 'pg_ctl'), ['start', '-D', data, '-w', '-t', '60', '-l', path.join(dir, 'log'), '-o', opts], as, dir);
  return { host: '127.0.0.1', port, user: PG_USER, adminUrl: `postgres://${PG_USER}@127.0.0.1:${port}/postgres`, dir };
}

/** The process's cluster, started on first call. */
export function pgCluster(): Promise<PgCluster> {
  cluster ??= start();
  return cluster;
}

let dbCounter = 0;

/** A fresh, empty database on the process's cluster; answers its connection URL. */
export async function freshDatabase(): Promise<string> {
  const c = await pgCluster();
  const name = `t${process.pid}_${dbCounter++}`;
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: c.adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  return `postgres://${c.user}@${c.host}:${c.port}/${name}`;
}
