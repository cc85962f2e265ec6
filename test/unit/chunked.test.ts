// Body decoding: pass-through, x-amz-content-sha256 verification, and aws-chunked framing with
// chunk signatures and trailers, fed in awkward pieces.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { openBody } from '../../src/auth/chunked.js';
import type { DecodedBody, PayloadMode } from '../../src/auth/types.js';
import { type ChunkSigner, deriveKey, drain, EMPTY_SHA256, EXAMPLE, encodeAwsChunked, pieces, rejectsWith } from './auth-support.js';

const SIGNER: ChunkSigner = {
  key: deriveKey(EXAMPLE.secretAccessKey, '20130524', 'us-east-1'),
  amzDate: '20130524T000000Z',
  scope: '20130524/us-east-1/s3/aws4_request',
  seed: '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
};

type Chunked = Extract<PayloadMode, { kind: 'chunked' }>;

function chunkedMode(opts: { signed: boolean; trailer: boolean; decodedLength?: number; trailerNames?: string[] }): Chunked {
  return {
    kind: 'chunked',
    signed: opts.signed,
    trailer: opts.trailer,
    decodedLength: opts.decodedLength,
    trailerNames: opts.trailerNames ?? [],
    ...(opts.signed ? { signing: { signingKey: SIGNER.key, amzDate: SIGNER.amzDate, scope: SIGNER.scope, seedSignature: SIGNER.seed } } : {}),
  };
}

/** Splits that exercise every boundary: single bytes, primes, and one inside each CRLF. */
const SPLITS: number[][] = [[1], [2], [3], [7], [13, 1, 2], [100], [8191, 1], [65536], [1 << 20]];

async function decodeAll(framed: Buffer, mode: PayloadMode, sizes: number[], contentLength: number | undefined = framed.length) {
  const body = openBody(pieces(framed, sizes), mode, contentLength);
  const data = await drain(body);
  return { data, body };
}

/** Iterates to the end and reports whether the loop completed (it must not, on any failure). */
async function completes(body: DecodedBody): Promise<{ completed: boolean; bytes: number; error: unknown }> {
  let bytes = 0;
  try {
    for await (const b of body) bytes += b.length;
    return { completed: true, bytes, error: undefined };
  } catch (error) {
    return { completed: false, bytes, error };
  }
}

// ---------------------------------------------------------------------------------------------

describe('unsigned and sha256 bodies', () => {
  it('unsigned: passes bytes through and counts them', async () => {
    const data = randomBytes(100_000);
    const { data: out, body } = await decodeAll(data, { kind: 'unsigned' }, [4096]);
    assert.deepEqual(out, data);
    assert.equal(body.length, 100_000);
    assert.deepEqual(body.trailers, {});
    // Unknown length (Transfer-Encoding: chunked) is fine.
    assert.deepEqual((await decodeAll(data, { kind: 'unsigned' }, [4096], undefined)).data, data);
  });

  it('unsigned: fewer bytes than Content-Length → IncompleteBody', async () => {
    await rejectsWith(drain(openBody(pieces(Buffer.alloc(10), [3]), { kind: 'unsigned' }, 11)), 'IncompleteBody');
  });

  it('sha256: verifies, and a mismatch fails before iteration completes', async () => {
    const data = randomBytes(50_000);
    const hex = createHash('sha256').update(data).digest('hex');
    assert.deepEqual((await decodeAll(data, { kind: 'sha256', expectedHex: hex }, [999])).data, data);

    const wrong = { kind: 'sha256', expectedHex: EMPTY_SHA256 } as const;
    const r = await completes(openBody(pieces(data, [999]), wrong, data.length));
    assert.equal(r.completed, false);
    assert.equal(r.bytes, data.length, 'all bytes were handed out, but completion was withheld');
    await rejectsWith(Promise.reject(r.error), 'XAmzContentSHA256Mismatch');
    const e = await rejectsWith(drain(openBody(pieces(data, [999]), wrong, data.length)), 'XAmzContentSHA256Mismatch');
    assert.deepEqual(e.details, { ClientComputedContentSHA256: EMPTY_SHA256, S3ComputedContentSHA256: hex });
  });

  it('a body can be read only once', async () => {
    const body = openBody(pieces(Buffer.from('x'), [1]), { kind: 'unsigned' }, 1);
    await drain(body);
    assert.throws(() => body[Symbol.asyncIterator]());
  });
});

// ---------------------------------------------------------------------------------------------

describe('aws-chunked, signed (STREAMING-AWS4-HMAC-SHA256-PAYLOAD)', () => {
  const data = randomBytes(200_000);
  const framed = encodeAwsChunked(data, { chunkSize: 65536, signer: SIGNER });
  const mode = chunkedMode({ signed: true, trailer: false, decodedLength: data.length });

  it('decodes in any split, down to single bytes', async () => {
    for (const sizes of SPLITS) {
      const { data: out, body } = await decodeAll(framed, mode, sizes);
      assert.ok(out.equals(data), `split ${sizes}`);
      assert.equal(body.length, data.length);
    }
  });

  it('decodes an empty object (only the final chunk)', async () => {
    const empty = encodeAwsChunked(Buffer.alloc(0), { chunkSize: 8192, signer: SIGNER });
    assert.equal((await decodeAll(empty, chunkedMode({ signed: true, trailer: false, decodedLength: 0 }), [1])).data.length, 0);
  });

  it('a flipped data byte → SignatureDoesNotMatch, never completion', async () => {
    for (const at of [200, 70_000, framed.length - 200]) {
      const bad = Buffer.from(framed);
      // Find a data byte near `at` (skip header lines, which start with hex digits before ';').
      bad[at] = bad[at]! ^ 0x01;
      const r = await completes(openBody(pieces(bad, [1000]), mode, bad.length));
      assert.equal(r.completed, false, `flip at ${at}`);
      assert.ok(r.error !== undefined);
    }
    const flipped = Buffer.from(framed);
    const dataStart = framed.indexOf('\r\n') + 2;
    flipped[dataStart + 10] = flipped[dataStart + 10]! ^ 0xff;
    await rejectsWith(drain(openBody(pieces(flipped, [7]), mode, flipped.length)), 'SignatureDoesNotMatch');
  });

  it('a bad signature on the final chunk still withholds completion after all data', async () => {
    const text = framed.toString('latin1');
    const last = text.lastIndexOf('chunk-signature=') + 'chunk-signature='.length;
    const bad = Buffer.from(text.slice(0, last) + (text[last] === '0' ? '1' : '0') + text.slice(last + 1), 'latin1');
    const r = await completes(openBody(pieces(bad, [4096]), mode, bad.length));
    assert.equal(r.completed, false);
    // Data before the piece holding the bad header was handed out; completion never came.
    assert.ok(r.bytes > data.length - 4096 && r.bytes <= data.length, String(r.bytes));
    await rejectsWith(Promise.reject(r.error), 'SignatureDoesNotMatch');
  });

  it('a chunk signed for another chain, or no signature at all → SignatureDoesNotMatch', async () => {
    const other = encodeAwsChunked(data, { chunkSize: 65536, signer: { ...SIGNER, seed: 'f'.repeat(64) } });
    await rejectsWith(drain(openBody(pieces(other, [65536]), mode, other.length)), 'SignatureDoesNotMatch');
    const unsigned = encodeAwsChunked(data, { chunkSize: 65536 });
    await rejectsWith(drain(openBody(pieces(unsigned, [65536]), mode, unsigned.length)), 'SignatureDoesNotMatch');
    // Reordered chunks: each signature chains from the previous one.
    const a = encodeAwsChunked(Buffer.alloc(10000, 1), { chunkSize: 10000, signer: SIGNER });
    assert.equal((await decodeAll(a, chunkedMode({ signed: true, trailer: false, decodedLength: 10000 }), [5])).data.length, 10000);
  });

  it('truncated anywhere → IncompleteBody (or a signature failure), never completion', async () => {
    for (const cut of [1, 50, 87, 88, 89, 1000, 65536 + 88, 65536 + 89, 65536 + 90, framed.length - 3, framed.length - 2, framed.length - 1]) {
      const short = framed.subarray(0, framed.length - cut);
      const r = await completes(openBody(pieces(short, [333]), mode, undefined));
      assert.equal(r.completed, false, `cut ${cut}`);
    }
    await rejectsWith(drain(openBody(pieces(framed.subarray(0, 100_000), [4096]), mode, undefined)), 'IncompleteBody');
    // Content-Length says more than arrived.
    await rejectsWith(drain(openBody(pieces(framed, [4096]), mode, framed.length + 1)), 'IncompleteBody');
  });

  it('x-amz-decoded-content-length disagreeing with the data → IncompleteBody', async () => {
    await rejectsWith(drain(openBody(pieces(framed, [4096]), chunkedMode({ signed: true, trailer: false, decodedLength: data.length + 1 }), framed.length)), 'IncompleteBody');
    await rejectsWith(drain(openBody(pieces(framed, [4096]), chunkedMode({ signed: true, trailer: false, decodedLength: data.length - 1 }), framed.length)), 'IncompleteBody');
  });

  it('a chunk under 8 KiB that is not the last → InvalidChunkSizeError', async () => {
    const small = encodeAwsChunked(randomBytes(20_000), { chunkSize: 5000, signer: SIGNER });
    const e = await rejectsWith(drain(openBody(pieces(small, [4096]), chunkedMode({ signed: true, trailer: false, decodedLength: 20_000 }), small.length)), 'InvalidChunkSizeError');
    assert.deepEqual(e.details, { Chunk: 1, BadChunkSize: 5000 });
    // The last data chunk may be small.
    const ok = encodeAwsChunked(randomBytes(20_000), { chunkSize: 16_384, signer: SIGNER });
    await drain(openBody(pieces(ok, [4096]), chunkedMode({ signed: true, trailer: false, decodedLength: 20_000 }), ok.length));
  });

  it('malformed framing → IncompleteBody', async () => {
    const sig = (s: string) => Buffer.from(s, 'latin1');
    const mode0 = chunkedMode({ signed: false, trailer: true, decodedLength: 3 });
    const cases: Buffer[] = [
      sig('zz\r\nabc\r\n0\r\n\r\n'), // not hex
      sig('3\nabc\r\n0\r\n\r\n'), // bare LF
      sig('3\r\nabcX\r\n0\r\n\r\n'), // data longer than announced
      sig('3\r\nabc0\r\n\r\n'), // no CRLF after data
      sig('3\r\nabc\r\n0\r\n\r\nextra'), // bytes after the end
      sig('3' + ' '.repeat(5000) + '\r\nabc\r\n0\r\n\r\n'), // endless header line
      sig('-3\r\nabc\r\n0\r\n\r\n'),
      sig(''), // nothing at all
    ];
    for (const body of cases) {
      await rejectsWith(drain(openBody(pieces(body, [1]), mode0, undefined)), 'IncompleteBody').catch((e: unknown) => {
        throw new Error(`${JSON.stringify(body.toString('latin1').slice(0, 40))}: ${String(e)}`);
      });
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('aws-chunked with trailers', () => {
  const data = randomBytes(100_000);
  const crc = 'AAAAAA==';

  it('STREAMING-UNSIGNED-PAYLOAD-TRAILER as the AWS SDKs send it, in any split', async () => {
    const framed = encodeAwsChunked(data, { chunkSize: 65536, trailers: [['x-amz-checksum-crc32', crc]] });
    const mode = chunkedMode({ signed: false, trailer: true, decodedLength: data.length, trailerNames: ['x-amz-checksum-crc32'] });
    for (const sizes of SPLITS) {
      const { data: out, body } = await decodeAll(framed, mode, sizes);
      assert.ok(out.equals(data), `split ${sizes}`);
      assert.deepEqual(body.trailers, { 'x-amz-checksum-crc32': crc });
    }
    // Unsigned chunks may be any size.
    const tiny = encodeAwsChunked(data.subarray(0, 5000), { chunkSize: 10, trailers: [['x-amz-checksum-crc32', crc]] });
    const tinyMode = chunkedMode({ signed: false, trailer: true, decodedLength: 5000, trailerNames: ['x-amz-checksum-crc32'] });
    assert.equal((await decodeAll(tiny, tinyMode, [3])).data.length, 5000);
  });

  it('tolerates the documented blank line before the trailers and a missing final CRLF', async () => {
    const mode = chunkedMode({ signed: false, trailer: true, decodedLength: 3, trailerNames: ['x-amz-checksum-crc32'] });
    const variants = ['3\r\nabc\r\n0\r\n\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n', '3\r\nabc\r\n0\r\nx-amz-checksum-crc32: AAAAAA== \r\n'];
    for (const v of variants) {
      const { body } = await decodeAll(Buffer.from(v), mode, [1]);
      assert.deepEqual(body.trailers, { 'x-amz-checksum-crc32': crc });
    }
    const none = chunkedMode({ signed: false, trailer: true, decodedLength: 3 });
    assert.deepEqual((await decodeAll(Buffer.from('3\r\nabc\r\n0\r\n'), none, [1])).body.trailers, {});
  });

  it('announced trailer missing, unannounced or malformed trailer → MalformedTrailerError', async () => {
    const mode = chunkedMode({ signed: false, trailer: true, decodedLength: 3, trailerNames: ['x-amz-checksum-crc32'] });
    const cases = [
      '3\r\nabc\r\n0\r\n\r\n',
      '3\r\nabc\r\n0\r\nx-amz-checksum-crc32c:AAAAAA==\r\n\r\n',
      '3\r\nabc\r\n0\r\nx-amz-checksum-crc32 AAAAAA==\r\n\r\n',
      '3\r\nabc\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n',
    ];
    for (const c of cases) await rejectsWith(drain(openBody(pieces(Buffer.from(c), [2]), mode, undefined)), 'MalformedTrailerError');
    // A trailer line cut short by the end of the body is incomplete.
    await rejectsWith(drain(openBody(pieces(Buffer.from('3\r\nabc\r\n0\r\nx-amz-checksum-crc32:AA'), [2]), mode, undefined)), 'IncompleteBody');
  });

  it('STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER: signed chunks and a signed trailer', async () => {
    const trailers: [string, string][] = [['x-amz-checksum-crc64nvme', 'AAAAAAAAAAA=']];
    const framed = encodeAwsChunked(data, { chunkSize: 16_384, signer: SIGNER, trailers });
    const mode = chunkedMode({ signed: true, trailer: true, decodedLength: data.length, trailerNames: ['x-amz-checksum-crc64nvme'] });
    for (const sizes of SPLITS) {
      const { data: out, body } = await decodeAll(framed, mode, sizes);
      assert.ok(out.equals(data), `split ${sizes}`);
      assert.deepEqual(body.trailers, { 'x-amz-checksum-crc64nvme': 'AAAAAAAAAAA=' });
    }

    const forged = Buffer.from(framed.toString('latin1').replace('AAAAAAAAAAA=', 'AAAAAAAAAAB='), 'latin1');
    const r = await completes(openBody(pieces(forged, [4096]), mode, forged.length));
    assert.equal(r.completed, false);
    assert.equal(r.bytes, data.length);
    await rejectsWith(Promise.reject(r.error), 'SignatureDoesNotMatch');

    const unsignedTrailer = encodeAwsChunked(data, { chunkSize: 16_384, signer: SIGNER });
    const withPlainTrailer = Buffer.concat([unsignedTrailer.subarray(0, unsignedTrailer.length - 2), Buffer.from('x-amz-checksum-crc64nvme:AAAAAAAAAAA=\r\n\r\n')]);
    await rejectsWith(drain(openBody(pieces(withPlainTrailer, [4096]), mode, withPlainTrailer.length)), 'SignatureDoesNotMatch');
  });
});

// ---------------------------------------------------------------------------------------------

describe('aws-chunked performance', () => {
  it('streams a large signed upload with flat memory and no copies of the data', async (t) => {
    const size = 64 << 20;
    const data = randomBytes(size);
    const framed = encodeAwsChunked(data, { chunkSize: 1 << 20, signer: SIGNER, trailers: [['x-amz-checksum-crc32', 'AAAAAA==']] });
    const mode = chunkedMode({ signed: true, trailer: true, decodedLength: size, trailerNames: ['x-amz-checksum-crc32'] });
    const piece = 64 * 1024;
    const started = process.hrtime.bigint();
    let largest = 0;
    let total = 0;
    const hash = createHash('sha256');
    for await (const b of openBody(pieces(framed, [piece]), mode, framed.length)) {
      largest = Math.max(largest, b.length);
      total += b.length;
      hash.update(b);
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    assert.equal(total, size);
    assert.equal(hash.digest('hex'), createHash('sha256').update(data).digest('hex'));
    assert.ok(largest <= piece, 'yields are views of the input pieces, never whole chunks');
    // Informational: two SHA-256 passes (ours and the test's) dominate.
    t.diagnostic(`aws-chunked signed decode: ${(size / 1048576 / seconds).toFixed(0)} MiB/s (incl. test-side hashing)`);
  });
});
