// Replication of encrypted and tiered versions between two real Trove servers (SQLite;
// PostgreSQL with TROVE_TEST_META=postgres), and the events of replication failures, restores and
// lifecycle transitions received by a webhook:
// - SSE-S3 and SSE-KMS versions (one part and multipart) replicate decrypted and are encrypted
//   again on the destination (SSE-KMS with the rule's ReplicaKmsKeyID, only where the rule selects
//   SseKmsEncryptedObjects); the configuration rules S3 sets for them; SSE-C versions end FAILED at
//   once with s3:Replication:OperationFailedReplication; a destination bucket that does not exist
//   and a destination server that is down end FAILED after three attempts, with S3's reasons.
// - a version already in a tier (online or archive, encrypted or not) replicates, read through;
//   a replicated version moved to an archive tier and restored on the source: the replica is
//   untouched, and s3:LifecycleTransition, s3:ObjectRestore:Post / :Completed / :Delete arrive.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketReplicationCommand,
  GetBucketReplicationCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketEncryptionCommand,
  PutBucketNotificationConfigurationCommand,
  PutBucketReplicationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  RestoreObjectCommand,
  UploadPartCommand,
  type ReplicationConfiguration,
  type ReplicationRule,
} from '@aws-sdk/client-s3';
import { ACCESS_KEY, SECRET_KEY, TEST_META, bodyBytes, s3error, startServer, uniqueBucket, type TestServer } from './helpers.js';
import { Webhook } from './support/webhook.js';
import { saveTargets, targetArn } from '../src/notify/targets.js';
import { REPLICATE_KIND, resync } from '../src/replication/service.js';
import type { App } from '../src/app.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ROLE = 'arn:aws:iam::123456789012:role/replication';
const TIER_BUCKET = 'tier-target';

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function rule(dest: string, extra: Partial<ReplicationRule> = {}): ReplicationRule {
  return { ID: 'all', Priority: 1, Status: 'Enabled', Filter: { Prefix: '' }, DeleteMarkerReplication: { Status: 'Disabled' }, Destination: { Bucket: `arn:aws:s3:::${dest}` }, ...extra };
}

/** SSE-KMS objects selected, replicas encrypted with the destination's key `replica-key`. */
function kmsRule(dest: string): ReplicationRule {
  return rule(dest, { SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: 'Enabled' } }, Destination: { Bucket: `arn:aws:s3:::${dest}`, EncryptionConfiguration: { ReplicaKmsKeyID: 'replica-key' } } });
}

async function versioned(s: TestServer, name: string): Promise<void> {
  await s.s3.send(new CreateBucketCommand({ Bucket: name }));
  await s.s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
}

async function status(s: TestServer, bucket: string, key: string, extra: Record<string, string> = {}): Promise<string | undefined> {
  return (await s.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ...extra }))).ReplicationStatus;
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

async function body(s: TestServer, bucket: string, key: string, versionId?: string, extra: Record<string, string> = {}): Promise<Buffer> {
  return bodyBytes((await s.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}), ...extra }))).Body);
}

async function multipart(s: TestServer, bucket: string, key: string, parts: Buffer[], extra: Record<string, string> = {}): Promise<string> {
  const { UploadId } = await s.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...extra }));
  const done = [];
  for (let i = 0; i < parts.length; i++) {
    const r = await s.s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: i + 1, Body: parts[i] }));
    done.push({ PartNumber: i + 1, ETag: r.ETag });
  }
  const r = await s.s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: done } }));
  return r.VersionId!;
}

async function version(app: App, bucket: string, key: string, versionId?: string) {
  const b = (await app.meta.getBucket(bucket))!;
  return (await app.meta.getObject(b.id, key, versionId))!;
}

/** Records a `transition` work item, as lifecycle does, and waits for the engine to run it. */
async function move(app: App, bucket: string, key: string, storageClass: string): Promise<void> {
  const v = await version(app, bucket, key);
  await app.engine.enqueue([{ kind: 'transition', payload: { bucketId: v.bucketId, key, versionId: v.versionId, storageClass, etag: v.etag } }]);
  await until(`${key} in ${storageClass}`, async () => (await version(app, bucket, key, v.versionId)).storageClass === storageClass && (storageClass === 'STANDARD' || (await version(app, bucket, key, v.versionId)).tier !== undefined));
}

describe(`replication of encrypted and tiered versions (${TEST_META})`, () => {
  let a: TestServer;
  let b: TestServer;
  let hook: Webhook;
  let arn: string;

  before(async () => {
    b = await startServer({ masterKeyEnv: randomBytes(32).toString('hex') });
    await b.trove.app.kms.create({ id: 'replica-key' });
    await b.s3.send(new CreateBucketCommand({ Bucket: TIER_BUCKET }));
    // A lifecycle (and restore) day of two seconds.
    a = await startServer({ masterKeyEnv: randomBytes(32).toString('hex'), inlineThreshold: 1024, lifecycleDayMs: 2000 });
    await a.trove.app.kms.create({ id: 'src-key' });
    const app = a.trove.app;
    await app.tiers.registry.add({ name: 'warm', endpoint: b.url, bucket: TIER_BUCKET, prefix: 'warm/', accessKey: ACCESS_KEY, secretKey: SECRET_KEY, storageClasses: ['STANDARD_IA'] });
    await app.tiers.registry.add({ name: 'cold', endpoint: b.url, bucket: TIER_BUCKET, prefix: 'cold/', accessKey: ACCESS_KEY, secretKey: SECRET_KEY, archive: true, storageClasses: ['GLACIER'] });
    await app.tiers.refresh();
    hook = await new Webhook().start();
    arn = targetArn('hook', 'webhook');
    await saveTargets(app.meta, [{ name: 'hook', type: 'webhook', arn, endpoint: hook.url, createdAt: Date.now() }]);
  });
  after(async () => {
    await a.stop();
    await b.stop();
    await hook.close();
  });

  /** A versioned source on `a` replicating to a versioned destination on `b`, events to the webhook. */
  async function pair(rules: (dest: string) => ReplicationRule[], events = ['s3:Replication:*', 's3:ObjectRestore:*', 's3:LifecycleTransition']): Promise<{ src: string; dest: string }> {
    const src = uniqueBucket('esrc');
    const dest = uniqueBucket('edst');
    await versioned(a, src);
    await versioned(b, dest);
    await a.trove.app.replication.remotes.add({ name: `r-${dest}`, endpoint: b.url, accessKey: ACCESS_KEY, secretKey: SECRET_KEY, buckets: [dest] });
    await a.s3.send(new PutBucketReplicationCommand({ Bucket: src, ReplicationConfiguration: { Role: ROLE, Rules: rules(dest) } }));
    await a.s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: src, NotificationConfiguration: { QueueConfigurations: [{ Id: 'bg', QueueArn: arn, Events: events as never[] }] } }));
    return { src, dest };
  }

  it('configuration: SseKmsEncryptedObjects and EncryptionConfiguration/ReplicaKmsKeyID go together, as in S3', async () => {
    const src = uniqueBucket('ecfg');
    const dest = uniqueBucket('ecfgd');
    await versioned(a, src);
    await a.trove.app.replication.remotes.add({ name: `r-${dest}`, endpoint: b.url, accessKey: ACCESS_KEY, secretKey: SECRET_KEY, buckets: [dest] });
    const put = (r: ReplicationRule) => a.s3.send(new PutBucketReplicationCommand({ Bucket: src, ReplicationConfiguration: { Role: ROLE, Rules: [r] } as ReplicationConfiguration }));
    let e = await s3error(put(rule(dest, { SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: 'Enabled' } } })));
    assert.equal(e.name, 'InvalidRequest');
    assert.match(e.message, /ReplicaKmsKeyID must be specified/);
    e = await s3error(put(rule(dest, { Destination: { Bucket: `arn:aws:s3:::${dest}`, EncryptionConfiguration: { ReplicaKmsKeyID: 'k' } } })));
    assert.equal(e.name, 'InvalidRequest');
    assert.match(e.message, /SseKmsEncryptedObjects must be specified/);
    await put(kmsRule(dest));
    const got = (await a.s3.send(new GetBucketReplicationCommand({ Bucket: src }))).ReplicationConfiguration!.Rules![0]!;
    assert.equal(got.SourceSelectionCriteria?.SseKmsEncryptedObjects?.Status, 'Enabled');
    assert.equal(got.Destination?.EncryptionConfiguration?.ReplicaKmsKeyID, 'replica-key');
  });

  it('SSE-S3 and SSE-KMS versions replicate encrypted again on the destination; SSE-C ones end FAILED with an event', async () => {
    const { src, dest } = await pair((d) => [kmsRule(d)]);
    const small = randomBytes(300);
    const large = randomBytes(200_000);
    const s3put = await a.s3.send(new PutObjectCommand({ Bucket: src, Key: 'sse-s3', Body: large, ServerSideEncryption: 'AES256' }));
    const kmsput = await a.s3.send(new PutObjectCommand({ Bucket: src, Key: 'kms', Body: large, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'src-key' }));
    await a.s3.send(new PutObjectCommand({ Bucket: src, Key: 'kms-small', Body: small, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'src-key' }));
    const parts = [randomBytes(5 * 1024 * 1024), randomBytes(1000)];
    const mpVersion = await multipart(a, src, 'kms-mp', parts, { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'src-key' });
    const customer = randomBytes(32);
    const ssec = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: customer.toString('base64'), SSECustomerKeyMD5: createHash('md5').update(customer).digest('base64') };
    const cput = await a.s3.send(new PutObjectCommand({ Bucket: src, Key: 'sse-c', Body: small, ...ssec }));

    for (const k of ['sse-s3', 'kms', 'kms-small', 'kms-mp']) await until(`${k} COMPLETED`, async () => (await status(a, src, k)) === 'COMPLETED');
    // SSE-S3: same version id and ETag (the plaintext's MD5), encrypted with the destination's SSE-S3 key.
    const h1 = await b.s3.send(new HeadObjectCommand({ Bucket: dest, Key: 'sse-s3' }));
    assert.equal(h1.VersionId, s3put.VersionId);
    assert.equal(h1.ETag, s3put.ETag);
    assert.equal(h1.ServerSideEncryption, 'AES256');
    assert.equal(h1.ReplicationStatus, 'REPLICA');
    assert.equal(md5(await body(b, dest, 'sse-s3')), md5(large));
    // SSE-KMS: encrypted with the rule's ReplicaKmsKeyID; the same version id and bytes.
    const h2 = await b.s3.send(new HeadObjectCommand({ Bucket: dest, Key: 'kms' }));
    assert.equal(h2.VersionId, kmsput.VersionId);
    assert.equal(h2.ServerSideEncryption, 'aws:kms');
    assert.match(h2.SSEKMSKeyId ?? '', /replica-key/);
    assert.equal(md5(await body(b, dest, 'kms')), md5(large));
    assert.equal(md5(await body(b, dest, 'kms-small')), md5(small));
    // Multipart SSE-KMS: the same part layout, so the same ETag.
    const h3 = await b.s3.send(new HeadObjectCommand({ Bucket: dest, Key: 'kms-mp' }));
    assert.equal(h3.VersionId, mpVersion);
    assert.equal(h3.ETag, (await a.s3.send(new HeadObjectCommand({ Bucket: src, Key: 'kms-mp' }))).ETag);
    assert.match(h3.SSEKMSKeyId ?? '', /replica-key/);
    assert.equal(md5(await body(b, dest, 'kms-mp')), md5(Buffer.concat(parts)));

    // SSE-C: the customer's key was never stored here: FAILED at once, and the event says why.
    await until('sse-c FAILED', async () => (await status(a, src, 'sse-c', ssec)) === 'FAILED');
    const recs = await hook.waitFor((r) => r.some((x) => x.eventName === 'Replication:OperationFailedReplication' && x.s3.bucket.name === src), 20_000, 'the failure event');
    const f = recs.find((x) => x.eventName === 'Replication:OperationFailedReplication' && x.s3.bucket.name === src)!;
    assert.equal(f.eventVersion, '2.2');
    assert.equal(f.userIdentity.principalId, 's3.amazonaws.com');
    assert.equal(f.s3.object.key, 'sse-c');
    assert.equal(f.s3.object.versionId, cput.VersionId);
    assert.equal(f.s3.object.size, small.length);
    assert.deepEqual(Object.keys(f.replicationEventData).sort(), ['destinationBucket', 'failureReason', 'replicationRuleId', 'requestTime', 's3Operation']);
    assert.equal(f.replicationEventData.replicationRuleId, 'all');
    assert.equal(f.replicationEventData.destinationBucket, `arn:aws:s3:::${dest}`);
    assert.equal(f.replicationEventData.s3Operation, 'OBJECT_PUT');
    assert.equal(f.replicationEventData.failureReason, 'SrcSseCKeyNotStored');
    assert.ok(!Number.isNaN(Date.parse(f.replicationEventData.requestTime)));
    const e = await s3error(b.s3.send(new HeadObjectCommand({ Bucket: dest, Key: 'sse-c' })));
    assert.equal(e.$metadata.httpStatusCode, 404);
    // Nothing left queued: a FAILED SSE-C version is not retried for ever.
    await until('the queue to drain', async () => ((await a.trove.app.meta.workStats()).kinds.find((k) => k.kind === REPLICATE_KIND)?.depth ?? 0) === 0);
    assert.equal(hook.records().filter((x) => x.eventName === 'Replication:OperationFailedReplication' && x.s3.bucket.name === src).length, 1);
  });

  it('a destination that keeps failing: FAILED after three attempts, with S3’s failure reason in the event', async () => {
    const src = uniqueBucket('fsrc');
    const gone = uniqueBucket('fgone');
    const down = uniqueBucket('fdown');
    await versioned(a, src);
    // One destination bucket that does not exist on its server, one server that is not there.
    await a.trove.app.replication.remotes.add({ name: `r-${gone}`, endpoint: b.url, accessKey: ACCESS_KEY, secretKey: SECRET_KEY, buckets: [gone] });
    await a.trove.app.replication.remotes.add({ name: `r-${down}`, endpoint: 'http://127.0.0.1:1', accessKey: ACCESS_KEY, secretKey: SECRET_KEY, buckets: [down] });
    const rules = [rule(gone, { ID: 'gone', Priority: 2, Filter: { Prefix: 'g/' } }), rule(down, { ID: 'down', Priority: 1, Filter: { Prefix: 'd/' } })];
    await a.s3.send(new PutBucketReplicationCommand({ Bucket: src, ReplicationConfiguration: { Role: ROLE, Rules: rules } }));
    await a.s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: src, NotificationConfiguration: { QueueConfigurations: [{ Id: 'f', QueueArn: arn, Events: ['s3:Replication:OperationFailedReplication'] }] } }));
    await a.s3.send(new PutObjectCommand({ Bucket: src, Key: 'g/1', Body: 'x' }));
    await a.s3.send(new PutObjectCommand({ Bucket: src, Key: 'd/1', Body: 'y' }));
    const recs = await hook.waitFor((r) => r.filter((x) => x.s3.bucket.name === src).length >= 2, 40_000, 'two failure events');
    const reason = (k: string) => recs.find((x) => x.s3.bucket.name === src && x.s3.object.key === k)!.replicationEventData;
    assert.equal(reason('g/1').failureReason, 'DstBucketNotFound');
    assert.equal(reason('g/1').replicationRuleId, 'gone');
    assert.equal(reason('d/1').failureReason, 'DstConnectionFailed');
    assert.equal(reason('d/1').destinationBucket, `arn:aws:s3:::${down}`);
    assert.equal(await status(a, src, 'g/1'), 'FAILED');
    assert.equal(await status(a, src, 'd/1'), 'FAILED');
    // Still retried (never dropped), and the event is sent once, when the version became FAILED.
    assert.ok(((await a.trove.app.meta.workStats()).kinds.find((k) => k.kind === REPLICATE_KIND)?.depth ?? 0) >= 2);
    await sleep(500);
    assert.equal(hook.records().filter((x) => x.s3.bucket.name === src).length, 2);
    // Without its configuration, the items end (the versions stay FAILED, as S3 leaves them).
    await a.s3.send(new DeleteBucketReplicationCommand({ Bucket: src }));
  });

  it('SSE-KMS versions are not replicated by a rule that does not select them (no status, as S3)', async () => {
    const { src, dest } = await pair((d) => [rule(d)]);
    await a.s3.send(new PutObjectCommand({ Bucket: src, Key: 'kms', Body: 'secret', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'src-key' }));
    await a.s3.send(new PutObjectCommand({ Bucket: src, Key: 'plain', Body: 'plain' }));
    await until('plain COMPLETED', async () => (await status(a, src, 'plain')) === 'COMPLETED');
    assert.equal(await status(a, src, 'kms'), undefined);
    assert.equal((await s3error(b.s3.send(new HeadObjectCommand({ Bucket: dest, Key: 'kms' })))).$metadata.httpStatusCode, 404);
  });

  it('a destination that encrypts with SSE-KMS by default: its ETags are its own, the bytes checked by Content-MD5', async () => {
    const { src, dest } = await pair((d) => [rule(d)]);
    await b.s3.send(new PutBucketEncryptionCommand({ Bucket: dest, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'replica-key' } }] } }));
    const data = randomBytes(70_000);
    const put = await a.s3.send(new PutObjectCommand({ Bucket: src, Key: 'plain', Body: data }));
    const parts = [randomBytes(5 * 1024 * 1024), randomBytes(10)];
    await multipart(a, src, 'plain-mp', parts);
    for (const k of ['plain', 'plain-mp']) await until(`${k} COMPLETED`, async () => (await status(a, src, k)) === 'COMPLETED');
    const h = await b.s3.send(new HeadObjectCommand({ Bucket: dest, Key: 'plain' }));
    assert.equal(h.ServerSideEncryption, 'aws:kms');
    assert.equal(h.VersionId, put.VersionId);
    assert.notEqual(h.ETag, put.ETag);
    assert.equal(md5(await body(b, dest, 'plain')), md5(data));
    assert.equal(md5(await body(b, dest, 'plain-mp')), md5(Buffer.concat(parts)));
  });

  it('versions already in a tier (online, archive, encrypted) replicate, their bytes read through from the tier', async () => {
    const src = uniqueBucket('tsrc');
    const dest = uniqueBucket('tdst');
    await versioned(a, src);
    await versioned(b, dest);
    const data = { warm: randomBytes(150_000), cold: randomBytes(150_000), 'cold-sse': randomBytes(100_000), 'cold-inline': randomBytes(500) };
    for (const [k, v] of Object.entries(data)) await a.s3.send(new PutObjectCommand({ Bucket: src, Key: k, Body: v, ...(k === 'cold-sse' ? { ServerSideEncryption: 'AES256' as const } : {}) }));
    await move(a.trove.app, src, 'warm', 'STANDARD_IA');
    for (const k of ['cold', 'cold-sse', 'cold-inline']) await move(a.trove.app, src, k, 'GLACIER');
    assert.equal((await s3error(a.s3.send(new GetObjectCommand({ Bucket: src, Key: 'cold' })))).name, 'InvalidObjectState');
    // Replication configured afterwards, and what the bucket holds copied (trove admin replication resync).
    await a.trove.app.replication.remotes.add({ name: `r-${dest}`, endpoint: b.url, accessKey: ACCESS_KEY, secretKey: SECRET_KEY, buckets: [dest] });
    await a.s3.send(new PutBucketReplicationCommand({ Bucket: src, ReplicationConfiguration: { Role: ROLE, Rules: [rule(dest)] } }));
    const bucket = (await a.trove.app.meta.getBucket(src))!;
    const config = (await a.trove.app.replication.configs.get(bucket))!;
    assert.equal(await resync(a.trove.app.meta, bucket, config), 4);
    a.trove.app.engine.kick(REPLICATE_KIND);
    for (const k of Object.keys(data)) await until(`${k} COMPLETED`, async () => (await status(a, src, k)) === 'COMPLETED');
    for (const [k, v] of Object.entries(data)) {
      const h = await b.s3.send(new HeadObjectCommand({ Bucket: dest, Key: k }));
      assert.equal(h.ReplicationStatus, 'REPLICA', k);
      // The replica is readable at once: its storage class travels, its bytes are local there.
      assert.equal(h.StorageClass, k === 'warm' ? 'STANDARD_IA' : 'GLACIER', k);
      assert.equal(md5(await body(b, dest, k)), md5(v), k);
    }
    // The source versions are still archived (reading them for replication restored nothing).
    assert.equal((await s3error(a.s3.send(new GetObjectCommand({ Bucket: src, Key: 'cold' })))).name, 'InvalidObjectState');
  });

  it('a replicated version moved to an archive tier and restored on the source: the replica stays; transition and restore events arrive', async () => {
    const { src, dest } = await pair((d) => [rule(d)]);
    const data = randomBytes(120_000);
    const put = await a.s3.send(new PutObjectCommand({ Bucket: src, Key: 'doc', Body: data }));
    await until('doc COMPLETED', async () => (await status(a, src, 'doc')) === 'COMPLETED');
    await move(a.trove.app, src, 'doc', 'GLACIER');
    // s3:LifecycleTransition: eventVersion 2.3, caused by S3 itself, naming the destination class.
    let recs = await hook.waitFor((r) => r.some((x) => x.eventName === 'LifecycleTransition' && x.s3.bucket.name === src), 20_000, 'LifecycleTransition');
    const t = recs.find((x) => x.eventName === 'LifecycleTransition' && x.s3.bucket.name === src)!;
    assert.equal(t.eventVersion, '2.3');
    assert.equal(t.userIdentity.principalId, 's3.amazonaws.com');
    assert.equal(t.s3.object.versionId, put.VersionId);
    assert.equal(t.s3.object.eTag, put.ETag!.replace(/"/g, ''));
    assert.equal(t.s3.object.size, data.length);
    assert.deepEqual(t.lifecycleEventData, { transitionEventData: { destinationStorageClass: 'GLACIER' } });
    // The transition is not a change to replicate: the replica keeps its class and stays readable.
    const h = await b.s3.send(new HeadObjectCommand({ Bucket: dest, Key: 'doc' }));
    assert.equal(h.StorageClass, undefined);
    assert.equal(h.VersionId, put.VersionId);
    assert.equal(md5(await body(b, dest, 'doc')), md5(data));
    assert.equal(await status(a, src, 'doc'), 'COMPLETED');

    // RestoreObject: s3:ObjectRestore:Post names the requester; :Completed carries glacierEventData.
    const r = await a.s3.send(new RestoreObjectCommand({ Bucket: src, Key: 'doc', RestoreRequest: { Days: 1 } }));
    assert.equal(r.$metadata.httpStatusCode, 202);
    recs = await hook.waitFor((x) => x.some((y) => y.eventName === 'ObjectRestore:Completed' && y.s3.bucket.name === src), 20_000, 'ObjectRestore:Completed');
    const post = recs.find((x) => x.eventName === 'ObjectRestore:Post' && x.s3.bucket.name === src)!;
    assert.ok(post, 'ObjectRestore:Post');
    assert.equal(post.eventVersion, '2.1');
    assert.notEqual(post.userIdentity.principalId, 's3.amazonaws.com');
    assert.equal(post.requestParameters.sourceIPAddress, '127.0.0.1');
    assert.equal(post.glacierEventData, undefined);
    const done = recs.find((x) => x.eventName === 'ObjectRestore:Completed' && x.s3.bucket.name === src)!;
    assert.equal(done.eventVersion, '2.1');
    assert.equal(done.userIdentity.principalId, 's3.amazonaws.com');
    assert.equal(done.s3.object.versionId, put.VersionId);
    assert.equal(done.glacierEventData.restoreEventData.lifecycleRestoreStorageClass, 'GLACIER');
    const expiry = Date.parse(done.glacierEventData.restoreEventData.lifecycleRestorationExpiryTime);
    assert.ok(expiry > Date.now() - 5000 && expiry < Date.now() + 10_000, done.glacierEventData.restoreEventData.lifecycleRestorationExpiryTime);
    assert.ok(recs.indexOf(post) < recs.indexOf(done), 'Post before Completed');
    assert.equal(md5(await body(a, src, 'doc')), md5(data));
    // The restored copy expires after its day (two seconds here): s3:ObjectRestore:Delete (2.3).
    recs = await hook.waitFor((x) => x.some((y) => y.eventName === 'ObjectRestore:Delete' && y.s3.bucket.name === src), 20_000, 'ObjectRestore:Delete');
    const del = recs.find((x) => x.eventName === 'ObjectRestore:Delete' && x.s3.bucket.name === src)!;
    assert.equal(del.eventVersion, '2.3');
    assert.equal(del.s3.object.versionId, put.VersionId);
    assert.equal((await s3error(a.s3.send(new GetObjectCommand({ Bucket: src, Key: 'doc' })))).name, 'InvalidObjectState');
    // Restores and transitions record no replication: the source stays COMPLETED, nothing failed.
    assert.equal(await status(a, src, 'doc'), 'COMPLETED');
    assert.equal(hook.records().filter((x) => x.s3.bucket.name === src && x.eventName.startsWith('Replication:')).length, 0);
  });
});
