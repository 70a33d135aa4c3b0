import { FLEET_DEVICE_RUNNER_METADATA_KEY } from '@thingcert/contracts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { testStackEnvironment } from '../../test/stack-environment';
import type { DeviceProcess } from '../device-process';
import type { ServiceEvent } from '../event-bus';
import { LifecycleActions, TERMINATING_TRANSITION } from '../lifecycle-actions';
import type { DeployedResource } from '../resource-provider';
import { ADMIN_CREDENTIALS, type WorkloadCredentials } from '../iam/workload-credentials';
import {
  AutoScalingGroupProvider,
  instanceProfileName,
  type LaunchTemplateLookup,
} from './auto-scaling-group';

// The stand-in runner bundle (no network): `behaviour: 'wait'` runs until
// SIGTERM, as a `forever` device does, and reports THINGCERT_DEVICE_ID.
const bundleDir = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'stand-in-runner');
const TYPE = 'AWS::AutoScaling::AutoScalingGroup';

interface FleetOptions {
  readonly autoComplete: boolean;
  readonly behaviour?: string;
  readonly credentials?: WorkloadCredentials;
  readonly launchTemplateData?: LaunchTemplateLookup;
}

function fleet(options: FleetOptions) {
  const lines: string[] = [];
  const events: ServiceEvent[] = [];
  const stack = testStackEnvironment(lines, {
    assetDir: () => bundleDir,
    metadataOf: () => ({
      [FLEET_DEVICE_RUNNER_METADATA_KEY]: {
        config: { behaviour: options.behaviour ?? 'wait' },
        asset: { s3Key: 'runner.zip' },
      },
    }),
  });
  // Stands for the rule and the deregistration function: completes each action at once.
  const lifecycle: LifecycleActions = new LifecycleActions(
    {
      put: (event) => {
        events.push(event);
        if (options.autoComplete)
          setImmediate(() =>
            lifecycle.complete(event.detail as Record<string, string>, 'CONTINUE'),
          );
        return 1;
      },
    },
    (line) => lines.push(line),
  );
  const provider = new AutoScalingGroupProvider({
    stack,
    lifecycle,
    runOnce: false,
    credentials: options.credentials ?? ADMIN_CREDENTIALS,
    launchTemplateData: options.launchTemplateData ?? (() => undefined),
  });
  return { provider, lifecycle, lines, events };
}

/** What a device reported in its first line (the stand-in runner echoes its environment). */
async function reportOf(
  device: DeviceProcess,
  lines: string[],
): Promise<{ deviceId?: string; containerCredentials?: string } | undefined> {
  for (let i = 0; i < 100; i++) {
    const line = lines.find(
      (l) => l.startsWith(`[device ${device.name}]`) && l.includes('deviceId'),
    );
    if (line) return JSON.parse(line.slice(line.indexOf('{'))) as Record<string, string>;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return undefined;
}

/** The device id each device reported (the stand-in runner echoes THINGCERT_DEVICE_ID). */
async function deviceIdOf(device: DeviceProcess, lines: string[]): Promise<string | undefined> {
  return (await reportOf(device, lines))?.deviceId;
}

describe('Class: AutoScalingGroupProvider', () => {
  let cleanup: (() => Promise<void>) | undefined;

  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });

  async function launch(
    properties: Record<string, unknown>,
    options: FleetOptions = { autoComplete: true },
  ) {
    const fixture = fleet(options);
    const made = await fixture.provider.create({ logicalId: 'Fleet', type: TYPE, properties });
    const group: DeployedResource = {
      logicalId: 'Fleet',
      type: TYPE,
      physicalId: made.physicalId,
      attributes: made.attributes,
      properties,
      skipped: false,
    };
    cleanup = async () => {
      fixture.lifecycle.close();
      await fixture.provider.dispose();
    };
    return { ...fixture, group };
  }

  it('boots DesiredCapacity devices, each with its own instance id as device id', async () => {
    const { provider, group, lines } = await launch({
      MinSize: '0',
      MaxSize: '5',
      DesiredCapacity: '3',
    });
    const ids = provider.instancesOf(group.physicalId);
    expect(ids).toHaveLength(3);
    for (const id of ids) expect(id).toMatch(/^i-[0-9a-f]{17}$/);
    expect(new Set(ids).size).toBe(3);
    const devices = [...provider.devices.values()];
    expect(devices.map((device) => device.name).sort()).toEqual([...ids].sort());
    for (const device of devices) expect(await deviceIdOf(device, lines)).toBe(device.name);
  });

  it("runs each instance's device with a session of its launch template's instance profile role", async () => {
    const asked: [string, unknown][] = [];
    const credentials: WorkloadCredentials = {
      ...ADMIN_CREDENTIALS,
      forInstance: (instanceId, profile) => {
        asked.push([instanceId, profile]);
        return Promise.resolve({ AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://imds/${instanceId}` });
      },
    };
    const templates: Record<string, Record<string, unknown>> = {
      'lt-0123456789abcdef0': {
        IamInstanceProfile: { Arn: 'arn:aws:iam::000000000000:instance-profile/fleet-profile' },
      },
    };
    const { provider, group, lines } = await launch(
      {
        MinSize: '2',
        MaxSize: '2',
        LaunchTemplate: { LaunchTemplateId: 'lt-0123456789abcdef0', Version: '1' },
      },
      {
        autoComplete: true,
        credentials,
        launchTemplateData: (reference) => templates[String(reference.LaunchTemplateId)],
      },
    );
    const ids = provider.instancesOf(group.physicalId);
    expect(asked.sort()).toEqual(ids.map((id) => [id, 'fleet-profile']).sort());
    for (const device of provider.devices.values()) {
      expect((await reportOf(device, lines))?.containerCredentials).toBe(
        `http://imds/${device.name}`,
      );
    }
  });

  it('reads the instance profile of a launch template by Name or from its Arn', () => {
    expect(instanceProfileName({ IamInstanceProfile: { Name: 'by-name' } })).toBe('by-name');
    expect(
      instanceProfileName({
        IamInstanceProfile: { Arn: 'arn:aws:iam::000000000000:instance-profile/path/p1' },
      }),
    ).toBe('p1');
    expect(instanceProfileName({})).toBeUndefined();
    expect(instanceProfileName(undefined)).toBeUndefined();
  });

  it('scales in through the terminating lifecycle hook, oldest instance first, and out again', async () => {
    const { provider, group, lifecycle, events } = await launch({
      MinSize: '0',
      MaxSize: '5',
      DesiredCapacity: '3',
    });
    lifecycle.putHook({
      groupName: group.physicalId,
      hookName: 'deregister',
      transition: TERMINATING_TRANSITION,
      defaultResult: 'CONTINUE',
      heartbeatTimeoutSeconds: 60,
    });
    const [oldest, second, newest] = provider.instancesOf(group.physicalId);
    const devices = new Map([...provider.devices.values()].map((d) => [d.name, d]));
    await provider.update(
      {
        logicalId: 'Fleet',
        type: TYPE,
        properties: { MinSize: '0', MaxSize: '5', DesiredCapacity: '1' },
      },
      group,
    );
    expect(events.map((e) => e.detail.EC2InstanceId).sort()).toEqual([oldest, second].sort());
    expect(provider.instancesOf(group.physicalId)).toEqual([newest]);
    // Stopped (EC2 terminated the instance): its process is gone with its directory.
    await devices.get(oldest!)!.exited;
    expect(existsSync(devices.get(oldest!)!.directory)).toBe(false);
    expect(provider.devices.has(`Fleet/${oldest}`)).toBe(false);
    // The device that stays was never touched.
    expect(provider.devices.get(`Fleet/${newest}`)).toBe(devices.get(newest!));
    await provider.update(
      {
        logicalId: 'Fleet',
        type: TYPE,
        properties: { MinSize: '0', MaxSize: '5', DesiredCapacity: '2' },
      },
      { ...group, properties: { MinSize: '0', MaxSize: '5', DesiredCapacity: '1' } },
    );
    expect(provider.instancesOf(group.physicalId)).toHaveLength(2);
    expect(provider.instancesOf(group.physicalId)[0]).toBe(newest);
  });

  it('waits for the heartbeat timeout when nobody completes the action, then terminates', async () => {
    const { provider, group, lifecycle, lines } = await launch(
      { MinSize: '0', MaxSize: '1', DesiredCapacity: '1' },
      { autoComplete: false },
    );
    lifecycle.putHook({
      groupName: group.physicalId,
      hookName: 'deregister',
      transition: TERMINATING_TRANSITION,
      defaultResult: 'ABANDON',
      heartbeatTimeoutSeconds: 0.3,
    });
    const [only] = provider.instancesOf(group.physicalId);
    const started = Date.now();
    await provider.delete(group);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(lines).toContain(
      `${group.physicalId}: lifecycle action deregister for ${only}: ABANDON (heartbeat timeout)`,
    );
    expect(provider.devices.size).toBe(0);
  });

  it('never restarts a device that exited, and refuses a size outside MinSize..MaxSize', async () => {
    const { provider, group } = await launch(
      { MinSize: '1', MaxSize: '2', DesiredCapacity: '1' },
      { autoComplete: true },
    );
    const [device] = provider.devices.values();
    await device!.stop();
    expect(provider.instancesOf(group.physicalId)).toHaveLength(1);
    expect([...provider.devices.values()][0]).toBe(device);
    await expect(
      provider.create({
        logicalId: 'Other',
        type: TYPE,
        properties: { MinSize: '1', MaxSize: '2', DesiredCapacity: '3' },
      }),
    ).rejects.toThrow('Desired capacity:3 must be between the specified min size:1 and max size:2');
  });
});
