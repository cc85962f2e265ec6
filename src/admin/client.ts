// A client of the admin API, for `trove admin … --admin-url URL`: requests signed with SigV4 for
// "trove-admin" (the access key and secret of an identity of the server's root account), or
// carrying an admin token. The URL is the server's S3 endpoint (the API is at /_trove/admin/v1
// there) or the admin listener's; a URL with a path is used as given.

import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { SignatureV4 } from '@smithy/signature-v4';
import { ADMIN_PATH_ON_S3, ADMIN_SERVICE } from './api.js';

export interface AdminConnection {
  url: string;
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  token?: string;
}

export class AdminApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AdminApiError';
  }
}

type Data = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: Data): Buffer => (typeof d === 'string' ? Buffer.from(d) : ArrayBuffer.isView(d) ? Buffer.from(d.buffer, d.byteOffset, d.byteLength) : Buffer.from(d));

class NodeSha256 {
  private h: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  private readonly secret: Buffer | undefined;
  constructor(secret?: Data) {
    this.secret = secret === undefined ? undefined : bytes(secret);
    this.h = this.secret ? createHmac('sha256', this.secret) : createHash('sha256');
  }
  update(data: Data): void {
    this.h.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
  reset(): void {
    this.h = this.secret ? createHmac('sha256', this.secret) : createHash('sha256');
  }
}

export class AdminClient {
  private readonly base: URL;
  private readonly signer: SignatureV4 | undefined;

  constructor(private readonly c: AdminConnection) {
    this.base = new URL(c.url);
    if (this.base.protocol !== 'http:' && this.base.protocol !== 'https:') throw new Error(`--admin-url must be an http:// or https:// URL`);
    if (this.base.pathname === '/' || this.base.pathname === '') this.base.pathname = ADMIN_PATH_ON_S3;
    this.base.pathname = this.base.pathname.replace(/\/+$/, '');
    if (!c.token && !(c.accessKeyId && c.secretAccessKey)) {
      throw new Error('the admin API needs credentials: --admin-token (TROVE_ADMIN_TOKEN), or --admin-access-key and --admin-secret-key (TROVE_ADMIN_ACCESS_KEY / TROVE_ADMIN_SECRET_KEY, or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)');
    }
    if (!c.token) this.signer = new SignatureV4({ credentials: { accessKeyId: c.accessKeyId!, secretAccessKey: c.secretAccessKey! }, region: c.region, service: ADMIN_SERVICE, sha256: NodeSha256 });
  }

  /** One call: the JSON answer (undefined for 204), or an AdminApiError. `path` is under /admin/v1 and already encoded. */
  async call(method: string, path: string, body?: unknown, query: Record<string, string> = {}): Promise<any> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const fullPath = this.base.pathname + path;
    let headers: Record<string, string> = { host: this.base.host, ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}) };
    if (this.c.token) headers.authorization = `Bearer ${this.c.token}`;
    else {
      const signed = await this.signer!.sign({
        method, protocol: this.base.protocol, hostname: this.base.hostname, ...(this.base.port ? { port: Number(this.base.port) } : {}),
        path: fullPath, query, headers, ...(payload ? { body: payload } : {}),
      });
      headers = signed.headers as Record<string, string>;
    }
    const qs = new URLSearchParams(query).toString();
    const lib = this.base.protocol === 'https:' ? https : http;
    const res = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = lib.request(
        { protocol: this.base.protocol, hostname: this.base.hostname, port: this.base.port || undefined, method, path: fullPath + (qs ? `?${qs}` : ''), headers },
        (r) => {
          const chunks: Buffer[] = [];
          r.on('data', (d: Buffer) => chunks.push(d));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          r.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
    let json: any;
    try {
      json = res.text ? JSON.parse(res.text) : undefined;
    } catch {
      throw new AdminApiError(res.status, 'NotJson', `the server at ${this.base.origin} did not answer as the admin API does (HTTP ${res.status})`);
    }
    if (res.status >= 400) throw new AdminApiError(res.status, json?.code ?? 'Error', json?.message ?? `HTTP ${res.status}`);
    return json;
  }
}
