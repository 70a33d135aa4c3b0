import { afterEach, describe, expect, it } from 'vitest';
import * as cfn from '../test/handler-harness';
import { resourceEndKey } from './resource-end';

afterEach(cfn.closeRecorders);

/** What CloudFormation sends as the physical id of a Create it gave up on (5.3 in README). */
const MADE_UP_ID = 'devices-DeviceCertificate-1QX2ZK8T4ABCD';
const location = { thingName: 'sensor-1', bucketName: 'creds' };
const scope = { stackId: cfn.STACK_ID, logicalResourceId: 'DeviceCertificate' };

describe('Function: endResourceWithoutCertificate (through the handler)', () => {
  it('removes what a cancelled Create made, whose cfn.answer CloudFormation ignored', async () => {
    const { fake, handler } = cfn.setup();
    const rec = await cfn.recorder();
    await handler(cfn.createEvent(rec.responseUrl()));
    expect((await cfn.answer(rec, 1)).Status).toBe('SUCCESS');

    await handler(cfn.deleteEvent(rec.responseUrl(), MADE_UP_ID));

    expect(await cfn.answer(rec, 2)).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: MADE_UP_ID,
    });
    expect(fake.certificates.size).toBe(0);
    expect(fake.keys()).toEqual([]);
  });

  it("leaves another resource's certificates in the same folder", async () => {
    const { fake, handler } = cfn.setup();
    const rec = await cfn.recorder();
    await handler({ ...cfn.createEvent(rec.responseUrl()), LogicalResourceId: 'OtherCertificate' });
    const other = await cfn.answer(rec, 1);

    await handler(cfn.deleteEvent(rec.responseUrl(), MADE_UP_ID));

    expect((await cfn.answer(rec, 2)).Status).toBe('SUCCESS');
    expect(fake.certificates.get(other.PhysicalResourceId)?.status).toBe('ACTIVE');
    expect(cfn.credentialKeys(fake)).toHaveLength(4);
  });

  it('makes a Create still running take its certificate back, and answers once that Create ended', async () => {
    const { fake, log, handler } = cfn.setup();
    // The Create hangs writing its pointer (claim, record, three files, pointer).
    fake.hangOn('PutObject', 6);
    const [createRec, deleteRec] = [await cfn.recorder(), await cfn.recorder()];
    const create = handler(cfn.createEvent(createRec.responseUrl()));
    await expect.poll(() => fake.count('PutObject')).toBe(6);

    let answered = false;
    const deleting = handler(cfn.deleteEvent(deleteRec.responseUrl(), MADE_UP_ID)).then(() => {
      answered = true;
    });
    await expect.poll(() => log.text()).toContain('waiting for it to end');
    expect(fake.object(resourceEndKey(location, scope))).toBeDefined();
    // The running Create's certificate is its own to take back; the Delete waits.
    expect(fake.certificates.size).toBe(1);
    expect(answered).toBe(false);

    fake.releaseHung();
    await Promise.all([create, deleting]);
    const created = await cfn.answer(createRec);
    expect(created.Status).toBe('FAILED');
    expect(created.Reason).toContain('ResourceEndedError');
    expect(await cfn.answer(deleteRec)).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: MADE_UP_ID,
    });
    expect(fake.certificates.size).toBe(0);
    expect(fake.keys()).toEqual([]);
  });

  it('leaves a Create still running at its deadline to take its certificate back', async () => {
    const { fake, handler } = cfn.setup({ timeoutMarginMs: 1000, cleanupReserveMs: 500 });
    fake.hangOn('PutObject', 6);
    const rec = await cfn.recorder();
    const create = handler(cfn.createEvent(rec.responseUrl()));
    await expect.poll(() => fake.count('PutObject')).toBe(6);

    // 500 ms of work before the abort (the answer guard 500 ms later): the Create is still hung then.
    await handler(cfn.deleteEvent(rec.responseUrl(), MADE_UP_ID), {
      getRemainingTimeInMillis: () => 2000,
    });
    const deleted = await cfn.answer(rec, 1);
    expect(deleted).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: MADE_UP_ID });
    expect(fake.object(resourceEndKey(location, scope))).toBeDefined();
    expect(fake.certificates.size).toBe(1);

    fake.releaseHung();
    await create;
    const created = await cfn.answer(rec, 2);
    expect(created.Status).toBe('FAILED');
    expect(created.Reason).toContain('ResourceEndedError');
    expect(fake.certificates.size).toBe(0);
    expect(cfn.credentialKeys(fake)).toEqual([]);
    expect(fake.object(resourceEndKey(location, scope))).toBeUndefined();
  });

  it('leaves a later Create of the same resource alone', async () => {
    const { fake, handler } = cfn.setup();
    const rec = await cfn.recorder();
    fake.seed(
      resourceEndKey(location, scope),
      JSON.stringify({
        version: 1,
        ...scope,
        endedAt: new Date(Date.now() - 60_000).toISOString(),
      }),
    );

    await handler(cfn.createEvent(rec.responseUrl()));

    expect((await cfn.answer(rec, 1)).Status).toBe('SUCCESS');
    expect(fake.certificates.size).toBe(1);
  });
});
