// Operators' endpoints: Prometheus metrics scraped and parsed against a known workload, health
// checks, the audit log, and who may scrape.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { signer, startServer, tempDir, uniqueBucket, ACCESS_KEY, SECRET_KEY, type TestServer } from './helpers.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A small parser of Prometheus's text exposition format (what a scraper reads). */
function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const t = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (t) {
      types.set(t[1]!, t[2]!);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { samples, types };
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const s = samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  return s?.value;
}

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; type: string | null }> {
  const res = await fetch(url, { headers });
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') };
}

test('metrics: counts, bytes and latencies of a known workload, store and engine samples', async () => {
  const srv = await startServer();
  try {
    const bucket = uniqueBucket();
    await srv.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const sizes = [1000, 2000, 3000];
    for (const [i, n] of sizes.entries()) await srv.s3WhenRequired.send(new PutObjectCommand({ Bucket: bucket, Key: `k${i}`, Body: Buffer.alloc(n, 7) }));
    for (let i = 0; i < 2; i++) {
      const r = await srv.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k2' }));
      await r.Body!.transformToByteArray();
    }
    await assert.rejects(srv.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'missing' })));

    const res = await get(`${srv.url}/_trove/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.type ?? '', /^text\/plain; version=0\.0\.4/);
    const { samples, types } = parseExposition(res.body);
    assert.equal(types.get('trove_requests_total'), 'counter');
    assert.equal(types.get('trove_request_duration_seconds'), 'histogram');
    assert.equal(value(samples, 'trove_requests_total', { operation: 'PutObject', status: '200' }), 3);
    assert.equal(value(samples, 'trove_requests_total', { operation: 'GetObject', status: '200' }), 2);
    assert.equal(value(samples, 'trove_requests_total', { operation: 'HeadObject', status: '404' }), 1);
    assert.equal(value(samples, 'trove_requests_total', { operation: 'CreateBucket', status: '200' }), 1);
    assert.equal(value(samples, 'trove_request_bytes_total', { operation: 'PutObject' }), 6000);
    assert.equal(value(samples, 'trove_response_bytes_total', { operation: 'GetObject' }), 6000);
    assert.equal(value(samples, 'trove_request_duration_seconds_count', { operation: 'PutObject' }), 3);
    assert.equal(value(samples, 'trove_request_duration_seconds_bucket', { operation: 'PutObject', le: '+Inf' }), 3);
    assert.ok(value(samples, 'trove_request_duration_seconds_sum', { operation: 'PutObject' })! > 0);
    // The scrape itself is the one request in flight.
    assert.equal(value(samples, 'trove_requests_in_flight'), 1);
    assert.ok(value(samples, 'trove_data_dir_free_bytes')! > 0);
    assert.equal(value(samples, 'trove_integrity_failures_total'), 0);
    assert.equal(types.get('trove_work_queue_depth'), 'gauge');
    if (!srv.trove.app.config.metaUrl) {
      // Every write above committed in some batch (other servers of this process count too).
      assert.ok(value(samples, 'trove_meta_commit_batch_size_count')! >= 4);
      assert.ok(value(samples, 'trove_meta_commit_batch_size_sum')! >= 4);
    } else {
      assert.ok(value(samples, 'trove_meta_pool_connections', { state: 'total' })! >= 1);
    }

    // The next scrape sees the previous one.
    const again = parseExposition((await get(`${srv.url}/_trove/metrics`)).body).samples;
    assert.equal(value(again, 'trove_requests_total', { operation: 'Metrics', status: '200' }), 1);
  } finally {
    await srv.stop();
  }
});

async function iamPost(srv: TestServer, params: Record<string, string>): Promise<number> {
  const body = new URLSearchParams(params).toString();
  const headers: Record<string, string> = { host: `127.0.0.1:${srv.port}`, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' };
  const signed = await signer(ACCESS_KEY, SECRET_KEY, 'iam').sign({ method: 'POST', protocol: 'http:', hostname: '127.0.0.1', port: srv.port, path: '/', query: {}, headers, body });
  const res = await fetch(`${srv.url}/`, { method: 'POST', headers: signed.headers, body });
  await res.arrayBuffer();
  return res.status;
}

test('metrics: IAM actions are labels only when IAM has them (clients cannot grow the series)', async () => {
  const srv = await startServer();
  try {
    assert.equal(await iamPost(srv, { Action: 'ListUsers', Version: '2010-05-08' }), 200);
    for (let i = 0; i < 3; i++) assert.equal(await iamPost(srv, { Action: `Made${i}Up`, Version: '2010-05-08' }), 400);
    const { samples } = parseExposition((await get(`${srv.url}/_trove/metrics`)).body);
    assert.equal(value(samples, 'trove_requests_total', { operation: 'iam:ListUsers', status: '200' }), 1);
    assert.equal(value(samples, 'trove_requests_total', { operation: 'iam:other', status: '400' }), 3);
    assert.equal(samples.filter((x) => x.labels.operation?.startsWith('iam:Made')).length, 0);
  } finally {
    await srv.stop();
  }
});

test('metrics: work queue depth, lag and failures by kind, sampled from the store on scrape', async () => {
  const srv = await startServer();
  try {
    const meta = srv.trove.app.meta;
    // A kind no handler claims: it stays queued, and due items age.
    await meta.enqueueWork([{ kind: 'test.unclaimed', payload: 1 }, { kind: 'test.unclaimed', payload: 2 }, { kind: 'test.later', payload: 3, notBefore: Date.now() + 3600_000 }]);
    await new Promise((r) => setTimeout(r, 50));
    const { samples } = parseExposition((await get(`${srv.url}/_trove/metrics`)).body);
    assert.equal(value(samples, 'trove_work_queue_depth', { kind: 'test.unclaimed' }), 2);
    assert.equal(value(samples, 'trove_work_queue_depth', { kind: 'test.later' }), 1);
    assert.ok(value(samples, 'trove_work_queue_lag_seconds', { kind: 'test.unclaimed' })! > 0);
    assert.equal(value(samples, 'trove_work_queue_failing', { kind: 'test.unclaimed' }), 0);
    // Sampled at most every 2 s: a scrape storm is not a store load.
    await meta.enqueueWork([{ kind: 'test.unclaimed', payload: 4 }]);
    const soon = parseExposition((await get(`${srv.url}/_trove/metrics`)).body).samples;
    assert.equal(value(soon, 'trove_work_queue_depth', { kind: 'test.unclaimed' }), 2);
  } finally {
    await srv.stop();
  }
});

test('metrics: a bearer token from a file, re-read on reload; --no-metrics turns them off', async () => {
  const dir = await tempDir();
  const tokenFile = path.join(dir, 'token');
  await fs.promises.writeFile(tokenFile, 'first-token\n');
  const srv = await startServer({ metricsTokenFile: tokenFile, metricsAddress: { host: '127.0.0.1', port: 0 } });
  try {
    // With a token, loopback clients need it too.
    assert.equal((await get(`${srv.url}/_trove/metrics`)).status, 401);
    assert.equal((await get(`${srv.url}/_trove/metrics`, { authorization: 'Bearer wrong' })).status, 401);
    assert.equal((await get(`${srv.url}/_trove/metrics`, { authorization: 'Bearer first-token' })).status, 200);
    // The separate listener: conventional paths, same rules.
    const ops = srv.trove.metricsUrl!;
    assert.equal((await get(`${ops}/metrics`)).status, 401);
    assert.equal((await get(`${ops}/metrics`, { authorization: 'Bearer first-token' })).status, 200);
    assert.equal((await get(`${ops}/health/live`)).status, 200);
    assert.equal((await get(`${ops}/health/ready`)).status, 200);
    await fs.promises.writeFile(tokenFile, 'second-token\n');
    srv.trove.reload();
    assert.equal((await get(`${srv.url}/_trove/metrics`, { authorization: 'Bearer first-token' })).status, 401);
    assert.equal((await get(`${srv.url}/_trove/metrics`, { authorization: 'Bearer second-token' })).status, 200);
  } finally {
    await srv.stop();
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
  const off = await startServer({ metrics: false });
  try {
    assert.equal((await get(`${off.url}/_trove/metrics`)).status, 404);
    assert.equal((await get(`${off.url}/_trove/health/live`)).status, 200);
  } finally {
    await off.stop();
  }
});

test('metrics: only loopback clients by default', async () => {
  const srv = await startServer({ host: '0.0.0.0' });
  try {
    // Reach the server from a non-loopback address of this machine, if it has one.
    const os = await import('node:os');
    const external = Object.values(os.networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal);
    assert.equal((await get(`http://127.0.0.1:${srv.port}/_trove/metrics`)).status, 200);
    if (external) assert.equal((await get(`http://${external.address}:${srv.port}/_trove/metrics`)).status, 403);
  } finally {
    await srv.stop();
  }
});

test('health: live and ready; ready fails once the metadata store is closed', async () => {
  const srv = await startServer();
  try {
    const live = await get(`${srv.url}/_trove/health/live`);
    assert.equal(live.status, 200);
    assert.equal((await get(`${srv.url}/_trove/health/ready`)).status, 200);
    // Not a bucket: no S3 XML, and no authentication.
    assert.doesNotMatch(live.body, /<Error>/);
    await srv.trove.app.meta.close();
    const ready = await get(`${srv.url}/_trove/health/ready`);
    assert.equal(ready.status, 503);
    assert.match(ready.body, /metadata store/);
    assert.equal((await get(`${srv.url}/_trove/health/live`)).status, 200);
  } finally {
    await srv.stop().catch(() => undefined);
  }
});

test('audit log: an allowed and a denied request, with who, from where and which policy kind decided', async () => {
  const dir = await tempDir();
  const file = path.join(dir, 'audit.jsonl');
  const srv = await startServer({ auditLog: file });
  const bucket = uniqueBucket();
  try {
    await srv.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await srv.s3WhenRequired.send(new PutObjectCommand({ Bucket: bucket, Key: 'a', Body: 'x' }));
    const anon = await fetch(`${srv.url}/${bucket}/a`);
    assert.equal(anon.status, 403);
    await anon.arrayBuffer();
  } finally {
    await srv.stop();
  }
  const lines = (await fs.promises.readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  await fs.promises.rm(dir, { recursive: true, force: true });
  const put = lines.find((l) => l.operation === 'PutObject')!;
  assert.ok(put, 'PutObject audited');
  assert.equal(put.decision, 'allow');
  assert.equal(put.status, 200);
  assert.equal(put.accessKeyId, ACCESS_KEY);
  assert.match(String(put.identity), /^arn:aws:iam::\d{12}:root$/);
  assert.equal(put.sourceIp, '127.0.0.1');
  assert.equal(put.bucket, bucket);
  assert.equal(put.key, 'a');
  const putDecisions = put.decisions as { action: string; decision: string; source?: string; resource: string }[];
  assert.deepEqual(putDecisions.map((d) => [d.action, d.decision, d.source, d.resource]), [['s3:PutObject', 'Allow', 'root', `arn:aws:s3:::${bucket}/a`]]);
  const get = lines.find((l) => l.operation === 'GetObject')!;
  assert.ok(get, 'GetObject audited');
  assert.equal(get.decision, 'deny');
  assert.equal(get.status, 403);
  assert.equal(get.error, 'AccessDenied');
  assert.equal(get.identity, undefined);
  assert.equal(get.accessKeyId, undefined);
  assert.equal((get.decisions as { decision: string }[])[0]!.decision, 'ImplicitDeny');
});

test('audit log: a webhook gets batches, retried when it fails, without holding requests', async () => {
  const received: string[] = [];
  let failures = 1;
  const hook = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (failures-- > 0) {
        res.writeHead(503).end();
        return;
      }
      received.push(...Buffer.concat(chunks).toString().trim().split('\n'));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  const port = (hook.address() as { port: number }).port;
  const srv = await startServer({ auditWebhook: `http://127.0.0.1:${port}/audit` });
  try {
    const bucket = uniqueBucket();
    await srv.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await srv.s3WhenRequired.send(new PutObjectCommand({ Bucket: bucket, Key: 'a', Body: 'x' }));
    for (let i = 0; i < 100 && received.length < 2; i++) await new Promise((r) => setTimeout(r, 100));
    const ops = received.map((l) => (JSON.parse(l) as { operation: string }).operation);
    assert.deepEqual(ops, ['CreateBucket', 'PutObject']);
  } finally {
    await srv.stop();
    await new Promise<void>((r) => hook.close(() => r()));
  }
});
