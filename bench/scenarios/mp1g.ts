// A 1 GiB object uploaded by multipart, 8 MiB parts (128), 8 parts in flight (what an SDK upload
// manager does), then Complete; then one GET of the whole object (one stream, read to the end and
// discarded). Each round uploads a fresh key and reads that object back; nothing is deleted while
// measuring. Rows: upload MB/s (Create + parts + Complete) and download MB/s, each beside the bare
// server, which stores each part as its own file (temp file + MD5 + fdatasync + rename + directory
// fsync, as its stream-mode PUT), answers Complete by writing a small manifest durably (no byte
// copied, like Trove's Complete) and serves the GET by streaming the part files in order.
// Rounds: at most 3 (1 GiB each per server, plus 1 GiB of warm-up in setup: ~8 GiB of disk in all,
// freed when the run ends).

import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { GiB, MiB, createBucket } from './common.js';
import { clockTicks, cpuTimes, waitIdle } from '../lib/procfs.js';
import { S3BenchClient, type Endpoint } from '../lib/s3client.js';
import { SigV4Signer, encodeKey } from '../lib/sigv4.js';
import { percentileSorted } from '../lib/stats.js';
import type { Measurement, Scenario, Target } from './types.js';

const BUCKET = 'bench-mp1g';
const SIZE = GiB;
const PART = 8 * MiB;
const INFLIGHT = 8;

// ---- client-side jobs (run in the pinned load-client process) -------------------------------------

export interface UploadArgs {
  endpoint: Endpoint;
  bucket: string;
  key: string;
  size: number;
  partSize: number;
  inflight: number;
}

export interface UploadResult {
  seconds: number;
  mbPerSec: number;
  parts: number;
  createMs: number;
  completeMs: number;
  partP50Ms: number;
  partP99Ms: number;
  partMaxMs: number;
  etag: string;
  clientCpuPct: number;
}

const UPLOAD_ID_RE = /<UploadId>([^<]+)<\/UploadId>/;

/** Create, upload every part (`inflight` at once), Complete: timed as a whole. */
export function multipartUpload(args: UploadArgs): Promise<UploadResult> {
  return upload(args, undefined);
}

/** Part bodies: `parts[i]` if given (the round-trip check), else a repeated 1 MiB random pattern. */
async function upload(args: UploadArgs, randomParts: Buffer[] | undefined): Promise<UploadResult> {
  const client = new S3BenchClient(args.endpoint, args.inflight);
  const count = Math.ceil(args.size / args.partSize);
  const pattern = randomBytes(MiB);
  const etags: string[] = new Array(count);
  const partMs: number[] = [];
  try {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const created = await client.ok({ method: 'POST', bucket: args.bucket, key: args.key, query: { uploads: '' }, collect: true }, 'CreateMultipartUpload');
    const uploadId = UPLOAD_ID_RE.exec(created.body.toString('utf8'))?.[1];
    if (!uploadId) throw new Error(`CreateMultipartUpload: no UploadId in ${created.body.toString('utf8').slice(0, 300)}`);
    const createMs = performance.now() - t0;
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < count; i = next++) {
        const length = Math.min(args.partSize, args.size - i * args.partSize);
        const body = randomParts ? randomParts[i]! : { length, pattern };
        const ts = performance.now();
        const r = await client.ok(
          { method: 'PUT', bucket: args.bucket, key: args.key, query: { partNumber: String(i + 1), uploadId }, body },
          `UploadPart ${i + 1}`,
        );
        partMs.push(performance.now() - ts);
        const etag = r.headers.etag;
        if (!etag) throw new Error(`UploadPart ${i + 1}: no ETag`);
        etags[i] = etag;
      }
    };
    await Promise.all(Array.from({ length: Math.min(args.inflight, count) }, worker));
    const tc = performance.now();
    const xml =
      '<CompleteMultipartUpload>' +
      etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e.replace(/"/g, '&quot;')}</ETag></Part>`).join('') +
      '</CompleteMultipartUpload>';
    const done = await client.ok({ method: 'POST', bucket: args.bucket, key: args.key, query: { uploadId }, body: Buffer.from(xml), collect: true }, 'CompleteMultipartUpload');
    const text = done.body.toString('utf8');
    // S3 may answer 200 with an error document once it has started replying.
    if (!text.includes('<CompleteMultipartUploadResult')) throw new Error(`CompleteMultipartUpload: ${text.slice(0, 300)}`);
    const end = performance.now();
    const cpu = process.cpuUsage(cpu0);
    const seconds = (end - t0) / 1000;
    const sorted = partMs.slice().sort((a, b) => a - b);
    return {
      seconds,
      mbPerSec: args.size / 1e6 / seconds,
      parts: count,
      createMs,
      completeMs: end - tc,
      partP50Ms: percentileSorted(sorted, 50),
      partP99Ms: percentileSorted(sorted, 99),
      partMaxMs: sorted[sorted.length - 1]!,
      etag: /<ETag>([^<]*)<\/ETag>/.exec(text)?.[1]?.replace(/&quot;/g, '"') ?? '',
      clientCpuPct: Math.round(((cpu.user + cpu.system) / 1e6 / seconds) * 100),
    };
  } finally {
    client.close();
  }
}

export interface GetResult {
  seconds: number;
  mbPerSec: number;
  bytes: number;
  clientCpuPct: number;
}

/** Bytes the GET reader asks the kernel for at once (one reused buffer). */
const READ_BUFFER = 1024 * 1024;

/**
 * One GET of the whole object, read to the end and discarded. Over a plain socket reading into one
 * reused 1 MiB buffer (net's `onread`), not node:http: at 1 GB/s and more, node:http's per-chunk
 * cost (a 64 KiB buffer and a stream event each) made the load client the bottleneck, and a
 * slower server then cost the client more per byte (smaller reads). The request is signed as the
 * other requests are; the response must carry a Content-Length (Trove's and the bare server's do).
 */
export async function getWhole(args: { endpoint: Endpoint; bucket: string; key: string; size: number }): Promise<GetResult> {
  const e = args.endpoint;
  const signer = new SigV4Signer({ accessKeyId: e.accessKeyId, secretAccessKey: e.secretAccessKey, region: e.region ?? 'us-east-1' });
  const urlPath = '/' + args.bucket + '/' + encodeKey(args.key);
  const headers: Record<string, string> = { host: `${e.host}:${e.port}` };
  signer.sign({ method: 'GET', path: urlPath, headers });
  const head = `GET ${urlPath} HTTP/1.1\r\n` + Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('') + 'connection: close\r\n\r\n';
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    const s: net.Socket = net.connect({
      host: e.host,
      port: e.port,
      onread: { buffer: Buffer.allocUnsafe(READ_BUFFER), callback: (n: number, buf: Uint8Array) => onRead(n, buf) },
    });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
  socket.setNoDelay(true);

  let header: Buffer | undefined = Buffer.alloc(0);
  let status = 0;
  let length = -1;
  let body = 0;
  let errorText = '';
  let settle: (err?: Error) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    settle = (err) => (err ? reject(err) : resolve());
  });
  // The socket's bytes: the header block (copied until complete), then the body (counted).
  const onRead = (n: number, buf: Uint8Array): boolean => {
    let chunk = Buffer.from(buf.buffer, buf.byteOffset, n);
    if (header !== undefined) {
      header = Buffer.concat([header, chunk]);
      const end = header.indexOf('\r\n\r\n');
      if (end < 0) {
        if (header.length > 64 * 1024) settle(new Error('response header too large'));
        return true;
      }
      const text = header.subarray(0, end).toString('latin1');
      chunk = header.subarray(end + 4);
      header = undefined;
      status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      const cl = /\r\ncontent-length:\s*(\d+)/i.exec(text);
      if (!cl) {
        settle(new Error(`GET ${args.key}: no Content-Length in ${text.slice(0, 300)}`));
        return false;
      }
      length = Number(cl[1]);
    }
    body += chunk.length;
    if (status !== 200 && errorText.length < 1000) errorText += chunk.toString('utf8');
    if (body >= length) settle();
    return true;
  };
  socket.on('error', (err) => settle(err));
  socket.on('end', () => settle(body >= length && length >= 0 ? undefined : new Error(`GET ${args.key}: connection closed after ${body} of ${length} body bytes`)));

  try {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    socket.write(head);
    await done;
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    if (status !== 200) throw new Error(`GET ${args.key}: HTTP ${status} ${errorText.slice(0, 300)}`);
    if (body !== args.size) throw new Error(`GET ${args.key}: got ${body} bytes, expected ${args.size}`);
    return { seconds, mbPerSec: body / 1e6 / seconds, bytes: body, clientCpuPct: Math.round(((cpu.user + cpu.system) / 1e6 / seconds) * 100) };
  } finally {
    socket.destroy();
  }
}

/** Setup check: a small multipart object of random parts (3 × 8 MiB + 1 MiB) reads back intact. */
export async function multipartRoundTrip(args: { endpoint: Endpoint; bucket: string; key: string }): Promise<{ ok: true; etag: string }> {
  const size = 3 * PART + MiB;
  const parts = [randomBytes(PART), randomBytes(PART), randomBytes(PART), randomBytes(MiB)];
  const up = await upload({ ...args, size, partSize: PART, inflight: 4 }, parts);
  const want = Buffer.concat(parts);
  const client = new S3BenchClient(args.endpoint, 1);
  try {
    const got = await client.ok({ method: 'GET', bucket: args.bucket, key: args.key, collect: true });
    if (!got.body.equals(want)) throw new Error(`multipart round trip of ${args.key}: ${got.body.length} bytes read differ from the ${want.length} written`);
    if (!/-4"?$/.test(up.etag)) throw new Error(`multipart round trip of ${args.key}: unexpected ETag ${up.etag}`);
    return { ok: true, etag: up.etag };
  } finally {
    client.close();
  }
}

// ---- the scenario (orchestrator side) ---------------------------------------------------------------

const CLK_TCK = clockTicks();
let attempts = 0;

interface ServerCpu {
  /** % of one core over the job's own timed window (the server idles while the client starts). */
  serverCpuPct: number;
  /** The server's user and system CPU seconds per GiB moved. */
  serverUserSecPerGiB: number;
  serverSysSecPerGiB: number;
}

/** Runs a job, noting the server's CPU over it. */
async function withServerCpu<T extends { seconds: number }>(t: Target, bytes: number, run: () => Promise<T>): Promise<{ r: T; cpu: ServerCpu }> {
  const c0 = cpuTimes(t.pid);
  const r = await run();
  const c1 = cpuTimes(t.pid);
  const user = (c1.user - c0.user) / CLK_TCK;
  const sys = (c1.system - c0.system) / CLK_TCK;
  const round2 = (x: number) => Math.round(x * 100) / 100;
  return {
    r,
    cpu: { serverCpuPct: Math.round(((user + sys) / r.seconds) * 100), serverUserSecPerGiB: round2(user / (bytes / GiB)), serverSysSecPerGiB: round2(sys / (bytes / GiB)) },
  };
}

/** "186.3 MB/s (srv user 2.61 + sys 2.95 s/GiB)": the CPU split shows in the table. */
function display(mbPerSec: number, c: ServerCpu): string {
  return `${mbPerSec.toFixed(1)} MB/s (srv user ${c.serverUserSecPerGiB.toFixed(2)} + sys ${c.serverSysSecPerGiB.toFixed(2)} s/GiB)`;
}

export const mp1g: Scenario = {
  id: 'mp1g',
  label: 'mp upload 1GiB 8MiB×8',
  unit: 'MB/s',
  bare: 'stream',
  goal: { kind: 'ratio', min: 0.8 },
  rows: [{ key: 'get', label: 'mp get 1GiB x1', unit: 'MB/s', goal: { kind: 'ratio', min: 0.8 } }],
  rounds: (o) => Math.min(o.rounds, 3),
  async setup(t, ctx) {
    await createBucket(t, ctx, BUCKET);
    await ctx.job('scenarios/mp1g.js', 'multipartRoundTrip', { endpoint: t.endpoint, bucket: BUCKET, key: 'roundtrip' });
    // One full-size upload and GET, unmeasured: warms the code paths, and puts the machine's page
    // cache in the state every measured round finds it in (on a VM whose balloon reports free
    // pages to the host, the first GiB or two of new page cache costs far less kernel time than
    // the rest; see README).
    const w = await ctx.job<UploadResult>('scenarios/mp1g.js', 'multipartUpload', { endpoint: t.endpoint, bucket: BUCKET, key: 'warmup', size: SIZE, partSize: PART, inflight: INFLIGHT });
    const g = await ctx.job<GetResult>('scenarios/mp1g.js', 'getWhole', { endpoint: t.endpoint, bucket: BUCKET, key: 'warmup', size: SIZE });
    ctx.log(`  ${t.kind}: warm-up upload ${w.mbPerSec.toFixed(0)} MB/s, get ${g.mbPerSec.toFixed(0)} MB/s`);
  },
  async measure(t, ctx, round): Promise<Measurement> {
    // A fresh key for every measurement, repeats of a noisy round included: an overwrite would
    // have Trove free the old parts' blobs in the background while measuring.
    const key = `r${round}-${attempts++}/object-1g`;
    const base = { endpoint: t.endpoint, bucket: BUCKET, key };
    // The upload job's own timing (Create to Complete) excludes the client process's start.
    const up = await withServerCpu(t, SIZE, () => ctx.job<UploadResult>('scenarios/mp1g.js', 'multipartUpload', { ...base, size: SIZE, partSize: PART, inflight: INFLIGHT }));
    // As between rounds: flush dirty pages, let the server finish its background work.
    spawnSync('sync');
    await waitIdle([t.pid]);
    const get = await withServerCpu(t, SIZE, () => ctx.job<GetResult>('scenarios/mp1g.js', 'getWhole', { ...base, size: SIZE }));
    const u = up.r;
    const g = get.r;
    return {
      value: u.mbPerSec,
      display: display(u.mbPerSec, up.cpu),
      p50Ms: u.partP50Ms,
      p99Ms: u.partP99Ms,
      detail: { ...u, ...up.cpu, latency: 'p50/p99 per part' },
      rows: {
        get: {
          value: g.mbPerSec,
          display: display(g.mbPerSec, get.cpu),
          p50Ms: g.seconds * 1000,
          p99Ms: g.seconds * 1000,
          detail: { ...g, ...get.cpu, latency: 'the whole GET' },
        },
      },
    };
  },
};
