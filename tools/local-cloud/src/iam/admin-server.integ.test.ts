import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientsFor, failure, startCloudFixture, type CloudFixture } from '../../test/helpers';
import { connectLocalIam, isLocalIamError, type LocalIam } from '../index';

let fixture: CloudFixture;
let remote: LocalIam;
beforeAll(async () => {
  fixture = await startCloudFixture();
  remote = connectLocalIam(fixture.cloud.admin);
  await fixture.s3.send(new CreateBucketCommand({ Bucket: 'admin-bucket' }));
});
afterAll(async () => {
  await fixture.stop();
});

const listBucket = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::admin-bucket' }],
};

describe('Function: connectLocalIam (the admin endpoint)', () => {
  it('creates roles, replaces their policies and mints sessions the local S3 authorizes', async () => {
    const role = await remote.putRole({ roleName: 'remote-role', policies: { List: listBucket } });
    expect(role).toMatchObject({
      roleName: 'remote-role',
      roleArn: 'arn:aws:iam::000000000000:role/remote-role',
      policies: { List: listBucket },
    });
    expect(role.roleId).toMatch(/^AROA[A-Z2-7]{17}$/);
    const session = await remote.assumeRole({ roleName: 'remote-role', sessionName: 'boot-1' });
    expect(session.accessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(session.assumedRoleArn).toBe(
      'arn:aws:sts::000000000000:assumed-role/remote-role/boot-1',
    );
    const clients = clientsFor(fixture, session);
    try {
      await clients.s3.send(new ListObjectsV2Command({ Bucket: 'admin-bucket' }));
      await remote.deleteRolePolicy('remote-role', 'List');
      expect(
        await failure(clients.s3.send(new ListObjectsV2Command({ Bucket: 'admin-bucket' }))),
      ).toMatchObject({ name: 'AccessDenied' });
      await remote.putRolePolicy('remote-role', 'List', JSON.stringify(listBucket));
      await clients.s3.send(new ListObjectsV2Command({ Bucket: 'admin-bucket' }));
      await remote.deleteRole('remote-role');
      expect(await remote.getRole('remote-role')).toBeUndefined();
      expect(
        await failure(clients.s3.send(new ListObjectsV2Command({ Bucket: 'admin-bucket' }))),
      ).toMatchObject({ name: 'AccessDenied' });
    } finally {
      clients.destroy();
    }
  });

  it('answers IAM errors as LocalIamError with IAM codes', async () => {
    const codeOf = async (promise: Promise<unknown>) => {
      try {
        await promise;
      } catch (error) {
        return isLocalIamError(error) ? error.code : String(error);
      }
      return 'no error';
    };
    expect(await codeOf(remote.assumeRole({ roleName: 'nobody', sessionName: 's1' }))).toBe(
      'NoSuchEntity',
    );
    expect(
      await codeOf(
        remote.putRole({
          roleName: 'bad',
          policies: { P: { Statement: [{ Effect: 'Allow', Principal: '*', Action: '*' }] } },
        }),
      ),
    ).toBe('MalformedPolicyDocument');
    expect(await codeOf(remote.putRole({ roleName: 'has space' }))).toBe('ValidationError');
  });

  it('simulates a call no request can make (KMS outside S3) with the role policies and the key policy', async () => {
    const decryptViaS3 = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'kms:Decrypt',
          Resource: '*',
          Condition: { StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' } },
        },
      ],
    };
    await remote.putRole({ roleName: 'decrypt-via-s3', policies: { Kms: decryptViaS3 } });
    const { keyArn } = await remote.putKmsKey({ keyId: 'simulated-key' });
    const ask = (context?: Record<string, string>) =>
      remote.simulatePrincipalPolicy({
        roleName: 'decrypt-via-s3',
        action: 'kms:Decrypt',
        resource: keyArn,
        context,
      });

    expect(await ask()).toEqual({
      decision: 'implicitDeny',
      reason: 'because no identity-based policy allows the kms:Decrypt action',
    });
    expect(await ask({ 'kms:ViaService': 's3.us-east-1.amazonaws.com' })).toEqual({
      decision: 'allowed',
      reason: '',
    });
    await remote.putKmsKey({
      keyId: 'simulated-key',
      keyPolicy: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Deny', Principal: { AWS: '*' }, Action: 'kms:*', Resource: '*' }],
      },
    });
    expect((await ask({ 'kms:ViaService': 's3.us-east-1.amazonaws.com' })).decision).toBe(
      'explicitDeny',
    );
  });

  it('refuses callers without the bearer token', async () => {
    const stranger = connectLocalIam({ endpoint: fixture.cloud.admin.endpoint, token: 'wrong' });
    await expect(stranger.putRole({ roleName: 'sneaky' })).rejects.toThrow(/bearer token/);
    expect(await fixture.cloud.iam.getRole('sneaky')).toBeUndefined();
  });

  it("serves a session's credentials to the SDK's default chain as container credentials", async () => {
    await remote.putRole({ roleName: 'device-role', policies: { List: listBucket } });
    const session = await remote.assumeRole({ roleName: 'device-role', sessionName: 'device-1' });
    const names = [
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_SESSION_TOKEN',
      'AWS_PROFILE',
      ...Object.keys(session.containerEnv),
    ];
    const saved = Object.fromEntries(names.map((n) => [n, process.env[n]]));
    for (const n of names) delete process.env[n];
    Object.assign(process.env, session.containerEnv);
    const s3 = new S3Client({
      endpoint: fixture.cloud.s3Endpoint,
      region: fixture.cloud.region,
      maxAttempts: 1,
    });
    try {
      await s3.send(new ListObjectsV2Command({ Bucket: 'admin-bucket' }));
      const used = await s3.config.credentials();
      expect(used.accessKeyId).toBe(session.accessKeyId);
    } finally {
      s3.destroy();
      for (const n of names) {
        if (saved[n] === undefined) delete process.env[n];
        else process.env[n] = saved[n];
      }
    }
  });
});
