import { describe, expect, it } from 'vitest';
import { decodeAwsChunked } from './aws-chunked';

describe('Function: decodeAwsChunked', () => {
  it('joins the chunks and collects the trailing headers in lower case', () => {
    // Prepare
    const raw = Buffer.from(
      '5;chunk-signature=abc\r\nhello\r\n6\r\n world\r\n0\r\nX-Amz-Checksum-CRC32: AAAA\r\n\r\n',
      'latin1',
    );
    const trailers: Record<string, string> = {};

    // Act
    const body = decodeAwsChunked(raw, trailers);

    // Assess
    expect(body.toString('utf8')).toBe('hello world');
    expect(trailers).toEqual({ 'x-amz-checksum-crc32': 'AAAA' });
  });

  it.each([
    ['no line end', '5'],
    ['a size that is not hex', 'zz\r\nhello\r\n0\r\n\r\n'],
    ['a chunk shorter than its size', 'a\r\nhello\r\n'],
  ])('refuses %s with IncompleteBody', (_name, text) => {
    expect(() => decodeAwsChunked(Buffer.from(text, 'latin1'), {})).toThrow(
      expect.objectContaining({ name: 'S3ServiceError', code: 'IncompleteBody', status: 400 }),
    );
  });
});
