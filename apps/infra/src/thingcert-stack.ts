import {
  CertificateBucket,
  DeviceFleet,
  ProvisionedFleet,
  UNPINNED_DEVICE_IMAGE_WARNING,
} from '@thingcert/constructs';
import { CfnOutput, Fn, Stack, Token, Validations, type StackProps } from 'aws-cdk-lib';
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

  /**
   * Code of the fleet functions (claim flow).
   *
   * @default the `@thingcert/cert-provisioner` fleet bundle
   */
  readonly fleetFunctionsCode?: lambda.Code;
}

/**
 * The seed's topology, least-privilege: a VPC with public subnets only (flow
 * logs on, no NAT), a credentials bucket, one provisioner Lambda, and per
 * thing a certificate, IoT policy, attachments and an EC2 device. With
 * `provisioning: 'claim'`, a {@link ProvisionedFleet} instead: the devices
 * register themselves by claim, in a constant number of resources.
 *
 * @example
 * new ThingcertStack(app, 'Thingcert', { config: DEFAULT_APP_CONFIG });
 */
export class ThingcertStack extends Stack {
  /** The devices of the seed flow (`provisioning: 'seed'`). */
  readonly fleet: DeviceFleet | undefined;
  /** The fleet of the claim flow (`provisioning: 'claim'`). */
  readonly provisionedFleet: ProvisionedFleet | undefined;

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

    if (config.provisioning === 'claim') {
      this.fleet = undefined;
      this.provisionedFleet = this.claimFleet(vpc, props);
    } else {
      this.provisionedFleet = undefined;
      this.fleet = this.seedFleet(vpc, props);
    }
  }

  private seedFleet(vpc: ec2.IVpc, props: ThingcertStackProps): DeviceFleet {
    const { config } = props;
    const fleet = new DeviceFleet(this, 'Fleet', {
      vpc,
      thingNames: config.thingNames,
      topic: config.topic,
      messageCount: config.messageCount,
      instanceType: new ec2.InstanceType(config.instanceType),
      keyMode: config.keyMode,
      protocol: config.protocol,
      rotationToken: config.rotationToken,
      provisionerCode: props.provisionerCode,
      runnerBundleDirectory: props.runnerBundleDirectory,
    });

    new CfnOutput(this, 'BucketName', {
      description: 'Bucket holding the device credentials',
      value: fleet.bucket.bucketName,
    });
    const [first] = fleet.devices;
    if (first) {
      new CfnOutput(this, 'Endpoint', {
        description: 'AWS IoT data endpoint (iot:Data-ATS)',
        value: first.endpoint,
      });
    }
    const single = fleet.devices.length === 1;
    fleet.devices.forEach((device, index) => {
      const suffix = single ? '' : outputSuffix(device.thingName);
      new CfnOutput(this, `CertificateArn${suffix}`, {
        description: `Certificate of thing ${device.thingName}`,
        value: device.certificateArn,
      });
      const instance = fleet.instances[index];
      if (instance) {
        new CfnOutput(this, `InstanceId${suffix}`, {
          description: `EC2 device of thing ${device.thingName}`,
          value: instance.instanceId,
        });
      }
    });
    return fleet;
  }

  private claimFleet(vpc: ec2.IVpc, props: ThingcertStackProps): ProvisionedFleet {
    const { config } = props;
    const bucket = new CertificateBucket(this, 'Credentials');
    const fleet = new ProvisionedFleet(this, 'Fleet', {
      bucket,
      vpc,
      maxDevices: config.maxDevices,
      desiredCapacity: config.things,
      thingNamePrefix: `${config.stackName}-`,
      topic: config.topic,
      messageCount: config.messageCount,
      instanceType: new ec2.InstanceType(config.instanceType),
      protocol: config.protocol,
      functionsCode: props.fleetFunctionsCode,
      provisionerCode: props.provisionerCode,
      runnerBundleDirectory: props.runnerBundleDirectory,
    });
    new CfnOutput(this, 'BucketName', {
      description: 'Bucket holding the claim credentials',
      value: bucket.bucketName,
    });
    new CfnOutput(this, 'Endpoint', {
      description: 'AWS IoT data endpoint (iot:Data-ATS)',
      value: fleet.claimCertificate.endpoint,
    });
    new CfnOutput(this, 'ThingGroupName', {
      description: 'Thing group of the registered devices',
      value: fleet.thingGroup.ref,
    });
    new CfnOutput(this, 'ProvisioningTemplateName', {
      description: 'Provisioning template the devices register through',
      value: fleet.template.ref,
    });
    new CfnOutput(this, 'AutoScalingGroupName', {
      description: 'Auto Scaling group of the devices',
      value: fleet.autoScalingGroupName,
    });
    return fleet;
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
