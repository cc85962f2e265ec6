// Whole-object ETag and checksums of multipart uploads, computed from the parts' values alone:
//  ETag:        md5(concatenated binary part MD5s) + "-N"
//  COMPOSITE:   checksum(concatenated binary part checksums) + "-N"   (any algorithm)
//  FULL_OBJECT: the CRC of the whole object, combined from the parts' CRCs and sizes
//               (CRC32, CRC32C, CRC64NVME) — the bytes are never read again.

import { createHash } from 'node:crypto';
import { combineCrc, createChecksum, type ChecksumAlgorithm } from '../../auth/checksums.js';
import type { ChecksumType } from '../../store/meta/types.js';
import { S3Error } from '../errors.js';

export function multipartEtag(partEtags: string[]): string {
  const md5 = createHash('md5');
  for (const e of partEtags) md5.update(Buffer.from(e, 'hex'));
  return `${md5.digest('hex')}-${partEtags.length}`;
}

/** S3's default type for an algorithm: FULL_OBJECT for CRC64NVME, COMPOSITE otherwise. */
export function defaultChecksumType(alg: ChecksumAlgorithm): ChecksumType {
  return alg === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE';
}

export function validateChecksumType(alg: ChecksumAlgorithm, type: ChecksumType): void {
  if (type === 'FULL_OBJECT' && (alg === 'SHA1' || alg === 'SHA256')) {
    throw new S3Error('InvalidRequest', `The FULL_OBJECT checksum type cannot be used with the ${alg.toLowerCase()} checksum algorithm.`);
  }
  if (type === 'COMPOSITE' && alg === 'CRC64NVME') {
    throw new S3Error('InvalidRequest', 'The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm.');
  }
}

export interface PartChecksum {
  /** base64 */
  checksum: string;
  size: number;
}

export function multipartChecksum(alg: ChecksumAlgorithm, type: ChecksumType, parts: PartChecksum[]): string {
  if (type === 'COMPOSITE') {
    const h = createChecksum(alg);
    for (const p of parts) h.update(Buffer.from(p.checksum, 'base64'));
    return `${h.digest().toString('base64')}-${parts.length}`;
  }
  if (alg !== 'CRC32' && alg !== 'CRC32C' && alg !== 'CRC64NVME') throw new Error(`no full-object combination for ${alg}`);
  let crc: Buffer = Buffer.from(parts[0]!.checksum, 'base64');
  for (let i = 1; i < parts.length; i++) crc = combineCrc(alg, crc, Buffer.from(parts[i]!.checksum, 'base64'), parts[i]!.size);
  return crc.toString('base64');
}
