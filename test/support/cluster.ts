// Several processes (or nodes) serving one data directory, tested from outside: real servers
// started as child processes, raw HTTP on fresh connections. The store is a parameter:
// describeCluster runs the same tests against any factory that starts processes over one data
// directory. test/cluster.test.ts runs it against SQLite (`trove server --workers 2`); a
// PostgreSQL variant (three nodes on three ports over one database and one data directory)
// passes its own factory (ports: the three nodes' ports; pids: the nodes'; knownBlobs: a count
// of its blobs table).

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { ACCESS_KEY, SECRET_KEY, countBlobFiles, raw, signer, tempDir, tempFiles, type RawResponse, type TestServer } from '../helpers.js';

export interface ClusterUnderTest {
  /** Ports to send requests to, in turn (one per node; the same port twice for workers behind one socket). */
  ports: number[];
  dataDir: string;
  /** The serving processes' pids (the workers). */
  pids(): number[];
  /** Graceful stop of everything (SIGTERM); resolves with the exit code of the top process. */
  stop(): Promise<number | null>;
  /** How many blobs the metadata knows (referenced, or garbage not yet collected). */
  knownBlobs(): Promise<number>;
}

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/main.js');

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function childrenOf(pid: number): number[] {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** How long a cluster may take to start: long, since a busy 2-core machine starts node processes slowly. */
const STARTUP_MS = 60_000;

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** One `trove server --workers 2` over a fresh data directory (SQLite). */
export async function startSqliteWorkers(workers = 2): Promise<ClusterUnderTest> {
  const dataDir = await tempDir('trove-cluster-');
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [MAIN, 'server', '--workers', String(workers), '--address', `127.0.0.1:${port}`, '--data-dir', dataDir, '--inline-threshold', '1024', '--gc-grace', '1', '--orphan-grace', '2'],
    { env: { ...process.env, TROVE_ROOT_ACCESS_KEY: ACCESS_KEY, TROVE_ROOT_SECRET_KEY: SECRET_KEY, TROVE_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const pids = () => childrenOf(child.pid!);
  try {
    await waitFor('the workers to listen', async () => pids().length === workers && (await probe(port)), STARTUP_MS);
    // Both workers answer: fresh connections alternate.
    const hosts = new Set<string>();
    await waitFor('every worker to serve', async () => {
      const r = await raw({ port } as TestServer, { method: 'GET', path: '/' });
      hosts.add(String(r.headers['x-amz-id-2']));
      return hosts.size === workers;
    }, STARTUP_MS);
  } catch (e) {
    // A cluster that did not start must not outlive the test (it would keep the runner waiting).
    for (const pid of [...pids(), child.pid!]) killQuietly(pid);
    await fs.promises.rm(dataDir, { recursive: true, force: true });
    throw e;
  }
  return {
    ports: [port],
    dataDir,
    pids,
    async knownBlobs() {
      const db = new Database(path.join(dataDir, 'meta', 'meta.db'), { readonly: true });
      try {
        return (db.prepare('SELECT count(*) AS n FROM blobs').get() as { n: number }).n;
      } finally {
        db.close();
      }
    },
    async stop() {
      child.kill('SIGTERM');
      const code = await exited;
      await fs.promises.rm(dataDir, { recursive: true, force: true });
      return code;
    },
  };
}

/**
 * Three `trove server` nodes on three ports over one PostgreSQL database (a fresh one on the test
 * process's cluster) and one data directory. A node that dies is started again on its port, as a
 * service manager would, under a new node id; `ports` lists the nodes that serve, as a load
 * balancer's health checks would (a dead node's port leaves it until its replacement listens).
 */
export async function startPostgresNodes(nodes = 3): Promise<ClusterUnderTest> {
  const { freshDatabase } = await import('./postgres.js');
  const { default: pg } = await import('pg');
  const metaUrl = await freshDatabase();
  const dataDir = await tempDir('trove-nodes-');
  const allPorts = await Promise.all(Array.from({ length: nodes }, () => freePort()));
  const ports = [...allPorts];
  const children: ChildProcess[] = [];
  let stopping = false;
  const spawnNode = (i: number): void => {
    const child = spawn(
      process.execPath,
      [MAIN, 'server', '--workers', '1', '--address', `127.0.0.1:${allPorts[i]}`, '--data-dir', dataDir, '--meta', metaUrl, '--meta-pool', '4', '--inline-threshold', '1024', '--gc-grace', '1', '--orphan-grace', '2'],
      { env: { ...process.env, TROVE_ROOT_ACCESS_KEY: ACCESS_KEY, TROVE_ROOT_SECRET_KEY: SECRET_KEY, TROVE_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    children[i] = child;
    child.once('exit', () => {
      if (stopping || children[i] !== child) return;
      const at = ports.indexOf(allPorts[i]!);
      if (at >= 0) ports.splice(at, 1);
      spawnNode(i);
      void waitFor('a restarted node to listen', () => probe(allPorts[i]!), 60_000).then(
        () => !stopping && !ports.includes(allPorts[i]!) && ports.push(allPorts[i]!),
        () => undefined,
      );
    });
  };
  // The first node creates the schema and the root user; the others start once it serves.
  try {
    spawnNode(0);
    await waitFor('the first node to listen', () => probe(allPorts[0]!), STARTUP_MS);
    for (let i = 1; i < nodes; i++) spawnNode(i);
    await waitFor('every node to listen', async () => (await Promise.all(allPorts.map(probe))).every(Boolean), STARTUP_MS);
  } catch (e) {
    // Nodes that did not all start must not outlive the test (they would keep the runner waiting).
    stopping = true;
    for (const c of children) if (c?.pid) killQuietly(c.pid);
    await fs.promises.rm(dataDir, { recursive: true, force: true });
    throw e;
  }
  return {
    ports,
    dataDir,
    pids: () => children.filter((c) => c.exitCode === null && c.signalCode === null).map((c) => c.pid!),
    async knownBlobs() {
      const client = new pg.Client({ connectionString: metaUrl });
      await client.connect();
      try {
        return Number((await client.query('SELECT count(*) AS n FROM blobs')).rows[0].n);
      } finally {
        await client.end();
      }
    },
    async stop() {
      stopping = true;
      const codes = await Promise.all(
        children.map(
          (c) =>
            new Promise<number | null>((r) => {
              if (c.exitCode !== null || c.signalCode !== null) return r(c.exitCode);
              c.once('exit', (code) => r(code));
              c.kill('SIGTERM');
            }),
        ),
      );
      await fs.promises.rm(dataDir, { recursive: true, force: true });
      return codes.find((code) => code !== 0) ?? 0;
    },
  };
}

async function probe(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

/** A PUT whose body arrives in two halves, the second when `finish()` is called. */
async function slowPut(port: number, key: string, body: Buffer): Promise<{ finish: () => Promise<number> }> {
  const headers: Record<string, string> = {
    host: `127.0.0.1:${port}`,
    'content-length': String(body.length),
    'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
  };
  const signed = await signer().sign({ method: 'PUT', protocol: 'http:', hostname: '127.0.0.1', port, path: `/${BUCKET}/${key}`, query: {}, headers });
  let rest: () => void = () => undefined;
  const status = new Promise<number>((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'PUT', path: `/${BUCKET}/${key}`, headers: signed.headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.on('error', () => resolve(0));
    req.write(body.subarray(0, body.length >> 1));
    rest = () => req.end(body.subarray(body.length >> 1));
  });
  return {
    finish: () => {
      rest();
      return status;
    },
  };
}

const BUCKET = 'cluster';
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

export function describeCluster(name: string, start: () => Promise<ClusterUnderTest>): void {
  describe(`several processes over one data directory: ${name}`, () => {
    let c: ClusterUnderTest;
    let turn = 0;
    /** The next port in turn, for a request on a fresh connection (so the next process). */
    const next = () => ({ port: c.ports[turn++ % c.ports.length]! }) as TestServer;
    const put = (key: string, body: Buffer, headers: Record<string, string> = {}) => raw(next(), { method: 'PUT', path: `/${BUCKET}/${key}`, body, headers });
    const get = (key: string, query: Record<string, string> = {}) => raw(next(), { method: 'GET', path: `/${BUCKET}/${key}`, query });

    before(async () => {
      c = await start();
      assert.equal((await raw(next(), { method: 'PUT', path: `/${BUCKET}` })).status, 200);
    });
    after(async () => {
      await c?.stop();
    });

    it('conditional PUTs racing on every process: exactly one winner in each of 100 rounds', async () => {
      const hosts = new Set<string>();
      for (let round = 0; round < 100; round++) {
        const bodies = Array.from({ length: 4 }, (_, i) => Buffer.from(`round ${round} writer ${i} ${randomBytes(8).toString('hex')}`));
        const results = await Promise.all(bodies.map((b) => put(`race/${round}`, b, { 'if-none-match': '*' })));
        for (const r of results) hosts.add(String(r.headers['x-amz-id-2']));
        const won = results.flatMap((r, i) => (r.status === 200 ? [i] : []));
        assert.equal(won.length, 1, `round ${round}: ${results.map((r) => r.status).join(',')}`);
        for (const r of results) if (r.status !== 200) assert.ok(r.status === 412 || r.status === 409, `round ${round}: loser got ${r.status} ${r.text}`);
        const got = await get(`race/${round}`);
        assert.deepEqual(got.body, bodies[won[0]!]);
      }
      assert.ok(hosts.size >= 2, 'the writers were not spread over several processes');
    });

    it('a write acknowledged by one process is what the next read on another returns (objects, overwrites, listings)', async () => {
      let crossed = 0;
      for (let i = 0; i < 60; i++) {
        // Overwrites of one key too: the other process has the previous version cached.
        const key = i % 2 ? `raw/${i}` : 'raw/same';
        const body = randomBytes(i % 3 === 0 ? 3000 : 200);
        const w = await put(key, body);
        assert.equal(w.status, 200);
        const [r, l] = await Promise.all([get(key), raw(next(), { method: 'GET', path: `/${BUCKET}`, query: { 'list-type': '2', prefix: key } })]);
        if (r.headers['x-amz-id-2'] !== w.headers['x-amz-id-2']) crossed++;
        assert.equal(r.status, 200);
        assert.equal(md5(r.body), md5(body), `${key}: a read on another process returned an older version`);
        assert.match(l.text, new RegExp(`<Key>${key}</Key>`));
      }
      assert.ok(crossed >= 10, `only ${crossed} reads went to another process`);
      // A bucket created on one process exists for the next request on another, and a deleted one is gone.
      for (let i = 0; i < 10; i++) {
        assert.equal((await raw(next(), { method: 'PUT', path: `/fresh-${i}` })).status, 200);
        assert.equal((await raw(next(), { method: 'PUT', path: `/fresh-${i}/k`, body: 'x' })).status, 200);
        assert.equal((await raw(next(), { method: 'DELETE', path: `/fresh-${i}/k` })).status, 204);
        assert.equal((await raw(next(), { method: 'DELETE', path: `/fresh-${i}` })).status, 204);
        assert.equal((await raw(next(), { method: 'HEAD', path: `/fresh-${i}` })).status, 404);
      }
    });

    it('versioned writes from every process make one history', async () => {
      const vb = 'cluster-versions';
      assert.equal((await raw(next(), { method: 'PUT', path: `/${vb}` })).status, 200);
      const enable = '<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>';
      assert.equal((await raw(next(), { method: 'PUT', path: `/${vb}`, query: { versioning: '' }, body: enable })).status, 200);
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => raw(next(), { method: 'PUT', path: `/${vb}/k`, body: `v${i}` })));
      const ids = results.map((r) => {
        assert.equal(r.status, 200);
        return String(r.headers['x-amz-version-id']);
      });
      assert.equal(new Set(ids).size, 40);
      const l = await raw(next(), { method: 'GET', path: `/${vb}`, query: { versions: '' } });
      const listed = [...l.text.matchAll(/<Version>.*?<VersionId>([^<]+)<\/VersionId><IsLatest>(true|false)<\/IsLatest>/g)].map((m) => [m[1]!, m[2] === 'true'] as const);
      assert.equal(listed.length, 40);
      assert.deepEqual(new Set(listed.map(([v]) => v)), new Set(ids));
      assert.equal(listed.filter(([, latest]) => latest).length, 1);
      assert.equal(listed[0]![1], true, 'the newest version is listed first and is the latest');
      const latest = await raw(next(), { method: 'GET', path: `/${vb}/k` });
      assert.equal(String(latest.headers['x-amz-version-id']), listed[0]![0]);
    });

    it('kill -9 of a process mid-upload: the others keep serving, nothing acknowledged is lost, no temp file or orphan stays', async () => {
      const acked = new Map<string, string>();
      for (let i = 0; i < 10; i++) {
        const b = randomBytes(5000);
        assert.equal((await put(`before/${i}`, b)).status, 200);
        acked.set(`before/${i}`, md5(b));
      }
      // Uploads in progress on every process.
      const bodies = Array.from({ length: 6 }, () => randomBytes(256 * 1024));
      const uploads = await Promise.all(bodies.map((b, i) => slowPut(next().port, `slow/${i}`, b)));
      await waitFor('temp files on every process', () => new Set(tempFiles(c.dataDir).map((f) => f.split('/')[0])).size >= 2);
      const byNode = new Map<string, number>();
      for (const f of tempFiles(c.dataDir)) byNode.set(f.split('/')[0]!, (byNode.get(f.split('/')[0]!) ?? 0) + 1);
      const victimNode = [...byNode.keys()][0]!;
      const victim = (JSON.parse(fs.readFileSync(path.join(c.dataDir, 'tmp', victimNode + '.node'), 'utf8')) as { pid: number }).pid;
      const before = c.pids();
      assert.ok(before.includes(victim));
      process.kill(victim, 'SIGKILL');
      // The others keep serving while the dead one is replaced.
      // A connection the primary handed to the killed process just before it died is lost
      // (node:cluster): a client times out and retries it, as SDKs do; every write succeeds.
      for (let i = 0; i < 10; i++) {
        const b = randomBytes(3000);
        let r: RawResponse | undefined;
        for (let attempt = 0; attempt < 3 && r === undefined; attempt++) {
          // A refused connection (a node that just died, before a balancer's health check takes it
          // out) is retried as a timeout is.
          r = await Promise.race([put(`during/${i}`, b).catch(() => undefined), new Promise<undefined>((res) => setTimeout(() => res(undefined), 3000).unref())]);
        }
        assert.equal(r?.status, 200, `a write failed while a process was down: ${r?.status} ${r?.error?.message ?? ''}`);
        acked.set(`during/${i}`, md5(b));
      }
      await waitFor('a process in place of the killed one', () => c.pids().length === before.length && !c.pids().includes(victim));
      // Its start-up emptied the dead process's temp directory, and left the others' uploads alone.
      await waitFor("the dead process's temp files to go", () => !tempFiles(c.dataDir).some((f) => f.startsWith(victimNode + '/')));
      const statuses = await Promise.all(uploads.map((u) => u.finish()));
      for (const [i, s] of statuses.entries()) {
        assert.ok(s === 200 || s === 0, `slow/${i}: ${s}`);
        if (s === 200) acked.set(`slow/${i}`, md5(bodies[i]!));
      }
      assert.ok(statuses.filter((s) => s === 200).length >= 1, 'no upload on a surviving process finished');
      for (const [key, sum] of acked) {
        const r = await get(key);
        assert.equal(r.status, 200, `${key}: acknowledged, then ${r.status}`);
        assert.equal(md5(r.body), sum, `${key}: wrong bytes`);
      }
      assert.deepEqual(tempFiles(c.dataDir), []);
      // No orphan: every blob file is one the metadata knows (garbage included, until collected).
      await waitFor('every blob file to be known to the metadata', async () => countBlobFiles(c.dataDir) <= (await c.knownBlobs()));
    });

    it('an IAM change made through one process reaches the caches of the others within the change feed\'s window', async () => {
      const iam = async (params: Record<string, string>): Promise<string> => {
        const port = next().port;
        const body = new URLSearchParams({ Version: '2010-05-08', ...params }).toString();
        const headers: Record<string, string> = { host: `127.0.0.1:${port}`, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' };
        const signed = await signer(ACCESS_KEY, SECRET_KEY, 'iam').sign({ method: 'POST', protocol: 'http:', hostname: '127.0.0.1', port, path: '/', query: {}, headers, body });
        const res = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers: signed.headers, body });
        const text = await res.text();
        assert.equal(res.status, 200, `${params['Action']}: ${text}`);
        return text;
      };
      await iam({ Action: 'CreateUser', UserName: 'cluster-user' });
      const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${BUCKET}` }] });
      await iam({ Action: 'PutUserPolicy', UserName: 'cluster-user', PolicyName: 'list', PolicyDocument: policy });
      const created = await iam({ Action: 'CreateAccessKey', UserName: 'cluster-user' });
      const accessKeyId = /<AccessKeyId>([^<]+)</.exec(created)![1]!;
      const secretAccessKey = /<SecretAccessKey>([^<]+)</.exec(created)![1]!;
      const list = () => raw(next(), { method: 'GET', path: `/${BUCKET}`, accessKeyId, secretAccessKey });
      // Every process has the key and the user's policies cached now.
      for (let i = 0; i < 6; i++) assert.equal((await list()).status, 200);
      await iam({ Action: 'UpdateAccessKey', UserName: 'cluster-user', AccessKeyId: accessKeyId, Status: 'Inactive' });
      await new Promise((r) => setTimeout(r, 300));
      for (let i = 0; i < 6; i++) assert.equal((await list()).status, 403, 'a deactivated key still works on another process');
      await iam({ Action: 'UpdateAccessKey', UserName: 'cluster-user', AccessKeyId: accessKeyId, Status: 'Active' });
      await new Promise((r) => setTimeout(r, 300));
      for (let i = 0; i < 6; i++) assert.equal((await list()).status, 200);
      await iam({ Action: 'DeleteUserPolicy', UserName: 'cluster-user', PolicyName: 'list' });
      await new Promise((r) => setTimeout(r, 300));
      for (let i = 0; i < 6; i++) assert.equal((await list()).status, 403, 'a deleted policy still allows on another process');
    });

    it('stops gracefully on SIGTERM: an upload in flight finishes, then every process exits', async () => {
      const body = randomBytes(128 * 1024);
      const u = await slowPut(next().port, 'last', body);
      await waitFor('the upload to start', () => tempFiles(c.dataDir).length > 0);
      const stopped = c.stop();
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(await u.finish(), 200);
      assert.equal(await stopped, 0);
      c = undefined as unknown as ClusterUnderTest;
    });
  });
}

