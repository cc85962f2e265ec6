// The checksum algorithms of S3 (x-amz-checksum-*), as a name. Below both the protocol layers
// (auth/checksums.ts computes them) and the store (which records which one an object has).

export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256';

export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'];
