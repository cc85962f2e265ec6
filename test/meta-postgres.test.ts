// PgMetaStore on a real PostgreSQL cluster: the MetaStore conformance suite, and what only a
// shared, concurrent store must guarantee — several stores (as several nodes) over one database: one winner among racing conditional
// writers, one history from versioned writers, read-after-write across nodes, migrations started
// together — and listings whose query plans are index range scans.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { PgMetaStore } from '../src/store/meta/postgres/index.js';
import { migrate, SCHEMA_VERSION } from '../src/store/meta/postgres/schema.js';
import { StoreError } from '../src/store/errors.js';
import type { Bucket, ObjectContent } from '../src/store/meta/types.js';
import { describeMetaStore } from './meta/conformance.js';
import { freshDatabase, postgresAvailable } from './support/postgres.js';

const available = postgresAvailable();

if (available) {
  describeMetaStore('PostgreSQL', async () => {
    const store = await PgMetaStore.open({ url: await freshDatabase(), poolSize: 4 });
    return { store, cleanup: () => store.close() };
  });
}

function content(etag: string, extra: Partial<ObjectContent> = {}): ObjectContent {
  return { size: 1, etag, lastModified: Date.now(), owner: 'u1', storageClass: 'STANDARD', headers: {}, userMeta: {}, inline: Buffer.from('x'), ...extra };
}

function newBucket(name: string, versioning: Bucket['versioning'] = 'Unversioned'): Omit<Bucket, 'id'> {
  return { name, owner: 'u1', createdAt: Date.now(), region: 'us-east-1', versioning, objectLock: false };
}

describe('PgMetaStore: several nodes over one database', { skip: !available && 'no PostgreSQL binaries (set CI to make this an error)' }, () => {
  let url: string;
  let nodes: PgMetaStore[];

  before(async () => {
    url = await freshDatabase();
    // Three nodes start together: one migrates, the others wait for it and find nothing to do.
    nodes = await Promise.all([0, 1, 2].map(() => PgMetaStore.open({ url, poolSize: 8 })));
  });
  after(async () => {
    await Promise.all(nodes.map((n) => n.close()));
  });

  it('migrated once, to the current version', async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const r = await c.query('SELECT version FROM trove_schema');
      assert.deepEqual(r.rows, [{ version: SCHEMA_VERSION }]);
    } finally {
      await c.end();
    }
  });

  it('lets exactly one of racing If-None-Match: * writers on different nodes win, every round', async () => {
    const b = await nodes[0]!.createBucket(newBucket('race'));
    for (let round = 0; round < 40; round++) {
      const key = `k${round}`;
      const results = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) => nodes[i % 3]!.putObject(b.id, key, content(`etag-${i}`), { ifNoneMatch: '*' })),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      assert.equal(won.length, 1, `round ${round}`);
      for (const r of results) {
        if (r.status === 'rejected') assert.ok(r.reason instanceof StoreError && r.reason.code === 'PreconditionFailed', String(r.reason));
      }
      // Every node reads the winner at once.
      const etags = await Promise.all(nodes.map(async (n) => (await n.getObject(b.id, key))?.etag));
      assert.equal(new Set(etags).size, 1);
    }
  });

  it('lets exactly one of racing If-Match writers replace the version they all read', async () => {
    const b = await nodes[0]!.createBucket(newBucket('cas'));
    await nodes[0]!.putObject(b.id, 'counter', content('v0'));
    for (let round = 1; round <= 20; round++) {
      const seen = (await nodes[round % 3]!.getObject(b.id, 'counter'))!.etag;
      const results = await Promise.allSettled(nodes.map((n, i) => n.putObject(b.id, 'counter', content(`v${round}-${i}`), { ifMatch: seen })));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, `round ${round}`);
    }
  });

  it('keeps one history of versioned writes from every node: one latest, every version listed once', async () => {
    const b = await nodes[0]!.createBucket(newBucket('history', 'Enabled'));
    const writes = await Promise.all(Array.from({ length: 60 }, (_, i) => nodes[i % 3]!.putObject(b.id, 'doc', content(`e${i}`))));
    const ids = new Set(writes.map((w) => w.versionId));
    assert.equal(ids.size, 60);
    const listed = await nodes[1]!.listVersions(b.id, { prefix: '', limit: 1000 });
    assert.equal(listed.length, 60);
    assert.deepEqual(new Set(listed.map((v) => v.versionId)), ids);
    assert.equal(listed.filter((v) => v.isLatest).length, 1);
    assert.ok(listed[0]!.isLatest, 'newest first');
    const latest = await nodes[2]!.getObject(b.id, 'doc');
    assert.equal(latest?.versionId, listed[0]!.versionId);
    // Each write displaced the one before it: the previous ids form one chain.
    const previous = writes.filter((w) => w.previous).map((w) => w.previous!.versionId);
    assert.equal(new Set(previous).size, 59);
  });

  it('shows a write acknowledged by one node to the next read and listing on another', async () => {
    const b = await nodes[0]!.createBucket(newBucket('raw'));
    for (let i = 0; i < 30; i++) {
      await nodes[i % 3]!.putObject(b.id, `f/${i}`, content(`e${i}`));
      const other = nodes[(i + 1) % 3]!;
      assert.equal((await other.getObject(b.id, `f/${i}`))?.etag, `e${i}`);
      const page = await other.listObjects(b.id, { prefix: 'f/', limit: 1000 });
      assert.equal(page.length, i + 1);
      await nodes[(i + 2) % 3]!.deleteObject(b.id, `f/${i}`, { now: Date.now() });
      assert.equal(await nodes[i % 3]!.getObject(b.id, `f/${i}`), undefined);
      await nodes[i % 3]!.putObject(b.id, `f/${i}`, content(`e${i}`));
    }
  });

  it('refuses to delete a bucket another node is writing into, and writes into a deleted bucket', async () => {
    const b = await nodes[0]!.createBucket(newBucket('gone'));
    await nodes[1]!.deleteBucket(b.id);
    await assert.rejects(nodes[2]!.putObject(b.id, 'k', content('e')), (e: unknown) => e instanceof StoreError && e.code === 'NoSuchBucket');
    const c = await nodes[0]!.createBucket(newBucket('busy'));
    const results = await Promise.allSettled([nodes[1]!.putObject(c.id, 'k', content('e')), nodes[2]!.deleteBucket(c.id)]);
    // Either the write came first (and the bucket is not empty) or the delete did (and the write
    // found no bucket): never both, never a version in a deleted bucket.
    const [put, del] = results;
    assert.ok((put.status === 'fulfilled') !== (del!.status === 'fulfilled'), JSON.stringify(results.map((r) => r.status)));
  });

  it('gives each blob exactly its references when copies and deletes race on several nodes', async () => {
    const b = await nodes[0]!.createBucket(newBucket('refs'));
    await nodes[0]!.putObject(b.id, 'src', content('e', { inline: undefined, blobId: 'blob-shared', size: 10 }));
    // Copies on every node share the blob; then everything is deleted from every node.
    await Promise.all(Array.from({ length: 12 }, (_, i) => nodes[i % 3]!.putObject(b.id, `copy${i}`, content('e', { inline: undefined, blobId: 'blob-shared', size: 10, sharedData: true }))));
    assert.deepEqual(await nodes[1]!.takeGarbage(10), []);
    await Promise.all(['src', ...Array.from({ length: 12 }, (_, i) => `copy${i}`)].map((k, i) => nodes[i % 3]!.deleteObject(b.id, k, { now: Date.now() })));
    assert.deepEqual(await nodes[2]!.takeGarbage(10), ['blob-shared']);
  });
});

describe('PgMetaStore: migrations, leases, garbage grace and the change feed', { skip: !available && 'no PostgreSQL binaries' }, () => {
  it('upgrades a database of schema 1: garbage released before it counts as released long ago', async () => {
    const url = await freshDatabase();
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    const client = await pool.connect();
    try {
      assert.equal(await migrate(client, 1), 0);
      await client.query("INSERT INTO blobs (id, refs) VALUES ('old-garbage', 0), ('live', 1)");
    } finally {
      client.release();
      await pool.end();
    }
    const meta = await PgMetaStore.open({ url, poolSize: 2 });
    try {
      assert.deepEqual(await meta.takeGarbage(10, 0), ['old-garbage']);
    } finally {
      await meta.close();
    }
  });

  it('upgrades a database from before usage counters (schema 9): counters computed from what exists', async () => {
    const url = await freshDatabase();
    let meta = await PgMetaStore.open({ url, poolSize: 2 });
    const obj = (size: number): ObjectContent => ({ size, etag: 'e', lastModified: 1, owner: 'o1', storageClass: 'STANDARD', headers: {}, userMeta: {}, inline: Buffer.alloc(size) });
    const b = await meta.createBucket({ name: 'counted', owner: 'o1', createdAt: 1, region: 'us-east-1', versioning: 'Enabled', objectLock: false });
    try {
      await meta.putObject(b.id, 'a', obj(5));
      await meta.putObject(b.id, 'a', obj(7));
      await meta.putObject(b.id, 'b', obj(11));
      await meta.deleteObject(b.id, 'b', { now: 2 });
      await meta.db.pool.query('DROP TABLE usage_buckets; DROP TABLE usage_accounts; DROP TABLE quotas; DROP FUNCTION trove_usage_add, trove_usage_insert, trove_usage_delete, trove_usage_update, trove_usage_part, trove_usage_bucket_gone CASCADE; UPDATE trove_schema SET version = 8');
    } finally {
      await meta.close();
    }
    meta = await PgMetaStore.open({ url, poolSize: 2 });
    try {
      assert.deepEqual(await meta.getUsage('bucket', String(b.id)), { bytes: 23, objects: 3, stagedBytes: 0 });
      assert.deepEqual(await meta.getUsage('account', 'o1'), { bytes: 23, objects: 3, stagedBytes: 0 });
      await meta.putObject(b.id, 'c', obj(1));
      assert.equal((await meta.getUsage('bucket', String(b.id))).bytes, 24);
    } finally {
      await meta.close();
    }
  });

  it('upgrades a database from before usage reports (schema 13): storage-class counters computed from what exists', async () => {
    const url = await freshDatabase();
    let meta = await PgMetaStore.open({ url, poolSize: 2 });
    const obj = (size: number, storageClass: string): ObjectContent => ({ size, etag: 'e', lastModified: 1, owner: 'o1', storageClass, headers: {}, userMeta: {}, inline: Buffer.alloc(size) });
    const b = await meta.createBucket({ name: 'classes', owner: 'o1', createdAt: 1, region: 'us-east-1', versioning: 'Enabled', objectLock: false });
    try {
      await meta.putObject(b.id, 'a', obj(5, 'STANDARD'));
      await meta.putObject(b.id, 'b', obj(7, 'STANDARD_IA'));
      await meta.putObject(b.id, 'b', obj(11, 'STANDARD_IA'));
      await meta.db.pool.query('DROP TABLE usage_classes; DROP TABLE usage_requests; DROP TABLE usage_storage; DROP FUNCTION trove_usage_class, trove_usage_classes_gone CASCADE; UPDATE trove_schema SET version = 12');
    } finally {
      await meta.close();
    }
    meta = await PgMetaStore.open({ url, poolSize: 2 });
    try {
      await meta.putObject(b.id, 'c', obj(1, 'STANDARD_IA'));
      assert.equal(await meta.snapshotUsageStorage(3_600_000), 2);
      const rows = (await meta.listUsage({ from: 0, to: 7_200_000 })).storage.map((r) => [r.storageClass, r.bytes, r.objects]);
      assert.deepEqual(rows, [['STANDARD', 5, 1], ['STANDARD_IA', 19, 3]]);
    } finally {
      await meta.close();
    }
  });

  it('turns synchronous_commit on for its sessions when the database has it off', async () => {
    const url = await freshDatabase();
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await c.query(`ALTER DATABASE ${new URL(url).pathname.slice(1)} SET synchronous_commit = off`);
    } finally {
      await c.end();
    }
    const meta = await PgMetaStore.open({ url, poolSize: 2 });
    try {
      const rows = await Promise.all([1, 2].map(() => meta.db.row<{ synchronous_commit: string }>('SHOW synchronous_commit')));
      assert.deepEqual(rows.map((r) => r?.synchronous_commit), ['on', 'on']);
    } finally {
      await meta.close();
    }
  });

  it('holds garbage back for its grace period, by release time', async () => {
    const meta = await PgMetaStore.open({ url: await freshDatabase(), poolSize: 2 });
    try {
      const b = await meta.createBucket(newBucket('gc'));
      await meta.putObject(b.id, 'k', content('e', { inline: undefined, blobId: 'blob-1', size: 10 }));
      await meta.deleteObject(b.id, 'k', { now: Date.now() });
      assert.deepEqual(await meta.takeGarbage(10, Date.now() - 60_000), [], 'released a moment ago: still in its grace period');
      assert.deepEqual(await meta.takeGarbage(10, Date.now() + 1), ['blob-1']);
    } finally {
      await meta.close();
    }
  });

  it('gives a lease to one holder at a time, renews it, frees it, and lets it expire', async () => {
    const url = await freshDatabase();
    const [a, b] = await Promise.all([PgMetaStore.open({ url, poolSize: 2 }), PgMetaStore.open({ url, poolSize: 2 })]);
    try {
      const taken = await Promise.all([a.tryLease('gc', 'node-a', 60_000), b.tryLease('gc', 'node-b', 60_000)]);
      assert.equal(taken.filter(Boolean).length, 1, 'racing takers: one wins');
      const [holder, other] = taken[0] ? [a, b] : [b, a];
      const [holderName, otherName] = taken[0] ? ['node-a', 'node-b'] : ['node-b', 'node-a'];
      assert.equal(await holder.tryLease('gc', holderName, 60_000), true, 'renewed');
      assert.equal(await other.tryLease('gc', otherName, 60_000), false);
      await other.releaseLease('gc', otherName);
      assert.equal(await other.tryLease('gc', otherName, 60_000), false, 'only the holder releases');
      await holder.releaseLease('gc', holderName);
      assert.equal(await other.tryLease('gc', otherName, 100), true, 'free once released');
      await new Promise((r) => setTimeout(r, 250));
      assert.equal(await holder.tryLease('gc', holderName, 60_000), true, 'taken over once expired');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('tells every other node when IAM, accounts or bucket settings change', async () => {
    const url = await freshDatabase();
    const [a, b] = await Promise.all([PgMetaStore.open({ url, poolSize: 2 }), PgMetaStore.open({ url, poolSize: 2 })]);
    try {
      let calls = 0;
      b.onChange(() => calls++);
      await b.changesReady();
      /** Runs a write on node a and waits until b's feed is called after it began. */
      const heard = async <T>(what: string, write: () => Promise<T>): Promise<T> => {
        const before = calls;
        const out = await write();
        const until = Date.now() + 5000;
        while (calls === before && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
        assert.ok(calls > before, `${what} reached the other node's feed`);
        await new Promise((r) => setTimeout(r, 50));
        return out;
      };
      const bucket = await heard('CreateBucket', () => a.createBucket(newBucket('feed')));
      await heard('a bucket configuration', () => a.putBucketConfig(bucket.id, 'policy', '{}'));
      await heard('an IAM write', () => a.iam.createUser({ accountId: '111122223333', id: 'AIDAAAAAAAAAAAAAAAAAA', name: 'u', path: '/', createdAt: Date.now() }));
      await heard('an account write', () => a.putAccount({ id: 'c'.repeat(64), accountId: '111122223333', displayName: 'x', createdAt: Date.now() }));
      // Read-after-write through the caches: the next getBucket on the other node (once per
      // request) calls its listeners before it answers, whether or not the notification came.
      for (let i = 0; i < 20; i++) {
        const seen = calls;
        await a.putBucketConfig(bucket.id, 'policy', `{"n":${i}}`);
        await b.getBucket('feed');
        assert.ok(calls > seen, `change ${i} seen by the next request on the other node`);
      }
      await new Promise((r) => setTimeout(r, 100));
      // A write that failed (rolled back) tells nobody, and a node's own writes do not come back
      // to it (its caches hear of them directly).
      const before = calls;
      await b.putBucketConfig(bucket.id, 'policy', '{"own":1}');
      await b.getBucket('feed');
      await assert.rejects(a.createBucket(newBucket('feed')));
      await a.putObject(bucket.id, 'k', content('e'));
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(calls, before);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('PgMetaStore round trips and caches', { skip: !available && 'no PostgreSQL binaries' }, () => {
  it('keeps bucket configurations cached, and a change on another node is read by its next request', async () => {
    const url = await freshDatabase();
    const [a, b] = await Promise.all([PgMetaStore.open({ url, poolSize: 2 }), PgMetaStore.open({ url, poolSize: 2 })]);
    try {
      const bucket = await a.createBucket(newBucket('cfg'));
      let reads = 0;
      b.db.trace = (text) => void (text.includes('FROM bucket_configs') && reads++);
      // As a request does: the bucket first (with the change sequence), then its configurations.
      await b.getBucket('cfg');
      assert.equal(await b.getBucketConfig(bucket.id, 'encryption'), undefined);
      await b.getBucket('cfg');
      assert.equal(await b.getBucketConfig(bucket.id, 'encryption'), undefined);
      assert.equal(reads, 1, 'the second request read its configuration from the cache');
      // No notification is waited for (b does not even listen): the sequence read with the bucket does it.
      for (let i = 0; i < 20; i++) {
        await a.putBucketConfig(bucket.id, 'encryption', `{"a":"AES256","n":${i}}`);
        await b.getBucket('cfg');
        assert.equal(await b.getBucketConfig(bucket.id, 'encryption'), `{"a":"AES256","n":${i}}`, `change ${i} read by the next request on the other node`);
      }
      // Its own writes: read back at once.
      await b.putBucketConfig(bucket.id, 'encryption', undefined);
      assert.equal(await b.getBucketConfig(bucket.id, 'encryption'), undefined);
      // A load racing a change is not kept: start a read, change the value elsewhere, let the
      // next request see the change; the raced value must not be served afterwards.
      const racing = b.getBucketConfig(bucket.id, 'policy');
      await a.putBucketConfig(bucket.id, 'policy', '{"raced":1}');
      await b.getBucket('cfg');
      await racing;
      assert.equal(await b.getBucketConfig(bucket.id, 'policy'), '{"raced":1}');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('pipelines a PUT into three round trips, and a pipelined statement that fails rolls the whole write back', async () => {
    const url = await freshDatabase();
    const meta = await PgMetaStore.open({ url, poolSize: 2 });
    try {
      const bucket = await meta.createBucket(newBucket('pipe'));
      const statements: string[] = [];
      meta.db.trace = (text) => void statements.push(text);
      await meta.getBucket('pipe');
      await meta.putObject(bucket.id, 'k', content('one'));
      meta.db.trace = undefined;
      assert.equal(statements.length, 5, `bucket, then [bucket lock, key lock, latest] and [insert]: ${statements.join(' | ')}`);
      assert.equal(statements.filter((s) => /FROM bucket_configs/.test(s)).length, 0);
      // A fresh blob inserted twice: the second write's INSERT INTO blobs (not waited for) fails,
      // after its object row was written; the commit must fail and keep nothing of it.
      const blobId = 'e'.repeat(32);
      await meta.putObject(bucket.id, 'b1', { ...content('first'), blobId });
      await assert.rejects(meta.putObject(bucket.id, 'b2', { ...content('second'), blobId }), (e: { code?: string }) => e.code === '23505');
      assert.equal(await meta.getObject(bucket.id, 'b2'), undefined, 'rolled back whole');
      assert.equal((await meta.getObject(bucket.id, 'b1'))?.etag, 'first');
      // The object row's INSERT itself failing (nobody awaits it: left to the commit) — a NUL
      // character PostgreSQL's text refuses — rejects the write; no unhandled rejection.
      await assert.rejects(meta.putObject(bucket.id, 'b2', { ...content('nul'), storageClass: 'bad\u0000class' }), (e: { code?: string }) => e.code === '22021');
      assert.equal(await meta.getObject(bucket.id, 'b2'), undefined);
      // And the connection is fine afterwards (the pool's clients are reused).
      for (let i = 0; i < 4; i++) await meta.putObject(bucket.id, 'b2', content(`again${i}`));
      assert.equal((await meta.getObject(bucket.id, 'b2'))?.etag, 'again3');
      // A GET reads its bucket and the latest version in one statement, as getBucket + getObject would.
      statements.length = 0;
      meta.db.trace = (text) => void statements.push(text);
      const both = await meta.getBucketWithLatest('pipe', 'b2');
      const none = await meta.getBucketWithLatest('pipe', 'missing');
      const noBucket = await meta.getBucketWithLatest('no-such-bucket', 'b2');
      meta.db.trace = undefined;
      assert.equal(statements.length, 3);
      assert.deepEqual(both, { bucket: await meta.getBucket('pipe'), latest: await meta.getObject(bucket.id, 'b2') });
      assert.deepEqual(none, { bucket: await meta.getBucket('pipe'), latest: undefined });
      assert.equal(noBucket, undefined);
      // A condition that fails (decided on the pipelined read) writes nothing.
      await assert.rejects(meta.putObject(bucket.id, 'b2', content('no'), { ifNoneMatch: '*' }));
      assert.equal((await meta.getObject(bucket.id, 'b2'))?.etag, 'again3');
    } finally {
      await meta.close();
    }
  });
});

describe('PgMetaStore listings are index range scans', { skip: !available && 'no PostgreSQL binaries' }, () => {
  let url: string;
  let meta: PgMetaStore;
  let admin: pg.Client;
  let bucket: Bucket;

  before(async () => {
    url = await freshDatabase();
    meta = await PgMetaStore.open({ url, poolSize: 2 });
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
    bucket = await meta.createBucket(newBucket('big', 'Enabled'));
    // 20,000 versions of 10,000 keys under 100 prefixes, a third of them deleted (their latest
    // version a delete marker), written in bulk, then analysed: the planner chooses as it would
    // for a real bucket of that size.
    await admin.query(
      `INSERT INTO objects (bucket_id, key, vid, is_null, is_latest, delete_marker, size, etag, last_modified, owner, storage_class)
       SELECT $1, convert_to(format('p%s/k%s', lpad((i % 100)::text, 3, '0'), lpad(i::text, 6, '0')), 'UTF8'), lpad(v::text, 32, '0'),
              false, v = 2, v = 2 AND i % 3 = 0, 1, 'e', 0, 'u1', 'STANDARD'
       FROM generate_series(1, 10000) i, generate_series(1, 2) v`,
      [bucket.id],
    );
    await admin.query(
      `INSERT INTO uploads (upload_id, bucket_id, key, initiated, owner, meta)
       SELECT lpad(i::text, 32, '0'), $1, convert_to(format('u%s', lpad(i::text, 6, '0')), 'UTF8'), 0, 'u1', '{"sc":"STANDARD","h":{},"m":{}}'
       FROM generate_series(1, 5000) i`,
      [bucket.id],
    );
    await admin.query('ANALYZE');
  });
  after(async () => {
    await admin.end();
    await meta.close();
  });

  /** Runs `call`, EXPLAINs the listing statement it ran, and answers the plan's node types with their index conditions. */
  async function plan(call: () => Promise<unknown>, match: RegExp): Promise<{ text: string; nodes: string[] }> {
    const seen: { text: string; values: unknown[] }[] = [];
    meta.db.trace = (text, values) => seen.push({ text, values });
    try {
      await call();
    } finally {
      meta.db.trace = undefined;
    }
    const q = seen.filter((s) => match.test(s.text)).at(-1);
    assert.ok(q, 'the listing statement ran');
    // EXPLAIN the statement as a prepared statement with these parameters (as the store runs it).
    const r = await admin.query(`EXPLAIN (FORMAT JSON) ${q.text}`, q.values);
    const nodes: string[] = [];
    const walk = (n: Record<string, unknown>) => {
      nodes.push(`${n['Node Type'] as string}${n['Index Name'] ? ` ${n['Index Name'] as string}` : ''}${n['Index Cond'] ? ` ${n['Index Cond'] as string}` : ''}`);
      for (const c of (n['Plans'] as Record<string, unknown>[] | undefined) ?? []) walk(c);
    };
    walk((r.rows[0] as { 'QUERY PLAN': { Plan: Record<string, unknown> }[] })['QUERY PLAN'][0]!.Plan);
    return { text: q.text, nodes };
  }

  function assertRangeScan(nodes: string[], index: string): void {
    const scan = nodes.find((n) => n.startsWith('Index Scan') || n.startsWith('Index Only Scan'));
    assert.ok(scan, `an index scan: ${nodes.join(' / ')}`);
    assert.ok(scan.includes(index), `on ${index}: ${scan}`);
    assert.match(scan, /key >/, `bounded by the key range: ${scan}`);
    assert.ok(!nodes.some((n) => /Seq Scan|Sort|Bitmap/.test(n)), `no scan of the table, no sort: ${nodes.join(' / ')}`);
  }

  it('ListObjects: prefix and start-after are the bounds of a scan of the current-objects index', async () => {
    const { nodes } = await plan(() => meta.listObjects(bucket.id, { prefix: 'p042/', start: 'p042/k005000', limit: 1000 }), /FROM objects WHERE bucket_id = \$1 AND is_latest/);
    assertRangeScan(nodes, 'objects_current');
    const page = await meta.listObjects(bucket.id, { prefix: 'p042/', start: 'p042/k005000', limit: 3 });
    assert.deepEqual(
      page.map((o) => o.key),
      ['p042/k005042', 'p042/k005242', 'p042/k005342'],
    );
  });

  it('ListObjects past a common prefix: one seek to the prefix successor', async () => {
    const { nodes } = await plan(() => meta.listObjects(bucket.id, { prefix: '', start: 'p043', startInclusive: true, limit: 1 }), /FROM objects WHERE bucket_id = \$1 AND is_latest/);
    assertRangeScan(nodes, 'objects_current');
  });

  it('ListObjectVersions: a range scan of the versions index, newest first, no sort', async () => {
    const { nodes } = await plan(() => meta.listVersions(bucket.id, { prefix: 'p007/', keyMarker: 'p007/k000507', limit: 1000 }), /ORDER BY key, vid DESC/);
    assertRangeScan(nodes, 'objects_versions');
  });

  it('ListMultipartUploads: a range scan of the uploads index', async () => {
    const { nodes } = await plan(() => meta.listUploads(bucket.id, { prefix: 'u00', keyMarker: 'u000100', uploadIdMarker: '0'.repeat(32), limit: 1000 }), /FROM uploads WHERE/);
    assertRangeScan(nodes, 'uploads_by_key');
  });
});
