import {
  certificatesFolder,
  credentialPointerKey,
  DEFAULT_CREDENTIAL_CHECK_INTERVAL_MS,
  DEFAULT_DEVICE_RUNNER_PROTOCOL,
  DEVICE_RUNNER_METADATA_KEY,
  type DeviceRunnerConfig,
  type DeviceRunnerMetadata,
  type DeviceRunnerProtocol,
} from '@thingcert/contracts';
import { Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { assertBundleDirectory, deviceRunnerBundleDirectory } from './bundle-directories';
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

/** Where the bundle and its configuration live on the instance (as in the systemd unit). */
const RUNNER_HOME = '/opt/thingcert/device-runner';
const CONFIG_FILE = '/etc/thingcert/device-runner.json';
const SERVICE_UNIT = 'thingcert-device-runner.service';
/**
 * Drop-in over the unit the runner bundle ships: how systemd restarts a
 * runner that exits non-zero (it does when it stays refused with credentials
 * that did not change, e.g. after a rotation it could not follow). AL2023
 * ships systemd 252: `RestartSteps=`/`RestartMaxDelaySec=` (a growing
 * backoff) need 254, so the delay is fixed, long enough that a broken device
 * costs a few requests a minute, never a tight loop. `StartLimitIntervalSec=0`
 * turns the start rate limit off: systemd would otherwise give up for good
 * after a burst of failures, and a device that cannot connect now (IoT or
 * network down, a rotation in flight) must keep trying.
 */
const RESTART_DROP_IN = [
  '[Unit]',
  'StartLimitIntervalSec=0',
  '[Service]',
  'Restart=on-failure',
  'RestartSec=15',
].join('\n');
const MAX_MESSAGE_BYTES = 128 * 1024;
const MAX_MESSAGE_COUNT = 100_000;

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
    const bundleDirectory = props.runnerBundleDirectory ?? deviceRunnerBundleDirectory();
    assertBundleDirectory(
      bundleDirectory,
      'Device runner bundle',
      'pnpm exec nx run device-runner:build',
    );

    const instanceType = props.instanceType ?? new ec2.InstanceType('t4g.micro');
    const cpuType =
      instanceType.architecture === ec2.InstanceArchitecture.ARM_64
        ? ec2.AmazonLinuxCpuType.ARM_64
        : ec2.AmazonLinuxCpuType.X86_64;

    this.runnerAsset = new s3assets.Asset(this, 'RunnerBundle', { path: bundleDirectory });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: `thingcert device ${device.thingName}`,
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
      reason:
        'AmazonSSMManagedInstanceCore is the AWS-maintained minimum for the SSM agent and Session Manager (the only way in: no SSH, no ingress); it lists no wildcard actions.',
    });
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
    // Exactly the bundle object; Asset.grantRead would add s3:GetObject*/List* wildcards.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadRunnerBundle',
        actions: ['s3:GetObject'],
        resources: [
          Stack.of(this).formatArn({
            service: 's3',
            region: '',
            account: '',
            resource: this.runnerAsset.s3BucketName,
            resourceName: this.runnerAsset.s3ObjectKey,
          }),
        ],
      }),
    );

    this.securityGroup = props.securityGroup ?? this.createSecurityGroup(props.vpc, port);

    const region = Stack.of(this).region;
    this.runnerConfig = {
      bucket: certificate.provisioner.bucket.bucketName,
      thing: device.thingName,
      // The thing's pointer, the same for every certificate of the thing: a
      // rotation changes neither this configuration (and so the user data)
      // nor the instance, and the runner follows the pointer. Written as the
      // literal key (what the provisioner answers as CredentialPointerObjectKey),
      // not that attribute: a new keyPrefix then changes the user data at
      // synth, and `userDataCausesReplacement` boots a new instance on the new
      // pointer. Through the attribute, the change would only show at deploy
      // time, as an in-place UserData update: a stop and start that keeps the
      // configuration of the first boot, on the old pointer, which the old
      // certificate's Delete then removes.
      credentialPointerObjectKey: credentialPointerKey({
        thingName: device.thingName,
        keyPrefix: certificate.keyPrefix,
      }),
      endpoint: device.endpoint,
      ...(port === 8883 ? {} : { port }),
      topic,
      count: messageCount,
      message,
      ...(props.messageIntervalMs === undefined ? {} : { interval: props.messageIntervalMs }),
      // Written only when not the runner's default, so that devices deployed
      // before the setting existed keep their user data (and their instance).
      ...(device.credentialCheckInterval.toMilliseconds() === DEFAULT_CREDENTIAL_CHECK_INTERVAL_MS
        ? {}
        : { credentialCheckInterval: device.credentialCheckInterval.toMilliseconds() }),
      protocol: props.protocol ?? DEFAULT_DEVICE_RUNNER_PROTOCOL,
      region,
      forever: true,
    };

    const userData = ec2.UserData.forLinux({ shebang: '#!/bin/bash' });
    this.instance = new ec2.Instance(this, 'Instance', {
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PUBLIC },
      instanceType,
      machineImage: deviceImage(this, cpuType),
      role: this.role,
      securityGroup: this.securityGroup,
      requireImdsv2: true,
      detailedMonitoring: props.detailedMonitoring ?? false,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: ec2.BlockDeviceVolume.ebs(rootVolumeSizeGiB, {
            encrypted: true,
            volumeType: ec2.EbsDeviceVolumeType.GP3,
            deleteOnTermination: true,
          }),
        },
      ],
      propagateTagsToVolumeOnCreation: true,
      userData,
      // User data runs at first boot only: a new configuration needs a new instance.
      userDataCausesReplacement: true,
    });
    this.writeUserData(userData);

    // Create after, and delete before, the attachments the device needs to connect.
    this.instance.node.addDependency(device.policyAttachment, device.thingAttachment);

    const metadata: DeviceRunnerMetadata = {
      config: this.runnerConfig,
      asset: { s3Bucket: this.runnerAsset.s3BucketName, s3Key: this.runnerAsset.s3ObjectKey },
    };
    this.instance.instance.addMetadata(DEVICE_RUNNER_METADATA_KEY, metadata);

    if (!(props.detailedMonitoring ?? false)) {
      Validations.of(this.instance).acknowledge({
        id: 'AwsSolutions-EC28',
        reason:
          'A test device publishing a handful of messages; five-minute basic metrics suffice. Set detailedMonitoring to turn it on.',
      });
    }
    Validations.of(this.instance).acknowledge({
      id: 'AwsSolutions-EC29',
      reason:
        'The device instance is disposable and replaced on configuration changes; termination protection would block those replacements and stack deletion.',
    });
  }

  /** Id of the EC2 instance. */
  get instanceId(): string {
    return this.instance.instanceId;
  }

  private createSecurityGroup(vpc: ec2.IVpc, port: number): ec2.SecurityGroup {
    const group = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc,
      description: 'thingcert device: no ingress; egress HTTPS and MQTT over TLS only',
      allowAllOutbound: false,
    });
    group.addEgressRule(
      ec2.Peer.anyIpv4(),
      ec2.Port.tcp(443),
      'HTTPS: S3, SSM, package repositories',
    );
    if (port !== 443) {
      group.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(port), 'MQTT over TLS to AWS IoT');
    }
    return group;
  }

  private writeUserData(userData: ec2.UserData): void {
    const stack = Stack.of(this);
    userData.addCommands('set -euo pipefail');
    const zip = userData.addS3DownloadCommand({
      bucket: this.runnerAsset.bucket,
      bucketKey: this.runnerAsset.s3ObjectKey,
      localFile: '/tmp/thingcert-device-runner.zip',
      region: stack.region,
    });
    // Tokens inside the JSON are rendered by CloudFormation at deploy time.
    const configJson = stack.toJsonString(this.runnerConfig);
    userData.addCommands(
      'dnf install -y nodejs22 unzip',
      // AL2023 names its Node.js binaries node-<major>; /usr/bin/node (used by
      // the systemd unit) is an `alternatives` link that must point at 22.
      'alternatives --set node /usr/bin/node-22',
      '/usr/bin/node --version | grep -q "^v22\\."',
      `rm -rf ${RUNNER_HOME} && mkdir -p ${RUNNER_HOME} /etc/thingcert`,
      `unzip -q ${zip} -d ${RUNNER_HOME}`,
      `rm -f ${zip}`,
      `cat > ${CONFIG_FILE} <<'THINGCERT_CONFIG'`,
      configJson,
      'THINGCERT_CONFIG',
      `chmod 0644 ${CONFIG_FILE}`,
      `install -m 0644 ${RUNNER_HOME}/${SERVICE_UNIT} /etc/systemd/system/${SERVICE_UNIT}`,
      `mkdir -p /etc/systemd/system/${SERVICE_UNIT}.d`,
      `cat > /etc/systemd/system/${SERVICE_UNIT}.d/restart.conf <<'THINGCERT_RESTART'`,
      RESTART_DROP_IN,
      'THINGCERT_RESTART',
      'systemctl daemon-reload',
      `systemctl enable --now ${SERVICE_UNIT}`,
    );
  }
}

/** The device settings of {@link DeviceInstanceProps}, checked early and with defaults applied. */
interface DeviceSettings {
  readonly topic: string;
  readonly messageCount: number;
  readonly message: string;
  readonly port: number;
  readonly rootVolumeSizeGiB: number;
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
  const messageCount = props.messageCount ?? 5;
  if (!Number.isInteger(messageCount) || messageCount < 1 || messageCount > MAX_MESSAGE_COUNT) {
    throw new InvalidConstructPropsError(
      `messageCount must be an integer from 1 to ${MAX_MESSAGE_COUNT} (got ${messageCount})`,
    );
  }
  const message = props.message ?? 'Hello World!';
  if (message.length === 0 || Buffer.byteLength(message, 'utf8') > MAX_MESSAGE_BYTES) {
    throw new InvalidConstructPropsError('message must be 1 byte to 128 KiB (AWS IoT limit)');
  }
  if (
    props.messageIntervalMs !== undefined &&
    (!Number.isInteger(props.messageIntervalMs) || props.messageIntervalMs < 0)
  ) {
    throw new InvalidConstructPropsError('messageIntervalMs must be a non-negative integer');
  }
  const port = props.port ?? 8883;
  if (port !== 8883 && port !== 443) {
    throw new InvalidConstructPropsError('port must be 8883 or 443 (AWS IoT MQTT over TLS)');
  }
  const rootVolumeSizeGiB = props.rootVolumeSizeGiB ?? 8;
  if (!Number.isInteger(rootVolumeSizeGiB) || rootVolumeSizeGiB < 8) {
    throw new InvalidConstructPropsError(
      'rootVolumeSizeGiB must be an integer of at least 8 (the AL2023 image size)',
    );
  }
  return { topic, messageCount, message, port, rootVolumeSizeGiB };
}
