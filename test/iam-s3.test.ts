// IAM users in S3 authorisation, against a real server with the S3 SDK: identity-based policies
// (inline, managed, through groups), bucket policies naming users, cross-account access, inactive
// keys, ownership of what users write, and policy variables. IAM state is set up through the IAM
// service and store directly; test/iam.test.ts drives the same through the IAM API.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutBucketPolicyCommand, PutObjectCommand, DeleteBucketPolicyCommand, type S3Client } from '@aws-sdk/client-s3';
import type { IamUser } from '../src/store/meta/types.js';
import { ACCESS_KEY, s3error, startServer, uniqueBucket, type TestServer } from './helpers.js';

const doc = (...statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });

describe('IAM users in S3 authorisation', () => {
  let srv: TestServer;
  let account: { id: string; accountId: string };
  const bucket = uniqueBucket('iams3');

  /** An IAM user of `acct` with one key, and an S3 client signing with it. */
  async function user(name: string, acct = account): Promise<{ user: IamUser; s3: S3Client; keyId: string }> {
    const u = await srv.trove.app.iam.createUser(acct.accountId, name, '/');
    const k = await srv.trove.app.iam.createAccessKey(acct, u);
    return { user: u, s3: srv.client({ credentials: { accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey } }), keyId: k.accessKeyId };
  }

  async function putInline(owner: { kind: 'user' | 'group'; id: string }, name: string, json: string): Promise<void> {
    await srv.trove.app.meta.iam.putInlinePolicy(owner, name, json);
    srv.trove.app.iam.changed(account.accountId);
  }

  before(async () => {
    srv = await startServer();
    const meta = srv.trove.app.meta;
    const canonical = (await meta.getAccessKey(ACCESS_KEY))!.userId;
    account = { id: canonical, accountId: (await meta.getAccount(canonical))!.accountId };
    await srv.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    for (const k of ['public/a.txt', 'private/b.txt', 'home/carol/c.txt', 'home/dave/d.txt']) await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: `body of ${k}` }));
  });
  after(() => srv.stop());

  it('gives a same-account user nothing without an identity-based allow, and what its inline policy allows', async () => {
    const { user: u, s3 } = await user('alice');
    assert.equal((await s3error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'public/a.txt' })))).name, 'AccessDenied');
    await putInline({ kind: 'user', id: u.id }, 'read-public', doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/public/*` }));
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'public/a.txt' }));
    assert.equal(await got.Body!.transformToString(), 'body of public/a.txt');
    assert.equal((await s3error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'private/b.txt' })))).name, 'AccessDenied');
    assert.equal((await s3error(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'public/new.txt', Body: 'x' })))).name, 'AccessDenied');
    // An explicit Deny wins over the Allow.
    await putInline({ kind: 'user', id: u.id }, 'deny', doc({ Effect: 'Deny', Action: 's3:*', Resource: `arn:aws:s3:::${bucket}/public/a.txt` }));
    assert.equal((await s3error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'public/a.txt' })))).name, 'AccessDenied');
  });

  it('takes policies from groups and from the default version of managed policies', async () => {
    const { user: u, s3 } = await user('bob');
    const iam = srv.trove.app.meta.iam;
    await iam.createGroup({ accountId: account.accountId, id: 'AGPAS3TEST00000000001', name: 'readers', path: '/', createdAt: Date.now() });
    await iam.addUserToGroup('AGPAS3TEST00000000001', u.id, 10);
    const p = await iam.createPolicy({ accountId: account.accountId, id: 'ANPAS3TEST00000000001', name: 'read-private', path: '/', createdAt: Date.now() }, doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/public/*` }));
    await iam.attachPolicy({ kind: 'group', id: 'AGPAS3TEST00000000001' }, p.id, 10);
    srv.trove.app.iam.changed(account.accountId);
    await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'public/a.txt' }));
    assert.equal((await s3error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'private/b.txt' })))).name, 'AccessDenied');
    await iam.createPolicyVersion(p.id, doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/private/*` }), true, Date.now(), 5);
    srv.trove.app.iam.changed(account.accountId);
    await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'private/b.txt' }));
    assert.equal((await s3error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'public/a.txt' })))).name, 'AccessDenied');
  });

  it('lets a bucket policy naming the user grant it directly, but not one naming only the account', async () => {
    const { user: u, s3 } = await user('erin');
    const arn = `arn:aws:iam::${account.accountId}:user/${u.name}`;
    await srv.s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: doc({ Effect: 'Allow', Principal: { AWS: account.accountId }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }) }));
    assert.equal((await s3error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'private/b.txt' })))).name, 'AccessDenied');
    await srv.s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: doc({ Effect: 'Allow', Principal: { AWS: arn }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }) }));
    await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'private/b.txt' }));
    await srv.s3.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
  });

  it('fills aws:username, and the objects a user writes are owned by its account', async () => {
    const { user: u, s3 } = await user('carol');
    await putInline(
      { kind: 'user', id: u.id },
      'home',
      doc({ Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: `arn:aws:s3:::${bucket}/home/\${aws:username}/*` }, { Effect: 'Allow', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${bucket}` }),
    );
    await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'home/carol/c.txt' }));
    assert.equal((await s3error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'home/dave/d.txt' })))).name, 'AccessDenied');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'home/carol/mine.txt', Body: 'from carol' }));
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'home/carol/', FetchOwner: true }));
    assert.deepEqual(listed.Contents?.map((c) => [c.Key, c.Owner?.ID]), [
      ['home/carol/c.txt', account.id],
      ['home/carol/mine.txt', account.id],
    ]);
  });

  it('authorises a warm IAM user from memory: no metadata read for its key, its policies or the bucket policy', async () => {
    const { user: u, s3 } = await user('hot');
    await putInline({ kind: 'user', id: u.id }, 'read', doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/public/*` }));
    await srv.s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: doc({ Effect: 'Deny', Principal: '*', Action: 's3:DeleteObject', Resource: `arn:aws:s3:::${bucket}/*` }) }));
    await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'public/a.txt' }));
    const meta = srv.trove.app.meta;
    const reads: string[] = [];
    const spy = <A extends unknown[], R>(name: string, f: (...a: A) => Promise<R>) => (...a: A) => (reads.push(name), f(...a));
    const saved = { getAccessKey: meta.getAccessKey, getAccount: meta.getAccount, getBucketConfig: meta.getBucketConfig, docs: meta.iam.identityPolicyDocuments, user: meta.iam.getUserById };
    meta.getAccessKey = spy('getAccessKey', saved.getAccessKey.bind(meta));
    meta.getAccount = spy('getAccount', saved.getAccount.bind(meta));
    meta.getBucketConfig = spy('getBucketConfig', saved.getBucketConfig.bind(meta));
    meta.iam.identityPolicyDocuments = spy('identityPolicyDocuments', saved.docs.bind(meta.iam));
    meta.iam.getUserById = spy('getUserById', saved.user.bind(meta.iam));
    try {
      for (let i = 0; i < 20; i++) await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'public/a.txt' }));
      assert.equal((await s3error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'private/b.txt' })))).name, 'AccessDenied');
    } finally {
      Object.assign(meta, { getAccessKey: saved.getAccessKey, getAccount: saved.getAccount, getBucketConfig: saved.getBucketConfig });
      Object.assign(meta.iam, { identityPolicyDocuments: saved.docs, getUserById: saved.user });
      await srv.s3.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
    }
    assert.deepEqual(reads, []);
  });

  it('refuses an inactive key as S3 does an unknown one, at once', async () => {
    const { user: u, s3, keyId } = await user('frank');
    await putInline({ kind: 'user', id: u.id }, 'read', doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }));
    await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'public/a.txt' }));
    await srv.trove.app.meta.iam.setAccessKeyStatus(keyId, 'Inactive');
    srv.trove.app.iam.changed(account.accountId);
    assert.equal((await s3error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'public/a.txt' })))).name, 'InvalidAccessKeyId');
    await srv.trove.app.meta.iam.setAccessKeyStatus(keyId, 'Active');
    srv.trove.app.iam.changed(account.accountId);
    await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'public/a.txt' }));
  });

  it('needs both sides across accounts: the bucket policy naming the user and the user’s own allow', async () => {
    const meta = srv.trove.app.meta;
    const other = { id: 'f'.repeat(64), accountId: '777766665555' };
    await meta.putAccount({ id: other.id, accountId: other.accountId, displayName: 'other', createdAt: Date.now() });
    const { user: g, s3 } = await user('gina', other);
    const arn = `arn:aws:iam::${other.accountId}:user/gina`;
    await srv.s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: doc({ Effect: 'Allow', Principal: { AWS: arn }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/public/*` }) }));
    // The bucket's account allows; the user's own account does not yet.
    assert.equal((await s3error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'public/a.txt' })))).name, 'AccessDenied');
    await meta.iam.putInlinePolicy({ kind: 'user', id: g.id }, 'any-s3', doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }));
    srv.trove.app.iam.changed(other.accountId);
    await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'public/a.txt' }));
    // Its own allow does not reach beyond what the bucket policy grants.
    assert.equal((await s3error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'private/b.txt' })))).name, 'AccessDenied');
    await srv.s3.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
    assert.equal((await s3error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'public/a.txt' })))).name, 'AccessDenied');
  });
});
