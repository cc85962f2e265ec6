// CORS: Put/Get/DeleteBucketCors with the SDK, preflight and actual requests with raw HTTP, every
// response to a request with Origin carrying the matching rule's headers (errors included), and
// the server-wide setting for the service endpoints.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  DeleteBucketCorsCommand,
  GetBucketCorsCommand,
  GetObjectCommand,
  PutBucketCorsCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ACCESS_KEY, SECRET_KEY, errorCode, raw, s3error, signer, startServer, uniqueBucket, type RawResponse, type TestServer } from './helpers.js';

const ORIGIN = 'https://app.example.com';
const VARY = 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method';

const RULES = [
  { ID: 'site', AllowedMethods: ['GET', 'PUT'], AllowedOrigins: ['https://*.example.com'], AllowedHeaders: ['x-amz-*', 'Content-Type'], ExposeHeaders: ['ETag', 'x-amz-version-id'], MaxAgeSeconds: 600 },
  { AllowedMethods: ['HEAD'], AllowedOrigins: ['*'] },
];

function cors(r: RawResponse): Record<string, string> {
  return Object.fromEntries(Object.entries(r.headers).filter(([n]) => n.startsWith('access-control-') || n === 'vary') as [string, string][]);
}

const SITE = {
  'access-control-allow-origin': ORIGIN,
  'access-control-allow-methods': 'GET, PUT',
  'access-control-expose-headers': 'ETag, x-amz-version-id',
  'access-control-max-age': '600',
  'access-control-allow-credentials': 'true',
  vary: VARY,
};
const EVERYONE = { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'HEAD', vary: VARY };

describe('CORS', () => {
  let server: TestServer;
  const bucket = uniqueBucket('cors');
  const plain = uniqueBucket('nocors');

  before(async () => {
    server = await startServer({ corsOrigins: ['https://console.example.net'] });
    await server.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await server.s3.send(new CreateBucketCommand({ Bucket: plain }));
    await server.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'public/key', Body: 'data' }));
    await server.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'private/key', Body: 'secret' }));
    await server.s3.send(
      new PutBucketPolicyCommand({
        Bucket: bucket,
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/public/*` }],
        }),
      }),
    );
  });
  after(() => server.stop());

  it('Put, Get and DeleteBucketCors round-trip the rules; Get without them is NoSuchCORSConfiguration', async () => {
    const missing = await s3error(server.s3.send(new GetBucketCorsCommand({ Bucket: bucket })));
    assert.equal(missing.name, 'NoSuchCORSConfiguration');
    assert.equal(missing.$metadata.httpStatusCode, 404);
    await server.s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: RULES } }));
    const got = await server.s3.send(new GetBucketCorsCommand({ Bucket: bucket }));
    assert.deepEqual(got.CORSRules, RULES);
    await server.s3.send(new DeleteBucketCorsCommand({ Bucket: bucket }));
    assert.equal((await s3error(server.s3.send(new GetBucketCorsCommand({ Bucket: bucket })))).name, 'NoSuchCORSConfiguration');
    // Deleting twice is fine.
    await server.s3.send(new DeleteBucketCorsCommand({ Bucket: bucket }));
    await server.s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: RULES } }));
  });

  it('validates rules as S3 does', async () => {
    const put = (body: string) => raw(server, { method: 'PUT', path: `/${bucket}-v`, query: { cors: '' }, body });
    await server.s3.send(new CreateBucketCommand({ Bucket: `${bucket}-v` }));
    const rule = (inner: string) => `<CORSConfiguration><CORSRule>${inner}</CORSRule></CORSConfiguration>`;
    const cases: [string, number, string, RegExp?][] = [
      ['', 400, 'MissingRequestBodyError'],
      ['<CORSConfiguration></CORSConfiguration>', 400, 'MalformedXML'],
      ['<CORSConfiguration><CORSRule>', 400, 'MalformedXML'],
      [rule('<AllowedOrigin>*</AllowedOrigin>'), 400, 'MalformedXML'],
      [rule('<AllowedMethod>GET</AllowedMethod>'), 400, 'MalformedXML'],
      [rule('<AllowedMethod>PATCH</AllowedMethod><AllowedOrigin>*</AllowedOrigin>'), 400, 'InvalidRequest', /Unsupported method is PATCH/],
      [rule('<AllowedMethod>get</AllowedMethod><AllowedOrigin>*</AllowedOrigin>'), 400, 'InvalidRequest'],
      [rule('<AllowedMethod>GET</AllowedMethod><AllowedOrigin>*.*.com</AllowedOrigin>'), 400, 'InvalidRequest', /AllowedOrigin &quot;\*\.\*\.com&quot; can not have more than one wildcard/],
      [rule('<AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin><AllowedHeader>x-*-*</AllowedHeader>'), 400, 'InvalidRequest', /AllowedHeader/],
      [rule('<AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin><MaxAgeSeconds>ten</MaxAgeSeconds>'), 400, 'MalformedXML'],
      [rule(`<ID>${'i'.repeat(256)}</ID><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin>`), 400, 'InvalidArgument'],
      [`<CORSConfiguration>${'<CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule>'.repeat(101)}</CORSConfiguration>`, 400, 'MalformedXML'],
    ];
    for (const [body, status, code, message] of cases) {
      const r = await put(body);
      assert.equal(r.status, status, `${body.slice(0, 80)}: ${r.text}`);
      assert.equal(errorCode(r.text), code, body.slice(0, 80));
      if (message) assert.match(r.text, message);
    }
    const ok = await put(`<CORSConfiguration>${'<CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule>'.repeat(100)}</CORSConfiguration>`);
    assert.equal(ok.status, 200, ok.text);
  });

  it('is authorised as s3:PutBucketCORS / s3:GetBucketCORS: anonymous callers are denied', async () => {
    const get = await raw(server, { method: 'GET', path: `/${bucket}`, query: { cors: '' }, sign: false });
    assert.equal(get.status, 403);
    assert.equal(errorCode(get.text), 'AccessDenied');
    const del = await raw(server, { method: 'DELETE', path: `/${bucket}`, query: { cors: '' }, sign: false });
    assert.equal(del.status, 403);
  });

  it('answers preflight requests from the first matching rule, anonymously', async () => {
    const preflight = (path: string, h: Record<string, string>) => raw(server, { method: 'OPTIONS', path, headers: h, sign: false });
    const key = `/${bucket}/public/key`;
    const forbidden = (message: RegExp, method: string, type: string) => ({ status: 403, code: 'AccessForbidden', message, method, type });
    const cases: [string, Record<string, string>, { status: number; headers?: Record<string, string>; code?: string; message?: RegExp; method?: string; type?: string }][] = [
      [`/${bucket}`, { origin: ORIGIN, 'access-control-request-method': 'GET' }, { status: 200, headers: SITE }],
      [key, { origin: ORIGIN, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'Content-Type, X-Amz-Meta-Name' }, { status: 200, headers: { ...SITE, 'access-control-allow-headers': 'content-type, x-amz-meta-name' } }],
      [`/${bucket}/no/such/key`, { origin: 'null', 'access-control-request-method': 'HEAD' }, { status: 200, headers: EVERYONE }],
      [key, { origin: ORIGIN, 'access-control-request-method': 'DELETE' }, forbidden(/This CORS request is not allowed. This is usually because the evalution of Origin/, 'DELETE', 'OBJECT')],
      [`/${bucket}`, { origin: 'https://example.org', 'access-control-request-method': 'GET' }, forbidden(/not allowed/, 'GET', 'BUCKET')],
      [key, { origin: 'https://app.example.com.evil.org', 'access-control-request-method': 'GET' }, forbidden(/not allowed/, 'GET', 'OBJECT')],
      [key, { origin: ORIGIN, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' }, forbidden(/not allowed/, 'GET', 'OBJECT')],
      // Without rules, or without a bucket, S3 answers for the bucket, before looking at the method.
      [`/${plain}/key`, { origin: ORIGIN, 'access-control-request-method': 'GET' }, forbidden(/CORS is not enabled for this bucket/, 'GET', 'BUCKET')],
      [`/${plain}/key`, { origin: ORIGIN }, forbidden(/CORS is not enabled for this bucket/, 'OPTIONS', 'BUCKET')],
      [`/${plain}-missing/key`, { origin: ORIGIN, 'access-control-request-method': 'GET' }, forbidden(/Bucket not found/, 'GET', 'BUCKET')],
      [`/${plain}-missing`, { origin: ORIGIN }, forbidden(/Bucket not found/, 'OPTIONS', 'BUCKET')],
      [`/${plain}/key`, {}, { status: 400, code: 'BadRequest', message: /Origin request header needed/ }],
      [key, { 'access-control-request-method': 'GET' }, { status: 400, code: 'BadRequest', message: /Insufficient information. Origin request header needed./ }],
      [key, { origin: ORIGIN }, { status: 400, code: 'BadRequest', message: /Invalid Access-Control-Request-Method: null/ }],
      [key, { origin: ORIGIN, 'access-control-request-method': 'PATCH' }, { status: 400, code: 'BadRequest', message: /Invalid Access-Control-Request-Method: PATCH/ }],
    ];
    for (const [path, h, want] of cases) {
      const r = await preflight(path, h);
      const label = `${path} ${JSON.stringify(h)}`;
      assert.equal(r.status, want.status, `${label}: ${r.text}`);
      assert.deepEqual(cors(r), want.headers ?? {}, label);
      if (want.code) {
        assert.equal(errorCode(r.text), want.code, label);
        assert.match(r.text, want.message!);
        if (want.method) assert.match(r.text, new RegExp(`<Method>${want.method}</Method><ResourceType>${want.type}</ResourceType>`));
      } else assert.equal(r.text, '');
    }
  });

  it('a preflight with a presigned URL is still answered anonymously', async () => {
    const url = new URL(await getSignedUrl(server.s3, new PutObjectCommand({ Bucket: bucket, Key: 'up' }), { expiresIn: 60 }));
    const r = await raw(server, { method: 'OPTIONS', path: url.pathname, query: Object.fromEntries(url.searchParams), headers: { origin: ORIGIN, 'access-control-request-method': 'PUT' }, sign: false });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers['access-control-allow-origin'], ORIGIN);
  });

  it('every response to a request with Origin carries the rule headers, errors included, for every auth form', async () => {
    const key = `/${bucket}/public/key`;
    const anon = (method: string, path: string, h: Record<string, string>) => raw(server, { method, path, headers: h, sign: false });
    const signed = (method: string, path: string, h: Record<string, string>, extra = {}) => raw(server, { method, path, headers: h, ...extra });
    const cases: [string, Promise<RawResponse>, number, Record<string, string>, string?][] = [
      ['anonymous GET', anon('GET', key, { origin: ORIGIN }), 200, SITE],
      ['anonymous HEAD from any origin', anon('HEAD', key, { origin: 'https://example.org' }), 200, EVERYONE],
      ['anonymous GET from an origin no rule allows', anon('GET', key, { origin: 'https://example.org' }), 200, {}],
      ['no Origin, no CORS headers', anon('GET', key, {}), 200, {}],
      ['AccessDenied', anon('GET', `/${bucket}/private/key`, { origin: ORIGIN }), 403, SITE, 'AccessDenied'],
      ['anonymous PUT: AccessDenied', anon('PUT', `/${bucket}/public/new`, { origin: ORIGIN }), 403, SITE, 'AccessDenied'],
      ['a method no rule allows', anon('DELETE', key, { origin: ORIGIN }), 403, {}, 'AccessDenied'],
      // S3 takes the method from Access-Control-Request-Method when a request has it.
      ['Access-Control-Request-Method on an actual request', anon('DELETE', key, { origin: ORIGIN, 'access-control-request-method': 'GET' }), 403, SITE, 'AccessDenied'],
      // Likewise Access-Control-Request-Headers; the request's real headers are not checked.
      ['Access-Control-Request-Headers no rule allows', anon('GET', key, { origin: ORIGIN, 'access-control-request-headers': 'x-other' }), 200, {}],
      ['Access-Control-Request-Headers a rule allows', anon('GET', key, { origin: ORIGIN, 'access-control-request-headers': 'x-amz-meta-a' }), 200, SITE],
      ['a real header no rule names', anon('GET', key, { origin: ORIGIN, 'x-other': '1' }), 200, SITE],
      ['signed GET of a missing key: NoSuchKey', signed('GET', `/${bucket}/missing`, { origin: ORIGIN }), 404, SITE, 'NoSuchKey'],
      ['signed GET with If-None-Match: 304', signed('GET', key, { origin: ORIGIN, 'if-none-match': '"8d777f385d3dfec8815d20f7496026dc"' }), 304, SITE],
      ['signed GET with If-Match: 412', signed('GET', key, { origin: ORIGIN, 'if-match': '"nope"' }), 412, SITE, 'PreconditionFailed'],
      ['a bad signature', signed('GET', key, { origin: ORIGIN }, { secretAccessKey: 'wrong-secret-key-0000000000000000' }), 403, SITE, 'SignatureDoesNotMatch'],
      ['a bucket without CORS', signed('GET', `/${plain}`, { origin: ORIGIN }), 200, {}],
      ['a missing bucket', anon('GET', `/${plain}-missing/key`, { origin: ORIGIN }), 404, {}, 'NoSuchBucket'],
    ];
    for (const [label, p, status, headers, code] of cases) {
      const r = await p;
      assert.equal(r.status, status, `${label}: ${r.text}`);
      assert.deepEqual(cors(r), headers, label);
      if (code) assert.equal(errorCode(r.text), code, label);
    }
    // Presigned URLs (what a browser page uses): a PUT, then a GET exposing the ETag.
    const put = new URL(await getSignedUrl(server.s3, new PutObjectCommand({ Bucket: bucket, Key: 'presigned' }), { expiresIn: 60 }));
    const r1 = await raw(server, { method: 'PUT', path: put.pathname, query: Object.fromEntries(put.searchParams), headers: { origin: ORIGIN }, body: 'hello', sign: false });
    assert.equal(r1.status, 200, r1.text);
    assert.deepEqual(cors(r1), SITE);
    const get = new URL(await getSignedUrl(server.s3, new GetObjectCommand({ Bucket: bucket, Key: 'presigned' }), { expiresIn: 60 }));
    const r2 = await raw(server, { method: 'GET', path: get.pathname, query: Object.fromEntries(get.searchParams), headers: { origin: ORIGIN }, sign: false });
    assert.equal(r2.text, 'hello');
    assert.deepEqual(cors(r2), SITE);
    assert.equal(r2.headers.etag, r1.headers.etag);
  });

  it('a change of rules is seen at once', async () => {
    const b = `${bucket}-live`;
    await server.s3.send(new CreateBucketCommand({ Bucket: b }));
    const probe = () => raw(server, { method: 'OPTIONS', path: `/${b}/k`, headers: { origin: ORIGIN, 'access-control-request-method': 'GET' }, sign: false });
    assert.equal((await probe()).status, 403);
    await server.s3.send(new PutBucketCorsCommand({ Bucket: b, CORSConfiguration: { CORSRules: [{ AllowedMethods: ['GET'], AllowedOrigins: [ORIGIN] }] } }));
    assert.equal((await probe()).status, 200);
    await server.s3.send(new DeleteBucketCorsCommand({ Bucket: b }));
    assert.equal((await probe()).status, 403);
  });

  it('the service endpoints follow the server-wide setting (--cors-origins)', async () => {
    const console_ = 'https://console.example.net';
    const pre = await raw(server, { method: 'OPTIONS', path: '/', headers: { origin: console_, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, x-amz-date, content-type' }, sign: false });
    assert.equal(pre.status, 200, pre.text);
    assert.equal(pre.headers['access-control-allow-origin'], console_);
    assert.equal(pre.headers['access-control-allow-headers'], 'authorization, x-amz-date, content-type');
    const other = await raw(server, { method: 'OPTIONS', path: '/', headers: { origin: ORIGIN, 'access-control-request-method': 'GET' }, sign: false });
    assert.equal(other.status, 403);
    // ListBuckets, signed and not.
    const list = await raw(server, { method: 'GET', path: '/', headers: { origin: console_ } });
    assert.equal(list.status, 200);
    assert.equal(list.headers['access-control-allow-origin'], console_);
    assert.match(String(list.headers['access-control-expose-headers']), /ETag/);
    const denied = await raw(server, { method: 'GET', path: '/', headers: { origin: console_ }, sign: false });
    assert.equal(denied.status, 403);
    assert.equal(denied.headers['access-control-allow-origin'], console_);
    // An IAM request (query protocol, POST /, signed for service iam).
    const body = 'Action=ListUsers&Version=2010-05-08';
    const headers = { host: `127.0.0.1:${server.port}`, 'content-type': 'application/x-www-form-urlencoded', origin: console_ };
    const req = await signer(ACCESS_KEY, SECRET_KEY, 'iam').sign({ method: 'POST', protocol: 'http:', hostname: '127.0.0.1', port: server.port, path: '/', query: {}, headers, body });
    const iam = await fetch(`${server.url}/`, { method: 'POST', headers: req.headers, body });
    assert.equal(iam.status, 200, await iam.text());
    assert.equal(iam.headers.get('access-control-allow-origin'), console_);
    // A bucket does not inherit the server-wide setting.
    const r = await raw(server, { method: 'GET', path: `/${plain}`, headers: { origin: console_ } });
    assert.equal(r.headers['access-control-allow-origin'], undefined);
  });

  it('a server without --cors-origins answers service preflights 403', async () => {
    const s = await startServer();
    try {
      const r = await raw(s, { method: 'OPTIONS', path: '/', headers: { origin: ORIGIN, 'access-control-request-method': 'GET' }, sign: false });
      assert.equal(r.status, 403);
      assert.equal(errorCode(r.text), 'AccessForbidden');
      const list = await raw(s, { method: 'GET', path: '/', headers: { origin: ORIGIN } });
      assert.equal(list.headers['access-control-allow-origin'], undefined);
    } finally {
      await s.stop();
    }
  });
});
