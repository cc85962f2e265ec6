// Three Trove nodes on three ports over one PostgreSQL database and one data directory, driven
// through S3 with the SDK: racing conditional PUTs spread over the nodes have exactly one winner
// each round, a write acknowledged by one node is read and listed on another at once, and
// versioned writes from every node make one history.
//
// Then the multi-process suite (test/support/cluster.ts) against three `trove server` nodes over
// one database: the same races from outside, kill -9 of a node mid-upload, the change feed
// reaching the other nodes' caches, graceful stops.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { loadConfig } from '../src/config.js';
import { startServer, tempDir, uniqueBucket, type TestServer } from './helpers.js';
import { describeCluster, startPostgresNodes } from './support/cluster.js';
import { freshDatabase, postgresAvailable } from './support/postgres.js';

const available = postgresAvailable();

describe('configuration of a node on PostgreSQL', () => {
  it('keeps released blobs for the shared grace period by default, even with one worker (other nodes may read them)', () => {
    assert.equal(loadConfig(['--workers', '1'], {}).gcGraceMs, 0);
    assert.equal(loadConfig(['--workers', '1', '--meta', 'postgres://trove@db/trove'], {}).gcGraceMs, 300_000);
    assert.equal(loadConfig(['--workers', '1'], { TROVE_META_URL: 'postgresql://trove@db/trove' }).gcGraceMs, 300_000);
    assert.equal(loadConfig(['--workers', '1', '--meta', 'postgres://trove@db/trove', '--gc-grace', '5'], {}).gcGraceMs, 5_000);
    assert.throws(() => loadConfig(['--meta', 'mysql://db/trove'], {}), /postgres/);
  });
});

describe('nodes starting together on a new database and data directory', { skip: !available && 'no PostgreSQL binaries (set CI to make this an error)' }, () => {
  it('agree on one root account and one pair of root keys', { timeout: 60_000 }, async () => {
    const dataDir = await tempDir();
    const metaUrl = await freshDatabase();
    // No keys given: the first start generates them (root-credentials.json) and the root account.
    const nodes = await Promise.all([0, 1, 2].map(() => startServer({ dataDir, metaUrl, spaceReserve: 0, rootAccessKey: undefined, rootSecretKey: undefined })));
    try {
      const keys = new Set(nodes.map((n) => `${n.trove.root.accessKeyId}:${n.trove.root.secretAccessKey}`));
      assert.equal(keys.size, 1, 'every node uses the same root keys');
      const saved = JSON.parse(fs.readFileSync(`${dataDir}/root-credentials.json`, 'utf8')) as { accessKeyId: string };
      assert.equal(saved.accessKeyId, nodes[0]!.trove.root.accessKeyId);
      const roots = (await nodes[0]!.trove.app.meta.listAccounts()).filter((a) => a.displayName === 'root');
      assert.equal(roots.length, 1, 'one root account');
      const key = await nodes[1]!.trove.app.meta.getAccessKey(nodes[2]!.trove.root.accessKeyId);
      assert.equal(key?.userId, roots[0]!.id);
    } finally {
      for (const n of nodes) await n.stop();
      await fs.promises.rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('three nodes over one PostgreSQL database', { skip: !available && 'no PostgreSQL binaries (set CI to make this an error)' }, () => {
  let nodes: TestServer[];
  let dataDir: string;

  before(async () => {
    dataDir = await tempDir();
    const metaUrl = await freshDatabase();
    // One after the other: each start cleans the data directory's temp files (per-node temp
    // directories are the multi-process work's).
    nodes = [];
    for (let i = 0; i < 3; i++) nodes.push(await startServer({ dataDir, metaUrl, spaceReserve: 0 }));
  });
  after(async () => {
    for (const n of nodes ?? []) await n.stop();
    await fs.promises.rm(dataDir, { recursive: true, force: true });
  });

  it('gives each of 100 rounds of concurrent If-None-Match: * PUTs, spread over the nodes, exactly one winner', async () => {
    const bucket = uniqueBucket('race');
    await nodes[0]!.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    for (let round = 0; round < 100; round++) {
      const key = `lock-${round}`;
      const results = await Promise.allSettled(
        nodes.map((n, i) => n.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `node ${i}`, IfNoneMatch: '*' }))),
      );
      const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
      assert.equal(winners.length, 1, `round ${round}: ${JSON.stringify(results.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as S3ServiceException).name)))}`);
      for (const r of results) {
        if (r.status === 'rejected') assert.equal((r.reason as S3ServiceException).$metadata.httpStatusCode, 412);
      }
      // Every node serves the winner's bytes.
      const bodies = await Promise.all(nodes.map(async (n) => (await n.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString()));
      assert.deepEqual(bodies, Array(3).fill(`node ${winners[0]}`));
    }
  });

  it('shows a write acknowledged by one node to the very next read and listing on the others', async () => {
    const bucket = uniqueBucket('raw');
    await nodes[1]!.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    for (let i = 0; i < 30; i++) {
      const writer = nodes[i % 3]!;
      const etag = (await writer.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `k/${i}`, Body: `v${i}` }))).ETag;
      const [a, b] = [nodes[(i + 1) % 3]!, nodes[(i + 2) % 3]!];
      const [head, list] = await Promise.all([
        a.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `k/${i}` })),
        b.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'k/' })),
      ]);
      assert.equal(head.ETag, etag);
      assert.equal(list.KeyCount, i + 1);
    }
  });

  it('makes one history of versioned writes from every node', async () => {
    const bucket = uniqueBucket('hist');
    await nodes[2]!.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await nodes[0]!.s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    const written = await Promise.all(
      Array.from({ length: 30 }, (_, i) => nodes[i % 3]!.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'doc', Body: `v${i}` }))),
    );
    const ids = new Set(written.map((w) => w.VersionId));
    assert.equal(ids.size, 30);
    for (const n of nodes) {
      const v = await n.s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
      assert.equal(v.Versions?.length, 30);
      assert.deepEqual(new Set(v.Versions!.map((x) => x.VersionId)), ids);
      assert.equal(v.Versions!.filter((x) => x.IsLatest).length, 1);
      const latest = await n.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'doc' }));
      assert.equal(latest.VersionId, v.Versions!.find((x) => x.IsLatest)!.VersionId);
    }
  });
});

if (available) describeCluster('PostgreSQL, three nodes', () => startPostgresNodes(3));
