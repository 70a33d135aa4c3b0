import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  DEVICE_CERTIFICATE_ATTRIBUTE,
  DEVICE_CERTIFICATE_PROPERTY,
  DEVICE_CERTIFICATE_RESOURCE_TYPE,
  type DeviceCertificateData,
  type DeviceCertificateProperties,
} from './device-certificate-resource';

type ValueOf<T> = T[keyof T];

describe('Contract: the device certificate custom resource', () => {
  // These names are in deployed templates and in every stored stack's events:
  // a change here is a breaking change for users, never a refactoring.
  it('keeps the resource type deployed stacks use', () => {
    expect(DEVICE_CERTIFICATE_RESOURCE_TYPE).toBe('Custom::ThingcertDeviceCertificate');
  });

  it('keeps the property names deployed stacks use', () => {
    expect(Object.values(DEVICE_CERTIFICATE_PROPERTY)).toEqual([
      'ThingName',
      'BucketName',
      'KeyPrefix',
      'KmsKeyId',
      'KeyMode',
      'KeyAlgorithm',
      'RotationToken',
    ]);
  });

  it('keeps the Data attribute names templates read with Fn::GetAtt', () => {
    expect(Object.values(DEVICE_CERTIFICATE_ATTRIBUTE)).toEqual([
      'CertificateArn',
      'CertificateId',
      'IoTEndpoint',
      'CertificateObjectKey',
      'PrivateKeyObjectKey',
      'PublicKeyObjectKey',
    ]);
  });

  it('names every property and every attribute in its map (checked by tsc)', () => {
    expectTypeOf<ValueOf<typeof DEVICE_CERTIFICATE_PROPERTY>>().toEqualTypeOf<
      keyof DeviceCertificateProperties
    >();
    expectTypeOf<ValueOf<typeof DEVICE_CERTIFICATE_ATTRIBUTE>>().toEqualTypeOf<
      keyof DeviceCertificateData
    >();
  });
});
