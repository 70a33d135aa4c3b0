import { S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

/** An object the fake S3 serves, or an error status with an S3 error code. */
export type FakeObject = string | { status: number; code: string };

/** One request the fake S3 answered. */
export interface FakeRequest {
  readonly path: string;
  readonly ifNoneMatch: string | undefined;
  readonly status: number;
}

/**
 * A real `S3Client` whose HTTP handler answers from a map, so unit tests run
 * the SDK's own serialization and error parsing without any network. Like S3,
 * each body has an ETag (its quoted MD5) and a GET with `If-None-Match` equal
 * to it is answered 304 Not Modified without a body. The map is read on every
 * request: a test changes an object by assigning to it.
 */
export function fakeS3(objects: Record<string, FakeObject>): {
  s3: S3Client;
  requested: string[];
  requests: FakeRequest[];
} {
  const requested: string[] = [];
  const requests: FakeRequest[] = [];
  const s3 = new S3Client({
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    forcePathStyle: true,
    endpoint: 'http://s3.invalid',
    maxAttempts: 1,
    requestHandler: {
      handle: (request: { path: string; headers: Record<string, string> }) => {
        const path = decodeURIComponent(request.path);
        const ifNoneMatch = request.headers['if-none-match'];
        const answer = (status: number, headers: Record<string, string>, body: string) => {
          requests.push({ path, ifNoneMatch, status });
          return Promise.resolve({
            response: { statusCode: status, headers, body: Readable.from([Buffer.from(body)]) },
          });
        };
        requested.push(path);
        const object = objects[path];
        if (typeof object === 'string') {
          const etag = `"${createHash('md5').update(object).digest('hex')}"`;
          if (ifNoneMatch === etag) return answer(304, { etag }, '');
          return answer(200, { 'content-type': 'application/x-pem-file', etag }, object);
        }
        const status = object?.status ?? 404;
        const code = object?.code ?? 'NoSuchKey';
        return answer(
          status,
          { 'content-type': 'application/xml' },
          `<?xml version="1.0"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`,
        );
      },
    } as never,
  });
  return { s3, requested, requests };
}
