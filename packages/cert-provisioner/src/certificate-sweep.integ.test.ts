/**
 * Certificates no CloudFormation resource holds, against the local cloud: a
 * rotation whose cleanup failed too, swept by the rollback Update, and a
 * Create CloudFormation gave up on, swept by its Delete. The failures are
 * real SDK errors, injected by a middleware on real clients; the events that
 * sweep go to the BUNDLED Lambda.
 */
import { CreateThingCommand } from '@aws-sdk/client-iot';
import type { LambdaHandler } from '@thingcert/cfn-response';
import { describe, expect, it } from 'vitest';
import { BUCKET, objectsOf, useWorld } from '../test/local-cloud-harness';
import { createAwsClients } from './aws-clients';
import { createCertificateResourceHandler } from './certificate-resource-handler';

const world = useWorld();

/** An error as the SDK throws it for a 500 answer. */
function internalError(): Error {
  return Object.assign(new Error('We encountered an internal error (injected)'), {
    name: 'InternalError',
    $metadata: { httpStatusCode: 500 },
  });
}

/** An initialize-step middleware, typed for what it reads. */
type FaultMiddleware = (
  next: (args: { input: Record<string, unknown> }) => Promise<unknown>,
  context: { commandName?: string },
) => (args: { input: Record<string, unknown> }) => Promise<unknown>;

/** The one method of an SDK client's middleware stack used here. */
interface MiddlewareStackLike {
  add(middleware: FaultMiddleware, options: { step: 'initialize'; name: string }): void;
}

/**
 * The library handler over real clients to the local cloud, whose commands
 * named in `failing` (with an optional input check) fail before they are
 * sent, every time.
 */
function handlerFailing(
  failing: Record<string, (input: Record<string, unknown>) => boolean>,
): LambdaHandler {
  const clients = createAwsClients({ maxAttempts: 1 });
  const inject: FaultMiddleware = (next, context) => async (args) => {
    const fails = failing[context.commandName ?? ''];
    if (fails?.(args.input)) throw internalError();
    return next(args);
  };
  for (const client of [clients.iot, clients.s3]) {
    (client.middlewareStack as unknown as MiddlewareStackLike).add(inject, {
      step: 'initialize',
      name: 'injectFaults',
    });
  }
  return createCertificateResourceHandler(clients);
}

describe('Sequence: a rotation fails and so does its cleanup, then the rollback Update', () => {
  it('removes the certificate the rotation left and keeps A, its objects and the pointer', async () => {
    const props = { ThingName: 'swept-1' };
    await world.iot.send(new CreateThingCommand({ thingName: 'swept-1' }));
    const a = await world.invoke(world.event('Create', props));
    const aBodies = await Promise.all(objectsOf(a).map((key) => world.read(key)));
    const before = await world.certificateIds();
    const rotatedProps = { ...props, RotationToken: '2' };
    const failing = handlerFailing({
      // The new certificate's private key write fails...
      PutObjectCommand: (input) =>
        /\/certificates\/[0-9a-f]{64}\/private\.pem\.key$/.test(String(input['Key'])),
      // ...and so does the cleanup's delete of that certificate.
      DeleteCertificateCommand: () => true,
    });

    const failed = await world.invoke(
      world.event('Update', rotatedProps, {
        PhysicalResourceId: a.PhysicalResourceId,
        OldResourceProperties: { ...props, BucketName: BUCKET },
      }),
      failing,
    );
    expect(failed).toMatchObject({ Status: 'FAILED', PhysicalResourceId: a.PhysicalResourceId });
    expect(failed.Reason).toContain('also failed');
    const left = (await world.certificateIds()).filter((id) => !before.includes(id));
    expect(left).toHaveLength(1);
    expect(await world.keys('swept-1/.thingcert/certificates/')).toContain(
      `swept-1/.thingcert/certificates/${left[0]}.json`,
    );

    // CloudFormation's rollback Update: the old properties, from the failed ones.
    const rollback = world.event('Update', props, {
      PhysicalResourceId: a.PhysicalResourceId,
      OldResourceProperties: { ...rotatedProps, BucketName: BUCKET },
    });
    const rolledBack = await world.invoke(rollback);
    expect(await world.invoke({ ...rollback })).toEqual(rolledBack);

    expect(rolledBack).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: a.PhysicalResourceId,
    });
    expect(rolledBack.Data).toEqual(a.Data);
    expect(await world.certificateIds()).not.toContain(left[0]);
    expect(await world.statusOf(a.PhysicalResourceId)).toBe('ACTIVE');
    expect(await world.keys('swept-1/certificates/')).toEqual(objectsOf(a));
    expect(await Promise.all(objectsOf(a).map((key) => world.read(key)))).toEqual(aBodies);
    expect((await world.pointerOf('swept-1'))?.certificateId).toBe(a.PhysicalResourceId);
    expect(await world.keys('swept-1/.thingcert/certificates/')).toEqual([
      `swept-1/.thingcert/certificates/${a.PhysicalResourceId}.json`,
    ]);
    expect(world.leaks()).toEqual([]);
  });
});

describe('Sequence: CloudFormation cancels a Create and deletes it with an id of its own', () => {
  it('removes what the Create made, twice delivered, and leaves nothing of the thing', async () => {
    const props = { ThingName: 'cancelled-1' };
    const created = await world.invoke(world.event('Create', props));
    expect(created.Status).toBe('SUCCESS');
    // CloudFormation had already cancelled the Create and ignores its answer.
    const cancelled = world.event('Delete', props, {
      PhysicalResourceId: 'devices-DeviceCertificate-1QX2ZK8T4ABCD',
    });

    const deleted = await world.invoke(cancelled);
    expect(await world.invoke({ ...cancelled })).toEqual(deleted);

    expect(deleted.Status).toBe('SUCCESS');
    expect(await world.certificateIds()).not.toContain(created.PhysicalResourceId);
    expect(await world.keys('cancelled-1/')).toEqual([]);
  });
});
