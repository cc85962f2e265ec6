// Conditional deletes (If-Match, x-amz-if-match-last-modified-time, x-amz-if-match-size on
// DeleteObject; ETag, LastModifiedTime and Size per object in DeleteObjects), through the real SDK,
// on unversioned and versioned buckets, and a race in which exactly one conditional delete wins.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { raw, s3error, startServer, uniqueBucket, type TestServer } from './helpers.js';

const BAD_TIME = new Date(Date.UTC(2015, 0, 1));

describe('conditional deletes', () => {
  let srv: TestServer;
  let plain: string;
  let versioned: string;
  before(async () => {
    srv = await startServer();
    plain = uniqueBucket();
    versioned = uniqueBucket();
    await srv.s3.send(new CreateBucketCommand({ Bucket: plain }));
    await srv.s3.send(new CreateBucketCommand({ Bucket: versioned }));
    await srv.s3.send(new PutBucketVersioningCommand({ Bucket: versioned, VersioningConfiguration: { Status: 'Enabled' } }));
  });
  after(async () => srv.stop());

  const put = (bucket: string, key: string, body = 'hello') => srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  const exists = async (bucket: string, key: string, versionId?: string) => {
    try {
      await srv.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
      return true;
    } catch {
      return false;
    }
  };
  const versions = async (bucket: string, key: string) => {
    const r = await srv.s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
    return { objects: (r.Versions ?? []).filter((v) => v.Key === key).length, markers: (r.DeleteMarkers ?? []).filter((v) => v.Key === key).length };
  };

  it('If-Match: a wrong ETag is 412 and keeps the object; the right one or * deletes; a missing key is NoSuchKey', async () => {
    const { ETag } = await put(plain, 'im');
    const e = await s3error(srv.s3.send(new DeleteObjectCommand({ Bucket: plain, Key: 'im', IfMatch: '"0123456789abcdef0123456789abcdef"' })));
    assert.equal(e.$metadata.httpStatusCode, 412);
    assert.equal(e.name, 'PreconditionFailed');
    assert.ok(await exists(plain, 'im'));
    const r = await srv.s3.send(new DeleteObjectCommand({ Bucket: plain, Key: 'im', IfMatch: ETag }));
    assert.equal(r.$metadata.httpStatusCode, 204);
    assert.equal(await exists(plain, 'im'), false);
    // General purpose buckets: If-Match needs a current object.
    for (const IfMatch of ['*', ETag!]) {
      const gone = await s3error(srv.s3.send(new DeleteObjectCommand({ Bucket: plain, Key: 'im', IfMatch })));
      assert.equal(gone.$metadata.httpStatusCode, 404);
      assert.equal(gone.name, 'NoSuchKey');
    }
    await put(plain, 'im');
    await srv.s3.send(new DeleteObjectCommand({ Bucket: plain, Key: 'im', IfMatch: '*' }));
    assert.equal(await exists(plain, 'im'), false);
  });

  it('the 412 names the condition that failed', async () => {
    await put(plain, 'cond');
    const res = await raw(srv, { method: 'DELETE', path: `/${plain}/cond`, headers: { 'x-amz-if-match-size': '9999' } });
    assert.equal(res.status, 412);
    assert.match(res.text, /<Code>PreconditionFailed<\/Code>/);
    assert.match(res.text, /<Condition>x-amz-if-match-size<\/Condition>/);
    const bad = await raw(srv, { method: 'DELETE', path: `/${plain}/cond`, headers: { 'x-amz-if-match-size': '-1' } });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /<Code>InvalidArgument<\/Code>/);
    const badTime = await raw(srv, { method: 'DELETE', path: `/${plain}/cond`, headers: { 'x-amz-if-match-last-modified-time': 'yesterday' } });
    assert.equal(badTime.status, 400);
    assert.ok(await exists(plain, 'cond'));
  });

  it('last-modified-time and size: a wrong value is 412; the right one deletes; a missing key succeeds doing nothing', async () => {
    await put(plain, 'lm', 'five!');
    const head = await srv.s3.send(new HeadObjectCommand({ Bucket: plain, Key: 'lm' }));
    for (const wrong of [{ IfMatchLastModifiedTime: BAD_TIME }, { IfMatchSize: 9999 }, { IfMatchSize: 5, IfMatchLastModifiedTime: BAD_TIME }, { IfMatch: head.ETag, IfMatchSize: 4 }]) {
      const e = await s3error(srv.s3.send(new DeleteObjectCommand({ Bucket: plain, Key: 'lm', ...wrong })));
      assert.equal(e.$metadata.httpStatusCode, 412, JSON.stringify(wrong));
    }
    assert.ok(await exists(plain, 'lm'));
    await srv.s3.send(new DeleteObjectCommand({ Bucket: plain, Key: 'lm', IfMatch: head.ETag, IfMatchLastModifiedTime: head.LastModified, IfMatchSize: 5 }));
    assert.equal(await exists(plain, 'lm'), false);
    const r1 = await srv.s3.send(new DeleteObjectCommand({ Bucket: plain, Key: 'lm', IfMatchLastModifiedTime: BAD_TIME }));
    const r2 = await srv.s3.send(new DeleteObjectCommand({ Bucket: plain, Key: 'lm', IfMatchSize: 9999 }));
    assert.equal(r1.$metadata.httpStatusCode, 204);
    assert.equal(r2.$metadata.httpStatusCode, 204);
  });

  it('versioned, current version: the condition guards the delete marker; a current delete marker is compared as it is', async () => {
    const p = await put(versioned, 'cur', 'abc');
    const head = await srv.s3.send(new HeadObjectCommand({ Bucket: versioned, Key: 'cur' }));
    const e = await s3error(srv.s3.send(new DeleteObjectCommand({ Bucket: versioned, Key: 'cur', IfMatch: '"ffffffffffffffffffffffffffffffff"' })));
    assert.equal(e.$metadata.httpStatusCode, 412);
    assert.deepEqual(await versions(versioned, 'cur'), { objects: 1, markers: 0 });
    const r = await srv.s3.send(new DeleteObjectCommand({ Bucket: versioned, Key: 'cur', IfMatch: p.ETag, IfMatchSize: 3, IfMatchLastModifiedTime: head.LastModified }));
    assert.equal(r.DeleteMarker, true);
    assert.deepEqual(await versions(versioned, 'cur'), { objects: 1, markers: 1 });
    // The current version is a delete marker: If-Match finds no object; size and time compare
    // with the marker (size 0, its own time) and a wrong value fails.
    const gone = await s3error(srv.s3.send(new DeleteObjectCommand({ Bucket: versioned, Key: 'cur', IfMatch: '*' })));
    assert.equal(gone.name, 'NoSuchKey');
    for (const wrong of [{ IfMatchSize: 3 }, { IfMatchLastModifiedTime: BAD_TIME }]) {
      const f = await s3error(srv.s3.send(new DeleteObjectCommand({ Bucket: versioned, Key: 'cur', ...wrong })));
      assert.equal(f.$metadata.httpStatusCode, 412, JSON.stringify(wrong));
    }
    assert.deepEqual(await versions(versioned, 'cur'), { objects: 1, markers: 1 });
    // A key that never existed: size and time conditions succeed without writing a marker.
    const none = await srv.s3.send(new DeleteObjectCommand({ Bucket: versioned, Key: 'never', IfMatchSize: 1 }));
    assert.equal(none.$metadata.httpStatusCode, 204);
    assert.deepEqual(await versions(versioned, 'never'), { objects: 0, markers: 0 });
  });

  it('versioned, with a version id: the conditions apply to that version, not the current one', async () => {
    const old = await put(versioned, 'ver', 'old!');
    const oldHead = await srv.s3.send(new HeadObjectCommand({ Bucket: versioned, Key: 'ver', VersionId: old.VersionId }));
    const cur = await put(versioned, 'ver', 'current');
    // The current version's ETag does not match the old version.
    const e = await s3error(srv.s3.send(new DeleteObjectCommand({ Bucket: versioned, Key: 'ver', VersionId: old.VersionId, IfMatch: cur.ETag })));
    assert.equal(e.$metadata.httpStatusCode, 412);
    const s = await s3error(srv.s3.send(new DeleteObjectCommand({ Bucket: versioned, Key: 'ver', VersionId: old.VersionId, IfMatchSize: 7 })));
    assert.equal(s.$metadata.httpStatusCode, 412);
    assert.ok(await exists(versioned, 'ver', old.VersionId));
    const r = await srv.s3.send(
      new DeleteObjectCommand({ Bucket: versioned, Key: 'ver', VersionId: old.VersionId, IfMatch: old.ETag, IfMatchSize: 4, IfMatchLastModifiedTime: oldHead.LastModified }),
    );
    assert.equal(r.VersionId, old.VersionId);
    assert.equal(r.DeleteMarker, undefined);
    assert.equal(await exists(versioned, 'ver', old.VersionId), false);
    assert.ok(await exists(versioned, 'ver', cur.VersionId));
    // That version is gone: a conditional delete of it succeeds doing nothing.
    for (const c of [{ IfMatch: '*' }, { IfMatch: old.ETag }, { IfMatchSize: 9999 }, { IfMatchLastModifiedTime: BAD_TIME }]) {
      const again = await srv.s3.send(new DeleteObjectCommand({ Bucket: versioned, Key: 'ver', VersionId: old.VersionId, ...c }));
      assert.equal(again.$metadata.httpStatusCode, 204);
    }
    assert.deepEqual(await versions(versioned, 'ver'), { objects: 1, markers: 0 });
  });

  it('DeleteObjects: per-object ETag, LastModifiedTime and Size; failures are per-key Errors', async () => {
    const a = await put(versioned, 'multi-a', 'aaaa');
    const b = await put(versioned, 'multi-b', 'bb');
    const bHead = await srv.s3.send(new HeadObjectCommand({ Bucket: versioned, Key: 'multi-b' }));
    await put(versioned, 'multi-c', 'c');
    const first = await srv.s3.send(
      new DeleteObjectsCommand({
        Bucket: versioned,
        Delete: {
          Objects: [
            { Key: 'multi-a', ETag: '"badbadbadbadbadbadbadbadbadbadba"' },
            { Key: 'multi-b', LastModifiedTime: BAD_TIME },
            { Key: 'multi-c', Size: 9999 },
            { Key: 'multi-a', VersionId: a.VersionId, Size: 1 },
          ],
        },
      }),
    );
    assert.equal(first.Deleted, undefined);
    assert.deepEqual(
      (first.Errors ?? []).map((e) => [e.Key, e.Code, e.VersionId]).sort(),
      [
        ['multi-a', 'PreconditionFailed', undefined],
        ['multi-a', 'PreconditionFailed', a.VersionId],
        ['multi-b', 'PreconditionFailed', undefined],
        ['multi-c', 'PreconditionFailed', undefined],
      ].sort(),
    );
    const second = await srv.s3.send(
      new DeleteObjectsCommand({
        Bucket: versioned,
        Delete: {
          Objects: [
            { Key: 'multi-a', ETag: a.ETag },
            { Key: 'multi-b', VersionId: b.VersionId, ETag: b.ETag, LastModifiedTime: bHead.LastModified, Size: 2 },
            { Key: 'multi-c', Size: 1 },
            { Key: 'multi-missing', ETag: a.ETag },
            { Key: 'multi-missing', Size: 3 },
          ],
        },
      }),
    );
    const deleted = new Map((second.Deleted ?? []).map((d) => [d.Key! + (d.VersionId ?? ''), d]));
    assert.equal(deleted.get('multi-a')?.DeleteMarker, true);
    assert.equal(deleted.get('multi-c')?.DeleteMarker, true);
    assert.ok(deleted.has('multi-b' + b.VersionId));
    assert.equal(deleted.get('multi-b' + b.VersionId)?.DeleteMarker, undefined);
    assert.ok(deleted.has('multi-missing'));
    assert.deepEqual((second.Errors ?? []).map((e) => [e.Key, e.Code]), [['multi-missing', 'NoSuchKey']]);
    assert.deepEqual(await versions(versioned, 'multi-b'), { objects: 0, markers: 0 });
    assert.deepEqual(await versions(versioned, 'multi-missing'), { objects: 0, markers: 0 });
  });

  it('of many conditional deletes racing for one version, exactly one wins', async () => {
    const p = await put(versioned, 'race');
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => srv.s3.send(new DeleteObjectCommand({ Bucket: versioned, Key: 'race', IfMatch: p.ETag }))));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as { name: string }).name, 'NoSuchKey');
    assert.deepEqual(await versions(versioned, 'race'), { objects: 1, markers: 1 });
  });
});
