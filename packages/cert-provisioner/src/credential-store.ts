import { createHash } from 'node:crypto';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { httpStatusOf, isAwsErrorNamed } from './errors';
import { fromPem } from '@thingcert/csr';

/** The id AWS IoT gives a certificate: SHA-256 of its DER bytes, in hex. */
export function certificateIdOfPem(pem: string): string | undefined {
  const der = fromPem(pem);
  return der ? createHash('sha256').update(der).digest('hex') : undefined;
}

/** Same certificate, ignoring line endings and trailing whitespace. */
export function samePem(a: string, b: string): boolean {
  const normal = (pem: string) => pem.replace(/\s+/g, '');
  return normal(a) === normal(b);
}

/**
 * An object as read for an ownership decision, or to be put back later. The
 * body may be key material: never log or serialise a `StoredObject`.
 */
export interface StoredObject {
  readonly body: string;
  readonly etag: string | undefined;
  readonly contentType: string | undefined;
  /** The SSE-KMS key the object is encrypted with; `undefined` for any other encryption. */
  readonly kmsKeyId: string | undefined;
}

/** Options for writing one object. */
export interface PutOptions {
  readonly contentType: string;
  /** Write only if no object exists (`If-None-Match: *`). */
  readonly ifNoneMatch?: boolean;
  /** Write only if the object still has this ETag. */
  readonly ifMatch?: string;
  /** SSE-KMS key id or ARN; bucket default encryption when unset. */
  readonly kmsKeyId?: string;
  readonly signal?: AbortSignal;
}

/** True when a conditional write lost: the object exists, or changed meanwhile. */
export function isPreconditionFailure(error: unknown): boolean {
  const status = httpStatusOf(error);
  return (
    isAwsErrorNamed(error, 'PreconditionFailed', 'ConditionalRequestConflict') ||
    status === 412 ||
    status === 409
  );
}

/** True when S3 says the object (or the whole bucket) is not there. */
export function isNotFound(error: unknown): boolean {
  return (
    isAwsErrorNamed(error, 'NoSuchKey', 'NotFound', 'NoSuchBucket') || httpStatusOf(error) === 404
  );
}

/**
 * The few S3 operations on one bucket the provisioner needs, with the SSE and
 * conditional-write details in one place.
 */
export class CredentialStore {
  constructor(
    private readonly s3: S3Client,
    readonly bucketName: string,
  ) {}

  /** PUT one object; throws the SDK error (check {@link isPreconditionFailure}). */
  async put(key: string, body: string, options: PutOptions): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucketName,
        Key: key,
        Body: body,
        ContentType: options.contentType,
        ...(options.ifNoneMatch ? { IfNoneMatch: '*' } : {}),
        ...(options.ifMatch ? { IfMatch: options.ifMatch } : {}),
        ...(options.kmsKeyId
          ? { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: options.kmsKeyId }
          : {}),
      }),
      { abortSignal: options.signal },
    );
  }

  /** GET one object as text, or `undefined` when it does not exist. */
  async get(key: string, signal?: AbortSignal): Promise<StoredObject | undefined> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucketName, Key: key }), {
        abortSignal: signal,
      });
      return {
        body: (await out.Body?.transformToString('utf8')) ?? '',
        etag: out.ETag,
        contentType: out.ContentType,
        kmsKeyId: out.ServerSideEncryption === 'aws:kms' ? out.SSEKMSKeyId : undefined,
      };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** Every key under `prefix`, following continuation tokens. Empty if the bucket is gone. */
  async list(prefix: string, signal?: AbortSignal): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.s3.send(
          new ListObjectsV2Command({
            Bucket: this.bucketName,
            Prefix: prefix,
            ContinuationToken: token,
          }),
          { abortSignal: signal },
        );
      } catch (error) {
        if (isAwsErrorNamed(error, 'NoSuchBucket')) return [];
        throw error;
      }
      for (const item of page.Contents ?? []) if (item.Key) keys.push(item.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  /**
   * Every object under `prefix` whose body `parse` accepts, with its key:
   * bookkeeping (records, markers) is small JSON read one object at a time.
   * An object gone between list and read is skipped.
   */
  async readAll<T>(
    prefix: string,
    parse: (body: string) => T | undefined,
    signal?: AbortSignal,
  ): Promise<Array<{ readonly key: string; readonly value: T }>> {
    const found: Array<{ key: string; value: T }> = [];
    for (const key of await this.list(prefix, signal)) {
      const stored = await this.get(key, signal);
      const value = stored ? parse(stored.body) : undefined;
      if (value !== undefined) found.push({ key, value });
    }
    return found;
  }

  /** Deletes `keys` in batches of 1000; a key already gone counts as deleted. */
  async deleteMany(keys: readonly string[], signal?: AbortSignal): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      let out;
      try {
        out = await this.s3.send(
          new DeleteObjectsCommand({
            Bucket: this.bucketName,
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
          { abortSignal: signal },
        );
      } catch (error) {
        if (isAwsErrorNamed(error, 'NoSuchBucket')) return;
        throw error;
      }
      const failed = (out.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
      if (failed.length > 0) {
        const first = failed[0];
        throw new Error(
          `${failed.length} object(s) could not be deleted, first ${first?.Key ?? '?'}: ${first?.Code ?? '?'} ${first?.Message ?? ''}`.trim(),
        );
      }
    }
  }
}
