import { randomUUID } from 'node:crypto';
import { parseCredentialPointer } from '@thingcert/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeAws } from '../test/fake-aws';
import * as cfn from '../test/handler-harness';

afterEach(cfn.closeRecorders);

const LEGACY_FILES = {
  certificate: 'sensor-1/device.pem.crt',
  publicKey: 'sensor-1/public.pem.key',
  privateKey: 'sensor-1/private.pem.key',
};

/**
 * A certificate as a provisioner before the pointer layout left it: the fixed
 * per-thing files, its record and its succeeded request marker; no pointer.
 */
function legacyCertificate(fake: FakeAws) {
  const certificate = fake.newCertificate();
  fake.seed(LEGACY_FILES.certificate, certificate.pem);
  fake.seed(LEGACY_FILES.publicKey, '-----BEGIN PUBLIC KEY-----\nold\n-----END PUBLIC KEY-----\n');
  fake.seed(LEGACY_FILES.privateKey, 'legacy private key');
  cfn.seedRecord(fake, certificate, {
    endpoint: 'old-endpoint',
    thingName: 'sensor-1',
    bucketName: 'creds',
    keyPrefix: '',
    keyMode: 'server',
    keyAlgorithm: 'RSA_2048',
    requestId: randomUUID(),
    createdAt: '2026-01-01T00:00:00.000Z',
  });
  fake.seed(
    `${cfn.MARKERS}legacy.json`,
    JSON.stringify({ version: 1, state: 'succeeded', certificateId: certificate.id }),
  );
  return certificate;
}

/** The Update that brings `CredentialLayout` to a certificate of the earlier layout. */
async function upgraded() {
  const { fake, handler } = cfn.setup();
  const legacy = legacyCertificate(fake);
  const rec = await cfn.recorder();
  await handler(
    cfn.updateEvent(rec.responseUrl(), legacy.id, {}, { CredentialLayout: 'pointer-v1' }),
  );
  return { fake, handler, legacy, rec, updated: await cfn.answer(rec, 1) };
}

describe('Function: ensureCredentialPointer (through the handler)', () => {
  it('gives a certificate made before the pointer layout its folder and the pointer on the Update that brings the layout', async () => {
    const { fake, legacy, updated } = await upgraded();

    const folder = `sensor-1/certificates/${legacy.id}/`;
    expect(updated).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: legacy.id });
    expect(updated.Data).toMatchObject({
      CertificateObjectKey: `${folder}device.pem.crt`,
      PrivateKeyObjectKey: `${folder}private.pem.key`,
      CredentialPointerObjectKey: cfn.POINTER,
    });
    expect(parseCredentialPointer(fake.object(cfn.POINTER)!.body)).toMatchObject({
      certificateId: legacy.id,
      certificateArn: legacy.arn,
    });
    expect(fake.object(`${folder}private.pem.key`)?.body).toBe('legacy private key');
    // Devices that still read the fixed files keep finding them.
    expect(fake.object(LEGACY_FILES.privateKey)?.body).toBe('legacy private key');
    expect(fake.count('CreateKeysAndCertificate')).toBe(0);
  });

  it('removes the copies and the fixed files when that certificate is deleted', async () => {
    const { fake, handler, legacy, rec } = await upgraded();

    await handler(
      cfn.deleteEvent(rec.responseUrl(), legacy.id, { CredentialLayout: 'pointer-v1' }),
    );

    expect((await cfn.answer(rec, 2)).Status).toBe('SUCCESS');
    expect(fake.certificates.size).toBe(0);
    expect(fake.keys()).toEqual([]);
  });

  it('rewrites a pointer lost out of band on a no-op Update, and leaves a good one alone', async () => {
    const { fake, handler } = cfn.setup();
    const rec = await cfn.recorder();
    await handler(cfn.createEvent(rec.responseUrl()));
    const created = await cfn.answer(rec, 1);
    fake.buckets.get('creds')!.delete(cfn.POINTER);

    await handler(cfn.updateEvent(rec.responseUrl(), created.PhysicalResourceId, {}, {}));
    expect((await cfn.answer(rec, 2)).Status).toBe('SUCCESS');
    expect(cfn.pointedAt(fake)).toBe(created.PhysicalResourceId);
    const etag = fake.object(cfn.POINTER)?.etag;

    await handler(cfn.updateEvent(rec.responseUrl(), created.PhysicalResourceId, {}, {}));
    expect((await cfn.answer(rec, 3)).Status).toBe('SUCCESS');
    expect(fake.object(cfn.POINTER)?.etag).toBe(etag);
  });
});
