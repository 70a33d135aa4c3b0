import type { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { certificateObjectKeys, serializeCredentialPointer } from '@thingcert/contracts';
import { DeviceConnection } from '@thingcert/device-client';
import type { TestKeyPair } from '@thingcert/test-support';
import { createHash, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { MainDeps } from '../src/main';
import { echoTransportFactory, type EchoBroker } from './echo-transport';

/**
 * `main`'s collaborators for unit tests: output captured in arrays, the
 * in-memory echo broker behind every connection (`made` lists its
 * transports), no S3 unless a test passes `createS3`.
 */
export function deps(
  broker: EchoBroker = {},
  signal: AbortSignal = new AbortController().signal,
): {
  deps: MainDeps;
  stdout: string[];
  stderr: string[];
  made: NonNullable<EchoBroker['made']>;
} {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const made: NonNullable<EchoBroker['made']> = [];
  const value: MainDeps = {
    stdout: { write: (line: string) => stdout.push(line) },
    stderr: { write: (line: string) => stderr.push(line) },
    env: {},
    signal,
    readConfigFile: (path) => readFile(path, 'utf8'),
    createS3: () => {
      throw new Error('S3 is not used in these tests');
    },
    connectClaim: () => Promise.reject(new Error('no claim connection in these tests')),
    createConnection: (options) =>
      new DeviceConnection({
        ...options,
        transportFactory: echoTransportFactory({ ...broker, made }),
      }),
  };
  return { deps: value, stdout, stderr, made };
}

/**
 * An S3 client stub serving `objects` by key (anything else: NoSuchKey) that
 * records its calls in `calls`, so tests see whether and when it was destroyed.
 * Like S3 it answers a GET whose If-None-Match is the object's ETag with 304.
 */
export function stubS3(objects: Record<string, string>, calls: string[]): S3Client {
  const stub = {
    send: (command: GetObjectCommand) => {
      const key = command.input.Key ?? '';
      calls.push(`get ${key}`);
      const text = objects[key];
      if (text === undefined) {
        return Promise.reject(Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey' }));
      }
      const etag = `"${createHash('md5').update(text).digest('hex')}"`;
      if (command.input.IfNoneMatch === etag) {
        return Promise.reject(
          Object.assign(new Error('UnknownError'), { $metadata: { httpStatusCode: 304 } }),
        );
      }
      return Promise.resolve({
        ETag: etag,
        Body: { transformToString: () => Promise.resolve(text) },
      });
    },
    destroy: () => {
      calls.push('destroy');
    },
  };
  return stub as unknown as S3Client;
}

/** AWS IoT's id of `pair`'s certificate. */
export const idOf = (pair: TestKeyPair): string =>
  new X509Certificate(pair.certificatePem).fingerprint256.replace(/:/g, '').toLowerCase();

/** The provisioner's objects for `pair` of `thingName` and the pointer body naming them. */
export function provisioned(
  pair: TestKeyPair,
  thingName = 'thing-1',
): { pointer: string; objects: Record<string, string> } {
  const id = idOf(pair);
  const keys = certificateObjectKeys({ thingName }, id);
  return {
    pointer: serializeCredentialPointer({
      version: 1,
      certificateId: id,
      certificateArn: `arn:aws:iot:us-east-1:000000000000:cert/${id}`,
      objects: keys,
      updatedAt: new Date().toISOString(),
    }),
    objects: { [keys.certificate]: pair.certificatePem, [keys.privateKey]: pair.privateKeyPem },
  };
}
