import { randomUUID } from 'node:crypto';
import type { LambdaContextLike } from '@thingcert/cfn-response';
import { findSecretLeaks, type ResponseRecorder } from '@thingcert/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { awsError, ENDPOINT } from '../test/fake-aws';
import {
  allText,
  answer,
  closeRecorders,
  createEvent,
  credentialKeys,
  deleteEvent,
  MARKERS,
  pointedAt,
  POINTER,
  RECORDS,
  recordKeys,
  recorder,
  setup,
  STACK_ID,
  updateEvent,
  type Response,
} from '../test/handler-harness';

afterEach(closeRecorders);

/** CloudFormation's Delete of a Create it cancelled: an id of its own, a request of its own. */
function cancelledCreateDelete(responseUrl: string) {
  return {
    ...deleteEvent(responseUrl, 'Thingcert-Certificate-1A2B3C4D5E6F'),
    RequestId: randomUUID(),
  };
}

/** Resolves once `holds()` is true, checking every few milliseconds. */
async function until(holds: () => boolean): Promise<void> {
  while (!holds()) await new Promise((resolve) => setTimeout(resolve, 5));
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
      const folder = `sensor-1/certificates/${certificateId}/`;
      expect(response.Data).toEqual({
        CertificateArn: fake.certificates.get(certificateId!)?.arn,
        CertificateId: certificateId,
        IoTEndpoint: ENDPOINT,
        CertificateObjectKey: `${folder}device.pem.crt`,
        PrivateKeyObjectKey: `${folder}private.pem.key`,
        PublicKeyObjectKey: `${folder}public.pem.key`,
        CredentialPointerObjectKey: POINTER,
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
      ['certificate record', 'PutObject', 2],
      ['certificate object', 'PutObject', 3],
      ['public key object', 'PutObject', 4],
      ['private key object', 'PutObject', 5],
      ['credential pointer', 'PutObject', 6],
      ['result marker', 'PutObject', 7],
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
      fake.failOn('PutObject', awsError('AccessDenied', 403), 5);
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
      fake.hangOn('PutObject', 4);
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
      fake.hangOn('PutObject', 4).hangOn('DeleteObjects', 1);
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
      expect(fake.object(rotated.Data!.CertificateObjectKey!)?.body).toBe(
        fake.certificates.get(rotated.PhysicalResourceId)?.pem,
      );
      expect(pointedAt(fake)).toBe(rotated.PhysicalResourceId);
      // Until CloudFormation deletes it, the old certificate keeps its objects.
      expect(fake.object(created.Data!.PrivateKeyObjectKey!)).toBeDefined();

      await handler(deleteEvent(rec.responseUrl(), created.PhysicalResourceId));
      expect(await answer(rec, 4)).toMatchObject({
        Status: 'SUCCESS',
        PhysicalResourceId: created.PhysicalResourceId,
      });
      expect([...fake.certificates.keys()]).toEqual([rotated.PhysicalResourceId]);
      expect(credentialKeys(fake)).toEqual(
        [
          rotated.Data!.CertificateObjectKey,
          rotated.Data!.PrivateKeyObjectKey,
          rotated.Data!.PublicKeyObjectKey,
          POINTER,
        ].sort(),
      );
      expect(pointedAt(fake)).toBe(rotated.PhysicalResourceId);

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
      expect(moved.Data?.CertificateObjectKey).toBe(
        `sensor-2/certificates/${moved.PhysicalResourceId}/device.pem.crt`,
      );
      expect(moved.Data?.CredentialPointerObjectKey).toBe('sensor-2/current.json');
      expect(fake.certificates.size).toBe(2);
      // The old thing keeps its certificate, objects and pointer until CloudFormation's Delete.
      expect(credentialKeys(fake).filter((k) => k.startsWith('sensor-1/'))).toHaveLength(4);
      expect(pointedAt(fake)).toBe(created.PhysicalResourceId);
    });

    it('answers FAILED when a certificate made before records existed was deleted out of band', async () => {
      const { fake, handler } = setup();
      const rec = await recorder();
      await handler(createEvent(rec.responseUrl()));
      const created = await answer(rec, 1);
      // No record: a certificate made before records existed (a recorded one
      // answers SUCCESS on drift, see "Lifecycle rules").
      fake.buckets
        .get('creds')
        ?.delete(`sensor-1/.thingcert/certificates/${created.PhysicalResourceId}.json`);
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
      // A certificate id with no record (nor marker) in the thing's folder is
      // not ours: IoT is never asked about it. The other two find nothing
      // recorded for their resource or request: the made-up id's end mark
      // comes and goes, the failed Create's marker goes.
      expect(fake.calls.filter((call) => !['GetObject', 'ListObjectsV2'].includes(call))).toEqual([
        'PutObject',
        'DeleteObjects',
        'DeleteObjects',
      ]);
      expect(fake.keys()).toEqual([]);
    });

    it('answers SUCCESS on Delete with unusable properties but leaves a certificate it cannot place', async () => {
      const { fake, log, handler } = setup();
      const rec = await recorder();
      await handler(createEvent(rec.responseUrl()));
      const created = await answer(rec, 1);

      await handler(
        deleteEvent(rec.responseUrl(), created.PhysicalResourceId, { BucketName: 'BAD' }),
      );

      expect((await answer(rec, 2)).Status).toBe('SUCCESS');
      // Without a folder there is no record to prove the certificate ours.
      expect(fake.certificates.get(created.PhysicalResourceId)?.status).toBe('ACTIVE');
      expect(fake.count('DeleteCertificate')).toBe(0);
      expect(log.text()).toContain('cannot tell whether the certificate is ours');
    });
  });
});

describe('Function: createCertificateResourceHandler', () => {
  describe('Update and Delete', () => {
    describe('rotation taken back', () => {
      async function created() {
        const env = setup();
        const rec = await recorder();
        await env.handler(createEvent(rec.responseUrl(), { KmsKeyId: 'alias/old' }));
        const old = await answer(rec);
        // The old certificate's objects and the pointer, as they were.
        const files = credentialKeys(env.fake);
        const before = files.map((key) => env.fake.object(key));
        /** A rotation Update whose `nth` PutObject fails. */
        const rotateFailingAt = async (nth: number) => {
          env.fake.failOn(
            'PutObject',
            awsError('InternalError', 500),
            env.fake.count('PutObject') + nth,
          );
          await env.handler(
            updateEvent(rec.responseUrl(), old.PhysicalResourceId, {}, { RotationToken: '2' }),
          );
        };
        return { ...env, rec, old, files, before, rotateFailingAt };
      }

      // Rotation PUTs: claim, record, the three files, the pointer (412, then
      // its overwrite), the result marker.
      const ROTATION = { privateKey: 5, resultMarker: 8 };

      it("answers FAILED and leaves the replaced certificate's folder and the pointer when a store step fails", async () => {
        const { fake, log, rec, old, files, before, rotateFailingAt } = await created();

        await rotateFailingAt(ROTATION.privateKey);

        const response = await answer(rec, 2);
        expect(response.Status).toBe('FAILED');
        expect(response.Reason).toContain('failed at step storePrivateKey');
        expect([...fake.certificates.keys()]).toEqual([old.PhysicalResourceId]);
        expect(fake.certificates.get(old.PhysicalResourceId)?.status).toBe('ACTIVE');
        expect(credentialKeys(fake)).toEqual(files);
        expect(files.map((key) => fake.object(key))).toEqual(before);
        expect(findSecretLeaks(allText(log, rec), fake.secrets)).toEqual([]);
      });

      it('puts the pointer back when the result marker cannot be recorded', async () => {
        const { fake, log, rec, old, files, before, rotateFailingAt } = await created();

        await rotateFailingAt(ROTATION.resultMarker);

        expect((await answer(rec, 2)).Status).toBe('FAILED');
        expect(fake.count('CreateKeysAndCertificate')).toBe(2);
        expect([...fake.certificates.keys()]).toEqual([old.PhysicalResourceId]);
        expect(credentialKeys(fake)).toEqual(files);
        expect(files.filter((key) => key !== POINTER).map((key) => fake.object(key))).toEqual(
          before.filter((_object, index) => files[index] !== POINTER),
        );
        expect(pointedAt(fake)).toBe(old.PhysicalResourceId);
        expect(findSecretLeaks(allText(log, rec), fake.secrets)).toEqual([]);
      });

      it('puts the pointer back when the response is undeliverable, and the old folder stays', async () => {
        const { fake, log, handler, rec, old, files, before } = await created();
        const refusing = await recorder({ status: 403 });

        await expect(
          handler(
            updateEvent(refusing.responseUrl(), old.PhysicalResourceId, {}, { RotationToken: '2' }),
          ),
        ).rejects.toMatchObject({ name: 'ResponseDeliveryError' });

        expect(fake.count('CreateKeysAndCertificate')).toBe(2);
        expect([...fake.certificates.keys()]).toEqual([old.PhysicalResourceId]);
        expect(fake.certificates.get(old.PhysicalResourceId)?.status).toBe('ACTIVE');
        expect(credentialKeys(fake)).toEqual(files);
        expect(pointedAt(fake)).toBe(old.PhysicalResourceId);
        expect(fake.object(old.Data!.PrivateKeyObjectKey!)).toEqual(
          before[files.indexOf(old.Data!.PrivateKeyObjectKey!)],
        );
        expect(fake.object(old.Data!.PrivateKeyObjectKey!)).toMatchObject({
          sse: 'aws:kms',
          kmsKeyId: 'alias/old',
        });
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

describe('Function: createCertificateResourceHandler', () => {
  describe('Lifecycle rules', () => {
    /** A handler whose Create already answered: the current certificate is `created`. */
    async function withCertificate(props: Record<string, unknown> = {}) {
      const env = setup();
      const rec = await recorder();
      await env.handler(createEvent(rec.responseUrl(), props));
      const created = await answer(rec, 1);
      return { ...env, rec, created };
    }

    /** A Create, then a rotation Update whose private key write fails (FAILED, old id). */
    async function failedRotation() {
      const { rec, created, ...env } = await withCertificate();
      // Rotation PUTs: claim, record, certificate, public key, private key (fails).
      env.fake.failOn('PutObject', awsError('InternalError', 500), env.fake.count('PutObject') + 5);
      await env.handler(
        updateEvent(rec.responseUrl(), created.PhysicalResourceId, {}, { RotationToken: '2' }),
      );
      const failed = await answer(rec, 2);
      return { ...env, rec, created, failed };
    }

    /** CloudFormation's rollback Update: back to the old properties, from the failed ones. */
    function rollbackEvent(
      responseUrl: string,
      physicalId: string,
      failedProps: Record<string, unknown>,
    ) {
      return updateEvent(responseUrl, physicalId, failedProps, {});
    }

    /** Sends the rollback Update of the failed rotation; it must answer the created certificate. */
    async function rollBackToCreated(env: {
      handler: (event: unknown) => Promise<void>;
      rec: ResponseRecorder;
      created: Response;
    }) {
      const { created, rec } = env;
      await env.handler(
        rollbackEvent(rec.responseUrl(), created.PhysicalResourceId, { RotationToken: '2' }),
      );
      expectSameCertificate(await answer(rec, 3), created);
    }

    /** SUCCESS naming the created certificate, with its Data. */
    function expectSameCertificate(response: Response, created: Response) {
      expect(response).toMatchObject({
        Status: 'SUCCESS',
        PhysicalResourceId: created.PhysicalResourceId,
      });
      expect(response.Data).toEqual(created.Data);
    }

    it('records the properties each certificate was made with, without key material', async () => {
      const { fake, created } = await withCertificate({ RotationToken: '1' });

      const record = JSON.parse(
        fake.object(`${RECORDS}${created.PhysicalResourceId}.json`)?.body ?? '{}',
      ) as Record<string, unknown>;
      expect(record).toMatchObject({
        certificateId: created.PhysicalResourceId,
        certificateArn: created.Data?.CertificateArn,
        endpoint: ENDPOINT,
        thingName: 'sensor-1',
        bucketName: 'creds',
        keyPrefix: '',
        keyMode: 'server',
        keyAlgorithm: 'RSA_2048',
        rotationToken: '1',
        stackId: STACK_ID,
      });
      expect(findSecretLeaks(JSON.stringify(record), fake.secrets)).toEqual([]);
    });

    it('rolls back a failed rotation to the same certificate without minting a third one', async () => {
      const { fake, rec, created, failed, handler } = await failedRotation();
      expect(failed).toMatchObject({
        Status: 'FAILED',
        PhysicalResourceId: created.PhysicalResourceId,
      });

      await rollBackToCreated({ handler, rec, created });
      expect(fake.count('CreateKeysAndCertificate')).toBe(2);
      expect([...fake.certificates.keys()]).toEqual([created.PhysicalResourceId]);
      expect(recordKeys(fake)).toEqual([`${RECORDS}${created.PhysicalResourceId}.json`]);
    });

    it('removes the marker of the failed rotation with the Delete that ends the certificate', async () => {
      const { fake, rec, created, handler } = await failedRotation();
      await rollBackToCreated({ handler, rec, created });
      // The failed request's marker stays while the resource lives (a tombstone).
      expect(fake.keys().filter((key) => key.startsWith(MARKERS)).length).toBeGreaterThan(0);

      await handler(deleteEvent(rec.responseUrl(), created.PhysicalResourceId));

      expect((await answer(rec, 4)).Status).toBe('SUCCESS');
      expect(fake.keys()).toEqual([]);
    });

    it('rolls back an Update that failed on an invalid property without minting a certificate', async () => {
      const { fake, handler, rec, created } = await withCertificate();
      await handler(
        updateEvent(rec.responseUrl(), created.PhysicalResourceId, {}, { KeyMode: 'tpm' }),
      );
      expect((await answer(rec, 2)).Status).toBe('FAILED');

      await handler(
        rollbackEvent(rec.responseUrl(), created.PhysicalResourceId, { KeyMode: 'tpm' }),
      );

      expect(await answer(rec, 3)).toMatchObject({
        Status: 'SUCCESS',
        PhysicalResourceId: created.PhysicalResourceId,
      });
      expect(fake.count('CreateKeysAndCertificate')).toBe(1);
    });

    it('answers the rollback Update SUCCESS with the recorded Data when the certificate drifted', async () => {
      const { fake, log, rec, created, handler } = await failedRotation();
      fake.certificates.delete(created.PhysicalResourceId);
      fake.buckets.get('creds')?.delete('sensor-1/device.pem.crt');

      await rollBackToCreated({ handler, rec, created });
      expect(fake.count('CreateKeysAndCertificate')).toBe(2);
      const warning = log.lines
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .find((line) => line.message === 'Certificate drifted; answering SUCCESS from its record');
      expect(String(warning?.drift)).toMatch(/^ResourceDriftError: Certificate [0-9a-f]{64}/);
    });

    it('answers a no-op Update SUCCESS when the certificate object was deleted out of band', async () => {
      const { fake, handler, rec, created } = await withCertificate();
      fake.buckets.get('creds')?.delete('sensor-1/device.pem.crt');

      await handler(
        updateEvent(rec.responseUrl(), created.PhysicalResourceId, {}, { KmsKeyId: 'alias/new' }),
      );

      expectSameCertificate(await answer(rec, 2), created);
      expect(fake.count('CreateKeysAndCertificate')).toBe(1);
    });

    it('rotates when the current certificate was made with other properties, whatever OldResourceProperties say', async () => {
      const { fake, handler, rec, created } = await withCertificate();

      // OldResourceProperties claim the token is already 2: the record says it is not.
      await handler(
        updateEvent(
          rec.responseUrl(),
          created.PhysicalResourceId,
          { RotationToken: '2' },
          { RotationToken: '2' },
        ),
      );

      const rotated = await answer(rec, 2);
      expect(rotated.Status).toBe('SUCCESS');
      expect(rotated.PhysicalResourceId).not.toBe(created.PhysicalResourceId);
      expect(fake.count('CreateKeysAndCertificate')).toBe(2);
    });

    it('removes on the rollback Delete a certificate whose failed Create could not clean up', async () => {
      const { fake, handler } = setup();
      fake
        .failOn('PutObject', awsError('InternalError', 500), 5)
        .failOn('DeleteCertificate', awsError('InternalError', 500), 1);
      const rec = await recorder();
      const create = createEvent(rec.responseUrl());
      await handler(create);
      const failed = await answer(rec, 1);
      expect(failed.Status).toBe('FAILED');
      expect(failed.Reason).toContain('cleanup of certificate');
      expect(fake.certificates.size).toBe(1);

      await handler({
        ...deleteEvent(rec.responseUrl(), failed.PhysicalResourceId),
        RequestId: randomUUID(),
      });

      expect((await answer(rec, 2)).Status).toBe('SUCCESS');
      expect(fake.certificates.size).toBe(0);
      expect(fake.keys()).toEqual([]);
    });

    it.each([
      { refused: 'every object delete until the Delete', nth: '*' as const },
      // A Deny lifted or a throttled call: the certificate and the record could go.
      { refused: "only the cleanup's object delete", nth: 1 },
    ])(
      'removes with the Delete of a cancelled Create the objects its cleanup left, though its certificate went ($refused refused)',
      async ({ nth }) => {
        const { fake, handler } = setup();
        fake
          .failOn('PutObject', awsError('InternalError', 500), 5)
          .failOn('DeleteObjects', awsError('InternalError', 500), nth);
        const rec = await recorder();
        await handler(createEvent(rec.responseUrl()));
        const failed = await answer(rec, 1);
        expect(failed.Reason).toContain('cleanup of certificate');
        expect(fake.certificates.size).toBe(0);
        // The certificate and public key objects it wrote are still there, and
        // the record that names them: without it nothing would find them.
        expect(
          fake.keys().filter((key) => key.endsWith('.pem.crt') || key.endsWith('.pem.key')),
        ).toHaveLength(2);
        expect(recordKeys(fake)).toHaveLength(1);

        fake.liftFaults('DeleteObjects');
        // CloudFormation cancelled this Create (another resource failed first),
        // ignored its answer, and deletes the resource under an id of its own.
        await handler(cancelledCreateDelete(rec.responseUrl()));

        expect((await answer(rec, 2)).Status).toBe('SUCCESS');
        expect(fake.keys()).toEqual([]);
      },
    );

    it('waits with the Delete of a cancelled Create for that Create to fail, then removes what its cleanup left', async () => {
      const { fake, log, handler } = setup();
      // The Create's cleanup: its object delete refused, then its deactivation
      // held up while CloudFormation, which cancelled it, sends the Delete.
      fake
        .failOn('PutObject', awsError('InternalError', 500), 5)
        .failOn('DeleteObjects', awsError('InternalError', 500), 1)
        .hangOn('UpdateCertificate', 1);
      const [createRec, deleteRec] = [await recorder(), await recorder()];
      const creating = handler(createEvent(createRec.responseUrl()));
      await until(() => fake.count('UpdateCertificate') === 1);

      const deleting = handler(cancelledCreateDelete(deleteRec.responseUrl()));
      await until(() => log.text().includes('A Create of this resource is still running'));
      fake.releaseHung();
      await Promise.all([creating, deleting]);

      expect((await answer(createRec)).Reason).toContain('cleanup of certificate');
      expect((await answer(deleteRec)).Status).toBe('SUCCESS');
      expect(fake.certificates.size).toBe(0);
      expect(fake.keys()).toEqual([]);
    });

    it('removes on the rollback Delete a certificate whose cleanup was still running when the guard answered', async () => {
      const { fake, handler } = setup({ timeoutMarginMs: 1000, cleanupReserveMs: 0 });
      // The public key write hangs, then the compensation's object cleanup hangs:
      // the guard answers while the certificate still exists (Lambda would freeze here).
      fake.hangOn('PutObject', 4).hangOn('DeleteObjects', 1);
      const rec = await recorder();
      await handler(createEvent(rec.responseUrl()), { getRemainingTimeInMillis: () => 1300 });
      const failed = await answer(rec, 1);
      expect(failed.Reason).toMatch(/did not finish/);
      expect(fake.certificates.size).toBe(1);

      await handler(deleteEvent(rec.responseUrl(), failed.PhysicalResourceId));

      expect((await answer(rec, 2)).Status).toBe('SUCCESS');
      expect(fake.certificates.size).toBe(0);
      expect(credentialKeys(fake)).toEqual([]);
      expect(recordKeys(fake)).toEqual([]);
      fake.releaseHung();
    });

    it('leaves a certificate it did not make untouched on Delete and answers SUCCESS', async () => {
      const { fake, log, handler } = setup();
      const foreign = fake.newCertificate();
      const rec = await recorder();

      await handler(deleteEvent(rec.responseUrl(), foreign.id));

      expect(await answer(rec)).toMatchObject({
        Status: 'SUCCESS',
        PhysicalResourceId: foreign.id,
      });
      expect(fake.certificates.get(foreign.id)?.status).toBe('ACTIVE');
      expect(fake.count('DescribeCertificate')).toBe(0);
      expect(fake.count('UpdateCertificate')).toBe(0);
      expect(fake.count('DeleteCertificate')).toBe(0);
      expect(log.text()).toContain('did not make for this thing');
    });

    it("leaves another thing's certificate untouched when a Delete names it for this thing", async () => {
      const {
        fake,
        handler,
        rec,
        created: other,
      } = await withCertificate({ ThingName: 'sensor-2' });

      await handler(deleteEvent(rec.responseUrl(), other.PhysicalResourceId));

      expect((await answer(rec, 2)).Status).toBe('SUCCESS');
      expect(fake.certificates.get(other.PhysicalResourceId)?.status).toBe('ACTIVE');
      expect(credentialKeys(fake).filter((key) => key.startsWith('sensor-2/'))).toHaveLength(4);
    });

    it('removes the certificate taken back, and its record, even when the pointer cannot be put back', async () => {
      const { fake, handler, created } = await withCertificate();
      const refusing = await recorder({ status: 403 });
      // Rotation PUTs: claim, record, three files, pointer 412 + overwrite,
      // result marker; then putting the pointer back (fails).
      fake.failOn('PutObject', awsError('InternalError', 500), fake.count('PutObject') + 9);

      await expect(
        handler(
          updateEvent(
            refusing.responseUrl(),
            created.PhysicalResourceId,
            {},
            { RotationToken: '2' },
          ),
        ),
      ).rejects.toMatchObject({ name: 'ResponseDeliveryError' });

      expect([...fake.certificates.keys()]).toEqual([created.PhysicalResourceId]);
      expect(recordKeys(fake)).toEqual([`${RECORDS}${created.PhysicalResourceId}.json`]);
      // Deprovision moved the pointer off the certificate taken back.
      expect(pointedAt(fake)).toBe(created.PhysicalResourceId);
    });

    it('still deletes a certificate made before records existed, which a request marker names', async () => {
      const { fake, handler, rec, created } = await withCertificate();
      fake.buckets.get('creds')?.delete(`${RECORDS}${created.PhysicalResourceId}.json`);

      await handler(deleteEvent(rec.responseUrl(), created.PhysicalResourceId));

      expect((await answer(rec, 2)).Status).toBe('SUCCESS');
      expect(fake.certificates.size).toBe(0);
      expect(fake.keys()).toEqual([]);
    });
  });
});
