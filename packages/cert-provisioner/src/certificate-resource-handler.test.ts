import { DEVICE_CERTIFICATE_RESOURCE_TYPE } from '@thingcert/contracts';
import { randomUUID } from 'node:crypto';
import type { LambdaContextLike } from '@thingcert/cfn-response';
import {
  findSecretLeaks,
  startResponseRecorder,
  type ResponseRecorder,
} from '@thingcert/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { awsError, captureLogger, ENDPOINT, FakeAws, instantSleep } from '../test/fake-aws';
import {
  createCertificateResourceHandler,
  type CertificateResourceHandlerOptions,
} from './certificate-resource-handler';
import { requestMarkerFolder } from './layout';

const STACK_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/devices/0f7a1b2c';
const PROPS = {
  ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:cert',
  ThingName: 'sensor-1',
  BucketName: 'creds',
};
const MARKERS = requestMarkerFolder({ thingName: 'sensor-1', bucketName: 'creds' });

interface Response {
  Status: string;
  Reason?: string;
  PhysicalResourceId: string;
  Data?: Record<string, string>;
}

let recorders: ResponseRecorder[] = [];
afterEach(async () => {
  await Promise.all(recorders.map((r) => r.close()));
  recorders = [];
});

async function recorder(options?: Parameters<typeof startResponseRecorder>[0]) {
  const started = await startResponseRecorder(options);
  recorders.push(started);
  return started;
}

function setup(options: CertificateResourceHandlerOptions = {}) {
  const fake = new FakeAws();
  const log = captureLogger();
  const { sleep } = instantSleep();
  const handler = createCertificateResourceHandler(
    { iot: fake.iot, s3: fake.s3, sleep },
    { logger: log.logger, retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 }, ...options },
  );
  return { fake, log, handler };
}

function createEvent(responseUrl: string, props: Record<string, unknown> = {}) {
  return {
    RequestType: 'Create',
    ResponseURL: responseUrl,
    StackId: STACK_ID,
    RequestId: randomUUID(),
    ResourceType: DEVICE_CERTIFICATE_RESOURCE_TYPE,
    LogicalResourceId: 'DeviceCertificate',
    ResourceProperties: { ...PROPS, ...props },
  };
}

function updateEvent(
  responseUrl: string,
  physicalId: string,
  old: Record<string, unknown>,
  props: Record<string, unknown>,
) {
  return {
    ...createEvent(responseUrl, props),
    RequestType: 'Update',
    PhysicalResourceId: physicalId,
    OldResourceProperties: { ...PROPS, ...old },
  };
}

function deleteEvent(responseUrl: string, physicalId: string, props: Record<string, unknown> = {}) {
  return {
    ...createEvent(responseUrl, props),
    RequestType: 'Delete',
    PhysicalResourceId: physicalId,
  };
}

async function answer(rec: ResponseRecorder, count = 1): Promise<Response> {
  const accepted = await rec.waitForAccepted(count);
  return accepted[count - 1]!.json as Response;
}

/** Credential objects only: markers are bookkeeping, checked separately. */
function credentialKeys(fake: FakeAws): string[] {
  return fake.keys().filter((key) => !key.startsWith(MARKERS));
}

function allText(log: { text(): string }, rec: ResponseRecorder): string {
  return [log.text(), ...rec.requests.map((r) => r.rawBody.toString('utf8'))].join('\n');
}

describe('Function: createCertificateResourceHandler', () => {
  describe('Create', () => {
    it('answers SUCCESS with the certificate id and exactly the documented Data', async () => {
      const { fake, log, handler } = setup();
      const rec = await recorder();

      await handler(createEvent(rec.responseUrl()), { awsRequestId: 'lambda-req-1' });

      const response = await answer(rec);
      const [certificateId] = [...fake.certificates.keys()];
      expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: certificateId });
      expect(response.Data).toEqual({
        CertificateArn: fake.certificates.get(certificateId!)?.arn,
        CertificateId: certificateId,
        IoTEndpoint: ENDPOINT,
        CertificateObjectKey: 'sensor-1/device.pem.crt',
        PrivateKeyObjectKey: 'sensor-1/private.pem.key',
        PublicKeyObjectKey: 'sensor-1/public.pem.key',
      });
      expect(rec.requests).toHaveLength(1);
      expect(findSecretLeaks(allText(log, rec), fake.secrets)).toEqual([]);
      const stepLine = log.lines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l.step === 'createCertificate');
      expect(stepLine).toMatchObject({ awsRequestId: 'lambda-req-1', thingName: 'sensor-1' });
      expect(stepLine?.requestId).toEqual(expect.any(String));
    });

    it('answers FAILED naming an invalid property, without calling AWS', async () => {
      const { fake, handler } = setup();
      const rec = await recorder();

      await handler(createEvent(rec.responseUrl(), { ThingName: 'bad name!' }));

      const response = await answer(rec);
      expect(response.Status).toBe('FAILED');
      expect(response.Reason).toMatch(
        /^InvalidPropertyError: Invalid property ThingName: "bad name!" is not a valid thing name/,
      );
      expect(fake.calls).toEqual([]);
    });

    const faults: Array<[string, string, number]> = [
      ['claim marker', 'PutObject', 1],
      ['endpoint lookup', 'DescribeEndpoint', 1],
      ['certificate creation', 'CreateKeysAndCertificate', 1],
      ['certificate object', 'PutObject', 2],
      ['public key object', 'PutObject', 3],
      ['private key object', 'PutObject', 4],
      ['result marker', 'PutObject', 5],
    ];
    for (const [what, command, nth] of faults) {
      for (const [errorName, status] of [
        ['ThrottlingException', 400],
        ['InternalError', 500],
      ] as const) {
        it(`answers FAILED once and leaves no certificate when the ${what} write fails (${errorName})`, async () => {
          const { fake, log, handler } = setup();
          fake.failOn(command, awsError(errorName, status), nth);
          const rec = await recorder();

          await handler(createEvent(rec.responseUrl()));

          const response = await answer(rec);
          expect(response.Status).toBe('FAILED');
          expect(response.PhysicalResourceId).toMatch(/^thingcert:CREATE_FAILED:/);
          expect(response.Reason).toContain(errorName);
          expect(rec.requests).toHaveLength(1);
          expect(fake.certificates.size).toBe(0);
          expect(credentialKeys(fake)).toEqual([]);
          expect(fake.keys().length).toBeLessThanOrEqual(1);
          expect(findSecretLeaks(allText(log, rec), fake.secrets)).toEqual([]);
        });
      }
    }

    it('names the failed step and the thing in the reason', async () => {
      const { fake, handler } = setup();
      fake.failOn('PutObject', awsError('AccessDenied', 403), 4);
      const rec = await recorder();

      await handler(createEvent(rec.responseUrl()));

      expect((await answer(rec)).Reason).toBe(
        'ProvisioningError: Provisioning thing "sensor-1" failed at step storePrivateKey: AccessDenied: AccessDenied (injected)',
      );
    });

    it('retries a failing response PUT and still answers once', async () => {
      const { handler } = setup();
      const rec = await recorder({ failFirst: 2 });

      await handler(createEvent(rec.responseUrl()));

      expect((await answer(rec)).Status).toBe('SUCCESS');
      expect(rec.requests).toHaveLength(3);
      expect(rec.accepted()).toHaveLength(1);
    });

    it('removes the certificate when the response cannot be delivered, and a redelivery answers FAILED', async () => {
      const { fake, handler } = setup();
      const refusing = await recorder({ status: 403 });
      const event = createEvent(refusing.responseUrl());

      await expect(handler(event)).rejects.toMatchObject({ name: 'ResponseDeliveryError' });
      expect(fake.certificates.size).toBe(0);
      expect(credentialKeys(fake)).toEqual([]);

      const rec = await recorder();
      await handler({ ...event, ResponseURL: rec.responseUrl() });
      const response = await answer(rec);
      expect(response.Status).toBe('FAILED');
      expect(response.Reason).toContain(
        'Another delivery of this request failed: the response to CloudFormation could not be delivered',
      );
      expect(fake.count('CreateKeysAndCertificate')).toBe(1);
    });

    it('makes one certificate when the same request is delivered twice at once', async () => {
      const { fake, handler } = setup();
      const rec = await recorder();
      const event = createEvent(rec.responseUrl());

      await Promise.all([handler(event), handler({ ...event })]);

      const [first, second] = await rec.waitForAccepted(2);
      expect(fake.count('CreateKeysAndCertificate')).toBe(1);
      expect(fake.certificates.size).toBe(1);
      expect(first?.json).toEqual(second?.json);
      expect(first?.json).toMatchObject({ Status: 'SUCCESS' });
    });
  });
});

describe('Function: createCertificateResourceHandler', () => {
  describe('Create', () => {
    it('stops before the deadline, cleans up and answers FAILED once', async () => {
      const { fake, handler } = setup({ timeoutMarginMs: 1000, cleanupReserveMs: 1000 });
      fake.hangOn('PutObject', 3);
      const rec = await recorder();
      const context: LambdaContextLike = { getRemainingTimeInMillis: () => 2300 };

      await handler(createEvent(rec.responseUrl()), context);

      const response = await answer(rec);
      expect(response.Status).toBe('FAILED');
      expect(response.Reason).toContain('storePublicKey: DeadlineError');
      expect(fake.certificates.size).toBe(0);
      expect(credentialKeys(fake)).toEqual([]);
      expect(rec.requests).toHaveLength(1);
      fake.releaseHung();
    });

    it('answers once through the guard even if cleanup hangs past the deadline', async () => {
      const { fake, handler } = setup({ timeoutMarginMs: 1000, cleanupReserveMs: 0 });
      fake.hangOn('PutObject', 3).hangOn('DeleteObjects', 1);
      const rec = await recorder();

      await handler(createEvent(rec.responseUrl()), { getRemainingTimeInMillis: () => 1300 });

      expect((await answer(rec)).Reason).toMatch(/did not finish/);
      fake.releaseHung();
      await expect.poll(() => fake.certificates.size).toBe(0);
      expect(rec.requests).toHaveLength(1);
    });
    it('deletes a certificate whose slow create call outlived the abort: no orphan, one FAILED', async () => {
      // Abort after 200 ms, guard answers after 300 ms, while the create call hangs.
      const { fake, log, handler } = setup({ timeoutMarginMs: 1000, cleanupReserveMs: 100 });
      fake.hangOn('CreateKeysAndCertificate');
      const rec = await recorder();

      await handler(createEvent(rec.responseUrl()), { getRemainingTimeInMillis: () => 1300 });
      const response = await answer(rec);
      expect(response.Status).toBe('FAILED');
      expect(fake.count('CreateKeysAndCertificate')).toBe(1);
      fake.releaseHung();
      await expect
        .poll(() => log.lines.some((line) => line.includes('result discarded')))
        .toBe(true);

      const [update] = fake.inputsOf('UpdateCertificate') as Array<{ certificateId: string }>;
      expect(update?.certificateId).toMatch(/^[0-9a-f]{64}$/);
      expect(fake.inputsOf('UpdateCertificate')).toEqual([
        { certificateId: update?.certificateId, newStatus: 'INACTIVE' },
      ]);
      expect(fake.inputsOf('DeleteCertificate')).toEqual([
        { certificateId: update?.certificateId, forceDelete: true },
      ]);
      expect(fake.certificates.size).toBe(0);
      expect(credentialKeys(fake)).toEqual([]);
      expect(rec.requests).toHaveLength(1);
      expect(log.text()).toContain('storeCertificate: DeadlineError');
    });
  });
});

describe('Function: createCertificateResourceHandler', () => {
  describe('Update and Delete', () => {
    it('runs the lifecycle: no-op update, rotation, delete of old and new', async () => {
      const { fake, log, handler } = setup();
      const rec = await recorder();
      await handler(createEvent(rec.responseUrl()));
      const created = await answer(rec, 1);

      await handler(
        updateEvent(
          rec.responseUrl(),
          created.PhysicalResourceId,
          {},
          { KeyMode: 'server', KmsKeyId: '' },
        ),
      );
      const same = await answer(rec, 2);
      expect(same).toMatchObject({
        Status: 'SUCCESS',
        PhysicalResourceId: created.PhysicalResourceId,
      });
      expect(same.Data).toEqual(created.Data);
      expect(fake.count('CreateKeysAndCertificate')).toBe(1);

      await handler(
        updateEvent(rec.responseUrl(), created.PhysicalResourceId, {}, { RotationToken: '2' }),
      );
      const rotated = await answer(rec, 3);
      expect(rotated.Status).toBe('SUCCESS');
      expect(rotated.PhysicalResourceId).not.toBe(created.PhysicalResourceId);
      expect(fake.object('sensor-1/device.pem.crt')?.body).toBe(
        fake.certificates.get(rotated.PhysicalResourceId)?.pem,
      );

      await handler(deleteEvent(rec.responseUrl(), created.PhysicalResourceId));
      expect(await answer(rec, 4)).toMatchObject({
        Status: 'SUCCESS',
        PhysicalResourceId: created.PhysicalResourceId,
      });
      expect([...fake.certificates.keys()]).toEqual([rotated.PhysicalResourceId]);
      expect(credentialKeys(fake)).toHaveLength(3);

      await handler(
        deleteEvent(rec.responseUrl(), rotated.PhysicalResourceId, { RotationToken: '2' }),
      );
      expect((await answer(rec, 5)).Status).toBe('SUCCESS');
      expect(fake.certificates.size).toBe(0);
      expect(fake.keys()).toEqual([]);
      expect(findSecretLeaks(allText(log, rec), fake.secrets)).toEqual([]);
    });

    it('makes a new certificate in the new folder when ThingName changes', async () => {
      const { fake, handler } = setup();
      const rec = await recorder();
      await handler(createEvent(rec.responseUrl()));
      const created = await answer(rec, 1);

      await handler(
        updateEvent(rec.responseUrl(), created.PhysicalResourceId, {}, { ThingName: 'sensor-2' }),
      );

      const moved = await answer(rec, 2);
      expect(moved.Data?.CertificateObjectKey).toBe('sensor-2/device.pem.crt');
      expect(fake.certificates.size).toBe(2);
      expect(credentialKeys(fake).filter((k) => k.startsWith('sensor-1/'))).toHaveLength(3);
    });

    it('answers FAILED when the certificate was deleted out of band', async () => {
      const { fake, handler } = setup();
      const rec = await recorder();
      await handler(createEvent(rec.responseUrl()));
      const created = await answer(rec, 1);
      fake.certificates.clear();

      await handler(updateEvent(rec.responseUrl(), created.PhysicalResourceId, {}, {}));

      const response = await answer(rec, 2);
      expect(response).toMatchObject({
        Status: 'FAILED',
        PhysicalResourceId: created.PhysicalResourceId,
      });
      expect(response.Reason).toMatch(
        /^ResourceDriftError: Certificate [0-9a-f]{64} of thing "sensor-1" no longer exists/,
      );
    });

    it('answers FAILED naming an invalid new property and keeps the certificate', async () => {
      const { fake, handler } = setup();
      const rec = await recorder();
      await handler(createEvent(rec.responseUrl()));
      const created = await answer(rec, 1);

      await handler(
        updateEvent(rec.responseUrl(), created.PhysicalResourceId, {}, { KeyMode: 'tpm' }),
      );

      expect((await answer(rec, 2)).Reason).toMatch(/Invalid property KeyMode: unknown mode "tpm"/);
      expect(fake.certificates.get(created.PhysicalResourceId)?.status).toBe('ACTIVE');
    });

    it('acknowledges Delete of things already gone and of ids that are not certificates', async () => {
      const { fake, handler } = setup();
      const rec = await recorder();

      await handler(deleteEvent(rec.responseUrl(), 'a'.repeat(64)));
      await handler(deleteEvent(rec.responseUrl(), 'not-a-certificate'));
      await handler(deleteEvent(rec.responseUrl(), 'thingcert:CREATE_FAILED:abc'));

      const answers = (await rec.waitForAccepted(3)).map((r) => (r.json as Response).Status);
      expect(answers).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS']);
      // The failed-Create Delete touches no certificate: it only removes that
      // request's marker object.
      expect(fake.calls).toEqual(['DescribeCertificate', 'ListObjectsV2', 'DeleteObjects']);
    });

    it('still removes the certificate on Delete when the properties are unusable', async () => {
      const { fake, handler } = setup();
      const rec = await recorder();
      await handler(createEvent(rec.responseUrl()));
      const created = await answer(rec, 1);

      await handler(
        deleteEvent(rec.responseUrl(), created.PhysicalResourceId, { BucketName: 'BAD' }),
      );

      expect((await answer(rec, 2)).Status).toBe('SUCCESS');
      expect(fake.certificates.size).toBe(0);
    });
  });
});

describe('Function: createCertificateResourceHandler', () => {
  describe('Update and Delete', () => {
    describe('rotation taken back', () => {
      const files = [
        'sensor-1/device.pem.crt',
        'sensor-1/private.pem.key',
        'sensor-1/public.pem.key',
      ];

      async function created() {
        const env = setup();
        const rec = await recorder();
        await env.handler(createEvent(rec.responseUrl(), { KmsKeyId: 'alias/old' }));
        const old = await answer(rec);
        const before = files.map((key) => env.fake.object(key));
        return { ...env, rec, old, before };
      }

      it('answers FAILED and leaves the replaced certificate and its files when a store step fails', async () => {
        const { fake, log, handler, rec, old, before } = await created();
        // Rotation PUTs: claim, then If-None-Match (412) and overwrite per file.
        fake.failOn('PutObject', awsError('InternalError', 500), fake.count('PutObject') + 7);

        await handler(
          updateEvent(rec.responseUrl(), old.PhysicalResourceId, {}, { RotationToken: '2' }),
        );

        const response = await answer(rec, 2);
        expect(response.Status).toBe('FAILED');
        expect(response.Reason).toContain('failed at step storePrivateKey');
        expect([...fake.certificates.keys()]).toEqual([old.PhysicalResourceId]);
        expect(fake.certificates.get(old.PhysicalResourceId)?.status).toBe('ACTIVE');
        expect(files.map((key) => fake.object(key))).toEqual(before);
        expect(findSecretLeaks(allText(log, rec), fake.secrets)).toEqual([]);
      });

      it('puts the replaced files back when the result marker cannot be recorded', async () => {
        const { fake, log, handler, rec, old, before } = await created();
        fake.failOn('PutObject', awsError('InternalError', 500), fake.count('PutObject') + 8);

        await handler(
          updateEvent(rec.responseUrl(), old.PhysicalResourceId, {}, { RotationToken: '2' }),
        );

        expect((await answer(rec, 2)).Status).toBe('FAILED');
        expect(fake.count('CreateKeysAndCertificate')).toBe(2);
        expect([...fake.certificates.keys()]).toEqual([old.PhysicalResourceId]);
        expect(files.map((key) => fake.object(key))).toEqual(before);
        expect(findSecretLeaks(allText(log, rec), fake.secrets)).toEqual([]);
      });

      it('puts the replaced files back when the response is undeliverable, and deprovision keeps them', async () => {
        const { fake, log, handler, rec, old, before } = await created();
        const refusing = await recorder({ status: 403 });

        await expect(
          handler(
            updateEvent(refusing.responseUrl(), old.PhysicalResourceId, {}, { RotationToken: '2' }),
          ),
        ).rejects.toMatchObject({ name: 'ResponseDeliveryError' });

        expect(fake.count('CreateKeysAndCertificate')).toBe(2);
        expect([...fake.certificates.keys()]).toEqual([old.PhysicalResourceId]);
        expect(fake.certificates.get(old.PhysicalResourceId)?.status).toBe('ACTIVE');
        expect(files.map((key) => fake.object(key))).toEqual(before);
        expect(fake.object('sensor-1/private.pem.key')).toMatchObject({
          sse: 'aws:kms',
          kmsKeyId: 'alias/old',
        });
        // Put back first, so deprovision of the new certificate saw the old one
        // in the folder and kept the files.
        expect(log.text()).toContain('Credential objects belong to another certificate');
        const markers = fake.keys().filter((key) => key.startsWith(MARKERS));
        const states = markers.map(
          (key) => (JSON.parse(fake.object(key)?.body ?? '{}') as { state?: string }).state,
        );
        expect(states.sort()).toEqual(['failed', 'succeeded']);
        expect(
          findSecretLeaks(`${allText(log, rec)}\n${allText(log, refusing)}`, fake.secrets),
        ).toEqual([]);
      });
    });
  });
});
