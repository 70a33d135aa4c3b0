import type { IncomingMessage } from 'node:http';
import { S3ServiceError } from '../errors';
import { BodyTooLargeError, readBody } from '../http-service';
import { sha256Hex } from '../iam/sigv4';
import { decodeAwsChunked } from './aws-chunked';
import { verifyChecksums } from './checksums';

/** Largest object the local S3 accepts in one PUT. */
export const MAX_S3_OBJECT_BYTES = 64 * 1024 * 1024;

/**
 * Reads a PUT body, undoing `aws-chunked` framing (what the SDK streams by
 * default with a trailing checksum) and checking a CRC32/SHA checksum if sent,
 * and a hex `x-amz-content-sha256`.
 * @throws S3ServiceError `EntityTooLarge`, `IncompleteBody`, `BadDigest` or
 *   `XAmzContentSHA256Mismatch`.
 */
export async function readObjectBody(req: IncomingMessage): Promise<Buffer> {
  let raw: Buffer;
  try {
    // Room for the chunk framing and trailers on top of the largest object.
    raw = await readBody(req, MAX_S3_OBJECT_BYTES + 64 * 1024);
  } catch (error) {
    if (error instanceof BodyTooLargeError) {
      throw new S3ServiceError(
        'EntityTooLarge',
        400,
        'Your proposed upload exceeds the maximum allowed size',
      );
    }
    throw error;
  }
  const encoding = String(req.headers['content-encoding'] ?? '');
  const sha = String(req.headers['x-amz-content-sha256'] ?? '');
  const chunked = encoding.includes('aws-chunked') || sha.startsWith('STREAMING-');
  // A hex payload hash is part of the signature: S3 checks the body against it.
  if (!chunked && /^[0-9a-f]{64}$/.test(sha) && sha256Hex(raw) !== sha) {
    throw new S3ServiceError(
      'XAmzContentSHA256Mismatch',
      400,
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );
  }
  const trailers: Record<string, string> = {};
  let body = raw;
  if (chunked) body = decodeAwsChunked(raw, trailers);
  const declared = req.headers['x-amz-decoded-content-length'];
  if (typeof declared === 'string' && Number(declared) !== body.length) {
    throw new S3ServiceError(
      'IncompleteBody',
      400,
      'You did not provide the number of bytes specified by the Content-Length HTTP header',
    );
  }
  if (body.length > MAX_S3_OBJECT_BYTES) {
    throw new S3ServiceError(
      'EntityTooLarge',
      400,
      'Your proposed upload exceeds the maximum allowed size',
    );
  }
  const checksums: Record<string, string> = { ...trailers };
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith('x-amz-checksum-') && typeof value === 'string') checksums[name] = value;
  }
  verifyChecksums(body, checksums);
  return body;
}

/** Reads and drops a body nobody needs, so the connection can be reused. */
export async function drainBody(req: IncomingMessage): Promise<void> {
  await readBody(req, MAX_S3_OBJECT_BYTES).catch(() => Buffer.alloc(0));
}
