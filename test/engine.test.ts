// The work engine (src/engine/runner.ts) over a real metadata store (SQLite; PostgreSQL with
// TROVE_TEST_META=postgres): each item runs once across engines sharing the store (as processes
// or nodes), failures retry with backoff, a crashed holder's items resume, claims are renewed
// while a handler runs, concurrency and rate limits hold, stop waits for handlers in flight, and
// the outbox of an object write reaches its handler. Plus `trove admin work`.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { Engine, backoffMs } from '../src/engine/index.js';
import { PgMetaStore } from '../src/store/meta/postgres/index.js';
import { SqliteMetaStore } from '../src/store/meta/sqlite/index.js';
import type { MetaStore, WorkItem } from '../src/store/meta/types.js';
import { TEST_META, startServer, tempDir, testMetaUrl } from './helpers.js';

const log = pino({ level: process.env.TROVE_TEST_LOG ?? 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MAIN = path.resolve(import.meta.dirname, '../src/main.js');

/** Opens a store over `dir` (SQLite file shared between processes, or the test's PostgreSQL database). */
async function openStore(dir: string): Promise<MetaStore> {
  const url = await testMetaUrl(dir);
  if (url) return PgMetaStore.open({ url, poolSize: 4 });
  return SqliteMetaStore.open({ dir: path.join(dir, 'meta'), fsync: false, shared: true });
}

async function until(cond: () => boolean | Promise<boolean>, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe(`work engine (${TEST_META})`, () => {
  let dir: string;
  let a: MetaStore;
  let b: MetaStore;
  const engines: Engine[] = [];
  const engine = (meta: MetaStore, holder: string, opts: { pollMs?: number; leaseMs?: number } = {}) => {
    const e = new Engine(meta, log, { holder, pollMs: opts.pollMs ?? 20, ...(opts.leaseMs ? { leaseMs: opts.leaseMs } : {}) });
    engines.push(e);
    return e;
  };

  before(async () => {
    dir = await tempDir('trove-engine-');
    // Two stores over one database: as two processes (SQLite) or two nodes (PostgreSQL).
    a = await openStore(dir);
    b = await openStore(dir);
  });
  after(async () => {
    for (const e of engines) await e.stop();
    await a.close();
    await b.close();
    await fs.promises.rm(dir, { recursive: true, force: true });
  });

  it('runs each item exactly once across engines sharing the store, every kind in its own lane', async () => {
    const seen: string[] = [];
    const other: unknown[] = [];
    const handler = async (item: WorkItem & { payload: number }) => {
      seen.push(`${item.payload}`);
      await sleep(Math.random() * 3);
    };
    const e1 = engine(a, 'node-1');
    const e2 = engine(b, 'node-2');
    e1.register('once', handler, { concurrency: 4 });
    e2.register('once', handler, { concurrency: 4 });
    e1.register('once.other', async (item) => void other.push(item.payload));
    e1.start();
    e2.start();
    const n = 200;
    await a.enqueueWork(Array.from({ length: n }, (_, i) => ({ kind: 'once', payload: i })));
    await b.enqueueWork([{ kind: 'once.other', payload: { x: 1 } }]);
    await until(async () => (await a.workStats()).depth === 0, 20_000, 'the queue to empty');
    assert.equal(seen.length, n, 'every item ran once');
    assert.equal(new Set(seen).size, n);
    assert.deepEqual(other, [{ x: 1 }]);
    await e1.stop();
    await e2.stop();
  });

  it('retries a failing item with growing delays, records the error, then completes it', async () => {
    const e = engine(a, 'retry');
    const attempts: { at: number; n: number }[] = [];
    e.register(
      'flaky',
      async (item) => {
        attempts.push({ at: Date.now(), n: item.attempts });
        if (item.attempts < 4) throw new Error(`remote said 503 (attempt ${item.attempts})`);
      },
      { retryBaseMs: 50, retryMaxMs: 200 },
    );
    e.start();
    await e.enqueue([{ kind: 'flaky', payload: null }]);
    await until(() => attempts.length >= 2, 5000, 'a retry');
    const st = await a.workStats();
    const k = st.kinds.find((x) => x.kind === 'flaky');
    if (k) assert.equal(k.failing, 1, 'the failure is visible while it retries');
    await until(async () => (await a.workStats()).kinds.every((x) => x.kind !== 'flaky'), 5000, 'completion');
    assert.deepEqual(attempts.map((x) => x.n), [1, 2, 3, 4]);
    const gaps = attempts.slice(1).map((x, i) => x.at - attempts[i]!.at);
    assert.ok(gaps[0]! >= 35, `first retry after ~50 ms, was ${gaps[0]}`);
    assert.ok(gaps[1]! >= 70, `second after ~100 ms, was ${gaps[1]}`);
    assert.ok(gaps[2]! >= 140 && gaps[2]! < 2000, `third capped at ~200 ms, was ${gaps[2]}`);
    await e.stop();
  });

  it('backoff doubles from the base and stops at the cap', () => {
    for (let i = 0; i < 50; i++) {
      const d1 = backoffMs(1, 1000, 60_000);
      assert.ok(d1 >= 800 && d1 <= 1200);
      const d3 = backoffMs(3, 1000, 60_000);
      assert.ok(d3 >= 3200 && d3 <= 4800);
      const big = backoffMs(200, 1000, 60_000);
      assert.ok(big >= 48_000 && big <= 72_000);
    }
  });

  it('resumes the items of a holder that died once its claims expire', async () => {
    await a.enqueueWork([{ kind: 'resume', payload: 'r1' }, { kind: 'resume', payload: 'r2' }]);
    // A process claims both, then dies (it never completes, renews or retries them).
    const dead = await a.claimWork(['resume'], 'dead-node', 10, 1500);
    assert.equal(dead.length, 2);
    const ran: unknown[] = [];
    const e = engine(b, 'survivor');
    e.register('resume', async (item) => void ran.push(item.payload));
    e.start();
    await sleep(300);
    assert.deepEqual(ran, [], 'not while the claims hold');
    await until(() => ran.length === 2, 5000, 'the items to resume');
    assert.deepEqual(ran.sort(), ['r1', 'r2']);
    await e.stop();
  });

  it('renews the claim while a long handler runs: nobody else runs the item meanwhile', async () => {
    let runs = 0;
    const long = async () => {
      runs++;
      await sleep(2000);
    };
    const e1 = engine(a, 'long-1', { leaseMs: 500 });
    const e2 = engine(b, 'long-2', { leaseMs: 500 });
    e1.register('long', long);
    e2.register('long', long);
    e1.start();
    e2.start();
    await a.enqueueWork([{ kind: 'long', payload: 1 }]);
    await until(async () => (await a.workStats()).kinds.every((x) => x.kind !== 'long'), 5000, 'completion');
    assert.equal(runs, 1, 'one run although the handler outlived its lease several times');
    await e1.stop();
    await e2.stop();
  });

  it('keeps to the concurrency and the rate of a kind', async () => {
    let active = 0;
    let peak = 0;
    const starts: number[] = [];
    const e = engine(a, 'limits');
    e.register(
      'limited',
      async () => {
        starts.push(Date.now());
        active++;
        peak = Math.max(peak, active);
        await sleep(20);
        active--;
      },
      { concurrency: 3, ratePerSec: 40 },
    );
    await a.enqueueWork(Array.from({ length: 60 }, (_, i) => ({ kind: 'limited', payload: i })));
    const t0 = Date.now();
    e.start();
    await until(() => starts.length === 60, 10_000, 'all items');
    const took = Date.now() - t0;
    assert.ok(peak <= 3, `at most 3 at once, saw ${peak}`);
    assert.ok(peak >= 2, `the lane uses its concurrency (peak ${peak})`);
    // 40 a second with a burst of 40: 60 items need at least ~0.5 s.
    assert.ok(took >= 450, `rate-limited: 60 items at 40/s took ${took} ms`);
    await e.stop();
  });

  it('stop() stops claiming and waits for the handlers in flight', async () => {
    let finished = 0;
    const e = engine(a, 'stopper');
    e.register('slow', async () => {
      await sleep(300);
      finished++;
    }, { concurrency: 2 });
    e.start();
    await e.enqueue([{ kind: 'slow', payload: 1 }, { kind: 'slow', payload: 2 }, { kind: 'slow', payload: 3 }]);
    await until(async () => (await a.workStats()).kinds.find((k) => k.kind === 'slow')?.running === 2, 5000, 'two running');
    await e.stop();
    assert.equal(finished, 2, 'the two in flight finished before stop() resolved');
    const st = (await a.workStats()).kinds.find((k) => k.kind === 'slow');
    assert.equal(st?.depth, 1, 'the third is still queued for another process');
    assert.equal(st?.running, 0);
    await a.completeWork((await a.claimWork(['slow'], 'x', 10, 1000)).map((w) => w.id));
  });

  it('stop() tells a long handler, whose item is then due at once for another process', async () => {
    let started = 0;
    const e1 = engine(a, 'leaving');
    e1.register('long.pass', async (_item, { signal }) => {
      started++;
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, 30_000);
        signal.addEventListener('abort', () => {
          clearTimeout(t);
          reject(signal.reason as Error);
        });
      });
    });
    e1.start();
    await e1.enqueue([{ kind: 'long.pass', payload: 'p' }]);
    await until(() => started === 1, 5000, 'the handler to start');
    const t0 = Date.now();
    await e1.stop();
    assert.ok(Date.now() - t0 < 2000, 'stop does not wait for the long handler to finish');
    const done: unknown[] = [];
    const e2 = engine(b, 'staying');
    e2.register('long.pass', async (item) => void done.push(item.payload));
    e2.start();
    await until(() => done.length === 1, 5000, 'another engine to run it');
    await e2.stop();
  });

  it('an object write\'s outbox reaches the handler; a refused write records nothing', async () => {
    const bucket = await a.createBucket({ name: `outbox-${process.pid}`, owner: 'o', createdAt: Date.now(), region: 'us-east-1', versioning: 'Unversioned', objectLock: false });
    const got: unknown[] = [];
    const e = engine(b, 'outbox');
    e.register('outbox.test', async (item) => void got.push(item.payload));
    e.start();
    const content = { size: 1, etag: 'e', lastModified: Date.now(), owner: 'o', storageClass: 'STANDARD', headers: {}, userMeta: {}, inline: Buffer.from('x') };
    await a.putObject(bucket.id, 'k', content, undefined, { work: [{ kind: 'outbox.test', payload: { key: 'k' } }] });
    await a.putObject(bucket.id, 'k', content, { ifNoneMatch: '*' }, { work: [{ kind: 'outbox.test', payload: 'refused' }] }).catch(() => undefined);
    await until(() => got.length === 1, 5000, 'the outbox item');
    await sleep(100);
    assert.deepEqual(got, [{ key: 'k' }]);
    await e.stop();
  });

  it('trove admin work prints depth, lag and failures by kind', async () => {
    await a.enqueueWork([{ kind: 'admin.a', payload: 1 }, { kind: 'admin.a', payload: 2 }, { kind: 'admin.b', payload: 3 }]);
    const [item] = await a.claimWork(['admin.b'], 'h', 1, 60_000);
    await a.retryWork(item!.id, 'boom', Date.now() + 3_600_000);
    const url = await testMetaUrl(dir);
    const args = [MAIN, 'admin', 'work', '--data-dir', dir, ...(url ? ['--meta', url] : [])];
    const { stdout } = await promisify(execFile)(process.execPath, args);
    const line = (kind: string) => stdout.split('\n').find((l) => l.startsWith(kind + ' '))?.trim().split(/\s+/);
    assert.deepEqual(line('admin.a')?.slice(0, 5), ['admin.a', '2', '2', '0', '0'], stdout);
    assert.deepEqual(line('admin.b')?.slice(0, 5), ['admin.b', '1', '0', '0', '1'], stdout);
    const json = JSON.parse((await promisify(execFile)(process.execPath, [...args, '--json'])).stdout) as { depth: number; failing: number };
    assert.equal(json.failing, 1);
    assert.ok(json.depth >= 3);
  });
});

describe('work engine in a server', () => {
  it('starts with the server, runs registered kinds, stops with it', async () => {
    const srv = await startServer();
    try {
      const { engine, meta } = srv.trove.app;
      const got: unknown[] = [];
      engine.register('server.test', async (item) => void got.push(item.payload));
      await engine.enqueue([{ kind: 'server.test', payload: 'hello' }]);
      await until(() => got.length === 1, 5000, 'the item');
      assert.deepEqual(got, ['hello']);
      await until(async () => (await meta.workStats()).depth === 0, 5000, 'completion');
    } finally {
      await srv.stop();
    }
  });
});
