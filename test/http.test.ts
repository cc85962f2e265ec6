// The HTTP layer: S3 headers on every response, 501 for unbuilt operations, malformed and
// truncated requests, 100-continue, and virtual-hosted-style addressing. The server must answer
// each with the proper S3 error and keep running.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { bodyBytes, errorCode, raw, rawSocket, signer, startServer, uniqueBucket, type TestServer } from './helpers.js';

/** A DNS lookup that resolves every name to 127.0.0.1 (for virtual-host names). */
const toLoopback = ((_host: string, opts: { all?: boolean }, cb: (e: null, a: unknown, f?: number) => void) =>
  opts.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)) as unknown as net.LookupFunction;

describe('http', () => {
  let srv: TestServer;
  let bucket: string;
  before(async () => {
    srv = await startServer({ domains: ['s3.trove.test'] });
    bucket = uniqueBucket();
    await srv.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  after(async () => srv.stop());

  it('sends S3 response headers', async () => {
    const put = await raw(srv, { method: 'PUT', path: `/${bucket}/h`, body: 'hello' });
    const get = await raw(srv, { method: 'GET', path: `/${bucket}/h` });
    for (const r of [put, get]) {
      assert.match(String(r.headers['x-amz-request-id']), /^[0-9A-F]{16}$/);
      assert.ok(r.headers['x-amz-id-2']);
      assert.ok(r.headers['date']);
      assert.ok(r.headers['server']);
      assert.equal(r.headers['etag'], `"${createHash('md5').update('hello').digest('hex')}"`);
    }
    assert.equal(get.headers['content-length'], '5');
    assert.equal(get.headers['accept-ranges'], 'bytes');
    assert.ok(get.headers['last-modified']);
  });

  it('answers operations it does not implement with 501 NotImplemented XML', async () => {
    for (const sub of ['accelerate', 'inventory']) {
      const r = await raw(srv, { method: 'GET', path: `/${bucket}`, query: { [sub]: '' } });
      assert.equal(r.status, 501, sub);
      assert.equal(errorCode(r.text), 'NotImplemented', sub);
      assert.match(r.text, /<RequestId>[0-9A-F]{16}<\/RequestId>/);
    }
    // A sub-resource never falls through to the plain operation.
    const r = await raw(srv, { method: 'PUT', path: `/${bucket}/h`, query: { restore: '' }, body: 'x' });
    assert.equal(r.status, 405);
    const acl = await raw(srv, { method: 'PUT', path: `/${bucket}/h`, query: { acl: '' }, body: '<AccessControlPolicy/>' });
    assert.equal(acl.status, 400);
    assert.equal(errorCode(acl.text), 'MalformedACLError');
    const get = await srv.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'h' }));
    assert.equal((await bodyBytes(get.Body)).toString(), 'hello', 'the object was not overwritten');
  });

  it('refuses headers for features it does not implement rather than ignoring them', async () => {
    const r = await raw(srv, { method: 'PUT', path: `/${bucket}/sse`, body: 'x', headers: { 'x-amz-server-side-encryption': 'aws:kms' } });
    assert.equal(r.status, 501);
  });

  it('answers bad XML, bad URIs and wrong methods with S3 errors', async () => {
    const xml = '<Delete><Object><Key>a</Key></Object>';
    const bad = await raw(srv, { method: 'POST', path: `/${bucket}`, query: { delete: '' }, body: xml, headers: { 'content-md5': createHash('md5').update(xml).digest('base64') } });
    assert.equal(bad.status, 400);
    assert.equal(errorCode(bad.text), 'MalformedXML');
    const uri = await rawSocket(srv.port, `GET /${bucket}/%E0%A4%A HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.match(uri, /^HTTP\/1.1 400/);
    assert.match(uri, /InvalidURI/);
    const patch = await raw(srv, { method: 'PATCH', path: `/${bucket}/h` });
    assert.equal(patch.status, 405);
    assert.equal(errorCode(patch.text), 'MethodNotAllowed');
  });

  it('survives garbage on the wire and keeps serving', async () => {
    const junk = await rawSocket(srv.port, 'THIS IS NOT HTTP\r\n\r\n');
    assert.match(junk, /^HTTP\/1.1 400/);
    const badLength = await rawSocket(srv.port, `PUT /${bucket}/x HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n`);
    assert.match(badLength, /^HTTP\/1.1 400/);
    const huge = await rawSocket(srv.port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`);
    assert.match(huge, /^HTTP\/1.1 4\d\d/);
    const ok = await raw(srv, { method: 'GET', path: `/${bucket}/h` });
    assert.equal(ok.status, 200);
  });

  it('stores nothing when the client sends fewer bytes than it declared', async () => {
    const put = await signer().sign({
      method: 'PUT',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: srv.port,
      path: `/${bucket}/truncated`,
      query: {},
      headers: { host: `127.0.0.1:${srv.port}`, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'content-length': '1000000' },
    });
    const head = Object.entries(put.headers).map(([k, v]) => `${k}: ${v}`).join('\r\n');
    await rawSocket(srv.port, `PUT /${bucket}/truncated HTTP/1.1\r\n${head}\r\n\r\n${'x'.repeat(5000)}`, 300, (s) => setTimeout(() => s.destroy(), 100));
    await new Promise((r) => setTimeout(r, 200));
    await assert.rejects(srv.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'truncated' })));
    const ok = await raw(srv, { method: 'GET', path: `/${bucket}/h` });
    assert.equal(ok.status, 200);
  });

  it('authenticates before answering Expect: 100-continue', async () => {
    // Anonymous: refused without ever inviting the body.
    const anon = await rawSocket(srv.port, `PUT /${bucket}/cont HTTP/1.1\r\nHost: x\r\nContent-Length: 123\r\nExpect: 100-continue\r\n\r\n`, 800);
    assert.match(anon, /^HTTP\/1.1 403/);
    assert.doesNotMatch(anon, /100 Continue/);
    // Signed: 100 Continue, then the object is stored.
    const body = 'continued!';
    const req = await signer().sign({
      method: 'PUT',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: srv.port,
      path: `/${bucket}/cont`,
      query: {},
      headers: { host: `127.0.0.1:${srv.port}`, 'x-amz-content-sha256': createHash('sha256').update(body).digest('hex'), 'content-length': String(body.length), expect: '100-continue' },
    });
    const head = Object.entries(req.headers).map(([k, v]) => `${k}: ${v}`).join('\r\n');
    const out = await new Promise<string>((resolve) => {
      const s = net.connect(srv.port, '127.0.0.1');
      let got = '';
      s.on('data', (c: Buffer) => {
        got += c.toString();
        if (got.includes('100 Continue') && !got.includes('200 OK')) s.write(body);
        if (got.includes('200 OK')) {
          s.destroy();
          resolve(got);
        }
      });
      s.write(`PUT /${bucket}/cont HTTP/1.1\r\n${head}\r\n\r\n`);
      setTimeout(() => resolve(got), 2000);
    });
    assert.match(out, /^HTTP\/1.1 100 Continue/);
    assert.match(out, /200 OK/);
    // An expectation S3 does not know (even an empty one) is ignored, not refused with 417.
    const r = await raw(srv, { method: 'GET', path: `/${bucket}/cont`, headers: { expect: '' } });
    assert.equal(r.status, 200);
  });

  it('addresses buckets by virtual host under a configured domain', async () => {
    const vhost = new S3Client({
      endpoint: `http://s3.trove.test:${srv.port}`,
      region: 'us-east-1',
      forcePathStyle: false,
      credentials: await srv.s3.config.credentials(),
      // Resolve every host name to the test server.
      requestHandler: { httpAgent: new http.Agent({ lookup: toLoopback }) },
    });
    try {
      await vhost.send(new PutObjectCommand({ Bucket: bucket, Key: 'via/vhost', Body: 'vh' }));
      const got = await srv.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'via/vhost' }));
      assert.equal((await bodyBytes(got.Body)).toString(), 'vh');
    } finally {
      vhost.destroy();
    }
  });
});
