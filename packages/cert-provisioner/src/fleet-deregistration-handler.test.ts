import { AutoScalingClient, CompleteLifecycleActionCommand } from '@aws-sdk/client-auto-scaling';
import {
  IoTClient,
  ListThingPrincipalsCommand,
  ListThingsInThingGroupCommand,
} from '@aws-sdk/client-iot';
import {
  FLEET_CLEANUP_RESOURCE_TYPE,
  FLEET_TERMINATION_EVENT_DETAIL_TYPE,
} from '@thingcert/contracts';
import { startResponseRecorder } from '@thingcert/test-support';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it, vi } from 'vitest';
import { awsError } from '../test/fake-aws';
import { isUnrecognizedFleetEventError } from './errors';
import { createFleetDeregistrationHandler } from './fleet-deregistration-handler';

function setup() {
  const iot = mockClient(IoTClient);
  const autoScaling = mockClient(AutoScalingClient);
  autoScaling.on(CompleteLifecycleActionCommand).resolves({});
  const logger = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
  const handler = createFleetDeregistrationHandler(
    { iot: iot as never, autoScaling: autoScaling as never, logger },
    { thingNamePrefix: 'fleet-', retry: { attempts: 1 } },
  );
  return { iot, autoScaling, handler };
}

const termination = {
  'detail-type': FLEET_TERMINATION_EVENT_DETAIL_TYPE,
  detail: {
    EC2InstanceId: 'i-1',
    AutoScalingGroupName: 'asg',
    LifecycleHookName: 'hook',
    LifecycleActionToken: 'token',
  },
};

describe('Function: createFleetDeregistrationHandler', () => {
  it('throws without completing the lifecycle action when the deregistration fails', async () => {
    const { iot, autoScaling, handler } = setup();
    iot.on(ListThingPrincipalsCommand).rejects(awsError('ThrottlingException', 400));

    await expect(handler(termination)).rejects.toThrow(/fleet-i-1.*listPrincipals/);
    expect(autoScaling.calls()).toHaveLength(0);
  });

  it('throws on an event it does not know and on a termination event missing a field', async () => {
    const { handler } = setup();

    await expect(handler({ hello: 'world' })).rejects.toSatisfy(isUnrecognizedFleetEventError);
    await expect(
      handler({ ...termination, detail: { ...termination.detail, LifecycleActionToken: '' } }),
    ).rejects.toThrow('LifecycleActionToken');
  });

  it('answers FAILED, once, when the group cannot be listed on Delete or a property is missing', async () => {
    const { iot, handler } = setup();
    iot.on(ListThingsInThingGroupCommand).rejects(awsError('InternalFailureException', 500));
    const recorder = await startResponseRecorder();
    const event = (requestType: string, properties: Record<string, string>) => ({
      RequestType: requestType,
      ResponseURL: recorder.responseUrl(),
      StackId: 'arn:aws:cloudformation:us-east-1:0:stack/s/1',
      RequestId: `r-${requestType}`,
      ResourceType: FLEET_CLEANUP_RESOURCE_TYPE,
      LogicalResourceId: 'Cleanup',
      PhysicalResourceId: 'fleet-group',
      ResourceProperties: { ServiceToken: 'x', ...properties },
    });
    try {
      await handler(event('Delete', { ThingGroupName: 'fleet-group', ThingNamePrefix: 'fleet-' }));
      await handler(event('Create', { ThingGroupName: 'fleet-group' }));

      expect(recorder.accepted().map((request) => request.json)).toMatchObject([
        {
          Status: 'FAILED',
          Reason: expect.stringContaining('InternalFailureException') as unknown,
        },
        { Status: 'FAILED', Reason: expect.stringContaining('ThingNamePrefix') as unknown },
      ]);
    } finally {
      await recorder.close();
    }
  });
});
