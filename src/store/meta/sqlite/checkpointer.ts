// Worker thread: checkpoints the SQLite WAL into the database file off the main thread.
// The main connection runs with wal_autocheckpoint=0, so this is the only place WAL pages are
// copied back; PASSIVE checkpoints never block the writer or readers.
// A checkpoint that fails (SQLITE_FULL: the database file cannot grow on a full disk) is simply
// tried again at the next interval; the main thread hears when checkpoints start failing and
// when they work again, not once per attempt.

import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

interface Options {
  path: string;
  fsync: boolean;
  intervalMs: number;
}

/** What this worker tells the main thread. */
export type CheckpointerMessage = { type: 'failing'; message: string; code?: string } | { type: 'recovered' } | { type: 'stopped' };

const opts = workerData as Options;
const db = new Database(opts.path);
db.pragma('busy_timeout = 5000');
db.pragma(`synchronous = ${opts.fsync ? 'NORMAL' : 'OFF'}`);

let timer: NodeJS.Timeout | undefined;
let stopping = false;
let failing = false;

function post(m: CheckpointerMessage): void {
  parentPort?.postMessage(m);
}

function checkpoint(mode: 'PASSIVE' | 'TRUNCATE'): void {
  try {
    db.pragma(`wal_checkpoint(${mode})`);
    if (failing) post({ type: 'recovered' });
    failing = false;
  } catch (e) {
    // Another process sharing the file is checkpointing right now: its checkpoint does the work.
    if ((e as { code?: string }).code === 'SQLITE_BUSY') return;
    if (!failing) post({ type: 'failing', message: (e as Error).message, code: (e as { code?: string }).code });
    failing = true;
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
    post({ type: 'stopped' });
  }
});

schedule();
