import { describe, expect, expectTypeOf, it } from 'vitest';
import * as resource from './device-certificate-resource';

type ValueOf<T> = T[keyof T];

describe('Contract: the device certificate custom resource', () => {
  // These names are in deployed templates and in every stored stack's events:
  // a change here is a breaking change for users, never a refactoring.
  it('keeps the resource type deployed stacks use', () => {
    expect(resource.DEVICE_CERTIFICATE_RESOURCE_TYPE).toBe('Custom::ThingcertDeviceCertificate');
  });

  it('keeps the property names deployed stacks use', () => {
    expect(Object.values(resource.DEVICE_CERTIFICATE_PROPERTY).join(' ')).toBe(
      'ThingName BucketName KeyPrefix KmsKeyId KeyMode KeyAlgorithm RotationToken CredentialLayout',
    );
  });

  it('keeps the Data attribute names templates read with Fn::GetAtt', () => {
    expect(Object.values(resource.DEVICE_CERTIFICATE_ATTRIBUTE).join(' ')).toBe(
      'CertificateArn CertificateId IoTEndpoint CertificateObjectKey PrivateKeyObjectKey PublicKeyObjectKey CredentialPointerObjectKey',
    );
  });

  it('keeps the credential layout value templates send', () => {
    expect(resource.CREDENTIAL_LAYOUT).toBe('pointer-v1');
  });

  it('names every property and every attribute in its map (checked by tsc)', () => {
    expectTypeOf<ValueOf<typeof resource.DEVICE_CERTIFICATE_PROPERTY>>().toEqualTypeOf<
      keyof resource.DeviceCertificateProperties
    >();
    expectTypeOf<ValueOf<typeof resource.DEVICE_CERTIFICATE_ATTRIBUTE>>().toEqualTypeOf<
      keyof resource.DeviceCertificateData
    >();
  });
});
