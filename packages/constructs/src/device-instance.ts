import {
  certificatesFolder,
  DEFAULT_DEVICE_RUNNER_PROTOCOL,
  DEVICE_RUNNER_METADATA_KEY,
  type DeviceRunnerConfig,
  type DeviceRunnerMetadata,
  type DeviceRunnerProtocol,
} from '@thingcert/contracts';
import { Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import {
  acknowledgeDeviceHostFindings,
  deviceCpuType,
  deviceRole,
  deviceRootVolume,
  deviceSecurityGroup,
  grantReadRunnerBundle,
  runnerBundleAsset,
  validatedHostSettings,
  writeRunnerUserData,
  type DeviceHostSettings,
} from './device-host';
import { deviceImage } from './device-image';
import { InvalidConstructPropsError } from './errors';
import type { IotDevice } from './iot-device';
import { assertValidTopic } from './iot-names';
import { requireUniqueLaunchTemplateNames } from './launch-template-name-flag';

/** Props of {@link DeviceInstance}. */
export interface DeviceInstanceProps {
  /** The IoT device this instance runs as. */
  readonly device: IotDevice;

  /** VPC to launch into. Its subnets need a route to the internet (IoT, S3, SSM, dnf). */
  readonly vpc: ec2.IVpc;

  /**
   * Subnets to launch into.
   *
   * @default public subnets, with a public IP, no ingress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * Security group for the instance; it should have no ingress rules.
   *
   * @default a new group with no ingress and egress only to TCP 443 and the MQTT port
   */
  readonly securityGroup?: ec2.ISecurityGroup;

  /**
   * Instance type. Its architecture picks the Amazon Linux 2023 image.
   *
   * @default t4g.micro (arm64)
   */
  readonly instanceType?: ec2.InstanceType;

  /**
   * Topic the runner publishes to and subscribes to; must be one of the device's topics.
   *
   * @default the device's first topic
   */
  readonly topic?: string;

  /**
   * Messages the runner publishes (and expects back) per run.
   *
   * @default 5
   */
  readonly messageCount?: number;

  /**
   * Message text; the runner numbers each message.
   *
   * @default 'Hello World!'
   */
  readonly message?: string;

  /**
   * Milliseconds between messages.
   *
   * @default the runner's default
   */
  readonly messageIntervalMs?: number;

  /**
   * MQTT protocol.
   *
   * @default DEFAULT_DEVICE_RUNNER_PROTOCOL ('mqtt3', from `@thingcert/contracts`)
   */
  readonly protocol?: DeviceRunnerProtocol;

  /**
   * MQTT port (8883, or 443 with ALPN); the security group allows it out.
   *
   * @default 8883
   */
  readonly port?: number;

  /**
   * Size of the encrypted gp3 root volume in GiB.
   *
   * @default 8
   */
  readonly rootVolumeSizeGiB?: number;

  /**
   * One-minute CloudWatch metrics (charged). When `false` the construct
   * acknowledges cdk-nag `AwsSolutions-EC28`.
   *
   * @default false
   */
  readonly detailedMonitoring?: boolean;

  /**
   * Directory of the device runner bundle to deploy.
   *
   * @default the `@thingcert/device-runner` bundle (`dist/bundle`)
   */
  readonly runnerBundleDirectory?: string;
}

/**
 * An EC2 instance that is one IoT device: Amazon Linux 2023 (arm64 by
 * default), IMDSv2 required, encrypted EBS, SSM Session Manager and no SSH (no
 * key pair, no ingress). User data installs Node.js 22, fetches the device
 * runner bundle (a CDK asset), writes its configuration (with the thing's
 * credential pointer, so a rotation changes neither it nor the instance) and
 * runs it as a systemd service that is restarted after a failure, after a
 * delay and without ever giving up. The instance role can read only this
 * device's pointer and certificate folders, and the bundle.
 *
 * @example
 * new DeviceInstance(stack, 'Sensor1Instance', { device, vpc });
 */
export class DeviceInstance extends Construct {
  /** The instance. */
  readonly instance: ec2.Instance;
  /** Its role. */
  readonly role: iam.Role;
  /** Its security group. */
  readonly securityGroup: ec2.ISecurityGroup;
  /** The runner configuration written to the instance (values may be tokens). */
  readonly runnerConfig: DeviceRunnerConfig;
  /** The device runner bundle asset. */
  readonly runnerAsset: s3assets.Asset;

  constructor(scope: Construct, id: string, props: DeviceInstanceProps) {
    super(scope, id);
    requireUniqueLaunchTemplateNames(this);
    const device = props.device;
    const certificate = device.certificate;
    const { topic, messageCount, message, port, rootVolumeSizeGiB } = validatedSettings(props);
    const instanceType = props.instanceType ?? new ec2.InstanceType('t4g.micro');
    this.runnerAsset = runnerBundleAsset(this, props.runnerBundleDirectory);
    this.role = deviceRole(this, `thingcert device ${device.thingName}`);
    device.grantReadCredentials(this.role);
    const bucket = certificate.provisioner.bucket.bucket;
    const bucketLogicalId = Stack.of(this).getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
    const folder = certificatesFolder({
      thingName: device.thingName,
      keyPrefix: certificate.keyPrefix,
    });
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${bucketLogicalId}.Arn>/${folder}*]`,
      reason: `Certificate ids are made by AWS IoT at each rotation: the device reads its pointer and whichever certificate folder under ${folder} it names, and no other thing's objects.`,
    });
    grantReadRunnerBundle(this.role, this.runnerAsset);

    this.securityGroup = props.securityGroup ?? deviceSecurityGroup(this, props.vpc, port);

    const region = Stack.of(this).region;
    this.runnerConfig = {
      bucket: certificate.provisioner.bucket.bucketName,
      thing: device.thingName,
      // The pointer the provisioner answered, the same for every certificate
      // of the thing: a rotation changes neither this configuration (and so
      // the user data) nor the instance, and the runner follows the pointer.
      credentialPointerObjectKey: certificate.credentialPointerObjectKey,
      endpoint: device.endpoint,
      ...(port === 8883 ? {} : { port }),
      topic,
      count: messageCount,
      message,
      ...(props.messageIntervalMs === undefined ? {} : { interval: props.messageIntervalMs }),
      protocol: props.protocol ?? DEFAULT_DEVICE_RUNNER_PROTOCOL,
      region,
      forever: true,
    };

    const userData = ec2.UserData.forLinux({ shebang: '#!/bin/bash' });
    this.instance = new ec2.Instance(this, 'Instance', {
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PUBLIC },
      instanceType,
      machineImage: deviceImage(this, deviceCpuType(instanceType)),
      role: this.role,
      securityGroup: this.securityGroup,
      requireImdsv2: true,
      detailedMonitoring: props.detailedMonitoring ?? false,
      blockDevices: deviceRootVolume(rootVolumeSizeGiB),
      propagateTagsToVolumeOnCreation: true,
      userData,
      // User data runs at first boot only: a new configuration needs a new instance.
      userDataCausesReplacement: true,
    });
    writeRunnerUserData(this, userData, this.runnerAsset, this.runnerConfig);

    // Create after, and delete before, the attachments the device needs to connect.
    this.instance.node.addDependency(device.policyAttachment, device.thingAttachment);

    const metadata: DeviceRunnerMetadata = {
      config: this.runnerConfig,
      asset: { s3Bucket: this.runnerAsset.s3BucketName, s3Key: this.runnerAsset.s3ObjectKey },
    };
    this.instance.instance.addMetadata(DEVICE_RUNNER_METADATA_KEY, metadata);

    acknowledgeDeviceHostFindings(this.instance, props.detailedMonitoring ?? false);
  }

  /** Id of the EC2 instance. */
  get instanceId(): string {
    return this.instance.instanceId;
  }
}

/** The device settings of {@link DeviceInstanceProps}, checked early and with defaults applied. */
interface DeviceSettings extends DeviceHostSettings {
  readonly topic: string;
}

/**
 * Validates the props a synth would otherwise carry into a broken device (a
 * topic its policy refuses, an AWS IoT limit exceeded), so the mistake is an
 * error at construction time.
 */
function validatedSettings(props: DeviceInstanceProps): DeviceSettings {
  const topic = props.topic ?? props.device.topics[0];
  if (topic === undefined) {
    throw new InvalidConstructPropsError('The device has no topics');
  }
  assertValidTopic(topic);
  if (!props.device.topics.includes(topic)) {
    throw new InvalidConstructPropsError(
      `topic ${JSON.stringify(topic)} is not one of the device's topics (${props.device.topics.join(', ')}): its policy would refuse it`,
    );
  }
  return { topic, ...validatedHostSettings(props) };
}
