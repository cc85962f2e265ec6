// Client-side jobs: functions that run inside the load-client process (pinned to the client
// core). A job is named by module and export (see client-main.ts), takes JSON arguments and
// resolves to a JSON result. Scenarios may define their own jobs in their own modules.

import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { SigV4Signer } from './sigv4.js';
import { runLoad, type LoadResult } from './load.js';
import { S3BenchClient, HttpError, type Endpoint } from './s3client.js';
import { keyAt, type KeySpec } from './keys.js';

export interface LoadJobArgs {
  endpoint: Endpoint;
  op: 'put' | 'get';
  bucket: string;
  /** Object size in bytes (PUT: bytes sent; GET: bytes expected). */
  size: number;
  concurrency: number;
  warmupSec?: number;
  durationSec?: number;
  /** Fixed-count mode (e.g. populating a bucket): exactly this many operations. */
  count?: number;
  /**
   * Keys. GET: loops read keys 0..count-1 of the key set round robin. PUT in fixed-count mode:
   * operation i writes key i. PUT in fixed-time mode: unique keys `<prefix><loop>/<seq>` from a
   * 'seq' key set's prefix.
   */
  keys: KeySpec;
  /** Server processes whose CPU over the measuring window is reported (LoadResult.serverCpuSec). */
  serverPids?: number[];
  /** Extra request headers on every operation (e.g. server-side encryption). */
  headers?: Record<string, string>;
}

/** Payload buffers larger than this are streamed from a repeated pattern of this size. */
const PATTERN_SIZE = 1024 * 1024;

export async function load(args: LoadJobArgs): Promise<LoadResult> {
  const client = new S3BenchClient(args.endpoint, args.concurrency);
  try {
    const pattern = randomBytes(Math.min(Math.max(args.size, 1), PATTERN_SIZE));
    const body: Buffer | { length: number; pattern: Buffer } = args.size <= PATTERN_SIZE ? pattern.subarray(0, args.size) : { length: args.size, pattern };
    const countMode = args.count !== undefined;
    const spec = {
      concurrency: args.concurrency,
      ...(args.serverPids ? { serverPids: args.serverPids } : {}),
      ...(args.warmupSec !== undefined ? { warmupSec: args.warmupSec } : {}),
      ...(args.durationSec !== undefined ? { durationSec: args.durationSec } : {}),
      ...(countMode ? { count: args.count } : {}),
    };
    if (args.op === 'put') {
      const prefix = args.keys.kind === 'seq' ? args.keys.prefix : '';
      return await runLoad({
        ...spec,
        op: async (loop, seq) => {
          const key = countMode ? keyAt(args.keys, seq) : `${prefix}${loop}/${seq}`;
          const r = await client.request({ method: 'PUT', bucket: args.bucket, key, body, ...(args.headers ? { headers: args.headers } : {}) }).catch((e: Error) => {
            throw new Error(`PUT ${key}: ${e.message}`);
          });
          if (r.status !== 200) throw new HttpError(r.status, r.body.toString('utf8'), `PUT ${key}`);
          return args.size;
        },
      });
    }
    const n = args.keys.count;
    return await runLoad({
      ...spec,
      op: async (loop, seq) => {
        const key = keyAt(args.keys, countMode ? seq % n : (loop + seq * args.concurrency) % n);
        const r = await client.request({ method: 'GET', bucket: args.bucket, key, ...(args.headers ? { headers: args.headers } : {}) }).catch((e: Error) => {
          throw new Error(`GET ${key}: ${e.message}`);
        });
        if (r.status !== 200) throw new HttpError(r.status, r.body.toString('utf8'), `GET ${key}`);
        if (r.bytes !== args.size) throw new Error(`GET ${key}: got ${r.bytes} bytes, expected ${args.size}`);
        return r.bytes;
      },
    });
  } finally {
    client.close();
  }
}

export interface ListJobArgs {
  endpoint: Endpoint;
  bucket: string;
  maxKeys: number;
  /**
   * 'flat': ListObjectsV2 over the whole bucket, no delimiter, following continuation tokens.
   * 'tree': a delimiter '/' walk: the root page (common prefixes), then each prefix listed with
   * the delimiter, following continuation tokens.
   */
  mode: 'flat' | 'tree';
}

export interface ListJobResult {
  keys: number;
  prefixes: number;
  pages: number;
  seconds: number;
  keysPerSec: number;
  /** Per-page latency. */
  pageP50Ms: number;
  pageP99Ms: number;
  /** tree mode: the root page (which folds every key into its directory prefix). */
  rootPageMs?: number;
  clientCpuPct: number;
}

interface Page {
  keys: number;
  prefixes: string[];
  next: string | undefined;
}

const KEY_RE = /<Key>/g;
const PREFIX_RE = /<CommonPrefixes><Prefix>([^<]*)<\/Prefix><\/CommonPrefixes>/g;
const TOKEN_RE = /<NextContinuationToken>([^<]*)<\/NextContinuationToken>/;
const TRUNCATED_RE = /<IsTruncated>true<\/IsTruncated>/;

function unescapeXml(s: string): string {
  return s.includes('&') ? s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&') : s;
}

function parsePage(xml: string): Page {
  const keys = xml.match(KEY_RE)?.length ?? 0;
  const prefixes: string[] = [];
  for (const m of xml.matchAll(PREFIX_RE)) prefixes.push(unescapeXml(m[1]!));
  const truncated = TRUNCATED_RE.test(xml);
  const token = TOKEN_RE.exec(xml)?.[1];
  if (truncated && token === undefined) throw new Error('IsTruncated without NextContinuationToken');
  return { keys, prefixes, next: truncated ? unescapeXml(token!) : undefined };
}

export async function list(args: ListJobArgs): Promise<ListJobResult> {
  const client = new S3BenchClient(args.endpoint, 1);
  const pageMs: number[] = [];
  let keys = 0;
  let prefixes = 0;
  let rootPageMs: number | undefined;
  const listAll = async (prefix: string | undefined, delimiter: string | undefined): Promise<string[]> => {
    const found: string[] = [];
    let token: string | undefined;
    do {
      const query: Record<string, string> = { 'list-type': '2', 'max-keys': String(args.maxKeys) };
      if (prefix !== undefined) query.prefix = prefix;
      if (delimiter !== undefined) query.delimiter = delimiter;
      if (token !== undefined) query['continuation-token'] = token;
      const t = performance.now();
      const r = await client.ok({ method: 'GET', bucket: args.bucket, query, collect: true }, `ListObjectsV2 ${prefix ?? ''}`);
      const page = parsePage(r.body.toString('utf8'));
      pageMs.push(performance.now() - t);
      keys += page.keys;
      prefixes += page.prefixes.length;
      found.push(...page.prefixes);
      token = page.next;
    } while (token !== undefined);
    return found;
  };
  try {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    if (args.mode === 'flat') {
      await listAll(undefined, undefined);
    } else {
      const dirs = await listAll(undefined, '/');
      rootPageMs = pageMs[0];
      for (const d of dirs) await listAll(d, '/');
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const sorted = pageMs.slice().sort((a, b) => a - b);
    const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
    const result: ListJobResult = { keys, prefixes, pages: pageMs.length, seconds, keysPerSec: keys / seconds, pageP50Ms: pct(50), pageP99Ms: pct(99), clientCpuPct: Math.round(((cpu.user + cpu.system) / 1e6 / seconds) * 100) };
    if (rootPageMs !== undefined) result.rootPageMs = rootPageMs;
    return result;
  } finally {
    client.close();
  }
}

/** Checks that objects written by this client come back intact (setup sanity check). */
export async function roundTrip(args: { endpoint: Endpoint; bucket: string; key: string; size: number }): Promise<{ ok: true; etag: string | undefined }> {
  const client = new S3BenchClient(args.endpoint, 1);
  try {
    const data = randomBytes(args.size);
    const put = await client.ok({ method: 'PUT', bucket: args.bucket, key: args.key, body: data });
    const got = await client.ok({ method: 'GET', bucket: args.bucket, key: args.key, collect: true });
    if (!got.body.equals(data)) throw new Error(`round trip of ${args.key}: the bytes read differ from the bytes written`);
    return { ok: true, etag: put.headers.etag };
  } finally {
    client.close();
  }
}

/** Creates a bucket. */
export async function createBucket(args: { endpoint: Endpoint; bucket: string }): Promise<{ ok: true }> {
  const client = new S3BenchClient(args.endpoint, 1);
  try {
    await client.createBucket(args.bucket);
    return { ok: true };
  } finally {
    client.close();
  }
}

/** Puts a bucket policy (a JSON document). */
export async function putBucketPolicy(args: { endpoint: Endpoint; bucket: string; policy: string }): Promise<{ ok: true }> {
  const client = new S3BenchClient(args.endpoint, 1);
  try {
    await client.ok({ method: 'PUT', bucket: args.bucket, query: { policy: '' }, body: Buffer.from(args.policy) });
    return { ok: true };
  } finally {
    client.close();
  }
}

/** PUT of a bucket sub-resource (e.g. `cors`) with an XML body. */
export async function putBucketSubresource(args: { endpoint: Endpoint; bucket: string; subresource: string; body: string }): Promise<{ ok: true }> {
  const client = new S3BenchClient(args.endpoint, 1);
  try {
    const body = Buffer.from(args.body);
    const md5 = createHash('md5').update(body).digest('base64');
    await client.ok({ method: 'PUT', bucket: args.bucket, query: { [args.subresource]: '' }, body, headers: { 'content-md5': md5 } });
    return { ok: true };
  } finally {
    client.close();
  }
}

/**
 * Creates an IAM user with five inline policies (the last allows s3:* on `bucket`; the others
 * allow and deny elsewhere, so every request is matched against all of them) and returns its key.
 * Uses the IAM API (GET query, SigV4 for service iam).
 */
export async function iamUserWithPolicies(args: { endpoint: Endpoint; user: string; bucket: string }): Promise<{ accessKeyId: string; secretAccessKey: string }> {
  const signer = new SigV4Signer({ accessKeyId: args.endpoint.accessKeyId, secretAccessKey: args.endpoint.secretAccessKey, region: args.endpoint.region ?? 'us-east-1', service: 'iam' });
  const call = async (query: Record<string, string>): Promise<string> => {
    const q = { ...query, Version: '2010-05-08' };
    const headers: Record<string, string> = { host: `${args.endpoint.host}:${args.endpoint.port}` };
    // IAM, like AWS's, takes no UNSIGNED-PAYLOAD: sign the (empty) body's hash.
    signer.sign({ method: 'GET', path: '/', query: q, headers, payloadHash: createHash('sha256').update('').digest('hex') });
    const qs = Object.entries(q)
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
      .join('&');
    return new Promise((resolve, reject) => {
      const req = http.request({ host: args.endpoint.host, port: args.endpoint.port, method: 'GET', path: `/?${qs}`, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if ((res.statusCode ?? 0) >= 300) reject(new Error(`IAM ${query.Action}: ${res.statusCode} ${body}`));
          else resolve(body);
        });
      });
      req.on('error', reject);
      req.end();
    });
  };
  await call({ Action: 'CreateUser', UserName: args.user });
  const b = `arn:aws:s3:::${args.bucket}`;
  const policies = [
    { Effect: 'Deny', Action: 's3:DeleteBucket', Resource: '*' },
    { Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket'], Resource: ['arn:aws:s3:::archive-*', 'arn:aws:s3:::archive-*/*'] },
    { Effect: 'Deny', Action: 's3:*', Resource: `${b}/secret/*` },
    { Effect: 'Allow', Action: 'iam:GetUser', Resource: 'arn:aws:iam::*:user/${aws:username}' },
    { Effect: 'Allow', Action: 's3:*', Resource: [b, `${b}/*`], Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
  ];
  for (const [i, st] of policies.entries()) {
    await call({ Action: 'PutUserPolicy', UserName: args.user, PolicyName: `p${i}`, PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [st] }) });
  }
  const key = await call({ Action: 'CreateAccessKey', UserName: args.user });
  const accessKeyId = /<AccessKeyId>([^<]+)<\/AccessKeyId>/.exec(key)?.[1];
  const secretAccessKey = /<SecretAccessKey>([^<]+)<\/SecretAccessKey>/.exec(key)?.[1];
  if (!accessKeyId || !secretAccessKey) throw new Error(`CreateAccessKey: unexpected answer ${key}`);
  return { accessKeyId, secretAccessKey };
}
