import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateCertificateFromCsrCommand,
  CreateKeysAndCertificateCommand,
  CreatePolicyCommand,
  CreateThingCommand,
  IoTClient,
} from '@aws-sdk/client-iot';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { execFileSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registerLocalDevice } from './register-local-device';

const CERT_ID = 'c0ffee'.repeat(10) + 'abcd';
const CERT_ARN = `arn:aws:iot:us-east-1:000000000000:cert/${CERT_ID}`;
const CERT_PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const KEY_PEM = '-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n';

describe('Function: registerLocalDevice', () => {
  const iotMock = mockClient(IoTClient);
  const s3Mock = mockClient(S3Client);
  const iot = new IoTClient({ region: 'us-east-1' });
  const s3 = new S3Client({ region: 'us-east-1' });
  let tmp: string;

  beforeEach(async () => {
    iotMock.reset();
    s3Mock.reset();
    iotMock.on(CreateKeysAndCertificateCommand).resolves({
      certificateId: CERT_ID,
      certificateArn: CERT_ARN,
      certificatePem: CERT_PEM,
      keyPair: { PrivateKey: KEY_PEM, PublicKey: 'unused' },
    });
    iotMock.on(CreateCertificateFromCsrCommand).resolves({
      certificateId: CERT_ID,
      certificateArn: CERT_ARN,
      certificatePem: CERT_PEM,
    });
    tmp = await mkdtemp(join(tmpdir(), 'register-local-device-'));
  });

  afterEach(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  /** The inputs a mocked client was sent, in order. */
  const inputsOf = (calls: readonly { args: readonly [{ input: unknown }] }[]) =>
    calls.map((call) => call.args[0].input);

  it('registers only an ACTIVE certificate when nothing else is asked', async () => {
    // Act
    const device = await registerLocalDevice(iot);

    // Assess
    expect(inputsOf(iotMock.calls())).toEqual([{ setAsActive: true }]);
    expect(s3Mock.calls()).toHaveLength(0);
    expect(device).toEqual({
      certificateId: CERT_ID,
      certificateArn: CERT_ARN,
      certificatePem: CERT_PEM,
      privateKeyPem: KEY_PEM,
      policyName: undefined,
      files: undefined,
    });
  });

  it('leaves the certificate INACTIVE when asked', async () => {
    await registerLocalDevice(iot, { active: false });

    expect(inputsOf(iotMock.commandCalls(CreateKeysAndCertificateCommand))).toEqual([
      { setAsActive: false },
    ]);
  });

  it('creates the thing and the policy and attaches both to the certificate', async () => {
    // Act
    const device = await registerLocalDevice(iot, {
      thingName: 'sensor-1',
      policyDocument: '{"Version":"2012-10-17","Statement":[]}',
    });

    // Assess
    expect(inputsOf(iotMock.commandCalls(CreateThingCommand))).toEqual([{ thingName: 'sensor-1' }]);
    expect(inputsOf(iotMock.commandCalls(AttachThingPrincipalCommand))).toEqual([
      { thingName: 'sensor-1', principal: CERT_ARN },
    ]);
    expect(inputsOf(iotMock.commandCalls(CreatePolicyCommand))).toEqual([
      {
        policyName: `policy-${CERT_ID.slice(0, 16)}`,
        policyDocument: '{"Version":"2012-10-17","Statement":[]}',
      },
    ]);
    expect(inputsOf(iotMock.commandCalls(AttachPolicyCommand))).toEqual([
      { policyName: `policy-${CERT_ID.slice(0, 16)}`, target: CERT_ARN },
    ]);
    expect(device.policyName).toBe(`policy-${CERT_ID.slice(0, 16)}`);
  });

  it('uses the policy name it is given', async () => {
    const device = await registerLocalDevice(iot, { policyDocument: '{}', policyName: 'seed' });

    expect(inputsOf(iotMock.commandCalls(AttachPolicyCommand))).toEqual([
      { policyName: 'seed', target: CERT_ARN },
    ]);
    expect(device.policyName).toBe('seed');
  });

  it('writes the certificate and key into a new bucket in the device runner layout', async () => {
    await registerLocalDevice(iot, {
      s3: { client: s3, bucket: 'devices', thingName: 'sensor-1' },
    });

    expect(inputsOf(s3Mock.commandCalls(CreateBucketCommand))).toEqual([{ Bucket: 'devices' }]);
    expect(inputsOf(s3Mock.commandCalls(PutObjectCommand))).toEqual([
      { Bucket: 'devices', Key: 'sensor-1/device.pem.crt', Body: CERT_PEM },
      { Bucket: 'devices', Key: 'sensor-1/private.pem.key', Body: KEY_PEM },
    ]);
  });

  it('writes cert.pem and key.pem readable by the owner only into a 0700 directory', async () => {
    // Prepare
    const dir = join(tmp, 'creds', 'sensor-1');

    // Act
    const device = await registerLocalDevice(iot, { dir });

    // Assess
    expect(device.files).toEqual({
      certPath: join(dir, 'cert.pem'),
      keyPath: join(dir, 'key.pem'),
    });
    expect(await readFile(join(dir, 'cert.pem'), 'utf8')).toBe(CERT_PEM);
    expect(await readFile(join(dir, 'key.pem'), 'utf8')).toBe(KEY_PEM);
    expect((await stat(join(dir, 'key.pem'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'cert.pem'))).mode & 0o777).toBe(0o600);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
  });

  it('in csr mode keeps its EC P-256 key and sends only a CSR for that key', async () => {
    // Act
    const device = await registerLocalDevice(iot, { keyMode: 'csr', active: false });

    // Assess
    expect(iotMock.commandCalls(CreateKeysAndCertificateCommand)).toHaveLength(0);
    const [call] = iotMock.commandCalls(CreateCertificateFromCsrCommand);
    const { certificateSigningRequest, setAsActive } = call!.args[0].input;
    expect(setAsActive).toBe(false);
    expect(certificateSigningRequest).not.toContain('PRIVATE KEY');
    const csrPublicKey = execFileSync('openssl', ['req', '-pubkey', '-noout', '-verify'], {
      input: certificateSigningRequest,
      stdio: ['pipe', 'pipe', 'ignore'],
      encoding: 'utf8',
    });
    const key = createPublicKey(device.privateKeyPem);
    expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(createPublicKey(csrPublicKey).export({ type: 'spki', format: 'pem' })).toBe(
      key.export({ type: 'spki', format: 'pem' }),
    );
    expect(device.certificatePem).toBe(CERT_PEM);
  });
});
