import { describe, expect, it } from 'vitest';
import { parseCertificateProperties, replacementReasons } from './certificate-properties';

const base = {
  ServiceToken: 'arn:aws:lambda:us-east-1:1:function:x',
  ThingName: 'sensor-1',
  BucketName: 'creds',
};

describe('Function: parseCertificateProperties', () => {
  it('applies defaults', () => {
    expect(parseCertificateProperties(base)).toEqual({
      thingName: 'sensor-1',
      bucketName: 'creds',
      keyPrefix: '',
      kmsKeyId: undefined,
      keyMode: 'server',
      keyAlgorithm: 'RSA_2048',
      rotationToken: undefined,
      credentialLayout: undefined,
    });
    expect(parseCertificateProperties({ ...base, CredentialLayout: 'pointer-v1' })).toMatchObject({
      credentialLayout: 'pointer-v1',
    });
    expect(parseCertificateProperties({ ...base, KeyMode: 'csr' }).keyAlgorithm).toBe('EC_P256');
  });

  const bad: Array<[string, Record<string, unknown>]> = [
    ['ThingName', { ThingName: undefined }],
    ['ThingName', { ThingName: 'has space' }],
    ['ThingName', { ThingName: 'x'.repeat(129) }],
    ['ThingName', { ThingName: 42 }],
    ['BucketName', { BucketName: undefined }],
    ['BucketName', { BucketName: 'Upper_Case' }],
    ['KeyPrefix', { KeyPrefix: '/abs/' }],
    ['KeyMode', { KeyMode: 'hsm' }],
    ['KeyAlgorithm', { KeyMode: 'csr', KeyAlgorithm: 'ED25519' }],
    ['KeyAlgorithm', { KeyMode: 'server', KeyAlgorithm: 'EC_P256' }],
    ['RotationToken', { RotationToken: 'x'.repeat(257) }],
    ['CredentialLayout', { CredentialLayout: 'fixed-files' }],
  ];
  for (const [property, change] of bad) {
    it(`rejects ${property} = ${JSON.stringify(Object.values(change)[0])?.slice(0, 20)} naming it in one line`, () => {
      const error = (() => {
        try {
          parseCertificateProperties({ ...base, ...change });
        } catch (e) {
          return e as Error & { property?: string };
        }
        return undefined;
      })();
      expect(error).toMatchObject({ name: 'InvalidPropertyError', property });
      expect(error?.message).toMatch(new RegExp(`^Invalid property ${property}: [^\\n]+$`));
    });
  }
});

describe('Function: replacementReasons', () => {
  it('ignores defaults spelled out, KmsKeyId and CredentialLayout, names identity changes', () => {
    const before = parseCertificateProperties(base);
    expect(
      replacementReasons(
        before,
        parseCertificateProperties({ ...base, KeyMode: 'server', KeyPrefix: '' }),
      ),
    ).toEqual([]);
    expect(
      replacementReasons(before, parseCertificateProperties({ ...base, KmsKeyId: 'alias/x' })),
    ).toEqual([]);
    expect(
      replacementReasons(
        before,
        parseCertificateProperties({ ...base, CredentialLayout: 'pointer-v1' }),
      ),
    ).toEqual([]);
    expect(
      replacementReasons(
        before,
        parseCertificateProperties({ ...base, ThingName: 'b', KeyMode: 'csr', RotationToken: '2' }),
      ),
    ).toEqual(['ThingName', 'KeyMode', 'KeyAlgorithm', 'RotationToken']);
  });
});
