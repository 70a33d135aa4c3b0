import { describe, expect, it } from 'vitest';
import { awsError, FakeAws, instantSleep } from '../test/fake-aws';
import { deprovision } from './deprovision';
import { provision } from './provision';
import { requestMarkerFolder } from './layout';

const thing = { thingName: 'sensor-1', bucketName: 'creds' };

async function provisioned(fake: FakeAws, extra: Partial<Parameters<typeof provision>[0]> = {}) {
  return provision({ ...thing, ...extra }, { iot: fake.iot, s3: fake.s3 });
}

describe('Function: deprovision', () => {
  it("deletes the certificate and only that thing's objects, across list pages", async () => {
    const fake = new FakeAws();
    const mine = await provisioned(fake);
    fake.seed('sensor-10/device.pem.crt', 'other thing');
    fake.seed('sensor-2/private.pem.key', 'other thing');
    fake.seed('sensor-1.txt', 'not in the folder');
    const { sleep } = instantSleep();

    const result = await deprovision(
      { ...thing, certificateId: mine.certificateId },
      { iot: fake.iot, s3: fake.s3, sleep },
    );

    expect(result).toMatchObject({ certificateDeleted: true, keptObjects: [] });
    expect([...result.deletedObjects].sort()).toEqual(Object.values(mine.objects).sort());
    expect(fake.certificates.size).toBe(0);
    expect(fake.keys()).toEqual([
      'sensor-1.txt',
      'sensor-10/device.pem.crt',
      'sensor-2/private.pem.key',
    ]);
    expect(fake.count('ListObjectsV2')).toBeGreaterThan(1);
  });

  it('is idempotent: a second run finds everything gone and succeeds', async () => {
    const fake = new FakeAws();
    const mine = await provisioned(fake);
    const input = { ...thing, certificateId: mine.certificateId };
    await deprovision(input, { iot: fake.iot, s3: fake.s3 });

    const again = await deprovision(input, { iot: fake.iot, s3: fake.s3 });

    expect(again).toEqual({
      certificateDeleted: false,
      detachedPolicies: [],
      deletedObjects: [],
      keptObjects: [],
    });
  });

  it('tolerates a bucket that no longer exists', async () => {
    const fake = new FakeAws();
    const mine = await provisioned(fake);
    fake.buckets.delete('creds');

    await expect(
      deprovision({ ...thing, certificateId: mine.certificateId }, { iot: fake.iot, s3: fake.s3 }),
    ).resolves.toMatchObject({ certificateDeleted: true });
  });

  it('waits with growing delays for asynchronous thing detachment', async () => {
    const fake = new FakeAws();
    const mine = await provisioned(fake);
    Object.assign(fake.certificates.get(mine.certificateId)!, {
      things: ['sensor-1', 'gateway'],
      detachLag: 4,
    });
    const { sleep, delays } = instantSleep();

    await deprovision(
      { ...thing, certificateId: mine.certificateId },
      { iot: fake.iot, s3: fake.s3, sleep },
    );

    expect(delays).toEqual([250, 500]);
    expect(fake.certificates.size).toBe(0);
  });

  it('gives up after the bounded wait, naming the thing, and keeps the certificate', async () => {
    const fake = new FakeAws();
    const mine = await provisioned(fake);
    fake.certificates.get(mine.certificateId)!.things = ['sensor-1'];
    const { sleep, delays } = instantSleep();

    const error = (await deprovision(
      { ...thing, certificateId: mine.certificateId, detachTimeoutMs: 5000 },
      { iot: fake.iot, s3: fake.s3, sleep },
    ).catch((e: unknown) => e)) as Error;

    expect(error).toMatchObject({ name: 'DeprovisioningError', step: 'waitForThingDetachment' });
    expect(error.message).toContain('still attached to thing(s) sensor-1');
    expect(delays.reduce((a, b) => a + b, 0)).toBe(5000);
    expect(fake.certificates.get(mine.certificateId)?.status).toBe('ACTIVE');
    expect(fake.keys()).toHaveLength(3);
  });
});

describe('Function: deprovision', () => {
  it('detaches stray policies before deleting', async () => {
    const fake = new FakeAws();
    const mine = await provisioned(fake);
    fake.certificates.get(mine.certificateId)!.policies = ['device-policy', 'debug-policy'];

    const result = await deprovision(
      { ...thing, certificateId: mine.certificateId },
      { iot: fake.iot, s3: fake.s3 },
    );

    expect(result.detachedPolicies).toEqual(['device-policy', 'debug-policy']);
    expect(fake.certificates.size).toBe(0);
  });

  it('keeps credential objects that now hold another certificate (after rotation)', async () => {
    const fake = new FakeAws();
    const old = await provisioned(fake);
    const current = await provisioned(fake, { replacesCertificateId: old.certificateId });

    const result = await deprovision(
      { ...thing, certificateId: old.certificateId },
      { iot: fake.iot, s3: fake.s3 },
    );

    expect(result.deletedObjects).toEqual([]);
    expect([...result.keptObjects].sort()).toEqual(Object.values(current.objects).sort());
    expect([...fake.certificates.keys()]).toEqual([current.certificateId]);
  });

  it("deletes request markers naming this certificate and no one else's", async () => {
    const fake = new FakeAws();
    const mine = await provisioned(fake);
    const folder = requestMarkerFolder(thing);
    fake.seed(
      `${folder}a.json`,
      JSON.stringify({ state: 'succeeded', certificateId: mine.certificateId }),
    );
    fake.seed(`${folder}b.json`, JSON.stringify({ state: 'failed', reason: 'x' }));

    await deprovision(
      { ...thing, certificateId: mine.certificateId },
      { iot: fake.iot, s3: fake.s3 },
    );

    expect(fake.keys()).toEqual([`${folder}b.json`]);
  });

  const steps: Array<[string, string]> = [
    ['describeCertificate', 'DescribeCertificate'],
    ['waitForThingDetachment', 'ListPrincipalThings'],
    ['detachPolicies', 'ListAttachedPolicies'],
    ['deactivateCertificate', 'UpdateCertificate'],
    ['deleteCertificate', 'DeleteCertificate'],
    ['listObjects', 'ListObjectsV2'],
    ['deleteObjects', 'DeleteObjects'],
  ];
  for (const [step, command] of steps) {
    it(`names step ${step} when ${command} fails, and a retry finishes the job`, async () => {
      const fake = new FakeAws();
      const mine = await provisioned(fake);
      fake.failOn(command, awsError('ThrottlingException', 400));
      const input = { ...thing, certificateId: mine.certificateId };

      const error = (await deprovision(input, { iot: fake.iot, s3: fake.s3 }).catch(
        (e: unknown) => e,
      )) as Error;
      expect(error).toMatchObject({ name: 'DeprovisioningError', step, thingName: 'sensor-1' });
      expect(error.message).toContain(
        `certificate ${mine.certificateId} of thing "sensor-1" failed at step ${step}`,
      );

      await deprovision(input, { iot: fake.iot, s3: fake.s3 });
      expect(fake.certificates.size).toBe(0);
      expect(fake.keys()).toEqual([]);
    });
  }
});
