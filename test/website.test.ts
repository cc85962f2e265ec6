// Static website hosting: Put/Get/DeleteBucketWebsite with the SDK and raw XML, and the website
// endpoints (virtual-hosted <bucket>.<website-domain> on the S3 listener, path-style on the
// website listener) with raw HTTP: index documents, directory redirects, routing rules, object
// redirects, error documents, HTML error pages, anonymous access only.

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketWebsiteCommand,
  GetBucketWebsiteCommand,
  HeadObjectCommand,
  PutBucketCorsCommand,
  PutBucketPolicyCommand,
  PutBucketWebsiteCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { errorCode, raw, s3error, startServer, uniqueBucket, type TestServer } from './helpers.js';

const DOMAIN = 'site.test';

interface Got {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** A website request to `base` (the S3 listener with a Host, or the website listener). */
function get(base: string, path: string, opts: { method?: string; host?: string; headers?: Record<string, string> } = {}): Promise<Got> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method: opts.method ?? 'GET', path, agent: false, headers: { ...(opts.host ? { host: opts.host } : {}), ...opts.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Everyone may read the objects and list the bucket (without s3:ListBucket, a missing page is a 403, as on S3). */
function publicRead(bucket: string, deny?: string, list = true): string {
  const statements: unknown[] = [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }];
  if (list) statements.push({ Effect: 'Allow', Principal: '*', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${bucket}` });
  if (deny) statements.push({ Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/${deny}` });
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

describe('static website hosting', () => {
  let server: TestServer;
  let site: string;
  const bucket = uniqueBucket('site');
  const host = `${bucket}.${DOMAIN}`;

  before(async () => {
    server = await startServer({ websiteDomains: [DOMAIN], websiteAddress: { host: '127.0.0.1', port: 0 } });
    site = server.trove.websiteUrl!;
    const s3 = server.s3;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const html = (Key: string, Body: string, extra = {}) => s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body, ContentType: 'text/html', ...extra }));
    await html('index.html', '<h1>home</h1>');
    await html('docs/index.html', '<h1>docs</h1>');
    await html('error.html', '<h1>custom error</h1>');
    await html('new/page.html', '<h1>new page</h1>');
    await html('moved.html', 'moved', { WebsiteRedirectLocation: '/new/page.html' });
    await html('private/secret.html', 'secret');
    await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: publicRead(bucket, 'private/*') }));
    await s3.send(
      new PutBucketWebsiteCommand({
        Bucket: bucket,
        WebsiteConfiguration: {
          IndexDocument: { Suffix: 'index.html' },
          ErrorDocument: { Key: 'error.html' },
          RoutingRules: [
            { Condition: { KeyPrefixEquals: 'old/' }, Redirect: { ReplaceKeyPrefixWith: 'new/' } },
            { Condition: { KeyPrefixEquals: 'gone/', HttpErrorCodeReturnedEquals: '404' }, Redirect: { HostName: 'archive.example.com', Protocol: 'https', HttpRedirectCode: '302' } },
          ],
        },
      }),
    );
  });
  after(() => server.stop());

  it('Put, Get and DeleteBucketWebsite round-trip the configuration', async () => {
    const b = `${bucket}-cfg`;
    await server.s3.send(new CreateBucketCommand({ Bucket: b }));
    assert.equal((await s3error(server.s3.send(new GetBucketWebsiteCommand({ Bucket: b })))).name, 'NoSuchWebsiteConfiguration');
    const config = {
      IndexDocument: { Suffix: 'index.html' },
      ErrorDocument: { Key: '404.html' },
      RoutingRules: [
        { Condition: { HttpErrorCodeReturnedEquals: '404', KeyPrefixEquals: 'a/' }, Redirect: { HostName: 'h.example', HttpRedirectCode: '307', Protocol: 'https' as const, ReplaceKeyWith: 'x.html' } },
        { Redirect: { ReplaceKeyPrefixWith: 'b/' } },
      ],
    };
    await server.s3.send(new PutBucketWebsiteCommand({ Bucket: b, WebsiteConfiguration: config }));
    const got = await server.s3.send(new GetBucketWebsiteCommand({ Bucket: b }));
    assert.deepEqual({ IndexDocument: got.IndexDocument, ErrorDocument: got.ErrorDocument, RoutingRules: got.RoutingRules }, config);
    await server.s3.send(new PutBucketWebsiteCommand({ Bucket: b, WebsiteConfiguration: { RedirectAllRequestsTo: { HostName: 'example.org', Protocol: 'https' } } }));
    assert.deepEqual((await server.s3.send(new GetBucketWebsiteCommand({ Bucket: b }))).RedirectAllRequestsTo, { HostName: 'example.org', Protocol: 'https' });
    await server.s3.send(new DeleteBucketWebsiteCommand({ Bucket: b }));
    assert.equal((await s3error(server.s3.send(new GetBucketWebsiteCommand({ Bucket: b })))).name, 'NoSuchWebsiteConfiguration');
    // Anonymous callers may not read or change it.
    const anon = await raw(server, { method: 'GET', path: `/${bucket}`, query: { website: '' }, sign: false });
    assert.equal(anon.status, 403);
  });

  it('validates configurations as S3 does', async () => {
    const put = (inner: string) => raw(server, { method: 'PUT', path: `/${bucket}-cfg`, query: { website: '' }, body: `<WebsiteConfiguration>${inner}</WebsiteConfiguration>` });
    const idx = '<IndexDocument><Suffix>index.html</Suffix></IndexDocument>';
    const rule = (inner: string) => `${idx}<RoutingRules><RoutingRule>${inner}</RoutingRule></RoutingRules>`;
    const cases: [string, string, RegExp][] = [
      ['', 'InvalidArgument', /IndexDocument Suffix must be provided.*<ArgumentName>IndexDocument<\/ArgumentName><ArgumentValue>null<\/ArgumentValue>/],
      ['<IndexDocument><Suffix></Suffix></IndexDocument>', 'InvalidArgument', /Suffix is not well formed/],
      ['<IndexDocument><Suffix>a/index.html</Suffix></IndexDocument>', 'InvalidArgument', /Suffix is not well formed.*<ArgumentValue>a\/index.html<\/ArgumentValue>/],
      ['<ErrorDocument><Key>e.html</Key></ErrorDocument>', 'InvalidArgument', /IndexDocument Suffix must be provided/],
      [`${idx}<ErrorDocument><Key></Key></ErrorDocument>`, 'MalformedXML', /./],
      [`<RedirectAllRequestsTo><HostName>x</HostName></RedirectAllRequestsTo>${idx}`, 'InvalidArgument', /in conjunction.*<ArgumentName>RedirectAllRequestsTo<\/ArgumentName>/],
      ['<RedirectAllRequestsTo><HostName>x</HostName><Protocol>ftp</Protocol></RedirectAllRequestsTo>', 'InvalidRequest', /Invalid protocol, protocol can be http or https/],
      ['<RedirectAllRequestsTo><Protocol>https</Protocol></RedirectAllRequestsTo>', 'MalformedXML', /./],
      [rule('<Redirect><ReplaceKeyWith>a</ReplaceKeyWith><ReplaceKeyPrefixWith>b</ReplaceKeyPrefixWith></Redirect>'), 'InvalidRequest', /You can only define ReplaceKeyPrefix or ReplaceKey but not both./],
      [rule('<Redirect><HttpRedirectCode>300</HttpRedirectCode></Redirect>'), 'InvalidRequest', /The provided HTTP redirect code \(300\) is not valid. Valid codes are 3XX except 300./],
      [rule('<Redirect><Protocol>ftp</Protocol></Redirect>'), 'InvalidRequest', /Invalid protocol/],
      [rule('<Condition><HttpErrorCodeReturnedEquals>302</HttpErrorCodeReturnedEquals></Condition><Redirect><HostName>x</HostName></Redirect>'), 'InvalidRequest', /The provided HTTP error code \(302\) is not valid. Valid codes are 4XX or 5XX./],
      [rule('<Condition></Condition><Redirect><HostName>x</HostName></Redirect>'), 'InvalidRequest', /Condition cannot be empty/],
      [rule('<Condition><KeyPrefixEquals>a</KeyPrefixEquals></Condition>'), 'MalformedXML', /./],
      [`${idx}<RoutingRules>${'<RoutingRule><Redirect><HostName>x</HostName></Redirect></RoutingRule>'.repeat(51)}</RoutingRules>`, 'InvalidRequest', /51 routing rules provided, the number of routing rules in a website configuration is limited to 50./],
    ];
    for (const [body, code, message] of cases) {
      const r = await put(body);
      assert.equal(r.status, 400, `${body}: ${r.text}`);
      assert.equal(errorCode(r.text), code, body);
      assert.match(r.text, message, body);
    }
  });

  it('serves index documents, directory redirects and the error document on <bucket>.<website-domain>', async () => {
    const g = (path: string, method = 'GET', headers: Record<string, string> = {}) => get(server.url, path, { host, method, headers });
    const home = await g('/');
    assert.equal(home.status, 200);
    assert.equal(home.text, '<h1>home</h1>');
    assert.equal(home.headers['content-type'], 'text/html');
    assert.equal((await g('/docs/')).text, '<h1>docs</h1>');
    const dir = await g('/docs');
    assert.equal(dir.status, 302);
    assert.equal(dir.headers.location, '/docs/');
    const missing = await g('/nope.html');
    assert.equal(missing.status, 404);
    assert.equal(missing.text, '<h1>custom error</h1>');
    assert.equal(missing.headers['x-amz-error-code'], 'NoSuchKey');
    assert.equal(missing.headers['x-amz-error-detail-key'], 'nope.html');
    const head = await g('/nope.html', 'HEAD');
    assert.equal(head.status, 404);
    assert.equal(head.text, '');
    // Denied content: 403 with the error document too.
    const denied = await g('/private/secret.html');
    assert.equal(denied.status, 403);
    assert.equal(denied.text, '<h1>custom error</h1>');
    // Ranges and conditions are those of GetObject.
    const range = await g('/index.html', 'GET', { range: 'bytes=4-7' });
    assert.equal(range.status, 206);
    assert.equal(range.text, 'home');
    const etag = home.headers.etag!;
    assert.equal((await g('/', 'GET', { 'if-none-match': etag })).status, 304);
    // Credentials are not looked at: a website request is anonymous.
    assert.equal((await g('/', 'GET', { authorization: 'AWS4-HMAC-SHA256 Credential=nobody/20200101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00' })).status, 200);
  });

  it('follows routing rules and object redirects', async () => {
    const g = (path: string) => get(server.url, path, { host });
    const old = await g('/old/page.html');
    assert.equal(old.status, 301);
    assert.equal(old.headers.location, `http://${host}/new/page.html`);
    const gone = await g('/gone/thing.html');
    assert.equal(gone.status, 302);
    assert.equal(gone.headers.location, 'https://archive.example.com/gone/thing.html');
    const moved = await g('/moved.html');
    assert.equal(moved.status, 301);
    assert.equal(moved.headers.location, '/new/page.html');
    // The examples of S3's documentation (as the Ceph suite's website tests use them).
    const b = `${bucket}-rules`;
    await server.s3.send(new CreateBucketCommand({ Bucket: b }));
    await server.s3.send(new PutBucketPolicyCommand({ Bucket: b, Policy: publicRead(b) }));
    await server.s3.send(new PutObjectCommand({ Bucket: b, Key: 'index.html', Body: 'home' }));
    await server.s3.send(
      new PutBucketWebsiteCommand({
        Bucket: b,
        WebsiteConfiguration: {
          IndexDocument: { Suffix: 'index.html' },
          RoutingRules: [
            { Condition: { KeyPrefixEquals: 'images/' }, Redirect: { ReplaceKeyWith: 'folderdeleted.html', HttpRedirectCode: '307' } },
            { Condition: { HttpErrorCodeReturnedEquals: '404' }, Redirect: { HostName: 'ec2-11-22-333-44.compute-1.amazonaws.com', ReplaceKeyPrefixWith: 'report-404/' } },
          ],
        },
      }),
    );
    const h = `${b}.${DOMAIN}`;
    const cases: [string, number, string | undefined][] = [
      ['/', 200, undefined],
      ['/images/', 307, `http://${h}/folderdeleted.html`],
      ['/images/x', 307, `http://${h}/folderdeleted.html`],
      ['/x', 301, 'http://ec2-11-22-333-44.compute-1.amazonaws.com/report-404/x'],
      ['/docs/a b.html', 301, 'http://ec2-11-22-333-44.compute-1.amazonaws.com/report-404/docs/a%20b.html'],
    ];
    for (const [path, status, location] of cases) {
      const r = await get(server.url, encodeURI(path), { host: h });
      assert.equal(r.status, status, path);
      assert.equal(r.headers.location, location, path);
      if (status !== 200) assert.equal(r.text, '', path);
    }
  });

  it('answers HTML error pages, GET and HEAD only', async () => {
    const put = await get(server.url, '/index.html', { host, method: 'PUT' });
    assert.equal(put.status, 405);
    assert.match(String(put.headers['content-type']), /^text\/html/);
    assert.match(put.text, /<h1>405 Method Not Allowed<\/h1>/);
    assert.match(put.text, /<li>Code: MethodNotAllowed<\/li>/);
    const noBucket = await get(server.url, '/', { host: `${bucket}-none.${DOMAIN}` });
    assert.equal(noBucket.status, 404);
    assert.match(noBucket.text, /<li>Code: NoSuchBucket<\/li>/);
    assert.match(noBucket.text, new RegExp(`<li>BucketName: ${bucket}-none</li>`));
    const plain = `${bucket}-plain`;
    await server.s3.send(new CreateBucketCommand({ Bucket: plain }));
    const noConfig = await get(server.url, '/', { host: `${plain}.${DOMAIN}` });
    assert.equal(noConfig.status, 404);
    assert.match(noConfig.text, /<li>Code: NoSuchWebsiteConfiguration<\/li>/);
    // A website that is not public: 403 Forbidden, and the error document cannot be read either.
    await server.s3.send(new PutObjectCommand({ Bucket: plain, Key: 'index.html', Body: 'x' }));
    await server.s3.send(new PutBucketWebsiteCommand({ Bucket: plain, WebsiteConfiguration: { IndexDocument: { Suffix: 'index.html' }, ErrorDocument: { Key: 'error.html' } } }));
    const closed = await get(server.url, '/', { host: `${plain}.${DOMAIN}` });
    assert.equal(closed.status, 403);
    assert.match(closed.text, /<title>403 Forbidden<\/title>/);
    assert.match(closed.text, /<li>Code: AccessDenied<\/li>/);
    assert.match(closed.text, /An Error Occurred While Attempting to Retrieve a Custom Error Document/);
    assert.equal(closed.headers['x-amz-error-code'], 'AccessDenied');
    assert.equal(closed.headers['x-amz-error-message'], 'Access Denied');
    // The S3 API itself is untouched on the same listener.
    const api = await raw(server, { method: 'GET', path: `/${bucket}/index.html` });
    assert.equal(api.text, '<h1>home</h1>');
  });

  it('names the key looked up in a 404 page; answers CORS preflights and Origin by the bucket rules', async () => {
    const b = `${bucket}-bare`;
    await server.s3.send(new CreateBucketCommand({ Bucket: b }));
    await server.s3.send(new PutBucketPolicyCommand({ Bucket: b, Policy: publicRead(b) }));
    await server.s3.send(new PutBucketWebsiteCommand({ Bucket: b, WebsiteConfiguration: { IndexDocument: { Suffix: 'index.html' } } }));
    const missing = await get(site, `/${b}/dir/`);
    assert.equal(missing.status, 404);
    // Without s3:ListBucket for everyone, S3 hides which keys exist: 403.
    await server.s3.send(new PutBucketPolicyCommand({ Bucket: b, Policy: publicRead(b, undefined, false) }));
    const hidden = await get(site, `/${b}/dir/`);
    assert.equal(hidden.status, 403);
    assert.match(hidden.text, /<li>Code: AccessDenied<\/li>/);
    await server.s3.send(new PutBucketPolicyCommand({ Bucket: b, Policy: publicRead(b) }));
    assert.match(missing.text, /<title>404 Not Found<\/title>/);
    assert.match(missing.text, /<li>Code: NoSuchKey<\/li>\n<li>Message: The specified key does not exist.<\/li>\n<li>Key: dir\/index.html<\/li>/);
    const origin = 'https://app.example.com';
    const pre = () => get(site, `/${b}/x`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'GET' } });
    assert.equal((await pre()).status, 403);
    await server.s3.send(new PutBucketCorsCommand({ Bucket: b, CORSConfiguration: { CORSRules: [{ AllowedOrigins: [origin], AllowedMethods: ['GET'] }] } }));
    const ok = await pre();
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['access-control-allow-origin'], origin);
    const actual = await get(site, `/${b}/dir/`, { headers: { origin } });
    assert.equal(actual.status, 404);
    assert.equal(actual.headers['access-control-allow-origin'], origin);
  });

  it('serves path-style on the website listener', async () => {
    assert.equal((await get(site, `/${bucket}/`)).text, '<h1>home</h1>');
    assert.equal((await get(site, `/${bucket}/docs/`)).text, '<h1>docs</h1>');
    const dir = await get(site, `/${bucket}/docs`);
    assert.equal(dir.status, 302);
    assert.equal(dir.headers.location, `/${bucket}/docs/`);
    const old = await get(site, `/${bucket}/old/page.html`, { host: 'localhost:1234' });
    assert.equal(old.headers.location, `http://localhost:1234/${bucket}/new/page.html`);
    assert.equal((await get(site, `/${bucket}/missing`)).text, '<h1>custom error</h1>');
    const post = await get(site, `/${bucket}/`, { method: 'POST' });
    assert.equal(post.status, 405);
  });

  it('redirects every request with RedirectAllRequestsTo', async () => {
    const b = `${bucket}-all`;
    await server.s3.send(new CreateBucketCommand({ Bucket: b }));
    await server.s3.send(new PutBucketWebsiteCommand({ Bucket: b, WebsiteConfiguration: { RedirectAllRequestsTo: { HostName: 'www.example.org', Protocol: 'https' } } }));
    const r = await get(site, `/${b}/some/page.html`);
    assert.equal(r.status, 301);
    assert.equal(r.headers.location, 'https://www.example.org/some/page.html');
  });

  it('stores x-amz-website-redirect-location on PutObject, CopyObject and CreateMultipartUpload', async () => {
    const s3 = server.s3;
    const head = async (Key: string) => (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key }))).WebsiteRedirectLocation;
    assert.equal(await head('moved.html'), '/new/page.html');
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copied.html', CopySource: `${bucket}/index.html`, MetadataDirective: 'REPLACE', WebsiteRedirectLocation: '/docs/' }));
    assert.equal(await head('copied.html'), '/docs/');
    const mpu = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mpu.html', WebsiteRedirectLocation: 'https://example.com/' }));
    const part = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mpu.html', UploadId: mpu.UploadId, PartNumber: 1, Body: 'x' }));
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'mpu.html', UploadId: mpu.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
    assert.equal(await head('mpu.html'), 'https://example.com/');
    // A COPY keeps the source's metadata but not its redirect location, which is the request's.
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'moved-copy.html', CopySource: `${bucket}/moved.html` }));
    assert.equal(await head('moved-copy.html'), undefined);
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'moved-copy.html', CopySource: `${bucket}/moved.html`, WebsiteRedirectLocation: '/docs/' }));
    assert.equal(await head('moved-copy.html'), '/docs/');
    // A location must be a path or an http(s) URL.
    for (const bad of ['docs/', 'ftp://example.com/', '/' + 'x'.repeat(2048)]) {
      const e = await s3error(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'bad.html', Body: 'x', WebsiteRedirectLocation: bad })));
      assert.equal(e.name, 'InvalidRedirectLocation', bad.slice(0, 20));
    }
    assert.equal((await s3error(s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'bad.html', WebsiteRedirectLocation: 'nope' })))).name, 'InvalidRedirectLocation');
    const r = await get(server.url, '/mpu.html', { host });
    assert.equal(r.status, 301);
    assert.equal(r.headers.location, 'https://example.com/');
  });
});
