// Runs one load-client job (lib/jobs.ts) in its own process pinned to the client cpu: the job's
// module, function and arguments go in as JSON on stdin, its result comes back as the last line
// of stdout. Shared by run.ts and workers.ts.

import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchOptions } from '../scenarios/types.js';

const CLIENT_MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'client-main.js');

const JOB_TIMEOUT_MS = 30 * 60_000;

export function runJob<T>(o: BenchOptions, module: string, fn: string, args: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn('taskset', ['-c', o.clientCpu, process.execPath, CLIENT_MAIN], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (err = (err + c.toString('utf8')).slice(-8192)));
    child.on('error', reject);
    // A job that hangs (a server that stopped answering) must not hang the benchmark.
    const timer = setTimeout(() => {
      err += `\n(killed after ${JOB_TIMEOUT_MS / 60000} minutes)`;
      child.kill('SIGKILL');
    }, JOB_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`load client (${module} ${fn}) exited with ${code}: ${err.trim()}`));
      const last = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`load client (${module} ${fn}) printed no result: ${out.slice(-500)} ${err}`));
      }
    });
    child.stdin.end(JSON.stringify({ module, fn, args }));
  });
}
