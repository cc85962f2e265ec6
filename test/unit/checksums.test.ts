// Checksums of S3's additional checksum algorithms, against the standard check values, against
// node:crypto, and combination of CRCs against the CRC of the concatenation.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  CHECKSUM_ALGORITHMS,
  checksumByteLength,
  checksumHeader,
  combineCrc,
  createChecksum,
  parseChecksumAlgorithm,
  type ChecksumAlgorithm,
} from '../../src/auth/checksums.js';

function digest(alg: ChecksumAlgorithm, ...parts: Buffer[]): Buffer {
  const h = createChecksum(alg);
  for (const p of parts) h.update(p);
  return h.digest();
}

const CHECK = Buffer.from('123456789');

describe('checksums', () => {
  it('standard check values of "123456789"', () => {
    assert.equal(digest('CRC32', CHECK).toString('hex'), 'cbf43926');
    assert.equal(digest('CRC32C', CHECK).toString('hex'), 'e3069283');
    assert.equal(digest('CRC64NVME', CHECK).toString('hex'), 'ae8b14860a799888');
    assert.equal(digest('SHA1', CHECK).toString('hex'), 'f7c3bc1d808e04732adf679965ccc34ca7ae3441');
    assert.equal(digest('SHA256', CHECK).toString('hex'), '15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225');
  });

  it('other published vectors (iSCSI CRC32C, empty input)', () => {
    // RFC 3720 B.4: 32 bytes of zeros, of ones, incrementing, decrementing.
    assert.equal(digest('CRC32C', Buffer.alloc(32, 0)).toString('hex'), '8a9136aa');
    assert.equal(digest('CRC32C', Buffer.alloc(32, 0xff)).toString('hex'), '62a8ab43');
    assert.equal(digest('CRC32C', Buffer.from(Array.from({ length: 32 }, (_, i) => i))).toString('hex'), '46dd794e');
    assert.equal(digest('CRC32C', Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i))).toString('hex'), '113fdb5c');
    for (const alg of ['CRC32', 'CRC32C', 'CRC64NVME'] as const) {
      assert.equal(digest(alg).toString('hex'), '00'.repeat(checksumByteLength(alg)), alg);
    }
  });

  it('the value on the wire is base64 of the big-endian bytes', () => {
    // The AWS documentation's trailer example: 66560 bytes of "a" → x-amz-checksum-crc32c:sOO8/Q==
    assert.equal(digest('CRC32C', Buffer.alloc(66560, 'a')).toString('base64'), 'sOO8/Q==');
  });

  it('any split of the input gives the same digest', () => {
    const data = randomBytes(10_007);
    for (const alg of CHECKSUM_ALGORITHMS) {
      const whole = digest(alg, data);
      for (const size of [1, 3, 7, 8, 9, 64, 1000]) {
        const parts: Buffer[] = [];
        for (let i = 0; i < data.length; i += size) parts.push(data.subarray(i, i + size));
        assert.deepEqual(digest(alg, ...parts), whole, `${alg} in pieces of ${size}`);
      }
      // Unaligned views of a larger buffer.
      assert.deepEqual(digest(alg, Buffer.concat([Buffer.alloc(3), data]).subarray(3)), whole);
    }
  });

  it('SHA1 and SHA256 agree with node:crypto', () => {
    const data = randomBytes(4096);
    assert.deepEqual(digest('SHA1', data), createHash('sha1').update(data).digest());
    assert.deepEqual(digest('SHA256', data), createHash('sha256').update(data).digest());
  });

  it('combineCrc(crc(A), crc(B), len(B)) = crc(A‖B)', () => {
    const lengths = [0, 1, 7, 8, 9, 255, 4096, 100_003, 1 << 20];
    for (const alg of ['CRC32', 'CRC32C', 'CRC64NVME'] as const) {
      for (const la of lengths) {
        for (const lb of lengths) {
          const a = randomBytes(la);
          const b = randomBytes(lb);
          assert.deepEqual(combineCrc(alg, digest(alg, a), digest(alg, b), lb), digest(alg, a, b), `${alg} ${la}+${lb}`);
        }
      }
      // Folding many parts left to right, as a FULL_OBJECT multipart checksum does.
      const parts = [randomBytes(5000), randomBytes(1), randomBytes(70_000), randomBytes(0), randomBytes(12_345)];
      let acc = digest(alg, parts[0]!);
      for (const p of parts.slice(1)) acc = combineCrc(alg, acc, digest(alg, p), p.length);
      assert.deepEqual(acc, digest(alg, ...parts), alg);
    }
  });

  it('combineCrc handles lengths beyond 32 bits (5 GiB parts)', () => {
    // crc(zeros(2^k)) by repeated doubling, which only ever combines with lengths below 2^32;
    // then a 5 GiB (2^32 + 2^30) combination in one call must equal the same in smaller steps.
    for (const alg of ['CRC32', 'CRC32C', 'CRC64NVME'] as const) {
      const zerosOf: Buffer[] = [digest(alg, Buffer.alloc(1 << 16))]; // zerosOf[i] = crc(zeros(2^(16+i)))
      for (let i = 1; 16 + i <= 32; i++) zerosOf[i] = combineCrc(alg, zerosOf[i - 1]!, zerosOf[i - 1]!, 2 ** (16 + i - 1));
      const a = digest(alg, Buffer.from('prefix'));
      const z30 = zerosOf[14]!;
      const z31 = zerosOf[15]!;
      const z32 = zerosOf[16]!;
      const fiveGiB = combineCrc(alg, z32, z30, 2 ** 30);
      const oneCall = combineCrc(alg, a, fiveGiB, 2 ** 32 + 2 ** 30);
      const steps = combineCrc(alg, combineCrc(alg, combineCrc(alg, a, z31, 2 ** 31), z31, 2 ** 31), z30, 2 ** 30);
      assert.deepEqual(oneCall, steps, alg);
    }
    assert.throws(() => combineCrc('CRC32', Buffer.alloc(4), Buffer.alloc(8), 1), RangeError);
    assert.throws(() => combineCrc('CRC32', Buffer.alloc(4), Buffer.alloc(4), -1), RangeError);
  });

  it('names: parsing, headers, lengths', () => {
    assert.equal(parseChecksumAlgorithm('crc32'), 'CRC32');
    assert.equal(parseChecksumAlgorithm('Crc64Nvme'), 'CRC64NVME');
    assert.equal(parseChecksumAlgorithm(' sha256 '), 'SHA256');
    assert.equal(parseChecksumAlgorithm('MD5'), undefined);
    assert.equal(parseChecksumAlgorithm(''), undefined);
    assert.equal(parseChecksumAlgorithm(undefined), undefined);
    assert.equal(checksumHeader('CRC32C'), 'x-amz-checksum-crc32c');
    assert.equal(checksumHeader('CRC64NVME'), 'x-amz-checksum-crc64nvme');
    assert.deepEqual(
      CHECKSUM_ALGORITHMS.map((a) => [a, checksumByteLength(a), digest(a, CHECK).length]),
      [
        ['CRC32', 4, 4],
        ['CRC32C', 4, 4],
        ['CRC64NVME', 8, 8],
        ['SHA1', 20, 20],
        ['SHA256', 32, 32],
      ],
    );
  });
});
