import { parseCredentialPointer } from '@thingcert/contracts';
import { describe, expect, it } from 'vitest';
import { awsError, FakeAws } from '../test/fake-aws';
import { objectKeyList } from './certificate-objects';
import { provision } from './provision';
import { rotate } from './rotate';

const thing = { thingName: 'sensor-1', bucketName: 'creds' };

describe('Function: rotate', () => {
  it('stores the new certificate before touching the old one, then removes the old one', async () => {
    const fake = new FakeAws();
    const old = await provision(thing, { iot: fake.iot, s3: fake.s3 });
    fake.calls.length = 0;

    const { provisioned, revoked } = await rotate(
      { ...thing, keyMode: 'csr', oldCertificateId: old.certificateId },
      { iot: fake.iot, s3: fake.s3 },
    );

    const lastPut = fake.calls.lastIndexOf('PutObject');
    const firstRevoke = fake.calls.indexOf('UpdateCertificate');
    expect(lastPut).toBeGreaterThanOrEqual(0);
    expect(firstRevoke).toBeGreaterThan(lastPut);
    expect([...fake.certificates.keys()]).toEqual([provisioned.certificateId]);
    expect(revoked.certificateDeleted).toBe(true);
    expect(fake.object(provisioned.objects.certificate)?.body).toBe(
      fake.certificates.get(provisioned.certificateId)?.pem,
    );
    expect(
      parseCredentialPointer(fake.object('sensor-1/current.json')?.body ?? '').certificateId,
    ).toBe(provisioned.certificateId);
    expect(revoked.deletedObjects).toEqual(expect.arrayContaining(objectKeyList(old.objects)));
    expect(fake.keys()).toEqual(
      [...objectKeyList(provisioned.objects), 'sensor-1/current.json'].sort(),
    );
  });

  it('leaves the old certificate untouched when the new one fails', async () => {
    const fake = new FakeAws();
    const old = await provision(thing, { iot: fake.iot, s3: fake.s3 });
    const filesBefore = fake.keys().map((key) => fake.object(key)?.body);
    fake.failOn('CreateKeysAndCertificate', awsError('ThrottlingException', 400), 2);

    await expect(
      rotate({ ...thing, oldCertificateId: old.certificateId }, { iot: fake.iot, s3: fake.s3 }),
    ).rejects.toMatchObject({ name: 'ProvisioningError', step: 'createCertificate' });
    expect(fake.certificates.get(old.certificateId)?.status).toBe('ACTIVE');
    expect(fake.keys().map((key) => fake.object(key)?.body)).toEqual(filesBefore);
  });
});
