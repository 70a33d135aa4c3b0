import type { LocalCloud } from '@thingcert/local-cloud';
import { describe, expect, it } from 'vitest';
import { RecordingIam } from '../../test/recording-iam';
import { StackIam } from './stack-iam';
import { roleSessionCredentials, workloadEnvironment } from './workload-credentials';

const trust = (service: string) => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }],
});

async function credentials() {
  const iam = new RecordingIam();
  const lines: string[] = [];
  const stackIam = new StackIam(iam, (line) => lines.push(line));
  const role = (trustPolicy: unknown) => ({
    path: '/',
    inline: new Map(),
    managedPolicyArns: [],
    trustPolicy,
  });
  await stackIam.putRole('fn-role', role(trust('lambda.amazonaws.com')));
  await stackIam.putRole('device-role', role(trust('ec2.amazonaws.com')));
  stackIam.putInstanceProfile('profile', ['device-role']);
  stackIam.putInstanceProfile('lambda-profile', ['fn-role']);
  return {
    iam,
    lines,
    workloads: roleSessionCredentials(iam, stackIam, (line) => lines.push(line)),
  };
}

describe('Function: roleSessionCredentials', () => {
  it("gives a function a session of its role named after it, in Lambda's variables", async () => {
    const { iam, workloads } = await credentials();

    const env = await workloads.forFunction(
      'Stack-Provisioner',
      'arn:aws:iam::000000000000:role/fn-role',
    );

    expect(env).toEqual({ AWS_ACCESS_KEY_ID: 'ASIA-fn-role-Stack-Provisioner' });
    expect(iam.sessions).toEqual([{ roleName: 'fn-role', sessionName: 'Stack-Provisioner' }]);
  });

  it('refuses a function whose role Lambda may not assume, as CreateFunction does', async () => {
    const { workloads } = await credentials();

    await expect(
      workloads.forFunction('f', 'arn:aws:iam::000000000000:role/device-role'),
    ).rejects.toThrow(/cannot be assumed by Lambda/);
    await expect(workloads.forFunction('f', undefined)).rejects.toThrow(/cannot be assumed/);
  });

  it("gives an instance its profile role's session as container credentials, named after the instance", async () => {
    const { iam, workloads } = await credentials();

    const env = await workloads.forInstance('i-0123456789abcdef0', 'profile');

    expect(Object.keys(env)).toEqual(['AWS_CONTAINER_CREDENTIALS_FULL_URI']);
    expect(iam.sessions).toEqual([{ roleName: 'device-role', sessionName: 'i-0123456789abcdef0' }]);
  });

  it('gives an instance without a profile, or whose role EC2 may not assume, no credentials', async () => {
    const { iam, lines, workloads } = await credentials();

    expect(await workloads.forInstance('i-1', undefined)).toEqual({});
    expect(await workloads.forInstance('i-2', 'lambda-profile')).toEqual({});
    expect(iam.sessions).toEqual([]);
    expect(lines).toHaveLength(2);
  });
});

describe('Function: workloadEnvironment', () => {
  const cloud = {
    env: {
      AWS_ENDPOINT_URL_IOT: 'http://127.0.0.1:1',
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:2',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIALOCAL',
      AWS_SECRET_ACCESS_KEY: 'admin',
      THINGCERT_CA_FILE: '/ca.pem',
    },
    iotHttpsEndpoint: 'https://127.0.0.1:3',
    s3HttpsEndpoint: 'https://127.0.0.1:4',
    caPath: '/ca.pem',
  } as unknown as LocalCloud;

  it('enforced: the HTTPS endpoints, the local CA trusted, no admin keys, no IMDS', () => {
    expect(workloadEnvironment(cloud, true)).toEqual({
      AWS_ENDPOINT_URL_IOT: 'https://127.0.0.1:3',
      AWS_ENDPOINT_URL_S3: 'https://127.0.0.1:4',
      AWS_REGION: 'us-east-1',
      THINGCERT_CA_FILE: '/ca.pem',
      NODE_EXTRA_CA_CERTS: '/ca.pem',
      AWS_CA_BUNDLE: '/ca.pem',
      AWS_EC2_METADATA_DISABLED: 'true',
    });
  });

  it("not enforced: the cloud's environment, admin keys and HTTP endpoints", () => {
    expect(workloadEnvironment(cloud, false)).toEqual(cloud.env);
  });
});
