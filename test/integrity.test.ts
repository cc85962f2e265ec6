// Data at rest: damaged stored bytes are never served as an object's data. Inline rows are
// damaged on disk behind a real server's back; reads go through the real SDK and raw HTTP.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CopyObjectCommand, CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { bodyBytes, errorCode, raw, s3error, startServer, tempDir, uniqueBucket, type RawResponse, type TestServer } from './helpers.js';

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

