// The audit log: who did what, and what authorisation decided (src/authz records its decisions
// on the request; src/http/server.ts writes one record per S3 request). JSON lines to a file, or
// batches POSTed to a webhook. Separate from the access log, and never in a request's way:
// records are queued and written in the background; a webhook that stays down loses the oldest
// records beyond MAX_QUEUE (counted, and logged once per outage).

import fs from 'node:fs';
import type { Logger } from 'pino';
import type { AuditDecision } from '../authz/authorize.js';

export interface AuditRecord {
  time: string;
  requestId: string;
  /** The caller's ARN; absent for anonymous callers. */
  identity?: string;
  accessKeyId?: string;
  account?: string;
  sourceIp?: string;
  operation: string;
  bucket?: string;
  key?: string;
  /** allow when every required decision allowed; deny otherwise (or when none was made). */
  decision: 'allow' | 'deny' | 'none';
  /** The decisions authorisation made for the request, in order. */
  decisions: AuditDecision[];
  status: number;
  error?: string;
}

const BATCH = 100;
const FLUSH_MS = 1000;
const MAX_QUEUE = 10_000;
const RETRY_MS = [500, 1000, 2000, 5000, 10_000];

export class AuditLog {
  private queue: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  private file: fs.WriteStream | undefined;
  /** Records dropped because the webhook stayed unreachable. */
  dropped = 0;
  private closed = false;

  constructor(private readonly target: { file?: string; webhook?: string }, private readonly log: Logger) {
    if (target.file) {
      this.file = fs.createWriteStream(target.file, { flags: 'a', mode: 0o600 });
      this.file.on('error', (e) => log.error({ err: e, file: target.file }, 'audit log: cannot write'));
    }
  }

  record(r: AuditRecord): void {
    if (this.closed) return;
    const line = JSON.stringify(r);
    if (this.file) {
      this.file.write(line + '\n');
      return;
    }
    this.queue.push(line);
    if (this.queue.length > MAX_QUEUE) {
      this.queue.splice(0, this.queue.length - MAX_QUEUE);
      if (this.dropped++ === 0) this.log.error({ webhook: this.target.webhook }, 'audit webhook unreachable: dropping the oldest records');
    }
    if (this.queue.length >= BATCH) this.kick();
    else this.timer ??= setTimeout(() => this.kick(), FLUSH_MS).unref();
  }

  private kick(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.sending ??= this.send().finally(() => {
      this.sending = undefined;
      if (this.queue.length > 0 && !this.closed) this.timer ??= setTimeout(() => this.kick(), this.queue.length >= BATCH ? 0 : FLUSH_MS).unref();
    });
  }

  /** Posts batches until the queue is empty; a batch that fails is retried with backoff. */
  private async send(): Promise<void> {
    let attempt = 0;
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, BATCH);
      try {
        const res = await fetch(this.target.webhook!, {
          method: 'POST',
          headers: { 'content-type': 'application/x-ndjson' },
          body: batch.join('\n') + '\n',
          signal: AbortSignal.timeout(10_000),
        });
        await res.arrayBuffer().catch(() => undefined);
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        // The queue may have been trimmed meanwhile: remove what was sent if still at the front.
        if (this.queue[0] === batch[0]) this.queue.splice(0, batch.length);
        attempt = 0;
        if (this.dropped > 0) {
          this.log.warn({ dropped: this.dropped }, 'audit webhook reachable again');
          this.dropped = 0;
        }
      } catch (e) {
        if (attempt === 0) this.log.warn({ err: e, webhook: this.target.webhook }, 'audit webhook failed; retrying');
        if (this.closed) return;
        await new Promise((r) => setTimeout(r, RETRY_MS[Math.min(attempt++, RETRY_MS.length - 1)]).unref());
      }
    }
  }

  /** Writes what is queued (the webhook: one more attempt) and closes the file. */
  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queue.length > 0 && !this.sending) this.kick();
    this.closed = true;
    await this.sending;
    const f = this.file;
    if (f) await new Promise<void>((r) => f.end(() => r()));
  }
}
