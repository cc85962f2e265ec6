// POST object (browser-based uploads) end to end: forms signed by the JS SDK's createPresignedPost
// and by hand (SigV4, SigV2, temporary credentials), sent as real multipart/form-data by fetch or
// streamed raw, against a real server; every condition kind and every error, anonymous posts, the
// bucket-field confusion of CVE-2023-43040 (Ceph) and CVE-2023-28434 (MinIO), and a 200 MiB
// upload with the RSS watched.

import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketEncryptionCommand,
  PutBucketPolicyCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { GetSessionTokenCommand, STSClient } from '@aws-sdk/client-sts';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { ACCESS_KEY, REGION, SECRET_KEY, countBlobFiles, errorCode, startServer, uniqueBucket, type TestServer } from './helpers.js';

const execFileAsync = promisify(execFile);

type Field = [string, string] | [string, { data: Buffer | string; filename?: string; type?: string }];

interface Reply {
  status: number;
  headers: Headers;
  text: string;
}

function formOf(fields: Field[]): FormData {
  const form = new FormData();
  for (const [name, value] of fields) {
    if (typeof value === 'string') form.append(name, value);
    else form.append(name, new Blob([value.data], value.type ? { type: value.type } : {}), value.filename ?? 'blob');
  }
  return form;
}

async function post(url: string, fields: Field[], headers: Record<string, string> = {}): Promise<Reply> {
  const r = await fetch(url, { method: 'POST', body: formOf(fields), redirect: 'manual', headers });
  return { status: r.status, headers: r.headers, text: await r.text() };
}

function message(text: string): string | undefined {
  return /<Message>([^<]*)<\/Message>/.exec(text)?.[1]?.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

function amzDate(d = new Date()): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** A SigV4-signed policy as a list of form fields (the fields it needs first). */
function signV4(conditions: unknown[], o: { expiration?: string; accessKeyId?: string; secret?: string; token?: string; raw?: string } = {}): Field[] {
  const accessKeyId = o.accessKeyId ?? ACCESS_KEY;
  const secret = o.secret ?? SECRET_KEY;
  const date = amzDate();
  const credential = `${accessKeyId}/${date.slice(0, 8)}/${REGION}/s3/aws4_request`;
  const auto: unknown[] = [{ 'x-amz-algorithm': 'AWS4-HMAC-SHA256' }, { 'x-amz-credential': credential }, { 'x-amz-date': date }];
  if (o.token) auto.push({ 'x-amz-security-token': o.token });
  const doc = o.raw ?? JSON.stringify({ expiration: o.expiration ?? new Date(Date.now() + 600_000).toISOString(), conditions: [...conditions, ...auto] });
  const policy = Buffer.from(doc).toString('base64');
  const h = (k: Buffer | string, d: string) => createHmac('sha256', k).update(d).digest();
  const key = h(h(h(h('AWS4' + secret, date.slice(0, 8)), REGION), 's3'), 'aws4_request');
  const fields: Field[] = [
    ['x-amz-algorithm', 'AWS4-HMAC-SHA256'],
    ['x-amz-credential', credential],
    ['x-amz-date', date],
    ['policy', policy],
    ['x-amz-signature', createHmac('sha256', key).update(policy).digest('hex')],
  ];
  if (o.token) fields.push(['x-amz-security-token', o.token]);
  return fields;
}

/** A SigV2-signed policy as form fields. */
function signV2(conditions: unknown[], secret = SECRET_KEY): Field[] {
  const policy = Buffer.from(JSON.stringify({ expiration: new Date(Date.now() + 600_000).toISOString(), conditions })).toString('base64');
  return [
    ['AWSAccessKeyId', ACCESS_KEY],
    ['policy', policy],
    ['signature', createHmac('sha1', secret).update(policy).digest('base64')],
  ];
}

const file = (data: Buffer | string, filename = 'f.txt'): Field => ['file', { data, filename }];

describe('POST object', () => {
  let srv: TestServer;
  let url: (b: string) => string;
  const bucket = uniqueBucket('post');
  const other = uniqueBucket('post-other');
  const open = uniqueBucket('post-open');

  before(async () => {
    srv = await startServer({ domains: ['s3.trove.test'] });
    await srv.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await srv.s3.send(new CreateBucketCommand({ Bucket: other }));
    await srv.s3.send(new CreateBucketCommand({ Bucket: open }));
    await srv.s3.send(
      new PutBucketPolicyCommand({
        Bucket: open,
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:PutObject', Resource: `arn:aws:s3:::${open}/uploads/*` }],
        }),
      }),
    );
    url = (b: string) => `${srv.url}/${b}`;
  });
  after(() => srv.stop());

  const get = async (b: string, key: string) => {
    const r = await srv.s3.send(new GetObjectCommand({ Bucket: b, Key: key }));
    return { body: Buffer.from(await r.Body!.transformToByteArray()), r };
  };
  const exists = async (b: string, key: string) => (await srv.s3.send(new ListObjectsV2Command({ Bucket: b, Prefix: key }))).KeyCount! > 0;

  it("createPresignedPost's form uploads through fetch; ${filename} and Content-Type conditions", async () => {
    const p = await createPresignedPost(srv.s3, {
      Bucket: bucket,
      Key: 'sdk/${filename}',
      Conditions: [['starts-with', '$Content-Type', 'text/'], ['content-length-range', 1, 1024]],
      Fields: { 'Content-Type': 'text/plain' },
      Expires: 600,
    });
    const r = await post(`${srv.url}/${bucket}`, [...Object.entries(p.fields), file('hello from a form', 'greeting.txt')]);
    assert.equal(r.status, 204, r.text);
    assert.equal(r.text, '');
    assert.match(r.headers.get('etag')!, /^"[0-9a-f]{32}"$/);
    assert.equal(r.headers.get('location'), `${srv.url}/${bucket}/sdk/greeting.txt`);
    const { body, r: got } = await get(bucket, 'sdk/greeting.txt');
    assert.equal(body.toString(), 'hello from a form');
    assert.equal(got.ContentType, 'text/plain');
    assert.equal(got.ETag, r.headers.get('etag'));
  });

  it('success_action_status 201 answers PostResponse; 200 an empty 200; anything else 204', async () => {
    const conditions = [{ bucket }, ['starts-with', '$key', 's/'], ['starts-with', '$success_action_status', '']];
    const r201 = await post(url(bucket), [['key', 's/a b+c'], ...signV4(conditions), ['success_action_status', '201'], file('x')]);
    assert.equal(r201.status, 201, r201.text);
    assert.match(r201.headers.get('content-type')!, /application\/xml/);
    assert.match(r201.text, /<PostResponse><Location>[^<]+\/s\/a%20b%2Bc<\/Location><Bucket>[^<]+<\/Bucket><Key>s\/a b\+c<\/Key><ETag>(&quot;|")[0-9a-f]{32}(&quot;|")<\/ETag><\/PostResponse>/);
    const r200 = await post(url(bucket), [['key', 's/200'], ...signV4(conditions), ['success_action_status', '200'], file('x')]);
    assert.equal(r200.status, 200);
    assert.equal(r200.text, '');
    const r404 = await post(url(bucket), [['key', 's/404'], ...signV4(conditions), ['success_action_status', '404'], file('x')]);
    assert.equal(r404.status, 204);
  });

  it('success_action_redirect (and redirect) answer 303 to the URL with bucket, key and etag', async () => {
    const target = 'https://app.example.com/done?from=form';
    const r = await post(url(bucket), [['key', 'r/k 1'], ...signV4([{ bucket }, { key: 'r/k 1' }, { success_action_redirect: target }]), ['success_action_redirect', target], file('redirected')]);
    assert.equal(r.status, 303, r.text);
    const etag = (await srv.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'r/k 1' }))).ETag!;
    assert.equal(r.headers.get('location'), `${target}&bucket=${bucket}&key=r%2Fk%201&etag=${encodeURIComponent(etag)}`);
    const legacy = await post(url(bucket), [['key', 'r/2'], ...signV4([{ bucket }, { key: 'r/2' }, ['eq', '$redirect', 'http://x.test/']]), ['redirect', 'http://x.test/'], file('y')]);
    assert.equal(legacy.status, 303);
    assert.match(legacy.headers.get('location')!, /^http:\/\/x\.test\/\?bucket=.+&key=r%2F2&etag=%22[0-9a-f]{32}%22$/);
  });

  it('form fields become the object: acl, metadata, content headers, tagging, storage class, checksum', async () => {
    const tagging = '<Tagging><TagSet><Tag><Key>team</Key><Value>web</Value></Tag><Tag><Key>kind</Key><Value>avatar</Value></Tag></TagSet></Tagging>';
    const sha = createHash('sha256').update('meta body').digest('base64');
    const fields: Field[] = [
      ['key', 'm/obj'],
      ['acl', 'public-read'],
      ['Content-Type', 'image/png'],
      ['Content-Disposition', 'attachment; filename="a.png"'],
      ['Cache-Control', 'max-age=60'],
      ['x-amz-meta-Owner', 'zoë'],
      ['x-amz-storage-class', 'STANDARD_IA'],
      ['tagging', tagging],
      ['x-amz-checksum-sha256', sha],
    ];
    const conditions = [
      { bucket },
      { key: 'm/obj' },
      { acl: 'public-read' },
      ['starts-with', '$Content-Type', 'image/'],
      ['starts-with', '$Content-Disposition', 'attachment'],
      ['eq', '$Cache-Control', 'max-age=60'],
      ['starts-with', '$x-amz-meta-owner', ''],
      { 'x-amz-storage-class': 'STANDARD_IA' },
      ['starts-with', '$tagging', ''],
    ];
    const r = await post(url(bucket), [...fields, ...signV4(conditions), file('meta body', 'ignored.bin')]);
    assert.equal(r.status, 204, r.text);
    const { r: got } = await get(bucket, 'm/obj');
    assert.equal(got.ContentType, 'image/png');
    assert.equal(got.ContentDisposition, 'attachment; filename="a.png"');
    assert.equal(got.CacheControl, 'max-age=60');
    assert.deepEqual(got.Metadata, { owner: 'zoë' });
    assert.equal(got.StorageClass, 'STANDARD_IA');
    const tags = await srv.s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'm/obj' }));
    assert.deepEqual(tags.TagSet, [{ Key: 'kind', Value: 'avatar' }, { Key: 'team', Value: 'web' }]);
    // public-read: anyone may read it.
    const anon = await fetch(`${srv.url}/${bucket}/m/obj`);
    assert.equal(anon.status, 200);
    assert.equal(await anon.text(), 'meta body');
    // A checksum that does not match refuses the upload.
    const bad = await post(url(bucket), [['key', 'm/bad'], ['x-amz-checksum-sha256', sha], ...signV4([{ bucket }, { key: 'm/bad' }]), file('other body')]);
    assert.equal(bad.status, 400);
    assert.equal(errorCode(bad.text), 'BadDigest');
    assert.equal(await exists(bucket, 'm/bad'), false);
  });

  it('field names are case-insensitive; x-ignore- fields need no condition; fields after the file are ignored', async () => {
    const r = await post(url(bucket), [
      ['KEY', 'c/1'],
      ['X-Ignore-Submit', 'Upload'],
      ...signV4([{ BUCKET: bucket }, ['StArTs-WiTh', '$kEy', 'c/']]),
      file('case'),
      ['x-amz-meta-after', 'not covered, not stored'],
    ]);
    assert.equal(r.status, 204, r.text);
    const { r: got } = await get(bucket, 'c/1');
    assert.deepEqual(got.Metadata, {});
  });

  describe('policy conditions refuse what they do not allow', () => {
    const refused = async (fields: Field[], status: number, code: string, msg?: string | RegExp) => {
      const r = await post(url(bucket), fields);
      assert.equal(r.status, status, r.text);
      assert.equal(errorCode(r.text), code, r.text);
      if (typeof msg === 'string') assert.equal(message(r.text), msg);
      else if (msg) assert.match(message(r.text) ?? '', msg);
      return r;
    };

    it('eq and exact-match objects, naming the failed condition', async () => {
      await refused([['key', 'no/1'], ...signV4([{ bucket }, ['eq', '$key', 'yes/1']]), file('x')], 403, 'AccessDenied', 'Invalid according to Policy: Policy Condition failed: ["eq", "$key", "yes/1"]');
      await refused([['key', 'no/1'], ['acl', 'public-read'], ...signV4([{ bucket }, { key: 'no/1' }, { acl: 'private' }]), file('x')], 403, 'AccessDenied', 'Invalid according to Policy: Policy Condition failed: ["eq", "$acl", "private"]');
      assert.equal(await exists(bucket, 'no/'), false);
    });

    it('starts-with, on each type of a Content-Type list and on x-amz-meta-*', async () => {
      const cond = [{ bucket }, { key: 'ct/1' }, ['starts-with', '$Content-Type', 'image/']];
      await refused([['key', 'ct/1'], ['Content-Type', 'image/png, text/html'], ...signV4(cond), file('x')], 403, 'AccessDenied', 'Invalid according to Policy: Policy Condition failed: ["starts-with", "$content-type", "image/"]');
      const ok = await post(url(bucket), [['key', 'ct/1'], ['Content-Type', 'image/png, image/jpeg'], ...signV4(cond), file('x')]);
      assert.equal(ok.status, 204, ok.text);
      const meta = [{ bucket }, { key: 'ct/2' }, ['starts-with', '$x-amz-meta-tag', 'ok-']];
      await refused([['key', 'ct/2'], ['x-amz-meta-tag', 'bad'], ...signV4(meta), file('x')], 403, 'AccessDenied', /\$x-amz-meta-tag/);
      await refused([['key', 'ct/2'], ...signV4(meta), file('x')], 403, 'AccessDenied', /Policy Condition failed/);
    });

    it('every field needs a condition (the bucket too)', async () => {
      await refused([['key', 'ex/1'], ['x-amz-meta-extra', 'v'], ...signV4([{ bucket }, { key: 'ex/1' }]), file('x')], 403, 'AccessDenied', 'Invalid according to Policy: Extra input fields: x-amz-meta-extra');
      await refused([['key', 'ex/1'], ...signV4([{ key: 'ex/1' }]), file('x')], 403, 'AccessDenied', 'Invalid according to Policy: Extra input fields: bucket');
    });

    it('content-length-range: EntityTooLarge and EntityTooSmall, nothing stored', async () => {
      const cond = [{ bucket }, ['starts-with', '$key', 'len/'], ['content-length-range', 10, 20]];
      const blobs = countBlobFiles(srv.dataDir);
      await refused([['key', 'len/big'], ...signV4(cond), file(Buffer.alloc(300 * 1024, 1))], 400, 'EntityTooLarge');
      await refused([['key', 'len/small'], ...signV4(cond), file('tiny')], 400, 'EntityTooSmall');
      assert.equal(await exists(bucket, 'len/'), false);
      assert.equal(countBlobFiles(srv.dataDir), blobs);
      const ok = await post(url(bucket), [['key', 'len/ok'], ...signV4(cond), file('fifteen bytes!!')]);
      assert.equal(ok.status, 204, ok.text);
    });

    it('an expired policy; malformed policies are InvalidPolicyDocument', async () => {
      await refused([['key', 'e/1'], ...signV4([{ bucket }, { key: 'e/1' }], { expiration: new Date(Date.now() - 1000).toISOString() }), file('x')], 403, 'AccessDenied', 'Invalid according to Policy: Policy expired.');
      for (const raw of [
        'not json',
        JSON.stringify({ conditions: [] }),
        JSON.stringify({ expiration: '2099-01-01T00:00:00Z' }),
        JSON.stringify({ expiration: '2099-01-01 00:00:00', conditions: [] }),
        JSON.stringify({ expiration: '2099-01-01T00:00:00Z', conditions: [{}] }),
        JSON.stringify({ expiration: '2099-01-01T00:00:00Z', CONDITIONS: [] }),
        JSON.stringify({ expiration: '2099-01-01T00:00:00Z', conditions: [['content-length-range', -1, 5]] }),
        JSON.stringify({ expiration: '2099-01-01T00:00:00Z', conditions: [['content-length-range', 0]] }),
        JSON.stringify({ expiration: '2099-01-01T00:00:00Z', conditions: [['ends-with', '$key', 'x']] }),
      ]) {
        await refused([['key', 'e/2'], ...signV4([], { raw }), file('x')], 400, 'InvalidPolicyDocument', /^Invalid Policy: /);
      }
    });
  });

  describe('authentication', () => {
    it('a wrong signature, an unknown key, a missing signature or policy', async () => {
      const fields = signV4([{ bucket }, { key: 'a/1' }]);
      const tampered = fields.map(([n, v]) => [n, n === 'x-amz-signature' ? '0'.repeat(64) : v] as Field);
      let r = await post(url(bucket), [['key', 'a/1'], ...tampered, file('x')]);
      assert.equal(r.status, 403);
      assert.equal(errorCode(r.text), 'SignatureDoesNotMatch');
      r = await post(url(bucket), [['key', 'a/1'], ...signV4([{ bucket }, { key: 'a/1' }], { accessKeyId: 'NOSUCHKEY00000000000' }), file('x')]);
      assert.equal(r.status, 403);
      assert.equal(errorCode(r.text), 'InvalidAccessKeyId');
      r = await post(url(bucket), [['key', 'a/1'], ...fields.filter(([n]) => n !== 'x-amz-signature'), file('x')]);
      assert.equal(r.status, 400);
      assert.equal(errorCode(r.text), 'InvalidArgument');
      r = await post(url(bucket), [['key', 'a/1'], ...signV2([{ bucket }]).filter(([n]) => n !== 'signature'), file('x')]);
      assert.equal(r.status, 400);
      assert.equal(errorCode(r.text), 'InvalidArgument');
      assert.equal(await exists(bucket, 'a/'), false);
    });

    it('SigV2 policies', async () => {
      const r = await post(url(bucket), [['key', 'v2/1'], ['acl', 'private'], ...signV2([{ bucket }, ['starts-with', '$key', 'v2/'], { acl: 'private' }]), file('sigv2')]);
      assert.equal(r.status, 204, r.text);
      assert.equal((await get(bucket, 'v2/1')).body.toString(), 'sigv2');
      const bad = await post(url(bucket), [['key', 'v2/2'], ...signV2([{ bucket }, { key: 'v2/2' }], 'wrong-secret'), file('x')]);
      assert.equal(bad.status, 403);
      assert.equal(errorCode(bad.text), 'SignatureDoesNotMatch');
    });

    it('temporary credentials sign with x-amz-security-token (createPresignedPost with STS credentials)', async () => {
      const sts = new STSClient({ endpoint: srv.url, region: REGION, credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
      const t = (await sts.send(new GetSessionTokenCommand({ DurationSeconds: 900 }))).Credentials!;
      sts.destroy();
      const temp = new S3Client({ endpoint: srv.url, region: REGION, forcePathStyle: true, credentials: { accessKeyId: t.AccessKeyId!, secretAccessKey: t.SecretAccessKey!, sessionToken: t.SessionToken! } });
      const p = await createPresignedPost(temp, { Bucket: bucket, Key: 'sts/one' });
      temp.destroy();
      assert.ok(p.fields['X-Amz-Security-Token']);
      const r = await post(`${srv.url}/${bucket}`, [...Object.entries(p.fields), file('temporary')]);
      assert.equal(r.status, 204, r.text);
      // Without the token the key is unknown; with another token it is refused.
      const noToken = await post(`${srv.url}/${bucket}`, [...Object.entries(p.fields).filter(([n]) => n !== 'X-Amz-Security-Token'), file('x')]);
      assert.equal(noToken.status, 403, noToken.text);
      assert.equal(errorCode(noToken.text), 'InvalidAccessKeyId');
      const wrong = await post(`${srv.url}/${bucket}`, [...Object.entries(p.fields).map(([n, v]) => [n, n === 'X-Amz-Security-Token' ? v.slice(0, -4) + 'AAAA' : v] as Field), file('x')]);
      assert.equal(wrong.status, 400);
      assert.equal(errorCode(wrong.text), 'InvalidToken');
    });

    it('anonymous forms: allowed where a bucket policy grants s3:PutObject to everyone, refused elsewhere', async () => {
      const ok = await post(url(open), [['key', 'uploads/anon.txt'], file('anonymous')]);
      assert.equal(ok.status, 204, ok.text);
      assert.equal((await get(open, 'uploads/anon.txt')).body.toString(), 'anonymous');
      const outside = await post(url(open), [['key', 'elsewhere.txt'], file('x')]);
      assert.equal(outside.status, 403);
      assert.equal(errorCode(outside.text), 'AccessDenied');
      const priv = await post(url(bucket), [['key', 'anon.txt'], file('x')]);
      assert.equal(priv.status, 403);
      assert.equal(errorCode(priv.text), 'AccessDenied');
      // A policy nobody signed is not taken as a signed one.
      const unsigned = await post(url(open), [['key', 'uploads/p.txt'], ['policy', Buffer.from('{}').toString('base64')], file('x')]);
      assert.equal(unsigned.status, 400);
      const tokenOnly = await post(url(open), [['key', 'uploads/t.txt'], ['x-amz-security-token', 'token'], file('x')]);
      assert.equal(tokenOnly.status, 400);
      assert.equal(errorCode(tokenOnly.text), 'InvalidArgument');
      assert.equal(await exists(open, 'uploads/p.txt'), false);
    });

    it('the bucket field never redirects the write (CVE-2023-43040 / CVE-2023-28434 class)', async () => {
      // A form signed for `bucket`, posted to `other`: the policy's bucket condition fails.
      const forBucket = [['key', 'cve/1'], ...signV4([{ bucket }, { key: 'cve/1' }]), ['bucket', bucket], file('x')] as Field[];
      const r1 = await post(url(other), forBucket);
      assert.equal(r1.status, 403);
      // An anonymous form to the open bucket naming the private one: refused, written nowhere.
      const r2 = await post(url(open), [['key', 'uploads/cve'], ['bucket', bucket], file('x')]);
      assert.equal(r2.status, 403);
      assert.equal(errorCode(r2.text), 'AccessDenied');
      // A signed form with a bucket field other than the URL's, even one its policy allows.
      const r3 = await post(url(bucket), [['key', 'cve/3'], ...signV4([['starts-with', '$bucket', ''], { key: 'cve/3' }]), ['bucket', other], file('x')]);
      assert.equal(r3.status, 403);
      assert.equal(await exists(bucket, 'cve/'), false);
      assert.equal(await exists(other, 'cve/'), false);
      assert.equal(await exists(open, 'uploads/cve'), false);
    });
  });

  describe('malformed forms', () => {
    const rawPost = (path: string, body: Buffer | string, contentType: string, host?: string) =>
      new Promise<Reply>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: srv.port, method: 'POST', path, headers: { 'content-type': contentType, 'content-length': Buffer.byteLength(body), ...(host ? { host } : {}) } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode!, headers: new Headers(res.headers as Record<string, string>), text: Buffer.concat(chunks).toString() }));
        });
        req.on('error', reject);
        req.end(body);
      });
    const part = (name: string, value: string, filename?: string) => `--XyZ\r\nContent-Disposition: form-data; name="${name}"${filename ? `; filename="${filename}"` : ''}\r\n\r\n${value}\r\n`;

    it('no file, two files, a truncated body, a body that is not a form', async () => {
      let r = await rawPost(`/${open}`, part('key', 'uploads/nf') + '--XyZ--\r\n', 'multipart/form-data; boundary=XyZ');
      assert.equal(r.status, 400);
      assert.equal(errorCode(r.text), 'IncorrectNumberOfFilesInPostRequest');
      r = await rawPost(`/${open}`, part('key', 'uploads/two') + part('file', 'one', 'a') + part('file', 'two', 'b') + '--XyZ--\r\n', 'multipart/form-data; boundary=XyZ');
      assert.equal(r.status, 400);
      assert.equal(errorCode(r.text), 'IncorrectNumberOfFilesInPostRequest');
      assert.equal(await exists(open, 'uploads/two'), false);
      r = await rawPost(`/${open}`, part('key', 'uploads/cut') + '--XyZ\r\nContent-Disposition: form-data; name="file"\r\n\r\nsome bytes', 'multipart/form-data; boundary=XyZ');
      assert.equal(r.status, 400);
      assert.equal(errorCode(r.text), 'MalformedPOSTRequest');
      assert.equal(await exists(open, 'uploads/cut'), false);
      r = await rawPost(`/${open}`, 'key=uploads/x', 'application/x-www-form-urlencoded');
      assert.equal(r.status, 412);
      assert.equal(errorCode(r.text), 'PreconditionFailed');
      r = await rawPost(`/${open}`, part('file', 'x', 'a') + '--XyZ--\r\n', 'multipart/form-data; boundary=XyZ');
      assert.equal(r.status, 400);
      assert.equal(errorCode(r.text), 'InvalidArgument');
      assert.equal(message(r.text), "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.");
    });

    it('fields before the file beyond 20 KB are MaxPostPreDataLengthExceededError', async () => {
      const r = await rawPost(`/${open}`, part('key', 'uploads/big') + part('x-ignore-pad', 'p'.repeat(21 * 1024)) + part('file', 'x', 'a') + '--XyZ--\r\n', 'multipart/form-data; boundary=XyZ');
      assert.equal(r.status, 400);
      assert.equal(errorCode(r.text), 'MaxPostPreDataLengthExceededError');
    });

    it('virtual-hosted-style POST writes to the bucket of the Host header', async () => {
      const r = await rawPost('/', part('key', 'uploads/vhost') + part('file', 'virtual', 'v.txt') + '--XyZ--\r\n', 'multipart/form-data; boundary=XyZ', `${open}.s3.trove.test`);
      assert.equal(r.status, 204, r.text);
      assert.equal(r.headers.get('location'), `http://${open}.s3.trove.test/uploads/vhost`);
      assert.equal((await get(open, 'uploads/vhost')).body.toString(), 'virtual');
    });
  });

  it('a 200 MiB file streams to storage: the server never holds it in memory', async (t) => {
    const size = 200 * 1024 * 1024;
    const fields = [['key', 'big/200MiB'], ...signV4([{ bucket }, { key: 'big/200MiB' }, ['content-length-range', 0, size]])] as [string, string][];
    const head = Buffer.from(fields.map(([n, v]) => `--B0undary\r\nContent-Disposition: form-data; name="${n}"\r\n\r\n${v}\r\n`).join('') + '--B0undary\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n');
    const tail = Buffer.from('\r\n--B0undary--\r\n');
    const chunk = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < chunk.length; i += 4) chunk.writeUInt32LE(i * 2654435761 >>> 0, i);
    const md5 = createHash('md5');
    global.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const reply = await new Promise<Reply>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: srv.port, method: 'POST', path: `/${bucket}`, headers: { 'content-type': 'multipart/form-data; boundary=B0undary', 'content-length': head.length + size + tail.length } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: new Headers(res.headers as Record<string, string>), text: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      void (async () => {
        const write = (b: Buffer) => (req.write(b) ? Promise.resolve() : new Promise<void>((r) => req.once('drain', () => r())));
        await write(head);
        for (let sent = 0; sent < size; sent += chunk.length) {
          // Each chunk differs, so that the stored bytes prove their order.
          chunk.writeUInt32LE(sent / chunk.length, 0);
          md5.update(chunk);
          await write(chunk);
        }
        req.end(tail);
      })();
    });
    clearInterval(sampler);
    assert.equal(reply.status, 204, reply.text);
    assert.equal(reply.headers.get('etag'), `"${md5.digest('hex')}"`);
    const grown = (peak - baseline) / (1024 * 1024);
    assert.ok(grown < 64, `RSS grew by ${grown.toFixed(1)} MiB during a 200 MiB upload`);
    const h = await srv.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'big/200MiB' }));
    assert.equal(h.ContentLength, size);
    t.diagnostic(`200 MiB POST upload: RSS grew by ${grown.toFixed(1)} MiB`);
  });

  it("boto3's generate_presigned_post works unchanged (when boto3 is installed)", async (t) => {
    const pythonPath = [process.env.TROVE_BOTO3_PATH ?? '../s3-tests/.harness-pylib/root/usr/lib/python3/dist-packages', process.env.PYTHONPATH ?? ''].filter(Boolean).join(':');
    const env = { ...process.env, PYTHONPATH: pythonPath };
    const probe = spawnSync('python3', ['-c', 'import boto3, requests'], { env });
    if (probe.status !== 0) return t.skip('python3 with boto3 and requests is not available');
    const script = `
import boto3, requests, sys
from botocore.config import Config
s3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name='${REGION}', aws_access_key_id='${ACCESS_KEY}', aws_secret_access_key='${SECRET_KEY}', config=Config(s3={'addressing_style': 'path'}))
p = s3.generate_presigned_post('${bucket}', 'boto/\${filename}', Fields={'acl': 'private'}, Conditions=[{'acl': 'private'}, ['content-length-range', 1, 100]], ExpiresIn=300)
r = requests.post(p['url'], data=p['fields'], files={'file': ('from-boto.txt', b'posted by boto3')})
print(r.status_code)
r = requests.post(p['url'], data=p['fields'], files={'file': ('big.txt', b'x' * 101)})
print(r.status_code, 'EntityTooLarge' in r.text)
`;
    // Asynchronously: the server runs in this process.
    const run = await execFileAsync('python3', ['-c', script, srv.url], { env, encoding: 'utf8' });
    assert.deepEqual(run.stdout.trim().split('\n'), ['204', '400 True']);
    assert.equal((await get(bucket, 'boto/from-boto.txt')).body.toString(), 'posted by boto3');
  });

  it('an unknown bucket is NoSuchBucket; the operation needs no sub-resource', async () => {
    const e = await post(`${srv.url}/${uniqueBucket('missing')}`, [['key', 'k'], file('x')]);
    assert.equal(e.status, 404);
    assert.equal(errorCode(e.text), 'NoSuchBucket');
  });
});

describe('POST object: a form that stops arriving', () => {
  let srv: TestServer;
  const bucket = uniqueBucket('post-slow');
  before(async () => {
    srv = await startServer({ idleTimeoutMs: 400 });
    await srv.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  after(() => srv.stop());

  it('times out (RequestTimeout) mid-file; nothing is stored, no temporary file is left', async () => {
    const blobs = countBlobFiles(srv.dataDir);
    const fields = [['key', 'slow'], ...signV4([{ bucket }, { key: 'slow' }])] as [string, string][];
    const head = fields.map(([n, v]) => `--S\r\nContent-Disposition: form-data; name="${n}"\r\n\r\n${v}\r\n`).join('') + '--S\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\n';
    const reply = await new Promise<Reply>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: srv.port, method: 'POST', path: `/${bucket}`, headers: { 'content-type': 'multipart/form-data; boundary=S', 'content-length': head.length + 1024 * 1024 } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: new Headers(res.headers as Record<string, string>), text: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      // The fields and 200 KiB of the file, then silence.
      req.write(head);
      req.write(Buffer.alloc(200 * 1024, 1));
    });
    assert.equal(reply.status, 400);
    assert.equal(errorCode(reply.text), 'RequestTimeout');
    const listed = await srv.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    assert.equal(listed.KeyCount, 0);
    assert.equal(countBlobFiles(srv.dataDir), blobs);
  });
});

describe('POST object with server-side encryption fields', () => {
  let srv: TestServer;
  const bucket = uniqueBucket('post-sse');
  before(async () => {
    srv = await startServer({ masterKeyEnv: randomBytes(32).toString('hex') });
    await srv.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  after(() => srv.stop());

  it('stores a form upload encrypted as its x-amz-server-side-encryption* fields ask (SSE-S3, SSE-C)', async () => {
    const s3Fields = signV4([{ bucket }, ['starts-with', '$key', 'enc/'], { 'x-amz-server-side-encryption': 'AES256' }]);
    const sseS3 = await post(`${srv.url}/${bucket}`, [['key', 'enc/s3'], ['x-amz-server-side-encryption', 'AES256'], ...s3Fields, ['file', { data: 'sse-s3 form' }]]);
    assert.equal(sseS3.status, 204, sseS3.text);
    assert.equal(sseS3.headers.get('x-amz-server-side-encryption'), 'AES256');
    const got = await srv.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'enc/s3' }));
    assert.equal(got.ServerSideEncryption, 'AES256');
    assert.equal(await got.Body!.transformToString(), 'sse-s3 form');

    const key = randomBytes(32);
    const c = {
      'x-amz-server-side-encryption-customer-algorithm': 'AES256',
      'x-amz-server-side-encryption-customer-key': key.toString('base64'),
      'x-amz-server-side-encryption-customer-key-MD5': createHash('md5').update(key).digest('base64'),
    };
    const cFields = signV4([{ bucket }, ['starts-with', '$key', 'enc/'], ...Object.entries(c).map(([k, v]) => ({ [k]: v }))]);
    const sseC = await post(`${srv.url}/${bucket}`, [['key', 'enc/c'], ...Object.entries(c), ...cFields, ['file', { data: 'sse-c form' }]]);
    assert.equal(sseC.status, 204, sseC.text);
    // Without the customer key the object cannot be read; with it, it can.
    await assert.rejects(srv.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'enc/c' })), (e: Error & { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode === 400);
    const withKey = await srv.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'enc/c', SSECustomerAlgorithm: 'AES256', SSECustomerKey: key.toString('base64') }));
    assert.equal(await withKey.Body!.transformToString(), 'sse-c form');
  });

  it('refuses a form with customer-key fields when the bucket blocks SSE-C (403 AccessDenied)', async () => {
    const blocked = uniqueBucket('post-ssec-blocked');
    await srv.s3.send(new CreateBucketCommand({ Bucket: blocked }));
    await srv.s3.send(new PutBucketEncryptionCommand({ Bucket: blocked, ServerSideEncryptionConfiguration: { Rules: [{ BlockedEncryptionTypes: { EncryptionType: ['SSE-C'] } }] } }));
    const key = randomBytes(32);
    const c = {
      'x-amz-server-side-encryption-customer-algorithm': 'AES256',
      'x-amz-server-side-encryption-customer-key': key.toString('base64'),
      'x-amz-server-side-encryption-customer-key-MD5': createHash('md5').update(key).digest('base64'),
    };
    const fields = signV4([{ bucket: blocked }, ['starts-with', '$key', 'enc/'], ...Object.entries(c).map(([k, v]) => ({ [k]: v }))]);
    const r = await post(`${srv.url}/${blocked}`, [['key', 'enc/c'], ...Object.entries(c), ...fields, ['file', { data: 'sse-c form' }]]);
    assert.equal(r.status, 403, r.text);
    assert.equal(errorCode(r.text), 'AccessDenied');
    const plainFields = signV4([{ bucket: blocked }, ['starts-with', '$key', 'enc/']]);
    const plain = await post(`${srv.url}/${blocked}`, [['key', 'enc/plain'], ...plainFields, ['file', { data: 'plain form' }]]);
    assert.equal(plain.status, 204, plain.text);
  });
});
