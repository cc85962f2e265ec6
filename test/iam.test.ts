// The IAM API end to end: a real server, the AWS SDK's IAM client (endpoint = the server, region
// us-east-1) and S3 client, and raw signed HTTP for what no SDK would send. Users, keys, groups,
// inline and managed policies and roles, their effect on S3, IAM's error codes and XML, paging,
// other accounts, and the admin CLI.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import {
  AddUserToGroupCommand,
  AttachRolePolicyCommand,
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreateGroupCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateRoleCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  DeleteGroupCommand,
  DeleteGroupPolicyCommand,
  DeletePolicyCommand,
  DeletePolicyVersionCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DeleteUserCommand,
  DeleteUserPolicyCommand,
  DetachRolePolicyCommand,
  DetachUserPolicyCommand,
  GetAccessKeyLastUsedCommand,
  GetGroupCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  IAMClient,
  IAMServiceException,
  ListAccessKeysCommand,
  ListAttachedRolePoliciesCommand,
  ListAttachedUserPoliciesCommand,
  ListGroupsForUserCommand,
  ListPoliciesCommand,
  ListPolicyVersionsCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  ListUserPoliciesCommand,
  ListUsersCommand,
  PutGroupPolicyCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  RemoveUserFromGroupCommand,
  SetDefaultPolicyVersionCommand,
  UpdateAccessKeyCommand,
  UpdateAssumeRolePolicyCommand,
  UpdateRoleCommand,
  UpdateUserCommand,
  paginateListUsers,
} from '@aws-sdk/client-iam';
import { CreateBucketCommand, DeleteBucketPolicyCommand, GetObjectCommand, ListObjectsV2Command, PutBucketPolicyCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ACCESS_KEY, REGION, SECRET_KEY, s3error, signer, startServer, tempDir, testMetaUrl, uniqueBucket, type TestServer } from './helpers.js';

const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'main.js');

const doc = (...statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const TRUST = doc({ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' });

interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
}

/** What an IAM call failed with: the error's code (the SDK names modelled ones …Exception) and status. */
async function iamError(p: Promise<unknown>): Promise<{ code: string; status: number | undefined; message: string }> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof IAMServiceException)) throw e;
    return { code: e.name.replace(/Exception$/, ''), status: e.$metadata.httpStatusCode, message: e.message };
  }
  assert.fail('expected an IAM error');
}

interface RawIamResponse {
  status: number;
  contentType: string | undefined;
  text: string;
}

/** A raw IAM request: form body (or GET query), signed for service "iam" unless `sign` is false. */
async function iamRaw(srv: TestServer, params: Record<string, string>, opts: { method?: 'GET' | 'POST'; sign?: boolean; keys?: Keys } = {}): Promise<RawIamResponse> {
  const method = opts.method ?? 'POST';
  const form = new URLSearchParams(params).toString();
  const body = method === 'POST' ? form : '';
  const headers: Record<string, string> = { host: `127.0.0.1:${srv.port}` };
  if (method === 'POST') headers['content-type'] = 'application/x-www-form-urlencoded; charset=utf-8';
  const query = method === 'GET' ? params : {};
  if (opts.sign !== false) {
    const k = opts.keys ?? { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY };
    const signed = await signer(k.accessKeyId, k.secretAccessKey, 'iam').sign({ method, protocol: 'http:', hostname: '127.0.0.1', port: srv.port, path: '/', query, headers, body });
    Object.assign(headers, signed.headers);
  }
  const qs = method === 'GET' ? '?' + new URLSearchParams(params).toString().replace(/\+/g, '%20') : '';
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: srv.port, method, path: '/' + qs, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the IAM API', () => {
  let srv: TestServer;
  let root: IAMClient;
  let accountId: string;
  let canonicalId: string;
  const bucket = uniqueBucket('iam');
  const clients: IAMClient[] = [];

  function iamAs(keys: Keys, server = srv, region = REGION): IAMClient {
    const c = new IAMClient({ endpoint: server.url, region, credentials: keys, maxAttempts: 1 });
    clients.push(c);
    return c;
  }

  function s3As(keys: Keys): S3Client {
    return srv.client({ credentials: keys });
  }

  /** A user with one key. */
  async function newUser(name: string, client = root, pathName = '/'): Promise<Keys> {
    await client.send(new CreateUserCommand({ UserName: name, Path: pathName }));
    const k = await client.send(new CreateAccessKeyCommand({ UserName: name }));
    return { accessKeyId: k.AccessKey!.AccessKeyId!, secretAccessKey: k.AccessKey!.SecretAccessKey! };
  }

  const denied = async (p: Promise<unknown>) => assert.equal((await s3error(p)).name, 'AccessDenied');

  before(async () => {
    srv = await startServer();
    root = iamAs({ accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY });
    const meta = srv.trove.app.meta;
    canonicalId = (await meta.getAccessKey(ACCESS_KEY))!.userId;
    accountId = (await meta.getAccount(canonicalId))!.accountId;
    await srv.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    for (const k of ['public/a.txt', 'public/b.txt', 'private/c.txt']) await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: `body of ${k}` }));
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await srv.stop();
  });

  it('creates a user and its key as the account root; PutUserPolicy gives it read-only access to one prefix', async () => {
    const created = await root.send(new CreateUserCommand({ UserName: 'alice', Path: '/eng/' }));
    assert.equal(created.User?.UserName, 'alice');
    assert.equal(created.User?.Path, '/eng/');
    assert.equal(created.User?.Arn, `arn:aws:iam::${accountId}:user/eng/alice`);
    assert.match(created.User?.UserId ?? '', /^AIDA[A-Z2-7]{17}$/);
    assert.ok(created.User?.CreateDate instanceof Date);
    assert.deepEqual((await root.send(new GetUserCommand({ UserName: 'alice' }))).User, created.User);

    const key = await root.send(new CreateAccessKeyCommand({ UserName: 'alice' }));
    assert.equal(key.AccessKey?.UserName, 'alice');
    assert.equal(key.AccessKey?.Status, 'Active');
    assert.equal(key.AccessKey?.SecretAccessKey?.length, 40);
    const alice = s3As({ accessKeyId: key.AccessKey!.AccessKeyId!, secretAccessKey: key.AccessKey!.SecretAccessKey! });
    await denied(alice.send(new GetObjectCommand({ Bucket: bucket, Key: 'public/a.txt' })));

    const readOnly = doc(
      { Sid: 'ReadPublic', Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/public/*` },
      { Sid: 'ListPublic', Effect: 'Allow', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${bucket}`, Condition: { StringLike: { 's3:prefix': 'public/*' } } },
    );
    await root.send(new PutUserPolicyCommand({ UserName: 'alice', PolicyName: 'read-public', PolicyDocument: readOnly }));
    const got = await alice.send(new GetObjectCommand({ Bucket: bucket, Key: 'public/a.txt' }));
    assert.equal(await got.Body!.transformToString(), 'body of public/a.txt');
    const listed = await alice.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'public/' }));
    assert.deepEqual(listed.Contents?.map((c) => c.Key), ['public/a.txt', 'public/b.txt']);
    await denied(alice.send(new ListObjectsV2Command({ Bucket: bucket })));
    await denied(alice.send(new GetObjectCommand({ Bucket: bucket, Key: 'private/c.txt' })));
    await denied(alice.send(new PutObjectCommand({ Bucket: bucket, Key: 'public/new.txt', Body: 'x' })));

    const stored = await root.send(new GetUserPolicyCommand({ UserName: 'alice', PolicyName: 'read-public' }));
    assert.equal(stored.UserName, 'alice');
    assert.equal(decodeURIComponent(stored.PolicyDocument!), readOnly, 'documents come back URL-encoded');
    assert.deepEqual((await root.send(new ListUserPoliciesCommand({ UserName: 'alice' }))).PolicyNames, ['read-public']);
    await root.send(new DeleteUserPolicyCommand({ UserName: 'alice', PolicyName: 'read-public' }));
    await denied(alice.send(new GetObjectCommand({ Bucket: bucket, Key: 'public/a.txt' })));
  });

  it('grants through a group policy; removing the user from the group takes it away', async () => {
    const bob = s3As(await newUser('bob'));
    await root.send(new CreateGroupCommand({ GroupName: 'readers', Path: '/teams/' }));
    await root.send(new PutGroupPolicyCommand({ GroupName: 'readers', PolicyName: 'read-all', PolicyDocument: doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }) }));
    await denied(bob.send(new GetObjectCommand({ Bucket: bucket, Key: 'private/c.txt' })));
    await root.send(new AddUserToGroupCommand({ GroupName: 'readers', UserName: 'bob' }));
    await bob.send(new GetObjectCommand({ Bucket: bucket, Key: 'private/c.txt' }));

    const group = await root.send(new GetGroupCommand({ GroupName: 'readers' }));
    assert.equal(group.Group?.Arn, `arn:aws:iam::${accountId}:group/teams/readers`);
    assert.match(group.Group?.GroupId ?? '', /^AGPA/);
    assert.deepEqual(group.Users?.map((u) => u.UserName), ['bob']);
    assert.deepEqual((await root.send(new ListGroupsForUserCommand({ UserName: 'bob' }))).Groups?.map((g) => g.GroupName), ['readers']);

    assert.equal((await iamError(root.send(new DeleteGroupCommand({ GroupName: 'readers' })))).code, 'DeleteConflict');
    assert.equal((await iamError(root.send(new DeleteUserCommand({ UserName: 'bob' })))).code, 'DeleteConflict');
    await root.send(new RemoveUserFromGroupCommand({ GroupName: 'readers', UserName: 'bob' }));
    await denied(bob.send(new GetObjectCommand({ Bucket: bucket, Key: 'private/c.txt' })));
    assert.equal((await iamError(root.send(new RemoveUserFromGroupCommand({ GroupName: 'readers', UserName: 'bob' })))).code, 'NoSuchEntity');
    const conflict = await iamError(root.send(new DeleteGroupCommand({ GroupName: 'readers' })));
    assert.equal(conflict.message, 'Cannot delete entity, must delete policies first.');
    await root.send(new DeleteGroupPolicyCommand({ GroupName: 'readers', PolicyName: 'read-all' }));
    await root.send(new DeleteGroupCommand({ GroupName: 'readers' }));
    assert.equal((await iamError(root.send(new GetGroupCommand({ GroupName: 'readers' })))).code, 'NoSuchEntity');
  });

  it('versions managed policies (at most five), applies the default one, and attaches and detaches them', async () => {
    const carol = s3As(await newUser('carol'));
    const readPublic = doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/public/*` });
    const readPrivate = doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/private/*` });
    const created = await root.send(new CreatePolicyCommand({ PolicyName: 'reader', Path: '/team/', PolicyDocument: readPublic, Description: 'reads a prefix' }));
    const arn = created.Policy!.Arn!;
    assert.equal(arn, `arn:aws:iam::${accountId}:policy/team/reader`);
    assert.equal(created.Policy?.DefaultVersionId, 'v1');
    assert.match(created.Policy?.PolicyId ?? '', /^ANPA/);

    await root.send(new AttachUserPolicyCommand({ UserName: 'carol', PolicyArn: arn }));
    await carol.send(new GetObjectCommand({ Bucket: bucket, Key: 'public/a.txt' }));
    await denied(carol.send(new GetObjectCommand({ Bucket: bucket, Key: 'private/c.txt' })));
    const got = await root.send(new GetPolicyCommand({ PolicyArn: arn }));
    assert.equal(got.Policy?.AttachmentCount, 1);
    assert.equal(got.Policy?.Description, 'reads a prefix');
    assert.deepEqual((await root.send(new ListAttachedUserPoliciesCommand({ UserName: 'carol' }))).AttachedPolicies, [{ PolicyName: 'reader', PolicyArn: arn }]);

    const v2 = await root.send(new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: readPrivate }));
    assert.deepEqual([v2.PolicyVersion?.VersionId, v2.PolicyVersion?.IsDefaultVersion], ['v2', false]);
    await denied(carol.send(new GetObjectCommand({ Bucket: bucket, Key: 'private/c.txt' })));
    await root.send(new SetDefaultPolicyVersionCommand({ PolicyArn: arn, VersionId: 'v2' }));
    await carol.send(new GetObjectCommand({ Bucket: bucket, Key: 'private/c.txt' }));
    await denied(carol.send(new GetObjectCommand({ Bucket: bucket, Key: 'public/a.txt' })));
    const v2doc = await root.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: 'v2' }));
    assert.equal(decodeURIComponent(v2doc.PolicyVersion!.Document!), readPrivate);
    assert.equal(v2doc.PolicyVersion?.IsDefaultVersion, true);

    for (const n of [3, 4, 5]) assert.equal((await root.send(new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: readPublic }))).PolicyVersion?.VersionId, `v${n}`);
    const limit = await iamError(root.send(new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: readPublic })));
    assert.deepEqual([limit.code, limit.status], ['LimitExceeded', 409]);
    assert.deepEqual((await root.send(new ListPolicyVersionsCommand({ PolicyArn: arn }))).Versions?.map((v) => [v.VersionId, v.IsDefaultVersion]), [
      ['v1', false],
      ['v2', true],
      ['v3', false],
      ['v4', false],
      ['v5', false],
    ]);
    assert.equal((await iamError(root.send(new DeletePolicyVersionCommand({ PolicyArn: arn, VersionId: 'v2' })))).code, 'DeleteConflict');
    assert.equal((await iamError(root.send(new DeletePolicyCommand({ PolicyArn: arn })))).code, 'DeleteConflict');

    const listed = await root.send(new ListPoliciesCommand({ Scope: 'Local', OnlyAttached: true, PathPrefix: '/team/' }));
    assert.deepEqual(listed.Policies?.map((p) => p.Arn), [arn]);
    const awsScope = (await root.send(new ListPoliciesCommand({ Scope: 'AWS' }))).Policies ?? [];
    assert.ok(awsScope.length > 0 && awsScope.every((p) => p.Arn!.startsWith('arn:aws:iam::aws:policy/')));

    await root.send(new DetachUserPolicyCommand({ UserName: 'carol', PolicyArn: arn }));
    await denied(carol.send(new GetObjectCommand({ Bucket: bucket, Key: 'private/c.txt' })));
    assert.equal((await iamError(root.send(new DetachUserPolicyCommand({ UserName: 'carol', PolicyArn: arn })))).code, 'NoSuchEntity');
    assert.deepEqual((await root.send(new ListPoliciesCommand({ OnlyAttached: true }))).Policies ?? [], []);
    for (const v of ['v1', 'v3', 'v4', 'v5']) await root.send(new DeletePolicyVersionCommand({ PolicyArn: arn, VersionId: v }));
    await root.send(new DeletePolicyCommand({ PolicyArn: arn }));
    assert.equal((await iamError(root.send(new GetPolicyCommand({ PolicyArn: arn })))).code, 'NoSuchEntity');
    const aws = await iamError(root.send(new AttachUserPolicyCommand({ UserName: 'carol', PolicyArn: 'arn:aws:iam::aws:policy/NoSuchManagedPolicy' })));
    assert.equal(aws.code, 'NoSuchEntity');
  });

  it('refuses an Inactive key: InvalidAccessKeyId to S3, InvalidClientTokenId to IAM', async () => {
    const keys = await newUser('dave');
    await root.send(new PutUserPolicyCommand({ UserName: 'dave', PolicyName: 'self', PolicyDocument: doc({ Effect: 'Allow', Action: ['iam:GetUser', 's3:GetObject'], Resource: '*' }) }));
    const daveS3 = s3As(keys);
    const daveIam = iamAs(keys);
    await daveS3.send(new GetObjectCommand({ Bucket: bucket, Key: 'public/a.txt' }));
    assert.equal((await daveIam.send(new GetUserCommand({}))).User?.UserName, 'dave');
    await root.send(new UpdateAccessKeyCommand({ UserName: 'dave', AccessKeyId: keys.accessKeyId, Status: 'Inactive' }));
    assert.equal((await s3error(daveS3.send(new GetObjectCommand({ Bucket: bucket, Key: 'public/a.txt' })))).name, 'InvalidAccessKeyId');
    const refused = await iamError(daveIam.send(new GetUserCommand({})));
    assert.deepEqual([refused.code, refused.status], ['InvalidClientTokenId', 403]);
    assert.deepEqual((await root.send(new ListAccessKeysCommand({ UserName: 'dave' }))).AccessKeyMetadata?.map((k) => [k.AccessKeyId, k.Status]), [[keys.accessKeyId, 'Inactive']]);
    await root.send(new UpdateAccessKeyCommand({ UserName: 'dave', AccessKeyId: keys.accessKeyId, Status: 'Active' }));
    await daveS3.send(new GetObjectCommand({ Bucket: bucket, Key: 'public/a.txt' }));
    // Another user's key id is not this user's to change.
    assert.equal((await iamError(root.send(new UpdateAccessKeyCommand({ UserName: 'carol', AccessKeyId: keys.accessKeyId, Status: 'Inactive' })))).code, 'NoSuchEntity');
  });

  it('refuses IAM calls to a user without iam permissions, and allows exactly what its policy names', async () => {
    const keys = await newUser('eve');
    const eve = iamAs(keys);
    const refused = await iamError(eve.send(new ListUsersCommand({})));
    assert.deepEqual([refused.code, refused.status], ['AccessDenied', 403]);
    assert.match(refused.message, new RegExp(`^User: arn:aws:iam::${accountId}:user/eve is not authorized to perform: iam:ListUsers on resource: \\*`));
    assert.equal((await iamError(eve.send(new CreateUserCommand({ UserName: 'mallory' })))).code, 'AccessDenied');
    assert.equal((await iamError(eve.send(new PutUserPolicyCommand({ UserName: 'eve', PolicyName: 'escalate', PolicyDocument: doc({ Effect: 'Allow', Action: '*', Resource: '*' }) })))).code, 'AccessDenied');

    const self = `arn:aws:iam::${accountId}:user/\${aws:username}`;
    await root.send(
      new PutUserPolicyCommand({
        UserName: 'eve',
        PolicyName: 'own-keys',
        PolicyDocument: doc({ Effect: 'Allow', Action: ['iam:GetUser', 'iam:*AccessKey*'], Resource: self }, { Effect: 'Allow', Action: 'iam:ListUsers', Resource: '*' }),
      }),
    );
    assert.equal((await eve.send(new GetUserCommand({}))).User?.UserName, 'eve');
    assert.ok(((await eve.send(new ListUsersCommand({}))).Users?.length ?? 0) >= 5);
    assert.equal((await iamError(eve.send(new GetUserCommand({ UserName: 'alice' })))).code, 'AccessDenied');
    assert.equal((await iamError(eve.send(new CreateAccessKeyCommand({ UserName: 'alice' })))).code, 'AccessDenied');
    const second = await eve.send(new CreateAccessKeyCommand({}));
    assert.equal(second.AccessKey?.UserName, 'eve');
    const third = await iamError(eve.send(new CreateAccessKeyCommand({})));
    assert.deepEqual([third.code, third.status, third.message], ['LimitExceeded', 409, 'Cannot exceed quota for AccessKeysPerUser: 2']);
    await eve.send(new DeleteAccessKeyCommand({ AccessKeyId: second.AccessKey!.AccessKeyId! }));
  });

  it('answers IAM’s error codes with AWS’s statuses', async () => {
    const dup = await iamError(root.send(new CreateUserCommand({ UserName: 'ALICE' })));
    assert.deepEqual([dup.code, dup.status, dup.message], ['EntityAlreadyExists', 409, 'User with name ALICE already exists.']);
    const missing = await iamError(root.send(new GetUserCommand({ UserName: 'nobody' })));
    assert.deepEqual([missing.code, missing.status, missing.message], ['NoSuchEntity', 404, 'The user with name nobody cannot be found.']);
    assert.equal((await iamError(root.send(new DeleteUserPolicyCommand({ UserName: 'alice', PolicyName: 'none' })))).code, 'NoSuchEntity');

    await newUser('frank');
    const keysFirst = await iamError(root.send(new DeleteUserCommand({ UserName: 'frank' })));
    assert.deepEqual([keysFirst.code, keysFirst.status, keysFirst.message], ['DeleteConflict', 409, 'Cannot delete entity, must delete access keys first.']);
    const [k] = (await root.send(new ListAccessKeysCommand({ UserName: 'frank' }))).AccessKeyMetadata!;
    await root.send(new DeleteAccessKeyCommand({ UserName: 'frank', AccessKeyId: k!.AccessKeyId! }));
    await root.send(new PutUserPolicyCommand({ UserName: 'frank', PolicyName: 'p', PolicyDocument: doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }) }));
    assert.equal((await iamError(root.send(new DeleteUserCommand({ UserName: 'frank' })))).message, 'Cannot delete entity, must delete policies first.');
    await root.send(new DeleteUserPolicyCommand({ UserName: 'frank', PolicyName: 'p' }));
    await root.send(new DeleteUserCommand({ UserName: 'frank' }));

    await root.send(new CreateAccessKeyCommand({ UserName: 'alice' }));
    assert.equal((await iamError(root.send(new CreateAccessKeyCommand({ UserName: 'alice' })))).code, 'LimitExceeded');

    const noEffect = await iamError(root.send(new PutUserPolicyCommand({ UserName: 'alice', PolicyName: 'bad', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Action: 's3:*', Resource: '*' }] }) })));
    assert.deepEqual([noEffect.code, noEffect.status, noEffect.message], ['MalformedPolicyDocument', 400, 'Missing required field Effect']);
    const principal = await iamError(root.send(new CreatePolicyCommand({ PolicyName: 'bad', PolicyDocument: doc({ Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: '*' }) })));
    assert.deepEqual([principal.code, principal.message], ['MalformedPolicyDocument', 'Has prohibited field Principal']);
    assert.equal((await iamError(root.send(new CreatePolicyCommand({ PolicyName: 'bad', PolicyDocument: '{"Version": "2012-10-17", "Statement": [' })))).code, 'MalformedPolicyDocument');
    assert.equal((await iamError(root.send(new CreateRoleCommand({ RoleName: 'bad', AssumeRolePolicyDocument: doc({ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }) })))).code, 'MalformedPolicyDocument');

    const badName = await iamError(root.send(new CreateUserCommand({ UserName: 'no spaces' })));
    assert.deepEqual([badName.code, badName.status], ['ValidationError', 400]);
    assert.match(badName.message, /at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern/);
    assert.equal((await iamError(root.send(new CreateUserCommand({ UserName: 'x', Path: 'no-slashes' })))).code, 'ValidationError');
    const badArn = await iamError(root.send(new GetPolicyCommand({ PolicyArn: 'arn:aws:s3:::not-a-policy' })));
    assert.deepEqual([badArn.code, badArn.status], ['InvalidInput', 400]);
  });

  it('pages ListUsers with MaxItems and Marker, under a PathPrefix', async () => {
    const names = ['page-0', 'page-1', 'page-2', 'page-3', 'page-4', 'page-5', 'page-6'];
    for (const n of names.slice().reverse()) await root.send(new CreateUserCommand({ UserName: n, Path: '/paged/' }));
    const first = await root.send(new ListUsersCommand({ PathPrefix: '/paged/', MaxItems: 3 }));
    assert.deepEqual(first.Users?.map((u) => u.UserName), names.slice(0, 3));
    assert.equal(first.IsTruncated, true);
    assert.ok(first.Marker);
    const second = await root.send(new ListUsersCommand({ PathPrefix: '/paged/', MaxItems: 3, Marker: first.Marker! }));
    assert.deepEqual(second.Users?.map((u) => u.UserName), names.slice(3, 6));
    const last = await root.send(new ListUsersCommand({ PathPrefix: '/paged/', MaxItems: 3, Marker: second.Marker! }));
    assert.deepEqual(last.Users?.map((u) => u.UserName), names.slice(6));
    assert.equal(last.IsTruncated, false);
    assert.equal(last.Marker, undefined);
    // The SDK's paginator follows the markers by itself.
    const all: string[] = [];
    for await (const p of paginateListUsers({ client: root, pageSize: 2 }, { PathPrefix: '/paged/' })) all.push(...(p.Users ?? []).map((u) => u.UserName!));
    assert.deepEqual(all, names);
    assert.equal((await iamError(root.send(new ListUsersCommand({ MaxItems: 0 })))).code, 'ValidationError');
  });

  it('keeps roles with their trust, inline and attached policies', async () => {
    const role = await root.send(new CreateRoleCommand({ RoleName: 'builder', Path: '/ci/', AssumeRolePolicyDocument: TRUST, Description: 'CI builds', MaxSessionDuration: 7200 }));
    assert.equal(role.Role?.Arn, `arn:aws:iam::${accountId}:role/ci/builder`);
    assert.match(role.Role?.RoleId ?? '', /^AROA/);
    assert.equal(decodeURIComponent(role.Role!.AssumeRolePolicyDocument!), TRUST);
    await root.send(new UpdateRoleCommand({ RoleName: 'builder', Description: 'CI', MaxSessionDuration: 3600 }));
    const got = await root.send(new GetRoleCommand({ RoleName: 'builder' }));
    assert.deepEqual([got.Role?.Description, got.Role?.MaxSessionDuration], ['CI', 3600]);
    assert.equal((await iamError(root.send(new UpdateRoleCommand({ RoleName: 'builder', MaxSessionDuration: 60 })))).code, 'ValidationError');
    const newTrust = doc({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: 'sts:AssumeRole' });
    await root.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'builder', PolicyDocument: newTrust }));
    assert.equal(decodeURIComponent((await root.send(new GetRoleCommand({ RoleName: 'builder' }))).Role!.AssumeRolePolicyDocument!), newTrust);

    await root.send(new PutRolePolicyCommand({ RoleName: 'builder', PolicyName: 'push', PolicyDocument: doc({ Effect: 'Allow', Action: 's3:PutObject', Resource: '*' }) }));
    assert.deepEqual((await root.send(new ListRolePoliciesCommand({ RoleName: 'builder' }))).PolicyNames, ['push']);
    const managed = await root.send(new CreatePolicyCommand({ PolicyName: 'role-read', PolicyDocument: doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }) }));
    await root.send(new AttachRolePolicyCommand({ RoleName: 'builder', PolicyArn: managed.Policy!.Arn! }));
    assert.deepEqual((await root.send(new ListAttachedRolePoliciesCommand({ RoleName: 'builder' }))).AttachedPolicies?.map((p) => p.PolicyName), ['role-read']);
    assert.deepEqual((await root.send(new ListRolesCommand({ PathPrefix: '/ci/' }))).Roles?.map((r) => r.RoleName), ['builder']);

    assert.equal((await iamError(root.send(new DeleteRoleCommand({ RoleName: 'builder' })))).message, 'Cannot delete entity, must delete policies first.');
    await root.send(new DeleteRolePolicyCommand({ RoleName: 'builder', PolicyName: 'push' }));
    assert.equal((await iamError(root.send(new DeleteRoleCommand({ RoleName: 'builder' })))).message, 'Cannot delete entity, must detach all policies first.');
    await root.send(new DetachRolePolicyCommand({ RoleName: 'builder', PolicyArn: managed.Policy!.Arn! }));
    await root.send(new DeleteRoleCommand({ RoleName: 'builder' }));
    assert.equal((await iamError(root.send(new GetRoleCommand({ RoleName: 'builder' })))).code, 'NoSuchEntity');
  });

  it('renames and moves a user: its key acts under the new ARN at once', async () => {
    const keys = await newUser('gail');
    await root.send(new PutUserPolicyCommand({ UserName: 'gail', PolicyName: 'self', PolicyDocument: doc({ Effect: 'Allow', Action: 'iam:GetUser', Resource: `arn:aws:iam::${accountId}:user/ops/*` }) }));
    const gail = iamAs(keys);
    assert.equal((await iamError(gail.send(new GetUserCommand({})))).code, 'AccessDenied');
    await root.send(new UpdateUserCommand({ UserName: 'gail', NewUserName: 'gale', NewPath: '/ops/' }));
    const me = await gail.send(new GetUserCommand({}));
    assert.deepEqual([me.User?.UserName, me.User?.Arn], ['gale', `arn:aws:iam::${accountId}:user/ops/gale`]);
    assert.equal((await iamError(root.send(new UpdateUserCommand({ UserName: 'gale', NewUserName: 'alice' })))).code, 'EntityAlreadyExists');
  });

  it('describes the root user to GetUser without a name, and records when keys were last used', async () => {
    const me = await root.send(new GetUserCommand({}));
    assert.deepEqual([me.User?.UserId, me.User?.Arn, me.User?.UserName], [accountId, `arn:aws:iam::${accountId}:root`, undefined]);
    const keys = await newUser('hank');
    const never = await root.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: keys.accessKeyId }));
    assert.deepEqual([never.UserName, never.AccessKeyLastUsed?.ServiceName, never.AccessKeyLastUsed?.Region, never.AccessKeyLastUsed?.LastUsedDate], ['hank', 'N/A', 'N/A', undefined]);
    await s3error(s3As(keys).send(new GetObjectCommand({ Bucket: bucket, Key: 'public/a.txt' })));
    let used;
    for (let i = 0; i < 50 && !used?.AccessKeyLastUsed?.LastUsedDate; i++) {
      await new Promise((r) => setTimeout(r, 20));
      used = await root.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: keys.accessKeyId }));
    }
    assert.ok(used?.AccessKeyLastUsed?.LastUsedDate instanceof Date);
    assert.deepEqual([used.AccessKeyLastUsed.ServiceName, used.AccessKeyLastUsed.Region], ['s3', REGION]);
    // The root user manages its own keys too (at most two made through the API).
    const rootKeys = await root.send(new ListAccessKeysCommand({}));
    assert.deepEqual(rootKeys.AccessKeyMetadata?.map((k) => k.AccessKeyId), [ACCESS_KEY]);
  });

  it('serves IAM’s XML, and refuses unsigned, unknown and unimplemented requests IAM’s way', async () => {
    const nobody = await iamRaw(srv, { Action: 'GetUser', Version: '2010-05-08', UserName: 'nobody' });
    assert.equal(nobody.status, 404);
    assert.equal(nobody.contentType, 'text/xml');
    assert.match(
      nobody.text,
      /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<ErrorResponse xmlns="https:\/\/iam\.amazonaws\.com\/doc\/2010-05-08\/"><Error><Type>Sender<\/Type><Code>NoSuchEntity<\/Code><Message>The user with name nobody cannot be found\.<\/Message><\/Error><RequestId>[0-9A-F]{16}<\/RequestId><\/ErrorResponse>$/,
    );
    const ok = await iamRaw(srv, { Action: 'GetUser', Version: '2010-05-08', UserName: 'alice' });
    assert.equal(ok.status, 200);
    assert.match(ok.text, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<GetUserResponse xmlns="https:\/\/iam\.amazonaws\.com\/doc\/2010-05-08\/"><GetUserResult><User><Path>\/eng\/<\/Path><UserName>alice<\/UserName><UserId>AIDA\w{17}<\/UserId><Arn>arn:aws:iam::\d{12}:user\/eng\/alice<\/Arn><CreateDate>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ<\/CreateDate><\/User><\/GetUserResult><ResponseMetadata><RequestId>[0-9A-F]{16}<\/RequestId><\/ResponseMetadata><\/GetUserResponse>$/);
    const deleted = await iamRaw(srv, { Action: 'DeleteUserPolicy', Version: '2010-05-08', UserName: 'alice', PolicyName: 'none' });
    assert.match(deleted.text, /<Code>NoSuchEntity<\/Code>/);
    const viaGet = await iamRaw(srv, { Action: 'ListUsers', Version: '2010-05-08', PathPrefix: '/eng/' }, { method: 'GET' });
    assert.equal(viaGet.status, 200, viaGet.text);
    assert.match(viaGet.text, /<ListUsersResult><Users><member><Path>\/eng\/<\/Path><UserName>alice<\/UserName>/);

    const unsigned = await iamRaw(srv, { Action: 'ListUsers', Version: '2010-05-08' }, { sign: false });
    assert.deepEqual([unsigned.status, /<Code>(\w+)<\/Code>/.exec(unsigned.text)?.[1]], [403, 'MissingAuthenticationToken']);
    const forged = await iamRaw(srv, { Action: 'ListUsers', Version: '2010-05-08' }, { keys: { accessKeyId: ACCESS_KEY, secretAccessKey: 'wrong' } });
    assert.deepEqual([forged.status, /<Code>(\w+)<\/Code>/.exec(forged.text)?.[1]], [403, 'SignatureDoesNotMatch']);
    const unknownKey = await iamRaw(srv, { Action: 'ListUsers', Version: '2010-05-08' }, { keys: { accessKeyId: 'TRNOSUCHKEY000000000', secretAccessKey: 'x' } });
    assert.deepEqual([unknownKey.status, /<Code>(\w+)<\/Code>/.exec(unknownKey.text)?.[1]], [403, 'InvalidClientTokenId']);
    const notImplemented = await iamRaw(srv, { Action: 'CreateLoginProfile', Version: '2010-05-08', UserName: 'alice', Password: 'x' });
    assert.deepEqual([notImplemented.status, /<Code>(\w+)<\/Code>/.exec(notImplemented.text)?.[1]], [501, 'NotImplemented']);
    const unknown = await iamRaw(srv, { Action: 'Frobnicate', Version: '2010-05-08' });
    assert.deepEqual([unknown.status, /<Message>([^<]+)<\/Message>/.exec(unknown.text)?.[1]], [400, 'Could not find operation Frobnicate for version 2010-05-08']);
    const oldVersion = await iamRaw(srv, { Action: 'ListUsers', Version: '2009-01-01' });
    assert.match(oldVersion.text, /<Code>InvalidAction<\/Code>/);
    const tags = await iamRaw(srv, { Action: 'CreateUser', Version: '2010-05-08', UserName: 'tagged', 'Tags.member.1.Key': 'team', 'Tags.member.1.Value': 'x' });
    assert.deepEqual([tags.status, /<Code>(\w+)<\/Code>/.exec(tags.text)?.[1]], [501, 'NotImplemented']);
    assert.equal((await iamError(root.send(new GetUserCommand({ UserName: 'tagged' })))).code, 'NoSuchEntity');
    // An S3 request is still an S3 request.
    assert.equal((await srv.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'public/a.txt' }))).$metadata.httpStatusCode, 200);
  });

  it('keeps accounts apart: another account’s user reads a bucket only if the bucket policy names it and its own policy allows it', async () => {
    const meta = srv.trove.app.meta;
    const other = { canonical: 'c'.repeat(64), accountId: '888877776666', keys: { accessKeyId: 'OTHERROOTKEY00000001', secretAccessKey: 'other-root-secret-0000000000000000000001' } };
    await meta.putAccount({ id: other.canonical, accountId: other.accountId, displayName: 'other', createdAt: Date.now() });
    await meta.putAccessKey({ ...other.keys, userId: other.canonical, createdAt: Date.now() });
    const otherRoot = iamAs(other.keys);

    // The other account's IAM sees only its own entities; ours are not there, and not reachable.
    assert.equal((await iamError(otherRoot.send(new GetUserCommand({ UserName: 'alice' })))).code, 'NoSuchEntity');
    const policyArn = (await root.send(new CreatePolicyCommand({ PolicyName: 'ours', PolicyDocument: doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }) }))).Policy!.Arn!;
    assert.equal((await iamError(otherRoot.send(new GetPolicyCommand({ PolicyArn: policyArn })))).code, 'AccessDenied');
    const gina = s3As(await newUser('gina', otherRoot));
    await otherRoot.send(new CreateUserCommand({ UserName: 'alice' }));

    const ginaArn = `arn:aws:iam::${other.accountId}:user/gina`;
    await srv.s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: doc({ Effect: 'Allow', Principal: { AWS: ginaArn }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/public/*` }) }));
    await denied(gina.send(new GetObjectCommand({ Bucket: bucket, Key: 'public/a.txt' })));
    await otherRoot.send(new PutUserPolicyCommand({ UserName: 'gina', PolicyName: 'read-anything', PolicyDocument: doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }) }));
    const got = await gina.send(new GetObjectCommand({ Bucket: bucket, Key: 'public/a.txt' }));
    assert.equal(await got.Body!.transformToString(), 'body of public/a.txt');
    await denied(gina.send(new GetObjectCommand({ Bucket: bucket, Key: 'private/c.txt' })));
    await srv.s3.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
    await denied(gina.send(new GetObjectCommand({ Bucket: bucket, Key: 'public/a.txt' })));
  });
});

describe('the IAM API on a server in another region', () => {
  it('accepts requests signed for the server region or for us-east-1, as the SDKs sign IAM', async () => {
    const srv = await startServer({ region: 'eu-west-1' });
    const clients = ['us-east-1', 'eu-west-1', 'ap-south-1'].map((region) => new IAMClient({ endpoint: srv.url, region, credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, maxAttempts: 1 }));
    try {
      await clients[0]!.send(new CreateUserCommand({ UserName: 'from-us-east-1' }));
      await clients[1]!.send(new CreateUserCommand({ UserName: 'from-eu-west-1' }));
      assert.equal((await iamError(clients[2]!.send(new ListUsersCommand({})))).code, 'IncompleteSignature');
    } finally {
      for (const c of clients) c.destroy();
      await srv.stop();
    }
  });
});

describe('trove admin user', () => {
  it('adds an IAM user with its first key to an account, and lists an account’s users', async () => {
    const dataDir = await tempDir();
    // On PostgreSQL (TROVE_TEST_META), the commands and the server below share the database.
    const metaUrl = await testMetaUrl(dataDir);
    const run = (...args: string[]) => promisify(execFile)(process.execPath, [MAIN, 'admin', ...args, '--data-dir', dataDir, ...(metaUrl ? ['--meta', metaUrl] : [])]);
    try {
      const account = await run('account', 'add', '--name', 'team', '--account-id', '123412341234');
      assert.match(account.stdout, /^account 123412341234 \(team\)/);
      const added = await run('user', 'add', '--account', '123412341234', '--name', 'ci', '--path', '/bots/');
      const key = /access key (\S+)\nsecret key (\S+)/.exec(added.stdout);
      assert.ok(key, added.stdout);
      assert.match(added.stdout, /^user arn:aws:iam::123412341234:user\/bots\/ci \(AIDA[A-Z2-7]{17}\)/);
      await run('user', 'add', '--account', '123412341234', '--name', 'backup');
      const listed = await run('user', 'list', '--account', '123412341234');
      assert.deepEqual(
        listed.stdout.trim().split('\n').map((l) => l.split('\t')[0]),
        ['backup', 'ci'],
      );
      await assert.rejects(run('user', 'add', '--account', '999999999999', '--name', 'x'), /no account 999999999999/);
      await assert.rejects(run('user', 'add', '--account', '123412341234', '--name', 'ci'), /User with name ci already exists/);
      // Given keys pre-provision a user (test suites, migrations).
      const given = { id: 'AKIAGIVENUSERKEY0001', secret: 'given-user-secret-given-user-secret-0001' };
      const preset = await run('user', 'add', '--account', '123412341234', '--name', 'preset', '--access-key', given.id, '--secret-key', given.secret);
      assert.match(preset.stdout, new RegExp(`access key ${given.id}\nsecret key ${given.secret}\n`));
      await assert.rejects(run('user', 'add', '--account', '123412341234', '--name', 'again', '--access-key', given.id, '--secret-key', given.secret), /access key AKIAGIVENUSERKEY0001 already exists/);
      await assert.rejects(run('user', 'add', '--account', '123412341234', '--name', 'half', '--access-key', 'AKIAHALF'), /go together/);

      // The key works against a server on that data directory: it authenticates as the user.
      const srv = await startServer({ dataDir });
      const iam = new IAMClient({ endpoint: srv.url, region: REGION, credentials: { accessKeyId: key[1]!, secretAccessKey: key[2]! }, maxAttempts: 1 });
      try {
        const refused = await iamError(iam.send(new GetUserCommand({})));
        assert.equal(refused.code, 'AccessDenied');
        assert.match(refused.message, /user\/bots\/ci is not authorized/);
        const presetClient = new IAMClient({ endpoint: srv.url, region: REGION, credentials: { accessKeyId: given.id, secretAccessKey: given.secret }, maxAttempts: 1 });
        try {
          assert.match((await iamError(presetClient.send(new GetUserCommand({})))).message, /user\/preset is not authorized/);
        } finally {
          presetClient.destroy();
        }
      } finally {
        iam.destroy();
        await srv.stop();
      }
    } finally {
      await fs.promises.rm(dataDir, { recursive: true, force: true });
    }
  });
});
