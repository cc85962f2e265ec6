// Reading a request body the way authenticate() said it must be read: passing it through and
// counting (unsigned), hashing it (x-amz-content-sha256), or removing aws-chunked framing while
// checking every chunk signature and the trailers.
//
// The one rule every mode follows: a failure is thrown by the iterator *before* it reports
// completion. Consumers commit only after iteration completes, so a body that does not verify is
// never committed, even though its bytes may already have been handed out (a consumer writing to
// a temporary file is expected to discard it on error).

import { createHash, type Hash } from 'node:crypto';
import { S3Error } from '../s3/errors.js';
import { EMPTY_SHA256, hmacHex, sha256Hex, signaturesEqual } from './signing.js';
import type { ChunkSigningContext, DecodedBody, PayloadMode } from './types.js';

export function openBody(source: AsyncIterable<Buffer>, payload: PayloadMode, contentLength: number | undefined): DecodedBody {
  switch (payload.kind) {
    case 'unsigned':
      return new PlainBody(source, contentLength, undefined);
    case 'sha256':
      return new PlainBody(source, contentLength, payload.expectedHex);
    case 'chunked':
      return new ChunkedBody(source, payload, contentLength);
  }
}

function incompleteBody(): S3Error {
  return new S3Error('IncompleteBody');
}

abstract class OnceBody implements DecodedBody {
  private started = false;
  abstract readonly trailers: Record<string, string>;
  abstract readonly length: number;

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    // A second pass would see an exhausted socket and "succeed" with nothing.
    if (this.started) throw new Error('request body can only be read once');
    this.started = true;
    return this.read();
  }

  protected abstract read(): AsyncGenerator<Buffer, void, undefined>;
}

// ---------------------------------------------------------------------------------------------
// Unframed bodies

class PlainBody extends OnceBody {
  readonly trailers: Record<string, string> = {};
  private count = 0;

  constructor(
    private readonly source: AsyncIterable<Buffer>,
    private readonly contentLength: number | undefined,
    private readonly expectedSha256: string | undefined,
  ) {
    super();
  }

  get length(): number {
    return this.count;
  }

  protected async *read(): AsyncGenerator<Buffer, void, undefined> {
    const hash = this.expectedSha256 === undefined ? undefined : createHash('sha256');
    for await (const piece of this.source) {
      this.count += piece.length;
      if (this.contentLength !== undefined && this.count > this.contentLength) throw incompleteBody();
      hash?.update(piece);
      yield piece;
    }
    if (this.contentLength !== undefined && this.count !== this.contentLength) throw incompleteBody();
    if (hash && this.expectedSha256 !== undefined) {
      const computed = hash.digest('hex');
      if (computed !== this.expectedSha256) {
        throw new S3Error('XAmzContentSHA256Mismatch', undefined, {
          ClientComputedContentSHA256: this.expectedSha256,
          S3ComputedContentSHA256: computed,
        });
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// aws-chunked

type ChunkedPayload = Extract<PayloadMode, { kind: 'chunked' }>;

class ChunkedBody extends OnceBody {
  private readonly decoder: AwsChunkedDecoder;

  constructor(
    private readonly source: AsyncIterable<Buffer>,
    payload: ChunkedPayload,
    contentLength: number | undefined,
  ) {
    super();
    this.decoder = new AwsChunkedDecoder(payload, contentLength);
  }

  get trailers(): Record<string, string> {
    return this.decoder.trailers;
  }

  get length(): number {
    return this.decoder.decoded;
  }

  protected async *read(): AsyncGenerator<Buffer, void, undefined> {
    const out: Buffer[] = [];
    for await (const piece of this.source) {
      this.decoder.write(piece, out);
      for (const slice of out) yield slice;
      out.length = 0;
    }
    this.decoder.end();
  }
}

/** S3: every chunk but the last must carry at least 8 KiB (signed streaming only). */
const MIN_CHUNK_SIZE = 8192;
/** "<16 hex digits>;chunk-signature=<64 hex>" is ~100 bytes; leave room for other extensions. */
const MAX_CHUNK_HEADER = 4096;
const MAX_TRAILER_LINE = 16 * 1024;
const MAX_TRAILERS = 16;
const TRAILER_SIGNATURE = 'x-amz-trailer-signature';

const CR = 0x0d;
const LF = 0x0a;

const State = {
  /** Reading "<hex-size>[;ext]\r\n". */
  ChunkHeader: 0,
  /** Inside a chunk's data. */
  ChunkData: 1,
  /** The "\r\n" after a chunk's data. */
  ChunkDataEnd: 2,
  /** After the last (0-size) chunk of a body without trailers: the closing "\r\n". */
  FinalLine: 3,
  /** After the last chunk of a body with trailers: "name:value\r\n" lines until an empty line. */
  Trailers: 4,
  Done: 5,
} as const;
type State = (typeof State)[keyof typeof State];

/**
 * Incremental aws-chunked parser. write() consumes input pieces as they arrive and appends the
 * decoded data to `out` as views of the input (no copy); only a partial header or trailer line
 * is ever buffered. Signatures are checked as soon as a chunk's data ends, before anything past
 * that chunk is emitted; end() checks what can only be checked at the end.
 */
export class AwsChunkedDecoder {
  readonly trailers: Record<string, string> = {};
  /** Decoded (object) bytes so far. */
  decoded = 0;

  private state: State = State.ChunkHeader;
  /** Raw (framed) bytes so far. */
  private raw = 0;
  /** Bytes of a header or trailer line not yet terminated. */
  private partialLine: Buffer | undefined;
  /** Data bytes left in the current chunk. */
  private remaining = 0;
  /** Bytes of "\r\n" already seen after chunk data, or of the final line. */
  private crlfSeen = 0;
  private chunkCount = 0;
  /** A chunk smaller than MIN_CHUNK_SIZE, which is fine only if it is the last one with data. */
  private smallChunk: { index: number; size: number } | undefined;
  private chunkSignature = '';
  /** SHA-256 of the current chunk's data (signed modes). */
  private chunkHash: Hash | undefined;
  private previousSignature: string;
  private readonly trailerLines: [string, string][] = [];
  private trailerSignature: string | undefined;
  /** An empty line right after the last chunk, before any trailer (AWS's documented layout). */
  private blankBeforeTrailers = false;
  private readonly signing: ChunkSigningContext | undefined;

  constructor(
    private readonly payload: ChunkedPayload,
    private readonly contentLength: number | undefined,
  ) {
    if (payload.signed && !payload.signing) throw new Error('signed aws-chunked payload without a signing context');
    this.signing = payload.signed ? payload.signing : undefined;
    this.previousSignature = this.signing?.seedSignature ?? '';
  }

  write(piece: Buffer, out: Buffer[]): void {
    this.raw += piece.length;
    if (this.contentLength !== undefined && this.raw > this.contentLength) throw incompleteBody();
    let pos = 0;
    while (pos < piece.length) {
      switch (this.state) {
        case State.ChunkHeader: {
          const line = this.readLine(piece, pos, MAX_CHUNK_HEADER);
          pos = line.next;
          if (line.text !== undefined) this.onChunkHeader(line.text);
          break;
        }
        case State.ChunkData: {
          const n = Math.min(this.remaining, piece.length - pos);
          const slice = piece.subarray(pos, pos + n);
          this.chunkHash?.update(slice);
          out.push(slice);
          pos += n;
          this.decoded += n;
          this.remaining -= n;
          if (this.remaining === 0) {
            if (this.chunkHash && this.signing) this.verifyChunk(this.signing, this.chunkHash.digest('hex'));
            this.chunkHash = undefined;
            this.state = State.ChunkDataEnd;
            this.crlfSeen = 0;
          }
          break;
        }
        case State.ChunkDataEnd:
        case State.FinalLine: {
          if (piece[pos] !== (this.crlfSeen === 0 ? CR : LF)) throw incompleteBody();
          pos++;
          if (++this.crlfSeen === 2) this.state = this.state === State.ChunkDataEnd ? State.ChunkHeader : State.Done;
          break;
        }
        case State.Trailers: {
          const line = this.readLine(piece, pos, MAX_TRAILER_LINE);
          pos = line.next;
          if (line.text !== undefined) this.onTrailerLine(line.text);
          break;
        }
        case State.Done: {
          // Tolerate stray line ends after the body; anything else is not aws-chunked.
          const b = piece[pos];
          if (b !== CR && b !== LF) throw incompleteBody();
          pos++;
          break;
        }
      }
    }
  }

  /** Called when the input has ended; throws unless the body was complete and verified. */
  end(): void {
    const complete =
      this.state === State.Done ||
      // Lenient about a missing final "\r\n": some encoders stop right after the last line.
      (this.state === State.FinalLine && this.crlfSeen === 0) ||
      (this.state === State.Trailers && this.partialLine === undefined);
    if (!complete) throw incompleteBody();
    if (this.payload.decodedLength !== undefined && this.decoded !== this.payload.decodedLength) throw incompleteBody();
    if (this.contentLength !== undefined && this.raw !== this.contentLength) throw incompleteBody();
    if (!this.payload.trailer) return;
    for (const name of this.payload.trailerNames) {
      if (!Object.hasOwn(this.trailers, name)) throw malformedTrailer();
    }
    if (this.signing) this.verifyTrailers(this.signing);
  }

  // -------------------------------------------------------------------------------------------

  /**
   * Reads up to the next LF. Returns the line without its CRLF, or text undefined when the line
   * continues in the next piece (the partial line is kept, bounded by `max`).
   */
  private readLine(piece: Buffer, pos: number, max: number): { text: string | undefined; next: number } {
    const held = this.partialLine?.length ?? 0;
    // Look no further than the longest acceptable line (+ CRLF): never scan into chunk data.
    const window = Math.min(piece.length, pos + max + 2 - held);
    const lf = piece.subarray(pos, window).indexOf(LF);
    if (lf < 0) {
      if (window < piece.length) throw incompleteBody();
      const rest = piece.subarray(pos);
      this.partialLine = this.partialLine ? Buffer.concat([this.partialLine, rest]) : Buffer.from(rest);
      if (this.partialLine.length > max + 1) throw incompleteBody();
      return { text: undefined, next: piece.length };
    }
    const end = pos + lf;
    const line = this.partialLine ? Buffer.concat([this.partialLine, piece.subarray(pos, end)]) : piece.subarray(pos, end);
    this.partialLine = undefined;
    if (line.length === 0 || line[line.length - 1] !== CR) throw incompleteBody();
    return { text: line.toString('latin1', 0, line.length - 1), next: end + 1 };
  }

  private onChunkHeader(text: string): void {
    const semi = text.indexOf(';');
    const sizeText = (semi < 0 ? text : text.slice(0, semi)).trim();
    if (!/^[0-9a-fA-F]{1,13}$/.test(sizeText)) throw incompleteBody();
    const size = parseInt(sizeText, 16);
    this.chunkCount++;

    if (this.signing) {
      this.chunkSignature = chunkSignatureOf(semi < 0 ? '' : text.slice(semi + 1));
      if (this.smallChunk && size > 0) {
        throw new S3Error('InvalidChunkSizeError', undefined, { Chunk: this.smallChunk.index, BadChunkSize: this.smallChunk.size });
      }
      if (size > 0 && size < MIN_CHUNK_SIZE) this.smallChunk = { index: this.chunkCount, size };
    }
    if (this.payload.decodedLength !== undefined && this.decoded + size > this.payload.decodedLength) throw incompleteBody();

    if (size > 0) {
      this.remaining = size;
      this.chunkHash = this.signing ? createHash('sha256') : undefined;
      this.state = State.ChunkData;
      return;
    }
    // The last chunk: signed over empty data, then trailers or the closing line.
    if (this.signing) this.verifyChunk(this.signing, EMPTY_SHA256);
    this.state = this.payload.trailer ? State.Trailers : State.FinalLine;
    this.crlfSeen = 0;
  }

  private onTrailerLine(text: string): void {
    if (text === '') {
      if (this.trailerLines.length === 0 && this.trailerSignature === undefined && !this.blankBeforeTrailers) {
        this.blankBeforeTrailers = true;
      } else {
        this.state = State.Done;
      }
      return;
    }
    const colon = text.indexOf(':');
    if (colon <= 0) throw malformedTrailer();
    const name = text.slice(0, colon).trim().toLowerCase();
    const value = text.slice(colon + 1).trim();
    if (this.trailerSignature !== undefined) throw malformedTrailer(); // the signature comes last
    if (name === TRAILER_SIGNATURE) {
      this.trailerSignature = value;
      return;
    }
    if (!this.payload.trailerNames.includes(name) || Object.hasOwn(this.trailers, name) || this.trailerLines.length >= MAX_TRAILERS) {
      throw malformedTrailer();
    }
    this.trailers[name] = value;
    this.trailerLines.push([name, value]);
  }

  // -------------------------------------------------------------------------------------------
  // Signatures

  private verifyChunk(s: ChunkSigningContext, dataHash: string): void {
    const stringToSign = `AWS4-HMAC-SHA256-PAYLOAD\n${s.amzDate}\n${s.scope}\n${this.previousSignature}\n${EMPTY_SHA256}\n${dataHash}`;
    const expected = hmacHex(s.signingKey, stringToSign);
    if (!signaturesEqual(expected, this.chunkSignature)) {
      throw new S3Error('SignatureDoesNotMatch', undefined, { StringToSign: stringToSign, SignatureProvided: this.chunkSignature });
    }
    this.previousSignature = expected;
  }

  private verifyTrailers(s: ChunkSigningContext): void {
    const provided = this.trailerSignature ?? '';
    const canonical = this.trailerLines.map(([name, value]) => `${name}:${value}\n`).join('');
    const stringToSign = `AWS4-HMAC-SHA256-TRAILER\n${s.amzDate}\n${s.scope}\n${this.previousSignature}\n${sha256Hex(canonical)}`;
    const expected = hmacHex(s.signingKey, stringToSign);
    if (!signaturesEqual(expected, provided)) {
      throw new S3Error('SignatureDoesNotMatch', undefined, { StringToSign: stringToSign, SignatureProvided: provided });
    }
  }
}

/** The chunk-signature extension of a chunk header ("chunk-signature=<hex>[;…]"), or ''. */
function chunkSignatureOf(extensions: string): string {
  for (const ext of extensions.split(';')) {
    const eq = ext.indexOf('=');
    if (eq > 0 && ext.slice(0, eq).trim() === 'chunk-signature') return ext.slice(eq + 1).trim();
  }
  return '';
}

function malformedTrailer(): S3Error {
  return new S3Error('MalformedTrailerError');
}
