import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyChecksums } from './checksums';

const body = Buffer.from('hello world');

describe('Function: verifyChecksums', () => {
  it('accepts matching CRC32, SHA-256 and SHA-1 values and unchecked CRC32C', () => {
    expect(() =>
      verifyChecksums(body, {
        // CRC32 of "hello world" is 0x0d4a1185.
        'x-amz-checksum-crc32': Buffer.from([0x0d, 0x4a, 0x11, 0x85]).toString('base64'),
        'x-amz-checksum-sha256': createHash('sha256').update(body).digest('base64'),
        'x-amz-checksum-sha1': createHash('sha1').update(body).digest('base64'),
        'x-amz-checksum-crc32c': 'not checked',
      }),
    ).not.toThrow();
  });

  it('refuses a wrong value with BadDigest naming the algorithm', () => {
    expect(() => verifyChecksums(body, { 'x-amz-checksum-crc32': 'AAAAAA==' })).toThrow(
      expect.objectContaining({
        code: 'BadDigest',
        message: expect.stringContaining('CRC32 you specified') as unknown,
      }),
    );
  });
});
