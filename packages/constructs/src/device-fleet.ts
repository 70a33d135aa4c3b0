import type { DeviceRunnerProtocol, KeyAlgorithm, KeyMode } from '@thingcert/contracts';
import type { Duration } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { CertificateBucket } from './certificate-bucket';
import { CertificateProvisioner } from './certificate-provisioner';
import { DeviceInstance } from './device-instance';
import { InvalidConstructPropsError } from './errors';
import { IotDevice } from './iot-device';
import { assertValidThingName, assertValidTopic } from './iot-names';

/**
 * Hard ceiling on devices per stack: each costs about a dozen CloudFormation
 * resources and the stack limit is 500.
 */
export const MAX_DEVICES_PER_STACK = 35;

/** Props of {@link DeviceFleet}. */
export interface DeviceFleetProps {
  /** VPC for the device instances. */
  readonly vpc: ec2.IVpc;

  /** One device (thing, certificate, instance) per name. */
  readonly thingNames: readonly string[];

  /**
   * Topic every device publishes to and subscribes to.
   *
   * @default 'test/topic'
   */
  readonly topic?: string;

  /**
   * Messages each device sends per run.
   *
   * @default 5
   */
  readonly messageCount?: number;

  /**
   * Message text.
   *
   * @default 'Hello World!'
   */
  readonly message?: string;

  /**
   * MQTT protocol of the runners.
   *
   * @default DEFAULT_DEVICE_RUNNER_PROTOCOL ('mqtt3', from `@thingcert/contracts`)
   */
  readonly protocol?: DeviceRunnerProtocol;

  /**
   * Instance type of every device.
   *
   * @default t4g.micro
   */
  readonly instanceType?: ec2.InstanceType;

  /**
   * Who makes the key pairs.
   *
   * @default 'server'
   */
  readonly keyMode?: KeyMode;

  /**
   * Key algorithm.
   *
   * @default 'RSA_2048' in `server` mode, 'EC_P256' in `csr` mode
   */
  readonly keyAlgorithm?: KeyAlgorithm;

  /**
   * Prefix of every thing's folder in the credentials bucket: empty, or
   * literal path segments ending with `/` (`fleet-a/`). Changing it moves
   * each device's credentials: a new certificate under the new prefix, the
   * old prefix's objects removed with the old certificate.
   *
   * @default ''
   */
  readonly keyPrefix?: string;

  /**
   * Changing this value gives every device of the fleet a new certificate
   * (the old ones are revoked after the new ones are stored).
   *
   * @default - no rotation token
   */
  readonly rotationToken?: string;

  /**
   * How often each device checks its credential pointer; sizes each device's
   * credential switch window (see `IotDeviceProps.credentialCheckInterval`).
   *
   * @default 30 seconds
   */
  readonly credentialCheckInterval?: Duration;

  /**
   * Refuse fleets larger than this. AWS IoT throttles certificate creation
   * (about 10 per second per account) and CloudFormation creates the
   * certificates in parallel, so large fleets belong in several stacks.
   *
   * @default 10
   */
  readonly maxDevices?: number;

  /**
   * Credentials bucket shared by all devices.
   *
   * @default a new {@link CertificateBucket}
   */
  readonly bucket?: CertificateBucket;

  /**
   * Code of the provisioner Lambda.
   *
   * @default the `@thingcert/cert-provisioner` bundle
   */
  readonly provisionerCode?: lambda.Code;

  /**
   * Directory of the device runner bundle.
   *
   * @default the `@thingcert/device-runner` bundle
   */
  readonly runnerBundleDirectory?: string;
}

/**
 * N devices sharing one credentials bucket and one provisioner Lambda; one
 * {@link IotDevice} (thing, policy, certificate) and one {@link DeviceInstance}
 * each.
 *
 * @example
 * const fleet = new DeviceFleet(stack, 'Fleet', {
 *   vpc,
 *   thingNames: ['sensor-1', 'sensor-2'],
 *   topic: 'sensors/telemetry',
 * });
 */
export class DeviceFleet extends Construct {
  /** The shared credentials bucket. */
  readonly bucket: CertificateBucket;
  /** The shared provisioner. */
  readonly provisioner: CertificateProvisioner;
  /** The devices, in `thingNames` order. */
  readonly devices: readonly IotDevice[];
  /** Their instances, in `thingNames` order. */
  readonly instances: readonly DeviceInstance[];

  constructor(scope: Construct, id: string, props: DeviceFleetProps) {
    super(scope, id);
    const maxDevices = props.maxDevices ?? 10;
    if (!Number.isInteger(maxDevices) || maxDevices < 1 || maxDevices > MAX_DEVICES_PER_STACK) {
      throw new InvalidConstructPropsError(
        `maxDevices must be an integer from 1 to ${MAX_DEVICES_PER_STACK} (got ${maxDevices})`,
      );
    }
    const names = props.thingNames;
    if (names.length === 0) {
      throw new InvalidConstructPropsError('thingNames must name at least one thing');
    }
    if (names.length > maxDevices) {
      throw new InvalidConstructPropsError(
        `${names.length} devices exceed maxDevices (${maxDevices}); raise maxDevices (at most ${MAX_DEVICES_PER_STACK}) or split the fleet across stacks`,
      );
    }
    names.forEach(assertValidThingName);
    const duplicates = names.filter((name, index) => names.indexOf(name) !== index);
    if (duplicates.length > 0) {
      throw new InvalidConstructPropsError(`Duplicate thing names: ${duplicates.join(', ')}`);
    }
    const topic = props.topic ?? 'test/topic';
    assertValidTopic(topic);

    this.bucket = props.bucket ?? new CertificateBucket(this, 'Credentials');
    this.provisioner = CertificateProvisioner.forBucket(this.bucket, {
      code: props.provisionerCode,
    });

    const devices: IotDevice[] = [];
    const instances: DeviceInstance[] = [];
    for (const thingName of names) {
      const device = new IotDevice(this, `Device-${thingName}`, {
        thingName,
        topics: [topic],
        provisioner: this.provisioner,
        keyMode: props.keyMode,
        keyAlgorithm: props.keyAlgorithm,
        keyPrefix: props.keyPrefix,
        rotationToken: props.rotationToken,
        credentialCheckInterval: props.credentialCheckInterval,
      });
      devices.push(device);
      instances.push(
        new DeviceInstance(this, `Instance-${thingName}`, {
          device,
          vpc: props.vpc,
          instanceType: props.instanceType,
          topic,
          messageCount: props.messageCount,
          message: props.message,
          protocol: props.protocol,
          runnerBundleDirectory: props.runnerBundleDirectory,
        }),
      );
    }
    this.devices = devices;
    this.instances = instances;
  }
}
