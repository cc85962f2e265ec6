// Event notifications (src/notify/) end to end, with a webhook target served by the test: the
// configuration API and its validation as S3 answers, s3:TestEvent, every emitted event kind with
// S3's JSON, order per key, a target outage (queued, then all delivered), `trove admin target`,
// and kill -9 of a server process between commit and delivery (delivered after restart). Measures
// delivery latency from commit to webhook receipt (p50/p99, as a diagnostic).

import assert from 'node:assert/strict';
import { execFile, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectTaggingCommand,
  DeleteObjectsCommand,
  GetBucketNotificationConfigurationCommand,
  PutBucketNotificationConfigurationCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  UploadPartCommand,
  type NotificationConfiguration,
} from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { ACCESS_KEY, REGION, SECRET_KEY, freePort, startServerProcess, TEST_META, raw, s3error, startServer, tempDir, uniqueBucket, type TestServer } from './helpers.js';
import { saveTargets, targetArn, type TargetDef } from '../src/notify/targets.js';
import { Webhook } from './support/webhook.js';

const MAIN = path.resolve(import.meta.dirname, '../src/main.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function webhookTarget(name: string, url: string, token?: string): TargetDef {
  return { name, type: 'webhook', arn: targetArn(name, 'webhook'), endpoint: url, createdAt: Date.now(), ...(token ? { token } : {}) };
}

function config(arn: string, events: string[], filter?: { prefix?: string; suffix?: string }, id = 'cfg'): NotificationConfiguration {
  const rules = [];
  if (filter?.prefix !== undefined) rules.push({ Name: 'prefix' as const, Value: filter.prefix });
  if (filter?.suffix !== undefined) rules.push({ Name: 'suffix' as const, Value: filter.suffix });
  return { QueueConfigurations: [{ Id: id, QueueArn: arn, Events: events as never[], ...(rules.length ? { Filter: { Key: { FilterRules: rules } } } : {}) }] };
}

describe(`event notifications (${TEST_META})`, () => {
  let srv: TestServer;
  let hook: Webhook;
  let arn: string;

  before(async () => {
    srv = await startServer();
    hook = await new Webhook().start();
    arn = targetArn('hook', 'webhook');
    await saveTargets(srv.trove.app.meta, [webhookTarget('hook', hook.url, 's3cr3t-token')]);
  });
  after(async () => {
    await srv?.stop();
    await hook?.close();
  });

  it('Put/GetBucketNotificationConfiguration round trip; an empty configuration turns it off', async () => {
    const bucket = uniqueBucket();
    await srv.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const empty = await srv.s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket }));
    assert.equal(empty.QueueConfigurations, undefined);
    await srv.s3.send(new PutBucketNotificationConfigurationCommand({
      Bucket: bucket,
      NotificationConfiguration: {
        QueueConfigurations: [{ Id: 'uploads', QueueArn: arn, Events: ['s3:ObjectCreated:*'], Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'in/' }, { Name: 'suffix', Value: '.jpg' }] } } }],
        TopicConfigurations: [{ TopicArn: arn, Events: ['s3:ObjectRemoved:Delete'] }],
      },
    }));
    const got = await srv.s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket }));
    assert.equal(got.QueueConfigurations?.length, 1);
    const q = got.QueueConfigurations![0]!;
    assert.equal(q.Id, 'uploads');
    assert.equal(q.QueueArn, arn);
    assert.deepEqual(q.Events, ['s3:ObjectCreated:*']);
    assert.deepEqual(q.Filter?.Key?.FilterRules, [{ Name: 'prefix', Value: 'in/' }, { Name: 'suffix', Value: '.jpg' }]);
    assert.equal(got.TopicConfigurations?.length, 1);
    assert.ok(got.TopicConfigurations![0]!.Id, 'an Id is generated when none is given');
    // s3:TestEvent to the destination, with the bearer token.
    await hook.waitFor(() => hook.got.some((g) => g.body.Event === 's3:TestEvent' && g.body.Bucket === bucket), 10_000, 'test event');
    const test = hook.got.find((g) => g.body.Bucket === bucket)!;
    assert.equal(test.body.Service, 'Amazon S3');
    assert.match(String(test.body.Time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(test.body.RequestId && test.body.HostId);
    assert.equal(test.auth, 'Bearer s3cr3t-token');

    await srv.s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: bucket, NotificationConfiguration: {} }));
    const off = await srv.s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket }));
    assert.equal(off.QueueConfigurations, undefined);
    assert.equal(off.TopicConfigurations, undefined);
  });

  it('validation as S3: unknown destination, unknown event, bad or overlapping filters', async () => {
    const bucket = uniqueBucket();
    await srv.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const put = (c: NotificationConfiguration) => s3error(srv.s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: bucket, NotificationConfiguration: c })));
    let e = await put(config('arn:aws:sqs:us-east-1:123456789012:nope', ['s3:ObjectCreated:*']));
    assert.equal(e.name, 'InvalidArgument');
    assert.equal(e.message, 'Unable to validate the following destination configurations');
    e = await put(config(arn, ['s3:ObjectCreated:Nope']));
    assert.equal(e.name, 'InvalidArgument');
    assert.equal(e.message, 'The event is not supported for notifications');
    e = await put({
      QueueConfigurations: [
        { Id: 'a', QueueArn: arn, Events: ['s3:ObjectCreated:*'], Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'img/' }] } } },
        { Id: 'b', QueueArn: arn, Events: ['s3:ObjectCreated:Put'], Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'img/2024/' }] } } },
      ],
    });
    assert.equal(e.name, 'InvalidArgument');
    assert.match(e.message, /^Configuration is ambiguously defined/);
    // Disjoint prefixes, or other events: fine.
    await srv.s3.send(new PutBucketNotificationConfigurationCommand({
      Bucket: bucket,
      NotificationConfiguration: {
        QueueConfigurations: [
          { Id: 'a', QueueArn: arn, Events: ['s3:ObjectCreated:*'], Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'img/' }] } } },
          { Id: 'b', QueueArn: arn, Events: ['s3:ObjectCreated:*'], Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'doc/' }] } } },
          { Id: 'c', QueueArn: arn, Events: ['s3:ObjectRemoved:*'], Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'img/' }] } } },
        ],
      },
    }));
    // Raw XML for what the SDK will not send.
    const bad = await raw(srv, {
      method: 'PUT',
      path: `/${bucket}`, query: { notification: "" },
      body: `<NotificationConfiguration><QueueConfiguration><Queue>${arn}</Queue><Event>s3:ObjectCreated:*</Event><Filter><S3Key><FilterRule><Name>middle</Name><Value>x</Value></FilterRule></S3Key></Filter></QueueConfiguration></NotificationConfiguration>`,
    });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /<Code>InvalidArgument<\/Code>/);
    const twice = await raw(srv, {
      method: 'PUT',
      path: `/${bucket}`, query: { notification: "" },
      body: `<NotificationConfiguration><QueueConfiguration><Queue>${arn}</Queue><Event>s3:ObjectCreated:*</Event><Filter><S3Key><FilterRule><Name>prefix</Name><Value>a</Value></FilterRule><FilterRule><Name>prefix</Name><Value>b</Value></FilterRule></S3Key></Filter></QueueConfiguration></NotificationConfiguration>`,
    });
    assert.equal(twice.status, 400);
    const malformed = await raw(srv, { method: 'PUT', path: `/${bucket}`, query: { notification: "" }, body: `<NotificationConfiguration><QueueConfiguration><Event>s3:ObjectCreated:*</Event></QueueConfiguration></NotificationConfiguration>` });
    assert.equal(malformed.status, 400);
    assert.match(malformed.text, /<Code>MalformedXML<\/Code>/);
    // Skipping destination validation stores an unknown ARN.
    const skipped = await raw(srv, {
      method: 'PUT',
      path: `/${bucket}`, query: { notification: "" },
      headers: { 'x-amz-skip-destination-validation': 'true' },
      body: `<NotificationConfiguration><QueueConfiguration><Queue>arn:aws:sqs:us-east-1:1:later</Queue><Event>s3:ObjectCreated:*</Event></QueueConfiguration></NotificationConfiguration>`,
    });
    assert.equal(skipped.status, 200, skipped.text);
  });

  it('every emitted event kind arrives with S3 JSON', async () => {
    const bucket = uniqueBucket();
    await srv.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await srv.s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    await srv.s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: bucket, NotificationConfiguration: config(arn, ['s3:ObjectCreated:*', 's3:ObjectRemoved:*', 's3:ObjectTagging:*', 's3:ObjectAcl:Put'], undefined, 'all') }));
    const mine = () => hook.records().filter((r) => r.s3.bucket.name === bucket);
    const key = 'dir/red flower (1)+é.jpg';
    const putStarted = Date.now();
    const put = await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'hello' }));
    const recs = await hook.waitFor(() => mine().length >= 1, 10_000, 'put event');
    const r = recs.find((x) => x.s3.bucket.name === bucket)!;
    assert.equal(r.eventVersion, '2.1');
    assert.equal(r.eventSource, 'aws:s3');
    assert.equal(r.awsRegion, REGION);
    assert.equal(r.eventName, 'ObjectCreated:Put');
    assert.ok(Date.parse(r.eventTime) >= putStarted - 1000 && Date.parse(r.eventTime) <= Date.now());
    assert.match(r.eventTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(r.userIdentity.principalId, srv.trove.app.config.rootAccessKey === ACCESS_KEY ? r.userIdentity.principalId : '');
    assert.match(r.userIdentity.principalId, /^\d{12}$/, 'the root user: its account id');
    assert.equal(r.requestParameters.sourceIPAddress, '127.0.0.1');
    assert.ok(r.responseElements['x-amz-request-id']);
    assert.ok(r.responseElements['x-amz-id-2']);
    assert.equal(r.s3.s3SchemaVersion, '1.0');
    assert.equal(r.s3.configurationId, 'all');
    assert.equal(r.s3.bucket.arn, `arn:aws:s3:::${bucket}`);
    assert.ok(r.s3.bucket.ownerIdentity.principalId);
    assert.equal(r.s3.object.key, 'dir/red+flower+%281%29%2B%C3%A9.jpg', 'URL-encoded as S3 does: space as +');
    assert.equal(r.s3.object.size, 5);
    assert.equal(r.s3.object.eTag, put.ETag!.replace(/"/g, ''));
    assert.equal(r.s3.object.versionId, put.VersionId);
    assert.match(r.s3.object.sequencer, /^[0-9A-F]{16,}$/);
    assert.deepEqual(Object.keys(r), ['eventVersion', 'eventSource', 'awsRegion', 'eventTime', 'eventName', 'userIdentity', 'requestParameters', 'responseElements', 's3']);

    // POST (browser form), Copy, multipart, tagging, ACL, delete marker, version delete, DeleteObjects.
    const form = await createPresignedPost(srv.s3, { Bucket: bucket, Key: 'posted.txt', Expires: 600 });
    const fd = new FormData();
    for (const [k, v] of Object.entries(form.fields)) fd.append(k, v);
    fd.append('file', new Blob(['from a form']), 'posted.txt');
    const posted = await fetch(`${srv.url}/${bucket}`, { method: 'POST', body: fd });
    assert.equal(posted.status, 204);
    await srv.s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy.txt', CopySource: `${bucket}/${encodeURIComponent(key)}` }));
    const up = await srv.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp.bin' }));
    const part = await srv.s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp.bin', UploadId: up.UploadId, PartNumber: 1, Body: Buffer.alloc(1000, 1) }));
    await srv.s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'mp.bin', UploadId: up.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
    await srv.s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'copy.txt', Tagging: { TagSet: [{ Key: 'a', Value: 'b' }] } }));
    await srv.s3.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: 'copy.txt' }));
    await srv.s3.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'copy.txt', ACL: 'private' }));
    const marker = await srv.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'copy.txt' }));
    await srv.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: put.VersionId }));
    await srv.s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'posted.txt' }, { Key: 'never-existed' }] } }));
    const all = await hook.waitFor(() => mine().length >= 11, 15_000, 'all events');
    await sleep(300);
    const names = mine().map((x) => `${x.eventName} ${decodeURIComponent(x.s3.object.key.replace(/\+/g, ' '))}`);
    assert.deepEqual(names.sort(), [
      `ObjectCreated:Put ${key}`,
      'ObjectCreated:Post posted.txt',
      'ObjectCreated:Copy copy.txt',
      'ObjectCreated:CompleteMultipartUpload mp.bin',
      'ObjectTagging:Put copy.txt',
      'ObjectTagging:Delete copy.txt',
      'ObjectAcl:Put copy.txt',
      'ObjectRemoved:DeleteMarkerCreated copy.txt',
      `ObjectRemoved:Delete ${key}`,
      'ObjectRemoved:DeleteMarkerCreated posted.txt',
      'ObjectRemoved:DeleteMarkerCreated never-existed',
    ].sort());
    const by = (name: string, k: string) => all.find((x) => x.s3.bucket.name === bucket && x.eventName === name && x.s3.object.key === k)!;
    const mp = by('ObjectCreated:CompleteMultipartUpload', 'mp.bin');
    assert.equal(mp.s3.object.size, 1000);
    assert.match(mp.s3.object.eTag, /^[0-9a-f]{32}-1$/);
    const tag = by('ObjectTagging:Put', 'copy.txt');
    assert.equal(tag.eventVersion, '2.3');
    assert.ok(tag.s3.object.versionId);
    const dm = by('ObjectRemoved:DeleteMarkerCreated', 'copy.txt');
    assert.equal(dm.s3.object.versionId, marker.VersionId);
    assert.equal(dm.s3.object.size, undefined);
    assert.equal(dm.s3.object.eTag, undefined);
    // Order per key: the sequencers of copy.txt's events grow in delivery order.
    const seqs = mine().filter((x) => x.s3.object.key === 'copy.txt').map((x) => x.s3.object.sequencer as string);
    assert.deepEqual([...seqs].sort(), seqs);
  });

  it('filters by prefix and suffix; unversioned objects carry no versionId; a delete of nothing sends nothing', async () => {
    const bucket = uniqueBucket();
    await srv.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await srv.s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: bucket, NotificationConfiguration: config(arn, ['s3:ObjectCreated:Put', 's3:ObjectRemoved:*'], { prefix: 'in/', suffix: '.jpg' }) }));
    for (const k of ['in/a.jpg', 'in/a.png', 'out/a.jpg', 'in/b.jpg']) await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: 'x' }));
    await srv.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'in/nothing.jpg' }));
    await srv.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'in/a.jpg' }));
    const mine = () => hook.records().filter((r) => r.s3.bucket.name === bucket);
    await hook.waitFor(() => mine().length >= 3, 10_000);
    await sleep(300);
    assert.deepEqual(mine().map((r) => `${r.eventName} ${r.s3.object.key}`), ['ObjectCreated:Put in/a.jpg', 'ObjectCreated:Put in/b.jpg', 'ObjectRemoved:Delete in/a.jpg']);
    assert.equal(mine()[0]!.s3.object.versionId, undefined);
  });

  it('in order per key; a target outage queues events and delivers every one when it returns; latency p50/p99', async (t) => {
    const bucket = uniqueBucket();
    await srv.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await srv.s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: bucket, NotificationConfiguration: config(arn, ['s3:ObjectCreated:*']) }));
    const mine = () => hook.records().filter((r) => r.s3.bucket.name === bucket);
    // Latency: sequential PUTs, commit (eventTime, recorded in the write's transaction) to receipt.
    const N = 200;
    for (let i = 0; i < N; i++) await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `lat/${i}`, Body: 'x' }));
    await hook.waitFor(() => mine().length >= N, 30_000);
    const lat = hook.got
      .filter((g) => (g.body.Records as any[] | undefined)?.[0]?.s3.bucket.name === bucket)
      .map((g) => g.at - Date.parse((g.body.Records as any[])[0].eventTime))
      .sort((a, b) => a - b);
    const p = (q: number) => lat[Math.min(lat.length - 1, Math.floor(q * lat.length))]!;
    t.diagnostic(`webhook delivery latency, commit to receipt, ${lat.length} sequential PUTs (${TEST_META}): p50 ${p(0.5)} ms, p99 ${p(0.99)} ms, max ${lat[lat.length - 1]} ms`);
    assert.ok(p(0.5) < 1000, `p50 ${p(0.5)} ms`);

    // Outage: the webhook answers 503; writes go on; the queue grows; then it recovers.
    hook.status = 503;
    const keys = ['k1', 'k2', 'k3'];
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 30; i++) for (const k of keys) writes.push(srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `out/${k}`, Body: `v${i}` })));
    await Promise.all(writes);
    await sleep(1500);
    const st = await srv.trove.app.meta.workStats();
    const q = st.kinds.find((k) => k.kind === 'notify')!;
    assert.ok(q.depth >= 90, `queued while the target is down: ${q.depth}`);
    assert.ok(q.failing >= 1);
    hook.status = 200;
    await hook.waitFor(() => mine().filter((r) => r.s3.object.key.startsWith('out/')).length >= 90, 60_000, 'events after the outage');
    for (const k of keys) {
      const seqs = mine().filter((r) => r.s3.object.key === `out/${k}`).map((r) => r.s3.object.sequencer as string);
      assert.equal(seqs.length, 30, `every event of ${k}`);
      assert.deepEqual([...seqs].sort(), seqs, `delivered in order for ${k}`);
    }
    assert.equal(srv.trove.app.notify.counters.dropped, 0);
  });

  it('lifecycle expirations send s3:LifecycleExpiration:* (one-second days)', async () => {
    const s2 = await startServer({ lifecycleDayMs: 1000 });
    try {
      await saveTargets(s2.trove.app.meta, [webhookTarget('hook', hook.url)]);
      const plain = uniqueBucket('lc');
      const versioned = uniqueBucket('lcv');
      for (const b of [plain, versioned]) {
        await s2.s3.send(new CreateBucketCommand({ Bucket: b }));
        await s2.s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: b, NotificationConfiguration: config(arn, ['s3:LifecycleExpiration:*']) }));
      }
      await s2.s3.send(new PutBucketVersioningCommand({ Bucket: versioned, VersioningConfiguration: { Status: 'Enabled' } }));
      await s2.s3.send(new PutObjectCommand({ Bucket: plain, Key: 'old/a', Body: 'x' }));
      await s2.s3.send(new PutObjectCommand({ Bucket: versioned, Key: 'old/b', Body: 'x' }));
      for (const b of [plain, versioned]) {
        await s2.s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: b, LifecycleConfiguration: { Rules: [{ ID: 'old', Filter: { Prefix: 'old/' }, Status: 'Enabled', Expiration: { Days: 1 } }] } }));
      }
      const recs = await hook.waitFor((r) => r.filter((x) => x.eventName.startsWith('LifecycleExpiration:') && [plain, versioned].includes(x.s3.bucket.name)).length >= 2, 20_000, 'lifecycle events');
      const a = recs.find((x) => x.s3.bucket.name === plain && x.eventName.startsWith('LifecycleExpiration:'))!;
      assert.equal(a.eventName, 'LifecycleExpiration:Delete');
      assert.equal(a.s3.object.key, 'old/a');
      assert.equal(a.eventVersion, '2.3');
      assert.equal(a.userIdentity.principalId, 's3.amazonaws.com');
      const b = recs.find((x) => x.s3.bucket.name === versioned && x.eventName.startsWith('LifecycleExpiration:'))!;
      assert.equal(b.eventName, 'LifecycleExpiration:DeleteMarkerCreated');
      assert.ok(b.s3.object.versionId, 'the delete marker');
    } finally {
      await s2.stop();
    }
  });

  it('a webhook over TLS: delivered when the target trusts its CA (--ca), retried (not delivered) when not', async () => {
    const dir = await tempDir('trove-notify-tls-');
    try {
      await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']);
      const cert = fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8');
      const secure = await new Webhook().start(0, { key: fs.readFileSync(path.join(dir, 'key.pem'), 'utf8'), cert });
      try {
        const trusted = { ...webhookTarget('tls', secure.url), ca: cert };
        const untrusted = webhookTarget('tls-untrusted', secure.url);
        await saveTargets(srv.trove.app.meta, [webhookTarget('hook', hook.url, 's3cr3t-token'), trusted, untrusted]);
        const bucket = uniqueBucket();
        await srv.s3.send(new CreateBucketCommand({ Bucket: bucket }));
        await srv.s3.send(new PutBucketNotificationConfigurationCommand({
          Bucket: bucket,
          NotificationConfiguration: {
            QueueConfigurations: [
              { Id: 'trusted', QueueArn: trusted.arn, Events: ['s3:ObjectCreated:*'], Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'a/' }] } } },
              { Id: 'untrusted', QueueArn: untrusted.arn, Events: ['s3:ObjectCreated:*'], Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'b/' }] } } },
            ],
          },
        }));
        const failedBefore = srv.trove.app.notify.counters.failed;
        await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'a/1', Body: 'x' }));
        await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'b/1', Body: 'x' }));
        const recs = await secure.waitFor((r) => r.some((x) => x.s3.object.key === 'a/1'), 10_000, 'the TLS delivery');
        await sleep(1000);
        assert.deepEqual(recs.map((r) => r.s3.object.key), ['a/1'], 'only the target that trusts the CA delivers');
        assert.ok(srv.trove.app.notify.counters.failed > failedBefore, 'the untrusted one fails (and is retried)');
      } finally {
        await saveTargets(srv.trove.app.meta, [webhookTarget('hook', hook.url, 's3cr3t-token')]);
        await secure.close();
      }
    } finally {
      await fs.promises.rm(dir, { recursive: true, force: true });
    }
  });

  it('drops (logged and counted) only beyond the age limit', async () => {
    const s2 = await startServer({ notifyMaxAgeMs: 300 });
    try {
      const h = await new Webhook().start();
      h.status = 503;
      const a2 = targetArn('slow', 'webhook');
      await saveTargets(s2.trove.app.meta, [webhookTarget('slow', h.url)]);
      const bucket = uniqueBucket();
      await s2.s3.send(new CreateBucketCommand({ Bucket: bucket }));
      await s2.s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: bucket, NotificationConfiguration: config(a2, ['s3:ObjectCreated:*']) }));
      await s2.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'x', Body: 'x' }));
      const end = Date.now() + 15_000;
      while (s2.trove.app.notify.counters.dropped < 2 && Date.now() < end) await sleep(50);
      assert.equal(s2.trove.app.notify.counters.dropped, 2, 'the test event and the put event, once too old');
      h.status = 200;
      await sleep(1500);
      assert.equal(h.got.length, 0);
      await h.close();
    } finally {
      await s2.stop();
    }
  });
});

// ------------------------------------------------------------------ a server process, kill -9


function startProcess(dataDir: string, port: number): Promise<ChildProcess> {
  return startServerProcess(dataDir, port, [], 'error');
}

describe('event notifications survive kill -9 between commit and delivery', { skip: TEST_META === 'postgres' ? 'a server process on the SQLite data directory' : false }, () => {
  it('trove admin target add/list/remove; events committed before the kill are delivered after the restart', async () => {
    const dataDir = await tempDir('trove-notify-crash-');
    const hook = await new Webhook().start();
    hook.status = 503;
    const run = promisify(execFile);
    const admin = (...args: string[]) => run(process.execPath, [MAIN, 'admin', 'target', ...args, '--data-dir', dataDir]);
    let child: ChildProcess | undefined;
    try {
      const added = await admin('add', '--name', 'crash', '--type', 'webhook', '--endpoint', hook.url, '--token', 'never-printed');
      assert.match(added.stdout, /^arn:trove:sqs::crash:webhook\twebhook\thttp:\/\/127\.0\.0\.1:\d+\/hook\ttoken=\(set\)\n$/);
      await admin('add', '--name', 'extra', '--type', 'redis', '--endpoint', 'redis://:pw@127.0.0.1:1', '--destination', 'events');
      const listed = await admin('list');
      assert.doesNotMatch(listed.stdout, /never-printed|pw@/);
      assert.match(listed.stdout, /arn:trove:sqs::extra:redis\tredis\tredis:\/\/…@127\.0\.0\.1:1\tevents/);
      await admin('remove', '--name', 'extra');
      assert.doesNotMatch((await admin('list')).stdout, /extra/);
      await assert.rejects(admin('add', '--name', 'bad', '--type', 'nats', '--endpoint', 'http://x'), /cannot be http:/);

      const port = await freePort();
      child = await startProcess(dataDir, port);
      const s3 = new S3Client({ endpoint: `http://127.0.0.1:${port}`, region: REGION, forcePathStyle: true, credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, maxAttempts: 1 });
      const bucket = uniqueBucket();
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      await s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: bucket, NotificationConfiguration: config(targetArn('crash', 'webhook'), ['s3:ObjectCreated:*']) }));
      const N = 50;
      for (let i = 0; i < N; i++) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `k${i % 5}`, Body: `v${i}` }));
      s3.destroy();
      child.kill('SIGKILL');
      await new Promise((r) => child!.once('exit', r));
      assert.equal(hook.records().length, 0, 'nothing delivered before the kill');
      hook.status = 200;
      child = await startProcess(dataDir, port);
      const recs = await hook.waitFor((r) => r.length >= N, 60_000, 'events after restart');
      assert.equal(new Set(recs.map((r) => r.s3.object.sequencer)).size, N, 'every committed event, each once here');
      for (let k = 0; k < 5; k++) {
        const seqs = recs.filter((r) => r.s3.object.key === `k${k}`).map((r) => r.s3.object.sequencer as string);
        assert.deepEqual([...seqs].sort(), seqs, `in order for k${k}`);
      }
      assert.equal(hook.got[0]!.auth, 'Bearer never-printed');
    } finally {
      child?.kill('SIGKILL');
      await hook.close();
      await fs.promises.rm(dataDir, { recursive: true, force: true });
    }
  });
});
