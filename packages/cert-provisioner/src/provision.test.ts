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
