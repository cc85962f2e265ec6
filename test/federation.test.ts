// Identity federation end to end. LDAP: a real slapd (test/support/slapd.ts) with users and groups,
// AssumeRoleWithLDAPIdentity as MinIO's clients send it (form POST, and the query string of a
// POST), over ldap://, StartTLS and ldaps://; what the session may then do (its role's policies),
// and every refusal: wrong password, unknown user, a user in no mapped group, filter injection,
// an empty password, a directory that is down — and the password in no log line.
// OIDC: a local HTTPS identity provider (self-signed certificate, trusted with --oidc-ca-file)
// serving a discovery document and a JWKS; AssumeRoleWithWebIdentity through the AWS SDK's STS
// client (which sends it unsigned); trust policy conditions on <provider>:sub and :aud; tokens
// refused for their issuer, audience, expiry, algorithm (none, HS256, one the provider does not
// advertise) and signature; key rotation.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { AttachRolePolicyCommand, CreateOpenIDConnectProviderCommand, CreatePolicyCommand, CreateRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import { pino } from 'pino';
import { loadConfig, type Config } from '../src/config.js';
import { normalizeDn } from '../src/sts/federation/dn.js';
import { escapeFilterValue } from '../src/sts/federation/ldap.js';
import { startTrove, type Trove } from '../src/trove.js';
import { ACCESS_KEY, REGION, SECRET_KEY, tempDir, testMetaUrl } from './helpers.js';
import { freePort, slapdAvailable, startSlapd, type Slapd } from './support/slapd.js';

const doc = (...statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const code = (text: string) => /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
const tag = (text: string, name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(text)?.[1];

interface Server {
  trove: Trove;
  url: string;
  port: number;
  logs: string[];
  stop(): Promise<void>;
}

/** A Trove server like helpers.startServer's, keeping its log lines (debug level) to search them. */
async function startLogged(dataDir: string, extra: Partial<Config>): Promise<Server> {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString('utf8'));
      done();
    },
  });
  const config: Config = {
    ...loadConfig([], {}),
    host: '127.0.0.1',
    port: 0,
    dataDir,
    rootAccessKey: ACCESS_KEY,
    rootSecretKey: SECRET_KEY,
    logLevel: 'debug',
    spaceReserve: 1024 * 1024,
    workers: 1,
    gcGraceMs: 0,
    metaUrl: await testMetaUrl(dataDir),
    ...extra,
  };
  const trove = await startTrove(config, { logger: pino({ level: 'debug' }, sink), orphanSweepDelayMs: -1 });
  return { trove, url: trove.url, port: trove.port, logs, stop: () => trove.close(1000) };
}

function post(port: number, pathAndQuery: string, form: Record<string, string> | undefined): Promise<{ status: number; text: string }> {
  const body = form === undefined ? '' : new URLSearchParams(form).toString();
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: 'POST', path: pathAndQuery, agent: false, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const root = (url: string) => ({ endpoint: url, region: REGION, credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });

async function accountIdOf(url: string): Promise<string> {
  const sts = new STSClient(root(url));
  try {
    return (await sts.send(new GetCallerIdentityCommand({}))).Account!;
  } finally {
    sts.destroy();
  }
}

function s3With(url: string, c: { AccessKeyId?: string; SecretAccessKey?: string; SessionToken?: string }): S3Client {
  return new S3Client({ endpoint: url, region: REGION, forcePathStyle: true, credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! } });
}

async function s3code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof S3ServiceException) return e.name;
    throw e;
  }
  assert.fail('expected an S3 error');
}

describe('federation: units', () => {
  it('escapes user names placed in LDAP filters (RFC 4515)', () => {
    assert.equal(escapeFilterValue('a*)(uid=*'), 'a\\2a\\29\\28uid=\\2a');
    assert.equal(escapeFilterValue('back\\slash\0'), 'back\\5cslash\\00');
    assert.equal(escapeFilterValue('alice'), 'alice');
  });
  it('compares DNs without case or blanks around separators', () => {
    assert.equal(normalizeDn('CN=Storage Admins, OU=Groups,DC=Example, DC=org'), 'cn=storage admins,ou=groups,dc=example,dc=org');
    assert.equal(normalizeDn('cn=a\\, b,dc=x'), 'cn=a\\, b,dc=x');
  });
});

const SUFFIX = 'dc=example,dc=org';
const LDIF = `dn: ${SUFFIX}
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ou=people,${SUFFIX}
objectClass: organizationalUnit
ou: people

dn: ou=groups,${SUFFIX}
objectClass: organizationalUnit
ou: groups

dn: cn=trove,${SUFFIX}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: trove
userPassword: lookup-secret

${['alice', 'bob', 'carol', 'dave']
  .map(
    (u) => `dn: uid=${u},ou=people,${SUFFIX}
objectClass: inetOrgPerson
uid: ${u}
cn: ${u}
sn: ${u}
userPassword: ${u}-Pa55word
`,
  )
  .join('\n')}
dn: cn=storage-admins,ou=groups,${SUFFIX}
objectClass: groupOfNames
cn: storage-admins
member: uid=alice,ou=people,${SUFFIX}

dn: cn=readers,ou=groups,${SUFFIX}
objectClass: groupOfNames
cn: readers
member: uid=bob,ou=people,${SUFFIX}
member: uid=dave,ou=people,${SUFFIX}

dn: cn=unmapped,ou=groups,${SUFFIX}
objectClass: groupOfNames
cn: unmapped
member: uid=carol,ou=people,${SUFFIX}
`;

describe('federation: AssumeRoleWithLDAPIdentity against a real slapd', { skip: !slapdAvailable() && !process.env.CI ? 'slapd is not installed' : false }, () => {
  let slapd: Slapd;
  let dataDir: string;
  let srv: Server;
  let accountId: string;
  let iam: IAMClient;
  const bucket = `ldap-${Date.now()}`;
  const clients: { destroy(): void }[] = [];

  const ldapConfig = (url: string, extra: Partial<NonNullable<Config['ldap']>> = {}): NonNullable<Config['ldap']> => ({
    url,
    startTls: false,
    bindDn: `cn=trove,${SUFFIX}`,
    bindPasswordFile: path.join(dataDir, '..', `${path.basename(dataDir)}-bindpw`),
    userBase: `ou=people,${SUFFIX}`,
    userFilter: '(&(objectClass=inetOrgPerson)(uid=%s))',
    groupBase: `ou=groups,${SUFFIX}`,
    groupFilter: '(&(objectClass=groupOfNames)(member=%d))',
    caFile: undefined,
    roles: new Map([
      [normalizeDn(`CN=Storage-Admins, OU=Groups, ${SUFFIX}`), `arn:aws:iam::${accountId}:role/ldap-admins`],
      [normalizeDn(`cn=readers,ou=groups,${SUFFIX}`), `arn:aws:iam::${accountId}:role/ldap-readers`],
      // A user DN maps too: dave is a reader and also gets his own role.
      [normalizeDn(`uid=dave,ou=people,${SUFFIX}`), `arn:aws:iam::${accountId}:role/ldap-dave`],
    ]),
    ...extra,
  });

  const login = (form: Record<string, string>) => post(srv.port, '/', { Action: 'AssumeRoleWithLDAPIdentity', Version: '2011-06-15', ...form });

  before(async () => {
    slapd = await startSlapd(SUFFIX, LDIF, 'root-secret');
    dataDir = await tempDir('trove-ldap-');
    // First start: learn the root account's id, to name its roles in the mapping.
    srv = await startLogged(dataDir, {});
    accountId = await accountIdOf(srv.url);
    iam = new IAMClient(root(srv.url));
    clients.push(iam);
    const s3 = s3With(srv.url, { AccessKeyId: ACCESS_KEY, SecretAccessKey: SECRET_KEY });
    clients.push(s3);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'hello.txt', Body: 'hello' }));
    // Roles for LDAP users: their trust policy admits no one; the mapping is their trust.
    const nobody = doc({ Effect: 'Deny', Principal: { AWS: '*' }, Action: 'sts:AssumeRole' });
    for (const name of ['ldap-admins', 'ldap-readers', 'ldap-dave']) await iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: nobody }));
    await iam.send(new PutRolePolicyCommand({ RoleName: 'ldap-admins', PolicyName: 'all', PolicyDocument: doc({ Effect: 'Allow', Action: 's3:*', Resource: '*' }) }));
    await iam.send(new PutRolePolicyCommand({ RoleName: 'ldap-readers', PolicyName: 'read', PolicyDocument: doc({ Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket'], Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`] }) }));
    await srv.stop();
    fs.writeFileSync(ldapConfig(slapd.url).bindPasswordFile!, 'lookup-secret\n', { mode: 0o600 });
    srv = await startLogged(dataDir, { ldap: ldapConfig(slapd.url) });
  });

  after(async () => {
    for (const c of clients) c.destroy();
    await srv?.stop();
    await slapd?.stop();
    if (dataDir) {
      fs.rmSync(dataDir, { recursive: true, force: true });
      fs.rmSync(`${dataDir}-bindpw`, { force: true });
    }
  });

  it('logs a user in: an assumed-role session of the role its group maps to, with the user as source identity', async () => {
    const r = await login({ LDAPUsername: 'alice', LDAPPassword: 'alice-Pa55word', DurationSeconds: '900' });
    assert.equal(r.status, 200, r.text);
    assert.match(r.text, /^<\?xml[^>]*>\s*<AssumeRoleWithLDAPIdentityResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/"><AssumeRoleWithLDAPIdentityResult><Credentials>/);
    assert.equal(tag(r.text, 'Arn'), `arn:aws:sts::${accountId}:assumed-role/ldap-admins/alice`);
    assert.equal(tag(r.text, 'SourceIdentity'), 'alice');
    const expiration = Date.parse(tag(r.text, 'Expiration')!);
    assert.ok(Math.abs(expiration - (Date.now() + 900_000)) < 10_000);
    const creds = { AccessKeyId: tag(r.text, 'AccessKeyId'), SecretAccessKey: tag(r.text, 'SecretAccessKey'), SessionToken: tag(r.text, 'SessionToken') };
    const s3 = s3With(srv.url, creds);
    clients.push(s3);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'by-alice.txt', Body: 'a' }));
    const sts = new STSClient({ endpoint: srv.url, region: REGION, credentials: { accessKeyId: creds.AccessKeyId!, secretAccessKey: creds.SecretAccessKey!, sessionToken: creds.SessionToken! } });
    clients.push(sts);
    assert.equal((await sts.send(new GetCallerIdentityCommand({}))).Arn, `arn:aws:sts::${accountId}:assumed-role/ldap-admins/alice`);
  });

  it("authorises the session by its role's policies only", async () => {
    // MinIO's clients put the parameters in the query string of a POST.
    const q = new URLSearchParams({ Action: 'AssumeRoleWithLDAPIdentity', Version: '2011-06-15', LDAPUsername: 'bob', LDAPPassword: 'bob-Pa55word' });
    const r = await post(srv.port, `/?${q}`, undefined);
    assert.equal(r.status, 200, r.text);
    assert.equal(tag(r.text, 'Arn'), `arn:aws:sts::${accountId}:assumed-role/ldap-readers/bob`);
    const s3 = s3With(srv.url, { AccessKeyId: tag(r.text, 'AccessKeyId'), SecretAccessKey: tag(r.text, 'SecretAccessKey'), SessionToken: tag(r.text, 'SessionToken') });
    clients.push(s3);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'hello.txt' }));
    assert.equal(await got.Body!.transformToString(), 'hello');
    assert.equal((await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).KeyCount! >= 1, true);
    assert.equal(await s3code(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'by-bob.txt', Body: 'b' }))), 'AccessDenied');
  });

  it('a session policy narrows the session further', async () => {
    const Policy = doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` });
    const r = await login({ LDAPUsername: 'alice', LDAPPassword: 'alice-Pa55word', Policy });
    assert.equal(r.status, 200, r.text);
    const s3 = s3With(srv.url, { AccessKeyId: tag(r.text, 'AccessKeyId'), SecretAccessKey: tag(r.text, 'SecretAccessKey'), SessionToken: tag(r.text, 'SessionToken') });
    clients.push(s3);
    await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'hello.txt' }));
    assert.equal(await s3code(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'x', Body: 'x' }))), 'AccessDenied');
  });

  it('a user mapped to several roles names one with RoleArn', async () => {
    const r = await login({ LDAPUsername: 'dave', LDAPPassword: 'dave-Pa55word' });
    assert.equal(r.status, 400, r.text);
    assert.equal(code(r.text), 'ValidationError');
    const chosen = await login({ LDAPUsername: 'dave', LDAPPassword: 'dave-Pa55word', RoleArn: `arn:aws:iam::${accountId}:role/ldap-readers` });
    assert.equal(chosen.status, 200, chosen.text);
    assert.equal(tag(chosen.text, 'Arn'), `arn:aws:sts::${accountId}:assumed-role/ldap-readers/dave`);
    const other = await login({ LDAPUsername: 'dave', LDAPPassword: 'dave-Pa55word', RoleArn: `arn:aws:iam::${accountId}:role/ldap-admins` });
    assert.equal(other.status, 403, other.text);
    assert.equal(code(other.text), 'AccessDenied');
  });

  it('refuses a wrong password and an unknown user alike, and a user in no mapped group', async () => {
    const wrong = await login({ LDAPUsername: 'alice', LDAPPassword: 'not-her-password' });
    const unknown = await login({ LDAPUsername: 'mallory', LDAPPassword: 'whatever-1' });
    for (const r of [wrong, unknown]) {
      assert.equal(r.status, 400, r.text);
      assert.equal(code(r.text), 'InvalidParameterValue');
      assert.match(r.text, /<ErrorResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/"><Error><Type>Sender<\/Type>/);
    }
    assert.equal(tag(wrong.text, 'Message'), tag(unknown.text, 'Message'));
    const unmapped = await login({ LDAPUsername: 'carol', LDAPPassword: 'carol-Pa55word' });
    assert.equal(unmapped.status, 400);
    assert.equal(code(unmapped.text), 'InvalidParameterValue');
    assert.match(tag(unmapped.text, 'Message')!, /expecting a role to be mapped to user `uid=carol,ou=people,dc=example,dc=org`/);
  });

  it('refuses empty passwords (an unauthenticated bind) and filter injection', async () => {
    const empty = await login({ LDAPUsername: 'alice', LDAPPassword: '' });
    assert.equal(empty.status, 400);
    assert.equal(code(empty.text), 'MissingParameter');
    const missing = await login({ LDAPUsername: 'alice' });
    assert.equal(code(missing.text), 'MissingParameter');
    // "*" would match every entry if it were not escaped; alice's password must not log in as "*".
    for (const name of ['*', 'al*', '*)(uid=alice']) {
      const r = await login({ LDAPUsername: name, LDAPPassword: 'alice-Pa55word' });
      assert.equal(r.status, 400, `${name}: ${r.text}`);
      assert.equal(code(r.text), 'InvalidParameterValue');
    }
  });

  it('never writes a password into the log', async () => {
    const joined = srv.logs.join('');
    assert.match(joined, /LDAP login refused/);
    assert.match(joined, /"op":"sts:AssumeRoleWithLDAPIdentity"/);
    for (const secret of ['alice-Pa55word', 'bob-Pa55word', 'not-her-password', 'lookup-secret']) assert.equal(joined.includes(secret), false, secret);
  });

  it('is unsigned only for the federation actions', async () => {
    const r = await post(srv.port, '/', { Action: 'GetCallerIdentity', Version: '2011-06-15' });
    assert.equal(r.status, 403);
    assert.equal(code(r.text), 'MissingAuthenticationToken');
  });

  it('speaks StartTLS and ldaps:// with the CA of --ldap-ca-file, and refuses an untrusted certificate', async () => {
    for (const [url, startTls] of [[slapd.url, true], [slapd.ldapsUrl, false]] as const) {
      await srv.stop();
      srv = await startLogged(dataDir, { ldap: ldapConfig(url, { startTls, caFile: slapd.caFile }) });
      const r = await login({ LDAPUsername: 'alice', LDAPPassword: 'alice-Pa55word' });
      assert.equal(r.status, 200, `${url} ${startTls}: ${r.text}`);
      await srv.stop();
      srv = await startLogged(dataDir, { ldap: ldapConfig(url, { startTls }) });
      const untrusted = await login({ LDAPUsername: 'alice', LDAPPassword: 'alice-Pa55word' });
      assert.equal(untrusted.status, 400, untrusted.text);
      assert.equal(code(untrusted.text), 'IDPCommunicationError');
    }
  });

  it('answers IDPCommunicationError when the directory is down', async () => {
    await srv.stop();
    srv = await startLogged(dataDir, { ldap: ldapConfig(`ldap://127.0.0.1:${await freePort()}`) });
    const r = await login({ LDAPUsername: 'alice', LDAPPassword: 'alice-Pa55word' });
    assert.equal(r.status, 400, r.text);
    assert.equal(code(r.text), 'IDPCommunicationError');
  });
});

describe('federation: AssumeRoleWithWebIdentity (OIDC)', () => {
  let dataDir: string;
  let srv: Server;
  let accountId: string;
  let idp: https.Server;
  let issuer: string;
  let providerUrl: string;
  let certDir: string;
  const bucket = `oidc-${Date.now()}`;
  const clients: { destroy(): void }[] = [];
  const CLIENT_ID = 'trove-app';
  let es: Awaited<ReturnType<typeof generateKeyPair>>;
  let rs: Awaited<ReturnType<typeof generateKeyPair>>;
  let jwks: { keys: JWK[] };
  let jwksFetches = 0;
  const advertised = ['ES256'];

  const token = async (claims: Record<string, unknown> = {}, opts: { alg?: string; kid?: string; key?: Parameters<SignJWT['sign']>[0]; iat?: number; exp?: number | string } = {}) => {
    const jwt = new SignJWT({ ...claims }).setProtectedHeader({ alg: opts.alg ?? 'ES256', kid: opts.kid ?? 'es-1', typ: 'JWT' });
    if (!('iss' in claims)) jwt.setIssuer(issuer);
    if (!('aud' in claims)) jwt.setAudience(CLIENT_ID);
    if (!('sub' in claims)) jwt.setSubject('user-123');
    jwt.setIssuedAt(opts.iat);
    jwt.setExpirationTime(opts.exp ?? '10m');
    return jwt.sign(opts.key ?? es.privateKey);
  };

  const anonymousSts = () => {
    const c = new STSClient({ endpoint: srv.url, region: REGION });
    clients.push(c);
    return c;
  };

  async function federate(webIdentityToken: string, roleName = 'web-readers', extra: Record<string, unknown> = {}) {
    return anonymousSts().send(new AssumeRoleWithWebIdentityCommand({ RoleArn: `arn:aws:iam::${accountId}:role/${roleName}`, RoleSessionName: 'web-session', WebIdentityToken: webIdentityToken, ...extra }));
  }

  async function failure(p: Promise<unknown>): Promise<{ code: string; status: number | undefined; message: string }> {
    try {
      await p;
    } catch (e) {
      if (!(e instanceof STSServiceException)) throw e;
      // The SDK names the errors STS models …Exception (InvalidIdentityTokenException); the others by their code.
      return { code: e.name, status: e.$metadata.httpStatusCode, message: e.message };
    }
    assert.fail('expected an STS error');
  }

  before(async () => {
    certDir = await tempDir('trove-idp-');
    const keyFile = path.join(certDir, 'idp.key');
    const certFile = path.join(certDir, 'idp.crt');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=trove-test-idp', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
    es = await generateKeyPair('ES256', { extractable: true });
    rs = await generateKeyPair('RS256', { extractable: true });
    jwks = { keys: [{ ...(await exportJWK(es.publicKey)), kid: 'es-1', alg: 'ES256', use: 'sig' }, { ...(await exportJWK(rs.publicKey)), kid: 'rs-1', alg: 'RS256', use: 'sig' }] };
    idp = https.createServer({ key: fs.readFileSync(keyFile), cert: fs.readFileSync(certFile) }, (req, res) => {
      if (req.url === '/realms/test/.well-known/openid-configuration') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/keys`, id_token_signing_alg_values_supported: advertised, response_types_supported: ['id_token'], subject_types_supported: ['public'] }));
      } else if (req.url === '/realms/test/keys') {
        jwksFetches++;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(jwks));
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((r) => idp.listen(0, '127.0.0.1', r));
    providerUrl = `127.0.0.1:${(idp.address() as { port: number }).port}/realms/test`;
    issuer = `https://${providerUrl}`;

    dataDir = await tempDir('trove-oidc-');
    srv = await startLogged(dataDir, { oidcCaFile: certFile });
    accountId = await accountIdOf(srv.url);
    const iam = new IAMClient(root(srv.url));
    clients.push(iam);
    await iam.send(new CreateOpenIDConnectProviderCommand({ Url: issuer, ClientIDList: [CLIENT_ID, 'other-app'] }));
    const providerArn = `arn:aws:iam::${accountId}:oidc-provider/${providerUrl}`;
    await iam.send(
      new CreateRoleCommand({
        RoleName: 'web-readers',
        AssumeRolePolicyDocument: doc({
          Effect: 'Allow',
          Principal: { Federated: providerArn },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: { StringEquals: { [`${providerUrl}:aud`]: CLIENT_ID }, StringLike: { [`${providerUrl}:sub`]: 'user-*' } },
        }),
      }),
    );
    const readPolicy = await iam.send(new CreatePolicyCommand({ PolicyName: 'web-read', PolicyDocument: doc({ Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket'], Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`] }) }));
    await iam.send(new AttachRolePolicyCommand({ RoleName: 'web-readers', PolicyArn: readPolicy.Policy!.Arn! }));
    // A role whose trust policy names another provider: this one's tokens may not assume it.
    await iam.send(new CreateRoleCommand({ RoleName: 'other-idp', AssumeRolePolicyDocument: doc({ Effect: 'Allow', Principal: { Federated: `arn:aws:iam::${accountId}:oidc-provider/idp.example.com` }, Action: 'sts:AssumeRoleWithWebIdentity' }) }));
    const s3 = s3With(srv.url, { AccessKeyId: ACCESS_KEY, SecretAccessKey: SECRET_KEY });
    clients.push(s3);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'doc.txt', Body: 'for web users' }));
  });

  after(async () => {
    for (const c of clients) c.destroy();
    await srv?.stop();
    idp?.closeAllConnections();
    await new Promise((r) => idp?.close(r));
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    if (certDir) fs.rmSync(certDir, { recursive: true, force: true });
  });

  it('exchanges a valid ID token for a role session (AWS SDK, unsigned)', async () => {
    const out = await federate(await token(), 'web-readers', { DurationSeconds: 1200 });
    assert.equal(out.SubjectFromWebIdentityToken, 'user-123');
    assert.equal(out.Provider, issuer);
    assert.equal(out.Audience, CLIENT_ID);
    assert.equal(out.AssumedRoleUser?.Arn, `arn:aws:sts::${accountId}:assumed-role/web-readers/web-session`);
    assert.ok(Math.abs(out.Credentials!.Expiration!.getTime() - (Date.now() + 1_200_000)) < 10_000);
    const s3 = s3With(srv.url, out.Credentials!);
    clients.push(s3);
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'doc.txt' }))).Body!.transformToString(), 'for web users');
    assert.equal(await s3code(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'x', Body: 'x' }))), 'AccessDenied');
  });

  it('answers an unsigned GET with the parameters in the query string, in STS XML', async () => {
    const q = new URLSearchParams({ Action: 'AssumeRoleWithWebIdentity', Version: '2011-06-15', RoleArn: `arn:aws:iam::${accountId}:role/web-readers`, RoleSessionName: 'via-get', WebIdentityToken: await token() });
    const r = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: srv.port, path: `/?${q}`, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      }).on('error', reject);
    });
    assert.equal(r.status, 200, r.text);
    assert.match(r.text, /<AssumeRoleWithWebIdentityResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/"><AssumeRoleWithWebIdentityResult><Credentials>/);
    assert.equal(tag(r.text, 'SubjectFromWebIdentityToken'), 'user-123');
    assert.equal(tag(r.text, 'Arn'), `arn:aws:sts::${accountId}:assumed-role/web-readers/via-get`);
    // Without a token: a validation error, not S3's ListBuckets.
    const missing = await post(srv.port, '/', { Action: 'AssumeRoleWithWebIdentity', Version: '2011-06-15', RoleArn: `arn:aws:iam::${accountId}:role/web-readers`, RoleSessionName: 'x1' });
    assert.equal(missing.status, 400);
    assert.equal(code(missing.text), 'ValidationError');
    // LDAP logins are off on this server.
    const ldap = await post(srv.port, '/', { Action: 'AssumeRoleWithLDAPIdentity', Version: '2011-06-15', LDAPUsername: 'a', LDAPPassword: 'b' });
    assert.equal(ldap.status, 501);
    assert.equal(code(ldap.text), 'NotImplemented');
  });

  it("decides on the trust policy's conditions on <provider>:sub and :aud, and its principal", async () => {
    const wrongSub = await failure(federate(await token({ sub: 'robot-1' })));
    assert.deepEqual([wrongSub.code, wrongSub.status, wrongSub.message], ['AccessDenied', 403, 'Not authorized to perform sts:AssumeRoleWithWebIdentity']);
    // other-app is a client id of the provider (the token is valid) but the trust policy wants trove-app.
    const otherAud = await failure(federate(await token({ aud: 'other-app' })));
    assert.equal(otherAud.code, 'AccessDenied');
    const otherRole = await failure(federate(await token(), 'other-idp'));
    assert.equal(otherRole.code, 'AccessDenied');
    const noRole = await failure(federate(await token(), 'no-such-role'));
    assert.equal(noRole.code, 'AccessDenied');
  });

  it('refuses tokens of unknown issuers, for other audiences, expired or not yet valid', async () => {
    const unknownIssuer = await failure(federate(await token({ iss: 'https://idp.example.com' })));
    assert.deepEqual([unknownIssuer.code, unknownIssuer.status], ['InvalidIdentityTokenException', 400]);
    assert.match(unknownIssuer.message, /No OpenIDConnect provider found in your account for https:\/\/idp\.example\.com/);
    const aud = await failure(federate(await token({ aud: 'someone-else' })));
    assert.deepEqual([aud.code, aud.message], ['InvalidIdentityTokenException', 'Incorrect token audience']);
    const now = Math.floor(Date.now() / 1000);
    const expired = await failure(federate(await token({}, { iat: now - 3600, exp: now - 600 })));
    assert.deepEqual([expired.code, expired.status], ['ExpiredTokenException', 400]);
    // Within the clock skew an expired token still passes; beyond it, not.
    await federate(await token({}, { iat: now - 3600, exp: now - 20 }));
    const future = await failure(federate(await token({ nbf: now + 600 })));
    assert.equal(future.code, 'InvalidIdentityTokenException');
    const issuedLater = await failure(federate(await token({}, { iat: now + 600, exp: now + 1200 })));
    assert.equal(issuedLater.code, 'InvalidIdentityTokenException');
  });

  it('accepts only the asymmetric algorithms the provider advertises; refuses none, HS256 and bad signatures', async () => {
    // RS256: the key is in the JWKS, but the provider advertises ES256 only.
    const rsToken = await failure(federate(await token({}, { alg: 'RS256', kid: 'rs-1', key: rs.privateKey })));
    assert.equal(rsToken.code, 'InvalidIdentityTokenException');
    const hs = await failure(federate(await token({}, { alg: 'HS256', key: new TextEncoder().encode('x'.repeat(32)) })));
    assert.equal(hs.code, 'InvalidIdentityTokenException');
    const valid = await token();
    const [, payload] = valid.split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
    assert.equal((await failure(federate(none))).code, 'InvalidIdentityTokenException');
    // The payload of another token under this signature.
    const forged = valid.split('.');
    forged[1] = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), sub: 'user-999' })).toString('base64url');
    assert.equal((await failure(federate(forged.join('.')))).code, 'InvalidIdentityTokenException');
    assert.equal((await failure(federate('not-a-jwt'))).code, 'InvalidIdentityTokenException');
  });

  it('sees a rotated key at once, without refetching for every unknown key id', async () => {
    const rotated = await generateKeyPair('ES256', { extractable: true });
    jwks.keys.push({ ...(await exportJWK(rotated.publicKey)), kid: 'es-2', alg: 'ES256', use: 'sig' });
    const before = jwksFetches;
    const out = await federate(await token({}, { kid: 'es-2', key: rotated.privateKey }));
    assert.equal(out.SubjectFromWebIdentityToken, 'user-123');
    assert.equal(jwksFetches, before + 1);
    const stranger = await generateKeyPair('ES256');
    for (let i = 0; i < 3; i++) assert.equal((await failure(federate(await token({}, { kid: `forged-${i}`, key: stranger.privateKey })))).code, 'InvalidIdentityTokenException');
    assert.equal(jwksFetches, before + 1);
  });

  it('refuses a provider whose certificate is not trusted (no --oidc-ca-file)', async () => {
    await srv.stop();
    srv = await startLogged(dataDir, {});
    // A fresh provider URL (the keys of the first are cached for this process): another path of the same server.
    const r = await failure(federate(await token({ iss: `https://${providerUrl}-untrusted` })));
    assert.equal(r.code, 'InvalidIdentityTokenException'); // no such provider registered
    const iam = new IAMClient(root(srv.url));
    clients.push(iam);
    await iam.send(new CreateOpenIDConnectProviderCommand({ Url: `${issuer}-untrusted`, ClientIDList: [CLIENT_ID] }));
    await iam.send(new CreateRoleCommand({ RoleName: 'untrusted', AssumeRolePolicyDocument: doc({ Effect: 'Allow', Principal: { Federated: `arn:aws:iam::${accountId}:oidc-provider/${providerUrl}-untrusted` }, Action: 'sts:AssumeRoleWithWebIdentity' }) }));
    const out = await failure(federate(await token({ iss: `https://${providerUrl}-untrusted` }), 'untrusted'));
    assert.deepEqual([out.code, out.status], ['IDPCommunicationErrorException', 400]);
  });
});
