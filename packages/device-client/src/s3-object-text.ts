import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { CredentialsError } from './errors';

/** Which S3 object to read, and with which client. */
export interface S3ObjectLocation {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly key: string;
  readonly abortSignal?: AbortSignal | undefined;
}

/** An object's body and its ETag (quoted, as S3 sends it). */
export interface S3ObjectText {
  readonly text: string;
  readonly etag: string | undefined;
}

/** Reads one object as UTF-8 text; failures become a {@link CredentialsError} saying what to check. */
export async function getObjectText(location: S3ObjectLocation): Promise<S3ObjectText> {
  const object = await readObject(location, undefined);
  // Without a condition S3 never answers 304, so there is always a body here.
  return object as S3ObjectText;
}

/**
 * A conditional GET (`If-None-Match: <etag>`): S3 answers 304 Not Modified,
 * without a body, while the object's ETag is still `etag`, and this resolves
 * with `undefined` — the cheap way to watch an object.
 */
export function getObjectTextIfChanged(
  location: S3ObjectLocation,
  etag: string | undefined,
): Promise<S3ObjectText | undefined> {
  return readObject(location, etag);
}

async function readObject(
  location: S3ObjectLocation,
  ifNoneMatch: string | undefined,
): Promise<S3ObjectText | undefined> {
  const where = `s3://${location.bucket}/${location.key}`;
  try {
    const response = await location.s3.send(
      new GetObjectCommand({
        Bucket: location.bucket,
        Key: location.key,
        ...(ifNoneMatch === undefined ? {} : { IfNoneMatch: ifNoneMatch }),
      }),
      { abortSignal: location.abortSignal },
    );
    if (response.Body === undefined) throw new Error('empty body');
    return { text: await response.Body.transformToString('utf8'), etag: response.ETag };
  } catch (error) {
    // The SDK has no modelled error for 304: it arrives as an unnamed error.
    if (ifNoneMatch !== undefined && statusOf(error) === 304) return undefined;
    throw credentialsErrorOf(error, where);
  }
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata
    ?.httpStatusCode;
}

/** The AWS SDK's message when neither the client config nor the environment names a region. */
const NO_REGION_MESSAGE = 'Region is missing';
/** The AWS SDK's message when its default provider chain found no credentials. */
const NO_CREDENTIALS_MESSAGE = 'Could not load credentials from any providers';

/**
 * Maps an S3 or SDK failure to a {@link CredentialsError} with the fix in
 * one line. Never includes a response body (it could echo an object).
 */
export function credentialsErrorOf(error: unknown, location: string): CredentialsError {
  const name = error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  const status = statusOf(error);
  if (message === NO_REGION_MESSAGE) {
    return new CredentialsError(
      `Cannot read ${location}: no AWS region is configured; set --region (or AWS_REGION) to the bucket's region`,
      { reason: 'no-region', location },
      { cause: error },
    );
  }
  if (name === 'CredentialsProviderError' || message.startsWith(NO_CREDENTIALS_MESSAGE)) {
    return new CredentialsError(
      `Cannot read ${location}: no AWS credentials found (${NO_CREDENTIALS_MESSAGE}); ` +
        'on EC2 attach an instance role that allows s3:GetObject on it, elsewhere set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY',
      { reason: 'no-aws-credentials', location },
      { cause: error },
    );
  }
  switch (name) {
    case 'NoSuchKey':
      return new CredentialsError(
        `${location} does not exist: check the bucket, the thing name and that its certificate was provisioned`,
        { reason: 'not-found', location },
        { cause: error },
      );
    case 'NoSuchBucket':
      return new CredentialsError(
        `Bucket of ${location} does not exist: check --bucket and the region`,
        { reason: 'no-such-bucket', location },
        { cause: error },
      );
    case 'AccessDenied':
    case 'Forbidden':
      return new CredentialsError(
        `Access denied to ${location}: the instance role needs s3:GetObject on it (and kms:Decrypt if the bucket uses SSE-KMS)`,
        { reason: 'access-denied', location },
        { cause: error },
      );
    default:
      if (status === 403) {
        return credentialsErrorOf(Object.assign(new Error(), { name: 'AccessDenied' }), location);
      }
      if (status === 404) {
        return credentialsErrorOf(Object.assign(new Error(), { name: 'NoSuchKey' }), location);
      }
      return new CredentialsError(
        `Could not download ${location}: ${name}${message ? `: ${message}` : ''}`,
        { reason: 'other', location },
        { cause: error },
      );
  }
}
