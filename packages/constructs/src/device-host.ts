import { Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import type { Construct } from 'constructs';
import { assertBundleDirectory, deviceRunnerBundleDirectory } from './bundle-directories';
import { InvalidConstructPropsError } from './errors';

/**
 * The hardened EC2 host every thingcert device runs on, shared by
 * `DeviceInstance` (one instance) and `ProvisionedFleet` (an Auto Scaling
 * group): its role, security group, root volume, the runner bundle asset and
 * the user data that installs the runner as a systemd service.
 */

/** Where the bundle and its configuration live on the instance (as in the systemd unit). */
const RUNNER_HOME = '/opt/thingcert/device-runner';
const CONFIG_FILE = '/etc/thingcert/device-runner.json';
/** The systemd unit the runner bundle ships. */
export const RUNNER_SERVICE_UNIT = 'thingcert-device-runner.service';
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

/** Runner and host settings both device constructs take. */
export interface DeviceHostSettingsProps {
  /** Messages per run. @default 5 */
  readonly messageCount?: number;
  /** Message text. @default 'Hello World!' */
  readonly message?: string;
  /** Milliseconds between messages. @default the runner's default */
  readonly messageIntervalMs?: number;
  /** MQTT port, 8883 or 443. @default 8883 */
  readonly port?: number;
  /** Root volume size in GiB. @default 8 */
  readonly rootVolumeSizeGiB?: number;
}

/** {@link DeviceHostSettingsProps}, checked, defaults applied. */
export interface DeviceHostSettings {
  readonly messageCount: number;
  readonly message: string;
  readonly port: number;
  readonly rootVolumeSizeGiB: number;
}

/**
 * Validates the settings a synth would otherwise carry into a broken device
 * (an AWS IoT limit exceeded, an image that does not fit), so the mistake is
 * an error at construction time.
 */
export function validatedHostSettings(props: DeviceHostSettingsProps): DeviceHostSettings {
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
  return { messageCount, message, port, rootVolumeSizeGiB };
}

/** The Amazon Linux CPU type for `instanceType`'s architecture. */
export function deviceCpuType(instanceType: ec2.InstanceType): ec2.AmazonLinuxCpuType {
  return instanceType.architecture === ec2.InstanceArchitecture.ARM_64
    ? ec2.AmazonLinuxCpuType.ARM_64
    : ec2.AmazonLinuxCpuType.X86_64;
}

/**
 * The runner bundle as a CDK asset (`RunnerBundle` under `scope`).
 *
 * @throws MissingBundleError naming the build command when the bundle is missing
 */
export function runnerBundleAsset(scope: Construct, directory?: string): s3assets.Asset {
  const bundleDirectory = directory ?? deviceRunnerBundleDirectory();
  assertBundleDirectory(
    bundleDirectory,
    'Device runner bundle',
    'pnpm exec nx run device-runner:build',
  );
  return new s3assets.Asset(scope, 'RunnerBundle', { path: bundleDirectory });
}

/**
 * The device role (`Role` under `scope`): SSM Session Manager (the only way
 * in); callers grant the credentials, then {@link grantReadRunnerBundle}.
 */
export function deviceRole(scope: Construct, description: string): iam.Role {
  const role = new iam.Role(scope, 'Role', {
    assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
    description,
    managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
  });
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
    reason:
      'AmazonSSMManagedInstanceCore is the AWS-maintained minimum for the SSM agent and Session Manager (the only way in: no SSH, no ingress); it lists no wildcard actions.',
  });
  return role;
}

/** Lets `role` read exactly the runner bundle object. */
export function grantReadRunnerBundle(role: iam.Role, runnerAsset: s3assets.Asset): void {
  // Exactly the bundle object; Asset.grantRead would add s3:GetObject*/List* wildcards.
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ReadRunnerBundle',
      actions: ['s3:GetObject'],
      resources: [
        Stack.of(role).formatArn({
          service: 's3',
          region: '',
          account: '',
          resource: runnerAsset.s3BucketName,
          resourceName: runnerAsset.s3ObjectKey,
        }),
      ],
    }),
  );
}

/**
 * A security group (`SecurityGroup` under `scope`) with no ingress and egress
 * only to TCP 443 and the MQTT port.
 */
export function deviceSecurityGroup(
  scope: Construct,
  vpc: ec2.IVpc,
  port: number,
): ec2.SecurityGroup {
  const group = new ec2.SecurityGroup(scope, 'SecurityGroup', {
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

/** The encrypted gp3 root volume, deleted with the instance. */
export function deviceRootVolume(sizeGiB: number): ec2.BlockDevice[] {
  return [
    {
      deviceName: '/dev/xvda',
      volume: ec2.BlockDeviceVolume.ebs(sizeGiB, {
        encrypted: true,
        volumeType: ec2.EbsDeviceVolumeType.GP3,
        deleteOnTermination: true,
      }),
    },
  ];
}

/**
 * Writes the user data that installs Node.js 22, fetches the runner bundle,
 * writes `config` (tokens rendered by CloudFormation at deploy time) and runs
 * the runner as a systemd service restarted after failures.
 * `beforeStart` runs after the unit is installed and before it starts (for
 * drop-ins of one instance's own, such as its device id).
 */
export function writeRunnerUserData(
  scope: Construct,
  userData: ec2.UserData,
  runnerAsset: s3assets.Asset,
  config: object,
  beforeStart: readonly string[] = [],
): void {
  const stack = Stack.of(scope);
  userData.addCommands('set -euo pipefail');
  const zip = userData.addS3DownloadCommand({
    bucket: runnerAsset.bucket,
    bucketKey: runnerAsset.s3ObjectKey,
    localFile: '/tmp/thingcert-device-runner.zip',
    region: stack.region,
  });
  // Tokens inside the JSON are rendered by CloudFormation at deploy time.
  const configJson = stack.toJsonString(config);
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
    `install -m 0644 ${RUNNER_HOME}/${RUNNER_SERVICE_UNIT} /etc/systemd/system/${RUNNER_SERVICE_UNIT}`,
    `mkdir -p /etc/systemd/system/${RUNNER_SERVICE_UNIT}.d`,
    `cat > /etc/systemd/system/${RUNNER_SERVICE_UNIT}.d/restart.conf <<'THINGCERT_RESTART'`,
    RESTART_DROP_IN,
    'THINGCERT_RESTART',
    ...beforeStart,
    'systemctl daemon-reload',
    `systemctl enable --now ${RUNNER_SERVICE_UNIT}`,
  );
}

/** Acknowledges the cdk-nag findings every device host carries, with the reasons. */
export function acknowledgeDeviceHostFindings(host: Construct, detailedMonitoring: boolean): void {
  if (!detailedMonitoring) {
    Validations.of(host).acknowledge({
      id: 'AwsSolutions-EC28',
      reason:
        'A test device publishing a handful of messages; five-minute basic metrics suffice. Set detailedMonitoring to turn it on.',
    });
  }
  Validations.of(host).acknowledge({
    id: 'AwsSolutions-EC29',
    reason:
      'The device instance is disposable and replaced on configuration changes; termination protection would block those replacements and stack deletion.',
  });
}
