// x-amz-content-sha256: what it announces about the body, and the PayloadMode that follows.

import { S3Error } from '../s3/errors.js';
import { CHECKSUM_ALGORITHMS, checksumHeader } from './checksums.js';
import type { ChunkSigningContext, PayloadMode } from './types.js';

export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
export const STREAMING_SIGNED = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
export const STREAMING_SIGNED_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
export const STREAMING_UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
const STREAMING_ECDSA = 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD';
const STREAMING_ECDSA_TRAILER = 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER';

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

/** What x-amz-content-sha256 says, before we know whether there is a signature to chain from. */
export type ContentSha256 =
  | { kind: 'unsigned' }
  | { kind: 'sha256'; hex: string }
  | { kind: 'streaming'; signed: boolean; trailer: boolean };

/**
 * Parses an x-amz-content-sha256 value (undefined when the header is absent: no claim, unsigned).
 * Unknown values are InvalidArgument, as S3 answers; the SigV4a (ECDSA) streaming modes are valid
 * S3 values that this server does not implement.
 */
export function parseContentSha256(value: string | undefined): ContentSha256 {
  if (value === undefined || value === UNSIGNED_PAYLOAD) return { kind: 'unsigned' };
  switch (value) {
    case STREAMING_SIGNED:
      return { kind: 'streaming', signed: true, trailer: false };
    case STREAMING_SIGNED_TRAILER:
      return { kind: 'streaming', signed: true, trailer: true };
    case STREAMING_UNSIGNED_TRAILER:
      return { kind: 'streaming', signed: false, trailer: true };
    case STREAMING_ECDSA:
    case STREAMING_ECDSA_TRAILER:
      throw new S3Error('NotImplemented', `The ${value} payload signing mode (SigV4a) is not implemented.`);
  }
  if (SHA256_HEX.test(value)) return { kind: 'sha256', hex: value.toLowerCase() };
  throw new S3Error(
    'InvalidArgument',
    'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, ' +
      'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, ' +
      'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.',
    { ArgumentName: 'x-amz-content-sha256', ArgumentValue: value },
  );
}

const TRAILER_NAMES = new Set(CHECKSUM_ALGORITHMS.map(checksumHeader));

/**
 * The PayloadMode for a parsed x-amz-content-sha256. `signing` is the chunk-signature seed when
 * the request carried a SigV4 signature; signed streaming without one (anonymous, SigV2) is
 * refused, since there is nothing for the chunk signatures to chain from.
 */
export function payloadModeFor(
  content: ContentSha256,
  header: (name: string) => string | undefined,
  signing: ChunkSigningContext | undefined,
): PayloadMode {
  switch (content.kind) {
    case 'unsigned':
      // Framing the body without announcing a streaming mode would store the framing itself.
      if (header('x-amz-content-sha256') === UNSIGNED_PAYLOAD && /\baws-chunked\b/i.test(header('content-encoding') ?? '')) {
        throw new S3Error('InvalidArgument', 'aws-chunked encoding is not supported when x-amz-content-sha256 UNSIGNED-PAYLOAD is supplied.', {
          ArgumentName: 'Content-Encoding',
          ArgumentValue: header('content-encoding'),
        });
      }
      return { kind: 'unsigned' };
    case 'sha256':
      return { kind: 'sha256', expectedHex: content.hex };
    case 'streaming':
      break;
  }
  if (content.signed && !signing) {
    throw new S3Error(
      'InvalidRequest',
      "Anonymous requests don't support this x-amz-content-sha256 value. Please use UNSIGNED-PAYLOAD or STREAMING-UNSIGNED-PAYLOAD-TRAILER.",
    );
  }
  return {
    kind: 'chunked',
    signed: content.signed,
    trailer: content.trailer,
    decodedLength: decodedContentLength(header('x-amz-decoded-content-length')),
    trailerNames: content.trailer ? trailerNames(header('x-amz-trailer')) : [],
    ...(content.signed ? { signing } : {}),
  };
}

/** x-amz-decoded-content-length is required for aws-chunked bodies (S3: MissingContentLength). */
function decodedContentLength(value: string | undefined): number {
  const v = value?.trim();
  if (v === undefined || !/^\d{1,16}$/.test(v) || !Number.isSafeInteger(Number(v))) {
    throw new S3Error('MissingContentLength');
  }
  return Number(v);
}

/** x-amz-trailer: comma-separated trailer names; S3 supports only the checksum trailers. */
function trailerNames(value: string | undefined): string[] {
  if (value === undefined) return [];
  const names = value
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  for (const name of names) {
    if (!TRAILER_NAMES.has(name)) {
      throw new S3Error('InvalidRequest', 'The value specified in the x-amz-trailer header is not supported');
    }
  }
  return names;
}
