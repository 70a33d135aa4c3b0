import { DEVICE_CERTIFICATE_RESOURCE_TYPE } from '@thingcert/contracts';
import { Duration } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { fakeBundles, newStack, templateOf } from '../test/stack-fixture';
import { dependsOnOf, logicalIdsOf, onlyResource } from '../test/template-queries';
import { CertificateBucket } from './certificate-bucket';
import { CertificateProvisioner } from './certificate-provisioner';
import { DeviceCertificate, type DeviceCertificateProps } from './device-certificate';

function setup() {
  const { stack } = newStack();
  const bucket = new CertificateBucket(stack, 'Credentials');
  const provisioner = CertificateProvisioner.forBucket(bucket, {
    code: fakeBundles().provisionerCode,
  });
  return { stack, bucket, provisioner };
}

describe('Class: DeviceCertificate', () => {
  it('passes the provisioner its properties and a ServiceTimeout well under an hour', () => {
    const { stack, provisioner } = setup();
    new DeviceCertificate(stack, 'Cert', { provisioner, thingName: 'dev-1' });
    const template = templateOf(stack);
    const [functionId] = onlyResource(template, 'AWS::Lambda::Function');
    const [keyId] = onlyResource(template, 'AWS::KMS::Key');
    const bucketId = logicalIdsOf(template, 'AWS::S3::Bucket').find((id) =>
      id.startsWith('CredentialsBucket'),
    )!;
    const [, resource] = onlyResource(template, DEVICE_CERTIFICATE_RESOURCE_TYPE);
    expect(resource.Properties).toEqual({
      ServiceToken: { 'Fn::GetAtt': [functionId, 'Arn'] },
      ServiceTimeout: '600',
      ThingName: 'dev-1',
      BucketName: { Ref: bucketId },
      KeyPrefix: '',
      KmsKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
      KeyMode: 'server',
      KeyAlgorithm: 'RSA_2048',
      CredentialLayout: 'pointer-v1',
    });
  });

  it('passes csr mode, EC keys, a key prefix and a rotation token', () => {
    const { stack, provisioner } = setup();
    new DeviceCertificate(stack, 'Cert', {
      provisioner,
      thingName: 'dev-1',
      keyMode: 'csr',
      keyPrefix: 'fleet/a/',
      rotationToken: '2026-01',
      serviceTimeout: Duration.minutes(20),
    });
    templateOf(stack).hasResourceProperties(DEVICE_CERTIFICATE_RESOURCE_TYPE, {
      KeyMode: 'csr',
      KeyAlgorithm: 'EC_P256',
      KeyPrefix: 'fleet/a/',
      RotationToken: '2026-01',
      ServiceTimeout: '1200',
    });
  });

  it('exposes the attributes the provisioner returns, and the physical id as certificate id', () => {
    const { stack, provisioner } = setup();
    const cert = new DeviceCertificate(stack, 'Cert', { provisioner, thingName: 'dev-1' });
    const resolve = (value: string): unknown => stack.resolve(value);
    const [certId] = onlyResource(templateOf(stack), DEVICE_CERTIFICATE_RESOURCE_TYPE);
    expect(resolve(cert.certificateArn)).toEqual({ 'Fn::GetAtt': [certId, 'CertificateArn'] });
    expect(resolve(cert.certificateId)).toEqual({ Ref: certId });
    expect(resolve(cert.endpoint)).toEqual({ 'Fn::GetAtt': [certId, 'IoTEndpoint'] });
    expect(resolve(cert.certificateObjectKey)).toEqual({
      'Fn::GetAtt': [certId, 'CertificateObjectKey'],
    });
    expect(resolve(cert.privateKeyObjectKey)).toEqual({
      'Fn::GetAtt': [certId, 'PrivateKeyObjectKey'],
    });
    expect(resolve(cert.publicKeyObjectKey)).toEqual({
      'Fn::GetAtt': [certId, 'PublicKeyObjectKey'],
    });
    expect(resolve(cert.credentialPointerObjectKey)).toEqual({
      'Fn::GetAtt': [certId, 'CredentialPointerObjectKey'],
    });
  });

  it('is deleted before the provisioner role and its policy', () => {
    const { stack, provisioner } = setup();
    new DeviceCertificate(stack, 'Cert', { provisioner, thingName: 'dev-1' });
    const template = templateOf(stack);
    const [certId] = onlyResource(template, DEVICE_CERTIFICATE_RESOURCE_TYPE);
    const [roleId] = onlyResource(template, 'AWS::IAM::Role');
    const [policyId] = onlyResource(template, 'AWS::IAM::Policy');
    expect(dependsOnOf(template, certId)).toEqual(expect.arrayContaining([roleId, policyId]));
  });

  describe('Validation', () => {
    it.each<[string, Partial<DeviceCertificateProps>, RegExp]>([
      ['fails if the thing name is invalid', { thingName: 'dev 1' }, /Invalid thing name/],
      ['fails if the thing name is empty', { thingName: '' }, /Invalid thing name/],
      [
        'fails if server mode is asked for EC keys',
        { keyMode: 'server', keyAlgorithm: 'EC_P256' },
        /RSA-2048 keys only/,
      ],
      ['fails if the key prefix lacks a trailing slash', { keyPrefix: 'fleet' }, /keyPrefix/],
      ['fails if the key prefix starts with a slash', { keyPrefix: '/fleet/' }, /keyPrefix/],
      ['fails if the key prefix climbs up', { keyPrefix: 'a/../' }, /keyPrefix/],
      ['fails if the key prefix has a wildcard', { keyPrefix: 'fleet*/' }, /keyPrefix/],
      [
        'fails if the service timeout does not exceed the Lambda timeout',
        { serviceTimeout: Duration.minutes(5) },
        /longer than the provisioner timeout/,
      ],
      [
        'fails if the service timeout exceeds an hour',
        { serviceTimeout: Duration.minutes(61) },
        /at most 3600/,
      ],
    ])('%s', (_label, props, message) => {
      const { stack, provisioner } = setup();
      expect(
        () => new DeviceCertificate(stack, 'Cert', { provisioner, thingName: 'dev-1', ...props }),
      ).toThrow(message);
    });
  });
});
