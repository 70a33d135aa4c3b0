/**
 * The BUNDLED Lambda (dist/lambda/index.mjs, built by the `test` target's
 * dependency on `build`) against the local cloud over loopback, with
 * CloudFormation-shaped events and the responses captured by a local server.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  AttachThingPrincipalCommand,
  CreateKeysAndCertificateCommand,
  CreateThingCommand,
  DeleteCertificateCommand,
  DescribeCertificateCommand,
  DetachThingPrincipalCommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { findSecretLeaks } from '@thingcert/test-support';
import { describe, expect, it } from 'vitest';
import {
  BUCKET,
  BUNDLE,
  objectsOf,
  STACK_ID,
  type Response,
  useWorld,
} from '../test/local-cloud-harness';

const INVOKER = fileURLToPath(new URL('../test/invoke-bundle.mjs', import.meta.url));

const world = useWorld();

describe('Bundled handler against the local cloud', () => {
  it('runs Create, no-op Update, rotation Update and Delete of both certificates', async () => {
    const props = { ThingName: 'lifecycle-1', KeyMode: 'csr' };
    await world.iot.send(new CreateThingCommand({ thingName: 'lifecycle-1' }));

    const created = await world.invoke(world.event('Create', props));
    expect(created.Status).toBe('SUCCESS');
    const firstId = created.PhysicalResourceId;
    expect(created.Data).toMatchObject({
      CertificateId: firstId,
      IoTEndpoint: world.cloud.dataEndpoint,
      CertificateObjectKey: `lifecycle-1/certificates/${firstId}/device.pem.crt`,
      CredentialPointerObjectKey: 'lifecycle-1/current.json',
    });
    const firstArn = created.Data!.CertificateArn!;
    await world.iot.send(
      new AttachThingPrincipalCommand({ thingName: 'lifecycle-1', principal: firstArn }),
    );
    const described = await world.iot.send(
      new DescribeCertificateCommand({ certificateId: firstId }),
    );
    expect(await world.read(created.Data!.CertificateObjectKey!)).toBe(
      described.certificateDescription?.certificatePem,
    );
    expect((await world.pointerOf('lifecycle-1'))?.certificateId).toBe(firstId);

    const same = await world.invoke(
      world.event('Update', props, {
        PhysicalResourceId: firstId,
        OldResourceProperties: { ...props, BucketName: BUCKET },
      }),
    );
    expect(same).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: firstId,
      Data: created.Data,
    });

    const rotatedProps = { ...props, RotationToken: '2026-01' };
    const rotated = await world.invoke(
      world.event('Update', rotatedProps, {
        PhysicalResourceId: firstId,
        OldResourceProperties: { ...props, BucketName: BUCKET },
      }),
    );
    expect(rotated.Status).toBe('SUCCESS');
    const secondId = rotated.PhysicalResourceId;
    expect(secondId).not.toBe(firstId);
    expect(await world.certificateIds()).toEqual([firstId, secondId].sort());
    // What CloudFormation's attachment resources do next: attach new, detach old (async).
    await world.iot.send(
      new AttachThingPrincipalCommand({
        thingName: 'lifecycle-1',
        principal: rotated.Data!.CertificateArn,
      }),
    );
    await world.iot.send(
      new DetachThingPrincipalCommand({ thingName: 'lifecycle-1', principal: firstArn }),
    );

    const deletedOld = await world.invoke(
      world.event('Delete', props, { PhysicalResourceId: firstId }),
    );
    expect(deletedOld.Status).toBe('SUCCESS');
    expect(await world.certificateIds()).toEqual([secondId]);
    expect(await world.keys('lifecycle-1/certificates/')).toEqual(objectsOf(rotated));
    expect((await world.pointerOf('lifecycle-1'))?.certificateId).toBe(secondId);

    await world.iot.send(
      new DetachThingPrincipalCommand({
        thingName: 'lifecycle-1',
        principal: rotated.Data!.CertificateArn,
      }),
    );
    const deletedNew = await world.invoke(
      world.event('Delete', rotatedProps, { PhysicalResourceId: secondId }),
    );
    expect(deletedNew.Status).toBe('SUCCESS');
    expect(await world.certificateIds()).toEqual([]);
    expect(await world.keys('lifecycle-1/')).toEqual([]);
    expect(world.leaks()).toEqual([]);
  });

  it('acknowledges the Delete after a failed Create and leaves no certificate', async () => {
    const props = { ThingName: 'failed-1', BucketName: 'no-such-bucket' };

    const failed = await world.invoke(world.event('Create', props));
    expect(failed.Status).toBe('FAILED');
    expect(failed.Reason).toContain('NoSuchBucket');
    expect(failed.PhysicalResourceId).toMatch(/^thingcert:CREATE_FAILED:/);

    const deleted = await world.invoke(
      world.event('Delete', props, { PhysicalResourceId: failed.PhysicalResourceId }),
    );
    expect(deleted.Status).toBe('SUCCESS');
    expect(await world.certificateIds()).toEqual([]);
  });

  it('leaves alone a fixed file in the folder that is not ours, from Create to Delete', async () => {
    const props = { ThingName: 'conflicted-1' };
    await world.plant('conflicted-1/device.pem.crt', 'not ours');

    const created = await world.invoke(world.event('Create', props));
    expect(created.Status).toBe('SUCCESS');
    const deleted = await world.invoke(
      world.event('Delete', props, { PhysicalResourceId: created.PhysicalResourceId }),
    );

    expect(deleted.Status).toBe('SUCCESS');
    expect(await world.certificateIds()).toEqual([]);
    expect(await world.read('conflicted-1/device.pem.crt')).toBe('not ours');
    expect(await world.keys('conflicted-1/')).toEqual(['conflicted-1/device.pem.crt']);
  });
});

describe('Bundled handler against the local cloud', () => {
  it('makes one certificate when two Lambda processes get the same Create at once', async () => {
    const e = world.event('Create', { ThingName: 'duplicate-1' });
    const before = world.recorder.accepted().length;
    const env = {
      ...process.env,
      ...world.cloud.env,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const run = () =>
      promisify(execFile)(process.execPath, [INVOKER, BUNDLE, JSON.stringify(e)], { env });

    const outputs = await Promise.all([run(), run()]);

    const answers = (await world.recorder.waitForAccepted(before + 2))
      .slice(before)
      .map((r) => r.json as Response);
    expect(answers[0]).toEqual(answers[1]);
    expect(answers[0]?.Status).toBe('SUCCESS');
    expect(await world.certificateIds()).toEqual([answers[0]!.PhysicalResourceId]);
    const childLogs = outputs.map((o) => `${o.stdout}\n${o.stderr}`).join('\n');
    expect(childLogs).toContain('Duplicate delivery of this request');
    expect(findSecretLeaks(childLogs)).toEqual([]);

    await world.invoke(
      world.event(
        'Delete',
        { ThingName: 'duplicate-1' },
        { PhysicalResourceId: answers[0]!.PhysicalResourceId },
      ),
    );
    expect(await world.certificateIds()).toEqual([]);
  });

  it("deletes only its own thing's objects while other things' objects stay", async () => {
    const others = [
      'sensor-10/device.pem.crt',
      'sensor-2/private.pem.key',
      'sensor-1.txt',
      'fleet/sensor-1/current.json',
    ];
    for (const key of others) await world.plant(key, key);
    const created = await world.invoke(world.event('Create', { ThingName: 'sensor-1' }));
    // Three credentials, the pointer, the request marker and the certificate record.
    expect(await world.keys('sensor-1/')).toHaveLength(6);

    const deleted = await world.invoke(
      world.event(
        'Delete',
        { ThingName: 'sensor-1' },
        { PhysicalResourceId: created.PhysicalResourceId },
      ),
    );

    expect(deleted.Status).toBe('SUCCESS');
    expect(await world.keys('sensor-1/')).toEqual([]);
    for (const key of others) expect(await world.read(key)).toBe(key);
    expect(await world.certificateIds()).toEqual([]);
  });
});

describe('Bundled handler against the local cloud: lifecycle rules', () => {
  it('rolls back an Update that failed to the same certificate, without minting another', async () => {
    const props = { ThingName: 'rollback-1' };
    const created = await world.invoke(world.event('Create', props));
    const firstId = created.PhysicalResourceId;
    const failedProps = { ...props, KeyMode: 'tpm' };
    const failed = await world.invoke(
      world.event('Update', failedProps, {
        PhysicalResourceId: firstId,
        OldResourceProperties: { ...props, BucketName: BUCKET },
      }),
    );
    expect(failed).toMatchObject({ Status: 'FAILED', PhysicalResourceId: firstId });

    // CloudFormation's rollback Update: the old properties, from the failed ones.
    const rollback = world.event('Update', props, {
      PhysicalResourceId: firstId,
      OldResourceProperties: { ...failedProps, BucketName: BUCKET },
    });
    const answered = { Status: 'SUCCESS', PhysicalResourceId: firstId, Data: created.Data };
    expect(await world.invoke(rollback)).toMatchObject(answered);
    expect(await world.certificateIds()).toEqual([firstId]);

    const deleted = await world.invoke(
      world.event('Delete', props, { PhysicalResourceId: firstId }),
    );
    expect(deleted.Status).toBe('SUCCESS');
    expect(await world.certificateIds()).toEqual([]);
    expect(await world.keys('rollback-1/')).toEqual([]);
  });

  it('removes on the rollback Delete the certificate a frozen Create cleanup left behind', async () => {
    // What a Create leaves when Lambda freezes it mid-cleanup after the guard
    // answered: an ACTIVE certificate, named by the record written as soon as
    // it existed.
    const createRequestId = randomUUID();
    const made = await world.iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
    const certificateId = made.certificateId!;
    const record = {
      version: 1,
      certificateId,
      certificateArn: made.certificateArn,
      endpoint: world.cloud.dataEndpoint,
      thingName: 'frozen-1',
      bucketName: BUCKET,
      keyPrefix: '',
      keyMode: 'server',
      keyAlgorithm: 'RSA_2048',
      stackId: STACK_ID,
      requestId: createRequestId,
      createdAt: new Date().toISOString(),
    };
    await world.plant(
      `frozen-1/.thingcert/certificates/${certificateId}.json`,
      JSON.stringify(record),
    );

    const deleted = await world.invoke(
      world.event(
        'Delete',
        { ThingName: 'frozen-1' },
        { PhysicalResourceId: `thingcert:CREATE_FAILED:${createRequestId}` },
      ),
    );

    expect(deleted.Status).toBe('SUCCESS');
    expect(await world.certificateIds()).toEqual([]);
    expect(await world.keys('frozen-1/')).toEqual([]);
  });

  it('leaves a certificate it did not make, its objects and the pointer naming it untouched', async () => {
    const made = await world.iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
    const certificateId = made.certificateId!;
    const planted = [
      `victim-1/certificates/${certificateId}/device.pem.crt`,
      'victim-1/current.json',
    ];
    for (const key of planted) await world.plant(key, key);

    const deleted = await world.invoke(
      world.event('Delete', { ThingName: 'victim-1' }, { PhysicalResourceId: certificateId }),
    );

    expect(deleted).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: certificateId });
    expect(await world.statusOf(certificateId)).toBe('ACTIVE');
    for (const key of planted) expect(await world.read(key)).toBe(key);
    await world.iot.send(new UpdateCertificateCommand({ certificateId, newStatus: 'INACTIVE' }));
    await world.iot.send(new DeleteCertificateCommand({ certificateId, forceDelete: true }));
  });
});
