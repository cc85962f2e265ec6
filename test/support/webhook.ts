// A webhook receiver for event-notification tests: an HTTP(S) endpoint on an ephemeral port that
// collects the JSON POSTed to it; `status` decides what it answers (200 records, else refuses).

import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Received {
  at: number;
  body: Record<string, unknown>;
  auth: string | undefined;
}

/** An HTTP endpoint collecting POSTed JSON; `status` decides what it answers. */
export class Webhook {
  readonly got: Received[] = [];
  status = 200;
  private server!: http.Server;
  port = 0;
  private tls = false;
  async start(port = 0, tls?: { key: string; cert: string }): Promise<this> {
    this.tls = tls !== undefined;
    const handler: http.RequestListener = (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (this.status === 200) this.got.push({ at: Date.now(), body: JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>, auth: req.headers.authorization });
        res.writeHead(this.status).end();
      });
    };
    this.server = tls ? https.createServer(tls, handler) : http.createServer(handler);
    await new Promise<void>((r) => this.server.listen(port, '127.0.0.1', () => r()));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }
  get url(): string {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.port}/hook`;
  }
  /** Records (not test events) received so far. */
  records(): Record<string, any>[] {
    return this.got.flatMap((g) => (g.body.Records as Record<string, unknown>[] | undefined) ?? []);
  }
  async waitFor(pred: (r: Record<string, any>[]) => boolean, ms = 20_000, what = 'events'): Promise<Record<string, any>[]> {
    const end = Date.now() + ms;
    while (!pred(this.records())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.records().map((r) => [r.eventName, r.s3.object.key]))}`);
      await sleep(20);
    }
    return this.records();
  }
  close(): Promise<void> {
    return new Promise((r) => {
      this.server.closeAllConnections();
      this.server.close(() => r());
    });
  }
}

