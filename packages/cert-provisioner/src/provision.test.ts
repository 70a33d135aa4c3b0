import { parseCredentialPointer } from '@thingcert/contracts';
import { findSecretLeaks } from '@thingcert/test-support';
import { describe, expect, it } from 'vitest';
import { awsError, captureLogger, ENDPOINT, FakeAws } from '../test/fake-aws';
import { objectKeyList } from './certificate-objects';
import { provision } from './provision';

const thing = { thingName: 'sensor-1', bucketName: 'creds' };

/** The keys of one certificate's own folder, and the thing's pointer. */
function keysOf(certificateId: string, prefix = '') {
  const folder = `${prefix}sensor-1/certificates/${certificateId}/`;
  return {
    certificate: `${folder}device.pem.crt`,
    publicKey: `${folder}public.pem.key`,
    privateKey: `${folder}private.pem.key`,
  };
}
const POINTER = 'sensor-1/current.json';

function pointerOf(fake: FakeAws, key = POINTER) {
  return parseCredentialPointer(fake.object(key)?.body ?? '');
}

describe('Function: provision', () => {
  it('stores the certificate in its own folder, with PEM content types, and the pointer last', async () => {
    const fake = new FakeAws();
    const log = captureLogger();

    const result = await provision(thing, { iot: fake.iot, s3: fake.s3, logger: log.logger });

    expect(result.certificateId).toMatch(/^[0-9a-f]{64}$/);
    const objects = keysOf(result.certificateId);
    expect(result).toEqual({
      certificateId: result.certificateId,
      certificateArn: `arn:aws:iot:us-east-1:123456789012:cert/${result.certificateId}`,
      endpoint: ENDPOINT,
      bucketName: 'creds',
      objects,
      credentialPointerObjectKey: POINTER,
    });
    expect(fake.certificates.get(result.certificateId)?.status).toBe('ACTIVE');
    expect(fake.keys()).toEqual([...objectKeyList(objects), POINTER].sort());
    expect(fake.object(objects.privateKey)?.body).toContain('PRIVATE KEY');
    expect(fake.object(objects.certificate)?.contentType).toBe('application/x-pem-file');
    expect(fake.object(objects.certificate)?.sse).toBeUndefined();
    const puts = fake.inputsOf('PutObject') as Array<{ Key: string }>;
    expect(puts.at(-1)?.Key).toBe(POINTER);
    expect(pointerOf(fake)).toMatchObject({
      version: 1,
      certificateId: result.certificateId,
      certificateArn: result.certificateArn,
      objects,
    });
    expect(findSecretLeaks(`${log.text()}\n${fake.object(POINTER)?.body}`, fake.secrets)).toEqual(
      [],
    );
    expect(log.lines.some((line) => line.includes('"step":"storeCredentialPointer"'))).toBe(true);
  });

  it('encrypts every object with SSE-KMS under a key prefix when a key id is given', async () => {
    const fake = new FakeAws();

    const result = await provision(
      { ...thing, keyPrefix: 'fleet/', kmsKeyId: 'alias/creds' },
      { iot: fake.iot, s3: fake.s3 },
    );

    expect(result.objects).toEqual(keysOf(result.certificateId, 'fleet/'));
    expect(result.credentialPointerObjectKey).toBe('fleet/sensor-1/current.json');
    for (const key of fake.keys()) {
      expect(fake.object(key)).toMatchObject({ sse: 'aws:kms', kmsKeyId: 'alias/creds' });
    }
  });

  it('in csr mode makes the key here and sends only a CSR', async () => {
    const fake = new FakeAws();

    const { objects } = await provision(
      { ...thing, keyMode: 'csr' },
      { iot: fake.iot, s3: fake.s3 },
    );

    expect(fake.count('CreateCertificateFromCsr')).toBe(1);
    expect(fake.count('CreateKeysAndCertificate')).toBe(0);
    expect(fake.object(objects.privateKey)?.body).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(fake.object(objects.publicKey)?.body).toMatch(/^-----BEGIN PUBLIC KEY-----/);
  });

  const afterCreation: Array<[string, string, number]> = [
    ['storeCertificate', 'PutObject', 1],
    ['storePublicKey', 'PutObject', 2],
    ['storePrivateKey', 'PutObject', 3],
    ['storeCredentialPointer', 'PutObject', 4],
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

  it("leaves an earlier certificate's folder as it was and takes the pointer from it", async () => {
    const fake = new FakeAws();
    const first = await provision(thing, { iot: fake.iot, s3: fake.s3 });
    const firstObjects = objectKeyList(first.objects).map((key) => fake.object(key));

    const second = await provision(thing, { iot: fake.iot, s3: fake.s3 });

    expect(objectKeyList(first.objects).map((key) => fake.object(key))).toEqual(firstObjects);
    expect(fake.certificates.get(first.certificateId)?.status).toBe('ACTIVE');
    expect(pointerOf(fake).certificateId).toBe(second.certificateId);
    expect(fake.keys()).toEqual(
      [...objectKeyList(first.objects), ...objectKeyList(second.objects), POINTER].sort(),
    );
  });

  it('refuses to overwrite an object in the new folder that is not this certificate', async () => {
    const fake = new FakeAws();
    // Nothing of ours puts a foreign object into a certificate's folder: fake one.
    const put = fake.s3.send.bind(fake.s3);
    let planted = false;
    fake.s3.send = (async (command: { input: { Key?: string } }, options?: unknown) => {
      const key = command.input.Key;
      if (!planted && key?.endsWith('/device.pem.crt')) {
        planted = true;
        fake.seed(key, 'not a certificate of ours');
      }
      return put(command as never, options as never);
    }) as typeof fake.s3.send;

    const error = await provision(thing, { iot: fake.iot, s3: fake.s3 }).catch((e: unknown) => e);

    expect(error).toMatchObject({ name: 'ProvisioningError', step: 'storeCertificate' });
    expect((error as Error).message).toContain('refusing to overwrite it');
    expect(fake.certificates.size).toBe(0);
    expect(fake.keys().map((key) => fake.object(key)?.body)).toEqual(['not a certificate of ours']);
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
    // PutObject calls of a rotation, after those of the first provision: the
    // new folder's three files (If-None-Match, nothing there), then the
    // pointer: If-None-Match (412, it exists), then its overwrite.
    const failures: Array<[string, number]> = [
      ['storeCertificate', 1],
      ['storePublicKey', 2],
      ['storePrivateKey', 3],
      ['storeCredentialPointer', 5],
    ];
    for (const [step, nth] of failures) {
      it(`leaves the replaced certificate's folder and the pointer as they were when ${step} fails`, async () => {
        const fake = new FakeAws();
        const log = captureLogger();
        const old = await provision(
          { ...thing, kmsKeyId: 'alias/old' },
          { iot: fake.iot, s3: fake.s3 },
        );
        const keys = fake.keys();
        const before = keys.map((key) => fake.object(key));
        fake.failOn('PutObject', awsError('InternalError', 500), fake.count('PutObject') + nth);

        const error = (await provision(
          { ...thing, kmsKeyId: 'alias/new' },
          { iot: fake.iot, s3: fake.s3, logger: log.logger },
        ).catch((e: unknown) => e)) as Error;

        expect(error).toMatchObject({ name: 'ProvisioningError', step, compensation: 'done' });
        expect([...fake.certificates.keys()]).toEqual([old.certificateId]);
        expect(fake.certificates.get(old.certificateId)?.status).toBe('ACTIVE');
        expect(fake.keys()).toEqual(keys);
        expect(keys.map((key) => fake.object(key))).toEqual(before);
        expect(pointerOf(fake).certificateId).toBe(old.certificateId);
        expect(findSecretLeaks(`${log.text()}\n${error.message}`, fake.secrets)).toEqual([]);
      });
    }

    it('puts the pointer back as it was when the new one was written but the step failed after', async () => {
      const fake = new FakeAws();
      const old = await provision(thing, { iot: fake.iot, s3: fake.s3 });
      const pointerBefore = fake.object(POINTER);
      // The pointer overwrite lands, then its answer is lost.
      const n = fake.count('PutObject');
      const send = fake.s3.send.bind(fake.s3);
      fake.s3.send = (async (
        command: { input: { Key?: string; IfMatch?: string } },
        options?: unknown,
      ) => {
        const out = await send(command as never, options as never);
        if (
          command.input.Key === POINTER &&
          command.input.IfMatch &&
          fake.count('PutObject') === n + 5
        ) {
          throw awsError('InternalError', 500, 'connection reset after the write');
        }
        return out;
      }) as typeof fake.s3.send;

      await expect(provision(thing, { iot: fake.iot, s3: fake.s3 })).rejects.toMatchObject({
        step: 'storeCredentialPointer',
        compensation: 'done',
      });

      expect(fake.object(POINTER)?.body).toBe(pointerBefore?.body);
      expect([...fake.certificates.keys()]).toEqual([old.certificateId]);
    });

    it('reports a pointer it could not put back', async () => {
      const fake = new FakeAws();
      const old = await provision(thing, { iot: fake.iot, s3: fake.s3 });
      const n = fake.count('PutObject');
      // The pointer overwrite fails, then so does putting the old one back.
      fake
        .failOn('PutObject', awsError('InternalError', 500), n + 5)
        .failOn('PutObject', awsError('SlowDown', 503), n + 6);

      const error = (await provision(thing, { iot: fake.iot, s3: fake.s3 }).catch(
        (e: unknown) => e,
      )) as Error;

      expect(error).toMatchObject({ step: 'storeCredentialPointer', compensation: 'failed' });
      expect(error.message).toContain('restoreObject sensor-1/current.json: SlowDown');
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
