// QoS: request and byte rates per account and per IAM user (http/qos.ts), measured on a real
// server: the admitted request rate and the paced byte rates come within 10 % of their limits,
// and a request over its rate is answered 503 SlowDown with Retry-After.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { bodyBytes, errorCode, raw, startServer, testMetaUrl, uniqueBucket, type TestServer } from './helpers.js';

const run = promisify(execFile);
const MAIN = path.join(import.meta.dirname, '..', 'src', 'main.js');
/** A change made by another process reaches the server's cache through the store's change feed (about 100 ms with SQLite). */
const settle = () => new Promise((r) => setTimeout(r, 1000));

describe('QoS: request and byte rates', () => {
  let server: TestServer;
  let n = 0;

  let store: string[];
  /** Runs `trove admin qos …` on the server's store, as an operator would (another process). */
  const qos = async (...args: string[]) => (await run(process.execPath, [MAIN, 'admin', 'qos', ...args, ...store])).stdout;

  before(async () => {
    server = await startServer();
    const metaUrl = await testMetaUrl(server.dataDir);
    store = ['--data-dir', server.dataDir, ...(metaUrl ? ['--meta', metaUrl] : [])];
  });
  after(() => server.stop());

  /** A fresh account (its own limits and token buckets), its keys and an SDK client that does not retry. */
  async function account(): Promise<{ accountId: string; accessKeyId: string; secretAccessKey: string; s3: S3Client }> {
    const i = ++n;
    const accountId = String(700000000000 + process.pid * 100 + i).slice(0, 12);
    const id = `${'a'.repeat(60)}${String(i).padStart(4, '0')}`;
    const accessKeyId = `QOSKEY${String(process.pid).padStart(8, '0')}${String(i).padStart(6, '0')}`;
    const secretAccessKey = `qos-secret-${i}`;
    const meta = server.trove.app.meta;
    await meta.putAccount({ id, accountId, displayName: `qos${i}`, createdAt: Date.now() });
    await meta.putAccessKey({ accessKeyId, secretAccessKey, userId: id, createdAt: Date.now() });
    return { accountId, accessKeyId, secretAccessKey, s3: server.client({ credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1 }) };
  }

  it('admits requests at the account limit and answers SlowDown with Retry-After beyond it', async (t) => {
    const a = await account();
    const rps = 20;
    await qos('set', '--account', a.accountId, '--rps', String(rps));
    await settle();
    let ok = 0;
    let slow = 0;
    let retryAfter: string | string[] | undefined;
    const started = performance.now();
    const until = started + 2000;
    let firstOk: number | undefined;
    let lastOk = started;
    // Enough concurrent callers to offer well over the limit even on a busy machine, where one
    // request can take a tenth of a second: the rate measured is then the limit's, not the client's.
    await Promise.all(
      Array.from({ length: 24 }, async () => {
        while (performance.now() < until) {
          const r = await raw(server, { method: 'GET', path: '/', accessKeyId: a.accessKeyId, secretAccessKey: a.secretAccessKey });
          if (r.status === 200) {
            ok++;
            lastOk = performance.now();
            firstOk ??= lastOk;
          } else {
            assert.equal(r.status, 503);
            assert.equal(errorCode(r.text), 'SlowDown');
            retryAfter = r.headers['retry-after'];
            slow++;
          }
        }
      }),
    );
    // Over the window in which requests were admitted, from the first admitted response to the
    // last: both ends lag the server's decisions by about one response time, which cancels (a
    // window starting when the client started would count the first request's trip too).
    const seconds = (lastOk - (firstOk ?? started)) / 1000;
    assert.ok(slow > 0, 'some requests were refused');
    assert.equal(retryAfter, '1');
    // The bucket starts full (one second of requests), then admits `rps` a second.
    const rate = (ok - rps) / seconds;
    t.diagnostic(`admitted ${rate.toFixed(2)} requests/s for a limit of ${rps} (${ok} admitted, ${slow} SlowDown in ${seconds.toFixed(2)} s)`);
    assert.ok(Math.abs(rate - rps) <= rps * 0.1, `admitted ${rate.toFixed(1)} requests/s for a limit of ${rps}`);
    // Another account is not limited by this one's allowance.
    const b = await account();
    assert.equal((await raw(server, { method: 'GET', path: '/', accessKeyId: b.accessKeyId, secretAccessKey: b.secretAccessKey })).status, 200);
  });

  it('paces uploads and downloads to the byte rates instead of refusing them', async (t) => {
    const a = await account();
    const bucket = uniqueBucket('qos');
    await a.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const bps = 512 * 1024;
    const set = await qos('set', '--account', a.accountId, '--up-bps', String(bps), '--down-bps', String(bps));
    assert.match(set, new RegExp(`account ${a.accountId}\\trps unlimited\\tup-bps ${bps}\\tdown-bps ${bps}`));
    await settle();
    // Two seconds of pacing each way at the limit, so that a request's own overhead on a busy
    // machine stays small beside it.
    const size = 2 * bps;
    // Each byte bucket starts with a tenth of a second of its rate (at least 64 KiB).
    const burst = Math.max(64 * 1024, bps / 10);
    let t0 = performance.now();
    await a.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: Buffer.alloc(size, 7) }));
    const up = (size - burst) / ((performance.now() - t0) / 1000);
    assert.ok(Math.abs(up - bps) <= bps * 0.1, `uploaded at ${Math.round(up)} B/s for a limit of ${bps}`);
    t0 = performance.now();
    const got = await bodyBytes((await a.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }))).Body);
    const down = (size - burst) / ((performance.now() - t0) / 1000);
    t.diagnostic(`uploaded at ${Math.round(up)} B/s, downloaded at ${Math.round(down)} B/s, for limits of ${bps} B/s`);
    assert.equal(got.length, size);
    assert.ok(Math.abs(down - bps) <= bps * 0.1, `downloaded at ${Math.round(down)} B/s for a limit of ${bps}`);
    // Cleared: full speed again (well above the limit).
    assert.match(await qos('clear', '--account', a.accountId), /no limits/);
    await settle();
    t0 = performance.now();
    await a.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k2', Body: Buffer.alloc(size, 7) }));
    assert.ok(size / ((performance.now() - t0) / 1000) > 2 * bps);
  });

  it("limits an IAM user by its own allowance, within its account's", async () => {
    const a = await account();
    const iam = server.trove.app.iam;
    const owner = (await server.trove.app.meta.getAccountById(a.accountId))!;
    const user = await iam.createUser(a.accountId, 'limited', '/');
    const key = await iam.createAccessKey(owner, user, Date.now());
    // Requests before the limit is set: the cached "no limits" is dropped when it is set.
    assert.equal((await raw(server, { method: 'GET', path: '/', accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey })).status, 403);
    await qos('set', '--user', `arn:aws:iam::${a.accountId}:user/limited`, '--rps', '2');
    await settle();
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await raw(server, { method: 'GET', path: '/', accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey })).status);
    // Two admitted (the user may do nothing yet: AccessDenied), then SlowDown.
    assert.deepEqual(statuses.slice(0, 2), [403, 403]);
    assert.ok(statuses.slice(2).every((s) => s === 503), statuses.join(','));
    // The account's root is not limited by its user's allowance.
    assert.equal((await raw(server, { method: 'GET', path: '/', accessKeyId: a.accessKeyId, secretAccessKey: a.secretAccessKey })).status, 200);
  });
});
