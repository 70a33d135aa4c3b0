import { S3Client } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';

/** An object the fake S3 serves, or an error status with an S3 error code. */
export type FakeObject = string | { status: number; code: string };

/**
 * A real `S3Client` whose HTTP handler answers from a map, so unit tests run
 * the SDK's own serialization and error parsing without any network.
 */
export function fakeS3(objects: Record<string, FakeObject>): { s3: S3Client; requested: string[] } {
  const requested: string[] = [];
  const s3 = new S3Client({
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    forcePathStyle: true,
    endpoint: 'http://s3.invalid',
    maxAttempts: 1,
    requestHandler: {
      handle: (request: { path: string }) => {
        const path = decodeURIComponent(request.path);
        requested.push(path);
        const object = objects[path];
        if (typeof object === 'string') {
          return Promise.resolve({
            response: {
              statusCode: 200,
              headers: { 'content-type': 'application/x-pem-file' },
              body: Readable.from([Buffer.from(object)]),
            },
          });
        }
        const status = object?.status ?? 404;
        const code = object?.code ?? 'NoSuchKey';
        return Promise.resolve({
          response: {
            statusCode: status,
            headers: { 'content-type': 'application/xml' },
            body: Readable.from([
              Buffer.from(
                `<?xml version="1.0"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`,
              ),
            ]),
          },
        });
      },
    } as never,
  });
  return { s3, requested };
}
