/**
 * The BUNDLED fleet functions against the local cloud, with real SDK clients:
 * the pre-provisioning hook counting the real thing group, scale-in
 * deregistration (CompleteLifecycleAction recorded by a stand-in server, the
 * local cloud having no Auto Scaling API), and the cleanup custom resource
 * emptying the group on Delete.
 */
import {
  AddThingToThingGroupCommand,
  CreateThingCommand,
  DescribeCertificateCommand,
  DescribeThingCommand,
  ListThingsInThingGroupCommand,
} from '@aws-sdk/client-iot';
import {
  FLEET_CLEANUP_RESOURCE_TYPE,
  FLEET_TERMINATION_EVENT_DETAIL_TYPE,
  FLEET_THING_NAME_PARAMETER,
  type FleetCleanupProperties,
} from '@thingcert/contracts';
import { describe, expect, it } from 'vitest';
import { FLEET, useFleetWorld } from '../test/fleet-world';

const world = useFleetWorld();
const STACK_ID = 'arn:aws:cloudformation:us-east-1:000000000000:stack/fleet/1';

async function exists(send: () => Promise<unknown>): Promise<boolean> {
  try {
    await send();
    return true;
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return false;
    throw error;
  }
}

async function groupMembers(): Promise<string[]> {
  const page = await world().iot.send(
    new ListThingsInThingGroupCommand({ thingGroupName: FLEET.thingGroupName }),
  );
  return [...(page.things ?? [])].sort();
}

function hookEvent(thingName: string | undefined) {
  return {
    claimCertificateId: 'c'.repeat(64),
    certificateId: 'd'.repeat(64),
    certificatePem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
    templateArn: 'arn:aws:iot:us-east-1:000000000000:provisioningtemplate/fleet',
    clientId: thingName ?? 'anonymous',
    parameters: thingName === undefined ? {} : { [FLEET_THING_NAME_PARAMETER]: thingName },
  };
}

function terminationEvent(instanceId: string, token: string) {
  return {
    version: '0',
    id: token,
    'detail-type': FLEET_TERMINATION_EVENT_DETAIL_TYPE,
    source: 'aws.autoscaling',
    detail: {
      LifecycleActionToken: token,
      AutoScalingGroupName: 'fleet-asg',
      LifecycleHookName: 'fleet-deregister',
      EC2InstanceId: instanceId,
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
    },
  };
}

function cleanupEvent(requestType: 'Create' | 'Delete', responseUrl: string) {
  const properties: FleetCleanupProperties = {
    ThingGroupName: FLEET.thingGroupName,
    ThingNamePrefix: FLEET.thingNamePrefix,
  };
  return {
    RequestType: requestType,
    ResponseURL: responseUrl,
    StackId: STACK_ID,
    RequestId: `req-${requestType}-${Math.random()}`,
    ResourceType: FLEET_CLEANUP_RESOURCE_TYPE,
    LogicalResourceId: 'FleetCleanup',
    ...(requestType === 'Delete' ? { PhysicalResourceId: FLEET.thingGroupName } : {}),
    ResourceProperties: { ServiceToken: 'arn:aws:lambda:us-east-1:0:function:x', ...properties },
  };
}

/** Form fields of the Auto Scaling calls the recorder got. */
function lifecycleCalls(): URLSearchParams[] {
  return world()
    .recorder.requests.map((request) => new URLSearchParams(request.rawBody.toString('utf8')))
    .filter((form) => form.get('Action') === 'CompleteLifecycleAction');
}

describe('Bundle: pre-provisioning hook', () => {
  it('allows new fleet names until the group is full, and logs why it refuses', async () => {
    const { hook, register, logLines } = world();
    expect(await hook(hookEvent('fleet-i-0aaa'))).toEqual({ allowProvisioning: true });
    expect(await hook(hookEvent('other-i-0aaa'))).toEqual({ allowProvisioning: false });
    expect(await hook(hookEvent(undefined))).toEqual({ allowProvisioning: false });

    await register('fleet-i-01');
    // A second registration would add a certificate beside the first device's.
    expect(await hook(hookEvent('fleet-i-01'))).toEqual({ allowProvisioning: false });
    for (const id of ['i-02', 'i-03']) await register(`fleet-${id}`);
    expect(await hook(hookEvent('fleet-i-04'))).toEqual({ allowProvisioning: false });

    const refusals = logLines
      .map((line) => JSON.parse(line) as { message: string; reason?: string })
      .filter((line) => line.message.startsWith('Provisioning refused'));
    expect(refusals.map((line) => line.reason)).toEqual([
      'foreign-thing-name',
      'missing-thing-name',
      'already-registered',
      'fleet-full',
    ]);
    expect(refusals[0]?.message).toContain('"other-i-0aaa" is not "fleet-"');
    expect(refusals[2]?.message).toContain('fleet-i-01 already exists');
    expect(refusals[3]?.message).toContain('already holds 3 things (maxDevices 3)');
    expect(logLines.join('\n')).not.toContain('BEGIN CERTIFICATE');
  });
});

describe('Bundle: deregistration', () => {
  it('deregisters a terminating instance, then lets the termination go on', async () => {
    const { deregistration, register, iot } = world();
    const made = await register('fleet-i-0term');

    await deregistration(terminationEvent('i-0term', 'token-1'));

    expect(
      await exists(() => iot.send(new DescribeThingCommand({ thingName: 'fleet-i-0term' }))),
    ).toBe(false);
    expect(
      await exists(() =>
        iot.send(new DescribeCertificateCommand({ certificateId: made.certificateId })),
      ),
    ).toBe(false);
    const [call] = lifecycleCalls().filter(
      (form) => form.get('LifecycleActionToken') === 'token-1',
    );
    expect(call?.get('LifecycleActionResult')).toBe('CONTINUE');
    expect(call?.get('InstanceId')).toBe('i-0term');
    expect(call?.get('AutoScalingGroupName')).toBe('fleet-asg');
    expect(call?.get('LifecycleHookName')).toBe('fleet-deregister');
  });

  it('completes the lifecycle action of an instance that never registered', async () => {
    await world().deregistration(terminationEvent('i-0never', 'token-2'));

    expect(lifecycleCalls().some((form) => form.get('LifecycleActionToken') === 'token-2')).toBe(
      true,
    );
  });

  it('answers Create, and on Delete empties the group of fleet things only', async () => {
    const { deregistration, recorder, register, iot } = world();
    await register('fleet-i-0del1');
    await iot.send(new CreateThingCommand({ thingName: 'someone-else' }));
    await iot.send(
      new AddThingToThingGroupCommand({
        thingName: 'someone-else',
        thingGroupName: FLEET.thingGroupName,
      }),
    );

    const createUrl = recorder.responseUrl('create');
    await deregistration(cleanupEvent('Create', createUrl));
    const deleteUrl = recorder.responseUrl('delete');
    await deregistration(cleanupEvent('Delete', deleteUrl));

    const answers = recorder
      .accepted()
      .filter((request) => [createUrl, deleteUrl].some((url) => url.endsWith(request.path)));
    expect(answers.map((request) => request.json)).toMatchObject([
      { Status: 'SUCCESS', PhysicalResourceId: FLEET.thingGroupName },
      { Status: 'SUCCESS', PhysicalResourceId: FLEET.thingGroupName },
    ]);
    expect(await groupMembers()).toEqual(['someone-else']);
  });
});
