// Data at rest: damaged, truncated or missing stored bytes are never served as an object's data.
// Blob files and inline rows are damaged on disk behind a real server's back; reads go through the
// real SDK and raw HTTP.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { BLOCK_SIZE } from '../src/store/blob/layout.js';
import { bodyBytes, errorCode, raw, s3error, startServer, tempDir, uniqueBucket, type RawResponse, type TestServer } from './helpers.js';

const BS = BLOCK_SIZE;
const MiB = 1024 * 1024;

/** The blob files holding an object's bytes (one, or one per part), in order. */
async function blobFiles(srv: TestServer, bucket: string, key: string): Promise<string[]> {
  const { meta } = srv.trove.app;
  const b = await meta.getBucket(bucket);
  const v = await meta.getObject(b!.id, key);
  assert.ok(v && !v.inline, `${key} is stored in blobs`);
  const ids = v.blobId ? [v.blobId] : (await meta.getObjectParts(v.rowId)).map((p) => p.blobId);
  return ids.map((id) => path.join(srv.dataDir, 'blobs', id.slice(0, 2), id));
}

function flipByte(file: string, offset: number): void {
  const fd = fs.openSync(file, 'r+');
  try {
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, offset);
    b[0]! ^= 0xff;
    fs.writeSync(fd, b, 0, 1, offset);
  } finally {
    fs.closeSync(fd);
  }
}

function get(srv: TestServer, bucket: string, key: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return raw(srv, { method: 'GET', path: `/${bucket}/${key}`, headers, partial: true });
}

function head(srv: TestServer, bucket: string, key: string): Promise<RawResponse> {
  return raw(srv, { method: 'HEAD', path: `/${bucket}/${key}`, partial: true });
}

/** A 500 InternalError answered before any of the object's bytes. */
function assertRefused(r: RawResponse, label: string, isHead = false): void {
  assert.equal(r.status, 500, `${label}: status`);
  assert.equal(r.error, undefined, `${label}: a complete error response`);
  if (!isHead) {
    assert.equal(errorCode(r.text), 'InternalError', label);
    assert.match(r.text, /stored data is missing or damaged/, label);
  }
}

async function copyFails(s3: S3Client, bucket: string, key: string): Promise<void> {
  const e = await s3error(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: `${key}.copy`, CopySource: `${bucket}/${key}` })));
  assert.equal(e.$metadata.httpStatusCode, 500);
  assert.equal(e.name, 'InternalError');
}

describe('data integrity: blobs', () => {
  let srv: TestServer;
  let s3: S3Client;
  let bucket: string;
  before(async () => {
    srv = await startServer();
    s3 = srv.client({ maxAttempts: 1 });
    bucket = uniqueBucket();
    await srv.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  after(async () => srv.stop());

  const failures = () => srv.trove.app.counters.integrityFailures;

  it('never sends a damaged block: GET stops (connection reset) exactly where it starts', async () => {
    const data = randomBytes(10 * BS + 123);
    await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'flipped', Body: data }));
    const [file] = await blobFiles(srv, bucket, 'flipped');
    const damagedBlock = 5;
    flipByte(file!, damagedBlock * BS + 1000);
    const before = failures();

    const r = await get(srv, bucket, 'flipped');
    assert.equal(r.status, 200);
    assert.equal(Number(r.headers['content-length']), data.length);
    assert.ok(r.error, 'the connection fails');
    assert.equal(r.body.length, damagedBlock * BS, 'exactly the bytes before the damaged block');
    assert.deepEqual(r.body, data.subarray(0, damagedBlock * BS));
    assert.equal(failures(), before + 1);

    // Ranges that do not touch the damaged block are served.
    for (const [a, b] of [
      [0, damagedBlock * BS - 1],
      [100, 3 * BS + 7],
      [(damagedBlock + 1) * BS, data.length - 1],
      [(damagedBlock + 1) * BS + 5, (damagedBlock + 1) * BS + 5],
    ] as const) {
      const ok = await get(srv, bucket, 'flipped', { range: `bytes=${a}-${b}` });
      assert.equal(ok.status, 206, `${a}-${b}`);
      assert.equal(ok.error, undefined);
      assert.deepEqual(ok.body, data.subarray(a, b + 1), `${a}-${b}`);
    }
    // Ranges that do are not.
    for (const [a, b] of [
      [damagedBlock * BS, damagedBlock * BS],
      [damagedBlock * BS + 2000, damagedBlock * BS + 3000],
      [damagedBlock * BS - 10, damagedBlock * BS + 10],
      [0, data.length - 1],
    ] as const) {
      const bad = await get(srv, bucket, 'flipped', { range: `bytes=${a}-${b}` });
      assert.ok(bad.error, `${a}-${b} fails`);
      assert.deepEqual(bad.body, data.subarray(a, Math.max(a, damagedBlock * BS)), `${a}-${b}: the bytes before the damaged block`);
    }
    // The SDK sees a failed download, not an object.
    await assert.rejects(async () => {
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'flipped' }));
      await bodyBytes(got.Body);
    });
    assert.equal(failures(), before + 6);
    // Copies that read the bytes read them through the same checks.
    const e = await s3error(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'flipped-crc', CopySource: `${bucket}/flipped`, ChecksumAlgorithm: 'SHA256' })));
    assert.equal(e.name, 'InternalError');
    const up = await srv.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'from-flipped' }));
    const range = `bytes=${damagedBlock * BS - 5}-${damagedBlock * BS + 5}`;
    const e2 = await s3error(s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'from-flipped', UploadId: up.UploadId, PartNumber: 1, CopySource: `${bucket}/flipped`, CopySourceRange: range })));
    assert.equal(e2.name, 'InternalError');
    assert.equal(failures(), before + 8);
  });

  it('refuses a truncated blob before any byte: GET, HEAD, CopyObject, UploadPartCopy', async () => {
    const data = randomBytes(3 * BS + 5);
    await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'truncated', Body: data }));
    const [file] = await blobFiles(srv, bucket, 'truncated');
    fs.truncateSync(file!, 2 * BS);
    const before = failures();
    assertRefused(await get(srv, bucket, 'truncated'), 'GET');
    assertRefused(await get(srv, bucket, 'truncated', { range: 'bytes=0-10' }), 'ranged GET');
    assertRefused(await head(srv, bucket, 'truncated'), 'HEAD', true);
    await copyFails(s3, bucket, 'truncated');
    const up = await srv.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'from-truncated' }));
    const e = await s3error(s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'from-truncated', UploadId: up.UploadId, PartNumber: 1, CopySource: `${bucket}/truncated` })));
    assert.equal(e.name, 'InternalError');
    assert.equal(failures(), before + 5);
  });

  it('refuses a blob whose file is gone: HEAD, GET and CopyObject answer 500, not 200', async () => {
    const data = randomBytes(200 * 1024);
    await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'deleted', Body: data }));
    const [file] = await blobFiles(srv, bucket, 'deleted');
    fs.unlinkSync(file!);
    assertRefused(await head(srv, bucket, 'deleted'), 'HEAD', true);
    assertRefused(await get(srv, bucket, 'deleted'), 'GET');
    await copyFails(s3, bucket, 'deleted');
  });

  it('notices a blob deleted or truncated after it was read (its file may still be open)', async () => {
    const data = randomBytes(3 * BS);
    for (const damage of ['deleted', 'truncated'] as const) {
      const key = `read-then-${damage}`;
      await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data }));
      assert.deepEqual((await get(srv, bucket, key)).body, data);
      const [file] = await blobFiles(srv, bucket, key);
      if (damage === 'deleted') fs.unlinkSync(file!);
      else fs.truncateSync(file!, data.length);
      assertRefused(await head(srv, bucket, key), `HEAD after ${damage}`, true);
      assertRefused(await get(srv, bucket, key), `GET after ${damage}`);
    }
  });

  it('refuses a multipart object with a part blob missing before headers (GET, HEAD, copy)', async () => {
    const parts = [randomBytes(5 * MiB + 1), randomBytes(5 * MiB), randomBytes(1000)];
    const up = await srv.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp' }));
    const done = [];
    for (const [i, p] of parts.entries()) {
      const r = await srv.s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId: up.UploadId, PartNumber: i + 1, Body: p }));
      done.push({ PartNumber: i + 1, ETag: r.ETag! });
    }
    await srv.s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'mp', UploadId: up.UploadId, MultipartUpload: { Parts: done } }));
    const files = await blobFiles(srv, bucket, 'mp');
    assert.equal(files.length, 3);
    fs.unlinkSync(files[1]!);
    assertRefused(await get(srv, bucket, 'mp'), 'GET');
    assertRefused(await head(srv, bucket, 'mp'), 'HEAD', true);
    assertRefused(await get(srv, bucket, 'mp', { range: `bytes=${5 * MiB}-${5 * MiB + 10}` }), 'ranged GET over the missing part');
    await copyFails(s3, bucket, 'mp');
    // The first part alone is intact and is still served.
    const first = await get(srv, bucket, 'mp', { range: `bytes=0-${5 * MiB}` });
    assert.equal(first.status, 206);
    assert.deepEqual(first.body, parts[0]);
  });
});

describe('data integrity: inline objects', () => {
  let dataDir: string;
  let srv: TestServer;
  let bucket: string;
  before(async () => {
    dataDir = await tempDir();
    srv = await startServer({ dataDir });
    bucket = uniqueBucket();
    await srv.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  after(async () => {
    await srv.stop();
    await fs.promises.rm(dataDir, { recursive: true, force: true });
  });

  it('refuses an inline object whose bytes were damaged in the database: GET, HEAD and CopyObject fail', async () => {
    const data = randomBytes(1000);
    await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'small', Body: data }));
    await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'intact', Body: Buffer.from('still fine') }));
    await srv.stop();

    // Damage one byte of the row's bytes wherever SQLite keeps it (database file or WAL).
    const pattern = data.subarray(400, 432);
    let found = 0;
    for (const name of ['meta.db', 'meta.db-wal']) {
      const file = path.join(dataDir, 'meta', name);
      if (!fs.existsSync(file)) continue;
      const bytes = fs.readFileSync(file);
      for (let at = bytes.indexOf(pattern); at >= 0; at = bytes.indexOf(pattern, at + 1)) {
        flipByte(file, at + 10);
        found++;
      }
    }
    assert.ok(found > 0, 'the inline bytes are in the database');

    srv = await startServer({ dataDir });
    const s3 = srv.client({ maxAttempts: 1 });
    assertRefused(await get(srv, bucket, 'small'), 'GET');
    assertRefused(await head(srv, bucket, 'small'), 'HEAD', true);
    await copyFails(s3, bucket, 'small');
    assert.equal(srv.trove.app.counters.integrityFailures, 3);
    const ok = await srv.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'intact' }));
    assert.equal((await bodyBytes(ok.Body)).toString(), 'still fine');
  });
});

describe('data integrity: every range of every size round-trips', () => {
  let srv: TestServer;
  let bucket: string;
  before(async () => {
    // Every object above 0 bytes in a blob, so that the block arithmetic is exercised.
    srv = await startServer({ inlineThreshold: 0 });
    bucket = uniqueBucket();
    await srv.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  after(async () => srv.stop());

  /** Ranges at, before and after block boundaries (and part boundaries), open-ended and suffix ranges. */
  function rangesFor(size: number, boundaries: number[]): string[] {
    const points = new Set<number>();
    for (const b of [0, BS, 2 * BS, size, ...boundaries]) for (const d of [-1, 0, 1]) if (b + d >= 0 && b + d < size) points.add(b + d);
    const sorted = [...points].sort((x, y) => x - y);
    const out: string[] = [];
    for (const a of sorted) {
      for (const b of sorted) if (b >= a) out.push(`bytes=${a}-${b}`);
      out.push(`bytes=${a}-`);
    }
    for (const n of [1, BS - 1, BS, BS + 1, size, size + 10]) out.push(`bytes=-${n}`);
    return out;
  }

  function expected(data: Buffer, range: string): Buffer {
    const m = /^bytes=(\d*)-(\d*)$/.exec(range)!;
    if (m[1] === '') return data.subarray(Math.max(0, data.length - Number(m[2])));
    return data.subarray(Number(m[1]), m[2] === '' ? data.length : Number(m[2]) + 1);
  }

  async function checkAll(key: string, data: Buffer, boundaries: number[] = []): Promise<void> {
    const whole = await get(srv, bucket, key);
    assert.equal(whole.status, 200, key);
    assert.equal(whole.error, undefined);
    assert.deepEqual(whole.body, data, `${key}: whole object`);
    const h = await head(srv, bucket, key);
    assert.equal(h.status, 200);
    assert.equal(Number(h.headers['content-length']), data.length);
    if (data.length === 0) return;
    for (const range of rangesFor(data.length, boundaries)) {
      const r = await get(srv, bucket, key, { range });
      assert.equal(r.status, 206, `${key} ${range}`);
      assert.equal(r.error, undefined, `${key} ${range}`);
      assert.deepEqual(r.body, expected(data, range), `${key} ${range}`);
    }
  }

  for (const size of [0, 1, BS - 1, BS, BS + 1, 128 * 1024 + 1, MiB + 3]) {
    it(`a ${size}-byte object, whole and in every range`, async () => {
      const data = randomBytes(size);
      await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `size-${size}`, Body: data }));
      await checkAll(`size-${size}`, data);
    });
  }

  it('a multipart object, whole and in every range (across part boundaries too)', async () => {
    const parts = [randomBytes(5 * MiB + 7), randomBytes(5 * MiB), randomBytes(2 * BS + 5)];
    const up = await srv.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp' }));
    const done = [];
    for (const [i, p] of parts.entries()) {
      const r = await srv.s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId: up.UploadId, PartNumber: i + 1, Body: p }));
      done.push({ PartNumber: i + 1, ETag: r.ETag! });
    }
    await srv.s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'mp', UploadId: up.UploadId, MultipartUpload: { Parts: done } }));
    const data = Buffer.concat(parts);
    const p1 = parts[0]!.length;
    const p2 = p1 + parts[1]!.length;
    await checkAll('mp', data, [p1, p2, p1 + BS, p2 + BS, p1 - BS]);
    // Copies read through the verifying path and come out identical.
    await srv.s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'mp-copy', CopySource: `${bucket}/mp`, ChecksumAlgorithm: 'CRC32' }));
    const copy = await get(srv, bucket, 'mp-copy');
    assert.deepEqual(copy.body, data);
  });
});

describe('data integrity: data directories from before blob checksums', () => {
  /** Turns a fresh data directory into one written by schema 1: no inline CRCs, blobs without checksums. */
  function makeLegacy(dataDir: string, blobFilesToStrip: string[], sizes: number[]): void {
    const db = new Database(path.join(dataDir, 'meta', 'meta.db'));
    db.exec('ALTER TABLE objects DROP COLUMN inline_crc');
    db.prepare("UPDATE meta SET v = '1' WHERE k = 'schema_version'").run();
    db.prepare("DELETE FROM meta WHERE k = 'setting:legacy-blobs'").run();
    db.close();
    blobFilesToStrip.forEach((f, i) => fs.truncateSync(f, sizes[i]!));
  }

  it('serves blobs without checksums in a directory upgraded from schema 1, and refuses them in a new one', async () => {
    const dataDir = await tempDir();
    let srv = await startServer({ dataDir });
    try {
      const bucket = uniqueBucket();
      await srv.s3.send(new CreateBucketCommand({ Bucket: bucket }));
      const big = randomBytes(3 * BS + 11);
      const small = Buffer.from('inline bytes from before');
      await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'old', Body: big }));
      await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'old-inline', Body: small }));
      const [file] = await blobFiles(srv, bucket, 'old');
      await srv.stop();

      // In a directory created with checksums, a blob file without them is damaged.
      fs.truncateSync(file!, big.length);
      srv = await startServer({ dataDir });
      assertRefused(await get(srv, bucket, 'old'), 'strict GET');
      assertRefused(await head(srv, bucket, 'old'), 'strict HEAD', true);
      await srv.stop();

      // The same directory as schema 1 left it: upgraded, marked legacy, served unverified.
      makeLegacy(dataDir, [], []);
      srv = await startServer({ dataDir });
      const r = await get(srv, bucket, 'old');
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, big);
      const ranged = await get(srv, bucket, 'old', { range: `bytes=${BS - 1}-${2 * BS}` });
      assert.deepEqual(ranged.body, big.subarray(BS - 1, 2 * BS + 1));
      assert.equal((await head(srv, bucket, 'old')).status, 200);
      assert.deepEqual((await get(srv, bucket, 'old-inline')).body, small);
      // New writes in a legacy directory get checksums and are verified.
      const fresh = randomBytes(2 * BS + 1);
      await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'new', Body: fresh }));
      const [newFile] = await blobFiles(srv, bucket, 'new');
      flipByte(newFile!, 10);
      const bad = await get(srv, bucket, 'new');
      assert.ok(bad.error);
      assert.equal(bad.body.length, 0);
      // A legacy file of any other length is still refused.
      fs.truncateSync(file!, big.length - 1);
      assertRefused(await get(srv, bucket, 'old'), 'short legacy GET');
    } finally {
      await srv.stop();
      await fs.promises.rm(dataDir, { recursive: true, force: true });
    }
  });
});
