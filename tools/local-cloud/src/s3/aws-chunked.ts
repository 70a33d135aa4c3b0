import { S3ServiceError } from '../errors';

/**
 * Undoes `aws-chunked` framing (`<hex size>[;chunk-signature=…]\r\n<data>\r\n`
 * … `0\r\n<trailers>\r\n`), what the SDK streams by default, and collects the
 * trailing headers (`x-amz-checksum-crc32:…`) into `trailers`.
 * @throws S3ServiceError `IncompleteBody` when the framing is broken.
 */
export function decodeAwsChunked(raw: Buffer, trailers: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  const malformed = () =>
    new S3ServiceError('IncompleteBody', 400, 'The request body is not valid aws-chunked encoding');
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', offset);
    if (lineEnd === -1) throw malformed();
    const header = raw.subarray(offset, lineEnd).toString('latin1');
    const size = parseInt(header.split(';')[0] ?? '', 16);
    if (!Number.isFinite(size) || size < 0) throw malformed();
    offset = lineEnd + 2;
    if (size === 0) break;
    if (offset + size > raw.length) throw malformed();
    parts.push(raw.subarray(offset, offset + size));
    offset += size + 2;
  }
  // Trailing headers (`x-amz-checksum-crc32:...`), each on its own line, then an empty line.
  for (const line of raw.subarray(offset).toString('latin1').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0)
      trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return Buffer.concat(parts);
}
