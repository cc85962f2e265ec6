// STS end to end: a real server, the AWS SDK's STS, IAM and S3 clients with temporary credentials,
// and raw signed HTTP for STS's XML and for presigned URLs. Who may assume a role (trust policies,
// the caller's own policies, other accounts, ExternalId, SourceIdentity), what a session may then
// do (its role's policies, session policies, revocation), GetSessionToken, GetCallerIdentity, and
// every way a token is refused: tampered with, expired, another key's, its role deleted.

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import {
  CreateAccessKeyCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  DeletePolicyCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DeleteUserPolicyCommand,
  IAMClient,
  IAMServiceException,
  ListUsersCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, GetCallerIdentityCommand, GetFederationTokenCommand, GetSessionTokenCommand, STSClient, STSServiceException, type AssumeRoleCommandInput } from '@aws-sdk/client-sts';
import { SignatureV4 } from '@smithy/signature-v4';
import { rootArn } from '../src/authz/policy/index.js';
import { ACCESS_KEY, REGION, SECRET_KEY, s3error, signer, startServer, uniqueBucket, type TestServer } from './helpers.js';
import { NodeSha256 } from './unit/auth-support.js';

const doc = (...statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });

interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** What a call failed with: the error's code (the SDKs name modelled ones …Exception), status and message. */
async function failure(p: Promise<unknown>): Promise<{ code: string; status: number | undefined; message: string }> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof STSServiceException) && !(e instanceof IAMServiceException)) throw e;
    return { code: e.name.replace(/Exception$/, ''), status: e.$metadata.httpStatusCode, message: e.message };
  }
  assert.fail('expected an STS or IAM error');
}

/** A token with one bit of one byte flipped (base64url, as this server's tokens are). */
function flipped(token: string, index: number): string {
  const raw = Buffer.from(token, 'base64url');
  raw[index] = raw[index]! ^ 0x01;
  return raw.toString('base64url');
}

function httpGet(port: number, path: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'GET', path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

const code = (text: string) => /<Code>([^<]*)<\/Code>/.exec(text)?.[1];

describe('STS', () => {
  let srv: TestServer;
  let accountId: string;
  let canonicalId: string;
  let rootIam: IAMClient;
  let rootSts: STSClient;
  const bucket = uniqueBucket('sts');
  const clients: (IAMClient | STSClient)[] = [];
  const rootKeys: Keys = { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY };

  const stsAs = (keys: Keys): STSClient => {
    const c = new STSClient({ endpoint: srv.url, region: REGION, credentials: keys, maxAttempts: 1 });
    clients.push(c);
    return c;
  };
  const iamAs = (keys: Keys): IAMClient => {
    const c = new IAMClient({ endpoint: srv.url, region: REGION, credentials: keys, maxAttempts: 1 });
    clients.push(c);
    return c;
  };
  const s3As = (keys: Keys): S3Client => srv.client({ credentials: keys, maxAttempts: 1 });
  const roleArn = (name: string, acct = accountId) => `arn:aws:iam::${acct}:role/${name}`;
  const userArn = (name: string, acct = accountId) => `arn:aws:iam::${acct}:user/${name}`;

  async function newUser(name: string, iam = rootIam): Promise<Keys> {
    await iam.send(new CreateUserCommand({ UserName: name }));
    const k = await iam.send(new CreateAccessKeyCommand({ UserName: name }));
    return { accessKeyId: k.AccessKey!.AccessKeyId!, secretAccessKey: k.AccessKey!.SecretAccessKey! };
  }

  async function newRole(name: string, trust: string, policy?: string, iam = rootIam): Promise<string> {
    await iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: trust }));
    if (policy !== undefined) await iam.send(new PutRolePolicyCommand({ RoleName: name, PolicyName: 'permissions', PolicyDocument: policy }));
    return (await srv.trove.app.meta.iam.getRole(accountId, name))!.id;
  }

  async function assume(keys: Keys, input: AssumeRoleCommandInput): Promise<Keys> {
    const r = await stsAs(keys).send(new AssumeRoleCommand(input));
    const c = r.Credentials!;
    return { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
  }

  const trusting = (principal: string, extra: object = {}) => doc({ Effect: 'Allow', Principal: { AWS: principal }, Action: 'sts:AssumeRole', ...extra });
  const readReports = doc(
    { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: `arn:aws:s3:::${bucket}/reports/*` },
    { Effect: 'Allow', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${bucket}` },
  );
  const get = (s3: S3Client, key: string) => s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const denied = async (p: Promise<unknown>) => assert.equal((await s3error(p)).name, 'AccessDenied');

  before(async () => {
    srv = await startServer();
    const meta = srv.trove.app.meta;
    canonicalId = (await meta.getAccessKey(ACCESS_KEY))!.userId;
    accountId = (await meta.getAccount(canonicalId))!.accountId;
    rootIam = iamAs(rootKeys);
    rootSts = stsAs(rootKeys);
    await srv.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    for (const k of ['reports/q1.csv', 'private/salaries.csv']) await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: `body of ${k}` }));
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await srv.stop();
  });

  it('GetCallerIdentity answers for the root user and for an IAM user', async () => {
    const me = await rootSts.send(new GetCallerIdentityCommand({}));
    assert.deepEqual([me.Account, me.Arn, me.UserId], [accountId, rootArn(accountId), accountId]);
    const keys = await newUser('ida');
    const ida = await stsAs(keys).send(new GetCallerIdentityCommand({}));
    assert.equal(ida.Arn, userArn('ida'));
    assert.equal(ida.Account, accountId);
    assert.match(ida.UserId ?? '', /^AIDA[A-Z2-7]{17}$/);
  });

  it('a user assumes a role whose trust policy names it; the session does what the role allows and nothing else', async () => {
    const alice = await newUser('alice');
    const roleId = await newRole('reader', trusting(userArn('alice')), readReports);
    const started = Date.now();
    const r = await stsAs(alice).send(new AssumeRoleCommand({ RoleArn: roleArn('reader'), RoleSessionName: 'alice-at-work' }));
    assert.equal(r.AssumedRoleUser?.Arn, `arn:aws:sts::${accountId}:assumed-role/reader/alice-at-work`);
    assert.equal(r.AssumedRoleUser?.AssumedRoleId, `${roleId}:alice-at-work`);
    assert.match(r.Credentials?.AccessKeyId ?? '', /^ASIA[A-Z0-9]{16}$/);
    assert.equal(r.Credentials?.SecretAccessKey?.length, 40);
    const expires = r.Credentials!.Expiration!.getTime();
    assert.ok(Math.abs(expires - (started + 3600_000)) < 5_000, `expires ${r.Credentials!.Expiration!.toISOString()}`);
    assert.equal(r.SourceIdentity, undefined);
    const session: Keys = { accessKeyId: r.Credentials!.AccessKeyId!, secretAccessKey: r.Credentials!.SecretAccessKey!, sessionToken: r.Credentials!.SessionToken! };

    const who = await stsAs(session).send(new GetCallerIdentityCommand({}));
    assert.deepEqual([who.Arn, who.UserId, who.Account], [`arn:aws:sts::${accountId}:assumed-role/reader/alice-at-work`, `${roleId}:alice-at-work`, accountId]);

    const s3 = s3As(session);
    assert.equal(await (await get(s3, 'reports/q1.csv')).Body!.transformToString(), 'body of reports/q1.csv');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'reports/by-session.csv', Body: 'x' }));
    await denied(get(s3, 'private/salaries.csv'));
    await denied(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'private/by-session.csv', Body: 'x' })));
    // What the session writes is owned by the account, as in AWS.
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'reports/by-session', FetchOwner: true }));
    assert.equal(listed.Contents?.[0]?.Owner?.ID, canonicalId);
    // The session's rights are the role's, not alice's (she has none of her own).
    await denied(get(s3As(alice), 'reports/q1.csv'));

    // The role's policies are read when the session is used: a change applies to it at once.
    await rootIam.send(new DeleteRolePolicyCommand({ RoleName: 'reader', PolicyName: 'permissions' }));
    await denied(get(s3, 'reports/q1.csv'));
    await rootIam.send(new PutRolePolicyCommand({ RoleName: 'reader', PolicyName: 'permissions', PolicyDocument: readReports }));
    await get(s3, 'reports/q1.csv');

    // AWS's way to revoke the sessions issued so far: deny on aws:TokenIssueTime (whole seconds).
    const cutoff = new Date(Date.now() + 1000).toISOString();
    await rootIam.send(
      new PutRolePolicyCommand({ RoleName: 'reader', PolicyName: 'revoke', PolicyDocument: doc({ Effect: 'Deny', Action: '*', Resource: '*', Condition: { DateLessThan: { 'aws:TokenIssueTime': cutoff } } }) }),
    );
    await denied(get(s3, 'reports/q1.csv'));
    await new Promise((r) => setTimeout(r, 2100));
    await get(s3As(await assume(alice, { RoleArn: roleArn('reader'), RoleSessionName: 'fresh' })), 'reports/q1.csv');
    await rootIam.send(new DeleteRolePolicyCommand({ RoleName: 'reader', PolicyName: 'revoke' }));
  });

  it('who may assume: not root users; an account-wide trust needs the caller’s own allow; explicit denies win; a missing role is refused alike', async () => {
    const root = await failure(rootSts.send(new AssumeRoleCommand({ RoleArn: roleArn('reader'), RoleSessionName: 'root' })));
    assert.deepEqual(root, { code: 'AccessDenied', status: 403, message: 'Roles may not be assumed by root accounts.' });

    const bob = await newUser('bob');
    await newRole('delegated', trusting(rootArn(accountId)), readReports);
    const refused = await failure(stsAs(bob).send(new AssumeRoleCommand({ RoleArn: roleArn('delegated'), RoleSessionName: 'bob' })));
    assert.deepEqual(refused, { code: 'AccessDenied', status: 403, message: `User: ${userArn('bob')} is not authorized to perform: sts:AssumeRole on resource: ${roleArn('delegated')}` });
    await rootIam.send(new PutUserPolicyCommand({ UserName: 'bob', PolicyName: 'assume', PolicyDocument: doc({ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: roleArn('delegated') }) }));
    await get(s3As(await assume(bob, { RoleArn: roleArn('delegated'), RoleSessionName: 'bob' })), 'reports/q1.csv');
    // A trust policy naming the account by its id is the same delegation.
    await newRole('by-id', trusting(accountId), readReports);
    assert.equal((await failure(stsAs(bob).send(new AssumeRoleCommand({ RoleArn: roleArn('by-id'), RoleSessionName: 'bob' })))).code, 'AccessDenied');

    // The reader role names alice only.
    assert.equal((await failure(stsAs(bob).send(new AssumeRoleCommand({ RoleArn: roleArn('reader'), RoleSessionName: 'bob' })))).code, 'AccessDenied');
    // An explicit Deny in the caller's policies wins over a trust policy naming it.
    await rootIam.send(new PutUserPolicyCommand({ UserName: 'bob', PolicyName: 'no', PolicyDocument: doc({ Effect: 'Deny', Action: 'sts:AssumeRole', Resource: '*' }) }));
    assert.equal((await failure(stsAs(bob).send(new AssumeRoleCommand({ RoleArn: roleArn('delegated'), RoleSessionName: 'bob' })))).code, 'AccessDenied');
    await rootIam.send(new DeleteUserPolicyCommand({ UserName: 'bob', PolicyName: 'no' }));

    // A role that does not exist, or named with the wrong path, is refused like one the caller may not assume.
    const missing = await failure(stsAs(bob).send(new AssumeRoleCommand({ RoleArn: roleArn('no-such-role'), RoleSessionName: 'bob' })));
    assert.deepEqual(missing, { code: 'AccessDenied', status: 403, message: `User: ${userArn('bob')} is not authorized to perform: sts:AssumeRole on resource: ${roleArn('no-such-role')}` });
    assert.equal((await failure(stsAs(bob).send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${accountId}:role/x/delegated`, RoleSessionName: 'bob' })))).code, 'AccessDenied');
  });

  it('session policies narrow a session: inline, managed, and a deleted managed one allows nothing', async () => {
    const carol = await newUser('carol');
    await newRole('wide', trusting(userArn('carol')), doc({ Effect: 'Allow', Action: 's3:*', Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`] }));
    const inline = doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/reports/*` });
    const r = await stsAs(carol).send(new AssumeRoleCommand({ RoleArn: roleArn('wide'), RoleSessionName: 'narrow', Policy: inline }));
    assert.ok((r.PackedPolicySize ?? 0) > 0 && (r.PackedPolicySize ?? 0) <= 100);
    const narrow = s3As({ accessKeyId: r.Credentials!.AccessKeyId!, secretAccessKey: r.Credentials!.SecretAccessKey!, sessionToken: r.Credentials!.SessionToken! });
    await get(narrow, 'reports/q1.csv');
    await denied(get(narrow, 'private/salaries.csv'));
    await denied(narrow.send(new PutObjectCommand({ Bucket: bucket, Key: 'reports/x.csv', Body: 'x' })));
    // Without a session policy the role's whole permissions apply.
    await get(s3As(await assume(carol, { RoleArn: roleArn('wide'), RoleSessionName: 'wide' })), 'private/salaries.csv');

    const policyArn = (await rootIam.send(new CreatePolicyCommand({ PolicyName: 'only-private', PolicyDocument: doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/private/*` }) }))).Policy!.Arn!;
    const managed = s3As(await assume(carol, { RoleArn: roleArn('wide'), RoleSessionName: 'managed', PolicyArns: [{ arn: policyArn }] }));
    await get(managed, 'private/salaries.csv');
    await denied(get(managed, 'reports/q1.csv'));
    // Session policies are a cap, never a grant: a managed policy the role does not allow adds nothing.
    await rootIam.send(new DeletePolicyCommand({ PolicyArn: policyArn }));
    await denied(get(managed, 'private/salaries.csv'));
    assert.equal((await failure(stsAs(carol).send(new AssumeRoleCommand({ RoleArn: roleArn('wide'), RoleSessionName: 'gone', PolicyArns: [{ arn: policyArn }] })))).code, 'ValidationError');

    const bad = await failure(stsAs(carol).send(new AssumeRoleCommand({ RoleArn: roleArn('wide'), RoleSessionName: 'bad', Policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow"}]}' })));
    assert.equal(bad.code, 'MalformedPolicyDocument');
    assert.equal(bad.status, 400);
    const big = doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: Array.from({ length: 40 }, (_, i) => `arn:aws:s3:::${bucket}/prefix-${i}/*`) });
    assert.ok(big.length <= 2048 && big.length > 1900, String(big.length));
    const arns = Array.from({ length: 3 }, (_, i) => ({ arn: `arn:aws:iam::${accountId}:policy/some-policy-${i}` }));
    const packed = await failure(stsAs(carol).send(new AssumeRoleCommand({ RoleArn: roleArn('wide'), RoleSessionName: 'big', Policy: big, PolicyArns: arns })));
    assert.equal(packed.code, 'PackedPolicyTooLarge');
    assert.equal(packed.status, 400);
    assert.match(packed.message, /^Packed policy consumes \d+% of allotted space/);
  });

  it('a user of another account needs both the role’s trust and its own policy; the session acts in the role’s account', async () => {
    const meta = srv.trove.app.meta;
    const other = { canonical: 'd'.repeat(64), accountId: '777766665555', keys: { accessKeyId: 'OTHERROOTKEY00000002', secretAccessKey: 'other-root-secret-0000000000000000000002' } };
    await meta.putAccount({ id: other.canonical, accountId: other.accountId, displayName: 'other', createdAt: Date.now() });
    await meta.putAccessKey({ ...other.keys, userId: other.canonical, createdAt: Date.now() });
    const otherIam = iamAs(other.keys);
    const gina = await newUser('gina', otherIam);

    await newRole('partner', trusting(userArn('gina', other.accountId)), readReports);
    const refused = await failure(stsAs(gina).send(new AssumeRoleCommand({ RoleArn: roleArn('partner'), RoleSessionName: 'gina' })));
    assert.equal(refused.code, 'AccessDenied');
    await otherIam.send(new PutUserPolicyCommand({ UserName: 'gina', PolicyName: 'assume', PolicyDocument: doc({ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: roleArn('partner') }) }));
    const session = await assume(gina, { RoleArn: roleArn('partner'), RoleSessionName: 'gina' });
    const who = await stsAs(session).send(new GetCallerIdentityCommand({}));
    assert.equal(who.Account, accountId);
    assert.equal(who.Arn, `arn:aws:sts::${accountId}:assumed-role/partner/gina`);
    await get(s3As(session), 'reports/q1.csv');
    await denied(get(s3As(session), 'private/salaries.csv'));

    // Her own policy alone is not enough: a role whose trust does not name her or her account.
    assert.equal((await failure(stsAs(gina).send(new AssumeRoleCommand({ RoleArn: roleArn('reader'), RoleSessionName: 'gina' })))).code, 'AccessDenied');
    // A trust naming her account delegates to it; her allow then suffices.
    await newRole('partner-account', trusting(other.accountId), readReports);
    await otherIam.send(new PutUserPolicyCommand({ UserName: 'gina', PolicyName: 'assume', PolicyDocument: doc({ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: `arn:aws:iam::${accountId}:role/partner*` }) }));
    await get(s3As(await assume(gina, { RoleArn: roleArn('partner-account'), RoleSessionName: 'gina' })), 'reports/q1.csv');
  });

  it('authorises a warm role session from memory: its token, role, role policies and session policies cost no store read', async () => {
    const lee = await newUser('lee');
    await newRole('warm', trusting(userArn('lee')), readReports);
    const managed = (await rootIam.send(new CreatePolicyCommand({ PolicyName: 'warm-session', PolicyDocument: doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }) }))).Policy!.Arn!;
    const session = s3As(await assume(lee, { RoleArn: roleArn('warm'), RoleSessionName: 'warm', Policy: doc({ Effect: 'Allow', Action: 's3:*', Resource: '*' }), PolicyArns: [{ arn: managed }] }));
    await get(session, 'reports/q1.csv');
    // Warm the refusal's path too: an implicit deny consults the bucket's ACL settings (and its
    // owner account's Block Public Access), cached for 5 s; without this the test depended on an
    // earlier test having read them less than 5 s before (it failed on a loaded machine).
    await denied(get(session, 'private/salaries.csv'));
    const meta = srv.trove.app.meta;
    const iam = meta.iam;
    const reads: string[] = [];
    const saved = { getAccessKey: meta.getAccessKey, getAccount: meta.getAccount, getSetting: meta.getSetting, docs: iam.identityPolicyDocuments, role: iam.getRoleById, policy: iam.defaultPolicyDocument };
    const spy = <A extends unknown[], R>(name: string, f: (...a: A) => Promise<R>) => (...a: A) => (reads.push(name), f(...a));
    meta.getAccessKey = spy('getAccessKey', saved.getAccessKey.bind(meta));
    meta.getAccount = spy('getAccount', saved.getAccount.bind(meta));
    meta.getSetting = spy('getSetting', saved.getSetting.bind(meta));
    iam.identityPolicyDocuments = spy('identityPolicyDocuments', saved.docs.bind(iam));
    iam.getRoleById = spy('getRoleById', saved.role.bind(iam));
    iam.defaultPolicyDocument = spy('defaultPolicyDocument', saved.policy.bind(iam));
    try {
      for (let i = 0; i < 10; i++) await get(session, 'reports/q1.csv');
      await denied(get(session, 'private/salaries.csv'));
    } finally {
      Object.assign(meta, { getAccessKey: saved.getAccessKey, getAccount: saved.getAccount, getSetting: saved.getSetting });
      Object.assign(iam, { identityPolicyDocuments: saved.docs, getRoleById: saved.role, defaultPolicyDocument: saved.policy });
    }
    assert.deepEqual(reads, []);
  });

  it('a trust policy condition on sts:ExternalId', async () => {
    const dave = await newUser('dave');
    await newRole('vendor', trusting(userArn('dave'), { Condition: { StringEquals: { 'sts:ExternalId': 'ext-7f3a' } } }), readReports);
    const arn = roleArn('vendor');
    assert.equal((await failure(stsAs(dave).send(new AssumeRoleCommand({ RoleArn: arn, RoleSessionName: 'dave' })))).code, 'AccessDenied');
    assert.equal((await failure(stsAs(dave).send(new AssumeRoleCommand({ RoleArn: arn, RoleSessionName: 'dave', ExternalId: 'ext-0000' })))).code, 'AccessDenied');
    await get(s3As(await assume(dave, { RoleArn: arn, RoleSessionName: 'dave', ExternalId: 'ext-7f3a' })), 'reports/q1.csv');
  });

  it('SourceIdentity needs sts:SetSourceIdentity, is carried into chained sessions and cannot change there', async () => {
    const erin = await newUser('erin');
    const both = (principal: string) => doc({ Effect: 'Allow', Principal: { AWS: principal }, Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'] });
    await newRole('first', both(userArn('erin')), doc({ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }));
    await newRole('second', both(roleArn('first')), doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*', Condition: { StringEquals: { 'aws:SourceIdentity': 'erin' } } }));
    await newRole('no-source', trusting(userArn('erin')), readReports);

    assert.equal((await failure(stsAs(erin).send(new AssumeRoleCommand({ RoleArn: roleArn('no-source'), RoleSessionName: 'erin', SourceIdentity: 'erin' })))).code, 'AccessDenied');
    const r = await stsAs(erin).send(new AssumeRoleCommand({ RoleArn: roleArn('first'), RoleSessionName: 'erin', SourceIdentity: 'erin' }));
    assert.equal(r.SourceIdentity, 'erin');
    const first: Keys = { accessKeyId: r.Credentials!.AccessKeyId!, secretAccessKey: r.Credentials!.SecretAccessKey!, sessionToken: r.Credentials!.SessionToken! };

    // Role chaining: the second session inherits the source identity, and its policy sees it.
    const chained = await stsAs(first).send(new AssumeRoleCommand({ RoleArn: roleArn('second'), RoleSessionName: 'chained' }));
    assert.equal(chained.SourceIdentity, 'erin');
    await get(s3As({ accessKeyId: chained.Credentials!.AccessKeyId!, secretAccessKey: chained.Credentials!.SecretAccessKey!, sessionToken: chained.Credentials!.SessionToken! }), 'private/salaries.csv');
    assert.equal((await failure(stsAs(first).send(new AssumeRoleCommand({ RoleArn: roleArn('second'), RoleSessionName: 'chain2', SourceIdentity: 'mallory' })))).code, 'AccessDenied');
    // Chained sessions last an hour at most.
    const long = await failure(stsAs(first).send(new AssumeRoleCommand({ RoleArn: roleArn('second'), RoleSessionName: 'chain2', DurationSeconds: 7200 })));
    assert.deepEqual([long.code, long.status], ['ValidationError', 400]);
    assert.match(long.message, /role chaining/);
  });

  it('GetSessionToken: credentials that act as the user for S3, refused for GetSessionToken itself and for IAM', async () => {
    const fay = await newUser('fay');
    await rootIam.send(new PutUserPolicyCommand({ UserName: 'fay', PolicyName: 'reports', PolicyDocument: readReports }));
    const started = Date.now();
    const t = await stsAs(fay).send(new GetSessionTokenCommand({ DurationSeconds: 900 }));
    assert.ok(Math.abs(t.Credentials!.Expiration!.getTime() - (started + 900_000)) < 5_000);
    assert.match(t.Credentials!.AccessKeyId!, /^ASIA/);
    const session: Keys = { accessKeyId: t.Credentials!.AccessKeyId!, secretAccessKey: t.Credentials!.SecretAccessKey!, sessionToken: t.Credentials!.SessionToken! };
    await get(s3As(session), 'reports/q1.csv');
    await denied(get(s3As(session), 'private/salaries.csv'));
    assert.equal((await stsAs(session).send(new GetCallerIdentityCommand({}))).Arn, userArn('fay'));

    const again = await failure(stsAs(session).send(new GetSessionTokenCommand({})));
    assert.deepEqual(again, { code: 'AccessDenied', status: 403, message: 'Cannot call GetSessionToken with session credentials' });
    // Without MFA, AWS refuses IAM to these credentials as an invalid token.
    assert.deepEqual((({ code, status }) => ({ code, status }))(await failure(iamAs(session).send(new ListUsersCommand({})))), { code: 'InvalidClientTokenId', status: 403 });
    // A role session cannot call GetSessionToken either.
    await newRole('gst', trusting(userArn('fay')), readReports);
    const role = await assume(fay, { RoleArn: roleArn('gst'), RoleSessionName: 'fay' });
    assert.equal((await failure(stsAs(role).send(new GetSessionTokenCommand({})))).code, 'AccessDenied');

    // The root user's sessions last an hour at most, whatever is asked.
    const rootSession = await rootSts.send(new GetSessionTokenCommand({ DurationSeconds: 129600 }));
    assert.ok(rootSession.Credentials!.Expiration!.getTime() - Date.now() <= 3600_000);
    const rootCreds: Keys = { accessKeyId: rootSession.Credentials!.AccessKeyId!, secretAccessKey: rootSession.Credentials!.SecretAccessKey!, sessionToken: rootSession.Credentials!.SessionToken! };
    await get(s3As(rootCreds), 'private/salaries.csv');
    assert.equal((await stsAs(rootCreds).send(new GetCallerIdentityCommand({}))).Arn, rootArn(accountId));
    assert.equal((await failure(stsAs(fay).send(new GetSessionTokenCommand({ DurationSeconds: 899 })))).code, 'ValidationError');
  });

  it('a presigned URL signed with session credentials works, and stops working when its token expires', async () => {
    const presign = async (keys: Keys, key: string) => {
      const sig = new SignatureV4({ credentials: keys, region: REGION, service: 's3', sha256: NodeSha256, uriEscapePath: false, applyChecksum: false });
      const req = await sig.presign(
        { method: 'GET', protocol: 'http:', hostname: '127.0.0.1', port: srv.port, path: `/${bucket}/${key}`, query: {}, headers: { host: `127.0.0.1:${srv.port}`, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } },
        { expiresIn: 600 },
      );
      const qs = Object.entries(req.query ?? {})
        .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
        .join('&');
      return `/${bucket}/${key}?${qs}`;
    };
    // A real session's URL.
    const hal = await newUser('hal');
    await newRole('url-reader', trusting(userArn('hal')), readReports);
    const real = await assume(hal, { RoleArn: roleArn('url-reader'), RoleSessionName: 'url' });
    const url = await presign(real, 'reports/q1.csv');
    assert.match(url, /X-Amz-Security-Token=/);
    const ok = await httpGet(srv.port, url);
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.text, 'body of reports/q1.csv');

    // A session of the same role that lasts two seconds (below STS's 900-second minimum, so minted
    // with the server's key directly), and a URL that would last ten minutes.
    const role = (await srv.trove.app.meta.iam.getRole(accountId, 'url-reader'))!;
    const short = await srv.trove.app.sts.issue({ kind: 'assumed-role', accountId, canonicalId, arn: roleArn('url-reader'), principalId: role.id, sessionName: 'short' }, 2, Date.now());
    const shortUrl = await presign({ accessKeyId: short.accessKeyId, secretAccessKey: short.secretAccessKey, sessionToken: short.sessionToken }, 'reports/q1.csv');
    assert.equal((await httpGet(srv.port, shortUrl)).status, 200);
    await new Promise((r) => setTimeout(r, Math.max(0, short.expiresAt - Date.now()) + 50));
    const late = await httpGet(srv.port, shortUrl);
    assert.equal(late.status, 400);
    assert.equal(code(late.text), 'ExpiredToken');
    assert.match(late.text, /<Message>The provided token has expired.<\/Message>/);
  });

  /** A second key for an existing user (users have at most two). */
  async function secondKey(name: string): Promise<Keys> {
    const k = await rootIam.send(new CreateAccessKeyCommand({ UserName: name }));
    return { accessKeyId: k.AccessKey!.AccessKeyId!, secretAccessKey: k.AccessKey!.SecretAccessKey! };
  }

  it('ExpiredToken: S3 answers 400, STS and IAM 403', async () => {
    const role = (await srv.trove.app.meta.iam.getRole(accountId, 'reader'))!;
    const past = await srv.trove.app.sts.issue({ kind: 'assumed-role', accountId, canonicalId, arn: roleArn('reader'), principalId: role.id, sessionName: 'old' }, 900, Date.now() - 3600_000);
    const keys: Keys = { accessKeyId: past.accessKeyId, secretAccessKey: past.secretAccessKey, sessionToken: past.sessionToken };
    const e = await s3error(get(s3As(keys), 'reports/q1.csv'));
    assert.deepEqual([e.name, e.$metadata.httpStatusCode, e.message], ['ExpiredToken', 400, 'The provided token has expired.']);
    assert.deepEqual(await failure(stsAs(keys).send(new GetCallerIdentityCommand({}))), { code: 'ExpiredToken', status: 403, message: 'The security token included in the request is expired' });
    assert.equal((await failure(iamAs(keys).send(new ListUsersCommand({})))).code, 'ExpiredToken');
  });

  it('refuses a token with one byte flipped, another session’s token, a temporary key without its token, a long-term key with one', async () => {
    const bob = await secondKey('bob');
    const a = await assume(bob, { RoleArn: roleArn('delegated'), RoleSessionName: 'sa' });
    const b = await assume(bob, { RoleArn: roleArn('delegated'), RoleSessionName: 'sb' });
    await get(s3As(a), 'reports/q1.csv');
    const token = a.sessionToken!;
    const length = Buffer.from(token, 'base64url').length;
    for (const i of [0, 1, 13, Math.floor(length / 2), length - 1]) {
      const e = await s3error(get(s3As({ ...a, sessionToken: flipped(token, i) }), 'reports/q1.csv'));
      assert.deepEqual([e.name, e.$metadata.httpStatusCode], ['InvalidToken', 400], `byte ${i}`);
    }
    assert.deepEqual((({ code, status }) => ({ code, status }))(await failure(stsAs({ ...a, sessionToken: flipped(token, 20) }).send(new GetCallerIdentityCommand({})))), { code: 'InvalidClientTokenId', status: 403 });
    assert.equal((await s3error(get(s3As({ ...a, sessionToken: b.sessionToken! }), 'reports/q1.csv'))).name, 'InvalidToken');
    const noToken = await s3error(get(s3As({ accessKeyId: a.accessKeyId, secretAccessKey: a.secretAccessKey }), 'reports/q1.csv'));
    assert.deepEqual([noToken.name, noToken.$metadata.httpStatusCode], ['InvalidAccessKeyId', 403]);
    assert.equal((await s3error(get(s3As({ ...rootKeys, sessionToken: token }), 'reports/q1.csv'))).name, 'InvalidToken');
  });

  it('deleting the role ends its sessions; a role re-created under the same name does not revive them', async () => {
    const ivy = await newUser('ivy');
    await newRole('temp', trusting(userArn('ivy')), readReports);
    const session = await assume(ivy, { RoleArn: roleArn('temp'), RoleSessionName: 'ivy' });
    await get(s3As(session), 'reports/q1.csv');
    await rootIam.send(new DeleteRolePolicyCommand({ RoleName: 'temp', PolicyName: 'permissions' }));
    await rootIam.send(new DeleteRoleCommand({ RoleName: 'temp' }));
    assert.equal((await s3error(get(s3As(session), 'reports/q1.csv'))).name, 'InvalidToken');
    assert.equal((await failure(stsAs(session).send(new GetCallerIdentityCommand({})))).code, 'InvalidClientTokenId');
    await newRole('temp', trusting(userArn('ivy')), readReports);
    assert.equal((await s3error(get(s3As(session), 'reports/q1.csv'))).name, 'InvalidToken');
    await get(s3As(await assume(ivy, { RoleArn: roleArn('temp'), RoleSessionName: 'ivy' })), 'reports/q1.csv');
  });

  it('a role session uses the IAM API as its role allows, and never as the account root', async () => {
    const jo = await newUser('jo');
    await newRole('iam-admin', trusting(userArn('jo')), doc({ Effect: 'Allow', Action: ['iam:ListUsers', 'iam:CreateAccessKey', 'iam:DeleteAccessKey'], Resource: '*' }));
    const session = await assume(jo, { RoleArn: roleArn('iam-admin'), RoleSessionName: 'ops' });
    const iam = iamAs(session);
    assert.ok(((await iam.send(new ListUsersCommand({}))).Users ?? []).some((u) => u.UserName === 'jo'));
    const selfKey = await failure(iam.send(new CreateAccessKeyCommand({})));
    assert.deepEqual(selfKey, { code: 'ValidationError', status: 400, message: 'Must specify userName when calling with non-User credentials' });
    const k = await iam.send(new CreateAccessKeyCommand({ UserName: 'jo' }));
    await iam.send(new DeleteAccessKeyCommand({ UserName: 'jo', AccessKeyId: k.AccessKey!.AccessKeyId! }));
    const refused = await failure(iam.send(new CreatePolicyCommand({ PolicyName: 'x', PolicyDocument: readReports })));
    assert.equal(refused.code, 'AccessDenied');
    assert.match(refused.message, new RegExp(`^User: arn:aws:sts::${accountId}:assumed-role/iam-admin/ops is not authorized`));
  });

  it('validates parameters as STS does, and answers NotImplemented for what it does not do', async () => {
    const kim = await newUser('kim');
    await newRole('limits', trusting(userArn('kim')), readReports);
    const sts = stsAs(kim);
    const arn = roleArn('limits');
    for (const name of ['a', 'has space', 'x'.repeat(65)]) {
      const e = await failure(sts.send(new AssumeRoleCommand({ RoleArn: arn, RoleSessionName: name })));
      assert.deepEqual([e.code, e.status], ['ValidationError', 400], name);
      assert.match(e.message, /at 'roleSessionName' failed to satisfy constraint/);
    }
    const tooLong = await failure(sts.send(new AssumeRoleCommand({ RoleArn: arn, RoleSessionName: 'kim', DurationSeconds: 7200 })));
    assert.deepEqual([tooLong.code, tooLong.message], ['ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.']);
    assert.equal((await failure(sts.send(new AssumeRoleCommand({ RoleArn: arn, RoleSessionName: 'kim', DurationSeconds: 600 })))).code, 'ValidationError');
    assert.equal((await failure(sts.send(new AssumeRoleCommand({ RoleArn: 'arn:aws:s3:::not-a-role', RoleSessionName: 'kim' })))).code, 'ValidationError');
    const tags = await failure(sts.send(new AssumeRoleCommand({ RoleArn: arn, RoleSessionName: 'kim', Tags: [{ Key: 'team', Value: 'a' }] })));
    assert.deepEqual([tags.code, tags.status], ['NotImplemented', 501]);
    assert.deepEqual((({ code, status }) => ({ code, status }))(await failure(sts.send(new GetFederationTokenCommand({ Name: 'fed' })))), { code: 'NotImplemented', status: 501 });
    const mfa = await failure(sts.send(new AssumeRoleCommand({ RoleArn: arn, RoleSessionName: 'kim', SerialNumber: 'arn:aws:iam::123456789012:mfa/kim', TokenCode: '123456' })));
    assert.equal(mfa.code, 'AccessDenied');
  });

  it('speaks STS’s XML: the response and error documents, in STS’s namespace', async () => {
    const call = async (form: string) => {
      const headers: Record<string, string> = { host: `127.0.0.1:${srv.port}`, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' };
      const signed = await signer(ACCESS_KEY, SECRET_KEY, 'sts').sign({ method: 'POST', protocol: 'http:', hostname: '127.0.0.1', port: srv.port, path: '/', query: {}, headers, body: form });
      return new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: srv.port, method: 'POST', path: '/', headers: { ...signed.headers, 'content-length': String(Buffer.byteLength(form)) }, agent: false }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        });
        req.on('error', reject);
        req.end(form);
      });
    };
    const ok = await call('Action=GetCallerIdentity&Version=2011-06-15');
    assert.equal(ok.status, 200);
    assert.match(ok.text, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<GetCallerIdentityResponse xmlns="https:\/\/sts.amazonaws.com\/doc\/2011-06-15\/"><GetCallerIdentityResult>/);
    assert.match(ok.text, new RegExp(`<Account>${accountId}</Account>`));
    assert.match(ok.text, /<ResponseMetadata><RequestId>[^<]+<\/RequestId><\/ResponseMetadata><\/GetCallerIdentityResponse>$/);
    const root = await call(`Action=AssumeRole&Version=2011-06-15&RoleArn=${encodeURIComponent(roleArn('reader'))}&RoleSessionName=xx`);
    assert.equal(root.status, 403);
    assert.match(root.text, /<ErrorResponse xmlns="https:\/\/sts.amazonaws.com\/doc\/2011-06-15\/"><Error><Type>Sender<\/Type><Code>AccessDenied<\/Code><Message>Roles may not be assumed by root accounts.<\/Message><\/Error><RequestId>/);
    const version = await call('Action=GetCallerIdentity&Version=2010-05-08');
    assert.deepEqual([version.status, code(version.text)], [400, 'InvalidAction']);
  });
});
