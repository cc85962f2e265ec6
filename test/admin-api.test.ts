// The admin API (src/admin/): every route against a real server, on both listeners (the admin
// listener's /admin/v1 and the S3 listener's /_trove/admin/v1), signed by an independent SigV4
// implementation (@smithy/signature-v4) for the service "trove-admin" or carrying admin tokens.
// Every answer is checked against the OpenAPI document the server serves (ajv), and the last test
// checks that every documented operation was called successfully. Authorisation: tenants' and
// unprivileged identities get 403, tokens outside their scope 403, expired or revoked ones 401.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { CreateBucketCommand, DeleteBucketReplicationCommand, GetObjectCommand, PutBucketReplicationCommand, PutBucketTaggingCommand, PutBucketVersioningCommand, ListBucketsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { IAMClient, PutUserPolicyCommand, CreateUserCommand, CreateAccessKeyCommand } from '@aws-sdk/client-iam';
import { ACCESS_KEY, REGION, SECRET_KEY, signer, startServer, tempDir, testMetaUrl, uniqueBucket, type TestServer } from './helpers.js';

const MAIN = path.join(import.meta.dirname, '..', 'src', 'main.js');

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: any;
}

interface Who {
  accessKeyId?: string;
  secretAccessKey?: string;
  token?: string;
  anonymous?: boolean;
  /** Which listener: the admin listener (default) or the S3 listener. */
  via?: 'admin' | 's3';
}

const MASTER = randomBytes(32).toString('hex');

describe('admin API', () => {
  let server: TestServer;
  let adminPort: number;
  let auditDir: string;
  let doc: any;
  const ajv = new Ajv({ strict: false });
  addFormats.default(ajv);
  /** "GET /accounts/{accountId}" → answered with its documented success status at least once. */
  const covered = new Set<string>();

  /** The documented operation a concrete path is, as "METHOD template". */
  function operationOf(method: string, path: string): { key: string; op: any } | undefined {
    const segs = path.split('?')[0]!.split('/').slice(1);
    for (const [tpl, ops] of Object.entries<any>(doc.paths)) {
      const t = tpl.split('/').slice(1);
      if (t.length !== segs.length || !t.every((s, i) => s.startsWith('{') || s === decodeURIComponent(segs[i]!))) continue;
      const op = ops[method.toLowerCase()];
      if (op) return { key: `${method} ${tpl}`, op };
    }
    return undefined;
  }

  /** One admin request; its answer checked against the OpenAPI document. */
  async function call(method: string, path: string, body?: unknown, who: Who = {}, extra: { rawBody?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
    const payload = extra.rawBody !== undefined ? Buffer.from(extra.rawBody) : body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const via = who.via ?? 'admin';
    const port = via === 'admin' ? adminPort : server.port;
    const prefix = via === 'admin' ? '/admin/v1' : '/_trove/admin/v1';
    const [p, qs] = (prefix + path).split('?') as [string, string | undefined];
    const query = Object.fromEntries(new URLSearchParams(qs ?? ''));
    let headers: Record<string, string> = { host: `127.0.0.1:${port}`, ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}), ...(extra.headers ?? {}) };
    if (who.token !== undefined) headers.authorization = `Bearer ${who.token}`;
    else if (!who.anonymous) {
      // As an AWS SDK signs for a service other than S3: path segments encoded once more.
      const signed = await signer(who.accessKeyId ?? ACCESS_KEY, who.secretAccessKey ?? SECRET_KEY, 'trove-admin', true).sign({
        method, protocol: 'http:', hostname: '127.0.0.1', port, path: p, query, headers, ...(payload ? { body: payload } : {}),
      });
      headers = signed.headers as Record<string, string>;
    }
    const r = await new Promise<Reply>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method, path: p + (qs ? `?${qs}` : ''), headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      });
      req.on('error', reject);
      req.end(payload);
    });
    assert.doesNotMatch(r.text, /\bat [\w.<>]+ \(|node:internal|\.ts:\d+/, 'never a stack trace');
    const found = doc ? operationOf(method, path) : undefined;
    if (found && r.status < 400) {
      const [status, res] = Object.entries<any>(found.op.responses).find(([s]) => s !== 'default')!;
      assert.equal(String(r.status), status, `${method} ${path}: documented status (${r.text})`);
      // A route may answer another documented media type (CSV usage reports): checked as text.
      const type = String(r.headers['content-type'] ?? '').split(';')[0]!.trim();
      const other = type !== '' && type !== 'application/json';
      if (other) assert.ok(res.content?.[type], `${method} ${path}: ${type} is documented`);
      const schema = other ? undefined : res.content?.['application/json']?.schema;
      if (other) assert.ok(r.text.length > 0, `${method} ${path}: a ${type} body`);
      else if (schema) {
        const validate = ajv.compile(schema);
        assert.ok(validate(r.json), `${method} ${path}: answer matches the document: ${ajv.errorsText(validate.errors)}\n${r.text}`);
      } else assert.equal(r.text, '', `${method} ${path}: no body`);
      covered.add(found.key);
    } else if (r.status >= 400 && doc) {
      const validate = ajv.compile(doc.components.schemas.Error);
      assert.ok(validate(r.json), `${method} ${path}: an error is {code, message}: ${r.text}`);
      assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
    }
    return r;
  }

  /** A successful call (its status checked against the document by call()). */
  async function ok(method: string, path: string, body?: unknown, who?: Who): Promise<any> {
    const r = await call(method, path, body, who);
    assert.ok(r.status < 300, `${method} ${path} → ${r.status} ${r.text}`);
    return r.json;
  }

  async function fails(status: number, code: string, method: string, path: string, body?: unknown, who?: Who): Promise<Reply> {
    const r = await call(method, path, body, who);
    assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
    assert.equal(r.json.code, code, r.text);
    return r;
  }

  before(async () => {
    auditDir = await tempDir('trove-admin-audit-');
    server = await startServer({ adminAddress: { host: '127.0.0.1', port: 0 }, masterKeyEnv: MASTER, auditLog: path.join(auditDir, 'audit.jsonl') });
    adminPort = Number(new URL(server.trove.adminUrl!).port);
    const r = await call('GET', '/openapi.json', undefined, { anonymous: true });
    assert.equal(r.status, 200);
    doc = r.json;
  });
  after(async () => {
    await server.stop();
    await fs.promises.rm(auditDir, { recursive: true, force: true });
  });

  it('serves an OpenAPI 3.1 document of every route, without authentication, on both listeners', async () => {
    assert.equal(doc.openapi, '3.1.0');
    const { ROUTES } = await import('../src/admin/routes.js');
    const documented = Object.entries<any>(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    assert.deepEqual(new Set(documented), new Set(ROUTES.map((r) => `${r.method} ${r.path}`)), 'the document is the route table');
    const ids = documented.map((k) => { const [m, p] = k.split(' '); return doc.paths[p!][m!.toLowerCase()].operationId; });
    assert.equal(new Set(ids).size, ids.length, 'operationIds are unique');
    const viaS3 = await call('GET', '/openapi.json', undefined, { anonymous: true, via: 's3' });
    assert.deepEqual(viaS3.json, doc);
    // Every documented operation is served: unauthenticated, each answers 401 (not 404 or 405).
    for (const key of documented) {
      const [m, p] = key.split(' ') as [string, string];
      if (p === '/openapi.json') continue;
      const concrete = p.replace(/\{accountId\}/g, '123456789012').replace(/\{[^}]+\}/g, 'x');
      const r = await call(m, concrete, undefined, { anonymous: true });
      assert.equal(r.status, 401, `${key}: ${r.text}`);
      assert.equal(r.json.code, 'MissingAuthentication');
      assert.match(String(r.headers['www-authenticate']), /^Bearer/);
    }
  });

  it('answers unknown routes, wrong methods, bad bodies and bad signatures with JSON errors', async () => {
    await fails(404, 'NoSuchRoute', 'GET', '/nothing');
    const wrong = await fails(405, 'MethodNotAllowed', 'DELETE', '/accounts');
    assert.equal(wrong.headers.allow, 'GET, POST');
    const bad = await call('POST', '/accounts', undefined, {}, { rawBody: '{"name":' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.code, 'BadRequest');
    const invalid = await fails(400, 'BadRequest', 'POST', '/accounts', { name: 'x', accountId: '12' });
    assert.match(invalid.json.message, /accountId/);
    await fails(400, 'BadRequest', 'POST', '/accounts', { name: 'x', unknown: 1 });
    await fails(403, 'SignatureDoesNotMatch', 'GET', '/accounts', undefined, { secretAccessKey: 'wrong' });
    await fails(403, 'InvalidAccessKeyId', 'GET', '/accounts', undefined, { accessKeyId: 'AKIANOSUCHKEY0000000' });
    await fails(401, 'MissingAuthentication', 'GET', '/info', undefined, { anonymous: true });
    await fails(404, 'NoSuchAccount', 'GET', '/accounts/000000000001');
    // The same signature for another service (s3) is not an admin request.
    const s3signed = await signer().sign({ method: 'GET', protocol: 'http:', hostname: '127.0.0.1', port: adminPort, path: '/admin/v1/info', headers: { host: `127.0.0.1:${adminPort}` } });
    const r = await call('GET', '/info', undefined, { anonymous: true }, { headers: s3signed.headers as Record<string, string> });
    assert.equal(r.status, 400);
    assert.equal(r.json.code, 'AuthorizationHeaderMalformed');
  });

  it('server: info, health, configuration (secrets hidden), usage, work queue, replication', async () => {
    const info = await ok('GET', '/info');
    assert.equal(info.region, REGION);
    assert.equal(info.metaStore, process.env.TROVE_TEST_META === 'postgres' ? 'postgres' : 'sqlite');
    assert.equal(info.rootAccountId, (await server.trove.app.meta.getAccessKey(ACCESS_KEY)) && (await server.trove.app.accountIdOf((await server.trove.app.meta.getAccessKey(ACCESS_KEY))!.userId)));
    assert.deepEqual(await ok('GET', '/health'), { live: true, ready: true });
    const cfg = await call('GET', '/config');
    assert.equal(cfg.json.rootSecretKey, '(set)');
    assert.equal(cfg.json.masterKeyEnv, '(set)');
    assert.ok(!cfg.text.includes(SECRET_KEY) && !cfg.text.includes(MASTER), 'no secret in the configuration');
    assert.equal(cfg.json.region, REGION);
    const b = uniqueBucket();
    await server.s3.send(new CreateBucketCommand({ Bucket: b }));
    await server.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'hello' }));
    const usage = await ok('GET', '/usage');
    assert.deepEqual(usage.buckets.find((x: any) => x.bucket === b), { bucket: b, bytes: 5, objects: 1, stagedBytes: 0 });
    assert.ok(usage.accounts.some((a: any) => a.account === info.rootAccountId && a.bytes >= 5));
    // Hourly usage reports: this hour's requests, once the recorder has flushed its counters.
    await server.trove.app.usage.recorder?.flush();
    const report = await ok('GET', `/usage/reports?bucket=${b}`);
    const puts = report.requests.filter((r: any) => r.bucket === b && r.class === 'A');
    assert.ok(puts.reduce((n: number, r: any) => n + r.requests, 0) >= 2, 'CreateBucket and PutObject counted as class A');
    assert.equal(puts.reduce((n: number, r: any) => n + r.bytesIn, 0), 5);
    const csv = await call('GET', `/usage/reports?bucket=${b}&format=csv`);
    assert.equal(csv.status, 200);
    assert.match(String(csv.headers['content-type']), /^text\/csv/);
    assert.match(csv.text.split('\n')[0]!, /period/);
    await fails(400, 'BadRequest', 'GET', '/usage/reports?granularity=week');
    const work = await ok('GET', '/work');
    assert.equal(typeof work.depth, 'number');
    assert.deepEqual(await ok('GET', '/replication'), { rules: [] });
    // The same on the S3 listener.
    assert.equal((await ok('GET', '/info', undefined, { via: 's3' })).region, REGION);
  });

  it('keeps the S3 namespace whole: a bucket named "admin" and keys under v1/ are objects as before', async () => {
    await server.s3.send(new CreateBucketCommand({ Bucket: 'admin' }));
    await server.s3.send(new PutObjectCommand({ Bucket: 'admin', Key: 'v1/accounts', Body: 'an object' }));
    const got = await server.s3.send(new GetObjectCommand({ Bucket: 'admin', Key: 'v1/accounts' }));
    assert.equal(await got.Body!.transformToString(), 'an object');
  });

  let tenant: { accountId: string; accessKeyId: string; secretAccessKey: string };

  it('accounts: create (given or generated ids and keys), get, list, update; the root key works on S3', async () => {
    const accountId = String(300000000000 + (process.pid % 100000) * 1000 + 1);
    const created = await ok('POST', '/accounts', { name: 'tenant', email: 't@example.com', accountId });
    assert.equal(created.account.accountId, accountId);
    assert.equal(created.account.root, false);
    tenant = { accountId, accessKeyId: created.accessKeyId, secretAccessKey: created.secretAccessKey };
    await fails(409, 'Conflict', 'POST', '/accounts', { name: 'again', accountId });
    const given = await ok('POST', '/accounts', { name: 'given', accessKeyId: `GIVEN${process.pid}KEY00000`.slice(0, 20), secretAccessKey: 'given-secret' });
    assert.equal(given.secretAccessKey, 'given-secret');
    const s3 = new S3Client({ endpoint: server.url, region: REGION, forcePathStyle: true, credentials: { accessKeyId: tenant.accessKeyId, secretAccessKey: tenant.secretAccessKey } });
    const b = uniqueBucket('tenant');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: '12345678' }));
    s3.destroy();
    const got = await ok('GET', `/accounts/${accountId}`);
    assert.equal(got.name, 'tenant');
    assert.equal(got.email, 't@example.com');
    assert.deepEqual(got.usage, { bytes: 8, objects: 1, stagedBytes: 0 });
    assert.deepEqual(got.qos, {});
    const list = await ok('GET', '/accounts');
    assert.ok(list.accounts.some((a: any) => a.accountId === accountId));
    assert.equal(list.accounts.filter((a: any) => a.root).length, 1);
    const renamed = await ok('PATCH', `/accounts/${accountId}`, { name: 'tenant2', email: null });
    assert.equal(renamed.name, 'tenant2');
    assert.equal(renamed.email, undefined);
  });

  it('quotas of accounts and buckets; usage reported with them', async () => {
    const set = await ok('PUT', `/accounts/${tenant.accountId}/quota`, { maxBytes: 10 });
    assert.deepEqual(set, { bytes: 8, objects: 1, stagedBytes: 0, quota: { maxBytes: 10 } });
    assert.deepEqual((await ok('PUT', `/accounts/${tenant.accountId}/quota`, { maxObjects: 5, maxBytes: null })).quota, { maxObjects: 5 });
    assert.deepEqual((await ok('GET', `/accounts/${tenant.accountId}`)).quota, { maxObjects: 5 });
    assert.equal((await ok('DELETE', `/accounts/${tenant.accountId}/quota`)).quota, undefined);

    const b = uniqueBucket('quota');
    await server.s3.send(new CreateBucketCommand({ Bucket: b }));
    await server.s3.send(new PutObjectCommand({ Bucket: b, Key: 'a', Body: Buffer.alloc(60) }));
    assert.deepEqual(await ok('PUT', `/buckets/${b}/quota`, { maxBytes: 100 }), { bytes: 60, objects: 1, stagedBytes: 0, quota: { maxBytes: 100 } });
    const refused = await server.s3.send(new PutObjectCommand({ Bucket: b, Key: 'b', Body: Buffer.alloc(60) })).then(() => undefined, (e: Error) => e.name);
    assert.equal(refused, 'QuotaExceeded');
    assert.equal((await ok('GET', `/buckets/${b}`)).quota.maxBytes, 100);
    assert.equal((await ok('DELETE', `/buckets/${b}/quota`)).quota, undefined);
    await server.s3.send(new PutObjectCommand({ Bucket: b, Key: 'b', Body: Buffer.alloc(60) }));
    await fails(404, 'NoSuchBucket', 'PUT', '/buckets/no-such-bucket-here/quota', { maxBytes: 1 });
    await fails(400, 'BadRequest', 'PUT', `/buckets/${b}/quota`, { maxBytes: -1 });
  });

  it('buckets: list (all, by account, paged) and get, with owner, usage, versioning, lock and configurations', async () => {
    const mine = uniqueBucket('list');
    await server.s3.send(new CreateBucketCommand({ Bucket: mine, ObjectLockEnabledForBucket: true }));
    const all = await ok('GET', '/buckets');
    const row = all.buckets.find((x: any) => x.name === mine);
    assert.equal(row.objectLock, true);
    assert.equal(row.versioning, 'Enabled');
    assert.equal(row.owner.accountId, (await ok('GET', '/info')).rootAccountId);
    const theirs = await ok('GET', `/buckets?account=${tenant.accountId}`);
    assert.deepEqual(theirs.buckets.map((x: any) => x.owner.accountId), theirs.buckets.map(() => tenant.accountId));
    assert.equal(theirs.buckets.length, 1);
    const page = await ok('GET', '/buckets?limit=1');
    assert.equal(page.buckets.length, 1);
    assert.equal(page.isTruncated, true);
    const next = await ok('GET', `/buckets?limit=1&after=${encodeURIComponent(page.next)}`);
    assert.ok(next.buckets[0].name > page.buckets[0].name);
    await server.s3.send(new PutBucketTaggingCommand({ Bucket: mine, Tagging: { TagSet: [{ Key: 'team', Value: 'ops' }] } }));
    const one = await ok('GET', `/buckets/${mine}`);
    assert.deepEqual(one.configurations, ['tagging']);
    await fails(404, 'NoSuchBucket', 'GET', '/buckets/no-such-bucket-here');
  });

  it('QoS of an account and of an IAM user', async () => {
    assert.deepEqual(await ok('PUT', `/accounts/${tenant.accountId}/qos`, { rps: 100, upBps: 1000 }), { rps: 100, upBps: 1000 });
    assert.deepEqual(await ok('PUT', `/accounts/${tenant.accountId}/qos`, { upBps: null, downBps: 5 }), { rps: 100, downBps: 5 });
    assert.deepEqual(await ok('GET', `/accounts/${tenant.accountId}/qos`), { rps: 100, downBps: 5 });
    await ok('DELETE', `/accounts/${tenant.accountId}/qos`);
    assert.deepEqual(await ok('GET', `/accounts/${tenant.accountId}/qos`), {});
    await ok('POST', `/accounts/${tenant.accountId}/users`, { name: 'paced' });
    assert.deepEqual(await ok('PUT', `/accounts/${tenant.accountId}/users/paced/qos`, { rps: 7 }), { rps: 7 });
    assert.deepEqual(await ok('GET', `/accounts/${tenant.accountId}/users/paced/qos`), { rps: 7 });
    await ok('DELETE', `/accounts/${tenant.accountId}/users/paced/qos`);
    await ok('DELETE', `/accounts/${tenant.accountId}/users/paced`);
    await fails(404, 'NoSuchEntity', 'GET', `/accounts/${tenant.accountId}/users/nobody/qos`);
  });

  it("an account root's access keys: list, create, deactivate, delete", async () => {
    const a = tenant.accountId;
    const before = await ok('GET', `/accounts/${a}/keys`);
    assert.deepEqual(before.keys.map((k: any) => k.AccessKeyId), [tenant.accessKeyId]);
    const key = await ok('POST', `/accounts/${a}/keys`);
    assert.ok(key.SecretAccessKey);
    const s3 = new S3Client({ endpoint: server.url, region: REGION, forcePathStyle: true, credentials: { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey }, maxAttempts: 1 });
    await s3.send(new ListBucketsCommand({}));
    assert.equal((await ok('PATCH', `/accounts/${a}/keys/${key.AccessKeyId}`, { status: 'Inactive' })).Status, 'Inactive');
    assert.equal(await s3.send(new ListBucketsCommand({})).then(() => 'ok', (e: Error) => e.name), 'InvalidAccessKeyId', 'a deactivated key is refused at once');
    await ok('DELETE', `/accounts/${a}/keys/${key.AccessKeyId}`);
    s3.destroy();
    await fails(404, 'NoSuchEntity', 'DELETE', `/accounts/${a}/keys/${key.AccessKeyId}`);
  });

  it('IAM users, their keys and policies: the IAM service behind the IAM API', async () => {
    const a = tenant.accountId;
    const created = await ok('POST', `/accounts/${a}/users`, { name: 'alice', path: '/staff/' });
    assert.equal(created.User.Arn, `arn:aws:iam::${a}:user/staff/alice`);
    await fails(409, 'EntityAlreadyExists', 'POST', `/accounts/${a}/users`, { name: 'alice' });
    await fails(400, 'ValidationError', 'POST', `/accounts/${a}/users`, { name: 'bad name!' });
    assert.deepEqual((await ok('GET', `/accounts/${a}/users`)).users.map((u: any) => u.UserName), ['alice']);
    assert.deepEqual((await ok('GET', `/accounts/${a}/users?pathPrefix=/other/`)).users, []);
    const key = await ok('POST', `/accounts/${a}/users/alice/keys`);
    assert.equal(key.UserName, 'alice');
    // The IAM API sees what the admin API did (one store, one service).
    const iam = new IAMClient({ endpoint: server.url, region: REGION, credentials: { accessKeyId: tenant.accessKeyId, secretAccessKey: tenant.secretAccessKey } });
    await iam.send(new PutUserPolicyCommand({ UserName: 'alice', PolicyName: 'via-iam', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:ListAllMyBuckets', Resource: '*' }] }) }));
    iam.destroy();
    assert.deepEqual((await ok('GET', `/accounts/${a}/users/alice/inline-policies`)).policyNames, ['via-iam']);
    const s3 = new S3Client({ endpoint: server.url, region: REGION, forcePathStyle: true, credentials: { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey }, maxAttempts: 1 });
    await s3.send(new ListBucketsCommand({}));
    const doc1 = { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 's3:*', Resource: '*' }] };
    assert.deepEqual((await ok('PUT', `/accounts/${a}/users/alice/inline-policies/deny-all`, { document: doc1 })).Document, doc1);
    assert.deepEqual((await ok('GET', `/accounts/${a}/users/alice/inline-policies/deny-all`)).Document, doc1);
    assert.equal(await s3.send(new ListBucketsCommand({})).then(() => 'ok', (e: Error) => e.name), 'AccessDenied', 'the policy applies at once');
    await ok('DELETE', `/accounts/${a}/users/alice/inline-policies/deny-all`);
    await ok('DELETE', `/accounts/${a}/users/alice/inline-policies/via-iam`);
    await fails(400, 'MalformedPolicyDocument', 'PUT', `/accounts/${a}/users/alice/inline-policies/bad`, { document: { Statement: 'no' } });

    assert.equal((await ok('GET', `/accounts/${a}/users/alice/keys`)).keys.length, 1);
    assert.equal((await ok('PATCH', `/accounts/${a}/users/alice/keys/${key.AccessKeyId}`, { status: 'Inactive' })).Status, 'Inactive');
    await ok('DELETE', `/accounts/${a}/users/alice/keys/${key.AccessKeyId}`);
    s3.destroy();

    // Managed policies: create, get, update (a new default version), attach, list, detach, delete.
    const readOnly = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:Get*', Resource: '*' }] };
    const p = await ok('POST', `/accounts/${a}/policies`, { name: 'read-only', description: 'reads', document: readOnly });
    assert.equal(p.Arn, `arn:aws:iam::${a}:policy/read-only`);
    assert.deepEqual((await ok('GET', `/accounts/${a}/policies`)).policies.map((x: any) => x.PolicyName), ['read-only']);
    const v2 = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:Get*', 's3:List*'], Resource: '*' }] };
    const updated = await ok('PUT', `/accounts/${a}/policies/read-only`, { document: v2 });
    assert.equal(updated.DefaultVersionId, 'v2');
    assert.deepEqual((await ok('GET', `/accounts/${a}/policies/read-only`)).Document, v2);
    await ok('PUT', `/accounts/${a}/users/alice/attached-policies/read-only`);
    assert.deepEqual((await ok('GET', `/accounts/${a}/users/alice/attached-policies`)).policies, [{ PolicyName: 'read-only', PolicyArn: p.Arn }]);
    await fails(409, 'DeleteConflict', 'DELETE', `/accounts/${a}/policies/read-only`);
    await ok('DELETE', `/accounts/${a}/users/alice/attached-policies/read-only`);

    // Groups: create, members, policies, delete.
    const g = await ok('POST', `/accounts/${a}/groups`, { name: 'ops' });
    assert.equal(g.Group.GroupName, 'ops');
    assert.deepEqual((await ok('GET', `/accounts/${a}/groups`)).groups.map((x: any) => x.GroupName), ['ops']);
    await ok('PUT', `/accounts/${a}/groups/ops/users/alice`);
    assert.deepEqual((await ok('GET', `/accounts/${a}/groups/ops`)).Users.map((u: any) => u.UserName), ['alice']);
    assert.deepEqual((await ok('GET', `/accounts/${a}/users/alice`)).Groups.map((x: any) => x.GroupName), ['ops']);
    await ok('PUT', `/accounts/${a}/groups/ops/attached-policies/read-only`);
    assert.deepEqual((await ok('GET', `/accounts/${a}/groups/ops/attached-policies`)).policies.map((x: any) => x.PolicyName), ['read-only']);
    await ok('PUT', `/accounts/${a}/groups/ops/inline-policies/extra`, { document: readOnly });
    assert.deepEqual((await ok('GET', `/accounts/${a}/groups/ops/inline-policies`)).policyNames, ['extra']);
    assert.deepEqual((await ok('GET', `/accounts/${a}/groups/ops/inline-policies/extra`)).Document, readOnly);
    await fails(409, 'DeleteConflict', 'DELETE', `/accounts/${a}/groups/ops`);
    await ok('DELETE', `/accounts/${a}/groups/ops/inline-policies/extra`);
    await ok('DELETE', `/accounts/${a}/groups/ops/attached-policies/read-only`);
    await ok('DELETE', `/accounts/${a}/groups/ops/users/alice`);
    await ok('DELETE', `/accounts/${a}/groups/ops`);
    await ok('DELETE', `/accounts/${a}/policies/read-only`);
    await fails(404, 'NoSuchEntity', 'GET', `/accounts/${a}/policies/read-only`);

    // Roles: create with a trust policy, policies, delete.
    const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${a}:root` }, Action: 'sts:AssumeRole' }] };
    const role = await ok('POST', `/accounts/${a}/roles`, { name: 'deployer', description: 'deploys', maxSessionDuration: 7200, trustPolicy: trust });
    assert.deepEqual(role.Role.AssumeRolePolicyDocument, trust);
    assert.equal(role.Role.MaxSessionDuration, 7200);
    assert.deepEqual((await ok('GET', `/accounts/${a}/roles`)).roles.map((r: any) => r.RoleName), ['deployer']);
    assert.equal((await ok('GET', `/accounts/${a}/roles/deployer`)).Role.Description, 'deploys');
    await ok('POST', `/accounts/${a}/policies`, { name: 'read-only', document: readOnly });
    await ok('PUT', `/accounts/${a}/roles/deployer/attached-policies/read-only`);
    assert.deepEqual((await ok('GET', `/accounts/${a}/roles/deployer/attached-policies`)).policies.map((x: any) => x.PolicyName), ['read-only']);
    await ok('PUT', `/accounts/${a}/roles/deployer/inline-policies/more`, { document: readOnly });
    assert.deepEqual((await ok('GET', `/accounts/${a}/roles/deployer/inline-policies`)).policyNames, ['more']);
    assert.deepEqual((await ok('GET', `/accounts/${a}/roles/deployer/inline-policies/more`)).Document, readOnly);
    await fails(409, 'DeleteConflict', 'DELETE', `/accounts/${a}/roles/deployer`);
    await ok('DELETE', `/accounts/${a}/roles/deployer/inline-policies/more`);
    await ok('DELETE', `/accounts/${a}/roles/deployer/attached-policies/read-only`);
    await ok('DELETE', `/accounts/${a}/roles/deployer`);
    await fails(404, 'NoSuchEntity', 'GET', `/accounts/${a}/roles/deployer`);
    await ok('DELETE', `/accounts/${a}/policies/read-only`);

    const renamed = await ok('PATCH', `/accounts/${a}/users/alice`, { name: 'alice2', path: '/' });
    assert.equal(renamed.User.Arn, `arn:aws:iam::${a}:user/alice2`);
    await ok('DELETE', `/accounts/${a}/users/alice2`);
    await fails(404, 'NoSuchEntity', 'GET', `/accounts/${a}/users/alice2`);
  });

  it('KMS keys: create, list, get (by id or alias), disable and enable, rotate', async () => {
    const k = await ok('POST', '/kms/keys', { alias: 'admin-api-test', description: 'for tests' });
    assert.equal(k.enabled, true);
    assert.ok((await ok('GET', '/kms/keys')).keys.some((x: any) => x.id === k.id));
    assert.equal((await ok('GET', '/kms/keys/alias%2Fadmin-api-test')).id, k.id);
    assert.equal((await ok('PATCH', `/kms/keys/${k.id}`, { enabled: false })).enabled, false);
    assert.equal((await ok('PATCH', `/kms/keys/${k.id}`, { enabled: true })).enabled, true);
    assert.deepEqual((await ok('POST', `/kms/keys/${k.id}/rotate`)).versions.map((v: any) => v.version), [1, 2]);
    await fails(404, 'NotFound', 'GET', '/kms/keys/no-such-key');
    await fails(400, 'BadRequest', 'POST', '/kms/keys', { id: k.id });
  });

  it('tiers, replication remotes and notification targets: add, list, get, remove; secrets never answered', async () => {
    const tier = await ok('POST', '/tiers', { name: 'cold', endpoint: 'http://127.0.0.1:1', bucket: 'archive', accessKey: 'AK', secretKey: 'tier-secret-value', storageClasses: ['COLD_ADMIN'] });
    assert.equal(tier.secretSealed, true, 'sealed under the master key');
    assert.deepEqual((await ok('GET', '/tiers')).tiers.map((t: any) => t.name), ['cold']);
    assert.equal((await ok('GET', '/tiers/cold')).bucket, 'archive');
    await fails(400, 'BadRequest', 'POST', '/tiers', { name: 'cold', endpoint: 'http://127.0.0.1:1', bucket: 'x', accessKey: 'a', secretKey: 'b' });
    await ok('DELETE', '/tiers/cold');
    await fails(404, 'NotFound', 'GET', '/tiers/cold');

    const remote = await ok('POST', '/remotes', { name: 'dr', endpoint: 'http://127.0.0.1:2', accessKey: 'AK', secretKey: 'remote-secret-value', buckets: ['dest-a'] });
    assert.deepEqual(remote.buckets, ['dest-a']);
    assert.deepEqual((await ok('GET', '/remotes')).remotes.map((r: any) => r.name), ['dr']);
    assert.equal((await ok('GET', '/remotes/dr')).endpoint, 'http://127.0.0.1:2');
    // A bucket replicating to it: resync queues its existing versions.
    const src = uniqueBucket('repl');
    await server.s3.send(new CreateBucketCommand({ Bucket: src }));
    await server.s3.send(new PutBucketVersioningCommand({ Bucket: src, VersioningConfiguration: { Status: 'Enabled' } }));
    await fails(409, 'Conflict', 'POST', `/buckets/${src}/replication/resync`);
    await server.s3.send(new PutObjectCommand({ Bucket: src, Key: 'before', Body: 'x' }));
    await server.s3.send(new PutBucketReplicationCommand({ Bucket: src, ReplicationConfiguration: { Role: 'arn:aws:iam::000000000000:role/replication', Rules: [{ ID: 'all', Status: 'Enabled', Priority: 1, Filter: {}, DeleteMarkerReplication: { Status: 'Disabled' }, Destination: { Bucket: 'arn:aws:s3:::dest-a' } }] } }));
    assert.equal((await ok('POST', `/buckets/${src}/replication/resync`)).queued, 1);
    assert.ok((await ok('GET', '/replication')).rules.some((r: any) => r.bucket === src && r.rule === 'all'));
    await server.s3.send(new DeleteBucketReplicationCommand({ Bucket: src }));
    await ok('DELETE', '/remotes/dr');
    await fails(404, 'NotFound', 'DELETE', '/remotes/dr');

    const t = await ok('PUT', '/targets/hook', { type: 'webhook', endpoint: 'https://user:pw@hooks.example.com/s3', token: 'hook-token-value' });
    assert.equal(t.arn, 'arn:trove:sqs::hook:webhook');
    assert.equal(t.token, '(set)');
    assert.equal((await ok('GET', '/targets/hook')).endpoint, 'https://…@hooks.example.com/s3');
    await fails(400, 'BadRequest', 'PUT', '/targets/bad', { type: 'nats', endpoint: 'http://x' });
    const listed = await call('GET', '/targets');
    assert.deepEqual(listed.json.targets.map((x: any) => x.name), ['hook']);
    for (const text of [listed.text, (await call('GET', '/tiers')).text, (await call('GET', '/remotes')).text]) assert.doesNotMatch(text, /secret-value|hook-token-value|pw@/);
    await ok('DELETE', '/targets/hook');
    assert.deepEqual((await ok('GET', '/targets')).targets, []);
  });

  it('authorisation: the root account holds admin rights; its IAM users what their policies allow; tenants nothing', async () => {
    // A tenant's root user: no admin rights at all.
    await fails(403, 'AccessDenied', 'GET', '/accounts', undefined, { accessKeyId: tenant.accessKeyId, secretAccessKey: tenant.secretAccessKey });
    // A tenant's IAM user whose (tenant-written) policy allows admin:*: still nothing.
    const tenantIam = new IAMClient({ endpoint: server.url, region: REGION, credentials: { accessKeyId: tenant.accessKeyId, secretAccessKey: tenant.secretAccessKey } });
    await tenantIam.send(new CreateUserCommand({ UserName: 'sneaky' }));
    await tenantIam.send(new PutUserPolicyCommand({ UserName: 'sneaky', PolicyName: 'all', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'admin:*', Resource: '*' }] }) }));
    const sneaky = (await tenantIam.send(new CreateAccessKeyCommand({ UserName: 'sneaky' }))).AccessKey!;
    tenantIam.destroy();
    await fails(403, 'AccessDenied', 'GET', '/info', undefined, { accessKeyId: sneaky.AccessKeyId!, secretAccessKey: sneaky.SecretAccessKey! });

    // An IAM user of the root account: nothing without a policy; then what its policy allows.
    const iam = new IAMClient({ endpoint: server.url, region: REGION, credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
    const name = `operator${process.pid}`;
    await iam.send(new CreateUserCommand({ UserName: name }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey!;
    const who = { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! };
    await fails(403, 'AccessDenied', 'GET', '/accounts', undefined, who);
    await iam.send(new PutUserPolicyCommand({
      UserName: name,
      PolicyName: 'readers',
      PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['admin:List*', 'admin:Get*'], Resource: '*' }, { Effect: 'Deny', Action: 'admin:*', Resource: `arn:trove:admin:::accounts/${tenant.accountId}*` }] }),
    }));
    iam.destroy();
    assert.ok((await ok('GET', '/accounts', undefined, who)).accounts.length >= 2);
    await fails(403, 'AccessDenied', 'POST', '/accounts', { name: 'nope' }, who);
    const denied = await fails(403, 'AccessDenied', 'GET', `/accounts/${tenant.accountId}`, undefined, who);
    assert.match(denied.json.message, /explicit deny/);
    assert.equal((await ok('GET', '/info', undefined, { ...who, via: 's3' })).region, REGION);
  });

  it('admin tokens: scoped by action and resource, expiring, revocable, stored hashed', async () => {
    const created = await ok('POST', '/tokens', { name: 'lister', actions: ['admin:ListAccounts', 'admin:GetAccount'], resources: [`arn:trove:admin:::accounts`, `arn:trove:admin:::accounts/${tenant.accountId}`], expiresInSeconds: 600 });
    const token = created.token as string;
    assert.match(token, /^[0-9a-f]{24}\./);
    assert.ok(!(await server.trove.app.meta.getSetting(`admin-token:${created.id}`))!.includes(token.split('.')[1]!), 'only a hash is stored');
    assert.ok((await ok('GET', '/accounts', undefined, { token })).accounts.length >= 2);
    assert.equal((await ok('GET', `/accounts/${tenant.accountId}`, undefined, { token, via: 's3' })).accountId, tenant.accountId);
    const outOfScope = await fails(403, 'AccessDenied', 'GET', `/accounts/${(await ok('GET', '/info')).rootAccountId}`, undefined, { token });
    assert.match(outOfScope.json.message, /scope/);
    await fails(403, 'AccessDenied', 'POST', '/accounts', { name: 'nope' }, { token });
    await fails(403, 'AccessDenied', 'GET', '/tokens', undefined, { token });
    await fails(401, 'InvalidToken', 'GET', '/accounts', undefined, { token: token.slice(0, -2) + 'xx' });
    await fails(401, 'InvalidToken', 'GET', '/accounts', undefined, { token: 'garbage' });

    const listed = await ok('GET', '/tokens');
    const mine = listed.tokens.find((t: any) => t.id === created.id);
    assert.equal(mine.name, 'lister');
    assert.equal(mine.hash, undefined);
    assert.ok(!JSON.stringify(listed).includes(token.split('.')[1]!));
    assert.equal((await ok('GET', `/tokens/${created.id}`)).expired, false);
    await ok('DELETE', `/tokens/${created.id}`);
    await fails(401, 'InvalidToken', 'GET', '/accounts', undefined, { token });
    await fails(404, 'NotFound', 'GET', `/tokens/${created.id}`);

    const brief = await ok('POST', '/tokens', { name: 'brief', actions: ['admin:*'], expiresInSeconds: 1 });
    assert.equal((await ok('GET', '/info', undefined, { token: brief.token })).region, REGION);
    await new Promise((r) => setTimeout(r, 1100));
    await fails(401, 'ExpiredToken', 'GET', '/info', undefined, { token: brief.token });
    assert.equal((await ok('GET', `/tokens/${brief.id}`)).expired, true);
    await ok('DELETE', `/tokens/${brief.id}`);

    await fails(400, 'BadRequest', 'POST', '/tokens', { name: 'bad', actions: ['s3:GetObject'] });
    await fails(400, 'BadRequest', 'POST', '/tokens', { name: 'bad', actions: ['admin:*'], resources: ['arn:aws:s3:::x'] });
    await fails(400, 'BadRequest', 'POST', '/tokens', { name: 'bad', actions: ['admin:*'], expiresInSeconds: 10 ** 9 });
    // A token cannot be used to sign: a Bearer header on the S3 API is not a credential.
    const s3 = await new Promise<number>((resolve) => http.get({ host: '127.0.0.1', port: server.port, path: '/', headers: { authorization: `Bearer ${brief.token}` } }, (res) => { res.resume(); resolve(res.statusCode!); }));
    assert.notEqual(s3, 200);
  });

  /** `trove admin …` as an operator runs it: another process. */
  async function trove(args: string[], env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string; code: number }> {
    return new Promise((resolve) => {
      execFile(process.execPath, [MAIN, 'admin', ...args], { env: { ...process.env, TROVE_ADMIN_URL: '', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', TROVE_ADMIN_TOKEN: '', ...env } }, (err, stdout, stderr) =>
        resolve({ stdout, stderr, code: err ? ((err as { code?: number }).code ?? 1) : 0 }),
      );
    });
  }

  it('trove admin --admin-url: accounts, users, quotas, usage, QoS, registries and tokens through the API', async () => {
    const creds = ['--admin-url', server.url, '--admin-access-key', ACCESS_KEY, '--admin-secret-key', SECRET_KEY];
    const run = async (...args: string[]) => {
      const r = await trove([...args, ...creds]);
      assert.equal(r.code, 0, `trove admin ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    const accountId = String(400000000000 + (process.pid % 100000) * 1000 + 2);
    const added = await run('account', 'add', '--name', 'cli-made', '--account-id', accountId);
    assert.match(added, new RegExp(`^account ${accountId} \\(cli-made\\)\ncanonical id [0-9a-f]{64}\naccess key \\S+\nsecret key \\S+\n$`));
    assert.match(await run('account', 'list'), new RegExp(`^${accountId}\t[0-9a-f]{64}\tcli-made$`, 'm'));
    const user = await run('user', 'add', '--account', accountId, '--name', 'bob');
    assert.match(user, new RegExp(`^user arn:aws:iam::${accountId}:user/bob \\(AIDA\\w+\\)\naccess key \\S+\nsecret key \\S+\n$`));
    assert.match(await run('user', 'list', '--account', accountId), /^bob\tAIDA\w+\tarn:aws:iam::\d{12}:user\/bob\t/m);

    const b = uniqueBucket('cli');
    await server.s3.send(new CreateBucketCommand({ Bucket: b }));
    await server.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: Buffer.alloc(60) }));
    assert.match(await run('quota', 'set', '--bucket', b, '--max-bytes', '100'), /max-bytes 100 max-objects unlimited/);
    assert.deepEqual(JSON.parse(await run('usage', '--bucket', b, '--json')), { bytes: 60, objects: 1, stagedBytes: 0, quota: { maxBytes: 100 } });
    assert.match(await run('quota', 'clear', '--bucket', b), /quota none/);
    const rootAccount = (await ok('GET', '/info')).rootAccountId;
    assert.match(await run('bucket', 'list'), new RegExp(`^${b}\t${rootAccount}\tUnversioned\tbytes 60\tobjects 1$`, 'm'));
    assert.doesNotMatch(await run('bucket', 'list', '--account', accountId), new RegExp(b));
    assert.match(await run('bucket', 'show', b), new RegExp(`^${b}\t${rootAccount}\tUnversioned\tbytes 60\tobjects 1\t-\n$`));
    const offlineStore = ['--data-dir', server.dataDir, ...(process.env.TROVE_TEST_META === 'postgres' ? ['--meta', (await testMetaUrl(server.dataDir))!] : [])];
    const offlineBuckets = await trove(['bucket', 'show', b, ...offlineStore]);
    assert.equal(offlineBuckets.stdout, await run('bucket', 'show', b), 'the same line on the data directory');
    const made = await run('key', 'create', '--account', accountId, '--user', 'bob');
    const keyId = /^access key (\S+)$/m.exec(made)![1]!;
    assert.match(await run('key', 'list', '--account', accountId, '--user', 'bob'), new RegExp(`^${keyId}\tActive\t`, 'm'));
    assert.match(await run('key', 'deactivate', '--account', accountId, '--user', 'bob', '--id', keyId), new RegExp(`^${keyId}\tInactive\t.*\tbob$`, 'm'));
    assert.match(await run('key', 'delete', '--account', accountId, '--user', 'bob', '--id', keyId), /deleted/);
    assert.equal((await run('key', 'list', '--account', accountId)).split('\n').filter(Boolean).length, 1, "the account root's own key");
    assert.match(await run('usage'), new RegExp(`^bucket ${b}\tbytes 60\tobjects 1\t`, 'm'));
    assert.match(await run('quota', 'set', '--account', accountId, '--max-objects', '3'), /max-objects 3/);
    assert.match(await run('qos', 'set', '--account', accountId, '--rps', '50'), new RegExp(`^account ${accountId}\trps 50\tup-bps unlimited\tdown-bps unlimited\n$`));
    assert.match(await run('qos', 'set', '--user', `arn:aws:iam::${accountId}:user/bob`, '--down-bps', '1000'), /down-bps 1000/);
    assert.match(await run('qos', 'clear', '--account', accountId), /no limits/);

    assert.match(await run('kms', 'create', '--alias', 'cli-key'), /\tEnabled\tv1\talias\/cli-key\tarn:aws:kms:/);
    assert.match(await run('kms', 'rotate', '--key', 'alias/cli-key'), /\tv2\t/);
    assert.match(await run('kms', 'disable', '--key', 'alias/cli-key'), /\tDisabled\t/);
    assert.match(await run('kms', 'list'), /alias\/cli-key/);
    assert.match(await run('tier', 'add', 'cli-tier', '--endpoint', 'http://127.0.0.1:1', '--bucket', 'cold', '--access-key', 'a', '--secret-key', 's3cr3t', '--storage-class', 'CLI_COLD'), /^cli-tier\thttp:\/\/127\.0\.0\.1:1\tcold\/\tus-east-1\ta\tsecret:sealed\tonline\tCLI_COLD\n$/);
    assert.match(await run('tier', 'list'), /^cli-tier\t/m);
    assert.match(await run('tier', 'remove', 'cli-tier'), /removed tier cli-tier/);
    assert.match(await run('remote', 'add', 'cli-remote', '--endpoint', 'http://127.0.0.1:2', '--access-key', 'a', '--secret-key', 's', '--buckets', 'x-dest'), /^cli-remote\t.*\tx-dest\n$/);
    assert.match(await run('remote', 'list'), /^cli-remote\t/m);
    assert.match(await run('remote', 'remove', 'cli-remote'), /removed remote/);
    assert.match(await run('target', 'add', '--name', 'cli-hook', '--type', 'webhook', '--endpoint', 'http://127.0.0.1:3/hook', '--token', 'never-printed'), /^arn:trove:sqs::cli-hook:webhook\twebhook\thttp:\/\/127\.0\.0\.1:3\/hook\ttoken=\(set\)\n$/);
    assert.doesNotMatch(await run('target', 'list'), /never-printed/);
    assert.match(await run('target', 'remove', '--name', 'cli-hook'), /removed cli-hook/);
    assert.match(await run('work'), /^total\s/m);
    assert.match(await run('replication', 'status'), /^bucket\s+rule/);

    // Tokens: created on the data directory (offline) or through the API, then used by the CLI.
    const store = ['--data-dir', server.dataDir, ...(process.env.TROVE_TEST_META === 'postgres' ? ['--meta', (await testMetaUrl(server.dataDir))!] : [])];
    const offline = await trove(['token', 'create', '--name', 'cli-offline', '--action', 'admin:ListAccounts', '--expires-in', '1h', ...store]);
    assert.equal(offline.code, 0, offline.stderr);
    const token = /^token (\S+)$/m.exec(offline.stdout)![1]!;
    const listed = await trove(['account', 'list', '--admin-url', server.url, '--admin-token', token]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(accountId));
    const refused = await trove(['kms', 'list', '--admin-url', server.url], { TROVE_ADMIN_TOKEN: token });
    assert.equal(refused.code, 3);
    assert.match(refused.stderr, /AccessDenied: admin token \w+ \(cli-offline\) is not authorized to perform admin:ListKmsKeys/);
    const viaApi = await run('token', 'create', '--name', 'cli-api', '--action', 'admin:Get*,admin:List*', '--expires-in', '10m');
    const id = /^([0-9a-f]{24})\tcli-api\t/m.exec(viaApi)![1]!;
    assert.match(await run('token', 'list'), new RegExp(`^${id}\tcli-api\texpires `, 'm'));
    assert.match(await run('token', 'revoke', '--id', id), /revoked/);
    // Environment credentials; a wrong secret is refused; commands without an API form say so.
    const env = await trove(['account', 'list'], { TROVE_ADMIN_URL: `http://127.0.0.1:${adminPort}`, AWS_ACCESS_KEY_ID: ACCESS_KEY, AWS_SECRET_ACCESS_KEY: SECRET_KEY });
    assert.equal(env.code, 0, env.stderr);
    const bad = await trove(['account', 'list', '--admin-url', server.url, '--admin-access-key', ACCESS_KEY, '--admin-secret-key', 'wrong']);
    assert.equal(bad.code, 3);
    assert.match(bad.stderr, /SignatureDoesNotMatch/);
    const offlineOnly = await trove(['kms', 'rotate-master', '--new-master-key-file', '/nonexistent', ...creds]);
    assert.equal(offlineOnly.code, 2);
    assert.match(offlineOnly.stderr, /works on the data directory only/);
  });

  it('records admin calls in the audit log, allowed and denied, with the caller', async () => {
    await ok('GET', '/health');
    await fails(403, 'AccessDenied', 'GET', '/health', undefined, { accessKeyId: tenant.accessKeyId, secretAccessKey: tenant.secretAccessKey });
    const lines = async () => (await fs.promises.readFile(path.join(auditDir, 'audit.jsonl'), 'utf8').catch(() => '')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
    let recs: any[] = [];
    for (let i = 0; i < 50 && !recs.some((r) => r.status === 403); i++) {
      await new Promise((r) => setTimeout(r, 100));
      recs = (await lines()).filter((r) => r.operation === 'admin:GetHealth');
    }
    const allowed = recs.find((r) => r.status === 200)!;
    assert.equal(allowed.decision, 'allow');
    assert.match(allowed.identity, /^arn:aws:iam::\d{12}:root$/);
    assert.equal(allowed.decisions[0].action, 'admin:GetHealth');
    assert.equal(allowed.decisions[0].resource, 'arn:trove:admin:::health');
    const denied = recs.find((r) => r.status === 403)!;
    assert.equal(denied.decision, 'deny');
    assert.equal(denied.account, tenant.accountId);
    assert.equal(denied.error, 'AccessDenied');
    assert.deepEqual(denied.decisions, [], "another account's identity is refused before any policy is read");
    await fails(403, 'AccessDenied', 'GET', '/health', undefined, { token: (await ok('POST', '/tokens', { name: 'narrow', actions: ['admin:GetUsage'] })).token });
    for (let i = 0; i < 50 && !(await lines()).some((r) => r.operation === 'admin:GetHealth' && r.identity?.startsWith('arn:trove:admin:::token/')); i++) await new Promise((r) => setTimeout(r, 100));
    const byToken = (await lines()).find((r) => r.operation === 'admin:GetHealth' && r.identity?.startsWith('arn:trove:admin:::token/'))!;
    assert.equal(byToken.decision, 'deny');
    assert.equal(byToken.decisions[0].decision, 'ImplicitDeny');
  });

  it('every documented operation was called successfully', () => {
    const documented = Object.entries<any>(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    const missing = documented.filter((k) => !covered.has(k));
    assert.deepEqual(missing, [], 'routes without a successful call in this file');
  });
});

