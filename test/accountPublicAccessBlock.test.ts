// Account-level Block Public Access through S3 Control (GET/PUT/DELETE
// /v20180820/configuration/publicAccessBlock with x-amz-account-id), with the real
// @aws-sdk/client-s3-control client and raw HTTP: the document, who may read and change it, and
// how its switches combine with each bucket's.
//
// The S3 Control client puts the account id in front of the endpoint's host name
// (`<account id>.localhost`) whatever its configuration says; the agent below resolves such names
// to the loopback address, as wildcard DNS or an /etc/hosts line would for a real deployment.

import assert from 'node:assert/strict';
import http from 'node:http';
import type { LookupFunction } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  DeletePublicAccessBlockCommand,
  GetPublicAccessBlockCommand,
  PutPublicAccessBlockCommand,
  S3ControlClient,
  S3ControlServiceException,
  type PublicAccessBlockConfiguration,
} from '@aws-sdk/client-s3-control';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { CreateBucketCommand, PutBucketAclCommand, PutBucketPolicyCommand, PutObjectCommand, PutPublicAccessBlockCommand as PutBucketPublicAccessBlockCommand } from '@aws-sdk/client-s3';
import { ACCESS_KEY, REGION, SECRET_KEY, errorCode, raw, s3error, startServer, uniqueBucket, type TestServer } from './helpers.js';

const OTHER = { canonical: 'c'.repeat(64), accountId: '333344445555', accessKeyId: 'OTHERCONTROLKEY00001', secretAccessKey: 'other-control-secret-00000000000001' };

/** Resolves every name ending in .localhost (and localhost) to 127.0.0.1. */
const loopback: LookupFunction = (hostname, options, callback) => {
  if (hostname !== 'localhost' && !hostname.endsWith('.localhost')) throw new Error(`unexpected host ${hostname}`);
  if ((options as { all?: boolean }).all) (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: '127.0.0.1', family: 4 }]);
  else callback(null, '127.0.0.1', 4);
};

async function controlError(p: Promise<unknown>): Promise<S3ControlServiceException> {
  try {
    await p;
  } catch (e) {
    if (e instanceof S3ControlServiceException) return e;
    throw e;
  }
  assert.fail('expected an S3 Control error');
}

describe('account-level Block Public Access (S3 Control)', () => {
  let srv: TestServer;
  let account: string;
  const agents: http.Agent[] = [];
  const controls: S3ControlClient[] = [];
  const control = (credentials = { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }) => {
    const httpAgent = new http.Agent({ lookup: loopback });
    agents.push(httpAgent);
    const c = new S3ControlClient({ endpoint: `http://localhost:${srv.port}`, region: REGION, credentials, maxAttempts: 1, requestHandler: { httpAgent } });
    controls.push(c);
    return c;
  };
  const put = (c: S3ControlClient, conf: PublicAccessBlockConfiguration, id = account) => c.send(new PutPublicAccessBlockCommand({ AccountId: id, PublicAccessBlockConfiguration: conf }));

  before(async () => {
    srv = await startServer();
    const meta = srv.trove.app.meta;
    account = (await meta.getAccount((await meta.getAccessKey(ACCESS_KEY))!.userId))!.accountId;
    await meta.putAccount({ id: OTHER.canonical, accountId: OTHER.accountId, displayName: 'other', createdAt: Date.now() });
    await meta.putAccessKey({ accessKeyId: OTHER.accessKeyId, secretAccessKey: OTHER.secretAccessKey, userId: OTHER.canonical, createdAt: Date.now() });
  });
  after(async () => {
    for (const c of controls) c.destroy();
    for (const a of agents) a.destroy();
    await srv.stop();
  });

  it('puts, gets and deletes the configuration with the S3 Control client', async () => {
    const c = control();
    const missing = await controlError(c.send(new GetPublicAccessBlockCommand({ AccountId: account })));
    assert.equal(missing.name, 'NoSuchPublicAccessBlockConfiguration');
    assert.equal(missing.$metadata.httpStatusCode, 404);
    await put(c, { BlockPublicPolicy: true, RestrictPublicBuckets: true });
    const got = await c.send(new GetPublicAccessBlockCommand({ AccountId: account }));
    assert.deepEqual(got.PublicAccessBlockConfiguration, { BlockPublicAcls: false, IgnorePublicAcls: false, BlockPublicPolicy: true, RestrictPublicBuckets: true });
    await c.send(new DeletePublicAccessBlockCommand({ AccountId: account }));
    assert.equal((await controlError(c.send(new GetPublicAccessBlockCommand({ AccountId: account })))).name, 'NoSuchPublicAccessBlockConfiguration');
  });

  it('answers path-style requests in S3 Control’s namespace; other S3 Control paths are NotImplemented', async () => {
    const body = '<PublicAccessBlockConfiguration xmlns="http://awss3control.amazonaws.com/doc/2018-08-20/"><IgnorePublicAcls>TRUE</IgnorePublicAcls></PublicAccessBlockConfiguration>';
    const headers = { 'x-amz-account-id': account };
    const putRes = await raw(srv, { method: 'PUT', path: '/v20180820/configuration/publicAccessBlock', headers, body });
    assert.equal(putRes.status, 200, putRes.text);
    const got = await raw(srv, { method: 'GET', path: '/v20180820/configuration/publicAccessBlock', headers });
    assert.equal(got.status, 200, got.text);
    assert.match(got.text, /<PublicAccessBlockConfiguration xmlns="http:\/\/awss3control\.amazonaws\.com\/doc\/2018-08-20\/"><BlockPublicAcls>false<\/BlockPublicAcls><IgnorePublicAcls>true<\/IgnorePublicAcls>/);
    const del = await raw(srv, { method: 'DELETE', path: '/v20180820/configuration/publicAccessBlock', headers });
    assert.equal(del.status, 204, del.text);
    const other = await raw(srv, { method: 'GET', path: '/v20180820/accesspoint', headers });
    assert.equal(other.status, 501);
    assert.equal(errorCode(other.text), 'NotImplemented');
    const bad = await raw(srv, { method: 'PUT', path: '/v20180820/configuration/publicAccessBlock', headers, body: '<PublicAccessBlockConfiguration/>' });
    assert.equal(errorCode(bad.text), 'InvalidRequest');
    // Without the header, /v20180820 is a bucket like any other.
    await srv.s3.send(new CreateBucketCommand({ Bucket: 'v20180820' }));
    await srv.s3.send(new PutObjectCommand({ Bucket: 'v20180820', Key: 'configuration/publicAccessBlock', Body: 'an object' }));
    const obj = await raw(srv, { method: 'GET', path: '/v20180820/configuration/publicAccessBlock' });
    assert.equal(obj.text, 'an object');
  });

  it('lets only the account’s own principals read and change it', async () => {
    const otherControl = control({ accessKeyId: OTHER.accessKeyId, secretAccessKey: OTHER.secretAccessKey });
    assert.equal((await controlError(otherControl.send(new GetPublicAccessBlockCommand({ AccountId: account })))).name, 'AccessDenied');
    assert.equal((await controlError(put(otherControl, { BlockPublicAcls: true }))).name, 'AccessDenied');
    const anon = await raw(srv, { method: 'GET', path: '/v20180820/configuration/publicAccessBlock', headers: { 'x-amz-account-id': account }, sign: false });
    assert.equal(anon.status, 403);
    // An IAM user needs s3:GetAccountPublicAccessBlock / s3:PutAccountPublicAccessBlock.
    const iam = new IAMClient({ endpoint: srv.url, region: REGION, credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, maxAttempts: 1 });
    try {
      await iam.send(new CreateUserCommand({ UserName: 'pab-reader' }));
      const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'pab-reader' }))).AccessKey!;
      const user = control({ accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! });
      await put(control(), { BlockPublicAcls: true });
      assert.equal((await controlError(user.send(new GetPublicAccessBlockCommand({ AccountId: account })))).name, 'AccessDenied');
      const doc = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetAccountPublicAccessBlock', Resource: '*' }] });
      await iam.send(new PutUserPolicyCommand({ UserName: 'pab-reader', PolicyName: 'read-pab', PolicyDocument: doc }));
      const seen = await user.send(new GetPublicAccessBlockCommand({ AccountId: account }));
      assert.equal(seen.PublicAccessBlockConfiguration?.BlockPublicAcls, true);
      assert.equal((await controlError(put(user, { BlockPublicAcls: false }))).name, 'AccessDenied');
      // Its own account only, even when its policy allows the action.
      assert.equal((await controlError(user.send(new GetPublicAccessBlockCommand({ AccountId: OTHER.accountId })))).name, 'AccessDenied');
    } finally {
      iam.destroy();
      await control().send(new DeletePublicAccessBlockCommand({ AccountId: account }));
    }
  });

  it('combines with each bucket’s settings: a switch on at either level is on', async () => {
    const c = control();
    const bucket = uniqueBucket('acctpab');
    await srv.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'public body', ACL: 'public-read' }));
    const anonGet = () => raw(srv, { method: 'GET', path: `/${bucket}/k`, sign: false });
    assert.equal((await anonGet()).status, 200);

    // BlockPublicAcls: no new public ACL, on a bucket or at CreateBucket.
    await put(c, { BlockPublicAcls: true });
    assert.equal((await s3error(srv.s3.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'public-read' })))).name, 'AccessDenied');
    assert.equal((await s3error(srv.s3.send(new CreateBucketCommand({ Bucket: uniqueBucket('acctpab'), ACL: 'public-read' })))).name, 'AccessDenied');
    assert.equal((await anonGet()).status, 200, 'existing public ACLs still count');

    // IgnorePublicAcls: the object's public grant no longer counts.
    await put(c, { IgnorePublicAcls: true });
    assert.equal((await anonGet()).status, 403);

    // BlockPublicPolicy: a public bucket policy is refused, though the bucket's own says nothing.
    await put(c, { BlockPublicPolicy: true });
    assert.equal((await anonGet()).status, 200);
    const publicPolicy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }] });
    assert.equal((await s3error(srv.s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: publicPolicy })))).name, 'AccessDenied');

    // The bucket's own switch still works under a laxer account setting.
    await srv.s3.send(new PutBucketPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: { IgnorePublicAcls: true } }));
    assert.equal((await anonGet()).status, 403);

    await c.send(new DeletePublicAccessBlockCommand({ AccountId: account }));
    await srv.s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: publicPolicy }));
    // RestrictPublicBuckets at the account level: the public policy grants nothing to outsiders
    // (an object whose ACL is private, so that only the policy could grant the read).
    await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'private', Body: 'policy-only body' }));
    const anonPrivate = () => raw(srv, { method: 'GET', path: `/${bucket}/private`, sign: false });
    assert.equal((await anonPrivate()).status, 200);
    await put(c, { RestrictPublicBuckets: true });
    assert.equal((await anonPrivate()).status, 403);
    await c.send(new DeletePublicAccessBlockCommand({ AccountId: account }));
    assert.equal((await anonPrivate()).status, 200);
  });
});
