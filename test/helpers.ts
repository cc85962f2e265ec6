// Test harness: a real Trove server on an ephemeral port over a temporary data directory, real
// SDK clients, and a raw HTTP client signed by an independent SigV4 implementation
// (@smithy/signature-v4), for requests no SDK would send.

import { createHash, createHmac } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { S3Client, S3ServiceException, type S3ClientConfig } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { SignatureV4 } from '@smithy/signature-v4';
import { pino } from 'pino';
import { loadConfig, type Config } from '../src/config.js';
import { startTrove, type Trove } from '../src/trove.js';
import { freshDatabase, postgresAvailable } from './support/postgres.js';

export const ACCESS_KEY = 'TESTACCESSKEY0000001';
export const SECRET_KEY = 'test/secret+key/0000000000000000000000001';
export const REGION = 'us-east-1';

export interface TestServer {
  trove: Trove;
  url: string;
  port: number;
  dataDir: string;
  /** SDK client with default settings (CRC32 checksums, aws-chunked for streams). */
  s3: S3Client;
  /** SDK client that only sends checksums when an operation requires them. */
  s3WhenRequired: S3Client;
  client(extra?: Partial<S3ClientConfig>): S3Client;
  stop(): Promise<void>;
}

export async function tempDir(prefix = 'trove-test-'): Promise<string> {
  return fs.promises.mkdtemp(path.join(os.tmpdir(), prefix));
}

/** The metadata store test servers use: TROVE_TEST_META=postgres runs them on PostgreSQL. */
export const TEST_META = process.env.TROVE_TEST_META === 'postgres' ? 'postgres' : 'sqlite';

/** A server restarted on the same data directory finds the same PostgreSQL database (and so do admin commands given testMetaUrl). */
const databases = new Map<string, string>();

export async function testMetaUrl(dataDir: string): Promise<string | undefined> {
  if (TEST_META !== 'postgres') return undefined;
  if (!postgresAvailable()) throw new Error('TROVE_TEST_META=postgres, but no PostgreSQL server binaries were found');
  let url = databases.get(dataDir);
  if (!url) {
    url = await freshDatabase();
    databases.set(dataDir, url);
  }
  return url;
}

/** Temporary (in-progress upload) files of every node under a data directory: tmp/<node>/<file>. */
export function tempFiles(dataDir: string): string[] {
  const root = path.join(dataDir, 'tmp');
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .flatMap((e) => fs.readdirSync(path.join(root, e.name)).map((f) => `${e.name}/${f}`));
}

export async function startServer(overrides: Partial<Config> = {}): Promise<TestServer> {
  const dataDir = overrides.dataDir ?? (await tempDir());
  const metaUrl = 'metaUrl' in overrides ? overrides.metaUrl : await testMetaUrl(dataDir);
  const config: Config = {
    ...loadConfig([], {}),
    host: '127.0.0.1',
    port: 0,
    dataDir,
    rootAccessKey: ACCESS_KEY,
    rootSecretKey: SECRET_KEY,
    logLevel: 'silent',
    // A small reserve file: every test server writes one.
    spaceReserve: 1024 * 1024,
    // One process: released blobs go at once (the in-process read leases cover reads in flight).
    workers: 1,
    gcGraceMs: 0,
    ...overrides,
    metaUrl,
  };
  const trove = await startTrove(config, { logger: pino({ level: process.env.TROVE_TEST_LOG ?? 'silent' }), orphanSweepDelayMs: -1 });
  const clients: S3Client[] = [];
  const client = (extra: Partial<S3ClientConfig> = {}) => {
    const c = new S3Client({
      endpoint: trove.url,
      region: REGION,
      forcePathStyle: true,
      credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
      ...extra,
    });
    clients.push(c);
    return c;
  };
  const s3 = client();
  const s3WhenRequired = client({ requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  return {
    trove,
    url: trove.url,
    port: trove.port,
    dataDir,
    s3,
    s3WhenRequired,
    client,
    async stop() {
      for (const c of clients) c.destroy();
      await trove.close(1000);
      if (!overrides.dataDir) await fs.promises.rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A TCP port free on 127.0.0.1 now (the kernel's pick), for what a test must start or restart on
 * a known port: never a fixed number, since several test runs share the machine.
 */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** The `trove` command, as tests run it in a process of its own. */
export const TROVE_MAIN = path.join(import.meta.dirname, '..', 'src', 'main.js');

/**
 * `trove server` as a process of its own (for tests that kill -9 it) on 127.0.0.1:`port` over
 * `dataDir`, with the tests' root keys and `args` added; resolves once it accepts connections.
 */
export async function startServerProcess(dataDir: string, port: number, args: string[] = [], logLevel = 'warn'): Promise<ChildProcess> {
  const child = spawn(process.execPath, [TROVE_MAIN, 'server', '--address', `127.0.0.1:${port}`, '--data-dir', dataDir, '--workers', '1', ...args], {
    env: { ...process.env, TROVE_ROOT_ACCESS_KEY: ACCESS_KEY, TROVE_ROOT_SECRET_KEY: SECRET_KEY, TROVE_LOG_LEVEL: logLevel },
    stdio: 'ignore',
  });
  for (let i = 0; i < 300; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (up) return child;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error('server did not start');
}

let bucketCounter = 0;
export function uniqueBucket(prefix = 'b'): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${bucketCounter++}`;
}

type SourceData = string | ArrayBuffer | ArrayBufferView;
const toBuffer = (d: SourceData): Buffer =>
  typeof d === 'string' ? Buffer.from(d) : ArrayBuffer.isView(d) ? Buffer.from(d.buffer, d.byteOffset, d.byteLength) : Buffer.from(d);

class NodeSha256 {
  private h: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  private readonly secret: Buffer | undefined;
  constructor(secret?: SourceData) {
    this.secret = secret === undefined ? undefined : toBuffer(secret);
    this.h = this.secret ? createHmac('sha256', this.secret) : createHash('sha256');
  }
  update(data: SourceData): void {
    this.h.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
  reset(): void {
    this.h = this.secret ? createHmac('sha256', this.secret) : createHash('sha256');
  }
}

/** `uriEscapePath`: encode the path's segments once more, as the SDKs do for services other than S3. */
export function signer(accessKeyId = ACCESS_KEY, secretAccessKey = SECRET_KEY, service = 's3', uriEscapePath = false): SignatureV4 {
  return new SignatureV4({ credentials: { accessKeyId, secretAccessKey }, region: REGION, service, sha256: NodeSha256, uriEscapePath, applyChecksum: false });
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
  /** With `partial`: how the connection failed (status 0 when no response came at all). */
  error?: NodeJS.ErrnoException;
}

export interface RawRequest {
  method: string;
  /** Path, already percent-encoded as it should appear on the wire. */
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Sign with SigV4 (default true). */
  sign?: boolean;
  /** Payload hash to sign with: 'UNSIGNED-PAYLOAD', a hex digest, or computed (default). */
  payloadHash?: string;
  /** Change the request after signing (tamper tests). */
  afterSign?: (r: { method: string; path: string; headers: Record<string, string>; query: Record<string, string> }) => void;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Resolve with what arrived (and `error`) when the connection fails, instead of rejecting. */
  partial?: boolean;
}

function encodeQuery(q: Record<string, string>): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
  return Object.entries(q)
    .map(([k, v]) => (v === '' ? enc(k) : `${enc(k)}=${enc(v)}`))
    .join('&');
}

/** Sends a request over a fresh connection, optionally SigV4-signed by @smithy/signature-v4. */
export async function raw(server: TestServer, r: RawRequest): Promise<RawResponse> {
  const body = r.body === undefined ? undefined : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body);
  const headers: Record<string, string> = { host: `127.0.0.1:${server.port}`, ...(r.headers ?? {}) };
  const query = { ...(r.query ?? {}) };
  if (body !== undefined && headers['content-length'] === undefined && headers['transfer-encoding'] === undefined) headers['content-length'] = String(body.length);
  let method = r.method;
  let p = r.path;
  if (r.sign !== false) {
    const hash = r.payloadHash ?? createHash('sha256').update(body ?? Buffer.alloc(0)).digest('hex');
    headers['x-amz-content-sha256'] = hash;
    const signed = await signer(r.accessKeyId, r.secretAccessKey).sign({
      method,
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: server.port,
      // uriEscapePath is off (as for S3): the signer takes the path as it goes on the wire.
      path: p,
      query,
      headers,
      ...(body !== undefined ? { body } : {}),
    });
    Object.assign(headers, signed.headers);
  }
  const mutable = { method, path: p, headers, query };
  r.afterSign?.(mutable);
  method = mutable.method;
  p = mutable.path;
  const qs = encodeQuery(mutable.query);
  return new Promise((resolve, reject) => {
    let response: http.IncomingMessage | undefined;
    const chunks: Buffer[] = [];
    const failed = (error: NodeJS.ErrnoException) => {
      if (!r.partial) return reject(error);
      const b = Buffer.concat(chunks);
      resolve({ status: response?.statusCode ?? 0, headers: response?.headers ?? {}, body: b, text: b.toString('utf8'), error });
    };
    const req = http.request(
      { host: '127.0.0.1', port: server.port, method, path: p + (qs ? '?' + qs : ''), headers: mutable.headers, agent: false },
      (res) => {
        response = res;
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const b = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: b, text: b.toString('utf8') });
        });
        res.on('error', failed);
      },
    );
    req.on('error', failed);
    req.end(body);
  });
}

/** The <Code> of an S3 error document. */
export function errorCode(text: string): string | undefined {
  return /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
}

/** Reads a whole SDK body stream. */
export async function bodyBytes(body: unknown): Promise<Buffer> {
  const b = body as { transformToByteArray(): Promise<Uint8Array> };
  return Buffer.from(await b.transformToByteArray());
}

/** Sends raw bytes on a socket and collects everything until the server closes or `ms` passes. */
export function rawSocket(port: number, data: Buffer | string, ms = 1500, afterWrite?: (s: net.Socket) => void): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    const done = () => {
      s.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    s.on('close', done);
    s.on('error', done);
    s.write(data, () => afterWrite?.(s));
    setTimeout(done, ms);
  });
}


/** Signs a request with @smithy/signature-v4 and renders its head as raw HTTP/1.1 text. */
export async function signedHead(server: TestServer, method: string, path: string, headers: Record<string, string>): Promise<string> {
  const [p, qs] = path.split('?', 2) as [string, string | undefined];
  const query = Object.fromEntries(new URLSearchParams(qs ?? ''));
  const req = await signer().sign({ method, protocol: 'http:', hostname: '127.0.0.1', port: server.port, path: p, query, headers: { host: `127.0.0.1:${server.port}`, ...headers } });
  const lines = Object.entries(req.headers).map(([k, v]) => `${k}: ${v}`);
  return `${method} ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
}

/** Number of blob files under a data directory, whatever the fan-out layout. */
export function countBlobFiles(dataDir: string): number {
  const walk = (dir: string): number =>
    fs.readdirSync(dir, { withFileTypes: true }).reduce((n, e) => n + (e.isDirectory() ? walk(path.join(dir, e.name)) : 1), 0);
  return walk(path.join(dataDir, 'blobs'));
}

/** The S3 error a call fails with (fails the test if it succeeds or fails otherwise). */
export async function s3error(p: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await p;
  } catch (e) {
    if (e instanceof S3ServiceException) return e;
    throw e;
  }
  assert.fail('expected an S3 error');
}
