// Starting and stopping the servers under test, each a child process pinned to the server core.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Endpoint } from './s3client.js';

/** dist/src/main.js, as compiled by `tsc -p .`. */
export const TROVE_MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));
export const BARE_MAIN = fileURLToPath(new URL('../bare/server.js', import.meta.url));

export const ACCESS_KEY = 'BENCHACCESSKEY000001';
export const SECRET_KEY = 'bench/secret+key/0000000000000000000000001';

export type ServerKind = 'bare' | 'trove';

export interface ServerHandle {
  kind: ServerKind;
  pid: number;
  endpoint: Endpoint;
  dataDir: string;
  /** The last few KiB the server wrote to stdout/stderr. */
  output(): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function tryConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

/** Is the lead's server built and runnable? (`node dist/src/main.js server --help` exits 0.) */
export function troveAvailable(): { ok: boolean; why?: string } {
  if (!fs.existsSync(TROVE_MAIN)) return { ok: false, why: `${TROVE_MAIN} does not exist (build with npx tsc -p .)` };
  const r = spawnSync(process.execPath, [TROVE_MAIN, 'server', '--help'], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) return { ok: false, why: `trove server --help exited with ${r.status}: ${(r.stderr || r.stdout).trim().split('\n').slice(-5).join(' | ')}` };
  return { ok: true };
}

export interface StartOptions {
  cpu: string;
  dataDir: string;
  /** Extra node flags (e.g. --cpu-prof). */
  nodeFlags?: string[];
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Extra `trove server` arguments (e.g. --workers 2). */
  args?: string[];
}

/** The environment servers inherit: ours, minus any TROVE_* settings (the benchmark sets its own). */
function inheritedEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TROVE_')) env[k] = v;
  return env;
}

async function launch(kind: ServerKind, script: string, args: string[], port: number, o: StartOptions): Promise<ServerHandle> {
  const child: ChildProcess = spawn('taskset', ['-c', o.cpu, process.execPath, ...(o.nodeFlags ?? []), script, ...args], {
    env: { ...inheritedEnv(), ...(o.env ?? {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (c: Buffer) => {
    out = (out + c.toString('utf8')).slice(-8192);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited: number | null | undefined;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = code ?? (signal ? -1 : null);
      resolve();
    }),
  );
  const deadline = Date.now() + (o.timeoutMs ?? 60_000);
  for (;;) {
    if (exited !== undefined) throw new Error(`${kind} server exited (${exited}) before listening:\n${out}`);
    if (await tryConnect(port)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${kind} server did not listen on ${port} within ${o.timeoutMs ?? 60_000} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  // taskset execs node, so this pid is the server's.
  const pid = child.pid!;
  let stopping: Promise<void> | undefined;
  return {
    kind,
    pid,
    endpoint: { host: '127.0.0.1', port, accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
    dataDir: o.dataDir,
    output: () => out,
    stop() {
      stopping ??= (async () => {
        if (exited !== undefined) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
        await exit;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}

export async function startTrove(o: StartOptions): Promise<ServerHandle> {
  const port = await freePort();
  return launch('trove', TROVE_MAIN, ['server', '--address', `127.0.0.1:${port}`, '--data-dir', o.dataDir, ...(o.args ?? ['--workers', '1'])], port, {
    ...o,
    env: {
      TROVE_ROOT_ACCESS_KEY: ACCESS_KEY,
      TROVE_ROOT_SECRET_KEY: SECRET_KEY,
      // Access logs (info level) off for the benchmark.
      TROVE_LOG_LEVEL: 'warn',
      ...(o.env ?? {}),
    },
  });
}

export async function startBare(o: StartOptions & { mode: 'small' | 'stream' }): Promise<ServerHandle> {
  const port = await freePort();
  return launch('bare', BARE_MAIN, ['--port', String(port), '--data-dir', o.dataDir, '--mode', o.mode], port, o);
}
