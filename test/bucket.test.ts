// Bucket operations through the real SDK and raw HTTP.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  GetBucketLocationCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  PutObjectCommand,
  DeleteObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { errorCode, raw, s3error, startServer, uniqueBucket, type TestServer } from './helpers.js';

describe('buckets', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startServer();
  });
  after(async () => srv.stop());

  it('creates, heads, locates, lists and deletes a bucket', async () => {
    const name = uniqueBucket();
    const created = await srv.s3.send(new CreateBucketCommand({ Bucket: name }));
    assert.equal(created.Location, '/' + name);
    const head = await srv.s3.send(new HeadBucketCommand({ Bucket: name }));
    assert.equal(head.BucketRegion, 'us-east-1');
    const loc = await srv.s3.send(new GetBucketLocationCommand({ Bucket: name }));
    assert.equal(loc.LocationConstraint, undefined);
    const list = await srv.s3.send(new ListBucketsCommand({}));
    assert.ok(list.Buckets?.some((b) => b.Name === name && b.CreationDate instanceof Date));
    assert.equal(list.Owner?.DisplayName, 'root');
    assert.match(list.Owner?.ID ?? '', /^[0-9a-f]{64}$/);
    await srv.s3.send(new DeleteBucketCommand({ Bucket: name }));
    const e = await s3error(srv.s3.send(new HeadBucketCommand({ Bucket: name })));
    assert.equal(e.$metadata.httpStatusCode, 404);
  });

  it('answers an owner re-creating its bucket as S3 us-east-1 does (200), and keeps its objects', async () => {
    const name = uniqueBucket();
    await srv.s3.send(new CreateBucketCommand({ Bucket: name }));
    await srv.s3.send(new PutObjectCommand({ Bucket: name, Key: 'k', Body: 'v' }));
    await srv.s3.send(new CreateBucketCommand({ Bucket: name }));
    const e = await s3error(srv.s3.send(new DeleteBucketCommand({ Bucket: name })));
    assert.equal(e.name, 'BucketNotEmpty');
    assert.equal(e.$metadata.httpStatusCode, 409);
    await srv.s3.send(new DeleteObjectCommand({ Bucket: name, Key: 'k' }));
    await srv.s3.send(new DeleteBucketCommand({ Bucket: name }));
  });

  it('refuses another user a taken name (BucketAlreadyExists) and hides buckets from non-owners', async () => {
    const name = uniqueBucket();
    await srv.s3.send(new CreateBucketCommand({ Bucket: name }));
    await srv.trove.app.meta.putAccount({ id: 'f'.repeat(64), accountId: '999999999999', displayName: 'other', createdAt: Date.now() });
    await srv.trove.app.meta.putAccessKey({ accessKeyId: 'OTHERUSERKEY00000001', secretAccessKey: 'other-secret-0000000000', userId: 'f'.repeat(64), createdAt: Date.now() });
    const other = srv.client({ credentials: { accessKeyId: 'OTHERUSERKEY00000001', secretAccessKey: 'other-secret-0000000000' } });
    const e = await s3error(other.send(new CreateBucketCommand({ Bucket: name })));
    assert.equal(e.name, 'BucketAlreadyExists');
    assert.equal(e.$metadata.httpStatusCode, 409);
    const denied = await s3error(other.send(new PutObjectCommand({ Bucket: name, Key: 'x', Body: 'y' })));
    assert.equal(denied.name, 'AccessDenied');
    const list = await other.send(new ListBucketsCommand({}));
    assert.ok(!list.Buckets?.some((b) => b.Name === name));
  });

  it('validates bucket names', async () => {
    for (const bad of ['ab', 'a'.repeat(64), 'Upper', 'under_score', '-start', 'end-', 'a..b', '192.168.1.1', 'xn--abc', 'foo-s3alias']) {
      const r = await raw(srv, { method: 'PUT', path: '/' + encodeURIComponent(bad) });
      assert.equal(r.status, 400, bad);
      assert.equal(errorCode(r.text), 'InvalidBucketName', bad);
    }
    const ok = await raw(srv, { method: 'PUT', path: '/a.b-c.123' });
    assert.equal(ok.status, 200);
  });

  it('checks the location constraint against the region', async () => {
    const name = uniqueBucket();
    const body = '<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>';
    const r = await raw(srv, { method: 'PUT', path: '/' + name, body });
    assert.equal(r.status, 400);
    assert.equal(errorCode(r.text), 'IllegalLocationConstraintException');
    const malformed = await raw(srv, { method: 'PUT', path: '/' + name, body: '<CreateBucketConfiguration><Loc' });
    assert.equal(errorCode(malformed.text), 'MalformedXML');
  });

  it('paginates ListBuckets with max-buckets and continuation tokens', async () => {
    const prefix = uniqueBucket('page');
    const names = [0, 1, 2, 3, 4].map((i) => `${prefix}-${i}`);
    for (const n of names) await srv.s3.send(new CreateBucketCommand({ Bucket: n }));
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const r = await srv.s3.send(new ListBucketsCommand({ MaxBuckets: 2, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
      seen.push(...(r.Buckets ?? []).map((b) => b.Name!));
      token = r.ContinuationToken;
      pages++;
    } while (token);
    assert.deepEqual(seen, names);
    assert.equal(pages, 3);
    const bad = await raw(srv, { method: 'GET', path: '/', query: { 'max-buckets': '0' } });
    assert.equal(errorCode(bad.text), 'InvalidArgument');
  });

  it('answers NoSuchBucket for a missing bucket (anonymous callers included) and AccessDenied to an anonymous ListBuckets', async () => {
    const e = await s3error(srv.s3.send(new PutObjectCommand({ Bucket: uniqueBucket('missing'), Key: 'k', Body: 'x' })));
    assert.equal(e.name, 'NoSuchBucket');
    const gone = await raw(srv, { method: 'GET', path: `/${uniqueBucket('missing')}/k`, sign: false });
    assert.equal(gone.status, 404);
    assert.equal(errorCode(gone.text), 'NoSuchBucket');
    const anon = await raw(srv, { method: 'GET', path: '/', sign: false });
    assert.equal(anon.status, 403);
    assert.equal(errorCode(anon.text), 'AccessDenied');
  });

  it('answers 409 BucketAlreadyOwnedByYou outside us-east-1', async () => {
    const eu = await startServer({ region: 'eu-west-1' });
    try {
      const c = new S3Client({ endpoint: eu.url, region: 'eu-west-1', forcePathStyle: true, credentials: await eu.s3.config.credentials() });
      const name = uniqueBucket();
      await c.send(new CreateBucketCommand({ Bucket: name, CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
      const loc = await c.send(new GetBucketLocationCommand({ Bucket: name }));
      assert.equal(loc.LocationConstraint, 'eu-west-1');
      const e = await s3error(c.send(new CreateBucketCommand({ Bucket: name, CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } })));
      assert.equal(e.name, 'BucketAlreadyOwnedByYou');
      c.destroy();
    } finally {
      await eu.stop();
    }
  });
});
