import type { DeviceRunnerProtocol } from '@thingcert/contracts';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { CertificateBucket } from './certificate-bucket';
import {
  validatedHostSettings,
  type DeviceHostSettings,
  type DeviceHostSettingsProps,
} from './device-host';
import { InvalidConstructPropsError } from './errors';

/** Props of `ProvisionedFleet`. */
export interface ProvisionedFleetProps extends DeviceHostSettingsProps {
  /** Bucket for the claim certificate (made by the bucket's provisioner). */
  readonly bucket: CertificateBucket;

  /** VPC for the device instances. Its subnets need a route to the internet (IoT, S3, SSM, dnf). */
  readonly vpc: ec2.IVpc;

  /**
   * Most things the fleet's group may hold: the pre-provisioning hook refuses
   * the next registration. At least `desiredCapacity`.
   */
  readonly maxDevices: number;

  /**
   * Devices to run: the Auto Scaling group's desired (and minimum and maximum) size.
   *
   * @default 1
   */
  readonly desiredCapacity?: number;

  /**
   * Put in front of each device id (the EC2 instance id) to make its thing
   * name; the hook admits only such names, and the claim certificate may
   * connect only with client ids starting with it. 1–64 of `[A-Za-z0-9:_-]`.
   *
   * @default a name unique to the construct path, ending with '-'
   */
  readonly thingNamePrefix?: string;

  /**
   * Topic the devices publish to and subscribe to (the device policy allows only it).
   *
   * @default 'test/topic'
   */
  readonly topic?: string;

  /**
   * Keep running (reconnecting) after the messages are sent.
   *
   * @default true
   */
  readonly forever?: boolean;

  /**
   * MQTT protocol.
   *
   * @default DEFAULT_DEVICE_RUNNER_PROTOCOL ('mqtt3', from `@thingcert/contracts`)
   */
  readonly protocol?: DeviceRunnerProtocol;

  /**
   * Instance type. Its architecture picks the Amazon Linux 2023 image.
   *
   * @default t4g.micro (arm64)
   */
  readonly instanceType?: ec2.InstanceType;

  /**
   * Subnets to launch into.
   *
   * @default public subnets (their public IP setting applies), no ingress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * Security group of the instances; it should have no ingress rules.
   *
   * @default a new group with no ingress and egress only to TCP 443 and the MQTT port
   */
  readonly securityGroup?: ec2.ISecurityGroup;

  /**
   * One-minute CloudWatch metrics (charged).
   *
   * @default false
   */
  readonly detailedMonitoring?: boolean;

  /**
   * Code of the fleet functions (`pre-provisioning-hook.handler`,
   * `fleet-deregistration.handler`).
   *
   * @default the `@thingcert/cert-provisioner` fleet bundle (`dist/fleet`)
   */
  readonly functionsCode?: lambda.Code;

  /**
   * Code of the provisioner Lambda, when this fleet creates the bucket's provisioner.
   *
   * @default the `@thingcert/cert-provisioner` bundle
   */
  readonly provisionerCode?: lambda.Code;

  /**
   * Directory of the device runner bundle.
   *
   * @default the `@thingcert/device-runner` bundle (`dist/bundle`)
   */
  readonly runnerBundleDirectory?: string;
}

/** The fleet's sizes and host settings, checked, defaults applied. */
export interface FleetSettings extends DeviceHostSettings {
  readonly maxDevices: number;
  readonly desiredCapacity: number;
}

/** AWS IoT's default quota of things per account is far higher; this bounds the group listing the hook does. */
export const MAX_FLEET_DEVICES = 100_000;

/**
 * Validates the sizes and host settings early, so a synth fails with the
 * reason instead of a fleet that can never reach its size.
 */
export function validatedFleetSettings(props: ProvisionedFleetProps): FleetSettings {
  const { maxDevices } = props;
  if (!Number.isInteger(maxDevices) || maxDevices < 1 || maxDevices > MAX_FLEET_DEVICES) {
    throw new InvalidConstructPropsError(
      `maxDevices must be an integer from 1 to ${MAX_FLEET_DEVICES} (got ${maxDevices})`,
    );
  }
  const desiredCapacity = props.desiredCapacity ?? 1;
  if (!Number.isInteger(desiredCapacity) || desiredCapacity < 0) {
    throw new InvalidConstructPropsError(
      `desiredCapacity must be a non-negative integer (got ${desiredCapacity})`,
    );
  }
  if (desiredCapacity > maxDevices) {
    throw new InvalidConstructPropsError(
      `desiredCapacity (${desiredCapacity}) exceeds maxDevices (${maxDevices}): the hook would refuse the devices over it`,
    );
  }
  return { maxDevices, desiredCapacity, ...validatedHostSettings(props) };
}
