// Listing versions in a versioned bucket holding one key with 10,000 versions and 100,000 other
// keys (dir%03d/file%05d, one version each, as list100k): (a) all 10,000 versions of that key
// through ListObjectVersions pages of 1000 (prefix = the key); (b) the whole bucket (110,000
// entries) through ListObjectVersions pages of 1000; (c) single ListObjectsV2 pages (max-keys
// 1000) at the start and at the end of the bucket (and one that crosses the key with 10,000
// versions). A page should cost the same wherever it starts ("per page, not per bucket"): each
// listing's last page is compared with its first (medians of 5 requests of each, interleaved,
// made after the walk) and a last page over 2× the first fails its row. Throughput counts the
// walk alone. Trove only (the bare server cannot list). The bucket is populated once, in setup
// (about 20 s); one round takes a few seconds.

import { createHash } from 'node:crypto';
import { createBucket, populate } from './common.js';
import { runLoad, type LoadResult } from '../lib/load.js';
import { keyAt, type KeySpec } from '../lib/keys.js';
import { S3BenchClient, type Endpoint } from '../lib/s3client.js';
import { median, percentileSorted } from '../lib/stats.js';
import type { Measurement, Scenario } from './types.js';

const BUCKET = 'bench-versions10k';
const VERSIONS = 10_000;
const TREE: Extract<KeySpec, { kind: 'tree' }> = { kind: 'tree', count: 100_000, perDir: 1000 };
/** Sorts after every key of dir050/ (file05000…file05999), before dir051/: mid-bucket. */
const HOT_KEY = 'dir050/versioned';
const TOTAL = TREE.count + VERSIONS;
const PAGE = 1000;
/**
 * Single pages (each listing's first and last, the ListObjectsV2 pages) are timed this many times
 * each, interleaved; the median counts. One sample each would let a single hiccup (a GC pause,
 * another process) decide the first-vs-last comparison.
 */
const REPEATS = 5;
/** A last page slower than this many times the first fails the row. */
const MAX_PAGE_RATIO = 2;

// ---- client-side jobs -------------------------------------------------------------------------------

/** Enables versioning on a bucket. */
export async function enableVersioning(args: { endpoint: Endpoint; bucket: string }): Promise<{ ok: true }> {
  const client = new S3BenchClient(args.endpoint, 1);
  try {
    const body = Buffer.from('<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status></VersioningConfiguration>');
    const md5 = createHash('md5').update(body).digest('base64');
    await client.ok({ method: 'PUT', bucket: args.bucket, query: { versioning: '' }, body, headers: { 'content-md5': md5 } }, 'PutBucketVersioning');
    const got = await client.ok({ method: 'GET', bucket: args.bucket, query: { versioning: '' }, collect: true }, 'GetBucketVersioning');
    if (!got.body.toString('utf8').includes('<Status>Enabled</Status>')) throw new Error(`versioning not enabled: ${got.body.toString('utf8').slice(0, 300)}`);
    return { ok: true };
  } finally {
    client.close();
  }
}

/** `count` PUTs of a tiny body to one key, `concurrency` at once: `count` versions. */
export async function putVersions(args: { endpoint: Endpoint; bucket: string; key: string; count: number; concurrency: number }): Promise<LoadResult> {
  const client = new S3BenchClient(args.endpoint, args.concurrency);
  try {
    return await runLoad({
      concurrency: args.concurrency,
      count: args.count,
      op: async (_loop, seq) => {
        await client.ok({ method: 'PUT', bucket: args.bucket, key: args.key, body: Buffer.from(String(seq % 10)) });
        return 1;
      },
    });
  } finally {
    client.close();
  }
}

interface VersionsPage {
  entries: number;
  keys: string[];
  versionIds: string[];
  next: { keyMarker: string; versionIdMarker: string | undefined } | undefined;
}

const ENTRY_KEY_RE = /<Key>([^<]*)<\/Key>/g;
const VERSION_ID_RE = /<VersionId>([^<]*)<\/VersionId>/g;
const TRUNCATED_RE = /<IsTruncated>true<\/IsTruncated>/;
const NEXT_KEY_RE = /<NextKeyMarker>([^<]*)<\/NextKeyMarker>/;
const NEXT_VID_RE = /<NextVersionIdMarker>([^<]*)<\/NextVersionIdMarker>/;
const V2_KEY_RE = /<Key>/g;

function unescapeXml(s: string): string {
  return s.includes('&') ? s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&') : s;
}

function parseVersionsPage(xml: string, keep: boolean): VersionsPage {
  // Entries are <Version> and <DeleteMarker> elements; each has one <Key> (the page's own
  // fields are <Prefix>, <KeyMarker>, <NextKeyMarker>…).
  const keys = keep ? [...xml.matchAll(ENTRY_KEY_RE)].map((m) => unescapeXml(m[1]!)) : [];
  const entries = keep ? keys.length : (xml.match(ENTRY_KEY_RE)?.length ?? 0);
  const versionIds = keep ? [...xml.matchAll(VERSION_ID_RE)].map((m) => m[1]!) : [];
  if (!TRUNCATED_RE.test(xml)) return { entries, keys, versionIds, next: undefined };
  const keyMarker = NEXT_KEY_RE.exec(xml)?.[1];
  if (keyMarker === undefined) throw new Error('ListObjectVersions: IsTruncated without NextKeyMarker');
  return { entries, keys, versionIds, next: { keyMarker: unescapeXml(keyMarker), versionIdMarker: NEXT_VID_RE.exec(xml)?.[1] } };
}

export interface WalkResult {
  entries: number;
  pages: number;
  seconds: number;
  entriesPerSec: number;
  /** During the walk: the first page, and the last page that returned entries (a trailing empty page, if any, is not counted). */
  walkFirstPageMs: number;
  walkLastPageMs: number;
  /** Medians of REPEATS requests of the first and of the last page, interleaved, after the walk. */
  firstPageMs: number;
  lastPageMs: number;
  firstPageAllMs: number[];
  lastPageAllMs: number[];
  pageP50Ms: number;
  pageP99Ms: number;
  pageMaxMs: number;
  /** The slowest page's index (0-based). */
  slowestPage: number;
  pageMs: number[];
  /** Checks made on the entries: distinct version ids, keys outside the prefix. */
  distinctVersionIds?: number;
  foreignKeys?: number;
}

/** Lists every version under `prefix` through pages of `maxKeys`, following the markers. */
async function walkVersions(client: S3BenchClient, bucket: string, prefix: string | undefined, maxKeys: number, check: boolean): Promise<WalkResult> {
  const pageMs: number[] = [];
  const pageEntries: number[] = [];
  const pageQueries: Array<Record<string, string>> = [];
  const ids = check ? new Set<string>() : undefined;
  let foreign = 0;
  let entries = 0;
  let marker: VersionsPage['next'];
  const t0 = performance.now();
  do {
    const query: Record<string, string> = { versions: '', 'max-keys': String(maxKeys) };
    if (prefix !== undefined) query.prefix = prefix;
    if (marker) {
      query['key-marker'] = marker.keyMarker;
      if (marker.versionIdMarker !== undefined) query['version-id-marker'] = marker.versionIdMarker;
    }
    const t = performance.now();
    const r = await client.ok({ method: 'GET', bucket, query, collect: true }, `ListObjectVersions ${prefix ?? ''} page ${pageMs.length + 1}`);
    const page = parseVersionsPage(r.body.toString('utf8'), check);
    pageMs.push(performance.now() - t);
    pageQueries.push(query);
    pageEntries.push(page.entries);
    entries += page.entries;
    if (check) {
      for (const v of page.versionIds) ids!.add(v);
      if (prefix !== undefined) foreign += page.keys.filter((k) => !k.startsWith(prefix)).length;
    }
    if (page.next && page.entries === 0) throw new Error('ListObjectVersions: an empty truncated page');
    marker = page.next;
  } while (marker);
  const seconds = (performance.now() - t0) / 1000;
  let last = pageMs.length - 1;
  while (last > 0 && pageEntries[last] === 0) last--;
  const sorted = pageMs.slice().sort((a, b) => a - b);
  // The first and the last page again, interleaved (not counted in the walk's throughput).
  const firstAll: number[] = [];
  const lastAll: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    for (const [q, into] of [[pageQueries[0]!, firstAll], [pageQueries[last]!, lastAll]] as const) {
      const t = performance.now();
      await client.ok({ method: 'GET', bucket, query: q, collect: true }, 'ListObjectVersions (page timing)');
      into.push(performance.now() - t);
    }
  }
  const r2 = (x: number) => Math.round(x * 100) / 100;
  const result: WalkResult = {
    entries,
    pages: pageMs.length,
    seconds,
    entriesPerSec: entries / seconds,
    walkFirstPageMs: pageMs[0]!,
    walkLastPageMs: pageMs[last]!,
    firstPageMs: median(firstAll),
    lastPageMs: median(lastAll),
    firstPageAllMs: firstAll.map(r2),
    lastPageAllMs: lastAll.map(r2),
    pageP50Ms: percentileSorted(sorted, 50),
    pageP99Ms: percentileSorted(sorted, 99),
    pageMaxMs: sorted[sorted.length - 1]!,
    slowestPage: pageMs.indexOf(sorted[sorted.length - 1]!),
    pageMs: pageMs.map(r2),
  };
  if (ids) result.distinctVersionIds = ids.size;
  if (check && prefix !== undefined) result.foreignKeys = foreign;
  return result;
}

export interface V2PageResult {
  /** Median of REPEATS timings. */
  ms: number;
  keys: number;
  all: number[];
}

export interface RoundArgs {
  endpoint: Endpoint;
  bucket: string;
  hotKey: string;
  maxKeys: number;
  /** ListObjectsV2 pages: name → start-after ('' for the start of the bucket). */
  v2: Record<string, string>;
  check: boolean;
}

export interface RoundResult {
  key: WalkResult;
  bucket: WalkResult;
  v2: Record<string, V2PageResult>;
  clientCpuPct: number;
}

/** One round: (a) the hot key's versions, (b) the whole bucket's versions, (c) single V2 pages. */
export async function versionsRound(args: RoundArgs): Promise<RoundResult> {
  const client = new S3BenchClient(args.endpoint, 1);
  try {
    // Open the connection first: no page pays for it.
    await client.ok({ method: 'GET', bucket: args.bucket, query: { versions: '', 'max-keys': '1' } }, 'warm-up');
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const key = await walkVersions(client, args.bucket, args.hotKey, args.maxKeys, args.check);
    const bucket = await walkVersions(client, args.bucket, undefined, args.maxKeys, false);
    const times: Record<string, number[]> = {};
    const counts: Record<string, number> = {};
    for (let i = 0; i < REPEATS; i++) {
      for (const [name, startAfter] of Object.entries(args.v2)) {
        const query: Record<string, string> = { 'list-type': '2', 'max-keys': String(args.maxKeys) };
        if (startAfter) query['start-after'] = startAfter;
        const t = performance.now();
        const r = await client.ok({ method: 'GET', bucket: args.bucket, query, collect: true }, `ListObjectsV2 ${name}`);
        const n = r.body.toString('utf8').match(V2_KEY_RE)?.length ?? 0;
        (times[name] ??= []).push(performance.now() - t);
        counts[name] = n;
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const v2: Record<string, V2PageResult> = {};
    for (const name of Object.keys(args.v2)) v2[name] = { ms: median(times[name]!), keys: counts[name]!, all: times[name]!.map((x) => Math.round(x * 100) / 100) };
    return { key, bucket, v2, clientCpuPct: Math.round(((cpu.user + cpu.system) / 1e6 / seconds) * 100) };
  } finally {
    client.close();
  }
}

// ---- the scenario (orchestrator side) ---------------------------------------------------------------

const V2_PAGES: Record<string, string> = {
  start: '',
  // The last 1000 keys of the bucket.
  end: keyAt(TREE, TREE.count - PAGE - 1),
  // 499 keys of dir050/, the key with 10,000 versions (9,999 of them noncurrent), 500 of dir051/.
  acrossHot: keyAt(TREE, 50 * TREE.perDir + 500),
};

function ms(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

function ratioRow(first: number, last: number, extra: Record<string, unknown>): Measurement {
  const r = last / first;
  return { value: r, display: `first ${ms(first)} ms, last ${ms(last)} ms: ${r.toFixed(2)}×`, detail: { firstPageMs: first, lastPageMs: last, ...extra } };
}

function checkRound(r: RoundResult): void {
  if (r.key.entries !== VERSIONS) throw new Error(`the key's versions: listed ${r.key.entries}, expected ${VERSIONS}`);
  if (r.key.distinctVersionIds !== undefined && r.key.distinctVersionIds !== VERSIONS) throw new Error(`the key's versions: ${r.key.distinctVersionIds} distinct version ids, expected ${VERSIONS}`);
  if (r.key.foreignKeys) throw new Error(`the key's versions: ${r.key.foreignKeys} entries of other keys`);
  if (r.bucket.entries !== TOTAL) throw new Error(`the bucket's versions: listed ${r.bucket.entries}, expected ${TOTAL}`);
  for (const [name, p] of Object.entries(r.v2)) if (p.keys !== PAGE) throw new Error(`ListObjectsV2 page ${name}: ${p.keys} keys, expected ${PAGE}`);
}

function roundArgs(endpoint: Endpoint, check: boolean): RoundArgs {
  return { endpoint, bucket: BUCKET, hotKey: HOT_KEY, maxKeys: PAGE, v2: V2_PAGES, check };
}

const pageRow = (key: string, label: string) => ({ key, label, unit: '×', goal: { kind: 'atMost', max: MAX_PAGE_RATIO, text: `last≤${MAX_PAGE_RATIO}×first` } as const });

export const versions10k: Scenario = {
  id: 'versions10k',
  label: 'versions: 1 key ×10k',
  unit: 'versions/s',
  goal: { kind: 'none' },
  rows: [
    pageRow('keyPages', '  1 key: last/first page'),
    { key: 'bucket', label: 'versions: bucket 110k', unit: 'entries/s', goal: { kind: 'atLeast', min: 100_000, text: '≥100k' } },
    pageRow('bucketPages', '  bucket: last/first page'),
    pageRow('v2', 'list v2 page: end/start'),
  ],
  async setup(t, ctx) {
    await createBucket(t, ctx, BUCKET);
    await ctx.job('scenarios/versions10k.js', 'enableVersioning', { endpoint: t.endpoint, bucket: BUCKET });
    const v = await ctx.job<LoadResult>('scenarios/versions10k.js', 'putVersions', { endpoint: t.endpoint, bucket: BUCKET, key: HOT_KEY, count: VERSIONS, concurrency: 32 });
    if (v.errors > 0) throw new Error(`${v.errors} failed PUTs of ${HOT_KEY}; first: ${v.firstError}`);
    ctx.log(`  ${t.kind}: wrote ${v.ops} versions of ${HOT_KEY} in ${v.seconds.toFixed(1)} s (${Math.round(v.opsPerSec)} PUT/s)`);
    await populate(t, ctx, BUCKET, TREE, 1, 32);
    // Check the listings once, with every version id collected.
    checkRound(await ctx.job<RoundResult>('scenarios/versions10k.js', 'versionsRound', roundArgs(t.endpoint, true)));
  },
  async measure(t, ctx): Promise<Measurement> {
    const r = await ctx.job<RoundResult>('scenarios/versions10k.js', 'versionsRound', roundArgs(t.endpoint, false));
    checkRound(r);
    const { key, bucket, v2 } = r;
    const client = { clientCpuPct: r.clientCpuPct };
    const walkDetail = (w: WalkResult) => ({ ...w, ...client });
    const pageDetail = (w: WalkResult) => ({
      firstPageAllMs: w.firstPageAllMs,
      lastPageAllMs: w.lastPageAllMs,
      walkFirstPageMs: w.walkFirstPageMs,
      walkLastPageMs: w.walkLastPageMs,
      slowestPage: w.slowestPage,
      pageMaxMs: w.pageMaxMs,
      ...client,
    });
    return {
      value: key.entriesPerSec,
      display: `${Math.round(key.entriesPerSec)} versions/s (${key.pages} pages)`,
      p50Ms: key.pageP50Ms,
      p99Ms: key.pageP99Ms,
      detail: walkDetail(key),
      rows: {
        keyPages: ratioRow(key.firstPageMs, key.lastPageMs, pageDetail(key)),
        bucket: { value: bucket.entriesPerSec, p50Ms: bucket.pageP50Ms, p99Ms: bucket.pageP99Ms, detail: walkDetail(bucket) },
        bucketPages: ratioRow(bucket.firstPageMs, bucket.lastPageMs, pageDetail(bucket)),
        v2: {
          ...ratioRow(v2['start']!.ms, v2['end']!.ms, { v2, ...client }),
          display: `start ${ms(v2['start']!.ms)} ms, end ${ms(v2['end']!.ms)} ms: ${(v2['end']!.ms / v2['start']!.ms).toFixed(2)}× (across the 10k-version key ${ms(v2['acrossHot']!.ms)} ms)`,
        },
      },
    };
  },
};
