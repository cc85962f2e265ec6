// Server access logs with the real SDK: Put/GetBucketLogging and their refusals, delivery allowed
// by a bucket policy for logging.s3.amazonaws.com (with aws:SourceArn / aws:SourceAccount) or by
// the LogDelivery group's ACL grant, records that parse field for field, log object keys in both
// formats, and a server killed (SIGKILL) in the middle of a load: every request answered before the
// kill is in a delivered log object after the restart, and no record is malformed.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetBucketLoggingCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutBucketAclCommand,
  PutBucketLoggingCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
  type BucketLoggingStatus,
} from '@aws-sdk/client-s3';
import { ACCESS_KEY, REGION, SECRET_KEY, freePort, startServerProcess, TEST_META, bodyBytes, s3error, startServer, tempDir, testMetaUrl, uniqueBucket, type TestServer } from './helpers.js';
import { parseRecord, type Fields } from './support/accesslog.js';

const ROLL_MS = 600;
const LOG_DELIVERY = 'http://acs.amazonaws.com/groups/s3/LogDelivery';

function deliveryPolicy(target: string, source: string, account: string, resource = `arn:aws:s3:::${target}/log/*`): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'S3ServerAccessLogsPolicy',
        Effect: 'Allow',
        Principal: { Service: 'logging.s3.amazonaws.com' },
        Action: 's3:PutObject',
        Resource: resource,
        Condition: { ArnLike: { 'aws:SourceArn': `arn:aws:s3:::${source}` }, StringEquals: { 'aws:SourceAccount': account } },
      },
    ],
  });
}

/** Every record in the log objects of `bucket` under `prefix`, parsed (throws on a malformed one). */
async function records(s3: S3Client, bucket: string, prefix = ''): Promise<{ keys: string[]; records: Fields[] }> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) keys.push(o.Key!);
    token = page.NextContinuationToken;
  } while (token);
  const out: Fields[] = [];
  for (const k of keys) {
    const text = (await bodyBytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: k }))).Body)).toString();
    assert.ok(text.endsWith('\n'), 'a log object ends with a newline');
    for (const line of text.slice(0, -1).split('\n')) out.push(parseRecord(line));
  }
  return { keys, records: out };
}

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('server access logs', () => {
  let server: TestServer;
  let account: string;
  let owner: string;
  before(async () => {
    server = await startServer({ logRollMs: ROLL_MS });
    const root = (await server.trove.app.meta.getAccessKey(ACCESS_KEY))!;
    owner = root.userId;
    account = (await server.trove.app.accountIdOf(owner))!;
  });
  after(() => server.stop());

  async function pair(): Promise<{ source: string; target: string }> {
    const source = uniqueBucket('src');
    const target = uniqueBucket('logs');
    await server.s3.send(new CreateBucketCommand({ Bucket: source }));
    await server.s3.send(new CreateBucketCommand({ Bucket: target }));
    return { source, target };
  }

  it('PutBucketLogging / GetBucketLogging: round trip, grants, key formats, and turning it off', async () => {
    const { source, target } = await pair();
    assert.deepEqual((await server.s3.send(new GetBucketLoggingCommand({ Bucket: source }))).LoggingEnabled, undefined);
    await server.s3.send(new PutBucketPolicyCommand({ Bucket: target, Policy: deliveryPolicy(target, source, account) }));
    const status: BucketLoggingStatus = {
      LoggingEnabled: {
        TargetBucket: target,
        TargetPrefix: 'log/',
        TargetGrants: [{ Grantee: { Type: 'Group', URI: 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers' }, Permission: 'READ' }],
        TargetObjectKeyFormat: { PartitionedPrefix: { PartitionDateSource: 'DeliveryTime' } },
      },
    };
    await server.s3.send(new PutBucketLoggingCommand({ Bucket: source, BucketLoggingStatus: status }));
    const got = (await server.s3.send(new GetBucketLoggingCommand({ Bucket: source }))).LoggingEnabled!;
    assert.equal(got.TargetBucket, target);
    assert.equal(got.TargetPrefix, 'log/');
    assert.deepEqual(got.TargetObjectKeyFormat, { PartitionedPrefix: { PartitionDateSource: 'DeliveryTime' } });
    assert.equal(got.TargetGrants?.[0]?.Permission, 'READ');
    assert.equal(got.TargetGrants?.[0]?.Grantee?.URI, 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers');
    await server.s3.send(new PutBucketLoggingCommand({ Bucket: source, BucketLoggingStatus: {} }));
    assert.equal((await server.s3.send(new GetBucketLoggingCommand({ Bucket: source }))).LoggingEnabled, undefined);
  });

  it('refuses a target that does not exist, one that does not allow delivery, and bad key formats', async () => {
    const { source, target } = await pair();
    let e = await s3error(server.s3.send(new PutBucketLoggingCommand({ Bucket: source, BucketLoggingStatus: { LoggingEnabled: { TargetBucket: target + '-nope', TargetPrefix: 'log/' } } })));
    assert.equal(e.name, 'InvalidTargetBucketForLogging');
    // No policy and no ACL grant on the target: delivery would be refused.
    e = await s3error(server.s3.send(new PutBucketLoggingCommand({ Bucket: source, BucketLoggingStatus: { LoggingEnabled: { TargetBucket: target, TargetPrefix: 'log/' } } })));
    assert.equal(e.name, 'AccessDenied');
    // A policy for another source bucket, or another account, allows nothing here.
    await server.s3.send(new PutBucketPolicyCommand({ Bucket: target, Policy: deliveryPolicy(target, 'another-bucket', account) }));
    e = await s3error(server.s3.send(new PutBucketLoggingCommand({ Bucket: source, BucketLoggingStatus: { LoggingEnabled: { TargetBucket: target, TargetPrefix: 'log/' } } })));
    assert.equal(e.name, 'AccessDenied');
    await server.s3.send(new PutBucketPolicyCommand({ Bucket: target, Policy: deliveryPolicy(target, source, '999999999999') }));
    e = await s3error(server.s3.send(new PutBucketLoggingCommand({ Bucket: source, BucketLoggingStatus: { LoggingEnabled: { TargetBucket: target, TargetPrefix: 'log/' } } })));
    assert.equal(e.name, 'AccessDenied');
    await server.s3.send(new PutBucketPolicyCommand({ Bucket: target, Policy: deliveryPolicy(target, source, account) }));
    e = await s3error(
      server.s3.send(
        new PutBucketLoggingCommand({
          Bucket: source,
          BucketLoggingStatus: { LoggingEnabled: { TargetBucket: target, TargetPrefix: 'log/', TargetObjectKeyFormat: { PartitionedPrefix: { PartitionDateSource: 'Yesterday' as 'EventTime' } } } },
        }),
      ),
    );
    assert.equal(e.name, 'MalformedXML');
  });

  it('delivers records of every request, in S3 format, to [prefix][date]-[unique] objects', async () => {
    const { source, target } = await pair();
    await server.s3.send(new PutBucketPolicyCommand({ Bucket: target, Policy: deliveryPolicy(target, source, account) }));
    await server.s3.send(new PutBucketLoggingCommand({ Bucket: source, BucketLoggingStatus: { LoggingEnabled: { TargetBucket: target, TargetPrefix: 'log/' } } }));
    const put = await server.s3.send(new PutObjectCommand({ Bucket: source, Key: 'dir/a key ü', Body: 'hello' }));
    const get = await server.s3.send(new GetObjectCommand({ Bucket: source, Key: 'dir/a key ü' }));
    await bodyBytes(get.Body);
    const missing = await s3error(server.s3.send(new GetObjectCommand({ Bucket: source, Key: 'missing' })));
    assert.equal(missing.name, 'NoSuchKey');
    await server.s3.send(new ListObjectsV2Command({ Bucket: source }));
    const putId = put.$metadata.requestId!;
    const got = await until('the log object', async () => {
      const r = await records(server.s3, target, 'log/');
      return r.records.length >= 4 ? r : undefined;
    });
    assert.equal(got.keys.length, 1);
    assert.match(got.keys[0]!, /^log\/\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9A-F]{16}$/);
    const byOp = new Map(got.records.map((r) => [r.operation + (r.status === '404' ? '404' : ''), r]));
    const p = byOp.get('REST.PUT.OBJECT')!;
    assert.equal(p.requestId, putId, 'the record carries the x-amz-request-id of the response');
    assert.equal(p.bucketOwner, owner);
    assert.equal(p.bucket, source);
    assert.equal(p.requester, owner);
    assert.equal(p.key, 'dir/a%20key%20%C3%BC');
    assert.equal(p.status, '200');
    assert.equal(p.objectSize, '5');
    assert.equal(p.signatureVersion, 'SigV4');
    assert.equal(p.authType, 'AuthHeader');
    assert.equal(p.remoteIp, '127.0.0.1');
    assert.match(p.requestUri, /^PUT \/.+ HTTP\/1\.1$/);
    const g = byOp.get('REST.GET.OBJECT')!;
    assert.equal(g.bytesSent, '5');
    assert.equal(g.objectSize, '5');
    const m = byOp.get('REST.GET.OBJECT404')!;
    assert.equal(m.errorCode, 'NoSuchKey');
    assert.equal(m.key, 'missing');
    assert.ok(byOp.get('REST.GET.BUCKET'));
    // Delivered batches are gone from the store, and so are their log.deliver work items.
    await until('the delivery work item to complete', async () => {
      const stats = await server.trove.app.meta.workStats();
      return (stats.kinds.find((k) => k.kind === 'log.deliver')?.depth ?? 0) === 0 ? true : undefined;
    });
    assert.deepEqual(await server.trove.app.meta.dueLogBatches(Date.now() + 60_000, 10), []);
  });

  it('DeleteObjects: the request, and a BATCH.DELETE.OBJECT record for each object it deleted', async () => {
    const { source, target } = await pair();
    await server.s3.send(new PutBucketVersioningCommand({ Bucket: source, VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = await server.s3.send(new PutObjectCommand({ Bucket: source, Key: 'a', Body: 'x' }));
    await server.s3.send(new PutObjectCommand({ Bucket: source, Key: 'b', Body: 'x' }));
    await server.s3.send(new PutBucketPolicyCommand({ Bucket: target, Policy: deliveryPolicy(target, source, account) }));
    await server.s3.send(new PutBucketLoggingCommand({ Bucket: source, BucketLoggingStatus: { LoggingEnabled: { TargetBucket: target, TargetPrefix: 'log/' } } }));
    const del = await server.s3.send(
      new DeleteObjectsCommand({ Bucket: source, Delete: { Objects: [{ Key: 'a', VersionId: v1.VersionId! }, { Key: 'b' }, { Key: 'bad', VersionId: 'nope' }] } }),
    );
    assert.equal(del.Errors?.length, 1);
    const marker = del.Deleted!.find((d) => d.Key === 'b')!.DeleteMarkerVersionId!;
    const got = await until('the log object', async () => {
      const r = await records(server.s3, target, 'log/');
      return r.records.length >= 3 ? r : undefined;
    });
    const requestId = del.$metadata.requestId!;
    const request = got.records.filter((r) => r.operation === 'REST.POST.MULTI_OBJECT_DELETE');
    assert.equal(request.length, 1);
    assert.equal(request[0]!.requestId, requestId);
    const batch = got.records.filter((r) => r.operation === 'BATCH.DELETE.OBJECT').map((r) => [r.key, r.versionId, r.status, r.requestId]);
    assert.deepEqual(batch, [
      ['a', v1.VersionId, '204', requestId],
      ['b', marker, '204', requestId],
    ], 'one per object deleted, none for the one that failed');
  });

  it('PartitionedPrefix keys, and delivery allowed by the LogDelivery group ACL (legacy)', async () => {
    const { source, target } = await pair();
    await server.s3.send(new PutBucketAclCommand({ Bucket: target, GrantWrite: `uri="${LOG_DELIVERY}"`, GrantFullControl: `id="${owner}"` }));
    await server.s3.send(
      new PutBucketLoggingCommand({
        Bucket: source,
        BucketLoggingStatus: { LoggingEnabled: { TargetBucket: target, TargetPrefix: 'p/', TargetObjectKeyFormat: { PartitionedPrefix: { PartitionDateSource: 'EventTime' } } } },
      }),
    );
    await server.s3.send(new PutObjectCommand({ Bucket: source, Key: 'k', Body: 'x' }));
    const got = await until('the log object', async () => {
      const r = await records(server.s3, target, 'p/');
      return r.records.length >= 1 ? r : undefined;
    });
    const d = new Date();
    const day = `${d.getUTCFullYear()}/${String(d.getUTCMonth() + 1).padStart(2, '0')}/${String(d.getUTCDate()).padStart(2, '0')}`;
    assert.match(got.keys[0]!, new RegExp(`^p/${account}/${REGION}/${source}/${day}/\\d{4}-\\d{2}-\\d{2}-\\d{2}-\\d{2}-\\d{2}-[0-9A-F]{16}$`));
  });

  it("answers only once the request's record is committed (a slow store delays the answer, never the record)", async () => {
    const { source, target } = await pair();
    await server.s3.send(new PutBucketPolicyCommand({ Bucket: target, Policy: deliveryPolicy(target, source, account) }));
    await server.s3.send(new PutBucketLoggingCommand({ Bucket: source, BucketLoggingStatus: { LoggingEnabled: { TargetBucket: target, TargetPrefix: 'log/' } } }));
    const meta = server.trove.app.meta;
    const append = meta.appendLogRecords.bind(meta);
    let committedAt = 0;
    meta.appendLogRecords = async (...args) => {
      await new Promise((r) => setTimeout(r, 300));
      const opened = await append(...args);
      committedAt = Date.now();
      return opened;
    };
    try {
      const started = Date.now();
      const e = await s3error(server.s3.send(new GetObjectCommand({ Bucket: source, Key: 'nothing-here' })));
      const answered = Date.now();
      assert.equal(e.name, 'NoSuchKey');
      assert.ok(committedAt > 0 && committedAt <= answered, 'the record was committed before the answer arrived');
      assert.ok(answered - started >= 300);
    } finally {
      meta.appendLogRecords = append;
    }
  });

  it('drops a batch whose target no longer allows delivery', async () => {
    const { source, target } = await pair();
    await server.s3.send(new PutBucketPolicyCommand({ Bucket: target, Policy: deliveryPolicy(target, source, account) }));
    await server.s3.send(new PutBucketLoggingCommand({ Bucket: source, BucketLoggingStatus: { LoggingEnabled: { TargetBucket: target, TargetPrefix: 'log/' } } }));
    await server.s3.send(new PutObjectCommand({ Bucket: source, Key: 'k', Body: 'x' }));
    await server.s3.send(new PutBucketPolicyCommand({ Bucket: target, Policy: deliveryPolicy(target, 'someone-else', account) }));
    await new Promise((r) => setTimeout(r, ROLL_MS * 3));
    assert.deepEqual((await records(server.s3, target)).keys, []);
    assert.deepEqual(await server.trove.app.meta.dueLogBatches(Date.now() + 60_000, 10), []);
  });
});

// ---------------------------------------------------------------- kill -9 in the middle of a load



function startProcess(dataDir: string, port: number, metaUrl: string | undefined): Promise<ChildProcess> {
  return startServerProcess(dataDir, port, ['--log-roll-seconds', '1', ...(metaUrl ? ['--meta', metaUrl] : [])]);
}

describe(`server access logs across a crash (${TEST_META})`, () => {
  it('every request answered before kill -9 is delivered after the restart; no record is malformed', async () => {
    const dataDir = await tempDir();
    const metaUrl = await testMetaUrl(dataDir);
    const port = await freePort();
    let child = await startProcess(dataDir, port, metaUrl);
    const s3 = new S3Client({ endpoint: `http://127.0.0.1:${port}`, region: REGION, forcePathStyle: true, credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, maxAttempts: 1 });
    try {
      const source = 'crash-src';
      const target = 'crash-logs';
      await s3.send(new CreateBucketCommand({ Bucket: source }));
      await s3.send(new CreateBucketCommand({ Bucket: target }));
      await s3.send(new PutBucketAclCommand({ Bucket: target, GrantWrite: `uri="${LOG_DELIVERY}"` }));
      await s3.send(new PutBucketLoggingCommand({ Bucket: source, BucketLoggingStatus: { LoggingEnabled: { TargetBucket: target, TargetPrefix: 'log/' } } }));
      const acknowledged = new Set<string>();
      let stop = false;
      let seq = 0;
      const worker = async () => {
        while (!stop) {
          const n = seq++;
          try {
            const r = n % 2 === 0 ? await s3.send(new PutObjectCommand({ Bucket: source, Key: `k${n % 50}`, Body: `body ${n}` })) : await s3.send(new GetObjectCommand({ Bucket: source, Key: `k${(n - 1) % 50}` }));
            if ('Body' in r && r.Body) await bodyBytes(r.Body);
            acknowledged.add(r.$metadata.requestId!);
          } catch (e) {
            const id = (e as { $metadata?: { requestId?: string; httpStatusCode?: number } }).$metadata;
            // An S3 error answer (a GET of a key not written yet) is acknowledged too.
            if (id?.httpStatusCode && id.requestId) acknowledged.add(id.requestId);
          }
        }
      };
      const workers = Array.from({ length: 8 }, worker);
      // Long enough for batches to roll and be delivered while the load goes on.
      await new Promise((r) => setTimeout(r, 2500));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      stop = true;
      await Promise.all(workers);
      assert.ok(acknowledged.size > 50, `only ${acknowledged.size} requests were answered`);

      child = await startProcess(dataDir, port, metaUrl);
      const found = await until(
        'every acknowledged request in the delivered logs',
        async () => {
          const ids = new Set((await records(s3, target, 'log/')).records.map((r) => r.requestId));
          const lost = [...acknowledged].filter((id) => !ids.has(id));
          return lost.length === 0 ? ids : undefined;
        },
        30_000,
      );
      assert.ok(found.size >= acknowledged.size);
    } finally {
      s3.destroy();
      child.kill('SIGKILL');
    }
  });
});
