import { findSecretLeaks } from '@thingcert/test-support';
import { describe, expect, it } from 'vitest';
import { awsError, captureLogger, ENDPOINT, FakeAws } from '../test/fake-aws';
import { provision } from './provision';

const thing = { thingName: 'sensor-1', bucketName: 'creds' };

describe('Function: provision', () => {
  it('creates an ACTIVE certificate and stores the seed layout with PEM content types', async () => {
    const fake = new FakeAws();
    const log = captureLogger();

    const result = await provision(thing, { iot: fake.iot, s3: fake.s3, logger: log.logger });

    expect(result.certificateId).toMatch(/^[0-9a-f]{64}$/);
    expect(result).toEqual({
      certificateId: result.certificateId,
      certificateArn: `arn:aws:iot:us-east-1:123456789012:cert/${result.certificateId}`,
      endpoint: ENDPOINT,
      bucketName: 'creds',
      objects: {
        certificate: 'sensor-1/device.pem.crt',
        publicKey: 'sensor-1/public.pem.key',
        privateKey: 'sensor-1/private.pem.key',
      },
    });
    expect(fake.certificates.get(result.certificateId)?.status).toBe('ACTIVE');
    expect(fake.keys()).toEqual([
      'sensor-1/device.pem.crt',
      'sensor-1/private.pem.key',
      'sensor-1/public.pem.key',
    ]);
    expect(fake.object('sensor-1/private.pem.key')?.body).toContain('PRIVATE KEY');
    expect(fake.object('sensor-1/device.pem.crt')?.contentType).toBe('application/x-pem-file');
    expect(fake.object('sensor-1/device.pem.crt')?.sse).toBeUndefined();
    expect(findSecretLeaks(log.text(), fake.secrets)).toEqual([]);
    expect(log.lines.some((line) => line.includes('"step":"storePrivateKey"'))).toBe(true);
  });

  it('encrypts every object with SSE-KMS under a key prefix when a key id is given', async () => {
    const fake = new FakeAws();

    const result = await provision(
      { ...thing, keyPrefix: 'fleet/', kmsKeyId: 'alias/creds' },
      { iot: fake.iot, s3: fake.s3 },
    );

    expect(result.objects.privateKey).toBe('fleet/sensor-1/private.pem.key');
    for (const key of fake.keys()) {
      expect(fake.object(key)).toMatchObject({ sse: 'aws:kms', kmsKeyId: 'alias/creds' });
    }
  });

  it('in csr mode makes the key here and sends only a CSR', async () => {
    const fake = new FakeAws();

    await provision({ ...thing, keyMode: 'csr' }, { iot: fake.iot, s3: fake.s3 });

    expect(fake.count('CreateCertificateFromCsr')).toBe(1);
    expect(fake.count('CreateKeysAndCertificate')).toBe(0);
    expect(fake.object('sensor-1/private.pem.key')?.body).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(fake.object('sensor-1/public.pem.key')?.body).toMatch(/^-----BEGIN PUBLIC KEY-----/);
  });

  const afterCreation: Array<[string, string, number]> = [
    ['storeCertificate', 'PutObject', 1],
    ['storePublicKey', 'PutObject', 2],
    ['storePrivateKey', 'PutObject', 3],
  ];
  for (const [step, command, nth] of afterCreation) {
    for (const errorName of ['InternalError', 'ThrottlingException']) {
      it(`removes the certificate and its objects when ${step} fails with ${errorName}`, async () => {
        const fake = new FakeAws().failOn(command, awsError(errorName, 503), nth);
        const log = captureLogger();

        const error = await provision(thing, {
          iot: fake.iot,
          s3: fake.s3,
          logger: log.logger,
        }).catch((e: unknown) => e);

        expect(error).toMatchObject({
          name: 'ProvisioningError',
          step,
          thingName: 'sensor-1',
          compensation: 'done',
        });
        expect((error as Error).message).toContain(`failed at step ${step}: ${errorName}`);
        expect(fake.certificates.size).toBe(0);
        expect(fake.keys()).toEqual([]);
        expect(findSecretLeaks(`${log.text()}\n${(error as Error).message}`, fake.secrets)).toEqual(
          [],
        );
      });
    }
  }
});

describe('Function: provision', () => {
  for (const command of ['DescribeEndpoint', 'CreateKeysAndCertificate']) {
    it(`creates nothing when ${command} fails`, async () => {
      const fake = new FakeAws().failOn(command, awsError('ThrottlingException', 400));

      await expect(provision(thing, { iot: fake.iot, s3: fake.s3 })).rejects.toMatchObject({
        name: 'ProvisioningError',
        compensation: 'not-needed',
      });
      expect(fake.certificates.size).toBe(0);
      expect(fake.keys()).toEqual([]);
    });
  }

  it('reports the certificate left behind when cleanup fails too', async () => {
    const fake = new FakeAws()
      .failOn('PutObject', awsError('InternalError', 500), 3)
      .failOn('DeleteCertificate', awsError('InternalError', 500));

    const error = (await provision(thing, { iot: fake.iot, s3: fake.s3 }).catch(
      (e: unknown) => e,
    )) as Error;

    const [left] = [...fake.certificates.keys()];
    expect(error).toMatchObject({
      name: 'ProvisioningError',
      compensation: 'failed',
      certificateId: left,
    });
    expect(error.message).toContain(`cleanup of certificate ${left} also failed`);
    expect(fake.certificates.get(left!)?.status).toBe('INACTIVE');
  });

  it("refuses to overwrite another certificate's files and leaves them intact", async () => {
    const fake = new FakeAws();
    const first = await provision(thing, { iot: fake.iot, s3: fake.s3 });
    const before = fake.keys().map((key) => fake.object(key)?.body);

    const error = await provision(thing, { iot: fake.iot, s3: fake.s3 }).catch((e: unknown) => e);

    expect(error).toMatchObject({ name: 'ProvisioningError', step: 'storeCertificate' });
    expect((error as Error).message).toContain(`already holds certificate ${first.certificateId}`);
    expect([...fake.certificates.keys()]).toEqual([first.certificateId]);
    expect(fake.keys().map((key) => fake.object(key)?.body)).toEqual(before);
  });

  it('overwrites the files of the certificate it replaces', async () => {
    const fake = new FakeAws();
    const first = await provision(thing, { iot: fake.iot, s3: fake.s3 });

    const second = await provision(
      { ...thing, replacesCertificateId: first.certificateId },
      { iot: fake.iot, s3: fake.s3 },
    );

    expect(fake.object('sensor-1/device.pem.crt')?.body).toBe(
      fake.certificates.get(second.certificateId)?.pem,
    );
    expect(fake.certificates.has(first.certificateId)).toBe(true);
  });

  it('stops at the abort signal and still cleans up', async () => {
    const fake = new FakeAws().hangOn('PutObject', 2);
    const controller = new AbortController();

    const pending = provision(
      { ...thing, signal: controller.signal },
      { iot: fake.iot, s3: fake.s3 },
    );
    await expect.poll(() => fake.count('PutObject')).toBe(2);
    controller.abort();

    await expect(pending).rejects.toMatchObject({
      name: 'ProvisioningError',
      step: 'storePublicKey',
      compensation: 'done',
    });
    expect(fake.certificates.size).toBe(0);
    expect(fake.keys()).toEqual([]);
    fake.releaseHung();
  });
});

describe('Function: provision', () => {
  describe('failed rotation', () => {
    const credentialKeys = [
      'sensor-1/device.pem.crt',
      'sensor-1/private.pem.key',
      'sensor-1/public.pem.key',
    ];
    // PutObject calls of a rotation, after those of the first provision: each
    // file is first tried with If-None-Match (412, it exists), then overwritten.
    const overwrites: Array<[string, number]> = [
      ['storeCertificate', 2],
      ['storePublicKey', 4],
      ['storePrivateKey', 6],
    ];
    for (const [step, nth] of overwrites) {
      it(`puts the replaced certificate's files back as they were when ${step} fails`, async () => {
        const fake = new FakeAws();
        const log = captureLogger();
        const old = await provision(
          { ...thing, kmsKeyId: 'alias/old' },
          { iot: fake.iot, s3: fake.s3 },
        );
        const before = credentialKeys.map((key) => fake.object(key));
        fake.failOn('PutObject', awsError('InternalError', 500), fake.count('PutObject') + nth);

        const error = (await provision(
          { ...thing, kmsKeyId: 'alias/new', replacesCertificateId: old.certificateId },
          { iot: fake.iot, s3: fake.s3, logger: log.logger },
        ).catch((e: unknown) => e)) as Error;

        expect(error).toMatchObject({ name: 'ProvisioningError', step, compensation: 'done' });
        expect([...fake.certificates.keys()]).toEqual([old.certificateId]);
        expect(fake.certificates.get(old.certificateId)?.status).toBe('ACTIVE');
        expect(fake.keys()).toEqual(credentialKeys);
        expect(credentialKeys.map((key) => fake.object(key))).toEqual(before);
        expect(fake.object('sensor-1/private.pem.key')).toMatchObject({
          sse: 'aws:kms',
          kmsKeyId: 'alias/old',
          contentType: 'application/x-pem-file',
        });
        expect(fake.count('DeleteObjects')).toBe(0);
        expect(findSecretLeaks(`${log.text()}\n${error.message}`, fake.secrets)).toEqual([]);
      });
    }

    it('deletes only the files that did not exist before', async () => {
      const fake = new FakeAws();
      const old = await provision(thing, { iot: fake.iot, s3: fake.s3 });
      fake.buckets.get('creds')?.delete('sensor-1/private.pem.key');
      const certificateBefore = fake.object('sensor-1/device.pem.crt');
      const publicKeyBefore = fake.object('sensor-1/public.pem.key');
      // The private key PUT (If-None-Match, nothing there) is the fifth of the rotation.
      fake.failOn('PutObject', awsError('InternalError', 500), fake.count('PutObject') + 5);

      await expect(
        provision(
          { ...thing, replacesCertificateId: old.certificateId },
          { iot: fake.iot, s3: fake.s3 },
        ),
      ).rejects.toMatchObject({ step: 'storePrivateKey', compensation: 'done' });

      expect(fake.keys()).toEqual(['sensor-1/device.pem.crt', 'sensor-1/public.pem.key']);
      expect(fake.object('sensor-1/device.pem.crt')).toEqual(certificateBefore);
      expect(fake.object('sensor-1/public.pem.key')).toEqual(publicKeyBefore);
      expect([...fake.certificates.keys()]).toEqual([old.certificateId]);
    });

    it('reports a file it could not put back', async () => {
      const fake = new FakeAws();
      const old = await provision(thing, { iot: fake.iot, s3: fake.s3 });
      const n = fake.count('PutObject');
      // The public key overwrite fails, then so does putting the certificate back.
      fake
        .failOn('PutObject', awsError('InternalError', 500), n + 4)
        .failOn('PutObject', awsError('SlowDown', 503), n + 5);

      const error = (await provision(
        { ...thing, replacesCertificateId: old.certificateId },
        { iot: fake.iot, s3: fake.s3 },
      ).catch((e: unknown) => e)) as Error;

      expect(error).toMatchObject({ step: 'storePublicKey', compensation: 'failed' });
      expect(error.message).toContain('restoreObject sensor-1/device.pem.crt: SlowDown');
      expect(findSecretLeaks(error.message, fake.secrets)).toEqual([]);
      expect([...fake.certificates.keys()]).toEqual([old.certificateId]);
    });
  });
});

describe('Function: provision', () => {
  for (const keyMode of ['server', 'csr'] as const) {
    it(`deletes the certificate when the abort comes during a slow create call (${keyMode})`, async () => {
      const create = keyMode === 'server' ? 'CreateKeysAndCertificate' : 'CreateCertificateFromCsr';
      const fake = new FakeAws().hangOn(create);
      const controller = new AbortController();

      const pending = provision(
        { ...thing, keyMode, signal: controller.signal },
        { iot: fake.iot, s3: fake.s3 },
      ).catch((e: unknown) => e);
      await expect.poll(() => fake.count(create)).toBe(1);
      controller.abort();
      fake.releaseHung();
      const error = (await pending) as Error;

      expect(error).toMatchObject({
        name: 'ProvisioningError',
        step: 'storeCertificate',
        compensation: 'done',
        certificateId: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown,
      });
      expect(error.message).toContain('storeCertificate: DeadlineError');
      const { certificateId } = error as Error & { certificateId: string };
      expect(fake.inputsOf('UpdateCertificate')).toEqual([
        { certificateId, newStatus: 'INACTIVE' },
      ]);
      expect(fake.inputsOf('DeleteCertificate')).toEqual([{ certificateId, forceDelete: true }]);
      expect(fake.certificates.size).toBe(0);
      expect(fake.count('PutObject')).toBe(0);
      expect(fake.keys()).toEqual([]);
    });
  }
});
