// Listing a bucket of 1,000,000 keys (dir%04d/file%03d: 10,000 directories of 100 keys) with
// ListObjectsV2 pages of 1000: does a page cost the same wherever it starts? Four pages, each
// timed REPEATS times, interleaved, the median counting:
//   flat start   no start-after, no delimiter          → the first 1000 keys
//   flat end     start-after the 1001st key from the end → the last 1000 keys
//   delim start  delimiter '/', no start-after          → 1000 common prefixes dir0000/…dir0999/
//   delim end    delimiter '/', start-after dir8999/file099 → dir9000/…dir9999/
// Each delimiter page folds 100,000 keys into 1000 prefixes: a store that skips past a common
// prefix with an index seek costs the same at either end; one that walks the keys of each prefix
// costs 100× a flat page at both. Target: end / start ≤ 1.2, flat and with the delimiter.
//
// Population (setup, not measured): the bucket is made through S3, and one 1-byte object is PUT
// through S3 as a template; the 1,000,000 rows are then written through the MetaStore API
// (putObject, the store's own code, from the load-client process with 64 writes in flight) —
// each a copy of the template's record under its own key — and the template is deleted through
// S3. Through S3 one core manages ~1100-4200 small PUTs/s (HTTP, SigV4, MD5), 4 to 15 minutes
// per store (through the MetaStore API: 13 s on SQLite, 5 minutes on PostgreSQL); the listing only reads the rows, which are the rows a PUT writes. SQLite's store is
// opened in shared mode (a second process on the file) without fsync for the population; Trove is
// restarted after setup so nothing it cached before the population is reused. A full flat walk
// checks the count once per server after the restart.
//
// Trove only (the bare server cannot list); --big (setup: 15 s on SQLite, 5 minutes on PostgreSQL).
// TROVE_BENCH_LIST1M_DIRS=<n> makes it n × 100 keys (quick checks of the scenario itself).

import { createHash } from 'node:crypto';
import path from 'node:path';
import { createBucket } from './common.js';
import type { ListJobResult } from '../lib/jobs.js';
import { S3BenchClient, type Endpoint } from '../lib/s3client.js';
import { median } from '../lib/stats.js';
import type { MetaStore, ObjectContent } from '../../src/store/meta/types.js';
import type { Measurement, Scenario, Target } from './types.js';

const BUCKET = 'bench-list1m';
const PER_DIR = 100;
const DIRS = Number(process.env.TROVE_BENCH_LIST1M_DIRS) || 10_000;
const COUNT = DIRS * PER_DIR;
const PAGE = 1000;
const REPEATS = 7;
const MAX_RATIO = 1.2;
const TEMPLATE_KEY = 'zz-template';

function keyOf(i: number): string {
  return `dir${String(Math.floor(i / PER_DIR)).padStart(4, '0')}/file${String(i % PER_DIR).padStart(3, '0')}`;
}

// ---- jobs (run in the load-client process) ------------------------------------------------------

export interface PopulateArgs {
  endpoint: Endpoint;
  dataDir: string;
  metaUrl?: string;
  bucket: string;
  count: number;
  concurrency: number;
}

/** Writes `count` rows through the MetaStore API, each a copy of the template object's record. */
export async function populateMeta(args: PopulateArgs): Promise<{ rows: number; seconds: number; rowsPerSec: number }> {
  const client = new S3BenchClient(args.endpoint, 1);
  let store: MetaStore | undefined;
  try {
    await client.ok({ method: 'PUT', bucket: args.bucket, key: TEMPLATE_KEY, body: Buffer.from('x') }, 'PUT template');
    if (args.metaUrl) {
      const { PgMetaStore } = await import('../../src/store/meta/postgres/index.js');
      store = await PgMetaStore.open({ url: args.metaUrl, poolSize: 16 });
    } else {
      const { SqliteMetaStore } = await import('../../src/store/meta/sqlite/index.js');
      store = await SqliteMetaStore.open({ dir: path.join(args.dataDir, 'meta'), fsync: false, shared: true });
    }
    const bucket = await store.getBucket(args.bucket);
    if (!bucket) throw new Error(`bucket ${args.bucket} not in the store`);
    const t = await store.getObject(bucket.id, TEMPLATE_KEY);
    if (!t || t.deleteMarker || !t.inline) throw new Error(`template ${TEMPLATE_KEY}: not an inline object in the store`);
    if (t.etag !== createHash('md5').update('x').digest('hex')) throw new Error(`template ${TEMPLATE_KEY}: unexpected etag ${t.etag}`);
    const content: ObjectContent = {
      size: t.size,
      etag: t.etag,
      lastModified: t.lastModified,
      owner: t.owner,
      storageClass: t.storageClass,
      headers: t.headers,
      userMeta: t.userMeta,
      inline: t.inline,
      ...(t.checksum ? { checksum: t.checksum } : {}),
      ...(t.acl ? { acl: t.acl } : {}),
    };
    const s = store;
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: args.concurrency }, async () => {
        for (let i = next++; i < args.count; i = next++) await s.putObject(bucket.id, keyOf(i), content);
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    await client.ok({ method: 'DELETE', bucket: args.bucket, key: TEMPLATE_KEY }, 'DELETE template');
    return { rows: args.count, seconds, rowsPerSec: args.count / seconds };
  } finally {
    client.close();
    await store?.close();
  }
}

export interface PagesArgs {
  endpoint: Endpoint;
  bucket: string;
  pages: Record<string, { startAfter?: string; delimiter?: string }>;
}

export interface PagesResult {
  /** name → median ms, keys and prefixes of the page, every sample. */
  pages: Record<string, { ms: number; keys: number; prefixes: number; all: number[] }>;
  clientCpuPct: number;
}

const KEY_RE = /<Key>/g;
const PREFIX_RE = /<CommonPrefixes>/g;

export async function pagesRound(args: PagesArgs): Promise<PagesResult> {
  const client = new S3BenchClient(args.endpoint, 1);
  try {
    // Open the connection first: no page pays for it.
    await client.ok({ method: 'GET', bucket: args.bucket, query: { 'list-type': '2', 'max-keys': '1' } }, 'warm-up');
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const times: Record<string, number[]> = {};
    const shape: Record<string, { keys: number; prefixes: number }> = {};
    for (let i = 0; i < REPEATS; i++) {
      for (const [name, p] of Object.entries(args.pages)) {
        const query: Record<string, string> = { 'list-type': '2', 'max-keys': String(PAGE) };
        if (p.startAfter) query['start-after'] = p.startAfter;
        if (p.delimiter) query.delimiter = p.delimiter;
        const t = performance.now();
        const r = await client.ok({ method: 'GET', bucket: args.bucket, query, collect: true }, `ListObjectsV2 ${name}`);
        (times[name] ??= []).push(performance.now() - t);
        const xml = r.body.toString('utf8');
        shape[name] = { keys: xml.match(KEY_RE)?.length ?? 0, prefixes: xml.match(PREFIX_RE)?.length ?? 0 };
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const pages: PagesResult['pages'] = {};
    for (const name of Object.keys(args.pages)) pages[name] = { ms: median(times[name]!), ...shape[name]!, all: times[name]!.map((x) => Math.round(x * 100) / 100) };
    return { pages, clientCpuPct: Math.round(((cpu.user + cpu.system) / 1e6 / seconds) * 100) };
  } finally {
    client.close();
  }
}

// ---- the scenario (orchestrator side) ---------------------------------------------------------------

// (With fewer than 1000 directories, quick checks only: the delimiter pages hold every directory.)
const PAGES: PagesArgs['pages'] = {
  flatStart: {},
  flatEnd: { startAfter: keyOf(COUNT - PAGE - 1) },
  delimStart: { delimiter: '/' },
  delimEnd: DIRS > PAGE ? { delimiter: '/', startAfter: keyOf((DIRS - PAGE) * PER_DIR - 1) } : { delimiter: '/' },
};

/** What each page must hold: [keys, common prefixes]. */
const EXPECT: Record<string, [number, number]> = { flatStart: [PAGE, 0], flatEnd: [PAGE, 0], delimStart: [0, Math.min(PAGE, DIRS)], delimEnd: [0, Math.min(PAGE, DIRS)] };

const name = (t: Target) => (t.metaUrl ? 'trove-pg' : 'trove-sqlite');

function ms(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

function ratio(first: number, last: number, extra: Record<string, unknown>): Measurement {
  const r = last / first;
  return { value: r, display: `first ${ms(first)} ms, end ${ms(last)} ms: ${r.toFixed(2)}×`, detail: { firstPageMs: first, lastPageMs: last, ...extra } };
}

export const list1m: Scenario = {
  id: 'list1m',
  label: 'list 1M: end/first page',
  unit: '×',
  goal: { kind: 'atMost', max: MAX_RATIO, text: `≤${MAX_RATIO}×` },
  optionalFlag: 'big',
  restartAfterSetup: true,
  rows: [{ key: 'delim', label: "list 1M delim '/': end/first", unit: '×', goal: { kind: 'atMost', max: MAX_RATIO, text: `≤${MAX_RATIO}×` } }],
  async setup(t, ctx) {
    await createBucket(t, ctx, BUCKET);
    const args: PopulateArgs = { endpoint: t.endpoint, dataDir: t.dataDir, ...(t.metaUrl ? { metaUrl: t.metaUrl } : {}), bucket: BUCKET, count: COUNT, concurrency: 64 };
    const r = await ctx.job<{ rows: number; seconds: number; rowsPerSec: number }>('scenarios/list1m.js', 'populateMeta', args);
    ctx.log(`  ${name(t)}: wrote ${r.rows} rows through the MetaStore API in ${r.seconds.toFixed(1)} s (${Math.round(r.rowsPerSec)}/s)`);
  },
  async afterRestart(t, ctx) {
    const w = await ctx.job<ListJobResult>('lib/jobs.js', 'list', { endpoint: t.endpoint, bucket: BUCKET, maxKeys: PAGE, mode: 'flat' });
    if (w.keys !== COUNT) throw new Error(`a flat walk of the bucket listed ${w.keys} keys, expected ${COUNT}`);
    ctx.log(`  ${name(t)}: checked: a flat walk lists ${w.keys} keys (${Math.round(w.keysPerSec)} keys/s, page p50 ${ms(w.pageP50Ms)} ms p99 ${ms(w.pageP99Ms)} ms)`);
  },
  async measure(t, ctx): Promise<Measurement> {
    const r = await ctx.job<PagesResult>('scenarios/list1m.js', 'pagesRound', { endpoint: t.endpoint, bucket: BUCKET, pages: PAGES } satisfies PagesArgs);
    for (const [name, [keys, prefixes]] of Object.entries(EXPECT)) {
      const p = r.pages[name]!;
      if (p.keys !== keys || p.prefixes !== prefixes) throw new Error(`page ${name}: ${p.keys} keys and ${p.prefixes} prefixes, expected ${keys} and ${prefixes}`);
    }
    const { flatStart, flatEnd, delimStart, delimEnd } = r.pages as Record<string, PagesResult['pages'][string]>;
    const extra = { pages: r.pages, clientCpuPct: r.clientCpuPct };
    return {
      ...ratio(flatStart!.ms, flatEnd!.ms, extra),
      rows: { delim: ratio(delimStart!.ms, delimEnd!.ms, extra) },
    };
  },
};
