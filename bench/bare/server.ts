// The baseline: a bare node:http server doing the file I/O an object store must do, and nothing
// else (no auth, no metadata, no XML). Trove's figures are reported as a ratio to this server's.
// It accepts the same path-style URLs as Trove and ignores auth headers.
//
//   node dist/bench/bare/server.js --port <p> --data-dir <dir> --mode small|stream [--host 127.0.0.1]
//
// --mode small   PUT: collect the body, MD5 it, open(O_CREAT|O_TRUNC), write, fdatasync, close.
//                GET: fs.readFile and send it.
// --mode stream  PUT: stream the body into a temp file in the bucket directory while computing
//                MD5, fdatasync, close, rename into place, fsync the directory.
//                GET: open, fstat, stream the file (512 KiB reads, like Trove's blob store).
// PUT /<bucket> creates the bucket directory. Object files are <data-dir>/<bucket>/<encoded key>.
//
// Multipart uploads (either mode), with the same URLs as S3:
//   POST ?uploads            mkdir <bucket>/.mpu-<id>/, fsync the bucket directory; <UploadId>.
//   PUT ?partNumber&uploadId the part, written like a stream-mode PUT into the upload directory
//                            (temp file + MD5 + fdatasync + rename + directory fsync): <dir>/<N>.
//   POST ?uploadId           stats the listed parts and writes a small JSON manifest (temp file,
//                            fdatasync, rename to <bucket>/.manifest-<encoded key>, directory
//                            fsync). No byte of the parts is copied (Trove's Complete copies none).
//   GET                      when <encoded key> does not exist but its manifest does: the part
//                            files streamed in order (512 KiB reads).

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

type Mode = 'small' | 'stream';

function arg(name: string, def?: string): string {
  const i = process.argv.indexOf('--' + name);
  const v = i >= 0 ? process.argv[i + 1] : def;
  if (v === undefined) throw new Error(`--${name} is required`);
  return v;
}

const port = Number(arg('port'));
const host = arg('host', '127.0.0.1');
const dataDir = path.resolve(arg('data-dir'));
const mode = arg('mode', 'small') as Mode;
if (mode !== 'small' && mode !== 'stream') throw new Error(`--mode must be small or stream, got ${mode}`);

const READ_CHUNK = 512 * 1024;
/** Bytes the write stream buffers (and hands to one writev) while a write is in flight, as Trove's blob writer. */
const WRITE_BUFFER = 512 * 1024;
let tmpCounter = 0;
let uploadCounter = 0;

function fail(res: http.ServerResponse, status: number, message: string): void {
  if (status >= 500) process.stderr.write(`bare server: ${status} ${message}\n`);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Message>${message.replace(/[<&>]/g, ' ')}</Message></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function errStatus(e: NodeJS.ErrnoException): number {
  return e.code === 'ENOENT' ? 404 : 500;
}

function ok(res: http.ServerResponse, headers: Record<string, string | number> = {}): void {
  res.writeHead(200, { 'content-length': 0, ...headers });
  res.end();
}

// ---- small objects: one file each, written in one go -------------------------------------------

function putSmall(req: http.IncomingMessage, res: http.ServerResponse, file: string): void {
  const chunks: Buffer[] = [];
  let n = 0;
  req.on('data', (c: Buffer) => {
    chunks.push(c);
    n += c.length;
  });
  req.on('error', () => res.destroy());
  req.on('end', () => {
    const buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, n);
    const etag = createHash('md5').update(buf).digest('hex');
    fs.open(file, 'w', 0o644, (err, fd) => {
      if (err) return fail(res, errStatus(err), err.message);
      const done = (e: NodeJS.ErrnoException | null) => {
        fs.close(fd, (e2) => {
          const x = e ?? e2;
          if (x) fail(res, 500, x.message);
          else ok(res, { etag: `"${etag}"` });
        });
      };
      const writeFrom = (off: number) => {
        if (off >= buf.length) {
          fs.fdatasync(fd, done);
          return;
        }
        fs.write(fd, buf, off, buf.length - off, off, (e, written) => (e ? done(e) : writeFrom(off + written)));
      };
      writeFrom(0);
    });
  });
}

function getSmall(res: http.ServerResponse, file: string): void {
  fs.readFile(file, (err, buf) => {
    if (err) return fail(res, errStatus(err), err.message);
    res.writeHead(200, { 'content-type': 'binary/octet-stream', 'content-length': buf.length });
    res.end(buf);
  });
}

// ---- large objects: temp file, MD5, fdatasync, rename, directory fsync --------------------------

async function fsyncDir(dir: string): Promise<void> {
  const fh = await fs.promises.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function putStream(req: http.IncomingMessage, res: http.ServerResponse, dir: string, file: string): Promise<void> {
  const tmp = path.join(dir, `.tmp-${process.pid}-${tmpCounter++}`);
  const md5 = createHash('md5');
  const fh = await fs.promises.open(tmp, 'wx', 0o644);
  let closed = false;
  try {
    req.on('data', (c: Buffer) => md5.update(c));
    // The stream borrows the descriptor (autoClose: false); `fh` alone closes it.
    await pipeline(req, fs.createWriteStream('', { fd: fh.fd, autoClose: false, highWaterMark: WRITE_BUFFER }));
    await fh.datasync();
    await fh.close();
    closed = true;
    await fs.promises.rename(tmp, file);
    await fsyncDir(dir);
    ok(res, { etag: `"${md5.digest('hex')}"` });
  } catch (e) {
    if (!closed) await fh.close().catch(() => undefined);
    await fs.promises.unlink(tmp).catch(() => undefined);
    throw e;
  }
}

function getStream(res: http.ServerResponse, file: string, dir: string, key: string): void {
  // Callback API and a plain descriptor, handed to the stream (which closes it): the same read
  // path as Trove's blob store (fs.createReadStream, 512 KiB reads).
  fs.open(file, 'r', (err, fd) => {
    if (err?.code === 'ENOENT') {
      // Perhaps a completed multipart upload.
      getManifest(res, dir, key).catch((e: NodeJS.ErrnoException) => fail(res, errStatus(e), e.message));
      return;
    }
    if (err) return fail(res, errStatus(err), err.message);
    fs.fstat(fd, (err2, st) => {
      if (err2) {
        fs.close(fd, () => undefined);
        return fail(res, 500, err2.message);
      }
      res.writeHead(200, { 'content-type': 'binary/octet-stream', 'content-length': st.size });
      pipeline(fs.createReadStream('', { fd, highWaterMark: READ_CHUNK, autoClose: true }), res).catch(() => res.destroy());
    });
  });
}

// ---- multipart uploads: parts are files, Complete writes a manifest ------------------------------

interface Manifest {
  size: number;
  etag: string;
  /** The upload's directory, relative to the bucket directory. */
  dir: string;
  parts: Array<{ n: number; size: number }>;
}

function xml(res: http.ServerResponse, body: string): void {
  const b = `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
  res.writeHead(200, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(b) });
  res.end(b);
}

function uploadDir(dir: string, uploadId: string): string {
  if (!/^[0-9a-z-]+$/.test(uploadId)) throw Object.assign(new Error('bad upload id'), { code: 'ENOENT' });
  return path.join(dir, `.mpu-${uploadId}`);
}

async function createUpload(res: http.ServerResponse, dir: string, bucket: string, key: string): Promise<void> {
  const uploadId = `${process.pid.toString(36)}-${Date.now().toString(36)}-${(uploadCounter++).toString(36)}`;
  await fs.promises.mkdir(uploadDir(dir, uploadId));
  await fsyncDir(dir);
  xml(res, `<InitiateMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${escapeXml(key)}</Key><UploadId>${uploadId}</UploadId></InitiateMultipartUploadResult>`);
}

async function readBody(req: http.IncomingMessage, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    n += (c as Buffer).length;
    if (n > max) throw new Error('body too large');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

async function writeDurably(dir: string, file: string, data: Buffer): Promise<void> {
  const tmp = path.join(dir, `.tmp-${process.pid}-${tmpCounter++}`);
  const fh = await fs.promises.open(tmp, 'wx', 0o644);
  try {
    await fh.writeFile(data);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await fs.promises.rename(tmp, file);
  await fsyncDir(dir);
}

async function completeUpload(req: http.IncomingMessage, res: http.ServerResponse, dir: string, bucket: string, key: string, uploadId: string): Promise<void> {
  const body = (await readBody(req, 8 * 1024 * 1024)).toString('utf8');
  const updir = uploadDir(dir, uploadId);
  const listed = [...body.matchAll(/<PartNumber>\s*(\d+)\s*<\/PartNumber>/g)].map((m) => Number(m[1]));
  const etags = [...body.matchAll(/<ETag>([^<]*)<\/ETag>/g)].map((m) => m[1]!.replace(/&quot;|"/g, ''));
  if (listed.length === 0 || etags.length !== listed.length) return fail(res, 400, 'malformed CompleteMultipartUpload');
  // The parts' sizes (Trove reads them from its metadata); the files must exist.
  const parts = await Promise.all(listed.map(async (n) => ({ n, size: (await fs.promises.stat(path.join(updir, String(n)))).size })));
  const size = parts.reduce((a, p) => a + p.size, 0);
  const etag = createHash('md5').update(Buffer.from(etags.join(''), 'hex')).digest('hex') + `-${parts.length}`;
  const manifest: Manifest = { size, etag, dir: path.basename(updir), parts };
  await writeDurably(dir, manifestPath(dir, key), Buffer.from(JSON.stringify(manifest)));
  xml(res, `<CompleteMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${escapeXml(key)}</Key><ETag>"${etag}"</ETag></CompleteMultipartUploadResult>`);
}

function manifestPath(dir: string, key: string): string {
  return path.join(dir, `.manifest-${encodeURIComponent(key)}`);
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A completed multipart object: its part files streamed one after another. */
async function getManifest(res: http.ServerResponse, dir: string, key: string): Promise<void> {
  const m = JSON.parse(await fs.promises.readFile(manifestPath(dir, key), 'utf8')) as Manifest;
  res.writeHead(200, { 'content-type': 'binary/octet-stream', 'content-length': m.size, etag: `"${m.etag}"` });
  try {
    for (const p of m.parts) {
      await pipeline(fs.createReadStream(path.join(dir, m.dir, String(p.n)), { highWaterMark: READ_CHUNK }), res, { end: false });
    }
    res.end();
  } catch {
    res.destroy();
  }
}

// ---- routing ------------------------------------------------------------------------------------

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function route(req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const p = (q >= 0 ? url.slice(0, q) : url).slice(1);
  const slash = p.indexOf('/');
  const bucket = decode(slash >= 0 ? p.slice(0, slash) : p);
  const key = slash >= 0 ? decode(p.slice(slash + 1)) : '';
  if (!bucket || bucket.includes('/') || bucket.startsWith('.')) return fail(res, 400, 'bad bucket');
  const dir = path.join(dataDir, bucket);
  const onError = (e: unknown) => fail(res, errStatus(e as NodeJS.ErrnoException), (e as Error).message);

  if (!key) {
    if (req.method === 'PUT') {
      req.resume();
      fs.promises.mkdir(dir, { recursive: true }).then(() => ok(res), onError);
      return;
    }
    return fail(res, 501, 'not implemented');
  }
  const file = path.join(dir, encodeURIComponent(key));
  if (q >= 0) {
    const query = new URLSearchParams(url.slice(q + 1));
    const uploadId = query.get('uploadId');
    if (req.method === 'POST' && query.has('uploads')) {
      req.resume();
      createUpload(res, dir, bucket, key).catch(onError);
      return;
    }
    if (req.method === 'PUT' && uploadId !== null) {
      const n = Number(query.get('partNumber'));
      if (!Number.isInteger(n) || n < 1 || n > 10000) {
        req.resume();
        return fail(res, 400, 'bad partNumber');
      }
      // The part: exactly a stream-mode PUT, into the upload's directory.
      let updir: string;
      try {
        updir = uploadDir(dir, uploadId);
      } catch (e) {
        req.resume();
        return onError(e);
      }
      putStream(req, res, updir, path.join(updir, String(n))).catch(onError);
      return;
    }
    if (req.method === 'POST' && uploadId !== null) {
      completeUpload(req, res, dir, bucket, key, uploadId).catch(onError);
      return;
    }
  }
  if (req.method === 'PUT') {
    if (mode === 'small') putSmall(req, res, file);
    else putStream(req, res, dir, file).catch(onError);
  } else if (req.method === 'GET') {
    if (mode === 'small') getSmall(res, file);
    else getStream(res, file, dir, key);
  } else {
    req.resume();
    fail(res, 501, 'not implemented');
  }
}

fs.mkdirSync(dataDir, { recursive: true });
// The same server settings as Trove's (src/http/server.ts).
const server = http.createServer({ requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 65_000, maxHeaderSize: 64 * 1024 }, route);
server.listen(port, host, () => process.stdout.write(`bare server (${mode}) listening on ${host}:${port}\n`));
server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
  process.stderr.write(`bare server: client error ${err.code ?? err.message}\n`);
  socket.destroy();
});
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
