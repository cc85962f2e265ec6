// IAM behaviours clients rely on beyond the basics of iam.test.ts, each as AWS documents it:
// parameters validated before anything else, OpenID Connect providers, AWS managed policies,
// GetAccountSummary, UpdateGroup, UpdateRoleDescription.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AddClientIDToOpenIDConnectProviderCommand,
  CreateAccessKeyCommand,
  CreateOpenIDConnectProviderCommand,
  CreateUserCommand,
  DeleteOpenIDConnectProviderCommand,
  GetOpenIDConnectProviderCommand,
  IAMClient,
  IAMServiceException,
  ListOpenIDConnectProvidersCommand,
  PutUserPolicyCommand,
  RemoveClientIDFromOpenIDConnectProviderCommand,
  UpdateOpenIDConnectProviderThumbprintCommand,
} from '@aws-sdk/client-iam';
import { ACCESS_KEY, REGION, SECRET_KEY, signer, startServer, type TestServer } from './helpers.js';

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
    for (const url of ['https://oidc.example.com:8443', 'https://oidc.example.com/?q=1', 'https://user@oidc.example.com', 'https://exa_mple.com']) {
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
});
