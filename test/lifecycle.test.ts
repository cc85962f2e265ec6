// Lifecycle with the real SDK: Put/Get/DeleteBucketLifecycleConfiguration and their validation,
// x-amz-expiration on PUT/GET/HEAD/Complete, and every rule kind applied by the passes with a
// one-second day (--lifecycle-day-seconds 1), on versioned and unversioned buckets; a pass that
// resumes at its saved position. Runs on both stores (scripts/test.sh).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketLifecycleCommand,
  DeleteObjectCommand,
  GetBucketLifecycleConfigurationCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectRetentionCommand,
  UploadPartCommand,
  type LifecycleRule,
} from '@aws-sdk/client-s3';
import { pino } from 'pino';
import { Engine } from '../src/engine/runner.js';
import { Lifecycle, SCAN_KIND } from '../src/lifecycle/service.js';
import { parseLifecycle, serializeLifecycle } from '../src/s3/bucket/config/lifecycle.js';
import { parseXmlBody } from '../src/s3/xml.js';
import { DAY_MS } from '../src/lifecycle/rules.js';
import { errorCode, raw, s3error, startServer, uniqueBucket, type TestServer } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('lifecycle configuration', () => {
  let srv: TestServer;
  const bucket = uniqueBucket('lc');

  before(async () => {
    srv = await startServer();
    await srv.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  after(() => srv.stop());

  const put = (Rules: LifecycleRule[], extra: Record<string, unknown> = {}) =>
    srv.s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: { Rules }, ...extra }));

  it('stores, answers as given (legacy Prefix and Filter forms) and deletes', async () => {
    const e = await s3error(srv.s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket })));
    assert.equal(e.name, 'NoSuchLifecycleConfiguration');
    assert.equal(e.$metadata.httpStatusCode, 404);
    const rules: LifecycleRule[] = [
      { ID: 'legacy', Prefix: 'logs/', Status: 'Enabled', Expiration: { Days: 31 } },
      { ID: 'and', Filter: { And: { Prefix: 'tmp/', Tags: [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }], ObjectSizeGreaterThan: 10, ObjectSizeLessThan: 1000 } }, Status: 'Disabled', Expiration: { Date: new Date('2030-01-01T00:00:00Z') } },
      {
        ID: 'versions',
        Filter: { Prefix: 'v/' },
        Status: 'Enabled',
        NoncurrentVersionExpiration: { NoncurrentDays: 30, NewerNoncurrentVersions: 3 },
        NoncurrentVersionTransitions: [{ NoncurrentDays: 10, StorageClass: 'GLACIER' }],
        Transitions: [{ Days: 40, StorageClass: 'STANDARD_IA' }, { Days: 90, StorageClass: 'DEEP_ARCHIVE' }],
      },
      { ID: 'markers', Filter: {}, Status: 'Enabled', Expiration: { ExpiredObjectDeleteMarker: true }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } },
      { ID: 'tag', Filter: { Tag: { Key: 'k', Value: 'v' } }, Status: 'Enabled', Expiration: { Days: 1 } },
      { ID: 'size', Filter: { ObjectSizeGreaterThan: 2000 }, Status: 'Enabled', Expiration: { Days: 2 } },
    ];
    const res = await put(rules);
    assert.equal(res.TransitionDefaultMinimumObjectSize, 'all_storage_classes_128K');
    const got = await srv.s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
    assert.equal(got.TransitionDefaultMinimumObjectSize, 'all_storage_classes_128K');
    assert.deepEqual(got.Rules, rules);
    await srv.s3.send(new DeleteBucketLifecycleCommand({ Bucket: bucket }));
    await s3error(srv.s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket })));
    // Deleting what is not there: 204 all the same.
    await srv.s3.send(new DeleteBucketLifecycleCommand({ Bucket: bucket }));
  });

  it('generates a missing ID; keeps x-amz-transition-default-minimum-object-size', async () => {
    await put([{ Prefix: 'a/', Status: 'Enabled', Expiration: { Days: 1 } }], { TransitionDefaultMinimumObjectSize: 'varies_by_storage_class' });
    const got = await srv.s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
    assert.ok(got.Rules![0]!.ID && got.Rules![0]!.ID.length > 0);
    assert.equal(got.TransitionDefaultMinimumObjectSize, 'varies_by_storage_class');
  });

  it('refuses what S3 refuses, with its codes', async () => {
    const refused = async (rules: LifecycleRule[], code: string) => {
      const e = await s3error(put(rules));
      assert.equal(e.name, code, JSON.stringify(rules));
      assert.equal(e.$metadata.httpStatusCode, 400);
    };
    await refused([{ ID: 'a'.repeat(256), Prefix: '', Status: 'Enabled', Expiration: { Days: 1 } }], 'InvalidArgument');
    await refused([{ ID: 'x', Prefix: 'a', Status: 'Enabled', Expiration: { Days: 1 } }, { ID: 'x', Prefix: 'b', Status: 'Enabled', Expiration: { Days: 2 } }], 'InvalidArgument');
    await refused([{ ID: 'x', Prefix: '', Status: 'enabled' as 'Enabled', Expiration: { Days: 1 } }], 'MalformedXML');
    await refused([{ ID: 'x', Prefix: '', Status: 'Enabled', Expiration: { Days: 0 } }], 'InvalidArgument');
    await refused([{ ID: 'x', Prefix: '', Status: 'Enabled' }], 'InvalidRequest');
    await refused([{ ID: 'x', Prefix: '', Filter: { Prefix: '' }, Status: 'Enabled', Expiration: { Days: 1 } }], 'MalformedXML');
    await refused([{ ID: 'x', Prefix: '', Status: 'Enabled', Transitions: [{ Days: 1, StorageClass: 'NOPE' as 'GLACIER' }] }], 'InvalidStorageClass');
    await refused([{ ID: 'x', Prefix: '', Status: 'Enabled', Transitions: [{ Days: 10, StorageClass: 'STANDARD_IA' }] }], 'InvalidArgument');
    await refused([{ ID: 'x', Prefix: '', Status: 'Enabled', Expiration: { Days: 5 }, Transitions: [{ Days: 10, StorageClass: 'GLACIER' }] }], 'InvalidArgument');
    await refused([{ ID: 'x', Prefix: '', Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 0 } }], 'InvalidArgument');
    await refused([{ ID: 'x', Prefix: '', Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 1, NewerNoncurrentVersions: 101 } }], 'InvalidArgument');
    await refused([{ ID: 'x', Filter: { Tag: { Key: 'k', Value: 'v' } }, Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }], 'InvalidArgument');
    await refused([{ ID: 'x', Prefix: '', Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 0 } }], 'InvalidArgument');
    // Raw documents the SDK would not send.
    const doc = (rule: string) => `<LifecycleConfiguration><Rule>${rule}</Rule></LifecycleConfiguration>`;
    const rawPut = (body: string, headers: Record<string, string> = {}) => raw(srv, { method: 'PUT', path: `/${bucket}`, query: { lifecycle: '' }, body, headers });
    for (const [rule, code] of [
      ['<ID>x</ID><Prefix/><Status>Enabled</Status><Expiration><Date>2030-01-01T10:00:00Z</Date></Expiration>', 'InvalidArgument'],
      ['<ID>x</ID><Prefix/><Status>Enabled</Status><Expiration><Date>20300101</Date></Expiration>', 'InvalidArgument'],
      ['<ID>x</ID><Prefix/><Status>Enabled</Status><Expiration><Days>1</Days><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>', 'MalformedXML'],
      ['<ID>x</ID><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>', 'MalformedXML'],
      ['<ID>x</ID><Filter><Prefix>a</Prefix><And><Prefix>b</Prefix></And></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>', 'MalformedXML'],
      ['<ID>x</ID><Filter><Prefix>a</Prefix><Prefix>b</Prefix></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>', 'MalformedXML'],
      ['<ID>x</ID><Filter><Prefix>a</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>', 'InvalidArgument'],
      ['<ID>x</ID><Prefix/><Status>Enabled</Status><Expiration><Days>one</Days></Expiration>', 'MalformedXML'],
      ['<ID>x</ID><Prefix/><Status>Enabled</Status><Bogus/><Expiration><Days>1</Days></Expiration>', 'MalformedXML'],
    ] as const) {
      const r = await rawPut(doc(rule));
      assert.equal(r.status, 400, rule);
      assert.equal(errorCode(r.text), code, rule);
    }
    const ok = await rawPut(doc('<ID>x</ID><Prefix/><Status>Enabled</Status><Expiration><Date>2030-01-01T00:00:00.000Z</Date></Expiration>'));
    assert.equal(ok.status, 200, ok.text);
    // S3 refuses Prefix and Tag side by side in a Filter (MalformedXML); Ceph RGW takes them as an
    // And, and so do we (a superset no AWS client notices). GET answers them as they were given.
    const siblings = await rawPut(doc('<ID>x</ID><Filter><Prefix>a/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>'));
    assert.equal(siblings.status, 200, siblings.text);
    const got = await srv.s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
    assert.deepEqual(got.Rules![0]!.Filter, { Prefix: 'a/', Tag: { Key: 'k', Value: 'v' } });
    const beside = await rawPut(doc('<ID>x</ID><Filter><Prefix>a/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag><And><Prefix>a</Prefix><Tag><Key>j</Key><Value>w</Value></Tag></And></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>'));
    assert.equal(beside.status, 200, beside.text);
    const got2 = await srv.s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
    assert.deepEqual(got2.Rules![0]!.Filter, { Prefix: 'a/', Tag: { Key: 'k', Value: 'v' }, And: { Prefix: 'a', Tags: [{ Key: 'j', Value: 'w' }] } });
    const badHeader = await rawPut(doc('<ID>x</ID><Prefix/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>'), { 'x-amz-transition-default-minimum-object-size': 'tiny' });
    assert.equal(badHeader.status, 400);
    assert.equal((await rawPut('')).status, 400);
  });

  it('answers x-amz-expiration on PUT, GET, HEAD and Complete: midnight UTC after lastModified + Days, and the rule', async () => {
    await put([
      { ID: 'soon', Filter: { Prefix: 'e/' }, Status: 'Enabled', Expiration: { Days: 1 } },
      { ID: 'later', Filter: { Prefix: 'e/' }, Status: 'Enabled', Expiration: { Days: 10 } },
      { ID: 'tagged', Filter: { And: { Prefix: 't/', Tags: [{ Key: 'k', Value: 'v' }] } }, Status: 'Enabled', Expiration: { Days: 3 } },
      { ID: 'off', Filter: { Prefix: 'off/' }, Status: 'Disabled', Expiration: { Days: 1 } },
    ]);
    const parse = (h: string | undefined) => {
      const m = /^expiry-date="([^"]+)", rule-id="([^"]+)"$/.exec(h ?? '');
      assert.ok(m, `x-amz-expiration: ${h}`);
      return { at: Date.parse(m[1]!), rule: m[2]! };
    };
    const p = await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'e/x', Body: 'x' }));
    const h = await srv.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'e/x' }));
    const expected = Math.ceil((h.LastModified!.getTime() + DAY_MS) / DAY_MS) * DAY_MS;
    assert.deepEqual(parse(p.Expiration), { at: expected, rule: 'soon' });
    assert.deepEqual(parse(h.Expiration), { at: expected, rule: 'soon' });
    const g = await srv.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'e/x' }));
    assert.deepEqual(parse(g.Expiration), { at: expected, rule: 'soon' });
    await g.Body!.transformToByteArray();
    assert.equal((await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'off/x', Body: 'x' }))).Expiration, undefined);
    assert.equal((await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 't/x', Body: 'x' }))).Expiration, undefined, 'untagged');
    const tagged = await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 't/y', Body: 'x', Tagging: 'k=v&z=1' }));
    assert.equal(parse(tagged.Expiration).rule, 'tagged');
    const up = await srv.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'e/mp' }));
    const part = await srv.s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'e/mp', UploadId: up.UploadId, PartNumber: 1, Body: 'abc' }));
    const done = await srv.s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'e/mp', UploadId: up.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag! }] } }));
    assert.equal(parse(done.Expiration).rule, 'soon');
    await srv.s3.send(new DeleteBucketLifecycleCommand({ Bucket: bucket }));
  });
});

describe('lifecycle passes (one-second days)', () => {
  let srv: TestServer;
  const day = 1000;

  before(async () => {
    srv = await startServer({ lifecycleDayMs: day });
  });
  after(() => srv.stop());

  const keys = async (b: string) => ((await srv.s3.send(new ListObjectsV2Command({ Bucket: b }))).Contents ?? []).map((o) => o.Key!).sort();
  const versions = async (b: string) => {
    const r = await srv.s3.send(new ListObjectVersionsCommand({ Bucket: b }));
    return { versions: (r.Versions ?? []).map((v) => `${v.Key}@${v.IsLatest ? 'latest' : 'old'}`), markers: (r.DeleteMarkers ?? []).map((m) => m.Key!) };
  };
  const newBucket = async (versioned: boolean, lock = false) => {
    const b = uniqueBucket('lcp');
    await srv.s3.send(new CreateBucketCommand({ Bucket: b, ...(lock ? { ObjectLockEnabledForBucket: true } : {}) }));
    if (versioned && !lock) await srv.s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    return b;
  };
  const lifecycle = (b: string, Rules: LifecycleRule[]) => srv.s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: b, LifecycleConfiguration: { Rules } }));

  it('unversioned: expires what the prefix, size and tag filters select, after Days; keeps the rest', async () => {
    const b = await newBucket(false);
    for (const k of ['expire/a', 'expire/b', 'keep/a']) await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: k, Body: 'x' }));
    await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'big/a', Body: Buffer.alloc(3000) }));
    await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'big/small', Body: Buffer.alloc(100) }));
    await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'tag/a', Body: 'x', Tagging: 'gone=yes' }));
    await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'tag/b', Body: 'x', Tagging: 'gone=no' }));
    await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'late/a', Body: 'x' }));
    await lifecycle(b, [
      { ID: 'prefix', Filter: { Prefix: 'expire/' }, Status: 'Enabled', Expiration: { Days: 1 } },
      { ID: 'size', Filter: { And: { Prefix: 'big/', ObjectSizeGreaterThan: 2000 } }, Status: 'Enabled', Expiration: { Days: 1 } },
      { ID: 'tag', Filter: { Tag: { Key: 'gone', Value: 'yes' } }, Status: 'Enabled', Expiration: { Days: 1 } },
      { ID: 'late', Filter: { Prefix: 'late/' }, Status: 'Enabled', Expiration: { Days: 30 } },
      { ID: 'off', Filter: { Prefix: 'keep/' }, Status: 'Disabled', Expiration: { Days: 1 } },
    ]);
    await until(async () => (await keys(b)).length === 4, 15_000, 'expiration');
    assert.deepEqual(await keys(b), ['big/small', 'keep/a', 'late/a', 'tag/b']);
    assert.deepEqual((await versions(b)).markers, [], 'no delete markers in an unversioned bucket');
  });

  it('leaves a new configuration a moment to settle before a pass acts on it (a Date already past)', async () => {
    const b = await newBucket(false);
    for (const k of ['past/a', 'future/a']) await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: k, Body: 'x' }));
    const t0 = Date.now();
    await lifecycle(b, [
      { ID: 'past', Filter: { Prefix: 'past/' }, Status: 'Enabled', Expiration: { Date: new Date('2015-01-01T00:00:00Z') } },
      { ID: 'future', Filter: { Prefix: 'future/' }, Status: 'Enabled', Expiration: { Date: new Date('2100-01-01T00:00:00Z') } },
    ]);
    await sleep(50);
    const listed = await keys(b);
    // The settling time is a fifth of a day (200 ms here): a listing answered within it still sees both.
    if (Date.now() - t0 < 200) assert.deepEqual(listed, ['future/a', 'past/a']);
    await until(async () => (await keys(b)).length === 1, 15_000, 'expiration by Date');
    assert.deepEqual(await keys(b), ['future/a']);
  });

  it('versioned: the current version gets a delete marker; noncurrent versions go by age and NewerNoncurrentVersions', async () => {
    const b = await newBucket(true);
    for (let i = 0; i < 5; i++) await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'keep-2/k', Body: `v${i}` }));
    await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'cur/k', Body: 'x' }));
    await lifecycle(b, [
      { ID: 'newer', Filter: { Prefix: 'keep-2/' }, Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 1, NewerNoncurrentVersions: 2 } },
      { ID: 'current', Filter: { Prefix: 'cur/' }, Status: 'Enabled', Expiration: { Days: 1 } },
    ]);
    await until(async () => {
      const v = await versions(b);
      return v.versions.filter((x) => x.startsWith('keep-2/')).length === 3 && v.markers.includes('cur/k');
    }, 15_000, 'noncurrent expiration and a delete marker');
    const v = await versions(b);
    assert.deepEqual(v.versions.sort(), ['cur/k@old', 'keep-2/k@latest', 'keep-2/k@old', 'keep-2/k@old'], 'the current version and two newer noncurrent ones stay');
    assert.deepEqual(v.markers, ['cur/k']);
    assert.deepEqual(await keys(b), ['keep-2/k']);
  });

  it('removes expired object delete markers once nothing else is left, and noncurrent versions with them', async () => {
    const b = await newBucket(true);
    await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'dm/a', Body: 'x' }));
    await srv.s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'dm/a' }));
    await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'other/a', Body: 'x' }));
    await srv.s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'other/a' }));
    await lifecycle(b, [{ ID: 'dm', Filter: { Prefix: 'dm/' }, Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 1 }, Expiration: { ExpiredObjectDeleteMarker: true } }]);
    await until(async () => (await versions(b)).markers.length === 1, 15_000, 'the expired delete marker to go');
    assert.deepEqual(await versions(b), { versions: ['other/a@old'], markers: ['other/a'] });
  });

  it('aborts incomplete multipart uploads after DaysAfterInitiation, under the rule prefix only', async () => {
    const b = await newBucket(false);
    await srv.s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp/a' }));
    await srv.s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'keep/a' }));
    await lifecycle(b, [{ ID: 'abort', Filter: { Prefix: 'mp/' }, Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }]);
    await until(async () => ((await srv.s3.send(new ListMultipartUploadsCommand({ Bucket: b }))).Uploads ?? []).length === 1, 15_000, 'the abort');
    const left = (await srv.s3.send(new ListMultipartUploadsCommand({ Bucket: b }))).Uploads!.map((u) => u.Key);
    assert.deepEqual(left, ['keep/a']);
  });

  it('queues transitions for the tiering handler (once per version), small objects left alone by default', async () => {
    const b = await newBucket(false);
    await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'cold/big', Body: Buffer.alloc(200 * 1024) }));
    await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'cold/small', Body: 'x' }));
    const counters = srv.trove.app.lifecycle.counters;
    const queued = counters.transitionsQueued;
    await lifecycle(b, [{ ID: 't', Filter: { Prefix: 'cold/' }, Status: 'Enabled', Transitions: [{ Days: 1, StorageClass: 'GLACIER' }] }]);
    // The tiering handler runs the item (no tier has GLACIER here: the version is relabelled).
    await until(async () => (await srv.s3.send(new HeadObjectCommand({ Bucket: b, Key: 'cold/big' }))).StorageClass === 'GLACIER', 15_000, 'the transition');
    // Several passes later, still one item: queued once per version.
    const passes = counters.passes;
    await until(async () => counters.passes >= passes + 2, 15_000, 'two more passes');
    assert.equal(counters.transitionsQueued, queued + 1);
    assert.equal((await srv.s3.send(new HeadObjectCommand({ Bucket: b, Key: 'cold/small' }))).StorageClass, undefined);
  });

  it('a Transition back to STANDARD (accepted as Ceph RGW does) relabels versions stored here, small ones too', async () => {
    const b = await newBucket(false);
    await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'x/ir', Body: 'x', StorageClass: 'GLACIER_IR' }));
    await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'y/ir', Body: 'y', StorageClass: 'GLACIER_IR' }));
    await lifecycle(b, [{ ID: 'back', Filter: { Prefix: 'x/' }, Status: 'Enabled', Transitions: [{ Days: 1, StorageClass: 'STANDARD' as 'GLACIER' }] }]);
    const got = await srv.s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: b }));
    assert.deepEqual(got.Rules![0]!.Transitions, [{ Days: 1, StorageClass: 'STANDARD' }]);
    await until(async () => (await srv.s3.send(new HeadObjectCommand({ Bucket: b, Key: 'x/ir' }))).StorageClass === undefined, 15_000, 'the transition to STANDARD');
    assert.equal((await srv.s3.send(new GetObjectCommand({ Bucket: b, Key: 'x/ir' }))).StorageClass, undefined);
    assert.equal((await srv.s3.send(new HeadObjectCommand({ Bucket: b, Key: 'y/ir' }))).StorageClass, 'GLACIER_IR', 'outside the rule');
  });

  it('never expires a locked version; the pass moves on to the others', async () => {
    const b = await newBucket(true, true);
    const locked = await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'l/a', Body: 'locked' }));
    await srv.s3.send(new PutObjectRetentionCommand({ Bucket: b, Key: 'l/a', VersionId: locked.VersionId, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date(Date.now() + 3_600_000) } }));
    await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'l/a', Body: 'newer' }));
    await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'l/b', Body: 'free' }));
    await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'l/b', Body: 'newer' }));
    await lifecycle(b, [{ ID: 'nc', Filter: { Prefix: 'l/' }, Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 1 } }]);
    await until(async () => (await versions(b)).versions.filter((v) => v.startsWith('l/b')).length === 1, 15_000, 'the free noncurrent version to go');
    const passes = srv.trove.app.lifecycle.counters.passes;
    await until(async () => srv.trove.app.lifecycle.counters.passes > passes, 15_000, 'another pass');
    assert.deepEqual((await versions(b)).versions.sort(), ['l/a@latest', 'l/a@old', 'l/b@latest']);
  });
});

describe('lifecycle pass resume', () => {
  let srv: TestServer;
  before(async () => {
    // Calendar days on the server: its own passes expire nothing here; the pass under test counts 1 s days.
    srv = await startServer();
  });
  after(() => srv.stop());

  it('a pass resumes at its saved position', async () => {
    const b = uniqueBucket('lcr');
    await srv.s3.send(new CreateBucketCommand({ Bucket: b }));
    for (let i = 0; i < 20; i++) await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: `r/${String(i).padStart(2, '0')}`, Body: 'x' }));
    const { meta } = srv.trove.app;
    const bucketId = (await meta.getBucket(b))!.id;
    // Stored directly: a PutBucketLifecycle would start the server's own pass (which saves its own position).
    const config = parseLifecycle(parseXmlBody('<LifecycleConfiguration><Rule><ID>r</ID><Filter><Prefix>r/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>', 'LifecycleConfiguration'), () => true);
    await meta.putBucketConfig(bucketId, 'lifecycle', serializeLifecycle(config));
    // A pass (item 987654) had got to r/10 when its process died; its claim expired, it runs again.
    await meta.putSetting(`lifecycle.cursor.${bucketId}`, JSON.stringify({ pass: 987654, phase: 0, key: 'r/10' }));
    const lc = new Lifecycle(meta, new Engine(meta, pino({ level: 'silent' }), { holder: 'resume-test' }), pino({ level: 'silent' }), { dayMs: 1000, holder: 'resume-test' });
    await sleep(1100);
    await lc.pass({ id: 987654, kind: SCAN_KIND, payload: { bucketId }, notBefore: 0, attempts: 2, createdAt: 0 });
    const left = ((await srv.s3.send(new ListObjectsV2Command({ Bucket: b }))).Contents ?? []).map((o) => o.Key!);
    assert.deepEqual(left, Array.from({ length: 10 }, (_, i) => `r/${String(i).padStart(2, '0')}`), 'keys before the saved position untouched by the resumed pass');
    // A new pass starts from the beginning.
    await lc.pass({ id: 987655, kind: SCAN_KIND, payload: { bucketId }, notBefore: 0, attempts: 1, createdAt: 0 });
    assert.deepEqual((await srv.s3.send(new ListObjectsV2Command({ Bucket: b }))).Contents ?? [], []);
    // With calendar days, one finished pass a UTC day is enough (rules act at midnight).
    const calendar = srv.trove.app.lifecycle;
    assert.equal(await calendar.passedToday(bucketId), true);
    assert.equal(await calendar.passedToday(bucketId + 1000), false);
  });
});
