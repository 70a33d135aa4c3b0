import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  RecordLifecycleActionHeartbeatCommand,
} from '@aws-sdk/client-auto-scaling';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AutoScalingEndpoint } from './auto-scaling-endpoint';
import type { ServiceEvent } from './event-bus';
import {
  LifecycleActions,
  TERMINATING_TRANSITION,
  type LifecycleHookDefinition,
} from './lifecycle-actions';

const GROUP_ARN =
  'arn:aws:autoscaling:eu-west-1:000000000000:autoScalingGroup:id:autoScalingGroupName/fleet';

function hook(overrides: Partial<LifecycleHookDefinition> = {}): LifecycleHookDefinition {
  return {
    groupName: 'fleet',
    hookName: 'deregister',
    transition: TERMINATING_TRANSITION,
    defaultResult: 'CONTINUE',
    heartbeatTimeoutSeconds: 60,
    ...overrides,
  };
}

describe('Class: AutoScalingEndpoint', () => {
  let events: ServiceEvent[];
  let lines: string[];
  let actions: LifecycleActions;
  let endpoint: AutoScalingEndpoint;
  let client: AutoScalingClient;

  beforeEach(async () => {
    events = [];
    lines = [];
    actions = new LifecycleActions({ put: (event) => (events.push(event), 1) }, (line) =>
      lines.push(line),
    );
    endpoint = new AutoScalingEndpoint(actions);
    await endpoint.start();
    client = new AutoScalingClient({
      region: 'eu-west-1',
      endpoint: endpoint.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
  });

  afterEach(async () => {
    actions.close();
    client.destroy();
    await endpoint.stop();
  });

  it('emits the terminate lifecycle event and lets the instance go on CompleteLifecycleAction (real SDK)', async () => {
    actions.putHook(hook());
    let done = false;
    const waiting = actions
      .terminating('fleet', GROUP_ARN, 'i-0123456789abcdef0')
      .then(() => (done = true));
    expect(events).toHaveLength(1);
    const [event] = events;
    expect(event).toMatchObject({
      source: 'aws.autoscaling',
      'detail-type': 'EC2 Instance-terminate Lifecycle Action',
      resources: [GROUP_ARN],
      detail: {
        AutoScalingGroupName: 'fleet',
        LifecycleHookName: 'deregister',
        EC2InstanceId: 'i-0123456789abcdef0',
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
      },
    });
    const token = String(event!.detail.LifecycleActionToken);
    await client.send(
      new RecordLifecycleActionHeartbeatCommand({
        AutoScalingGroupName: 'fleet',
        LifecycleHookName: 'deregister',
        LifecycleActionToken: token,
      }),
    );
    expect(done).toBe(false);
    await client.send(
      new CompleteLifecycleActionCommand({
        AutoScalingGroupName: 'fleet',
        LifecycleHookName: 'deregister',
        LifecycleActionToken: token,
        LifecycleActionResult: 'CONTINUE',
      }),
    );
    await waiting;
    expect(
      lines.some((line) => line.includes('deregister for i-0123456789abcdef0: CONTINUE')),
    ).toBe(true);
  });

  it("answers an unknown token with AWS's ValidationError, and a spent one too", async () => {
    actions.putHook(hook());
    const waiting = actions.terminating('fleet', GROUP_ARN, 'i-0123456789abcdef0');
    const complete = (token: string) =>
      client.send(
        new CompleteLifecycleActionCommand({
          AutoScalingGroupName: 'fleet',
          LifecycleHookName: 'deregister',
          LifecycleActionToken: token,
          LifecycleActionResult: 'CONTINUE',
        }),
      );
    await expect(complete('00000000-0000-0000-0000-000000000000')).rejects.toMatchObject({
      name: 'ValidationError',
      message: 'No active Lifecycle Action found with token 00000000-0000-0000-0000-000000000000',
      $metadata: { httpStatusCode: 400 },
    });
    const token = String(events[0]!.detail.LifecycleActionToken);
    await complete(token);
    await waiting;
    await expect(complete(token)).rejects.toMatchObject({ name: 'ValidationError' });
  });

  it('completes by instance id, and goes on with the default result after the heartbeat timeout', async () => {
    actions.putHook(hook());
    actions.putHook(
      hook({ hookName: 'slow', heartbeatTimeoutSeconds: 0.2, defaultResult: 'ABANDON' }),
    );
    const started = Date.now();
    const waiting = actions.terminating('fleet', GROUP_ARN, 'i-0aaaaaaaaaaaaaaaa');
    expect(events.map((e) => e.detail.LifecycleHookName)).toEqual(['deregister', 'slow']);
    await client.send(
      new CompleteLifecycleActionCommand({
        AutoScalingGroupName: 'fleet',
        LifecycleHookName: 'deregister',
        InstanceId: 'i-0aaaaaaaaaaaaaaaa',
        LifecycleActionResult: 'CONTINUE',
      }),
    );
    await waiting;
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(lines).toContain(
      'fleet: lifecycle action slow for i-0aaaaaaaaaaaaaaaa: ABANDON (heartbeat timeout)',
    );
  });

  it('refuses an unsigned request and an action it does not emulate', async () => {
    const unsigned = await fetch(endpoint.endpoint, {
      method: 'POST',
      body: 'Action=CompleteLifecycleAction&Version=2011-01-01',
    });
    expect(unsigned.status).toBe(403);
    expect(await unsigned.text()).toContain('<Code>MissingAuthenticationToken</Code>');
    const other = await fetch(endpoint.endpoint, {
      method: 'POST',
      headers: {
        authorization:
          'AWS4-HMAC-SHA256 Credential=local/20260101/eu-west-1/autoscaling/aws4_request',
      },
      body: 'Action=DescribeAutoScalingGroups&Version=2011-01-01',
    });
    expect(other.status).toBe(400);
    expect(await other.text()).toContain('<Code>InvalidAction</Code>');
  });
});
