// Worker thread: checkpoints the SQLite WAL into the database file off the main thread.
// The main connection runs with wal_autocheckpoint=0, so this is the only place WAL pages are
// copied back; PASSIVE checkpoints never block the writer or readers.

import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

interface Options {
  path: string;
  fsync: boolean;
  intervalMs: number;
}

const opts = workerData as Options;
const db = new Database(opts.path);
db.pragma('busy_timeout = 5000');
db.pragma(`synchronous = ${opts.fsync ? 'NORMAL' : 'OFF'}`);

let timer: NodeJS.Timeout | undefined;
let stopping = false;

function checkpoint(mode: 'PASSIVE' | 'TRUNCATE'): void {
  try {
    db.pragma(`wal_checkpoint(${mode})`);
  } catch (e) {
    parentPort?.postMessage({ type: 'error', message: (e as Error).message });
  }
}

function schedule(): void {
  if (stopping) return;
  timer = setTimeout(() => {
    checkpoint('PASSIVE');
    schedule();
  }, opts.intervalMs);
}

parentPort?.on('message', (msg: { type: string }) => {
  if (msg.type === 'checkpoint') checkpoint('PASSIVE');
  if (msg.type === 'stop') {
    stopping = true;
    if (timer) clearTimeout(timer);
    checkpoint('PASSIVE');
    db.close();
    parentPort?.postMessage({ type: 'stopped' });
  }
});

schedule();
