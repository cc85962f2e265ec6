// A multipart/form-data body read as it arrives (POST object): the fields before the file are
// collected, within a size limit; the file is handed over as a stream, never buffered whole; what
// follows the file is read and ignored, as S3 does, except a second file, which S3 refuses.
//
// Parsing is @fastify/busboy's. The part named "file" (any case) is the file, whatever its
// headers: clients such as python-requests send every field with a filename, and a browser may
// send a file input's part without one. Field names are kept as sent; callers compare them
// case-insensitively.

import { Busboy, type BusboyFileStream, type BusboyInstance } from '@fastify/busboy';
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../s3/errors.js';

/**
 * The fields preceding the file may total at most this many bytes (names and values); beyond it
 * S3 answers MaxPostPreDataLengthExceededError. S3's limit is 20 KB.
 */
export const MAX_PRE_FILE_BYTES = 20 * 1024;
/** What may follow the file (ignored fields, the closing boundary) before the form is refused. */
export const MAX_POST_FILE_BYTES = 20 * 1024;
/** Fields before the file, at most (empty ones cost no bytes but still cost work). */
export const MAX_PRE_FILE_FIELDS = 1000;

export interface FormField {
  /** As sent. */
  name: string;
  value: string;
}

export interface FormFile {
  /** As sent ("file" in any case). */
  name: string;
  /** The filename of the part's Content-Disposition ('' when none). */
  filename: string;
  /** The part's own Content-Type, if any. */
  contentType: string | undefined;
  /** The file's bytes, as they arrive. Fails with an S3Error if the form turns out malformed. */
  stream: AsyncIterable<Buffer>;
}

export interface FormHead {
  /** The fields before the file, in order. */
  fields: FormField[];
  file: FormFile;
}

type Part = { kind: 'field'; field: FormField; size: number } | { kind: 'file'; name: string; filename: string; contentType: string | undefined; stream: BusboyFileStream } | { kind: 'end' };

function malformed(): S3Error {
  return new S3Error('MalformedPOSTRequest');
}

/** Whether a Content-Type announces multipart/form-data (with a boundary). */
export function isMultipartForm(contentType: string | undefined): boolean {
  return contentType !== undefined && /^multipart\/form-data\s*;/i.test(contentType.trim()) && /boundary=/i.test(contentType);
}

export class FormReader {
  private readonly parser: BusboyInstance;
  private readonly parts: Part[] = [];
  private waiting: { resolve: () => void } | undefined;
  private failure: unknown;
  private finished = false;
  private file: BusboyFileStream | undefined;
  /** The last file part the parser emitted (read or not). */
  private lastFile: BusboyFileStream | undefined;

  constructor(
    headers: IncomingHttpHeaders,
    private readonly body: AsyncIterable<Buffer>,
  ) {
    const contentType = headers['content-type'];
    if (!isMultipartForm(contentType)) {
      throw new S3Error('PreconditionFailed', undefined, { Condition: 'Bucket POST must be of the enclosure-type multipart/form-data' });
    }
    try {
      this.parser = Busboy({
        headers: { ...headers, 'content-type': contentType! },
        isPartAFile: (name) => name?.toLowerCase() === 'file',
        // The caller limits what it keeps; these only bound what one part may hold in memory.
        limits: { fieldNameSize: 1024, fieldSize: MAX_PRE_FILE_BYTES + 1, headerPairs: 100, headerSize: 16 * 1024 },
      });
    } catch {
      throw malformed();
    }
    this.parser.on('field', (name: string, value: string, nameTruncated: boolean, valueTruncated: boolean) => {
      // A truncated name or value is larger than any form S3 accepts.
      const size = nameTruncated || valueTruncated ? Infinity : Buffer.byteLength(name) + Buffer.byteLength(value);
      this.push({ kind: 'field', field: { name, value }, size });
    });
    this.parser.on('file', (name: string, stream: BusboyFileStream, filename: string, _encoding: string, mimeType: string) => {
      // Its failures reach the reader through fail(); an unheard 'error' would crash the process.
      stream.on('error', () => undefined);
      this.lastFile = stream;
      this.push({ kind: 'file', name, filename: filename ?? '', contentType: mimeType || undefined, stream });
    });
    this.parser.on('finish', () => {
      this.finished = true;
      this.push({ kind: 'end' });
    });
    this.parser.on('error', () => this.fail(malformed()));
    void this.pump();
  }

  /** Feeds the body to the parser, respecting its backpressure (which the file's reader sets). */
  private async pump(): Promise<void> {
    try {
      for await (const chunk of this.body) {
        if (this.failure) return;
        if (!this.parser.write(chunk)) {
          await new Promise<void>((resolve, reject) => {
            const done = () => {
              this.parser.off('drain', done);
              this.parser.off('error', done);
              this.parser.off('close', done);
              this.failure ? reject(this.failure) : resolve();
            };
            this.parser.on('drain', done);
            this.parser.on('error', done);
            this.parser.on('close', done);
          });
        }
      }
      if (this.failure) return;
      this.parser.end();
      setImmediate(() => this.checkComplete());
    } catch (e) {
      this.fail(e);
    }
  }

  /**
   * After the body ended: a body that ends mid-form leaves the parser without 'finish', so the
   * form was not complete. But the parser also holds back 'finish' until its file has been read,
   * and the reader may not have started yet (it waits for the store, say): then decide once the
   * file has been read.
   */
  private checkComplete(): void {
    if (this.finished || this.failure) return;
    const f = this.lastFile;
    if (f && !f.readableEnded && !f.destroyed) {
      f.once('end', () => setImmediate(() => this.checkComplete()));
      return;
    }
    this.fail(malformed());
  }

  private push(p: Part): void {
    this.parts.push(p);
    this.wake();
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.resolve();
  }

  private fail(e: unknown): void {
    if (this.failure) return;
    this.failure = e instanceof S3Error ? e : malformed();
    // A reader of the file sees the failure instead of an early end.
    if (this.file && !this.file.readableEnded) this.file.destroy(this.failure as Error);
    // The pump may be waiting for the parser to drain: stop it ('close' releases that wait).
    this.parser.destroy();
    this.wake();
  }

  private async next(): Promise<Part> {
    for (;;) {
      if (this.failure) throw this.failure;
      const p = this.parts.shift();
      if (p) return p;
      await new Promise<void>((resolve) => (this.waiting = { resolve }));
    }
  }

  /**
   * Reads the fields up to the file. MaxPostPreDataLengthExceededError when they exceed
   * MAX_PRE_FILE_BYTES; IncorrectNumberOfFilesInPostRequest when the form has no file.
   */
  async head(): Promise<FormHead> {
    const fields: FormField[] = [];
    let size = 0;
    for (;;) {
      const p = await this.next();
      if (p.kind === 'end') throw new S3Error('IncorrectNumberOfFilesInPostRequest');
      if (p.kind === 'field') {
        size += p.size;
        if (size > MAX_PRE_FILE_BYTES || fields.length >= MAX_PRE_FILE_FIELDS) throw new S3Error('MaxPostPreDataLengthExceededError');
        fields.push(p.field);
        continue;
      }
      this.file = p.stream;
      const stream = p.stream;
      return { fields, file: { name: p.name, filename: p.filename, contentType: p.contentType, stream: this.fileBytes(stream) } };
    }
  }

  private async *fileBytes(stream: BusboyFileStream): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of stream) {
        if (this.failure) throw this.failure;
        yield chunk as Buffer;
      }
    } catch (e) {
      // The parser's own errors (a part cut short by the end of the body) are a malformed form.
      throw this.failure ?? (e instanceof S3Error ? e : malformed());
    }
    if (this.failure) throw this.failure;
  }

  /**
   * Reads the rest of the form after the file has been consumed: fields are ignored (S3 ignores
   * fields after the file), a second file is IncorrectNumberOfFilesInPostRequest.
   */
  async rest(): Promise<void> {
    let size = 0;
    for (;;) {
      const p = await this.next();
      if (p.kind === 'end') return;
      if (p.kind === 'file') {
        p.stream.resume();
        throw new S3Error('IncorrectNumberOfFilesInPostRequest');
      }
      size += p.size;
      if (size > MAX_POST_FILE_BYTES) throw malformed();
    }
  }

  /**
   * Stops parsing (an error answered early, whatever failed): the pipeline discards the rest of
   * the body. Without it the parser would wait forever for its file to be read.
   */
  abandon(): void {
    this.fail(malformed());
  }
}
