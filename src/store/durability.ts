// Group commit for SQLite without blocking the event loop.
//
// Transactions commit on the main thread with synchronous=NORMAL (WAL frames written, not synced).
// Before a write is acknowledged, the caller awaits `WalBarrier.sync()`, which fdatasyncs the WAL
// file on libuv's thread pool. Every commit made before an fdatasync *starts* is durable when it
// ends, so concurrent writers share one sync: callers arriving while a sync runs wait for the next.
// Checkpoints (which copy WAL pages into the database file and fsync it) run in a worker thread.

import fs from 'node:fs';

export class WalBarrier {
  private fd: number | undefined;
  private waiting: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  private running = false;

  constructor(private readonly walPath: string) {}

  /** Resolves once every transaction committed before this call is on stable storage. */
  sync(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting;
        this.waiting = [];
        try {
          await this.syncOnce();
          for (const w of batch) w.resolve();
        } catch (e) {
          for (const w of batch) w.reject(e as Error);
        }
      }
    } finally {
      this.running = false;
    }
  }

  private syncOnce(): Promise<void> {
    if (this.fd === undefined) this.fd = fs.openSync(this.walPath, 'r');
    const fd = this.fd;
    return new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

/** fsync a directory so that entries created or renamed in it survive a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await fs.promises.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
