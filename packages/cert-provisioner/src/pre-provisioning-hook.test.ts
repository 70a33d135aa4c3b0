import {
  DescribeThingCommand,
  IoTClient,
  ListThingsInThingGroupCommand,
} from '@aws-sdk/client-iot';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it, vi } from 'vitest';
import { awsError } from '../test/fake-aws';
import { createPreProvisioningHookHandler } from './pre-provisioning-hook-handler';

const settings = { thingNamePrefix: 'fleet-', thingGroupName: 'fleet-group', maxDevices: 2 };

function setup() {
  const iot = mockClient(IoTClient);
  iot.on(DescribeThingCommand).rejects(awsError('ResourceNotFoundException', 404));
  const logger = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
  const hook = createPreProvisioningHookHandler(
    { iot: iot as unknown as IoTClient, logger },
    settings,
  );
  return { iot, logger, hook };
}

describe('Function: createPreProvisioningHookHandler', () => {
  it('throws when the group cannot be listed, so AWS IoT refuses the device (hook failed)', async () => {
    const { iot, hook } = setup();
    iot.on(ListThingsInThingGroupCommand).rejects(awsError('ThrottlingException', 400));

    await expect(hook({ parameters: { ThingName: 'fleet-i-1' } })).rejects.toThrow(
      'ThrottlingException',
    );
  });

  it('refuses once the pages add up to maxDevices, without reading further pages', async () => {
    const { iot, hook, logger } = setup();
    iot
      .on(ListThingsInThingGroupCommand, { nextToken: undefined })
      .resolves({ things: ['fleet-a'], nextToken: 'p2' })
      .on(ListThingsInThingGroupCommand, { nextToken: 'p2' })
      .resolves({ things: ['fleet-b'], nextToken: 'p3' });

    expect(await hook({ parameters: { ThingName: 'fleet-c' } })).toEqual({
      allowProvisioning: false,
    });
    expect(iot.commandCalls(ListThingsInThingGroupCommand)).toHaveLength(2);
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(iot.commandCalls(ListThingsInThingGroupCommand)[0]?.args[0].input).toMatchObject({
      thingGroupName: 'fleet-group',
      maxResults: 250,
    });
  });

  it('throws when it cannot tell whether the thing exists', async () => {
    const { iot, hook } = setup();
    iot.on(DescribeThingCommand).rejects(awsError('InternalFailureException', 500));

    await expect(hook({ parameters: { ThingName: 'fleet-i-1' } })).rejects.toThrow(
      'InternalFailureException',
    );
    expect(iot.commandCalls(ListThingsInThingGroupCommand)).toHaveLength(0);
  });

  it('refuses, without any IoT call, an event that is not an object or names no thing', async () => {
    const { iot, hook } = setup();

    expect(await hook('not an event')).toEqual({ allowProvisioning: false });
    expect(await hook({ parameters: { ThingName: 42 } })).toEqual({ allowProvisioning: false });
    expect(await hook({ parameters: { ThingName: 'fleet-a/b' } })).toEqual({
      allowProvisioning: false,
    });
    expect(iot.calls()).toHaveLength(0);
  });
});
