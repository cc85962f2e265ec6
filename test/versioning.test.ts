// Versioning, tagging and object lock through the real SDK.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketTaggingCommand,
  DeleteObjectCommand,
  DeleteObjectTaggingCommand,
  DeleteObjectsCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectLockConfigurationCommand,
  PutObjectRetentionCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { bodyBytes, s3error, startServer, uniqueBucket, type TestServer } from './helpers.js';

describe('versioning', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startServer();
  });
  after(async () => srv.stop());

  async function newBucket(state?: 'Enabled' | 'Suspended'): Promise<string> {
    const b = uniqueBucket('v');
    await srv.s3.send(new CreateBucketCommand({ Bucket: b }));
    if (state) await srv.s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: state } }));
    return b;
  }
  const text = async (p: Promise<{ Body?: unknown }>) => (await bodyBytes((await p).Body)).toString();

  it('reports the versioning state, and never goes back to unversioned', async () => {
    const b = await newBucket();
    assert.equal((await srv.s3.send(new GetBucketVersioningCommand({ Bucket: b }))).Status, undefined);
    await srv.s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled', MFADelete: 'Disabled' } }));
    assert.equal((await srv.s3.send(new GetBucketVersioningCommand({ Bucket: b }))).Status, 'Enabled');
    await srv.s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Suspended' } }));
    assert.equal((await srv.s3.send(new GetBucketVersioningCommand({ Bucket: b }))).Status, 'Suspended');
  });

  it('keeps every version, reads and deletes by version id, and writes delete markers', async () => {
    const b = await newBucket();
    await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'before' }));
    await srv.s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'one' }));
    const v2 = await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'two' }));
    assert.ok(v1.VersionId && v2.VersionId && v1.VersionId !== v2.VersionId);
    assert.equal(await text(srv.s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' }))), 'two');
    assert.equal(await text(srv.s3.send(new GetObjectCommand({ Bucket: b, Key: 'k', VersionId: v1.VersionId }))), 'one');
    assert.equal(await text(srv.s3.send(new GetObjectCommand({ Bucket: b, Key: 'k', VersionId: 'null' }))), 'before');
    const head = await srv.s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k', VersionId: v1.VersionId }));
    assert.equal(head.VersionId, v1.VersionId);

    const del = await srv.s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }));
    assert.equal(del.DeleteMarker, true);
    assert.ok(del.VersionId);
    const gone = await s3error(srv.s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' })));
    assert.equal(gone.$metadata.httpStatusCode, 404);
    const onMarker = await s3error(srv.s3.send(new GetObjectCommand({ Bucket: b, Key: 'k', VersionId: del.VersionId })));
    assert.equal(onMarker.$metadata.httpStatusCode, 405);
    assert.deepEqual((await srv.s3.send(new ListObjectsV2Command({ Bucket: b }))).Contents, undefined);

    const versions = await srv.s3.send(new ListObjectVersionsCommand({ Bucket: b }));
    assert.deepEqual(
      versions.Versions?.map((v) => [v.VersionId, v.IsLatest]),
      [
        [v2.VersionId, false],
        [v1.VersionId, false],
        ['null', false],
      ],
    );
    assert.deepEqual(versions.DeleteMarkers?.map((m) => [m.VersionId, m.IsLatest]), [[del.VersionId, true]]);

    // Deleting the marker restores v2; deleting v2 (now latest) promotes v1.
    const rm = await srv.s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: del.VersionId }));
    assert.equal(rm.DeleteMarker, true);
    assert.equal(await text(srv.s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' }))), 'two');
    await srv.s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: v2.VersionId }));
    assert.equal(await text(srv.s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' }))), 'one');
  });

  it('overwrites only the null version in a suspended bucket', async () => {
    const b = await newBucket('Enabled');
    const v1 = await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'v1' }));
    await srv.s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Suspended' } }));
    const n1 = await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'null-1' }));
    assert.equal(n1.VersionId, undefined, 'null versions are not announced');
    await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'null-2' }));
    let versions = await srv.s3.send(new ListObjectVersionsCommand({ Bucket: b }));
    assert.deepEqual(versions.Versions?.map((v) => [v.VersionId, v.IsLatest]), [
      ['null', true],
      [v1.VersionId, false],
    ]);
    assert.equal(await text(srv.s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' }))), 'null-2');
    // A delete in a suspended bucket replaces the null version with a null delete marker.
    const del = await srv.s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }));
    assert.equal(del.DeleteMarker, true);
    assert.equal(del.VersionId, 'null');
    versions = await srv.s3.send(new ListObjectVersionsCommand({ Bucket: b }));
    assert.deepEqual(versions.Versions?.map((v) => v.VersionId), [v1.VersionId]);
    assert.deepEqual(versions.DeleteMarkers?.map((m) => [m.VersionId, m.IsLatest]), [['null', true]]);
    // Re-enabling keeps the null marker as history.
    await srv.s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    const v3 = await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'v3' }));
    versions = await srv.s3.send(new ListObjectVersionsCommand({ Bucket: b }));
    assert.deepEqual([...(versions.Versions ?? []), ...(versions.DeleteMarkers ?? [])].length, 3);
    assert.equal(versions.Versions?.[0]?.VersionId, v3.VersionId);
  });

  it('lists versions by key ascending and newest first, across pages, with prefixes', async () => {
    const b = await newBucket('Enabled');
    const ids: Record<string, string[]> = {};
    for (const key of ['a', 'b/1', 'b/2', 'c']) {
      ids[key] = [];
      for (let i = 0; i < 3; i++) ids[key]!.unshift((await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: key, Body: `${key}${i}` }))).VersionId!);
    }
    const seen: string[] = [];
    let km: string | undefined;
    let vm: string | undefined;
    for (;;) {
      const r = await srv.s3.send(new ListObjectVersionsCommand({ Bucket: b, MaxKeys: 2, ...(km ? { KeyMarker: km } : {}), ...(vm ? { VersionIdMarker: vm } : {}) }));
      seen.push(...(r.Versions ?? []).map((v) => `${v.Key}@${v.VersionId}`));
      if (!r.IsTruncated) break;
      km = r.NextKeyMarker;
      vm = r.NextVersionIdMarker;
    }
    assert.deepEqual(seen, ['a', 'b/1', 'b/2', 'c'].flatMap((k) => ids[k]!.map((id) => `${k}@${id}`)));
    const folded = await srv.s3.send(new ListObjectVersionsCommand({ Bucket: b, Delimiter: '/' }));
    assert.deepEqual(folded.CommonPrefixes?.map((p) => p.Prefix), ['b/']);
    assert.equal(folded.Versions?.length, 6);
  });

  it('keeps listing correctly when the version-id marker was deleted (list, delete, list)', async () => {
    const b = await newBucket('Enabled');
    for (let i = 0; i < 5; i++) await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: `${i}` }));
    await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'z', Body: 'z' }));
    let km: string | undefined;
    let vm: string | undefined;
    let deleted = 0;
    for (;;) {
      const r = await srv.s3.send(new ListObjectVersionsCommand({ Bucket: b, MaxKeys: 2, ...(km ? { KeyMarker: km, VersionIdMarker: vm } : {}) }));
      const page = r.Versions ?? [];
      if (page.length) {
        await srv.s3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: page.map((v) => ({ Key: v.Key!, VersionId: v.VersionId! })) } }));
        deleted += page.length;
      }
      if (!r.IsTruncated) break;
      km = r.NextKeyMarker;
      vm = r.NextVersionIdMarker;
    }
    assert.equal(deleted, 6);
    assert.equal((await srv.s3.send(new ListObjectVersionsCommand({ Bucket: b }))).Versions, undefined);
  });

  it('deletes versions in batches, and multipart uploads and copies create versions', async () => {
    const b = await newBucket('Enabled');
    const v1 = await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'one' }));
    const copy = await srv.s3.send(new CopyObjectCommand({ Bucket: b, Key: 'k', CopySource: `${b}/k?versionId=${v1.VersionId}`, MetadataDirective: 'REPLACE' }));
    assert.ok(copy.VersionId && copy.VersionId !== v1.VersionId);
    assert.equal(copy.CopySourceVersionId, v1.VersionId);
    const up = await srv.s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'k' }));
    const part = await srv.s3.send(new UploadPartCommand({ Bucket: b, Key: 'k', UploadId: up.UploadId, PartNumber: 1, Body: 'mp' }));
    const done = await srv.s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'k', UploadId: up.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
    assert.ok(done.VersionId);
    const res = await srv.s3.send(
      new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'k', VersionId: v1.VersionId }, { Key: 'k', VersionId: copy.VersionId }, { Key: 'other' }] } }),
    );
    assert.equal(res.Deleted?.length, 3);
    const marker = res.Deleted?.find((d) => d.Key === 'other');
    assert.equal(marker?.DeleteMarker, true);
    assert.ok(marker?.DeleteMarkerVersionId);
    const left = await srv.s3.send(new ListObjectVersionsCommand({ Bucket: b, Prefix: 'k' }));
    assert.deepEqual(left.Versions?.map((v) => v.VersionId), [done.VersionId]);
  });

  it('keeps exactly one latest version under concurrent writers, losing none', async () => {
    const b = await newBucket('Enabled');
    const writes = await Promise.all(Array.from({ length: 40 }, (_, i) => srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'hot', Body: `w${i}` }))));
    const ids = new Set(writes.map((w) => w.VersionId));
    assert.equal(ids.size, 40);
    const all = [];
    let km: string | undefined;
    let vm: string | undefined;
    for (;;) {
      const r = await srv.s3.send(new ListObjectVersionsCommand({ Bucket: b, MaxKeys: 7, ...(km ? { KeyMarker: km, VersionIdMarker: vm } : {}) }));
      all.push(...(r.Versions ?? []));
      if (!r.IsTruncated) break;
      km = r.NextKeyMarker;
      vm = r.NextVersionIdMarker;
    }
    assert.equal(all.length, 40);
    assert.deepEqual(new Set(all.map((v) => v.VersionId)), ids);
    assert.equal(all.filter((v) => v.IsLatest).length, 1);
    const latest = all.find((v) => v.IsLatest)!;
    const head = await srv.s3.send(new HeadObjectCommand({ Bucket: b, Key: 'hot' }));
    assert.equal(head.VersionId, latest.VersionId);
  });
});

describe('tagging', () => {
  let srv: TestServer;
  let b: string;
  before(async () => {
    srv = await startServer();
    b = uniqueBucket('t');
    await srv.s3.send(new CreateBucketCommand({ Bucket: b }));
  });
  after(async () => srv.stop());

  it('sets tags on PutObject, returns them sorted, counts them on HEAD, and replaces/deletes them', async () => {
    await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x', Tagging: 'foo=bar&bar=&sp%20ace=v%2Bw' }));
    const tags = await srv.s3.send(new GetObjectTaggingCommand({ Bucket: b, Key: 'k' }));
    assert.deepEqual(tags.TagSet, [
      { Key: 'bar', Value: '' },
      { Key: 'foo', Value: 'bar' },
      { Key: 'sp ace', Value: 'v+w' },
    ]);
    assert.equal((await srv.s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k' }))).TagCount, 3);
    await srv.s3.send(new PutObjectTaggingCommand({ Bucket: b, Key: 'k', Tagging: { TagSet: [{ Key: 'one', Value: '1' }] } }));
    assert.deepEqual((await srv.s3.send(new GetObjectTaggingCommand({ Bucket: b, Key: 'k' }))).TagSet, [{ Key: 'one', Value: '1' }]);
    await srv.s3.send(new DeleteObjectTaggingCommand({ Bucket: b, Key: 'k' }));
    assert.deepEqual((await srv.s3.send(new GetObjectTaggingCommand({ Bucket: b, Key: 'k' }))).TagSet ?? [], []);
  });

  it('enforces S3 tag limits, keeping the old tags', async () => {
    await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'lim', Body: 'x', Tagging: 'keep=me' }));
    const eleven = Array.from({ length: 11 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    for (const TagSet of [eleven, [{ Key: 'k'.repeat(129), Value: 'v' }], [{ Key: 'k', Value: 'v'.repeat(257) }], [{ Key: 'd', Value: '1' }, { Key: 'd', Value: '2' }]]) {
      const e = await s3error(srv.s3.send(new PutObjectTaggingCommand({ Bucket: b, Key: 'lim', Tagging: { TagSet } })));
      assert.equal(e.name, 'InvalidTag');
    }
    assert.deepEqual((await srv.s3.send(new GetObjectTaggingCommand({ Bucket: b, Key: 'lim' }))).TagSet, [{ Key: 'keep', Value: 'me' }]);
    const onPut = await s3error(srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'lim2', Body: 'x', Tagging: eleven.map((t) => `${t.Key}=${t.Value}`).join('&') })));
    assert.equal(onPut.name, 'InvalidTag');
  });

  it('tags versions separately, and copies tags by directive', async () => {
    const vb = uniqueBucket('tv');
    await srv.s3.send(new CreateBucketCommand({ Bucket: vb }));
    await srv.s3.send(new PutBucketVersioningCommand({ Bucket: vb, VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = await srv.s3.send(new PutObjectCommand({ Bucket: vb, Key: 'k', Body: '1', Tagging: 'v=1' }));
    await srv.s3.send(new PutObjectCommand({ Bucket: vb, Key: 'k', Body: '2', Tagging: 'v=2' }));
    await srv.s3.send(new PutObjectTaggingCommand({ Bucket: vb, Key: 'k', VersionId: v1.VersionId, Tagging: { TagSet: [{ Key: 'v', Value: 'one' }] } }));
    assert.deepEqual((await srv.s3.send(new GetObjectTaggingCommand({ Bucket: vb, Key: 'k', VersionId: v1.VersionId }))).TagSet, [{ Key: 'v', Value: 'one' }]);
    assert.deepEqual((await srv.s3.send(new GetObjectTaggingCommand({ Bucket: vb, Key: 'k' }))).TagSet, [{ Key: 'v', Value: '2' }]);
    await srv.s3.send(new CopyObjectCommand({ Bucket: b, Key: 'copied', CopySource: `${vb}/k` }));
    assert.deepEqual((await srv.s3.send(new GetObjectTaggingCommand({ Bucket: b, Key: 'copied' }))).TagSet, [{ Key: 'v', Value: '2' }]);
    await srv.s3.send(new CopyObjectCommand({ Bucket: b, Key: 'replaced', CopySource: `${vb}/k`, TaggingDirective: 'REPLACE', Tagging: 'new=tag' }));
    assert.deepEqual((await srv.s3.send(new GetObjectTaggingCommand({ Bucket: b, Key: 'replaced' }))).TagSet, [{ Key: 'new', Value: 'tag' }]);
    const up = await srv.s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp', Tagging: 'mp=yes' }));
    const part = await srv.s3.send(new UploadPartCommand({ Bucket: b, Key: 'mp', UploadId: up.UploadId, PartNumber: 1, Body: 'x' }));
    await srv.s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'mp', UploadId: up.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
    assert.deepEqual((await srv.s3.send(new GetObjectTaggingCommand({ Bucket: b, Key: 'mp' }))).TagSet, [{ Key: 'mp', Value: 'yes' }]);
  });

  it('puts, gets and deletes bucket tags (up to 50)', async () => {
    assert.equal((await s3error(srv.s3.send(new GetBucketTaggingCommand({ Bucket: b })))).name, 'NoSuchTagSet');
    await srv.s3.send(new PutBucketTaggingCommand({ Bucket: b, Tagging: { TagSet: [{ Key: 'team', Value: 'storage' }] } }));
    assert.deepEqual((await srv.s3.send(new GetBucketTaggingCommand({ Bucket: b }))).TagSet, [{ Key: 'team', Value: 'storage' }]);
    const many = Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    assert.equal((await s3error(srv.s3.send(new PutBucketTaggingCommand({ Bucket: b, Tagging: { TagSet: many } })))).name, 'InvalidTag');
    await srv.s3.send(new PutBucketTaggingCommand({ Bucket: b, Tagging: { TagSet: many.slice(0, 50) } }));
    await srv.s3.send(new DeleteBucketTaggingCommand({ Bucket: b }));
    assert.equal((await s3error(srv.s3.send(new GetBucketTaggingCommand({ Bucket: b })))).name, 'NoSuchTagSet');
  });
});

describe('object lock', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startServer();
  });
  after(async () => srv.stop());

  async function lockBucket(): Promise<string> {
    const b = uniqueBucket('lock');
    await srv.s3.send(new CreateBucketCommand({ Bucket: b, ObjectLockEnabledForBucket: true }));
    return b;
  }
  const future = (days: number) => new Date(Date.now() + days * 86400_000);

  it('enables versioning with the lock, forbids suspending it, and stores the default retention', async () => {
    const b = await lockBucket();
    assert.equal((await srv.s3.send(new GetBucketVersioningCommand({ Bucket: b }))).Status, 'Enabled');
    const e = await s3error(srv.s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Suspended' } })));
    assert.equal(e.name, 'InvalidBucketState');
    assert.equal(e.$metadata.httpStatusCode, 409);
    const conf = { ObjectLockEnabled: 'Enabled' as const, Rule: { DefaultRetention: { Mode: 'GOVERNANCE' as const, Days: 1 } } };
    await srv.s3.send(new PutObjectLockConfigurationCommand({ Bucket: b, ObjectLockConfiguration: conf }));
    assert.deepEqual((await srv.s3.send(new GetObjectLockConfigurationCommand({ Bucket: b }))).ObjectLockConfiguration, conf);
    const put = await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'defaulted', Body: 'x' }));
    const r = await srv.s3.send(new GetObjectRetentionCommand({ Bucket: b, Key: 'defaulted', VersionId: put.VersionId }));
    assert.equal(r.Retention?.Mode, 'GOVERNANCE');
    assert.ok(Math.abs(r.Retention!.RetainUntilDate!.getTime() - future(1).getTime()) < 60_000);
    for (const bad of [
      { ObjectLockEnabled: 'Enabled' as const, Rule: { DefaultRetention: { Mode: 'GOVERNANCE' as const, Days: 0 } } },
      { ObjectLockEnabled: 'Enabled' as const, Rule: { DefaultRetention: { Mode: 'GOVERNANCE' as const, Days: 1, Years: 1 } } },
    ]) {
      const err = await s3error(srv.s3.send(new PutObjectLockConfigurationCommand({ Bucket: b, ObjectLockConfiguration: bad })));
      assert.ok(['InvalidRetentionPeriod', 'MalformedXML'].includes(err.name), err.name);
    }
  });

  it('refuses lock operations on buckets without object lock', async () => {
    const b = uniqueBucket('nolock');
    await srv.s3.send(new CreateBucketCommand({ Bucket: b }));
    await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x' }));
    assert.equal((await s3error(srv.s3.send(new GetObjectLockConfigurationCommand({ Bucket: b })))).name, 'ObjectLockConfigurationNotFoundError');
    assert.equal((await s3error(srv.s3.send(new PutObjectRetentionCommand({ Bucket: b, Key: 'k', Retention: { Mode: 'GOVERNANCE', RetainUntilDate: future(1) } })))).name, 'InvalidRequest');
    assert.equal((await s3error(srv.s3.send(new PutObjectLegalHoldCommand({ Bucket: b, Key: 'k', LegalHold: { Status: 'ON' } })))).name, 'InvalidRequest');
    const e = await s3error(srv.s3.send(new PutObjectLockConfigurationCommand({ Bucket: b, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled' } })));
    assert.equal(e.name, 'InvalidBucketState');
    // Once versioning is enabled, object lock can be turned on for an existing bucket.
    await srv.s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    await srv.s3.send(new PutObjectLockConfigurationCommand({ Bucket: b, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled' } }));
    assert.equal((await srv.s3.send(new GetObjectLockConfigurationCommand({ Bucket: b }))).ObjectLockConfiguration?.ObjectLockEnabled, 'Enabled');
  });

  it('protects GOVERNANCE versions unless bypassed, and COMPLIANCE versions always', async () => {
    const b = await lockBucket();
    const gov = await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'gov', Body: 'g', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: future(2) }));
    const comp = await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'comp', Body: 'c', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: future(2) }));
    const head = await srv.s3.send(new HeadObjectCommand({ Bucket: b, Key: 'gov' }));
    assert.equal(head.ObjectLockMode, 'GOVERNANCE');
    assert.ok(head.ObjectLockRetainUntilDate instanceof Date);

    // A delete without version id just adds a marker; deleting the version itself is refused.
    const marker = await srv.s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'gov' }));
    assert.equal(marker.DeleteMarker, true);
    assert.equal((await s3error(srv.s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'gov', VersionId: gov.VersionId })))).name, 'AccessDenied');
    assert.equal((await s3error(srv.s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'comp', VersionId: comp.VersionId, BypassGovernanceRetention: true })))).name, 'AccessDenied');
    // Governance: shortening needs the bypass; extending does not.
    assert.equal(
      (await s3error(srv.s3.send(new PutObjectRetentionCommand({ Bucket: b, Key: 'gov', VersionId: gov.VersionId, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: future(1) } })))).name,
      'AccessDenied',
    );
    await srv.s3.send(new PutObjectRetentionCommand({ Bucket: b, Key: 'gov', VersionId: gov.VersionId, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: future(3) } }));
    await srv.s3.send(new PutObjectRetentionCommand({ Bucket: b, Key: 'gov', VersionId: gov.VersionId, BypassGovernanceRetention: true, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: future(1) } }));
    // Compliance: never shortened, never relaxed to governance.
    for (const r of [
      { Mode: 'COMPLIANCE' as const, RetainUntilDate: future(1) },
      { Mode: 'GOVERNANCE' as const, RetainUntilDate: future(5) },
    ]) {
      const e = await s3error(srv.s3.send(new PutObjectRetentionCommand({ Bucket: b, Key: 'comp', VersionId: comp.VersionId, BypassGovernanceRetention: true, Retention: r })));
      assert.equal(e.name, 'AccessDenied');
    }
    // With the bypass, a governance version can be deleted.
    await srv.s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'gov', VersionId: gov.VersionId, BypassGovernanceRetention: true }));
    // DeleteObjects reports locked versions as per-key AccessDenied errors.
    const res = await srv.s3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'comp', VersionId: comp.VersionId }] } }));
    assert.equal(res.Errors?.[0]?.Code, 'AccessDenied');
  });

  it('blocks deletion under legal hold until it is released', async () => {
    const b = await lockBucket();
    const put = await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'held', Body: 'h', ObjectLockLegalHoldStatus: 'ON' }));
    assert.equal((await srv.s3.send(new GetObjectLegalHoldCommand({ Bucket: b, Key: 'held' }))).LegalHold?.Status, 'ON');
    assert.equal((await s3error(srv.s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'held', VersionId: put.VersionId, BypassGovernanceRetention: true })))).name, 'AccessDenied');
    await srv.s3.send(new PutObjectLegalHoldCommand({ Bucket: b, Key: 'held', VersionId: put.VersionId, LegalHold: { Status: 'OFF' } }));
    await srv.s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'held', VersionId: put.VersionId }));
  });

  it('validates lock headers on writes', async () => {
    const b = await lockBucket();
    const half = await s3error(srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'x', Body: 'x', ObjectLockMode: 'GOVERNANCE' })));
    assert.equal(half.name, 'InvalidArgument');
    const past = await s3error(srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'x', Body: 'x', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: new Date(Date.now() - 1000) })));
    assert.equal(past.name, 'InvalidArgument');
    const plain = uniqueBucket('plain');
    await srv.s3.send(new CreateBucketCommand({ Bucket: plain }));
    const noLock = await s3error(srv.s3.send(new PutObjectCommand({ Bucket: plain, Key: 'x', Body: 'x', ObjectLockLegalHoldStatus: 'ON' })));
    assert.equal(noLock.name, 'InvalidRequest');
  });
});
