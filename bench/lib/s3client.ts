// The benchmark's S3 client: node:http over a keep-alive Agent, path-style URLs, SigV4 with
// UNSIGNED-PAYLOAD. The same code drives Trove and the bare baseline (which ignores the auth
// headers), so both pay the same client-side cost.

import http from 'node:http';
import { SigV4Signer, canonicalQuery, encodeKey } from './sigv4.js';

export interface Endpoint {
  host: string;
  port: number;
  accessKeyId: string;
  secretAccessKey: string;
  region?: string;
}

export interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body, when collected (`collect: true`); otherwise empty. */
  body: Buffer;
  /** Bytes received in the body. */
  bytes: number;
}

export interface RequestOptions {
  method: string;
  bucket: string;
  key?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** A buffer sent as is, or a length to stream from `pattern` (repeated). */
  body?: Buffer | { length: number; pattern: Buffer };
  /** Keep the response body (small responses only); otherwise it is counted and dropped. */
  collect?: boolean;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what}: HTTP ${status} ${body.slice(0, 300)}`);
  }
}

export class S3BenchClient {
  readonly agent: http.Agent;
  private readonly signer: SigV4Signer;
  private readonly hostHeader: string;

  constructor(
    readonly endpoint: Endpoint,
    concurrency: number,
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency, scheduling: 'lifo' });
    this.signer = new SigV4Signer({ accessKeyId: endpoint.accessKeyId, secretAccessKey: endpoint.secretAccessKey, region: endpoint.region ?? 'us-east-1' });
    this.hostHeader = `${endpoint.host}:${endpoint.port}`;
  }

  request(o: RequestOptions): Promise<Response> {
    const path = '/' + o.bucket + (o.key !== undefined ? '/' + encodeKey(o.key) : '');
    const headers: Record<string, string> = { host: this.hostHeader, ...(o.headers ?? {}) };
    let length = 0;
    if (o.body !== undefined) length = Buffer.isBuffer(o.body) ? o.body.length : o.body.length;
    if (o.body !== undefined || o.method === 'PUT' || o.method === 'POST') headers['content-length'] = String(length);
    this.signer.sign({ method: o.method, path, query: o.query, headers });
    const qs = canonicalQuery(o.query);
    return new Promise<Response>((resolve, reject) => {
      const req = http.request(
        { host: this.endpoint.host, port: this.endpoint.port, method: o.method, path: qs ? path + '?' + qs : path, headers, agent: this.agent },
        (res) => {
          const chunks: Buffer[] = [];
          let bytes = 0;
          const collect = o.collect || (res.statusCode ?? 0) >= 300;
          res.on('data', (c: Buffer) => {
            bytes += c.length;
            if (collect) chunks.push(c);
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: collect ? Buffer.concat(chunks) : EMPTY, bytes }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      const body = o.body;
      if (body === undefined) {
        req.end();
      } else if (Buffer.isBuffer(body)) {
        req.end(body);
      } else {
        streamPattern(req, body.length, body.pattern).then(
          () => req.end(),
          (e: unknown) => req.destroy(e as Error),
        );
      }
    });
  }

  /** Like request(), but a status outside 2xx is an error. */
  async ok(o: RequestOptions, what = `${o.method} /${o.bucket}/${o.key ?? ''}`): Promise<Response> {
    const r = await this.request(o);
    if (r.status < 200 || r.status >= 300) throw new HttpError(r.status, r.body.toString('utf8'), what);
    return r;
  }

  createBucket(bucket: string): Promise<Response> {
    return this.ok({ method: 'PUT', bucket });
  }

  close(): void {
    this.agent.destroy();
  }
}

const EMPTY = Buffer.alloc(0);

/** Writes `length` bytes taken from `pattern` (repeated), honouring backpressure. */
async function streamPattern(req: http.ClientRequest, length: number, pattern: Buffer): Promise<void> {
  let left = length;
  while (left > 0) {
    const n = Math.min(left, pattern.length);
    const chunk = n === pattern.length ? pattern : pattern.subarray(0, n);
    left -= n;
    if (!req.write(chunk)) {
      await new Promise<void>((resolve, reject) => {
        const onDrain = () => {
          req.off('error', onError);
          req.off('close', onClose);
          resolve();
        };
        const onError = (e: Error) => {
          req.off('drain', onDrain);
          req.off('close', onClose);
          reject(e);
        };
        const onClose = () => {
          req.off('drain', onDrain);
          req.off('error', onError);
          reject(new Error('request closed while sending the body'));
        };
        req.once('drain', onDrain);
        req.once('error', onError);
        req.once('close', onClose);
      });
    }
  }
}
