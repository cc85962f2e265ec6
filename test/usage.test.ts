// Usage reports against a real server and real SDK clients, on the store the run uses (npm test
// runs this file on SQLite and again on PostgreSQL): a known workload by two callers in two
// buckets gives exact numbers per hour (the clock is injected, so hour boundaries are exact),
// per day, as JSON and as CSV; the hourly snapshot splits stored bytes by storage class; old rows
// are pruned by the engine's hourly work; the CLI prints the same report; and two worker
// processes counting into one store add up exactly.

import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ACCESS_KEY, SECRET_KEY, TEST_META, raw, s3error, startServer, tempDir, testMetaUrl, uniqueBucket, type TestServer } from './helpers.js';
import { CLASS_OF, CSV_COLUMNS, HOURLY_KIND, HOUR_MS, operationClass, parseUsageQuery, queryUsage, UsageQueryError, usageReport, type UsageReport } from '../src/usage/index.js';
import { OPERATIONS } from '../src/s3/operations.js';
import { loadConfig } from '../src/config.js';
import { openStores } from '../src/trove.js';

const run = promisify(execFile);
const MAIN = path.join(import.meta.dirname, '..', 'src', 'main.js');

const DAY = 24 * HOUR_MS;
/**
 * 10:00 UTC yesterday: the workload's first hour. Recent, so that the server's own hourly work at
 * the real time (at start, at an hour's start) prunes none of it.
 */
const DAY0 = Math.floor(Date.now() / DAY) * DAY - DAY;
const H0 = DAY0 + 10 * HOUR_MS;
const H1 = H0 + HOUR_MS;

/** Lets the server's response-close handlers (where requests are counted) run. */
const settle = () => new Promise((r) => setTimeout(r, 50));

describe('usage reports', () => {
  let srv: TestServer;
  let s3: S3Client;
  let alice: S3Client;
  let account: { id: string; accountId: string };
  let rootArn: string;
  let aliceArn: string;
  let now = H0;
  let deniedBytes = 0;
  const b1 = uniqueBucket('use1');
  const b2 = uniqueBucket('use2');

  const report = (params: Record<string, string>): Promise<UsageReport> => queryUsage({ meta: srv.trove.app.meta }, parseUsageQuery(params));
  const flush = async () => {
    await settle();
    await srv.trove.app.usage.recorder!.flush();
  };
  /** The hourly work (snapshot, pruning) of the clock's hour, run by the engine. */
  const hourly = async () => {
    await srv.trove.app.usage.tick();
    await srv.trove.app.engine.idle([HOURLY_KIND]);
  };

  before(async () => {
    srv = await startServer({ usageFlushMs: 3_600_000 });
    srv.trove.app.usage.setClock(() => now);
    s3 = srv.s3;
    const meta = srv.trove.app.meta;
    const canonical = (await meta.getAccessKey(ACCESS_KEY))!.userId;
    account = { id: canonical, accountId: (await meta.getAccount(canonical))!.accountId };
    rootArn = `arn:aws:iam::${account.accountId}:root`;
    // A comma in the name: the CSV must quote the ARN.
    const u = await srv.trove.app.iam.createUser(account.accountId, 'ali,ce', '/');
    const k = await srv.trove.app.iam.createAccessKey(account, u);
    await meta.iam.putInlinePolicy({ kind: 'user', id: u.id }, 'all', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] }));
    srv.trove.app.iam.changed(account.accountId);
    aliceArn = `arn:aws:iam::${account.accountId}:user/ali,ce`;
    alice = srv.client({ credentials: { accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey } });

    // ---- hour H0
    await s3.send(new CreateBucketCommand({ Bucket: b1 }));
    await s3.send(new CreateBucketCommand({ Bucket: b2 }));
    for (const [key, size] of [['a', 100], ['b', 200], ['c', 300]] as const) await s3.send(new PutObjectCommand({ Bucket: b1, Key: key, Body: Buffer.alloc(size, 1) }));
    await alice.send(new PutObjectCommand({ Bucket: b2, Key: 'x', Body: Buffer.alloc(1000, 2) }));
    await alice.send(new PutObjectCommand({ Bucket: b2, Key: 'ia', Body: Buffer.alloc(24, 3), StorageClass: 'STANDARD_IA' }));
    for (const key of ['a', 'b']) await (await s3.send(new GetObjectCommand({ Bucket: b1, Key: key }))).Body!.transformToByteArray();
    await s3.send(new HeadObjectCommand({ Bucket: b1, Key: 'a' }));
    assert.equal((await s3error(alice.send(new HeadObjectCommand({ Bucket: b2, Key: 'missing' })))).$metadata.httpStatusCode, 404);
    // Anonymous and refused: counted against the bucket's owner, as an error.
    const denied = await raw(srv, { method: 'GET', path: `/${b1}/a`, sign: false });
    assert.equal(denied.status, 403);
    now = H1 - 1;
    await s3.send(new DeleteObjectCommand({ Bucket: b1, Key: 'c' }));
    // ---- hour H1 (the boundary: the clock's first millisecond of the hour)
    now = H1;
    await s3.send(new PutObjectCommand({ Bucket: b1, Key: 'd', Body: Buffer.alloc(50, 4) }));
    await flush();
    await hourly();
    deniedBytes = denied.body.length;
  });
  after(() => srv.stop());

  const pick = (r: UsageReport, period: number, bucket: string, user: string, cls: string) =>
    r.requests.find((e) => e.period === new Date(period).toISOString() && e.bucket === bucket && e.user === user && e.class === cls);
  const counts = (e: { requests: number; errors4xx: number; errors5xx: number; bytesIn: number; bytesOut: number } | undefined) =>
    e && { requests: e.requests, errors4xx: e.errors4xx, errors5xx: e.errors5xx, bytesIn: e.bytesIn, bytesOut: e.bytesOut };

  it('counts a known workload exactly, per hour, account, bucket, user and operation class', async () => {
    const r = await report({ from: new Date(H0).toISOString(), to: new Date(H1 + HOUR_MS).toISOString(), account: account.accountId });
    assert.ok(deniedBytes > 0);
    const expected = [
      // CreateBucket (counted against the bucket it made) and three PUTs
      [H0, b1, rootArn, 'A', { requests: 4, errors4xx: 0, errors5xx: 0, bytesIn: 600, bytesOut: 0 }],
      [H0, b1, rootArn, 'B', { requests: 3, errors4xx: 0, errors5xx: 0, bytesIn: 0, bytesOut: 300 }],
      [H0, b1, rootArn, 'free', { requests: 1, errors4xx: 0, errors5xx: 0, bytesIn: 0, bytesOut: 0 }],
      [H0, b1, 'anonymous', 'B', { requests: 1, errors4xx: 1, errors5xx: 0, bytesIn: 0, bytesOut: deniedBytes }],
      [H0, b2, rootArn, 'A', { requests: 1, errors4xx: 0, errors5xx: 0, bytesIn: 0, bytesOut: 0 }],
      [H0, b2, aliceArn, 'A', { requests: 2, errors4xx: 0, errors5xx: 0, bytesIn: 1024, bytesOut: 0 }],
      [H0, b2, aliceArn, 'B', { requests: 1, errors4xx: 1, errors5xx: 0, bytesIn: 0, bytesOut: 0 }],
      [H1, b1, rootArn, 'A', { requests: 1, errors4xx: 0, errors5xx: 0, bytesIn: 50, bytesOut: 0 }],
    ] as const;
    for (const [hour, bucket, user, cls, want] of expected) assert.deepEqual(counts(pick(r, hour, bucket, user, cls)), want, `${new Date(hour).toISOString()} ${bucket} ${user} ${cls}`);
    // Nothing else in these two buckets.
    assert.equal(r.requests.filter((e) => e.bucket === b1 || e.bucket === b2).length, expected.length);
    for (const e of r.requests) assert.equal(e.account, account.accountId);
  });

  it('snapshots stored bytes and objects by storage class once an hour', async () => {
    const r = await report({ from: new Date(H0).toISOString(), to: new Date(H1 + HOUR_MS).toISOString() });
    const mine = r.storage.filter((e) => e.bucket === b1 || e.bucket === b2).map((e) => ({ period: e.period, bucket: e.bucket, storageClass: e.storageClass, bytes: e.bytes, objects: e.objects }));
    const at = new Date(H1).toISOString();
    assert.deepEqual(mine, [
      { period: at, bucket: b1, storageClass: 'STANDARD', bytes: 350, objects: 3 },
      { period: at, bucket: b2, storageClass: 'STANDARD', bytes: 1000, objects: 1 },
      { period: at, bucket: b2, storageClass: 'STANDARD_IA', bytes: 24, objects: 1 },
    ].sort((a, b) => Buffer.compare(Buffer.from(a.bucket), Buffer.from(b.bucket))));
    // A second snapshot in the same hour changes nothing (the hour's first stays).
    await s3.send(new PutObjectCommand({ Bucket: b1, Key: 'e', Body: Buffer.alloc(7) }));
    await srv.trove.app.usage.hourly(H1);
    const again = await report({ from: new Date(H1).toISOString(), to: new Date(H1 + HOUR_MS).toISOString(), bucket: b1 });
    assert.deepEqual(again.storage.map((e) => [e.bytes, e.objects]), [[350, 3]]);
  });

  it('sums hours into UTC days, and filters by bucket and by user', async () => {
    const day = DAY0;
    const r = await report({ from: new Date(day).toISOString(), to: new Date(day + DAY).toISOString(), granularity: 'day', bucket: b1 });
    assert.deepEqual(counts(pick(r, day, b1, rootArn, 'A')), { requests: 5, errors4xx: 0, errors5xx: 0, bytesIn: 650, bytesOut: 0 });
    assert.ok(r.requests.every((e) => e.bucket === b1));
    const st = r.storage.find((e) => e.storageClass === 'STANDARD')!;
    assert.deepEqual({ bytes: st.bytes, objects: st.objects, byteHours: st.byteHours, snapshots: st.snapshots }, { bytes: 350, objects: 3, byteHours: 350, snapshots: 1 });
    const byUser = await report({ from: new Date(H0).toISOString(), to: new Date(H1).toISOString(), user: aliceArn });
    assert.deepEqual(byUser.requests.map((e) => [e.bucket, e.class, e.requests]), [[b2, 'A', 2], [b2, 'B', 1]]);
    assert.deepEqual(byUser.storage, [], 'storage is not per user');
  });

  it('renders CSV: a header, CRLF lines, quoted fields', async () => {
    const q = parseUsageQuery({ from: new Date(H0).toISOString(), to: new Date(H1).toISOString(), bucket: b2, format: 'csv' });
    const { contentType, body } = await usageReport({ meta: srv.trove.app.meta }, q);
    assert.match(contentType, /^text\/csv/);
    assert.ok(body.endsWith('\r\n'));
    const lines = body.slice(0, -2).split('\r\n');
    assert.equal(lines[0], CSV_COLUMNS.join(','));
    const period = new Date(H0).toISOString();
    assert.deepEqual(lines.slice(1), [
      `${period},requests,${account.accountId},${b2},${rootArn},A,1,0,0,0,0,,,,`,
      `${period},requests,${account.accountId},${b2},"${aliceArn}",A,2,0,0,1024,0,,,,`,
      `${period},requests,${account.accountId},${b2},"${aliceArn}",B,1,1,0,0,0,,,,`,
    ]);
  });

  it('refuses malformed queries', () => {
    for (const bad of [{ granularity: 'week' }, { format: 'xml' }, { from: 'yesterday' }, { account: '12' }, { from: '2026-01-02', to: '2026-01-01' }, { from: '2020-01-01', to: '2026-01-01' }, { colour: 'blue' }]) {
      assert.throws(() => parseUsageQuery(bad as unknown as Record<string, string>), UsageQueryError, JSON.stringify(bad));
    }
  });

  it('prints the report from the CLI', async () => {
    if (TEST_META === 'postgres') {
      // The CLI on the server's database.
      const url = await testMetaUrl(srv.dataDir);
      const { stdout } = await run(process.execPath, [MAIN, 'admin', 'usage', 'report', '--from', new Date(H1).toISOString(), '--to', new Date(H1 + HOUR_MS).toISOString(), '--bucket', b1, '--meta', url!]);
      assert.equal((JSON.parse(stdout) as UsageReport).requests[0]!.bytesIn, 50);
      return;
    }
    const { stdout } = await run(process.execPath, [MAIN, 'admin', 'usage', 'report', '--from', new Date(H1).toISOString(), '--to', new Date(H1 + HOUR_MS).toISOString(), '--bucket', b1, '--format', 'csv', '--data-dir', srv.dataDir]);
    assert.equal(stdout.split('\r\n')[1], `${new Date(H1).toISOString()},requests,${account.accountId},${b1},${rootArn},A,1,0,0,50,0,,,,`);
    const classes = await run(process.execPath, [MAIN, 'admin', 'usage', 'classes']);
    assert.match(classes.stdout, /^GetObject\tB$/m);
  });

  it('prunes rows older than the retention with the hourly work', async () => {
    // The default retention, 90 days: at H1 + 90 days the H0 rows go, H1's stay.
    now = H1 + 90 * DAY;
    await hourly();
    const r = await report({ from: new Date(H0).toISOString(), to: new Date(H1 + HOUR_MS).toISOString(), bucket: b1 });
    assert.deepEqual([...new Set(r.requests.map((e) => e.period))], [new Date(H1).toISOString()]);
    assert.equal(r.storage.length, 1);
    now = H1 + 91 * DAY;
    await hourly();
    const gone = await report({ from: new Date(H0).toISOString(), to: new Date(H1 + HOUR_MS).toISOString(), bucket: b1 });
    assert.deepEqual([gone.requests.length, gone.storage.length], [0, 0]);
  });
});

describe('operation classes', () => {
  it('derives every operation\'s class from the operation table', () => {
    const want: Record<string, string> = {
      PutObject: 'A', CopyObject: 'A', UploadPart: 'A', CompleteMultipartUpload: 'A', CreateMultipartUpload: 'A', PostObject: 'A', CreateBucket: 'A',
      ListBuckets: 'A', ListObjects: 'A', ListObjectsV2: 'A', ListObjectVersions: 'A', ListParts: 'A', ListMultipartUploads: 'A', PutBucketPolicy: 'A',
      GetObject: 'B', HeadObject: 'B', HeadBucket: 'B', GetBucketPolicy: 'B', SelectObjectContent: 'B', PreflightCORS: 'B', GetObjectAttributes: 'B',
      DeleteObject: 'free', DeleteObjects: 'free', DeleteBucket: 'free', AbortMultipartUpload: 'free', DeleteBucketCors: 'free',
    };
    for (const [name, cls] of Object.entries(want)) assert.equal(CLASS_OF.get(name), cls, name);
    for (const op of OPERATIONS) assert.ok(['A', 'B', 'free'].includes(operationClass(op)), op.name);
  });
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

describe('usage counted by two worker processes', () => {
  it('adds both processes\' counts into the same rows exactly', async () => {
    const dataDir = await tempDir('trove-usage-workers-');
    const metaUrl = await testMetaUrl(dataDir);
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [MAIN, 'server', '--workers', '2', '--address', `127.0.0.1:${port}`, '--data-dir', dataDir, '--usage-flush', '0.5', ...(metaUrl ? ['--meta', metaUrl] : [])],
      { env: { ...process.env, TROVE_ROOT_ACCESS_KEY: ACCESS_KEY, TROVE_ROOT_SECRET_KEY: SECRET_KEY, TROVE_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      const target = { port } as TestServer;
      for (let i = 0; ; i++) {
        const ok = await raw(target, { method: 'GET', path: '/', partial: true });
        if (ok.status === 200) break;
        if (i > 300) throw new Error('the workers did not start');
        await new Promise((r) => setTimeout(r, 50));
      }
      const bucket = uniqueBucket('usew');
      assert.equal((await raw(target, { method: 'PUT', path: `/${bucket}` })).status, 200);
      const hosts = new Set<string>();
      const sizes = Array.from({ length: 40 }, (_, i) => 10 + i);
      /** PUTs of sizes[from, to), 8 at a time; fresh connections alternate between the workers. */
      const puts = async (from: number, to: number) => {
        for (let i = from; i < to; i += 8) {
          const rs = await Promise.all(sizes.slice(i, Math.min(i + 8, to)).map((size, j) => raw(target, { method: 'PUT', path: `/${bucket}/k${i + j}`, body: Buffer.alloc(size, 7) })));
          for (const r of rs) {
            assert.equal(r.status, 200);
            hosts.add(String(r.headers['x-amz-id-2']));
          }
        }
      };
      const sum = (xs: number[]) => xs.reduce((x, y) => x + y, 0);
      const config = loadConfig(['--data-dir', dataDir, ...(metaUrl ? ['--meta', metaUrl] : []), '--meta-pool', '1']);
      /** Class A requests and bytes in the bucket, as the store has them (summed over hours, should one begin meanwhile). */
      const stored = async (): Promise<[number, number]> => {
        const { meta, blobs } = await openStores(config, { shared: true });
        try {
          const r = await queryUsage({ meta }, parseUsageQuery({ from: new Date(Date.now() - 2 * HOUR_MS).toISOString(), bucket }));
          const a = r.requests.filter((e) => e.class === 'A');
          assert.ok(a.every((e) => e.user === `arn:aws:iam::${e.account}:root`));
          return [sum(a.map((e) => e.requests)), sum(a.map((e) => e.bytesIn))];
        } finally {
          await meta.close();
          await blobs.close();
        }
      };
      // Counted by both processes, flushed by their timers (every 0.5 s).
      await puts(0, 16);
      await new Promise((r) => setTimeout(r, 2000));
      assert.deepEqual(await stored(), [17, sum(sizes.slice(0, 16))]);
      // Then flushed when they stop.
      await puts(16, 40);
      assert.equal(hosts.size, 2, 'both workers served');
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      assert.deepEqual(await stored(), [41, sum(sizes)]);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
