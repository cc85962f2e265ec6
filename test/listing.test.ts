// ListObjects v1 and v2: prefixes, delimiters, pagination, markers, encoding.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, ListObjectsCommand, ListObjectsV2Command, PutObjectCommand, type _Object, type CommonPrefix } from '@aws-sdk/client-s3';
import { errorCode, raw, startServer, uniqueBucket, type TestServer } from './helpers.js';

const KEYS = [
  'a',
  'a/1',
  'a/2',
  'a/b/1',
  'a/b/2',
  'a/c/1',
  'b',
  'b/1',
  'c/1',
  'c+d',
  'c d',
  'e\u00e9',
  'z\uff61',
  'z\u{1f600}',
  'foo-bar',
  'foo-baz',
  'foo-qux/1',
];

function utf8Sorted(keys: string[]): string[] {
  return [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
}

describe('listing', () => {
  let srv: TestServer;
  let bucket: string;
  before(async () => {
    srv = await startServer();
    bucket = uniqueBucket();
    await srv.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await Promise.all(KEYS.map((Key) => srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: Key }))));
  });
  after(async () => srv.stop());

  /** Lists everything through v2 pages of `max`, returning keys and prefixes in order. */
  async function allV2(opts: { prefix?: string; delimiter?: string; max: number; startAfter?: string }) {
    const keys: string[] = [];
    const prefixes: string[] = [];
    let token: string | undefined;
    let pages = 0;
    for (;;) {
      const r = await srv.s3.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          MaxKeys: opts.max,
          ...(opts.prefix ? { Prefix: opts.prefix } : {}),
          ...(opts.delimiter ? { Delimiter: opts.delimiter } : {}),
          ...(opts.startAfter ? { StartAfter: opts.startAfter } : {}),
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      pages++;
      keys.push(...(r.Contents ?? []).map((o: _Object) => o.Key!));
      prefixes.push(...(r.CommonPrefixes ?? []).map((p: CommonPrefix) => p.Prefix!));
      assert.equal(r.KeyCount, (r.Contents?.length ?? 0) + (r.CommonPrefixes?.length ?? 0));
      assert.ok((r.KeyCount ?? 0) <= opts.max);
      if (!r.IsTruncated) break;
      token = r.NextContinuationToken;
      assert.ok(token);
    }
    return { keys, prefixes, pages };
  }

  it('lists every key in UTF-8 byte order, across pages of any size', async () => {
    for (const max of [1, 2, 3, 5, 1000]) {
      const { keys, pages } = await allV2({ max });
      assert.deepEqual(keys, utf8Sorted(KEYS), `max-keys ${max}`);
      assert.equal(pages, Math.max(1, Math.ceil(KEYS.length / max)));
    }
  });

  it('folds keys into common prefixes at the delimiter, each counted once toward max-keys', async () => {
    for (const max of [1, 2, 4, 100]) {
      const r = await allV2({ max, delimiter: '/' });
      assert.deepEqual(r.keys, ['a', 'b', 'c d', 'c+d', 'e\u00e9', 'foo-bar', 'foo-baz', 'z\uff61', 'z\u{1f600}'], `max ${max}`);
      assert.deepEqual(r.prefixes, ['a/', 'b/', 'c/', 'foo-qux/'], `max ${max}`);
    }
    const nested = await allV2({ max: 2, prefix: 'a/', delimiter: '/' });
    assert.deepEqual(nested.keys, ['a/1', 'a/2']);
    assert.deepEqual(nested.prefixes, ['a/b/', 'a/c/']);
  });

  it('takes any delimiter string, searched after the prefix', async () => {
    const r = await allV2({ max: 100, delimiter: '-b' });
    assert.deepEqual(r.prefixes, ['foo-b']);
    assert.ok(r.keys.includes('foo-qux/1'));
    const p = await allV2({ max: 100, prefix: 'foo', delimiter: '-' });
    assert.deepEqual(p.prefixes, ['foo-']);
    assert.deepEqual(p.keys, []);
  });

  it('starts after start-after, and skips a common prefix that the marker lies in', async () => {
    const r = await allV2({ max: 100, startAfter: 'b' });
    assert.deepEqual(r.keys, utf8Sorted(KEYS).filter((k) => Buffer.compare(Buffer.from(k), Buffer.from('b')) > 0));
    const v1 = await srv.s3.send(new ListObjectsCommand({ Bucket: bucket, Delimiter: '/', Marker: 'a/b' }));
    assert.deepEqual((v1.CommonPrefixes ?? []).map((p) => p.Prefix), ['b/', 'c/', 'foo-qux/']);
    assert.equal(v1.Contents?.[0]?.Key, 'b');
  });

  it('pages v1 with NextMarker when a delimiter is given, and marker otherwise', async () => {
    const seen: string[] = [];
    let marker: string | undefined;
    for (;;) {
      const r = await srv.s3.send(new ListObjectsCommand({ Bucket: bucket, Delimiter: '/', MaxKeys: 2, ...(marker ? { Marker: marker } : {}) }));
      seen.push(...(r.Contents ?? []).map((o) => o.Key!), ...(r.CommonPrefixes ?? []).map((p) => p.Prefix!));
      if (!r.IsTruncated) break;
      assert.ok(r.NextMarker);
      marker = r.NextMarker;
    }
    assert.equal(seen.length, 13);
    const plain = await srv.s3.send(new ListObjectsCommand({ Bucket: bucket, MaxKeys: 3 }));
    assert.equal(plain.IsTruncated, true);
    assert.equal(plain.NextMarker, undefined);
    assert.equal(plain.Contents?.[0]?.Owner?.DisplayName, 'root');
    assert.equal(plain.Contents?.[0]?.StorageClass, 'STANDARD');
  });

  it('answers max-keys=0 with an empty, untruncated page, and rejects junk', async () => {
    const r = await srv.s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 0 }));
    assert.equal(r.IsTruncated, false);
    assert.equal(r.KeyCount, 0);
    const bad = await raw(srv, { method: 'GET', path: `/${bucket}`, query: { 'list-type': '2', 'max-keys': 'blah' } });
    assert.equal(errorCode(bad.text), 'InvalidArgument');
    const badToken = await raw(srv, { method: 'GET', path: `/${bucket}`, query: { 'list-type': '2', 'continuation-token': 'garbage' } });
    assert.equal(errorCode(badToken.text), 'InvalidArgument');
    const badEnc = await raw(srv, { method: 'GET', path: `/${bucket}`, query: { 'encoding-type': 'base64' } });
    assert.equal(errorCode(badEnc.text), 'InvalidArgument');
  });

  it('url-encodes keys and prefixes with encoding-type=url', async () => {
    const r = await raw(srv, { method: 'GET', path: `/${bucket}`, query: { 'list-type': '2', prefix: 'c', delimiter: '/', 'encoding-type': 'url' } });
    assert.equal(r.status, 200);
    assert.match(r.text, /<Key>c%20d<\/Key>/);
    assert.match(r.text, /<Key>c%2Bd<\/Key>/);
    assert.match(r.text, /<Prefix>c\/<\/Prefix>/);
    assert.match(r.text, /<EncodingType>url<\/EncodingType>/);
    // The JS SDK hands encoded keys through as they are (boto3 decodes them).
    const sdk = await srv.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'e', EncodingType: 'url' }));
    assert.deepEqual(sdk.Contents?.map((o) => o.Key), ['e%C3%A9']);
    assert.equal(decodeURIComponent(sdk.Contents![0]!.Key!), 'e\u00e9');
  });

  it('costs per page, not per bucket: seeks past large common prefixes', async () => {
    const b = uniqueBucket('big');
    await srv.s3.send(new CreateBucketCommand({ Bucket: b }));
    const keys = Array.from({ length: 3000 }, (_, i) => `deep/${String(i).padStart(5, '0')}`).concat(['top', 'zz/1']);
    const meta = srv.trove.app.meta;
    const bucketRec = (await meta.getBucket(b))!;
    for (const Key of keys) {
      await meta.putObject(bucketRec.id, Key, { size: 0, etag: 'd41d8cd98f00b204e9800998ecf8427e', lastModified: Date.now(), owner: 'x', storageClass: 'STANDARD', headers: {}, userMeta: {}, inline: Buffer.alloc(0) });
    }
    // Count store calls made by one delimited listing.
    let calls = 0;
    let rows = 0;
    const orig = meta.listObjects.bind(meta);
    meta.listObjects = async (id, q) => {
      calls++;
      const res = await orig(id, q);
      rows += res.length;
      return res;
    };
    try {
      const r = await srv.s3.send(new ListObjectsV2Command({ Bucket: b, Delimiter: '/' }));
      assert.deepEqual(r.CommonPrefixes?.map((p) => p.Prefix), ['deep/', 'zz/']);
      assert.deepEqual(r.Contents?.map((o) => o.Key), ['top']);
      assert.ok(rows < 50 && calls < 10, `read ${rows} rows in ${calls} calls for 3 results`);
    } finally {
      meta.listObjects = orig;
    }
  });
});
