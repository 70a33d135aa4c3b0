import { parseCredentialPointer } from '@thingcert/contracts';
import { describe, expect, it } from 'vitest';
import { awsError, FakeAws, instantSleep } from '../test/fake-aws';
import { objectKeyList } from './certificate-objects';
import { deprovision } from './deprovision';
import { provision } from './provision';
import { requestMarkerFolder } from './layout';

const thing = { thingName: 'sensor-1', bucketName: 'creds' };
const POINTER = 'sensor-1/current.json';

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
    expect([...result.deletedObjects].sort()).toEqual(objectKeyList(mine.objects).sort());
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
    const first = await deprovision(input, { iot: fake.iot, s3: fake.s3 });
    expect(first.pointer).toEqual({ kind: 'removed' });

    const again = await deprovision(input, { iot: fake.iot, s3: fake.s3 });

    expect(again).toEqual({
      certificateDeleted: false,
      detachedPolicies: [],
      deletedObjects: [],
      keptObjects: [],
      pointer: { kind: 'untouched' },
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

  it.each(['ListPrincipalThings', 'ListAttachedPolicies'])(
    'succeeds when a duplicate delivery deleted the certificate before %s',
    async (command) => {
      const fake = new FakeAws();
      const mine = await provisioned(fake);
      fake.failOn(command, awsError('ResourceNotFoundException', 404));

      const result = await deprovision(
        { ...thing, certificateId: mine.certificateId },
        { iot: fake.iot, s3: fake.s3 },
      );

      expect(result.detachedPolicies).toEqual([]);
      expect(fake.keys()).toEqual([]);
    },
  );

  it("after a rotation removes only the old certificate's folder; the new one and the pointer stay", async () => {
    const fake = new FakeAws();
    const old = await provisioned(fake);
    const current = await provisioned(fake);
    const pointerBefore = fake.object(POINTER);

    const result = await deprovision(
      { ...thing, certificateId: old.certificateId },
      { iot: fake.iot, s3: fake.s3 },
    );

    expect([...result.deletedObjects].sort()).toEqual(objectKeyList(old.objects).sort());
    expect(result.pointer).toEqual({ kind: 'untouched' });
    expect(fake.object(POINTER)).toEqual(pointerBefore);
    expect(fake.keys()).toEqual([...objectKeyList(current.objects), POINTER].sort());
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

  // The nth call of each command that belongs to the step (the pointer step
  // reads the pointer, lists records and deletes the pointer first).
  const steps: Record<string, { command: string; nth: number }> = {
    describeCertificate: { command: 'DescribeCertificate', nth: 1 },
    moveCredentialPointer: { command: 'GetObject', nth: 1 },
    waitForThingDetachment: { command: 'ListPrincipalThings', nth: 1 },
    detachPolicies: { command: 'ListAttachedPolicies', nth: 1 },
    deactivateCertificate: { command: 'UpdateCertificate', nth: 1 },
    deleteCertificate: { command: 'DeleteCertificate', nth: 1 },
    listObjects: { command: 'ListObjectsV2', nth: 2 },
    deleteObjects: { command: 'DeleteObjects', nth: 2 },
  };
  for (const [step, { command, nth }] of Object.entries(steps)) {
    it(`names step ${step} when ${command} fails, and a retry finishes the job`, async () => {
      const fake = new FakeAws();
      const mine = await provisioned(fake);
      fake.failOn(command, awsError('ThrottlingException', 400), fake.count(command) + nth);
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

describe('Function: deprovision', () => {
  describe('credential pointer', () => {
    const origin = { stackId: 'stack', requestId: 'request' };
    const deps = (fake: FakeAws) => ({ iot: fake.iot, s3: fake.s3 });

    async function recorded(fake: FakeAws) {
      return provision({ ...thing, recordOrigin: origin }, deps(fake));
    }

    function pointedAt(fake: FakeAws): string | undefined {
      const body = fake.object(POINTER)?.body;
      return body === undefined ? undefined : parseCredentialPointer(body).certificateId;
    }

    it('moves it back to the newest other recorded certificate that is ACTIVE and has its objects', async () => {
      const fake = new FakeAws();
      const oldest = await recorded(fake);
      const inactive = await recorded(fake);
      const current = await recorded(fake);
      fake.certificates.get(inactive.certificateId)!.status = 'INACTIVE';
      const oldestObjects = objectKeyList(oldest.objects).map((key) => fake.object(key));

      const result = await deprovision(
        { ...thing, certificateId: current.certificateId },
        deps(fake),
      );

      expect(result.pointer).toEqual({ kind: 'moved', certificateId: oldest.certificateId });
      expect(parseCredentialPointer(fake.object(POINTER)!.body)).toMatchObject({
        certificateId: oldest.certificateId,
        certificateArn: oldest.certificateArn,
        objects: oldest.objects,
      });
      expect(objectKeyList(oldest.objects).map((key) => fake.object(key))).toEqual(oldestObjects);
      expect(fake.keys().filter((key) => key.includes(current.certificateId))).toEqual([]);
    });

    it('deletes it when no other certificate is usable', async () => {
      const fake = new FakeAws();
      const other = await recorded(fake);
      const current = await recorded(fake);
      fake.buckets.get('creds')!.delete(other.objects.privateKey);

      const result = await deprovision(
        { ...thing, certificateId: current.certificateId },
        deps(fake),
      );

      expect(result.pointer).toEqual({ kind: 'removed' });
      expect(fake.object(POINTER)).toBeUndefined();
    });

    it('never moves it to a certificate removed along with this one', async () => {
      const fake = new FakeAws();
      const held = await recorded(fake);
      const failed = await recorded(fake);
      const current = await recorded(fake);

      await deprovision(
        { ...thing, certificateId: current.certificateId, alsoRemoving: [failed.certificateId] },
        deps(fake),
      );

      expect(pointedAt(fake)).toBe(held.certificateId);
    });

    it('copies a certificate made before the pointer layout into its folder before pointing at it', async () => {
      const fake = new FakeAws();
      const legacy = fake.newCertificate();
      const files = {
        'sensor-1/device.pem.crt': legacy.pem,
        'sensor-1/public.pem.key': '-----BEGIN PUBLIC KEY-----\nlegacy\n-----END PUBLIC KEY-----\n',
        'sensor-1/private.pem.key': 'legacy private key',
      };
      for (const [key, body] of Object.entries(files)) fake.seed(key, body);
      fake.seed(
        `sensor-1/.thingcert/certificates/${legacy.id}.json`,
        JSON.stringify({
          version: 1,
          certificateId: legacy.id,
          certificateArn: legacy.arn,
          createdAt: '2026-01-01T00:00:00.000Z',
        }),
      );
      const current = await recorded(fake);

      await deprovision({ ...thing, certificateId: current.certificateId }, deps(fake));

      const pointer = parseCredentialPointer(fake.object(POINTER)!.body);
      expect(pointer.certificateId).toBe(legacy.id);
      const folder = `sensor-1/certificates/${legacy.id}/`;
      expect(pointer.objects).toEqual({
        certificate: `${folder}device.pem.crt`,
        publicKey: `${folder}public.pem.key`,
        privateKey: `${folder}private.pem.key`,
      });
      expect(fake.object(pointer.objects.certificate)?.body).toBe(legacy.pem);
      expect(fake.object(pointer.objects.privateKey)?.body).toBe('legacy private key');
      for (const [key, body] of Object.entries(files)) expect(fake.object(key)?.body).toBe(body);
    });
  });

  describe('fixed files of the layout before the pointer', () => {
    const files = [
      'sensor-1/device.pem.crt',
      'sensor-1/private.pem.key',
      'sensor-1/public.pem.key',
    ];

    /** Deprovisions a certificate made elsewhere, with the fixed files holding `holder`'s PEM. */
    async function deprovisionBeside(holder: 'itself' | 'another') {
      const fake = new FakeAws();
      const legacy = fake.newCertificate();
      const pem = holder === 'itself' ? legacy.pem : fake.newCertificate().pem;
      files.forEach((key, index) => fake.seed(key, index === 0 ? pem : `file ${index}`));
      const result = await deprovision(
        { ...thing, certificateId: legacy.id },
        { iot: fake.iot, s3: fake.s3 },
      );
      return { fake, result };
    }

    it('deletes them with the certificate they hold', async () => {
      const { fake, result } = await deprovisionBeside('itself');

      expect([...result.deletedObjects].sort()).toEqual(files);
      expect(fake.keys()).toEqual([]);
    });

    it('keeps them when they hold another certificate', async () => {
      const { fake, result } = await deprovisionBeside('another');

      expect([...result.keptObjects].sort()).toEqual(files);
      expect(fake.keys()).toEqual(files);
    });
  });
});
