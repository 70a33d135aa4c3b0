import { randomUUID } from 'node:crypto';
import { bootFleetDevice } from '../device-boot';
import type { DeviceProcess } from '../device-process';
import { ResourceStepError } from '../errors';
import type { WorkloadCredentials } from '../iam/workload-credentials';
import { TERMINATING_TRANSITION, type LifecycleActions } from '../lifecycle-actions';
import { newInstanceId, regionalArn, templateOrGeneratedName } from '../physical-names';
import {
  type DeployedResource,
  type ProvisionedResource,
  type ResourceProvider,
  type ResourceRequest,
  type StackEnvironment,
} from '../resource-provider';
import { instancesToTerminate } from '../termination-policy';
import { hookFromSpecification } from './lifecycle-hook';

/** Auto Scaling group names are at most 255 characters. */
const MAX_GROUP_NAME = 255;

/** One instance of a group: what the termination policy weighs, and its device. */
interface GroupInstance {
  readonly instanceId: string;
  readonly availabilityZone: string;
  readonly launchTemplateGeneration: number;
  readonly launchedAt: number;
  readonly device: DeviceProcess | undefined;
}

/**
 * The resolved `LaunchTemplateData` of the launch template a group's
 * `LaunchTemplate` property names (`LaunchTemplateId` or
 * `LaunchTemplateName`), or `undefined` when the stack holds none.
 */
export type LaunchTemplateLookup = (
  launchTemplate: Readonly<Record<string, unknown>>,
) => Readonly<Record<string, unknown>> | undefined;

/** What the groups of one stack are built from. */
export interface AutoScalingGroupProviderOptions {
  readonly stack: StackEnvironment;
  readonly lifecycle: LifecycleActions;
  /** Devices run their messages once and exit (instead of `forever`). */
  readonly runOnce: boolean;
  /** What each instance's device runs as: its instance profile's role. */
  readonly credentials: WorkloadCredentials;
  readonly launchTemplateData: LaunchTemplateLookup;
  /** Extra runner environment (see `DeviceBootOptions.environment`). */
  readonly deviceEnvironment?: Readonly<Record<string, string>>;
}

/**
 * The instance profile name a launch template's `IamInstanceProfile` gives
 * (`Name`, or the last segment of `Arn`: `arn:aws:iam::<account>:instance-profile/<path><name>`).
 */
export function instanceProfileName(data: Readonly<Record<string, unknown>> | undefined): unknown {
  const profile = data?.IamInstanceProfile as { Name?: unknown; Arn?: unknown } | undefined;
  if (profile === undefined) return undefined;
  if (typeof profile.Name === 'string') return profile.Name;
  return typeof profile.Arn === 'string'
    ? /:instance-profile\/(?:.*\/)?([^/]+)$/.exec(profile.Arn)?.[1]
    : undefined;
}

/** One group: its instances and what new instances launch from. */
interface Group {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  readonly zones: readonly string[];
  readonly instances: GroupInstance[];
  /** The `LaunchTemplate` property new instances launch from, and its generation. */
  launchTemplate: string;
  launchTemplateReference: Readonly<Record<string, unknown>>;
  launchTemplateGeneration: number;
  /** Round-robin over the zones, as Auto Scaling balances them. */
  nextZone: number;
}

/** What the group's size properties say (CloudFormation passes them as strings). */
function sizeOf(
  logicalId: string,
  properties: Readonly<Record<string, unknown>>,
  current?: number,
): number {
  const min = Number(properties.MinSize);
  const max = Number(properties.MaxSize);
  const desired =
    properties.DesiredCapacity === undefined
      ? Math.min(max, Math.max(min, current ?? min))
      : Number(properties.DesiredCapacity);
  if (![min, max, desired].every(Number.isInteger) || min < 0 || max < min)
    throw new ResourceStepError(
      logicalId,
      'ValidateSize',
      `MinSize ${String(properties.MinSize)} and MaxSize ${String(properties.MaxSize)} are not a valid range`,
    );
  if (desired < min || desired > max)
    throw new ResourceStepError(
      logicalId,
      'ValidateSize',
      `ValidationError: Desired capacity:${desired} must be between the specified min size:${min} and max size:${max}`,
    );
  return desired;
}

/**
 * `AWS::AutoScaling::AutoScalingGroup` as a fleet of devices, doing to them
 * what Auto Scaling does to instances and nothing more (nothing restarts a
 * device; a device that exits stays exited, as a finished systemd service
 * on a running instance):
 * - create: launches `DesiredCapacity` (else `MinSize`) instances, each an
 *   `i-` + 17 hex id, its device booted from the group's
 *   `Thingcert::FleetDeviceRunner` metadata with the instance id as device id
 *   (`THINGCERT_DEVICE_ID`, as the fleet's user data sets it) and a session
 *   of its launch template's instance profile role, as IMDS serves it;
 * - update: `DesiredCapacity`/`MinSize`/`MaxSize` are No interruption: more
 *   instances are launched, or the default termination policy picks those to
 *   terminate; a new `LaunchTemplate` applies to instances launched from now
 *   on (rolling updates are not emulated);
 * - terminate (scale-in, group delete): the group's terminating lifecycle
 *   hooks run (event to EventBridge, wait for `CompleteLifecycleAction` or
 *   the heartbeat timeout), then the device is stopped;
 * - delete: CloudFormation empties the group (every instance terminated as
 *   above, so only hooks still defined then run) and deletes it.
 */
export class AutoScalingGroupProvider implements ResourceProvider {
  private readonly groups = new Map<string, Group>();

  private readonly stack: StackEnvironment;
  private readonly lifecycle: LifecycleActions;

  constructor(private readonly options: AutoScalingGroupProviderOptions) {
    this.stack = options.stack;
    this.lifecycle = options.lifecycle;
  }

  /** The role the instances of a group (by its `LaunchTemplate` property) run as. */
  roleOf(launchTemplate: unknown): string | undefined {
    return this.options.credentials.roleOf({
      instanceProfile: instanceProfileName(
        this.options.launchTemplateData(referenceOf(launchTemplate)),
      ),
    });
  }

  /** The device of every running instance of every group, by `<group logical id>/<instance id>`. */
  get devices(): ReadonlyMap<string, DeviceProcess> {
    const devices = new Map<string, DeviceProcess>();
    for (const group of this.groups.values())
      for (const instance of group.instances)
        if (instance.device)
          devices.set(`${group.logicalId}/${instance.instanceId}`, instance.device);
    return devices;
  }

  /** The instance ids of a group, oldest first (`DescribeAutoScalingGroups`). */
  instancesOf(groupName: string): string[] {
    return this.groups.get(groupName)?.instances.map((i) => i.instanceId) ?? [];
  }

  async create({ logicalId, properties }: ResourceRequest): Promise<ProvisionedResource> {
    const desired = sizeOf(logicalId, properties);
    const name = templateOrGeneratedName(
      properties.AutoScalingGroupName,
      this.stack.stackName,
      logicalId,
      MAX_GROUP_NAME,
    );
    const hooks = (properties.LifecycleHookSpecificationList ?? []) as Record<string, unknown>[];
    for (const specification of hooks) {
      const hook = hookFromSpecification(logicalId, name, specification);
      this.lifecycle.putHook(hook);
    }
    const zones = Array.isArray(properties.AvailabilityZones)
      ? properties.AvailabilityZones.map(String)
      : [`${this.stack.region}a`];
    const group: Group = {
      logicalId,
      name,
      arn: regionalArn(
        this.stack,
        'autoscaling',
        `autoScalingGroup:${randomUUID()}:autoScalingGroupName/${name}`,
      ),
      zones,
      instances: [],
      launchTemplate: JSON.stringify(properties.LaunchTemplate ?? null),
      launchTemplateReference: referenceOf(properties.LaunchTemplate),
      launchTemplateGeneration: 0,
      nextZone: 0,
    };
    this.groups.set(name, group);
    await this.launch(group, desired);
    this.stack.log(`created ${logicalId} (Auto Scaling group ${name}, ${desired} instance(s))`);
    return { physicalId: name, attributes: { LaunchConfigurationName: '' } };
  }

  async update(request: ResourceRequest, current: DeployedResource): Promise<ProvisionedResource> {
    const group = this.groups.get(current.physicalId);
    if (!group) return { physicalId: current.physicalId, attributes: current.attributes };
    const desired = sizeOf(request.logicalId, request.properties, group.instances.length);
    const launchTemplate = JSON.stringify(request.properties.LaunchTemplate ?? null);
    if (launchTemplate !== group.launchTemplate) {
      group.launchTemplate = launchTemplate;
      group.launchTemplateReference = referenceOf(request.properties.LaunchTemplate);
      group.launchTemplateGeneration++;
    }
    for (const old of (current.properties.LifecycleHookSpecificationList ?? []) as Record<
      string,
      unknown
    >[])
      this.lifecycle.deleteHook(group.name, String(old.LifecycleHookName));
    for (const specification of (request.properties.LifecycleHookSpecificationList ?? []) as Record<
      string,
      unknown
    >[])
      this.lifecycle.putHook(hookFromSpecification(request.logicalId, group.name, specification));
    const running = group.instances.length;
    if (desired > running) {
      this.stack.log(`${group.name}: scaling out from ${running} to ${desired}`);
      await this.launch(group, desired - running);
    } else if (desired < running) {
      this.stack.log(`${group.name}: scaling in from ${running} to ${desired}`);
      await this.terminate(group, instancesToTerminate(group.instances, running - desired));
    }
    return { physicalId: current.physicalId, attributes: current.attributes };
  }

  async delete({ physicalId }: DeployedResource): Promise<void> {
    const group = this.groups.get(physicalId);
    if (!group) return;
    if (group.instances.length > 0) {
      this.stack.log(
        `${group.name}: terminating ${group.instances.length} instance(s) before deleting the group`,
      );
      await this.terminate(group, [...group.instances]);
    }
    for (const hook of this.lifecycle.hooksOf(group.name, TERMINATING_TRANSITION))
      this.lifecycle.deleteHook(group.name, hook.hookName);
    this.groups.delete(physicalId);
  }

  /** Stops every device at once, hooks or not (the deployer is going away). */
  async dispose(): Promise<void> {
    await Promise.all(
      [...this.groups.values()].flatMap((group) =>
        group.instances.flatMap((i) => (i.device ? [i.device.stop()] : [])),
      ),
    );
  }

  /**
   * Launches instances at once, each with a session of the instance profile
   * role its launch template names (EC2 launches the instance either way).
   */
  private async launch(group: Group, count: number): Promise<void> {
    const profile = instanceProfileName(
      this.options.launchTemplateData(group.launchTemplateReference),
    );
    await Promise.all(
      Array.from({ length: count }, async () => {
        const instanceId = newInstanceId();
        const availabilityZone = group.zones[group.nextZone++ % group.zones.length]!;
        const credentials = await this.options.credentials.forInstance(instanceId, profile);
        const device = bootFleetDevice({
          logicalId: group.logicalId,
          instanceId,
          metadata: this.stack.metadataOf(group.logicalId),
          credentials,
          stack: this.stack,
          runOnce: this.options.runOnce,
          environment: this.options.deviceEnvironment,
        });
        group.instances.push({
          instanceId,
          availabilityZone,
          launchTemplateGeneration: group.launchTemplateGeneration,
          launchedAt: Date.now(),
          device,
        });
      }),
    );
  }

  /** Terminates instances as Auto Scaling does: lifecycle hooks first, then EC2 stops them. */
  private async terminate(group: Group, chosen: readonly { instanceId: string }[]): Promise<void> {
    await Promise.all(
      chosen.map(async ({ instanceId }) => {
        const instance = group.instances.find((i) => i.instanceId === instanceId);
        if (!instance) return;
        this.stack.log(`${group.name}: terminating ${instanceId}`);
        await this.lifecycle.terminating(group.name, group.arn, instanceId);
        await instance.device?.stop();
        group.instances.splice(group.instances.indexOf(instance), 1);
        this.stack.log(`${group.name}: ${instanceId} terminated`);
      }),
    );
  }
}

/** A group's `LaunchTemplate` property as an object (`{}` when absent). */
function referenceOf(launchTemplate: unknown): Readonly<Record<string, unknown>> {
  return typeof launchTemplate === 'object' && launchTemplate !== null
    ? (launchTemplate as Record<string, unknown>)
    : {};
}
