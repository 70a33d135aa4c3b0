import { DEVICE_CERTIFICATE_RESOURCE_TYPE } from '@thingcert/contracts';
import { describe, expect, it } from 'vitest';
import type { DeployedResource } from './resource-provider';
import { auditStackState, type AuditedObject, type CloudState } from './stack-audit';

const id = 'a'.repeat(64);
const arn = `arn:aws:iot:eu-west-1:000000000000:cert/${id}`;
const folder = `thing-1/certificates/${id}/`;
const keys = {
  CertificateObjectKey: `${folder}device.pem.crt`,
  PublicKeyObjectKey: `${folder}public.pem.key`,
  PrivateKeyObjectKey: `${folder}private.pem.key`,
  CredentialPointerObjectKey: 'thing-1/current.json',
};

function resource(type: string, physicalId: string, extra: Partial<DeployedResource> = {}) {
  return {
    logicalId: type.split(':').pop()!,
    type,
    physicalId,
    attributes: {},
    properties: {},
    skipped: false,
    ...extra,
  };
}

const resources: DeployedResource[] = [
  resource('AWS::S3::Bucket', 'bucket'),
  resource('AWS::IoT::Thing', 'thing-1'),
  resource('AWS::IoT::Policy', 'policy'),
  resource(DEVICE_CERTIFICATE_RESOURCE_TYPE, id, {
    logicalId: 'Certificate',
    attributes: { CertificateArn: arn, ...keys },
    properties: { ThingName: 'thing-1', BucketName: 'bucket' },
  }),
];

const pointer = {
  version: 1 as const,
  certificateId: id,
  certificateArn: arn,
  objects: {
    certificate: keys.CertificateObjectKey,
    publicKey: keys.PublicKeyObjectKey,
    privateKey: keys.PrivateKeyObjectKey,
  },
  updatedAt: '2026-01-01T00:00:00.000Z',
};

function object(key: string, fields: Partial<AuditedObject> = {}): AuditedObject {
  return { bucket: 'bucket', key, ...fields };
}

function agreeing(): CloudState {
  return {
    certificates: [
      {
        certificateId: id,
        certificateArn: arn,
        status: 'ACTIVE',
        things: ['thing-1'],
        policies: ['policy'],
      },
    ],
    things: new Map([['thing-1', [arn]]]),
    objects: [
      object(keys.CertificateObjectKey, { certificateSha256: id }),
      object(keys.PublicKeyObjectKey, { matchesCertificate: true }),
      object(keys.PrivateKeyObjectKey, { pairsWithCertificate: true }),
      object(keys.CredentialPointerObjectKey, { pointer }),
      object(`thing-1/.thingcert/certificates/${id}.json`),
      object('thing-1/.thingcert/requests/0123.json'),
      object('thing-1/.thingcert/ended/4567.json'),
    ],
  };
}

const online = new Map([['thing-1', id]]);

describe('auditStackState', () => {
  it('finds nothing when CloudFormation, IoT, S3 and the device agree (bookkeeping allowed)', () => {
    expect(auditStackState({ resources, cloud: agreeing(), online })).toEqual([]);
  });

  it('names a certificate the stack does not hold, and one it holds that is not ACTIVE', () => {
    const cloud = agreeing();
    const stray = 'b'.repeat(64);
    const state: CloudState = {
      ...cloud,
      certificates: [
        { ...cloud.certificates[0]!, status: 'INACTIVE' },
        { certificateId: stray, certificateArn: 'x', status: 'ACTIVE', things: [], policies: [] },
      ],
    };
    expect(auditStackState({ resources, cloud: state })).toEqual([
      `Certificate (${id}): INACTIVE, not ACTIVE`,
      `certificate ${stray} (ACTIVE) exists; the stack does not hold it`,
    ]);
  });

  it('names a missing attachment, a foreign policy and a thing with another principal', () => {
    const cloud = agreeing();
    const state: CloudState = {
      ...cloud,
      certificates: [{ ...cloud.certificates[0]!, things: [], policies: ['other'] }],
      things: new Map([['thing-1', [arn, 'arn:other']]]),
    };
    expect(auditStackState({ resources, cloud: state })).toEqual([
      `Certificate (${id}): attached to things [], not [thing-1]`,
      `Certificate (${id}): policies [other], expected the stack's`,
      `thing thing-1: principals [${arn}, arn:other], expected [${arn}]`,
    ]);
  });

  it('names a missing object, a PEM of another certificate, a key that does not pair and a pointer elsewhere', () => {
    const cloud = agreeing();
    const objects = [
      object(keys.CertificateObjectKey, { certificateSha256: 'c'.repeat(64) }),
      object(keys.PrivateKeyObjectKey, { pairsWithCertificate: false }),
      object(keys.CredentialPointerObjectKey, { pointer: { ...pointer, certificateId: 'd' } }),
    ];
    expect(auditStackState({ resources, cloud: { ...cloud, objects } })).toEqual([
      `Certificate (${id}): certificate object ${keys.CertificateObjectKey} holds ${'c'.repeat(64)}`,
      `Certificate (${id}): public key object ${keys.PublicKeyObjectKey} missing`,
      `Certificate (${id}): private key object ${keys.PrivateKeyObjectKey} does not pair with the certificate`,
      `Certificate (${id}): pointer ${keys.CredentialPointerObjectKey} names d`,
    ]);
  });

  it('names objects of no held certificate, a record of another id included', () => {
    const cloud = agreeing();
    const objects = [
      ...cloud.objects,
      object(`thing-1/certificates/${'e'.repeat(64)}/device.pem.crt`),
      object(`thing-1/.thingcert/certificates/${'e'.repeat(64)}.json`),
    ];
    expect(auditStackState({ resources, cloud: { ...cloud, objects } })).toEqual([
      `object s3://bucket/thing-1/certificates/${'e'.repeat(64)}/device.pem.crt belongs to no certificate the stack holds`,
      `object s3://bucket/thing-1/.thingcert/certificates/${'e'.repeat(64)}.json belongs to no certificate the stack holds`,
    ]);
  });

  it('names a device offline or online with another certificate', () => {
    expect(auditStackState({ resources, cloud: agreeing(), online: new Map() })).toEqual([
      `device thing-1: not online, the stack holds ${id}`,
    ]);
    expect(
      auditStackState({ resources, cloud: agreeing(), online: new Map([['thing-1', 'f']]) }),
    ).toEqual([`device thing-1: online with f, the stack holds ${id}`]);
  });

  it('names a thing the stack does not hold, and one it holds that IoT lacks', () => {
    const cloud = agreeing();
    const things = new Map([['stray', []]]);
    expect(auditStackState({ resources, cloud: { ...cloud, things } })).toEqual([
      'thing stray exists; the stack does not hold it',
      'thing thing-1: held by the stack, not in IoT',
    ]);
  });
});
