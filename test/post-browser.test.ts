// POST object from a real browser (headless Chromium): a page on another origin uploads a file
// through a plain HTML form carrying a policy signed by createPresignedPost, and the browser
// follows success_action_redirect back to the application; then the same page posts a form with
// fetch() and reads the 201 PostResponse, which the bucket's CORS rules let it see. A CORS error
// in the browser's log fails the test.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutBucketCorsCommand } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { bodyBytes, startServer, uniqueBucket, type TestServer } from './helpers.js';
import { launchBrowser, servePages, type BrowserHarness, type PageServer } from './support/browser.js';

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/** The upload form a web application renders from createPresignedPost's answer. */
function formPage(url: string, fields: Record<string, string>): string {
  const hidden = Object.entries(fields)
    .map(([n, v]) => `  <input type="hidden" name="${escape(n)}" value="${escape(v)}">`)
    .join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>upload</title></head><body>
<form action="${escape(url)}" method="post" enctype="multipart/form-data">
${hidden}
  <input type="file" name="file">
  <!-- After the file: S3 ignores it (a named button before the file would need a condition). -->
  <input type="submit" name="submit" value="Upload">
</form>
<script>
  // The same form posted by script: a cross-origin fetch whose response the page reads.
  window.postWithFetch = async (url, fields, text) => {
    const form = new FormData();
    for (const [n, v] of Object.entries(fields)) form.append(n, v);
    form.append('file', new Blob([text], { type: 'text/plain' }), 'fetched.txt');
    const r = await fetch(url, { method: 'POST', body: form });
    return { status: r.status, body: await r.text(), etag: r.headers.get('ETag') };
  };
</script></body></html>`;
}

const DONE = `<!doctype html><html><head><meta charset="utf-8"><title>done</title></head><body>
<p id="result"></p>
<script>document.getElementById('result').textContent = new URLSearchParams(location.search).get('key');</script>
</body></html>`;

describe('POST object from a browser on another origin', () => {
  let server: TestServer;
  let browser: BrowserHarness;
  let app: PageServer;
  const pages: Record<string, string> = { '/done': DONE };
  const bucket = uniqueBucket('post-browser');

  before(async () => {
    [server, browser, app] = await Promise.all([startServer(), launchBrowser(), servePages(pages)]);
    await server.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await server.s3.send(
      new PutBucketCorsCommand({
        Bucket: bucket,
        CORSConfiguration: { CORSRules: [{ AllowedOrigins: [app.origin], AllowedMethods: ['POST'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag'] }] },
      }),
    );
  });
  after(async () => {
    await Promise.all([browser?.close(), app?.close(), server?.stop()]);
  });

  it('an HTML form uploads the chosen file and the browser follows success_action_redirect', async () => {
    const redirect = `${app.origin}/done`;
    const p = await createPresignedPost(server.s3, {
      Bucket: bucket,
      Key: 'uploads/${filename}',
      Conditions: [['starts-with', '$Content-Type', 'image/'], ['content-length-range', 1, 1024 * 1024]],
      Fields: { 'Content-Type': 'image/png', success_action_redirect: redirect },
      Expires: 300,
    });
    pages['/upload'] = formPage(p.url, p.fields);
    const page = await browser.newPage();
    await page.page.goto(`${app.origin}/upload`);
    const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(2048, 7)]);
    await page.page.setInputFiles('input[type=file]', { name: 'avatar.png', mimeType: 'image/png', buffer: png });
    await Promise.all([page.page.waitForURL((u) => u.href.startsWith(`${redirect}?`), { timeout: 15_000 }), page.page.click('input[type=submit]')]);

    const head = await server.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'uploads/avatar.png' }));
    const landed = new URL(page.page.url());
    assert.equal(landed.origin + landed.pathname, redirect);
    assert.equal(landed.searchParams.get('bucket'), bucket);
    assert.equal(landed.searchParams.get('key'), 'uploads/avatar.png');
    assert.equal(landed.searchParams.get('etag'), head.ETag);
    assert.equal(await page.page.textContent('#result'), 'uploads/avatar.png');
    assert.equal(head.ContentType, 'image/png');
    const got = await server.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'uploads/avatar.png' }));
    assert.deepEqual(await bodyBytes(got.Body), png);
    assert.deepEqual(page.corsErrors(), []);
  });

  it('fetch() posts the form and reads the PostResponse (the bucket CORS rules expose it)', async () => {
    const p = await createPresignedPost(server.s3, {
      Bucket: bucket,
      Key: 'fetched/${filename}',
      Conditions: [{ success_action_status: '201' }],
      Fields: { success_action_status: '201' },
      Expires: 300,
    });
    pages['/fetch'] = formPage(p.url, p.fields);
    const page = await browser.newPage();
    await page.page.goto(`${app.origin}/fetch`);
    const r = (await page.page.evaluate(
      ([u, f]) => (globalThis as unknown as { postWithFetch(u: string, f: unknown, t: string): Promise<unknown> }).postWithFetch(u as string, f, 'posted by fetch'),
      [p.url, p.fields] as const,
    )) as { status: number; body: string; etag: string };
    assert.equal(r.status, 201, r.body);
    assert.match(r.body, /<Key>fetched\/fetched\.txt<\/Key>/);
    const head = await server.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'fetched/fetched.txt' }));
    assert.equal(r.etag, head.ETag);
    assert.deepEqual(page.corsErrors(), []);
  });
});
