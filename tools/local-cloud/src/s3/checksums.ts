import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { S3ServiceError } from '../errors';

/**
 * Checks the `x-amz-checksum-*` values a PUT carried (as headers or aws-chunked
 * trailers) against the body. CRC32, SHA-256 and SHA-1 are checked; CRC32C and
 * CRC64NVME have no implementation in `node:zlib` and are accepted unchecked.
 * @throws S3ServiceError `BadDigest` on a mismatch, as S3 answers.
 */
export function verifyChecksums(body: Buffer, checksums: Record<string, string>): void {
  for (const [name, expected] of Object.entries(checksums)) {
    let actual: string | undefined;
    if (name === 'x-amz-checksum-crc32') {
      const value = Buffer.alloc(4);
      value.writeUInt32BE(crc32(body) >>> 0);
      actual = value.toString('base64');
    } else if (name === 'x-amz-checksum-sha256') {
      actual = createHash('sha256').update(body).digest('base64');
    } else if (name === 'x-amz-checksum-sha1') {
      actual = createHash('sha1').update(body).digest('base64');
    }
    // CRC32C / CRC64NVME: no implementation in node:zlib; accepted unchecked.
    if (actual !== undefined && actual !== expected) {
      throw new S3ServiceError(
        'BadDigest',
        400,
        `The ${name.slice('x-amz-checksum-'.length).toUpperCase()} you specified did not match the calculated checksum.`,
      );
    }
  }
}
