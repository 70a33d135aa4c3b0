import { S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeS3 } from '../test/fake-s3';
import { getObjectText, getObjectTextIfChanged } from './s3-object-text';

/** No region and no credentials anywhere the SDK looks (and no instance metadata to ask). */
function bareEnvironment(): void {
  for (const name of [
    'AWS_REGION',
    'AWS_DEFAULT_REGION',
    'AWS_PROFILE',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
    'AWS_CONTAINER_CREDENTIALS_FULL_URI',
    'AWS_WEB_IDENTITY_TOKEN_FILE',
    'AWS_ROLE_ARN',
  ]) {
    vi.stubEnv(name, undefined);
  }
  vi.stubEnv('AWS_CONFIG_FILE', '/nonexistent/thingcert/config');
  vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', '/nonexistent/thingcert/credentials');
  vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
}

const where = { bucket: 'devices', key: 'thing-1/current.json' };

describe('Function: getObjectText', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('turns the SDK\'s "Region is missing" into a one-line no-region error with the fix', async () => {
    bareEnvironment();
    const s3 = new S3Client({ credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    await expect(getObjectText({ s3, ...where })).rejects.toMatchObject({
      name: 'CredentialsError',
      reason: 'no-region',
      message:
        "Cannot read s3://devices/thing-1/current.json: no AWS region is configured; set --region (or AWS_REGION) to the bucket's region",
    });
  });

  it('turns "Could not load credentials from any providers" into a no-aws-credentials error naming the instance role', async () => {
    bareEnvironment();
    const s3 = new S3Client({ region: 'eu-west-1', endpoint: 'http://s3.invalid', maxAttempts: 1 });
    const error = await getObjectText({ s3, ...where }).then(
      () => undefined,
      (e: unknown) => e as Error & { reason: string },
    );
    expect(error).toMatchObject({ name: 'CredentialsError', reason: 'no-aws-credentials' });
    expect(error?.message).toContain('Could not load credentials from any providers');
    expect(error?.message).toContain('on EC2 attach an instance role');
    expect(error?.message).not.toContain('\n');
  });
});

describe('Function: getObjectTextIfChanged', () => {
  it('resolves undefined on 304 and the text with its new ETag otherwise', async () => {
    const objects: Record<string, string> = { '/devices/thing-1/current.json': 'one' };
    const { s3 } = fakeS3(objects);
    const first = await getObjectText({ s3, ...where });
    expect(await getObjectTextIfChanged({ s3, ...where }, first.etag)).toBeUndefined();
    objects['/devices/thing-1/current.json'] = 'two';
    const second = await getObjectTextIfChanged({ s3, ...where }, first.etag);
    expect(second?.text).toBe('two');
    expect(second?.etag).not.toBe(first.etag);
  });

  it('still reports a missing object as not-found', async () => {
    const { s3 } = fakeS3({});
    await expect(getObjectTextIfChanged({ s3, ...where }, '"x"')).rejects.toMatchObject({
      reason: 'not-found',
    });
  });
});
