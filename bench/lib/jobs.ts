// Client-side jobs: functions that run inside the load-client process (pinned to the client
// core). A job is named by module and export (see client-main.ts), takes JSON arguments and
// resolves to a JSON result. Scenarios may define their own jobs in their own modules.

import { randomBytes } from 'node:crypto';
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
          const r = await client.request({ method: 'PUT', bucket: args.bucket, key, body }).catch((e: Error) => {
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
        const r = await client.request({ method: 'GET', bucket: args.bucket, key }).catch((e: Error) => {
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
