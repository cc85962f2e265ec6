// Operators' endpoints: Prometheus metrics and health checks. On the S3 listener they live under
// `/_trove/` — a bucket name can neither start with `_` nor contain one (S3's naming rules, which
// CreateBucket enforces), so no bucket can shadow them in path-style requests; virtual-hosted
// requests (`<bucket>.<domain>/_trove/…`) stay object keys. On a separate --metrics-address
// listener they are the conventional `/metrics`, `/health/live`, `/health/ready`.
//
// Health is unauthenticated and cheap: live = the process serves; ready = the metadata store
// answers a trivial read and the data directory is writable (access(2), no write). Metrics are
// for holders of the bearer token when one is set (--metrics-token-file, Prometheus's
// `authorization.credentials_file`), else for loopback clients; for everyone with --metrics-public.

import { listen } from '../http/listen.js';
import fs from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import path from 'node:path';
import type { Logger } from 'pino';
import type { App } from '../app.js';
import type { Config } from '../config.js';
import { AuditLog } from './audit.js';
import { Metrics } from './metrics.js';

export const OBSERVE_PREFIX = '/_trove/';

/** Metrics, audit log and scrape credentials of one server. */
export class Observability {
  metrics: Metrics | undefined;
  audit: AuditLog | undefined;
  private token: Buffer | undefined;

  constructor(private readonly config: Config, private readonly log: Logger) {
    if (config.auditLog || config.auditWebhook) {
      this.audit = new AuditLog({ ...(config.auditLog ? { file: config.auditLog } : {}), ...(config.auditWebhook ? { webhook: config.auditWebhook } : {}) }, log);
    }
    this.reloadToken();
  }

  /** Starts the metrics (they read the app's stores when scraped). */
  attach(app: App): void {
    if (this.config.metrics) this.metrics = new Metrics(app);
  }

  /** Reads the scrape token file again (SIGHUP); keeps the old token when it cannot be read. */
  reloadToken(): void {
    const file = this.config.metricsTokenFile;
    if (!file) return;
    try {
      const t = fs.readFileSync(file, 'utf8').trim();
      if (!t) throw new Error('the file is empty');
      this.token = Buffer.from(t);
    } catch (e) {
      if (this.token) this.log.error({ err: e, file }, 'cannot read the metrics token file; keeping the previous token');
      else throw new Error(`cannot read --metrics-token-file ${file}: ${(e as Error).message}`);
    }
  }

  /** Whether this request may read the metrics. */
  mayScrape(req: IncomingMessage): boolean {
    if (this.config.metricsPublic) return true;
    if (this.token) {
      // With a token, every scraper shows it (loopback ones too).
      const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
      const given = m ? Buffer.from(m[1]!) : undefined;
      return given !== undefined && given.length === this.token.length && timingSafeEqual(given, this.token);
    }
    const peer = req.socket.remoteAddress ?? '';
    return peer === '::1' || peer.startsWith('127.') || peer.startsWith('::ffff:127.');
  }

  async close(): Promise<void> {
    this.metrics?.close();
    await this.audit?.close();
  }
}

/** Answers an operator's endpoint (`which`: metrics, health/live, health/ready); returns the operation name for logs. */
export async function serveObserve(app: App, which: string, req: IncomingMessage, res: ServerResponse): Promise<string> {
  const method = req.method ?? 'GET';
  const send = (status: number, body: string, type = 'text/plain; charset=utf-8'): void => {
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
    res.end(method === 'HEAD' ? undefined : body);
  };
  req.resume();
  if (method !== 'GET' && method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    send(405, 'method not allowed\n');
    return 'Observe';
  }
  switch (which) {
    case 'health/live':
      send(200, 'ok\n');
      return 'HealthLive';
    case 'health/ready': {
      const problem = await readiness(app);
      send(problem ? 503 : 200, problem ? `not ready: ${problem}\n` : 'ok\n');
      return 'HealthReady';
    }
    case 'metrics': {
      const m = app.observe.metrics;
      if (!m) send(404, 'metrics are off (--no-metrics)\n');
      else if (!app.observe.mayScrape(req)) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="trove metrics"');
        send(app.config.metricsTokenFile ? 401 : 403, 'metrics: loopback clients, a bearer token (--metrics-token-file) or --metrics-public\n');
      } else {
        const { body, contentType } = await m.render();
        send(200, body, contentType);
      }
      return 'Metrics';
    }
    default:
      send(404, 'not found\n');
      return 'Observe';
  }
}

/** Why the server is not ready, or undefined when it is. */
export async function readiness(app: App): Promise<string | undefined> {
  try {
    await app.meta.getSetting('readiness-probe');
  } catch (e) {
    return `metadata store: ${(e as Error).message}`;
  }
  try {
    for (const dir of [app.config.dataDir, path.join(app.config.dataDir, 'blobs')]) await fs.promises.access(dir, fs.constants.W_OK);
  } catch (e) {
    return `data directory: ${(e as Error).message}`;
  }
  return undefined;
}

/** The separate operators' listener (--metrics-address): /metrics, /health/live, /health/ready. */
export async function listenObserve(app: App, address: { host: string; port: number }): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!.replace(/^\/+/, '');
    void serveObserve(app, path, req, res).catch((e: unknown) => {
      app.log.error({ err: e }, 'metrics listener: internal error');
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  return { server, url: await listen(server, address) };
}
