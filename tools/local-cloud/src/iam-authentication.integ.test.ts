import {
  CreatePolicyCommand,
  ListAttachedPoliciesCommand,
  ListThingsCommand,
} from '@aws-sdk/client-iot';
import {
  CreateBucketCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  clientsFor,
  createDevice,
  failure,
  iamTestCloud,
  startCloudFixture,
  type CloudFixture,
  type IdentityClients,
} from '../test/helpers';
import type { RoleSessionCredentials } from './index';

const iam = iamTestCloud();
const open = iam.clients;
let fixture: CloudFixture;
let session: RoleSessionCredentials;

beforeAll(async () => {
  fixture = iam.fixture();
  await fixture.s3.send(new CreateBucketCommand({ Bucket: 'auth-bucket' }));
  ({ credentials: session } = await iam.roleSession('everything', {
    All: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
  }));
});

describe('SigV4 authentication of role sessions', () => {
  it('accepts the right credentials over HTTP and HTTPS, for S3 and the IoT control plane', async () => {
    const ok = open(session);
    await ok.s3.send(new ListObjectsV2Command({ Bucket: 'auth-bucket' }));
    await ok.s3Https.send(new ListObjectsV2Command({ Bucket: 'auth-bucket' }));
    await ok.iot.send(new ListThingsCommand({}));
    await ok.iotHttps.send(new ListThingsCommand({}));
  });

  it('verifies IoT paths that carry a percent-encoded ARN (signed URI-encoded twice)', async () => {
    const ok = open(session);
    const { certificateArn: target } = await createDevice(fixture.iot);
    const listed = await ok.iot.send(new ListAttachedPoliciesCommand({ target }));
    expect(listed.policies).toEqual([]);
    await ok.iot.send(
      new CreatePolicyCommand({
        policyName: 'p-auth',
        policyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 'iot:Connect', Resource: '*' }],
        }),
      }),
    );
  });

  it('refuses a wrong secret: S3 SignatureDoesNotMatch, IoT InvalidSignatureException (403)', async () => {
    const wrong = open({ ...session, secretAccessKey: `${session.secretAccessKey}x` });
    expect(
      await failure(wrong.s3.send(new ListObjectsV2Command({ Bucket: 'auth-bucket' }))),
    ).toMatchObject({ name: 'SignatureDoesNotMatch', status: 403 });
    expect(await failure(wrong.iot.send(new ListThingsCommand({})))).toMatchObject({
      name: 'InvalidSignatureException',
      status: 403,
    });
  });

  it('refuses an unknown access key: S3 InvalidAccessKeyId, IoT UnrecognizedClientException (403)', async () => {
    const unknown = open({ ...session, accessKeyId: 'ASIAAAAAAAAAAAAAAAAA' });
    const s3 = await failure(unknown.s3.send(new ListBucketsCommand({})));
    expect(s3).toMatchObject({ name: 'InvalidAccessKeyId', status: 403 });
    expect(s3.message).toBe('The AWS Access Key Id you provided does not exist in our records.');
    expect(await failure(unknown.iot.send(new ListThingsCommand({})))).toMatchObject({
      name: 'UnrecognizedClientException',
      status: 403,
    });
  });

  it('refuses a session key without its token (unknown) or with a wrong one (S3 InvalidToken 400)', async () => {
    const { sessionToken: _, ...withoutToken } = session;
    expect(await failure(open(withoutToken).s3.send(new ListBucketsCommand({})))).toMatchObject({
      name: 'InvalidAccessKeyId',
      status: 403,
    });
    const wrongToken = open({ ...session, sessionToken: `${session.sessionToken}x` });
    expect(await failure(wrongToken.s3.send(new ListBucketsCommand({})))).toMatchObject({
      name: 'InvalidToken',
      status: 400,
    });
    expect(await failure(wrongToken.iot.send(new ListThingsCommand({})))).toMatchObject({
      name: 'UnrecognizedClientException',
      status: 403,
    });
  });

  it('refuses credentials signed for another region', async () => {
    const s3 = new S3Client({
      region: 'eu-west-1',
      endpoint: fixture.cloud.s3Endpoint,
      credentials: session,
      maxAttempts: 1,
    });
    try {
      expect(await failure(s3.send(new ListBucketsCommand({})))).toMatchObject({
        name: 'AuthorizationHeaderMalformed',
        status: 400,
      });
    } finally {
      s3.destroy();
    }
  });
});

describe('the admin identity', () => {
  it('stays any key outside the ASIA… form, with any secret (the credentials tests use today)', async () => {
    for (const credentials of [
      { accessKeyId: 'local', secretAccessKey: 'local' },
      { accessKeyId: 'AKIALOCALCLOUD000000', secretAccessKey: 'whatever' },
    ]) {
      const admin = open(credentials);
      await admin.s3.send(new ListBucketsCommand({}));
      await admin.iot.send(new ListThingsCommand({}));
    }
  });

  it('is only the configured keys, verified, when adminCredentials is given', async () => {
    const strict = await startCloudFixture({
      adminCredentials: [{ accessKeyId: 'local', secretAccessKey: 'local' }],
    });
    const clients: IdentityClients[] = [];
    try {
      const admin = clientsFor(strict, { accessKeyId: 'local', secretAccessKey: 'local' });
      const wrongSecret = clientsFor(strict, { accessKeyId: 'local', secretAccessKey: 'nope' });
      const other = clientsFor(strict, { accessKeyId: 'AKIATEST', secretAccessKey: 'test-secret' });
      clients.push(admin, wrongSecret, other);
      await admin.s3.send(new ListBucketsCommand({}));
      expect(await failure(wrongSecret.s3.send(new ListBucketsCommand({})))).toMatchObject({
        name: 'SignatureDoesNotMatch',
      });
      expect(await failure(other.iot.send(new ListThingsCommand({})))).toMatchObject({
        name: 'UnrecognizedClientException',
      });
    } finally {
      for (const c of clients) c.destroy();
      await strict.stop();
    }
  });
});
