import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateKeysAndCertificateCommand,
  IoTClient,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { parseCredentialPointer } from '@thingcert/contracts';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { rotatePointedDevice } from './pointed-device';

const OLD = 'a'.repeat(64);
const NEW = 'b'.repeat(64);

describe('Function: rotatePointedDevice', () => {
  const iotMock = mockClient(IoTClient);
  const s3Mock = mockClient(S3Client);
  const device = {
    thing: 'thing-1',
    bucket: 'devices',
    pointerKey: 'thing-1/current.json',
    policyName: 'policy-1',
    iot: new IoTClient({ region: 'us-east-1' }),
    s3: new S3Client({ region: 'us-east-1' }),
  };
  const calls: string[] = [];

  beforeEach(() => {
    iotMock.reset();
    s3Mock.reset();
    calls.length = 0;
    iotMock.on(CreateKeysAndCertificateCommand).callsFake(() => {
      calls.push('create');
      return {
        certificateId: NEW,
        certificateArn: `arn:aws:iot:us-east-1:000000000000:cert/${NEW}`,
        certificatePem: 'cert',
        keyPair: { PrivateKey: 'key', PublicKey: 'public' },
      };
    });
    iotMock.on(AttachPolicyCommand).callsFake(() => calls.push('attach-policy'));
    iotMock.on(AttachThingPrincipalCommand).callsFake(() => calls.push('attach-thing'));
    iotMock
      .on(UpdateCertificateCommand)
      .callsFake((input: { certificateId: string; newStatus: string }) =>
        calls.push(`${input.certificateId === OLD ? 'old' : 'new'} ${input.newStatus}`),
      );
    s3Mock
      .on(PutObjectCommand)
      .callsFake((input: { Key: string }) => calls.push(`put ${input.Key.replace(NEW, '<new>')}`));
  });

  it('writes objects, then the pointer, then deactivates the old certificate by default', async () => {
    const rotated = await rotatePointedDevice(device, OLD);
    expect(rotated).toEqual({ certificateId: NEW, privateKeyPem: 'key' });
    expect(calls).toEqual([
      'create',
      'attach-policy',
      'attach-thing',
      'put thing-1/certificates/<new>/device.pem.crt',
      'put thing-1/certificates/<new>/private.pem.key',
      'put thing-1/current.json',
      'old INACTIVE',
    ]);
    const pointer = s3Mock.commandCalls(PutObjectCommand).at(-1)!.args[0].input.Body as string;
    expect(parseCredentialPointer(pointer)).toMatchObject({
      certificateId: NEW,
      objects: { privateKey: `thing-1/certificates/${NEW}/private.pem.key` },
    });
  });

  it('deactivates the old certificate before moving the pointer when asked', async () => {
    await rotatePointedDevice(device, OLD, { order: 'deactivate-first' });
    expect(calls.slice(-2)).toEqual(['old INACTIVE', 'put thing-1/current.json']);
  });
});
