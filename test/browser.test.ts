// A real browser (headless Chromium) on pages served from other origins, talking to Trove as web
// applications do: fetch() through presigned URLs (preflight included), an exposed header read
// from script, and an origin the bucket's rules do not allow, refused by the browser itself.
// A CORS error in the browser's log fails a test unless the test expects it.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, PutBucketCorsCommand, PutBucketPolicyCommand, PutBucketWebsiteCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { bodyBytes, startServer, uniqueBucket, type TestServer } from './helpers.js';
import { launchBrowser, servePages, type BrowserHarness, type PageServer } from './support/browser.js';

const APP = `<!doctype html><html><head><meta charset="utf-8"><title>app</title></head><body>
<script>
  // What a web application does with presigned URLs its backend handed it.
  window.upload = async (putUrl, getUrl, text) => {
    const put = await fetch(putUrl, { method: 'PUT', body: text, headers: { 'Content-Type': 'text/plain' } });
    const get = await fetch(getUrl);
    return { putStatus: put.status, putEtag: put.headers.get('ETag'), getStatus: get.status, getEtag: get.headers.get('ETag'), body: await get.text(),
             hidden: get.headers.get('x-amz-request-id') };
  };
  window.tryGet = async (url) => {
    try { const r = await fetch(url); return { status: r.status, body: await r.text() }; }
    catch (e) { return { error: String(e) }; }
  };
</script></body></html>`;

describe('a browser on another origin', () => {
  let server: TestServer;
  let browser: BrowserHarness;
  let allowed: PageServer;
  let other: PageServer;
  const bucket = uniqueBucket('browser');

  before(async () => {
    [server, browser, allowed, other] = await Promise.all([startServer(), launchBrowser(), servePages({ '/': APP }), servePages({ '/': APP })]);
    await server.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await server.s3.send(
      new PutBucketCorsCommand({
        Bucket: bucket,
        CORSConfiguration: { CORSRules: [{ AllowedOrigins: [allowed.origin], AllowedMethods: ['GET', 'PUT'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag'], MaxAgeSeconds: 60 }] },
      }),
    );
  });
  after(async () => {
    await Promise.all([browser?.close(), allowed?.close(), other?.close(), server?.stop()]);
  });

  it('PUTs and GETs through presigned URLs with fetch (preflight included) and reads the exposed ETag', async () => {
    const p = await browser.newPage();
    await p.page.goto(allowed.origin + '/');
    const putUrl = await getSignedUrl(server.s3, new PutObjectCommand({ Bucket: bucket, Key: 'from-the-browser.txt' }), { expiresIn: 300 });
    const getUrl = await getSignedUrl(server.s3, new GetObjectCommand({ Bucket: bucket, Key: 'from-the-browser.txt' }), { expiresIn: 300 });
    const r = await p.page.evaluate(([a, b]) => (globalThis as unknown as { upload(a: string, b: string, t: string): Promise<unknown> }).upload(a!, b!, 'hello from the browser'), [putUrl, getUrl]);
    assert.deepEqual(p.corsErrors(), []);
    const got = await server.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'from-the-browser.txt' }));
    assert.equal((await bodyBytes(got.Body)).toString(), 'hello from the browser');
    assert.deepEqual(r, {
      putStatus: 200,
      putEtag: got.ETag,
      getStatus: 200,
      getEtag: got.ETag,
      body: 'hello from the browser',
      // Not in ExposeHeaders: the browser hides it from script.
      hidden: null,
    });
  });

  it('a page on an origin the rules do not allow is refused by the browser', async () => {
    await server.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x' }));
    const getUrl = await getSignedUrl(server.s3, new GetObjectCommand({ Bucket: bucket, Key: 'k' }), { expiresIn: 300 });
    const putUrl = await getSignedUrl(server.s3, new PutObjectCommand({ Bucket: bucket, Key: 'intruder' }), { expiresIn: 300 });
    const p = await browser.newPage();
    await p.page.goto(other.origin + '/');
    const r = (await p.page.evaluate(([a, b]) => (globalThis as unknown as { upload(a: string, b: string, t: string): Promise<unknown> }).upload(a!, b!, 'nope').catch((e: unknown) => ({ error: String(e) })), [putUrl, getUrl])) as { error?: string };
    assert.match(String(r.error), /Failed to fetch/);
    const g = (await p.page.evaluate((u) => (globalThis as unknown as { tryGet(u: string): Promise<unknown> }).tryGet(u), getUrl)) as { error?: string };
    assert.match(String(g.error), /Failed to fetch/);
    assert.ok((await p.waitForCorsErrors()).length >= 1, JSON.stringify(p.log));
    // The preflight refused the PUT: nothing was written.
    await assert.rejects(server.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'intruder' })), { name: 'NoSuchKey' });
  });
});

describe('a browser on a website bucket', () => {
  let server: TestServer;
  let browser: BrowserHarness;
  const bucket = uniqueBucket('www');
  const DOMAIN = 'site.test';

  before(async () => {
    [server, browser] = await Promise.all([startServer({ websiteDomains: [DOMAIN] }), launchBrowser({ loopbackHosts: [`*.${DOMAIN}`] })]);
    const s3 = server.s3;
    const site = `http://${bucket}.${DOMAIN}:${server.port}`;
    const api = `${server.url}/${bucket}/data.json`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const put = (Key: string, Body: string, ContentType = 'text/html') => s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body, ContentType }));
    await put(
      'index.html',
      `<!doctype html><title>home</title><h1 id="h">home</h1><a id="docs" href="docs">docs</a><p id="data"></p>
       <script>fetch(${JSON.stringify(api)}).then((r) => r.json()).then((j) => { document.getElementById('data').textContent = j.greeting; });</script>`,
    );
    await put('docs/index.html', '<!doctype html><title>docs</title><h1 id="h">docs</h1>');
    await put('new/page.html', '<!doctype html><title>new</title><h1 id="h">new page</h1>');
    await put('error.html', '<!doctype html><title>oops</title><h1 id="h">custom error</h1>');
    await put('data.json', JSON.stringify({ greeting: 'hello from the S3 API' }), 'application/json');
    await s3.send(
      new PutBucketPolicyCommand({
        Bucket: bucket,
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` },
            // Without it a missing page is a 403, as on S3.
            { Effect: 'Allow', Principal: '*', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${bucket}` },
          ],
        }),
      }),
    );
    await s3.send(
      new PutBucketWebsiteCommand({
        Bucket: bucket,
        WebsiteConfiguration: {
          IndexDocument: { Suffix: 'index.html' },
          ErrorDocument: { Key: 'error.html' },
          RoutingRules: [{ Condition: { KeyPrefixEquals: 'old/' }, Redirect: { ReplaceKeyPrefixWith: 'new/' } }],
        },
      }),
    );
    // The site's own script reads from the S3 API on another origin.
    await s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: [{ AllowedOrigins: [site], AllowedMethods: ['GET'] }] } }));
  });
  after(async () => {
    await Promise.all([browser?.close(), server?.stop()]);
  });

  it('navigates the index, a directory link, a routing rule and the error document', async () => {
    const site = `http://${bucket}.${DOMAIN}:${server.port}`;
    const p = await browser.newPage();
    const home = await p.page.goto(site + '/');
    assert.equal(home?.status(), 200);
    assert.equal(await p.page.textContent('#h'), 'home');
    await p.page.waitForFunction(() => (globalThis as unknown as { document: { getElementById(id: string): { textContent: string } } }).document.getElementById('data').textContent !== '');
    assert.equal(await p.page.textContent('#data'), 'hello from the S3 API');
    // "docs" (no slash) is redirected to "docs/", whose index is served.
    await Promise.all([p.page.waitForURL(`${site}/docs/`), p.page.click('#docs')]);
    assert.equal(await p.page.textContent('#h'), 'docs');
    const moved = await p.page.goto(`${site}/old/page.html`);
    assert.equal(p.page.url(), `${site}/new/page.html`);
    assert.equal(moved?.status(), 200);
    assert.equal(await p.page.textContent('#h'), 'new page');
    const missing = await p.page.goto(`${site}/no/such/page.html`);
    assert.equal(missing?.status(), 404);
    assert.equal(await p.page.textContent('#h'), 'custom error');
    assert.deepEqual(p.corsErrors(), []);
  });
});
