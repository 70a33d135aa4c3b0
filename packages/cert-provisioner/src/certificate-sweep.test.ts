import { randomUUID } from 'node:crypto';
import { findSecretLeaks } from '@thingcert/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { awsError, type FakeAws } from '../test/fake-aws';
import * as cfn from '../test/handler-harness';
import { requestMarkerKey } from './request-claim';
import { STALE_CLAIM_MS } from './unheld-certificates';

afterEach(cfn.closeRecorders);

const location = { thingName: 'sensor-1', bucketName: 'creds' };

/**
 * A Create (certificate A), then a rotation Update whose private key write
 * fails and whose cleanup fails too: its certificate C stays, recorded, and
 * the Update answers FAILED with A. `keepActive` also fails the deactivation.
 */
async function failedRotationWithFailedCleanup(options: { keepActive?: boolean } = {}) {
  const env = cfn.setup();
  const rec = await cfn.recorder();
  await env.handler(cfn.createEvent(rec.responseUrl()));
  const created = await cfn.answer(rec, 1);
  const { fake } = env;
  // Rotation PUTs: claim, record, certificate, public key, private key (fails).
  fake.failOn('PutObject', awsError('InternalError', 500), fake.count('PutObject') + 5);
  fake.failOn(
    'DeleteCertificate',
    awsError('InternalError', 500),
    fake.count('DeleteCertificate') + 1,
  );
  if (options.keepActive) {
    fake.failOn(
      'UpdateCertificate',
      awsError('InternalError', 500),
      fake.count('UpdateCertificate') + 1,
    );
  }
  await env.handler(
    cfn.updateEvent(rec.responseUrl(), created.PhysicalResourceId, {}, { RotationToken: '2' }),
  );
  const failed = await cfn.answer(rec, 2);
  const left = [...fake.certificates.keys()].find((id) => id !== created.PhysicalResourceId)!;
  return { ...env, rec, created, failed, left };
}

/** A record and marker as a request of `stackId` left them, for a certificate made elsewhere. */
function seedRequest(
  fake: FakeAws,
  marker: { state: 'pending' | 'failed' | 'succeeded'; claimedAt: string },
  stackId = cfn.STACK_ID,
) {
  const certificate = fake.newCertificate();
  const requestId = randomUUID();
  cfn.seedRecord(fake, certificate, {
    stackId,
    requestId,
    logicalResourceId: 'DeviceCertificate',
    createdAt: marker.claimedAt,
  });
  fake.seed(
    requestMarkerKey({ stackId, requestId, location }),
    JSON.stringify({ version: 1, ...marker, stackId, logicalResourceId: 'DeviceCertificate' }),
  );
  return certificate;
}

describe('Function: sweepFailedRequests (through the handler)', () => {
  it('removes on the rollback Update what a failed rotation whose cleanup failed left', async () => {
    const { fake, log, handler, rec, created, failed, left } =
      await failedRotationWithFailedCleanup();
    expect(failed).toMatchObject({
      Status: 'FAILED',
      PhysicalResourceId: created.PhysicalResourceId,
    });
    expect(failed.Reason).toContain(`cleanup of certificate ${left} also failed`);
    expect(cfn.recordKeys(fake)).toContain(`${cfn.RECORDS}${left}.json`);
    const heldObjects = cfn.credentialKeys(fake).map((key) => fake.object(key));

    await handler(
      cfn.updateEvent(rec.responseUrl(), created.PhysicalResourceId, { RotationToken: '2' }, {}),
    );

    const rollback = await cfn.answer(rec, 3);
    expect(rollback).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: created.PhysicalResourceId,
    });
    expect(rollback.Data).toEqual(created.Data);
    expect([...fake.certificates.keys()]).toEqual([created.PhysicalResourceId]);
    expect(cfn.recordKeys(fake)).toEqual([`${cfn.RECORDS}${created.PhysicalResourceId}.json`]);
    expect(cfn.credentialKeys(fake).map((key) => fake.object(key))).toEqual(heldObjects);
    expect(cfn.pointedAt(fake)).toBe(created.PhysicalResourceId);
    expect(findSecretLeaks(cfn.allText(log, rec), fake.secrets)).toEqual([]);
  });

  it('moves the pointer off what it removes first, back to the certificate CloudFormation holds', async () => {
    const { fake, handler, rec, created, left } = await failedRotationWithFailedCleanup({
      keepActive: true,
    });
    expect(fake.certificates.get(left)?.status).toBe('ACTIVE');
    // As if the failed rotation had moved the pointer and could not put it back.
    const pointer = JSON.parse(fake.object(cfn.POINTER)!.body) as Record<string, unknown>;
    fake.seed(cfn.POINTER, JSON.stringify({ ...pointer, certificateId: left }));

    await handler(
      cfn.updateEvent(rec.responseUrl(), created.PhysicalResourceId, { RotationToken: '2' }, {}),
    );

    expect((await cfn.answer(rec, 3)).Status).toBe('SUCCESS');
    expect(cfn.pointedAt(fake)).toBe(created.PhysicalResourceId);
    expect(fake.certificates.has(left)).toBe(false);
  });

  it('removes on the stack Delete what a failed rotation left, and then the folder is empty', async () => {
    const { fake, handler, rec, created } = await failedRotationWithFailedCleanup({
      keepActive: true,
    });

    await handler(cfn.deleteEvent(rec.responseUrl(), created.PhysicalResourceId));

    expect((await cfn.answer(rec, 3)).Status).toBe('SUCCESS');
    expect(fake.certificates.size).toBe(0);
    expect(fake.keys().filter((key) => !key.includes('/.thingcert/requests/'))).toEqual([]);
  });

  it('removes a certificate whose request stayed pending longer than any invocation lives', async () => {
    const { fake, handler } = cfn.setup();
    const rec = await cfn.recorder();
    await handler(cfn.createEvent(rec.responseUrl()));
    const created = await cfn.answer(rec, 1);
    const frozen = seedRequest(fake, {
      state: 'pending',
      claimedAt: new Date(Date.now() - STALE_CLAIM_MS - 1000).toISOString(),
    });
    const running = seedRequest(fake, { state: 'pending', claimedAt: new Date().toISOString() });

    await handler(cfn.updateEvent(rec.responseUrl(), created.PhysicalResourceId, {}, {}));

    expect((await cfn.answer(rec, 2)).Status).toBe('SUCCESS');
    expect(fake.certificates.has(frozen.id)).toBe(false);
    expect(fake.certificates.get(running.id)?.status).toBe('ACTIVE');
  });

  it('leaves certificates of requests that succeeded, and of other stacks', async () => {
    const { fake, handler } = cfn.setup();
    const rec = await cfn.recorder();
    await handler(cfn.createEvent(rec.responseUrl()));
    const created = await cfn.answer(rec, 1);
    const claimedAt = new Date().toISOString();
    const succeeded = seedRequest(fake, { state: 'succeeded', claimedAt });
    const otherStack = seedRequest(fake, { state: 'failed', claimedAt }, `${cfn.STACK_ID}-other`);

    await handler(cfn.updateEvent(rec.responseUrl(), created.PhysicalResourceId, {}, {}));

    expect((await cfn.answer(rec, 2)).Status).toBe('SUCCESS');
    expect(fake.certificates.get(succeeded.id)?.status).toBe('ACTIVE');
    expect(fake.certificates.get(otherStack.id)?.status).toBe('ACTIVE');
  });

  it('answers the Update SUCCESS when what it sweeps cannot be removed now', async () => {
    const { fake, log, handler, rec, created, left } = await failedRotationWithFailedCleanup();
    fake.failOn('DeleteCertificate', awsError('InternalError', 500), '*');

    await handler(
      cfn.updateEvent(rec.responseUrl(), created.PhysicalResourceId, { RotationToken: '2' }, {}),
    );

    expect((await cfn.answer(rec, 3)).Status).toBe('SUCCESS');
    expect(fake.certificates.has(left)).toBe(true);
    expect(log.text()).toContain('a later event of the stack will retry');
  });
});
