import { DeviceFleet, UNPINNED_DEVICE_IMAGE_WARNING } from '@thingcert/constructs';
import { CfnOutput, Duration, Fn, Stack, Token, Validations, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { AppConfig } from './app-config';

/** Props of {@link ThingcertStack}. */
export interface ThingcertStackProps extends StackProps {
  /** What to deploy. */
  readonly config: AppConfig;

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
 * The seed's topology, least-privilege: a VPC with public subnets only (flow
 * logs on, no NAT), a credentials bucket, one provisioner Lambda, and per
 * thing a certificate, IoT policy, attachments and an EC2 device.
 *
 * @example
 * new ThingcertStack(app, 'Thingcert', { config: DEFAULT_APP_CONFIG });
 */
export class ThingcertStack extends Stack {
  /** The devices. */
  readonly fleet: DeviceFleet;

  constructor(scope: Construct, id: string, props: ThingcertStackProps) {
    super(scope, id, props);
    const { config } = props;

    if (Token.isUnresolved(this.account)) {
      // main.ts gives the stack the account the CLI resolved, which it always
      // has when it deploys: only an offline `cdk synth` (no credentials) is
      // environment-agnostic, and its template is never deployed.
      Validations.of(this).acknowledge({
        id: `Annotation::${UNPINNED_DEVICE_IMAGE_WARNING}`,
        reason:
          'Only an offline synth is environment-agnostic; every deploy has an account and pins the device image in cdk.context.json.',
      });
    }

    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 1,
      natGateways: 0,
      subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }],
      // Nothing uses the default group; restricting it would add a CDK-managed Lambda.
      restrictDefaultSecurityGroup: false,
    });
    vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(
        new logs.LogGroup(this, 'FlowLogs', { retention: logs.RetentionDays.ONE_MONTH }),
      ),
    });

    this.fleet = new DeviceFleet(this, 'Fleet', {
      vpc,
      thingNames: config.thingNames,
      topic: config.topic,
      messageCount: config.messageCount,
      instanceType: new ec2.InstanceType(config.instanceType),
      keyMode: config.keyMode,
      protocol: config.protocol,
      keyPrefix: config.keyPrefix,
      rotationToken: config.rotationToken,
      ...(config.credentialCheckIntervalMs === undefined
        ? {}
        : { credentialCheckInterval: Duration.millis(config.credentialCheckIntervalMs) }),
      provisionerCode: props.provisionerCode,
      runnerBundleDirectory: props.runnerBundleDirectory,
    });

    new CfnOutput(this, 'BucketName', {
      description: 'Bucket holding the device credentials',
      value: this.fleet.bucket.bucketName,
    });
    const [first] = this.fleet.devices;
    if (first) {
      new CfnOutput(this, 'Endpoint', {
        description: 'AWS IoT data endpoint (iot:Data-ATS)',
        value: first.endpoint,
      });
    }
    const single = this.fleet.devices.length === 1;
    this.fleet.devices.forEach((device, index) => {
      const suffix = single ? '' : outputSuffix(device.thingName);
      new CfnOutput(this, `CertificateArn${suffix}`, {
        description: `Certificate of thing ${device.thingName}`,
        value: device.certificateArn,
      });
      const instance = this.fleet.instances[index];
      if (instance) {
        new CfnOutput(this, `InstanceId${suffix}`, {
          description: `EC2 device of thing ${device.thingName}`,
          value: instance.instanceId,
        });
      }
    });
  }

  /**
   * The region's first two zones, chosen by CloudFormation at deploy time
   * (`Fn::GetAZs`) as in an environment-agnostic stack, also when the stack
   * has an account: the one-zone VPC needs no synth-time zone lookup (and no
   * `cdk.context.json` entry for it), and its subnet keeps the template it had.
   */
  override get availabilityZones(): string[] {
    return [Fn.select(0, Fn.getAzs()), Fn.select(1, Fn.getAzs())];
  }
}

/** Output ids are alphanumeric: `dev-1` → `Dev1`. */
function outputSuffix(thingName: string): string {
  return thingName
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}
