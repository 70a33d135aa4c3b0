import type { DeviceRunnerAssetLocation, DeviceRunnerConfig } from './device-runner-config';
import { THING_NAME_PATTERN } from './thing-name';

/**
 * The one parameter a fleet device sends in `RegisterThing`: the name of the
 * thing it asks to become. The provisioning template's thing is named from
 * it, the pre-provisioning hook checks it, and the deregistration that runs
 * on scale-in derives it from the instance id again, so all three use this
 * name.
 */
export const FLEET_THING_NAME_PARAMETER = 'ThingName';

/**
 * How a fleet device provisions itself by claim: the template to register
 * through, where its claim credentials are, and how it names its thing.
 * The claim certificate is an ordinary device certificate resource's
 * (same bucket, same pointer layout), readable only by the fleet's devices.
 */
export interface FleetClaimConfig {
  /** Name of the `AWS::IoT::ProvisioningTemplate` to register through. */
  readonly templateName: string;
  /**
   * S3 key of the claim certificate's credential pointer (the claim
   * certificate resource's `CredentialPointerObjectKey`), in the runner's
   * `bucket`.
   */
  readonly claimCredentialPointerObjectKey: string;
  /**
   * Put in front of the device id to make the thing name
   * (see {@link fleetThingName}).
   */
  readonly thingNamePrefix: string;
}

/**
 * The environment variable a fleet device's runner reads its device id from
 * (`--device-id`): on EC2 the fleet's user data writes the instance id into
 * it as a systemd drop-in (`Environment=THINGCERT_DEVICE_ID=<instance id>`),
 * and a local deployer sets it when it boots an Auto Scaling instance.
 */
export const FLEET_DEVICE_ID_ENVIRONMENT_VARIABLE = 'THINGCERT_DEVICE_ID';

/** Longest device id {@link fleetThingName} accepts (an EC2 instance id is 19 characters). */
export const FLEET_DEVICE_ID_MAX_LENGTH = 64;

const DEVICE_ID_PATTERN = new RegExp(`^[A-Za-z0-9_-]{1,${FLEET_DEVICE_ID_MAX_LENGTH}}$`);

/** A device id or thing name prefix that cannot make a valid fleet thing name. */
export class InvalidFleetThingNameError extends Error {
  override readonly name = 'InvalidFleetThingNameError';
}

/**
 * The thing name of a fleet device: `thingNamePrefix` + `deviceId` (on EC2,
 * the instance id). The device asks for it, the hook checks it with
 * {@link isFleetThingName}, and the scale-in deregistration computes it from
 * the terminating instance's id.
 *
 * @throws InvalidFleetThingNameError when the id is not 1–64 of
 * `[A-Za-z0-9_-]` or the result is not a valid thing name.
 *
 * @example
 * ```ts
 * fleetThingName('thingcert-fleet-', 'i-0123456789abcdef0'); // 'thingcert-fleet-i-0123456789abcdef0'
 * ```
 */
export function fleetThingName(thingNamePrefix: string, deviceId: string): string {
  if (!DEVICE_ID_PATTERN.test(deviceId)) {
    throw new InvalidFleetThingNameError(
      `device id ${JSON.stringify(deviceId)} is not 1-${FLEET_DEVICE_ID_MAX_LENGTH} of [A-Za-z0-9_-]`,
    );
  }
  const name = `${thingNamePrefix}${deviceId}`;
  if (!THING_NAME_PATTERN.test(name)) {
    throw new InvalidFleetThingNameError(
      `thing name ${JSON.stringify(name)} is not 1-128 of [a-zA-Z0-9:_-] (check the thing name prefix)`,
    );
  }
  return name;
}

/**
 * Whether `thingName` is one {@link fleetThingName} could make with this
 * prefix: what the pre-provisioning hook lets register.
 */
export function isFleetThingName(thingNamePrefix: string, thingName: string): boolean {
  if (!thingName.startsWith(thingNamePrefix)) return false;
  const deviceId = thingName.slice(thingNamePrefix.length);
  return DEVICE_ID_PATTERN.test(deviceId) && THING_NAME_PATTERN.test(thingName);
}

/**
 * Environment variables of the pre-provisioning hook and the deregistration
 * function; the construct sets them and the handlers read them.
 */
export const FLEET_FUNCTION_ENVIRONMENT = {
  /** The fleet's {@link FleetClaimConfig.thingNamePrefix}. */
  thingNamePrefix: 'THINGCERT_FLEET_THING_NAME_PREFIX',
  /** The fleet's thing group: where registered things go, what the hook counts. */
  thingGroupName: 'THINGCERT_FLEET_THING_GROUP',
  /** Most things the group may hold; the hook refuses the next. */
  maxDevices: 'THINGCERT_FLEET_MAX_DEVICES',
} as const;

/**
 * The runner configuration a fleet's launch template carries: everything a
 * single device's has except its thing and credentials, which the device
 * makes for itself by claim.
 */
export interface FleetDeviceRunnerConfig extends Omit<
  DeviceRunnerConfig,
  'thing' | 'credentialPointerObjectKey'
> {
  /** How to provision by claim. */
  readonly claim: FleetClaimConfig;
}

/**
 * CloudFormation Metadata key on a fleet's `AWS::AutoScaling::AutoScalingGroup`:
 * a {@link FleetDeviceRunnerMetadata}, so a local deployer can boot each
 * instance of the group by running the runner with it and a device id.
 */
export const FLEET_DEVICE_RUNNER_METADATA_KEY = 'Thingcert::FleetDeviceRunner';

/** Value stored under {@link FLEET_DEVICE_RUNNER_METADATA_KEY}. */
export interface FleetDeviceRunnerMetadata {
  /** The runner configuration every instance of the group gets. */
  readonly config: FleetDeviceRunnerConfig;
  /** The runner bundle asset. */
  readonly asset: DeviceRunnerAssetLocation;
}

/**
 * Resource type of the fleet cleanup custom resource: the deregistration
 * function, which on stack Delete deregisters every thing of the fleet's
 * group (Create and Update only answer). The construct orders it so that it
 * is deleted after the Auto Scaling group and before the template, group and
 * policies.
 */
export const FLEET_CLEANUP_RESOURCE_TYPE = 'Custom::ThingcertFleetCleanup';

/** `ResourceProperties` of a {@link FLEET_CLEANUP_RESOURCE_TYPE} resource (besides `ServiceToken`). */
export interface FleetCleanupProperties {
  /** The fleet's thing group, emptied on Delete. */
  readonly ThingGroupName: string;
  /**
   * The fleet's {@link FleetClaimConfig.thingNamePrefix}: only things whose
   * name {@link isFleetThingName} accepts are deregistered; any other thing
   * someone put in the group is left alone.
   */
  readonly ThingNamePrefix: string;
}

/**
 * Names of the {@link FleetCleanupProperties}, to read raw properties through,
 * so that a rename here breaks every package that uses them.
 */
export const FLEET_CLEANUP_PROPERTY = {
  thingGroupName: 'ThingGroupName',
  thingNamePrefix: 'ThingNamePrefix',
} as const satisfies Record<string, keyof FleetCleanupProperties>;

/**
 * `detail-type` of the EventBridge event Amazon EC2 Auto Scaling sends for a
 * terminating instance's lifecycle hook: the fleet's events rule matches it
 * and the deregistration function handles it.
 */
export const FLEET_TERMINATION_EVENT_DETAIL_TYPE = 'EC2 Instance-terminate Lifecycle Action';

/** What a fleet provisioning template body names. */
export interface FleetTemplateNames {
  /** The device policy every registered certificate gets (may be a CloudFormation token). */
  readonly devicePolicyName: string;
  /**
   * The fleet's thing group, which every registered thing joins (an existing
   * thing joins it too: `MERGE`). May be a CloudFormation token.
   * @default the thing joins no group
   */
  readonly thingGroupName?: string;
}

/**
 * The body of a fleet provisioning template, as the fleet construct deploys
 * it and tests register through it: parameter {@link FLEET_THING_NAME_PARAMETER}
 * (the device asks for its name; the hook checks it), a thing named from it,
 * the certificate from the device's CSR set ACTIVE, and the device policy by
 * name. Only the `Ref` intrinsic, which AWS allows in provisioning templates.
 */
export function fleetTemplateBody(names: FleetTemplateNames): Record<string, unknown> {
  const { thingGroupName } = names;
  return {
    Parameters: {
      [FLEET_THING_NAME_PARAMETER]: { Type: 'String' },
      'AWS::IoT::Certificate::Id': { Type: 'String' },
    },
    Resources: {
      thing: {
        Type: 'AWS::IoT::Thing',
        Properties: {
          ThingName: { Ref: FLEET_THING_NAME_PARAMETER },
          ...(thingGroupName === undefined ? {} : { ThingGroups: [thingGroupName] }),
        },
        ...(thingGroupName === undefined ? {} : { OverrideSettings: { ThingGroups: 'MERGE' } }),
      },
      certificate: {
        Type: 'AWS::IoT::Certificate',
        Properties: {
          CertificateId: { Ref: 'AWS::IoT::Certificate::Id' },
          Status: 'ACTIVE',
        },
      },
      policy: {
        Type: 'AWS::IoT::Policy',
        Properties: { PolicyName: names.devicePolicyName },
      },
    },
  };
}
