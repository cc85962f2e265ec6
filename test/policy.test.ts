// Bucket policies end to end: two accounts, anonymous callers, conditions, copy sources, explicit
// denies for the owner and the no-lock-out rule, with the real SDK and raw HTTP.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketPolicyCommand,
  DeletePublicAccessBlockCommand,
  PutBucketAclCommand,
  PutPublicAccessBlockCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutObjectCommand,
  PutObjectLockConfigurationCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { parseCidr } from '../src/authz/policy/ip.js';
import { ACCESS_KEY, errorCode, raw, s3error, startServer, uniqueBucket, type TestServer } from './helpers.js';

const OTHER = { canonical: 'b'.repeat(64), accountId: '222233334444', accessKeyId: 'OTHERACCOUNTKEY00001', secretAccessKey: 'other-account-secret-000000000001' };

function policy(...statements: object[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

describe('bucket policies', () => {
  let srv: TestServer;
  let other: S3Client;
  let ownerAccount: string;
  const bucket = uniqueBucket('pol');

  before(async () => {
    srv = await startServer();
    const meta = srv.trove.app.meta;
    await meta.putAccount({ id: OTHER.canonical, accountId: OTHER.accountId, displayName: 'other', createdAt: Date.now() });
    await meta.putAccessKey({ accessKeyId: OTHER.accessKeyId, secretAccessKey: OTHER.secretAccessKey, userId: OTHER.canonical, createdAt: Date.now() });
    other = srv.client({ credentials: { accessKeyId: OTHER.accessKeyId, secretAccessKey: OTHER.secretAccessKey } });
    ownerAccount = (await meta.getAccount((await meta.getAccessKey(ACCESS_KEY))!.userId))!.accountId;
    await srv.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    for (const k of ['public/a.txt', 'private/b.txt', 'home/other/c.txt', 'keep/d.txt', 'drop/e.txt']) {
      await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: `body of ${k}` }));
    }
  });
  after(() => srv.stop());

  it('gives accounts 12-digit ids', () => {
    assert.match(ownerAccount, /^\d{12}$/);
  });

  it('refuses anonymous and other accounts without a policy', async () => {
    const anon = await raw(srv, { method: 'GET', path: `/${bucket}/public/a.txt`, sign: false });
    assert.equal(anon.status, 403);
    const e = await s3error(other.send(new GetObjectCommand({ Bucket: bucket, Key: 'public/a.txt' })));
    assert.equal(e.name, 'AccessDenied');
  });

  it('validates a policy and answers MalformedPolicy with the reason', async () => {
    const wrongBucket = policy({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::some-other-bucket/*' });
    const e = await s3error(srv.s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: wrongBucket })));
    assert.equal(e.name, 'MalformedPolicy');
    assert.match(e.message, /resource/i);
    const notJson = await s3error(srv.s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: '{"Version": "2012-10-17", "Statement": [' })));
    assert.equal(notJson.name, 'MalformedPolicy');
    const noPolicy = await s3error(srv.s3.send(new GetBucketPolicyCommand({ Bucket: bucket })));
    assert.equal(noPolicy.name, 'NoSuchBucketPolicy');
  });

  it('answers GetBucketPolicyStatus without a policy, from the ACL, as Ceph RGW does', async () => {
    const b = uniqueBucket('polst');
    await srv.s3.send(new CreateBucketCommand({ Bucket: b }));
    const isPublic = async () => (await srv.s3.send(new GetBucketPolicyStatusCommand({ Bucket: b }))).PolicyStatus?.IsPublic;
    assert.equal(await isPublic(), false);
    await srv.s3.send(new PutBucketAclCommand({ Bucket: b, ACL: 'authenticated-read' }));
    assert.equal(await isPublic(), true);
    await srv.s3.send(new PutPublicAccessBlockCommand({ Bucket: b, PublicAccessBlockConfiguration: { IgnorePublicAcls: true } }));
    assert.equal(await isPublic(), false, 'IgnorePublicAcls: the ACL does not make the bucket public');
    await srv.s3.send(new DeletePublicAccessBlockCommand({ Bucket: b }));
    await srv.s3.send(new PutBucketAclCommand({ Bucket: b, ACL: 'private' }));
    const restricted = policy({ Effect: 'Allow', Principal: '*', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${b}`, Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/32' } } });
    await srv.s3.send(new PutBucketPolicyCommand({ Bucket: b, Policy: restricted }));
    assert.equal(await isPublic(), false);
    await srv.s3.send(new PutBucketPolicyCommand({ Bucket: b, Policy: policy({ Effect: 'Allow', Principal: '*', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${b}` }) }));
    assert.equal(await isPublic(), true);
  });

  it('accepts resources whose wildcards name the bucket, and applies them to that bucket only', async () => {
    const b = uniqueBucket('polwild');
    await srv.s3.send(new CreateBucketCommand({ Bucket: b }));
    await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'v' }));
    const wide = policy({ Effect: 'Allow', Principal: { AWS: '*' }, Action: 's3:ListBucket', Resource: ['arn:aws:s3:::*', 'arn:aws:s3:::*/*'] });
    await srv.s3.send(new PutBucketPolicyCommand({ Bucket: b, Policy: wide }));
    const listed = await other.send(new ListObjectsV2Command({ Bucket: b }));
    assert.deepEqual(listed.Contents?.map((o) => o.Key), ['k']);
    // The policy of bucket b says nothing about the first bucket.
    assert.equal((await s3error(other.send(new ListObjectsV2Command({ Bucket: bucket })))).name, 'AccessDenied');
    for (const r of ['*', 'arn:aws:s3:::other-*', `arn:aws:s3:::${b}x/*`]) {
      const e = await s3error(srv.s3.send(new PutBucketPolicyCommand({ Bucket: b, Policy: policy({ Effect: 'Allow', Principal: '*', Action: 's3:ListBucket', Resource: r }) })));
      assert.equal(e.name, 'MalformedPolicy', r);
      assert.equal(e.message, 'Policy has invalid resource');
    }
  });

  it('lets anonymous callers read what a public policy grants, and nothing else', async () => {
    const doc = policy({ Sid: 'PublicRead', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/public/*` });
    const put = await raw(srv, { method: 'PUT', path: `/${bucket}`, query: { policy: '' }, body: doc });
    assert.equal(put.status, 204, put.text);
    const got = await srv.s3.send(new GetBucketPolicyCommand({ Bucket: bucket }));
    assert.deepEqual(JSON.parse(got.Policy!), JSON.parse(doc));
    const status = await srv.s3.send(new GetBucketPolicyStatusCommand({ Bucket: bucket }));
    assert.equal(status.PolicyStatus?.IsPublic, true);

    const anon = await raw(srv, { method: 'GET', path: `/${bucket}/public/a.txt`, sign: false });
    assert.equal(anon.status, 200, anon.text);
    assert.equal(anon.text, 'body of public/a.txt');
    assert.equal((await raw(srv, { method: 'GET', path: `/${bucket}/private/b.txt`, sign: false })).status, 403);
    const anonPut = await raw(srv, { method: 'PUT', path: `/${bucket}/public/new.txt`, sign: false, body: 'x' });
    assert.equal(anonPut.status, 403);
    assert.equal(errorCode(anonPut.text), 'AccessDenied');
    // Another account is "*" too.
    const o = await other.send(new GetObjectCommand({ Bucket: bucket, Key: 'public/a.txt' }));
    assert.equal(await o.Body!.transformToString(), 'body of public/a.txt');
  });

  it('answers a missing key 403 to a reader allowed s3:GetObject but not s3:ListBucket, 404 once it may list', async () => {
    const b = uniqueBucket('conceal');
    await srv.s3.send(new CreateBucketCommand({ Bucket: b }));
    await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'there.txt', Body: 'here' }));
    const read = { Sid: 'PublicRead', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*` };
    assert.equal((await raw(srv, { method: 'PUT', path: `/${b}`, query: { policy: '' }, body: policy(read) })).status, 204);
    const get = (key: string, method = 'GET') => raw(srv, { method, path: `/${b}/${key}`, sign: false });
    assert.equal((await get('there.txt')).status, 200);
    const missing = await get('missing.txt');
    assert.equal(missing.status, 403, missing.text);
    assert.equal(errorCode(missing.text), 'AccessDenied');
    assert.equal((await get('missing.txt', 'HEAD')).status, 403);
    // The owner may list: it learns nothing new from a 404.
    assert.equal((await s3error(srv.s3.send(new GetObjectCommand({ Bucket: b, Key: 'missing.txt' })))).name, 'NoSuchKey');

    const list = { Sid: 'PublicList', Effect: 'Allow', Principal: '*', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${b}` };
    assert.equal((await raw(srv, { method: 'PUT', path: `/${b}`, query: { policy: '' }, body: policy(read, list) })).status, 204);
    const now = await get('missing.txt');
    assert.equal(now.status, 404, now.text);
    assert.equal(errorCode(now.text), 'NoSuchKey');
  });

  it('lets an anonymous writer upload where a policy allows it; the bucket owner owns the object', async () => {
    await srv.s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policy({ Effect: 'Allow', Principal: '*', Action: 's3:PutObject', Resource: `arn:aws:s3:::${bucket}/dropbox/*` }) }));
    const put = await raw(srv, { method: 'PUT', path: `/${bucket}/dropbox/anon.txt`, sign: false, body: 'anonymous upload' });
    assert.equal(put.status, 200, put.text);
    const listed = await srv.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'dropbox/', FetchOwner: true }));
    assert.equal(listed.Contents?.[0]?.Owner?.ID, (await srv.trove.app.meta.getAccessKey(ACCESS_KEY))!.userId);
  });

  it('grants another account a prefix, listing included, with conditions on s3:prefix', async () => {
    const arn = `arn:aws:iam::${OTHER.accountId}:root`;
    await srv.s3.send(
      new PutBucketPolicyCommand({
        Bucket: bucket,
        Policy: policy(
          { Effect: 'Allow', Principal: { AWS: arn }, Action: ['s3:GetObject', 's3:PutObject'], Resource: `arn:aws:s3:::${bucket}/home/other/*` },
          { Effect: 'Allow', Principal: { AWS: OTHER.accountId }, Action: 's3:ListBucket', Resource: `arn:aws:s3:::${bucket}`, Condition: { StringLike: { 's3:prefix': 'home/other/*' } } },
        ),
      }),
    );
    await other.send(new PutObjectCommand({ Bucket: bucket, Key: 'home/other/new.txt', Body: 'from other' }));
    const mine = await other.send(new GetObjectCommand({ Bucket: bucket, Key: 'home/other/c.txt' }));
    assert.equal(await mine.Body!.transformToString(), 'body of home/other/c.txt');
    const listed = await other.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'home/other/' }));
    assert.deepEqual(listed.Contents?.map((c) => c.Key), ['home/other/c.txt', 'home/other/new.txt']);
    assert.equal((await s3error(other.send(new ListObjectsV2Command({ Bucket: bucket })))).name, 'AccessDenied');
    assert.equal((await s3error(other.send(new GetObjectCommand({ Bucket: bucket, Key: 'private/b.txt' })))).name, 'AccessDenied');
    assert.equal((await s3error(other.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'home/other/c.txt' })))).name, 'AccessDenied');
    // The previous public grant is gone with the policy it was in.
    assert.equal((await raw(srv, { method: 'GET', path: `/${bucket}/public/a.txt`, sign: false })).status, 403);
  });

  it('authorises CopyObject as a read of the source and a write of the destination', async () => {
    const theirs = uniqueBucket('theirs');
    await other.send(new CreateBucketCommand({ Bucket: theirs }));
    // Allowed to read home/other/* only.
    await other.send(new CopyObjectCommand({ Bucket: theirs, Key: 'copied', CopySource: `${bucket}/home/other/c.txt` }));
    const copied = await other.send(new GetObjectCommand({ Bucket: theirs, Key: 'copied' }));
    assert.equal(await copied.Body!.transformToString(), 'body of home/other/c.txt');
    const e = await s3error(other.send(new CopyObjectCommand({ Bucket: theirs, Key: 'stolen', CopySource: `${bucket}/private/b.txt` })));
    assert.equal(e.name, 'AccessDenied');
    // And the owner cannot write into the other account's bucket by copying.
    const w = await s3error(srv.s3.send(new CopyObjectCommand({ Bucket: theirs, Key: 'pushed', CopySource: `${bucket}/private/b.txt` })));
    assert.equal(w.name, 'AccessDenied');
  });

  it('applies an explicit Deny to the owner, checks DeleteObjects key by key, and never locks the owner out', async () => {
    await srv.s3.send(
      new PutBucketPolicyCommand({
        Bucket: bucket,
        Policy: policy(
          { Sid: 'NoDeletes', Effect: 'Deny', Principal: '*', Action: ['s3:DeleteObject', 's3:DeleteObjectVersion'], Resource: `arn:aws:s3:::${bucket}/keep/*` },
          { Sid: 'NoPolicyChanges', Effect: 'Deny', Principal: '*', Action: ['s3:GetBucketPolicy', 's3:PutBucketPolicy', 's3:DeleteBucketPolicy'], Resource: `arn:aws:s3:::${bucket}` },
        ),
      }),
    );
    assert.equal((await s3error(srv.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'keep/d.txt' })))).name, 'AccessDenied');
    const batch = await srv.s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'keep/d.txt' }, { Key: 'drop/e.txt' }] } }));
    assert.deepEqual(batch.Deleted?.map((d) => d.Key), ['drop/e.txt']);
    assert.deepEqual(batch.Errors?.map((x) => [x.Key, x.Code]), [['keep/d.txt', 'AccessDenied']]);
    assert.equal((await srv.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'keep/d.txt' }))).$metadata.httpStatusCode, 200);
    // The bucket owner's root may still read and delete the policy that denies it.
    await srv.s3.send(new GetBucketPolicyCommand({ Bucket: bucket }));
    await srv.s3.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
    await srv.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'keep/d.txt' }));
  });

  it('tests s3:ExistingObjectTag against the tags of the object addressed', async () => {
    const tagged = uniqueBucket('tags');
    await srv.s3.send(new CreateBucketCommand({ Bucket: tagged }));
    await srv.s3.send(new PutObjectCommand({ Bucket: tagged, Key: 'open', Body: 'o', Tagging: 'security=public' }));
    await srv.s3.send(new PutObjectCommand({ Bucket: tagged, Key: 'closed', Body: 'c', Tagging: 'security=private' }));
    await srv.s3.send(new PutObjectCommand({ Bucket: tagged, Key: 'untagged', Body: 'u' }));
    await srv.s3.send(
      new PutBucketPolicyCommand({
        Bucket: tagged,
        Policy: policy({ Effect: 'Allow', Principal: { AWS: OTHER.accountId }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${tagged}/*`, Condition: { StringEquals: { 's3:ExistingObjectTag/security': 'public' } } }),
      }),
    );
    assert.equal(await (await other.send(new GetObjectCommand({ Bucket: tagged, Key: 'open' }))).Body!.transformToString(), 'o');
    for (const k of ['closed', 'untagged']) assert.equal((await s3error(other.send(new GetObjectCommand({ Bucket: tagged, Key: k })))).name, 'AccessDenied', k);
  });

  it('tests aws:SourceIp against the client address, X-Forwarded-For only from a trusted proxy', async () => {
    const doc = policy({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/public/*`, Condition: { IpAddress: { 'aws:SourceIp': '10.1.0.0/16' } } });
    await srv.s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: doc }));
    const spoofed = await raw(srv, { method: 'GET', path: `/${bucket}/public/a.txt`, sign: false, headers: { 'x-forwarded-for': '10.1.2.3' } });
    assert.equal(spoofed.status, 403, 'X-Forwarded-For from an untrusted peer is ignored');
    const proxied = await startServer({ trustedProxies: [parseCidr('127.0.0.1')!] });
    try {
      await proxied.s3.send(new CreateBucketCommand({ Bucket: 'proxied' }));
      await proxied.s3.send(new PutObjectCommand({ Bucket: 'proxied', Key: 'public/a.txt', Body: 'via proxy' }));
      await proxied.s3.send(new PutBucketPolicyCommand({ Bucket: 'proxied', Policy: doc.replaceAll(bucket, 'proxied') }));
      const viaProxy = await raw(proxied, { method: 'GET', path: '/proxied/public/a.txt', sign: false, headers: { 'x-forwarded-for': '10.1.2.3' } });
      assert.equal(viaProxy.status, 200, viaProxy.text);
      const outside = await raw(proxied, { method: 'GET', path: '/proxied/public/a.txt', sign: false, headers: { 'x-forwarded-for': '10.1.2.3, 192.0.2.7' } });
      assert.equal(outside.status, 403);
    } finally {
      await proxied.stop();
    }
  });

  it('honours x-amz-bypass-governance-retention only for a caller allowed s3:BypassGovernanceRetention', async () => {
    const locked = uniqueBucket('lock');
    await srv.s3.send(new CreateBucketCommand({ Bucket: locked, ObjectLockEnabledForBucket: true }));
    await srv.s3.send(new PutObjectLockConfigurationCommand({ Bucket: locked, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } } } }));
    const v1 = (await srv.s3.send(new PutObjectCommand({ Bucket: locked, Key: 'k', Body: '1' }))).VersionId!;
    const v2 = (await srv.s3.send(new PutObjectCommand({ Bucket: locked, Key: 'k', Body: '2' }))).VersionId!;
    await srv.s3.send(new PutBucketPolicyCommand({ Bucket: locked, Policy: policy({ Effect: 'Deny', Principal: '*', Action: 's3:BypassGovernanceRetention', Resource: `arn:aws:s3:::${locked}/*` }) }));
    const refused = await s3error(srv.s3.send(new DeleteObjectCommand({ Bucket: locked, Key: 'k', VersionId: v1, BypassGovernanceRetention: true })));
    assert.equal(refused.name, 'AccessDenied');
    await srv.s3.send(new DeleteBucketPolicyCommand({ Bucket: locked }));
    await srv.s3.send(new DeleteObjectCommand({ Bucket: locked, Key: 'k', VersionId: v1, BypassGovernanceRetention: true }));
    await srv.s3.send(new DeleteObjectCommand({ Bucket: locked, Key: 'k', VersionId: v2, BypassGovernanceRetention: true }));
  });
});
