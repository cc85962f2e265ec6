// Crash safety: a server process killed (SIGKILL) in the middle of concurrent writes must come
// back with, for every key, the last acknowledged version or one of the writes still in flight
// when it died — never a torn object — and with no blob files that nothing references.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { ACCESS_KEY, REGION, SECRET_KEY, freePort, startServerProcess, bodyBytes, countBlobFiles, tempDir, tempFiles } from './helpers.js';



function startProcess(dataDir: string, port: number): Promise<ChildProcess> {
  return startServerProcess(dataDir, port, ['--inline-threshold', '1024', '--orphan-grace', '1']);
}

/** A client for a server process on `port`, without retries (a retry would blur what was acknowledged). */
function clientFor(port: number, extra: Partial<S3ClientConfig> = {}): S3Client {
  return new S3Client({
    endpoint: `http://127.0.0.1:${port}`,
    region: REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
    maxAttempts: 1,
    ...extra,
  });
}

/** The body of write `seq` to `key`: self-describing, so a torn or mixed object is detectable. */
function bodyFor(key: string, seq: number): Buffer {
  const size = seq % 3 === 0 ? 200 : 150_000 + (seq % 7) * 1000;
  const head = Buffer.from(`${key}#${seq}#`);
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i += head.length) head.copy(out, i);
  return out;
}

function parseBody(b: Buffer): { key: string; seq: number } | undefined {
  const m = /^([^#]+)#(\d+)#/.exec(b.subarray(0, 64).toString());
  if (!m) return undefined;
  const key = m[1]!;
  const seq = Number(m[2]);
  return bodyFor(key, seq).equals(b) ? { key, seq } : undefined;
}

describe('graceful shutdown', () => {
  it('finishes an in-flight upload on SIGTERM, refuses new connections, and exits cleanly', async () => {
    const dataDir = await tempDir();
    const port = await freePort();
    const child = await startProcess(dataDir, port);
    const client = clientFor(port);
    await client.send(new CreateBucketCommand({ Bucket: 'graceful' }));
    // An upload whose body trickles in over ~1.5 s; SIGTERM arrives in the middle of it.
    const chunks = Array.from({ length: 15 }, (_, i) => Buffer.alloc(64 * 1024, i));
    async function* slow() {
      for (const c of chunks) {
        yield c;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const upload = client.send(new PutObjectCommand({ Bucket: 'graceful', Key: 'slow', Body: Readable.from(slow()), ContentLength: 15 * 64 * 1024 }));
    await new Promise((r) => setTimeout(r, 400));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    const refused = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(false);
      });
      s.on('error', () => resolve(true));
    });
    assert.ok(refused, 'new connections are refused while shutting down');
    const res = await upload;
    assert.equal(res.$metadata.httpStatusCode, 200);
    assert.equal(await exited, 0);
    client.destroy();
    // The acknowledged upload is there after a restart.
    const again = await startProcess(dataDir, port);
    const c2 = clientFor(port);
    const got = await c2.send(new GetObjectCommand({ Bucket: 'graceful', Key: 'slow' }));
    assert.ok((await bodyBytes(got.Body)).equals(Buffer.concat(chunks)));
    c2.destroy();
    again.kill('SIGTERM');
    await new Promise((r) => again.once('exit', r));
    await fs.promises.rm(dataDir, { recursive: true, force: true });
  });
});

describe('crash safety', () => {
  const children: ChildProcess[] = [];
  after(() => {
    for (const c of children) c.kill('SIGKILL');
  });

  it('keeps acknowledged writes and never exposes a torn object after SIGKILL', async () => {
    const dataDir = await tempDir();
    const port = await freePort();
    const client = clientFor(port, { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
    const keys = Array.from({ length: 12 }, (_, i) => `key-${i}`);
    const acked = new Map<string, number>();
    const sent = new Map<string, Set<number>>(keys.map((k) => [k, new Set<number>()]));
    let seq = 0;

    let child = await startProcess(dataDir, port);
    children.push(child);
    await client.send(new CreateBucketCommand({ Bucket: 'crash' }));

    for (let round = 0; round < 3; round++) {
      let alive = true;
      const writer = async (key: string) => {
        while (alive) {
          const s = ++seq;
          sent.get(key)!.add(s);
          try {
            await client.send(new PutObjectCommand({ Bucket: 'crash', Key: key, Body: bodyFor(key, s) }));
            if (s > (acked.get(key) ?? 0)) acked.set(key, s);
          } catch {
            return;
          }
        }
      };
      const writers = keys.map(writer);
      await new Promise((r) => setTimeout(r, 300 + Math.random() * 700));
      child.kill('SIGKILL');
      alive = false;
      await Promise.allSettled(writers);
      await new Promise((r) => child.once('exit', r));

      child = await startProcess(dataDir, port);
      children.push(child);
      for (const key of keys) {
        let got: Buffer;
        let etag: string | undefined;
        try {
          const r = await client.send(new GetObjectCommand({ Bucket: 'crash', Key: key }));
          got = await bodyBytes(r.Body);
          etag = r.ETag;
        } catch (e) {
          assert.equal(acked.has(key), false, `${key}: acknowledged but gone (${(e as Error).name})`);
          continue;
        }
        const parsed = parseBody(got);
        assert.ok(parsed && parsed.key === key, `${key}: torn or foreign content after the crash`);
        assert.equal(etag, `"${createHash('md5').update(got).digest('hex')}"`, `${key}: ETag does not match the bytes`);
        const last = acked.get(key) ?? 0;
        assert.ok(parsed.seq >= last, `${key}: acknowledged write ${last} lost (found ${parsed.seq})`);
        assert.ok(sent.get(key)!.has(parsed.seq), `${key}: write ${parsed.seq} was never sent`);
        // What is there now is what later reads must see.
        acked.set(key, parsed.seq);
      }
    }

    // Let the start-up sweep run, then check that every blob file is referenced.
    await new Promise((r) => setTimeout(r, 2500));
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    client.destroy();
    const db = new Database(path.join(dataDir, 'meta', 'meta.db'), { readonly: true });
    const referenced = (db.prepare('SELECT count(*) AS n FROM blobs WHERE refs > 0').get() as { n: number }).n;
    db.close();
    assert.equal(countBlobFiles(dataDir), referenced, 'blob files without metadata remain after restart');
    assert.deepEqual(tempFiles(dataDir), []);
    await fs.promises.rm(dataDir, { recursive: true, force: true });
  });
});
