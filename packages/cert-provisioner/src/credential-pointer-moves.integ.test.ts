/**
 * CloudFormation's sequences for one certificate resource, each event
 * delivered twice (Lambda's asynchronous invocation may), through the BUNDLED
 * Lambda against the local cloud: rotation, rollback of a rotation, removal,
 * and the first Update of a certificate made before the pointer layout.
 */
import {
  AttachThingPrincipalCommand,
  CreateKeysAndCertificateCommand,
  CreateThingCommand,
  DetachThingPrincipalCommand,
} from '@aws-sdk/client-iot';
import { describe, expect, it } from 'vitest';
import {
  BUCKET,
  objectsOf,
  STACK_ID,
  type Response,
  type World,
  useWorld,
} from '../test/local-cloud-harness';

const world = useWorld();

/** Delivers the same event twice (same RequestId): both answers must agree. */
async function twice(e: ReturnType<World['event']>): Promise<Response> {
  const first = await world.invoke(e);
  const second = await world.invoke({ ...e });
  expect(second).toEqual(first);
  return first;
}

/**
 * What CloudFormation does to a replaced or removed certificate in cleanup:
 * its attachment resource goes first (the thing is detached), then the
 * certificate resource gets its Delete, delivered twice here.
 */
async function deletedInCleanup(
  thingName: string,
  certificate: Response,
  props: Record<string, string>,
): Promise<Response> {
  await world.iot.send(
    new DetachThingPrincipalCommand({ thingName, principal: certificate.Data!.CertificateArn }),
  );
  return twice(
    world.event('Delete', props, { PhysicalResourceId: certificate.PhysicalResourceId }),
  );
}

/** The bodies of a certificate's objects, to prove they were not touched. */
async function bodiesOf(response: Response): Promise<string[]> {
  return Promise.all(objectsOf(response).map((key) => world.read(key)));
}

/** A thing with certificate A attached, then a rotation Update to B, B attached. */
async function rotated(thingName: string) {
  const props = { ThingName: thingName };
  await world.iot.send(new CreateThingCommand({ thingName }));
  const a = await twice(world.event('Create', props));
  expect(a.Status).toBe('SUCCESS');
  const attach = (r: Response) =>
    world.iot.send(
      new AttachThingPrincipalCommand({ thingName, principal: r.Data!.CertificateArn }),
    );
  await attach(a);
  const aBodies = await bodiesOf(a);
  const rotatedProps = { ...props, RotationToken: '2' };
  const b = await twice(
    world.event('Update', rotatedProps, {
      PhysicalResourceId: a.PhysicalResourceId,
      OldResourceProperties: { ...props, BucketName: BUCKET },
    }),
  );
  expect(b.Status).toBe('SUCCESS');
  expect(b.PhysicalResourceId).not.toBe(a.PhysicalResourceId);
  await attach(b);
  return { props, rotatedProps, a, b, aBodies };
}

describe('Sequence: rotation A to B', () => {
  it("keeps A's objects until A's Delete and points at B from the rotation on", async () => {
    const { props, a, b, aBodies } = await rotated('rotate-1');
    expect(await world.certificateIds()).toEqual(
      [a.PhysicalResourceId, b.PhysicalResourceId].sort(),
    );
    expect((await world.pointerOf('rotate-1'))?.certificateId).toBe(b.PhysicalResourceId);
    expect(await bodiesOf(a)).toEqual(aBodies);
    expect(b.Data!['CredentialPointerObjectKey']).toBe(a.Data!['CredentialPointerObjectKey']);

    // Cleanup: CloudFormation removes A's attachment, then deletes A.
    const deleted = await deletedInCleanup('rotate-1', a, props);

    expect(deleted.Status).toBe('SUCCESS');
    expect(await world.certificateIds()).toContain(b.PhysicalResourceId);
    expect(await world.certificateIds()).not.toContain(a.PhysicalResourceId);
    expect(await world.keys('rotate-1/certificates/')).toEqual(objectsOf(b));
    expect((await world.pointerOf('rotate-1'))?.certificateId).toBe(b.PhysicalResourceId);
    expect(world.leaks()).toEqual([]);
  });
});

describe('Sequence: rotation A to B, then another resource fails and the stack rolls back', () => {
  it("points back at A on B's Delete, with A's objects intact, and removal leaves nothing", async () => {
    const { props, rotatedProps, a, b, aBodies } = await rotated('rollback-2');

    // Rollback: A is the physical id again (no call); rollback cleanup removes
    // B's attachment, then deletes B.
    const deleted = await deletedInCleanup('rollback-2', b, rotatedProps);

    expect(deleted.Status).toBe('SUCCESS');
    expect(await world.certificateIds()).toContain(a.PhysicalResourceId);
    expect(await world.certificateIds()).not.toContain(b.PhysicalResourceId);
    const pointer = await world.pointerOf('rollback-2');
    expect(pointer?.certificateId).toBe(a.PhysicalResourceId);
    expect(pointer?.objects.privateKey).toBe(a.Data!['PrivateKeyObjectKey']);
    expect(await bodiesOf(a)).toEqual(aBodies);
    expect(await world.keys('rollback-2/certificates/')).toEqual(objectsOf(a));

    // Later the device is removed from the template: Delete of A in cleanup.
    const removed = await deletedInCleanup('rollback-2', a, props);

    expect(removed.Status).toBe('SUCCESS');
    expect(await world.certificateIds()).not.toContain(a.PhysicalResourceId);
    expect(await world.keys('rollback-2/')).toEqual([]);
    expect(world.leaks()).toEqual([]);
  });
});

describe('Sequence: a certificate made before the pointer layout', () => {
  it('gets its folder and the pointer on the Update that brings the layout, and its Delete removes the fixed files', async () => {
    const made = await world.iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
    const id = made.certificateId!;
    const fixed = {
      'legacy-1/device.pem.crt': made.certificatePem!,
      'legacy-1/public.pem.key': made.keyPair!.PublicKey!,
      'legacy-1/private.pem.key': made.keyPair!.PrivateKey!,
      [`legacy-1/.thingcert/certificates/${id}.json`]: JSON.stringify({
        version: 1,
        certificateId: id,
        certificateArn: made.certificateArn,
        endpoint: world.cloud.dataEndpoint,
        thingName: 'legacy-1',
        bucketName: BUCKET,
        keyPrefix: '',
        keyMode: 'server',
        keyAlgorithm: 'RSA_2048',
        stackId: STACK_ID,
        requestId: 'legacy-create',
        createdAt: '2026-01-01T00:00:00.000Z',
      }),
    };
    for (const [key, body] of Object.entries(fixed)) await world.plant(key, body);
    const props = { ThingName: 'legacy-1' };

    const updated = await twice(
      world.event(
        'Update',
        { ...props, CredentialLayout: 'pointer-v1' },
        {
          PhysicalResourceId: id,
          OldResourceProperties: { ...props, BucketName: BUCKET },
        },
      ),
    );

    expect(updated).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: id });
    expect(updated.Data!['CredentialPointerObjectKey']).toBe('legacy-1/current.json');
    const pointer = await world.pointerOf('legacy-1');
    expect(pointer?.certificateId).toBe(id);
    expect(await world.read(pointer!.objects.certificate)).toBe(made.certificatePem);
    expect(await world.read('legacy-1/device.pem.crt')).toBe(made.certificatePem);

    const deleted = await world.invoke(world.event('Delete', props, { PhysicalResourceId: id }));
    expect(deleted.Status).toBe('SUCCESS');
    expect(await world.certificateIds()).not.toContain(id);
    expect(await world.keys('legacy-1/')).toEqual([]);
    expect(world.leaks()).toEqual([]);
  });
});
