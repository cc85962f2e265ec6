// Several processes (and, with a shared store, several nodes) serving one data directory:
// leases on background work, GC's grace period for reads elsewhere, and multi-process servers
// started as child processes (test/support/cluster.ts).

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { countBlobFiles, startServer, tempDir, type TestServer } from './helpers.js';
import { describeCluster, startSqliteWorkers } from './support/cluster.js';

describe('garbage collection across processes', () => {
  let a: TestServer;
  let b: TestServer;
  before(async () => {
    const dataDir = await tempDir();
    // Two servers over one data directory, as two worker processes would be.
    a = await startServer({ dataDir, gcGraceMs: 400, inlineThreshold: 0 });
    b = await startServer({ dataDir, gcGraceMs: 400, inlineThreshold: 0 });
    await a.s3.send(new CreateBucketCommand({ Bucket: 'gc-grace' }));
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
  });

  it('deletes a released blob only after the grace period, on one process at a time', async () => {
    const base = countBlobFiles(a.dataDir);
    await a.s3.send(new PutObjectCommand({ Bucket: 'gc-grace', Key: 'k', Body: randomBytes(1000) }));
    assert.equal(countBlobFiles(a.dataDir), base + 1);
    await b.s3.send(new DeleteObjectCommand({ Bucket: 'gc-grace', Key: 'k' }));
    await Promise.all([a.trove.app.gc.drain(), b.trove.app.gc.drain()]);
    assert.equal(countBlobFiles(a.dataDir), base + 1, 'deleted within the grace period');
    await new Promise((r) => setTimeout(r, 450));
    // One of the two holds the GC lease (b, kicked by its own delete, most likely); the other's pass is a no-op.
    await Promise.all([a.trove.app.gc.drain(), b.trove.app.gc.drain()]);
    assert.equal(countBlobFiles(a.dataDir), base);
  });
});

describeCluster('SQLite, --workers 2', () => startSqliteWorkers(2));
