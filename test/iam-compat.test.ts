// IAM behaviours clients rely on beyond the basics of iam.test.ts, each as AWS documents it:
// parameters validated before anything else, OpenID Connect providers, AWS managed policies,
// GetAccountSummary, UpdateGroup, UpdateRoleDescription.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AddClientIDToOpenIDConnectProviderCommand,
  AddUserToGroupCommand,
  AttachGroupPolicyCommand,
  AttachRolePolicyCommand,
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreateGroupCommand,
  CreateOpenIDConnectProviderCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateRoleCommand,
  CreateUserCommand,
  DeleteOpenIDConnectProviderCommand,
  DeletePolicyCommand,
  DeletePolicyVersionCommand,
  DeleteRoleCommand,
  DeleteUserCommand,
  DetachGroupPolicyCommand,
  DetachRolePolicyCommand,
  DetachUserPolicyCommand,
  GetAccountSummaryCommand,
  GetGroupCommand,
  GetRoleCommand,
  GetOpenIDConnectProviderCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  IAMClient,
  IAMServiceException,
  ListAttachedRolePoliciesCommand,
  ListGroupsForUserCommand,
  ListAttachedUserPoliciesCommand,
  ListOpenIDConnectProvidersCommand,
  ListPoliciesCommand,
  ListPolicyVersionsCommand,
  ListRolesCommand,
  PutUserPolicyCommand,
  RemoveClientIDFromOpenIDConnectProviderCommand,
  SetDefaultPolicyVersionCommand,
  UpdateGroupCommand,
  UpdateOpenIDConnectProviderThumbprintCommand,
  UpdateRoleDescriptionCommand,
  paginateListPolicies,
} from '@aws-sdk/client-iam';
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { ACCESS_KEY, REGION, SECRET_KEY, s3error, signer, startServer, uniqueBucket, type TestServer } from './helpers.js';

const doc = (...statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });

interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
}

/** What an IAM call failed with: the error's code (the SDK names modelled ones …Exception), status and message. */
async function iamError(p: Promise<unknown>): Promise<{ code: string; status: number | undefined; message: string }> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof IAMServiceException)) throw e;
    return { code: e.name.replace(/Exception$/, ''), status: e.$metadata.httpStatusCode, message: e.message };
  }
  assert.fail('expected an IAM error');
}

/** A signed form POST to the IAM API, as the account root: its status and body. */
async function iamPost(srv: TestServer, params: Record<string, string>): Promise<{ status: number; text: string }> {
  const body = new URLSearchParams(params).toString();
  const headers: Record<string, string> = { host: `127.0.0.1:${srv.port}`, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' };
  const signed = await signer(ACCESS_KEY, SECRET_KEY, 'iam').sign({ method: 'POST', protocol: 'http:', hostname: '127.0.0.1', port: srv.port, path: '/', query: {}, headers, body });
  const res = await fetch(`${srv.url}/`, { method: 'POST', headers: signed.headers, body });
  return { status: res.status, text: await res.text() };
}

describe('IAM compatibility', () => {
  let srv: TestServer;
  let root: IAMClient;
  const clients: IAMClient[] = [];

  function iamAs(keys: Keys): IAMClient {
    const c = new IAMClient({ endpoint: srv.url, region: REGION, credentials: keys, maxAttempts: 1 });
    clients.push(c);
    return c;
  }

  let accountId: string;

  /** A user with one key. */
  async function newUser(name: string, client = root): Promise<Keys> {
    await client.send(new CreateUserCommand({ UserName: name }));
    const k = await client.send(new CreateAccessKeyCommand({ UserName: name }));
    return { accessKeyId: k.AccessKey!.AccessKeyId!, secretAccessKey: k.AccessKey!.SecretAccessKey! };
  }

  /** The root of another account. */
  async function otherAccount(n: number): Promise<{ accountId: string; client: IAMClient }> {
    const meta = srv.trove.app.meta;
    const id = String(n).repeat(64).slice(0, 64);
    const acct = String(n).repeat(12).slice(0, 12);
    const keys = { accessKeyId: `OTHERROOTKEY0000000${n}`, secretAccessKey: `other-root-secret-${n}`.padEnd(40, '0') };
    await meta.putAccount({ id, accountId: acct, displayName: `other ${n}`, createdAt: Date.now() });
    await meta.putAccessKey({ ...keys, userId: id, createdAt: Date.now() });
    return { accountId: acct, client: iamAs(keys) };
  }

  before(async () => {
    srv = await startServer();
    root = iamAs({ accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY });
    const meta = srv.trove.app.meta;
    accountId = (await meta.getAccount((await meta.getAccessKey(ACCESS_KEY))!.userId))!.accountId;
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await srv.stop();
  });

  it('knows every IAM action: those not implemented answer NotImplemented, not InvalidAction', async () => {
    for (const Action of ['TagOpenIDConnectProvider', 'ListSAMLProviderTags', 'TagServerCertificate', 'GetMFADevice', 'GetServiceLastAccessedDetailsWithEntities', 'GetOrganizationsAccessReport']) {
      const res = await iamPost(srv, { Action, Version: '2010-05-08' });
      assert.deepEqual([res.status, /<Code>(\w+)<\/Code>/.exec(res.text)?.[1]], [501, 'NotImplemented'], Action);
    }
  });

  it('validates every parameter before looking anything up, as AWS does', async () => {
    // A policy name over 128 characters is a ValidationError even for a user that does not exist.
    const e = await iamError(root.send(new PutUserPolicyCommand({ UserName: 'nobody', PolicyName: 'p'.repeat(129), PolicyDocument: doc({ Effect: 'Allow', Action: '*', Resource: '*' }) })));
    assert.deepEqual([e.code, e.status], ['ValidationError', 400]);
    assert.match(e.message, /at 'policyName' failed to satisfy constraint: Member must have length less than or equal to 128/);
    // and for one that does: nothing is stored.
    await root.send(new CreateUserCommand({ UserName: 'val' }));
    const bad = await iamError(root.send(new PutUserPolicyCommand({ UserName: 'val', PolicyName: 'no spaces', PolicyDocument: doc({ Effect: 'Allow', Action: '*', Resource: '*' }) })));
    assert.equal(bad.code, 'ValidationError');
  });

  it('keeps OpenID Connect providers: identified by their URL without the scheme, as AWS answers them', async () => {
    const thumb = '3768084DFB3D2B68B7897BF5F565DA8EFEXAMPLE';
    const created = await root.send(
      new CreateOpenIDConnectProviderCommand({ Url: 'https://oidc.example.com/id/ABC', ClientIDList: ['app-1', 'app-1', 'app-2'], ThumbprintList: [thumb] }),
    );
    const arn = created.OpenIDConnectProviderArn!;
    assert.equal(arn, `arn:aws:iam::${accountId}:oidc-provider/oidc.example.com/id/ABC`);
    const got = await root.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }));
    assert.equal(got.Url, 'oidc.example.com/id/ABC');
    assert.deepEqual(got.ClientIDList, ['app-1', 'app-2']);
    assert.deepEqual(got.ThumbprintList, [thumb.toLowerCase()]);
    assert.ok(got.CreateDate instanceof Date && got.CreateDate.getTime() > Date.now() - 60_000);
    assert.deepEqual((await root.send(new ListOpenIDConnectProvidersCommand({}))).OpenIDConnectProviderList, [{ Arn: arn }]);

    const dup = await iamError(root.send(new CreateOpenIDConnectProviderCommand({ Url: 'https://oidc.example.com/id/ABC', ThumbprintList: [thumb] })));
    assert.deepEqual([dup.code, dup.status, dup.message], ['EntityAlreadyExists', 409, 'Provider with url https://oidc.example.com/id/ABC already exists.']);
    const http = await iamError(root.send(new CreateOpenIDConnectProviderCommand({ Url: 'http://oidc.example.com', ThumbprintList: [thumb] })));
    assert.deepEqual([http.code, http.status, http.message], ['InvalidInput', 400, 'Invalid Open ID Connect Provider URL. The URL must begin with https://.']);
    assert.equal((await iamError(root.send(new CreateOpenIDConnectProviderCommand({ Url: 'oidc.example.com' })))).code, 'ValidationError');
    // A port is accepted (AWS refuses one; self-hosted providers often listen on one), a bad one is not.
    for (const url of ['https://oidc.example.com:0', 'https://oidc.example.com:70000', 'https://oidc.example.com/?q=1', 'https://user@oidc.example.com', 'https://exa_mple.com']) {
      assert.equal((await iamError(root.send(new CreateOpenIDConnectProviderCommand({ Url: url })))).code, 'InvalidInput', url);
    }
    const shortThumb = await iamError(root.send(new CreateOpenIDConnectProviderCommand({ Url: 'https://other.example.com', ThumbprintList: ['abc'] })));
    assert.deepEqual([shortThumb.code, shortThumb.message], ['InvalidInput', 'Thumbprint must be exactly 40 characters.']);
    const six = ['1', '2', '3', '4', '5', '6'].map((c) => c.repeat(40));
    assert.equal((await iamError(root.send(new CreateOpenIDConnectProviderCommand({ Url: 'https://other.example.com', ThumbprintList: six })))).code, 'InvalidInput');
    const manyIds = Array.from({ length: 101 }, (_, i) => `client-${i}`);
    assert.equal((await iamError(root.send(new CreateOpenIDConnectProviderCommand({ Url: 'https://other.example.com', ClientIDList: manyIds })))).code, 'LimitExceeded');

    // Client ids are added and removed idempotently; thumbprints replaced.
    await root.send(new AddClientIDToOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn, ClientID: 'app-3' }));
    await root.send(new AddClientIDToOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn, ClientID: 'app-3' }));
    await root.send(new RemoveClientIDFromOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn, ClientID: 'app-1' }));
    await root.send(new RemoveClientIDFromOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn, ClientID: 'never-added' }));
    await root.send(new UpdateOpenIDConnectProviderThumbprintCommand({ OpenIDConnectProviderArn: arn, ThumbprintList: ['a'.repeat(40), 'b'.repeat(40)] }));
    const changed = await root.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }));
    assert.deepEqual([changed.ClientIDList, changed.ThumbprintList], [['app-2', 'app-3'], ['a'.repeat(40), 'b'.repeat(40)]]);

    // Another account's provider is out of reach; an IAM user needs a policy naming the action.
    const other = await otherAccount(7);
    assert.equal((await iamError(other.client.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn })))).code, 'AccessDenied');
    assert.deepEqual((await other.client.send(new ListOpenIDConnectProvidersCommand({}))).OpenIDConnectProviderList, []);
    const oscar = iamAs(await newUser('oscar'));
    assert.equal((await iamError(oscar.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn })))).code, 'AccessDenied');
    await root.send(new PutUserPolicyCommand({ UserName: 'oscar', PolicyName: 'oidc-read', PolicyDocument: doc({ Effect: 'Allow', Action: 'iam:GetOpenIDConnectProvider', Resource: arn }) }));
    assert.equal((await oscar.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }))).Url, 'oidc.example.com/id/ABC');
    assert.equal((await iamError(oscar.send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn })))).code, 'AccessDenied');

    // Deleting is idempotent, as AWS documents it.
    await root.send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }));
    await root.send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }));
    const gone = await iamError(root.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn })));
    assert.deepEqual([gone.code, gone.status, gone.message], ['NoSuchEntity', 404, `OpenIDConnect Provider not found for arn ${arn}`]);
    assert.equal((await iamError(root.send(new AddClientIDToOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn, ClientID: 'x' })))).code, 'NoSuchEntity');
    assert.deepEqual((await root.send(new ListOpenIDConnectProvidersCommand({}))).OpenIDConnectProviderList, []);
    assert.equal((await iamError(root.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: 'arn:aws:iam::123456789012:user/not-a-provider' })))).code, 'InvalidInput');
  });

  it('serves AWS managed policies: attachable, listed, readable, and not changeable', async () => {
    const S3_READ = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
    const S3_FULL = 'arn:aws:iam::aws:policy/AmazonS3FullAccess';
    const bucket = uniqueBucket('awsmanaged');
    await srv.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'v' }));

    // Attached to a user, AmazonS3ReadOnlyAccess lets it read and not write; detached, nothing.
    const reader = srv.client({ credentials: await newUser('reader') });
    assert.equal((await s3error(reader.send(new ListObjectsV2Command({ Bucket: bucket })))).name, 'AccessDenied');
    await root.send(new AttachUserPolicyCommand({ UserName: 'reader', PolicyArn: S3_READ }));
    await root.send(new AttachUserPolicyCommand({ UserName: 'reader', PolicyArn: S3_READ }));
    assert.deepEqual((await reader.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents?.map((o) => o.Key), ['k']);
    assert.equal((await s3error(reader.send(new PutObjectCommand({ Bucket: bucket, Key: 'w', Body: 'x' })))).name, 'AccessDenied');
    assert.deepEqual((await root.send(new ListAttachedUserPoliciesCommand({ UserName: 'reader' }))).AttachedPolicies, [{ PolicyName: 'AmazonS3ReadOnlyAccess', PolicyArn: S3_READ }]);
    const deleteAttached = await iamError(root.send(new DeleteUserCommand({ UserName: 'reader' })));
    assert.equal(deleteAttached.code, 'DeleteConflict');
    await root.send(new DetachUserPolicyCommand({ UserName: 'reader', PolicyArn: S3_READ }));
    assert.equal((await iamError(root.send(new DetachUserPolicyCommand({ UserName: 'reader', PolicyArn: S3_READ })))).code, 'NoSuchEntity');
    assert.equal((await s3error(reader.send(new ListObjectsV2Command({ Bucket: bucket })))).name, 'AccessDenied');

    // Through a group, AmazonS3FullAccess lets its members write.
    await root.send(new CreateGroupCommand({ GroupName: 'writers' }));
    await root.send(new AddUserToGroupCommand({ GroupName: 'writers', UserName: 'reader' }));
    await root.send(new AttachGroupPolicyCommand({ GroupName: 'writers', PolicyArn: S3_FULL }));
    await reader.send(new PutObjectCommand({ Bucket: bucket, Key: 'w', Body: 'x' }));

    // GetPolicy answers AWS's metadata, with the attachments in this account; the one version.
    const got = (await root.send(new GetPolicyCommand({ PolicyArn: S3_FULL }))).Policy!;
    assert.deepEqual(
      [got.PolicyName, got.PolicyId, got.Path, got.DefaultVersionId, got.AttachmentCount, got.IsAttachable, got.Description],
      ['AmazonS3FullAccess', 'ANPAIFIR6V6BVTRAHWINE', '/', 'v2', 1, true, 'Provides full access to all buckets via the AWS Management Console.'],
    );
    const version = (await root.send(new GetPolicyVersionCommand({ PolicyArn: S3_FULL, VersionId: 'v2' }))).PolicyVersion!;
    assert.deepEqual(JSON.parse(decodeURIComponent(version.Document!)), { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:*', 's3-object-lambda:*'], Resource: '*' }] });
    assert.equal(version.IsDefaultVersion, true);
    assert.equal((await iamError(root.send(new GetPolicyVersionCommand({ PolicyArn: S3_FULL, VersionId: 'v1' })))).code, 'NoSuchEntity');
    assert.deepEqual((await root.send(new ListPolicyVersionsCommand({ PolicyArn: S3_FULL }))).Versions?.map((v) => v.VersionId), ['v2']);
    assert.equal((await iamError(root.send(new GetPolicyCommand({ PolicyArn: 'arn:aws:iam::aws:policy/NoSuchPolicy' })))).code, 'NoSuchEntity');
    // Counted per account: another account's attachments are not ours.
    const other = await otherAccount(8);
    await other.client.send(new CreateUserCommand({ UserName: 'elsewhere' }));
    await other.client.send(new AttachUserPolicyCommand({ UserName: 'elsewhere', PolicyArn: S3_FULL }));
    assert.equal((await other.client.send(new GetPolicyCommand({ PolicyArn: S3_FULL }))).Policy!.AttachmentCount, 1);
    assert.equal((await root.send(new GetPolicyCommand({ PolicyArn: S3_FULL }))).Policy!.AttachmentCount, 1);

    // Nobody changes or deletes them, not even an account's root.
    for (const change of [
      new DeletePolicyCommand({ PolicyArn: S3_FULL }),
      new CreatePolicyVersionCommand({ PolicyArn: S3_FULL, PolicyDocument: doc({ Effect: 'Allow', Action: '*', Resource: '*' }) }),
      new SetDefaultPolicyVersionCommand({ PolicyArn: S3_FULL, VersionId: 'v2' }),
      new DeletePolicyVersionCommand({ PolicyArn: S3_FULL, VersionId: 'v2' }),
    ]) {
      const e = await iamError(root.send(change as never));
      assert.deepEqual([e.code, e.status], ['AccessDenied', 403], change.constructor.name);
    }
    await root.send(new DetachGroupPolicyCommand({ GroupName: 'writers', PolicyArn: S3_FULL }));

    // Roles take them too.
    const trust = doc({ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' });
    await root.send(new CreateRoleCommand({ RoleName: 'managed-role', AssumeRolePolicyDocument: trust }));
    await root.send(new AttachRolePolicyCommand({ RoleName: 'managed-role', PolicyArn: S3_FULL }));
    await root.send(new AttachRolePolicyCommand({ RoleName: 'managed-role', PolicyArn: S3_READ }));
    assert.deepEqual((await root.send(new ListAttachedRolePoliciesCommand({ RoleName: 'managed-role' }))).AttachedPolicies?.map((p) => p.PolicyName), ['AmazonS3FullAccess', 'AmazonS3ReadOnlyAccess']);
    const paged = await root.send(new ListAttachedRolePoliciesCommand({ RoleName: 'managed-role', MaxItems: 1 }));
    assert.equal(paged.IsTruncated, true);
    const rest = await root.send(new ListAttachedRolePoliciesCommand({ RoleName: 'managed-role', Marker: paged.Marker! }));
    assert.deepEqual(rest.AttachedPolicies?.map((p) => p.PolicyName), ['AmazonS3ReadOnlyAccess']);
    assert.equal((await iamError(root.send(new DeleteRoleCommand({ RoleName: 'managed-role' })))).code, 'DeleteConflict');
    await root.send(new DetachRolePolicyCommand({ RoleName: 'managed-role', PolicyArn: S3_FULL }));
    await root.send(new DetachRolePolicyCommand({ RoleName: 'managed-role', PolicyArn: S3_READ }));
    await root.send(new DeleteRoleCommand({ RoleName: 'managed-role' }));
  });

  it('lists AWS managed policies with Scope AWS or All, in name order with the account’s own', async () => {
    const aws = (await root.send(new ListPoliciesCommand({ Scope: 'AWS' }))).Policies!.map((p) => p.PolicyName);
    assert.deepEqual(aws, ['AdministratorAccess', 'AmazonS3FullAccess', 'AmazonS3ReadOnlyAccess', 'IAMFullAccess', 'IAMReadOnlyAccess', 'ReadOnlyAccess']);
    // The account may have a policy of the same name as one of AWS's: both are listed, its own first.
    const own = (await root.send(new CreatePolicyCommand({ PolicyName: 'AdministratorAccess', PolicyDocument: doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }) }))).Policy!;
    await root.send(new CreatePolicyCommand({ PolicyName: 'Zeta', PolicyDocument: doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }) }));
    assert.deepEqual((await root.send(new ListPoliciesCommand({ Scope: 'Local' }))).Policies!.map((p) => p.PolicyName), ['AdministratorAccess', 'Zeta']);
    const all = (await root.send(new ListPoliciesCommand({}))).Policies!.map((p) => p.Arn);
    const expected = [own.Arn, ...aws.map((n) => `arn:aws:iam::aws:policy/${n}`), `arn:aws:iam::${accountId}:policy/Zeta`];
    assert.deepEqual(all, expected);
    const paged: string[] = [];
    for await (const page of paginateListPolicies({ client: root, pageSize: 1 }, {})) paged.push(...page.Policies!.map((p) => p.Arn!));
    assert.deepEqual(paged, expected);
    // OnlyAttached: those attached somewhere in this account.
    await root.send(new CreateUserCommand({ UserName: 'admin' }));
    await root.send(new AttachUserPolicyCommand({ UserName: 'admin', PolicyArn: 'arn:aws:iam::aws:policy/IAMReadOnlyAccess' }));
    assert.deepEqual((await root.send(new ListPoliciesCommand({ Scope: 'AWS', OnlyAttached: true }))).Policies!.map((p) => [p.PolicyName, p.AttachmentCount]), [['IAMReadOnlyAccess', 1]]);
  });

  it('renames and moves a group with UpdateGroup: its members and policies stay', async () => {
    const g = (await root.send(new CreateGroupCommand({ GroupName: 'ops', Path: '/a/' }))).Group!;
    await root.send(new CreateUserCommand({ UserName: 'member' }));
    await root.send(new AddUserToGroupCommand({ GroupName: 'ops', UserName: 'member' }));
    await root.send(new AttachGroupPolicyCommand({ GroupName: 'ops', PolicyArn: 'arn:aws:iam::aws:policy/IAMReadOnlyAccess' }));
    await root.send(new CreateGroupCommand({ GroupName: 'taken' }));
    const clash = await iamError(root.send(new UpdateGroupCommand({ GroupName: 'ops', NewGroupName: 'TAKEN' })));
    assert.deepEqual([clash.code, clash.status, clash.message], ['EntityAlreadyExists', 409, 'Group with name TAKEN already exists.']);
    assert.equal((await iamError(root.send(new UpdateGroupCommand({ GroupName: 'nope', NewGroupName: 'x' })))).code, 'NoSuchEntity');

    // A user allowed UpdateGroup on the group as it is, but not as it would be, cannot move it.
    const mover = iamAs(await newUser('mover'));
    await root.send(new PutUserPolicyCommand({ UserName: 'mover', PolicyName: 'p', PolicyDocument: doc({ Effect: 'Allow', Action: 'iam:UpdateGroup', Resource: `arn:aws:iam::${accountId}:group/a/*` }) }));
    assert.equal((await iamError(mover.send(new UpdateGroupCommand({ GroupName: 'ops', NewPath: '/b/' })))).code, 'AccessDenied');
    await mover.send(new UpdateGroupCommand({ GroupName: 'ops', NewGroupName: 'platform' }));

    await root.send(new UpdateGroupCommand({ GroupName: 'platform', NewPath: '/b/' }));
    const got = await root.send(new GetGroupCommand({ GroupName: 'platform' }));
    assert.deepEqual([got.Group!.GroupId, got.Group!.Path, got.Group!.Arn], [g.GroupId, '/b/', `arn:aws:iam::${accountId}:group/b/platform`]);
    assert.deepEqual(got.Users?.map((u) => u.UserName), ['member']);
    assert.deepEqual((await root.send(new ListGroupsForUserCommand({ UserName: 'member' }))).Groups?.map((x) => [x.GroupName, x.Path]), [['platform', '/b/']]);
    assert.equal((await iamError(root.send(new GetGroupCommand({ GroupName: 'ops' })))).code, 'NoSuchEntity');
  });

  it('sets a role’s description with UpdateRoleDescription, answering the role', async () => {
    await root.send(new CreateRoleCommand({ RoleName: 'described', Description: 'old', AssumeRolePolicyDocument: doc({ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }) }));
    const updated = (await root.send(new UpdateRoleDescriptionCommand({ RoleName: 'described', Description: 'new description' }))).Role!;
    assert.deepEqual([updated.RoleName, updated.Description, updated.MaxSessionDuration], ['described', 'new description', 3600]);
    assert.equal((await root.send(new GetRoleCommand({ RoleName: 'described' }))).Role!.Description, 'new description');
    assert.equal((await iamError(root.send(new UpdateRoleDescriptionCommand({ RoleName: 'nope', Description: 'x' })))).code, 'NoSuchEntity');
  });

  it('lets IAMReadOnlyAccess read IAM, AWS managed policies included, and change nothing', async () => {
    const auditor = iamAs(await newUser('auditor'));
    assert.equal((await iamError(auditor.send(new ListRolesCommand({})))).code, 'AccessDenied');
    await root.send(new AttachUserPolicyCommand({ UserName: 'auditor', PolicyArn: 'arn:aws:iam::aws:policy/IAMReadOnlyAccess' }));
    await auditor.send(new ListRolesCommand({}));
    assert.equal((await auditor.send(new GetPolicyCommand({ PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }))).Policy!.DefaultVersionId, 'v1');
    assert.equal((await iamError(auditor.send(new CreateUserCommand({ UserName: 'sneaky' })))).code, 'AccessDenied');
  });
});

describe('GetAccountSummary', () => {
  let srv: TestServer;
  let root: IAMClient;
  const clients: IAMClient[] = [];

  before(async () => {
    srv = await startServer();
    root = new IAMClient({ endpoint: srv.url, region: REGION, credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, maxAttempts: 1 });
    clients.push(root);
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await srv.stop();
  });

  it('counts what the account has, with the quotas this server enforces', async () => {
    const empty = (await root.send(new GetAccountSummaryCommand({}))).SummaryMap!;
    assert.deepEqual(
      [empty.Users, empty.Groups, empty.Roles, empty.Policies, empty.PolicyVersionsInUse, empty.Providers, empty.AccountAccessKeysPresent, empty.AccountMFAEnabled],
      [0, 0, 0, 0, 0, 0, 1, 0],
    );
    assert.deepEqual(
      [empty.UsersQuota, empty.GroupsQuota, empty.RolesQuota, empty.PoliciesQuota, empty.AccessKeysPerUserQuota, empty.GroupsPerUserQuota, empty.AttachedPoliciesPerUserQuota, empty.VersionsPerPolicyQuota, empty.UserPolicySizeQuota],
      [5000, 300, 1000, 1500, 2, 10, 10, 5, 2048],
    );

    await root.send(new CreateUserCommand({ UserName: 'u1' }));
    const k = (await root.send(new CreateAccessKeyCommand({ UserName: 'u1' }))).AccessKey!;
    await root.send(new CreateUserCommand({ UserName: 'u2' }));
    await root.send(new CreateGroupCommand({ GroupName: 'g' }));
    await root.send(new CreateRoleCommand({ RoleName: 'r', AssumeRolePolicyDocument: doc({ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }) }));
    const p = (await root.send(new CreatePolicyCommand({ PolicyName: 'p', PolicyDocument: doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }) }))).Policy!;
    await root.send(new CreatePolicyVersionCommand({ PolicyArn: p.Arn!, PolicyDocument: doc({ Effect: 'Allow', Action: 's3:ListBucket', Resource: '*' }) }));
    await root.send(new CreateOpenIDConnectProviderCommand({ Url: 'https://idp.example.com' }));
    const after = (await root.send(new GetAccountSummaryCommand({}))).SummaryMap!;
    assert.deepEqual([after.Users, after.Groups, after.Roles, after.Policies, after.PolicyVersionsInUse, after.Providers], [2, 1, 1, 1, 2, 1]);

    // An IAM user needs iam:GetAccountSummary.
    const u1 = new IAMClient({ endpoint: srv.url, region: REGION, credentials: { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! }, maxAttempts: 1 });
    clients.push(u1);
    assert.equal((await iamError(u1.send(new GetAccountSummaryCommand({})))).code, 'AccessDenied');
    await root.send(new PutUserPolicyCommand({ UserName: 'u1', PolicyName: 'summary', PolicyDocument: doc({ Effect: 'Allow', Action: 'iam:GetAccountSummary', Resource: '*' }) }));
    assert.equal((await u1.send(new GetAccountSummaryCommand({}))).SummaryMap!.Users, 2);
  });
});
