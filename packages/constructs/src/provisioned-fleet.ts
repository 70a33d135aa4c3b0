import {
  certificatesFolder,
  credentialPointerKey,
  DEFAULT_DEVICE_RUNNER_PROTOCOL,
  FLEET_CLEANUP_RESOURCE_TYPE,
  FLEET_DEVICE_ID_ENVIRONMENT_VARIABLE,
  FLEET_DEVICE_ID_MAX_LENGTH,
  FLEET_DEVICE_RUNNER_METADATA_KEY,
  FLEET_FUNCTION_ENVIRONMENT,
  FLEET_TERMINATION_EVENT_DETAIL_TYPE,
  fleetTemplateBody,
  type FleetCleanupProperties,
  type FleetDeviceRunnerConfig,
  type FleetDeviceRunnerMetadata,
} from '@thingcert/contracts';
import { ArnFormat, CustomResource, Duration, Names, Stack, Token, Validations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as iot from 'aws-cdk-lib/aws-iot';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { fleetFunctionsBundleDirectory } from './bundle-directories';
import type { CertificateBucket } from './certificate-bucket';
import { CertificateProvisioner } from './certificate-provisioner';
import { DeviceCertificate } from './device-certificate';
import {
  acknowledgeDeviceHostFindings,
  deviceCpuType,
  deviceRole,
  deviceRootVolume,
  deviceSecurityGroup,
  grantReadRunnerBundle,
  runnerBundleAsset,
  RUNNER_SERVICE_UNIT,
  writeRunnerUserData,
} from './device-host';
import { deviceImage } from './device-image';
import { devicePolicyDocument } from './device-policy-document';
import { InvalidConstructPropsError } from './errors';
import { FleetFunction } from './fleet-function';
import { claimPolicyDocument, provisioningRoleStatements } from './fleet-provisioning-documents';
import { assertValidTopic } from './iot-names';
import {
  validatedFleetSettings,
  type FleetSettings,
  type ProvisionedFleetProps,
} from './provisioned-fleet-props';

export type { ProvisionedFleetProps } from './provisioned-fleet-props';

/** Where the claim certificate's objects go in the bucket. */
const CLAIM_KEY_PREFIX = 'fleet-claim/';
/** The deregistration function's timeout: the cleanup resource empties the group in one invocation. */
const DEREGISTRATION_TIMEOUT = Duration.minutes(15);

/**
 * A fleet of devices that provision themselves by claim (AWS IoT fleet
 * provisioning), in the same number of CloudFormation resources whatever
 * its size: each device makes its own key and registers through a
 * provisioning template with a shared claim certificate, so no device
 * private key exists anywhere but on its device.
 *
 * It creates the thing group, the device policy (the least-privilege
 * document of `IotDevice`, with policy variables so one fits all), the
 * provisioning template with its role and its pre-provisioning hook (a
 * Lambda that admits only this fleet's thing names while the group holds
 * fewer than `maxDevices`), the claim certificate (our provisioner, in the
 * bucket, readable only by the fleet's instance role) attached to a policy
 * allowing nothing but the provisioning topics of this template, an Auto
 * Scaling group of hardened device instances (IMDSv2, no SSH, systemd
 * runner), and cleanup: a termination lifecycle hook whose EventBridge event
 * deregisters the instance's thing, and a custom resource that empties the
 * group when the stack is deleted.
 *
 * @example
 * const fleet = new ProvisionedFleet(stack, 'Fleet', {
 *   bucket: new CertificateBucket(stack, 'Credentials'),
 *   vpc,
 *   maxDevices: 100,
 *   desiredCapacity: 20,
 * });
 */
export class ProvisionedFleet extends Construct {
  /** The thing group every registered device joins. */
  readonly thingGroup: iot.CfnThingGroup;
  /** The device policy every registered certificate gets. */
  readonly devicePolicy: iot.CfnPolicy;
  /** The provisioning template. */
  readonly template: iot.CfnProvisioningTemplate;
  /** The role AWS IoT registers devices with. */
  readonly provisioningRole: iam.Role;
  /** The shared claim certificate. */
  readonly claimCertificate: DeviceCertificate;
  /** The claim certificate's policy. */
  readonly claimPolicy: iot.CfnPolicy;
  /** The claim policy's attachment to the claim certificate. */
  readonly claimPolicyAttachment: iot.CfnPolicyPrincipalAttachment;
  /** Name of the Auto Scaling group (literal: stack name and construct path). */
  readonly autoScalingGroupName: string;
  /** The pre-provisioning hook. */
  readonly hook: FleetFunction;
  /** The deregistration function (scale-in events and the cleanup resource). */
  readonly deregistration: FleetFunction;
  /** The cleanup custom resource. */
  readonly cleanup: CustomResource;
  /** The device instances. */
  readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  /** The instances' role. */
  readonly role: iam.Role;
  /** The instances' security group. */
  readonly securityGroup: ec2.ISecurityGroup;
  /** The runner configuration every instance gets (values may be tokens). */
  readonly runnerConfig: FleetDeviceRunnerConfig;
  /** The device runner bundle asset. */
  readonly runnerAsset: s3assets.Asset;
  /** Put in front of each device id (the instance id) to make its thing name. */
  readonly thingNamePrefix: string;
  /** Most things the hook lets the group hold. */
  readonly maxDevices: number;

  constructor(scope: Construct, id: string, props: ProvisionedFleetProps) {
    super(scope, id);
    const settings = validatedFleetSettings(props);
    const defaultPrefix = `${Names.uniqueResourceName(this, { maxLength: 40, separator: '-' })}-`;
    this.thingNamePrefix = props.thingNamePrefix ?? defaultPrefix;
    assertThingNamePrefix(this.thingNamePrefix);
    this.maxDevices = settings.maxDevices;
    const topic = props.topic ?? 'test/topic';
    assertValidTopic(topic);

    this.thingGroup = new iot.CfnThingGroup(this, 'ThingGroup', {
      thingGroupProperties: { thingGroupDescription: `thingcert fleet ${this.node.path}` },
    });
    this.devicePolicy = new iot.CfnPolicy(this, 'DevicePolicy', {
      policyDocument: devicePolicyDocument(this, [topic]),
    });
    const code = props.functionsCode ?? lambda.Code.fromAsset(fleetFunctionsBundleDirectory());
    const environment = {
      [FLEET_FUNCTION_ENVIRONMENT.thingNamePrefix]: this.thingNamePrefix,
      [FLEET_FUNCTION_ENVIRONMENT.thingGroupName]: this.thingGroup.ref,
      [FLEET_FUNCTION_ENVIRONMENT.maxDevices]: String(this.maxDevices),
    };
    this.hook = new FleetFunction(this, 'Hook', {
      description: 'thingcert fleet: pre-provisioning hook (thing name and fleet size)',
      code,
      handler: 'pre-provisioning-hook.handler',
      timeout: Duration.seconds(5),
      environment,
    });
    this.hook.allow('CountFleetThings', ['iot:ListThingsInThingGroup'], [this.thingGroup.attrArn]);
    this.hook.allow('FindRegisteredThing', ['iot:DescribeThing'], [this.fleetThingsArn()]);
    this.deregistration = new FleetFunction(this, 'Deregistration', {
      description: 'thingcert fleet: deregisters the things of terminated devices',
      code,
      handler: 'fleet-deregistration.handler',
      timeout: DEREGISTRATION_TIMEOUT,
      environment,
    });

    ({ template: this.template, role: this.provisioningRole } = this.createTemplate());
    ({
      certificate: this.claimCertificate,
      policy: this.claimPolicy,
      attachment: this.claimPolicyAttachment,
    } = this.createClaim(props));

    this.runnerAsset = runnerBundleAsset(this, props.runnerBundleDirectory);
    this.role = deviceRole(this, `thingcert fleet ${this.node.path}`);
    this.grantReadClaimCredentials(this.role);
    grantReadRunnerBundle(this.role, this.runnerAsset);
    this.securityGroup = props.securityGroup ?? deviceSecurityGroup(this, props.vpc, settings.port);
    this.runnerConfig = {
      bucket: props.bucket.bucketName,
      endpoint: this.claimCertificate.endpoint,
      ...(settings.port === 8883 ? {} : { port: settings.port }),
      topic,
      count: settings.messageCount,
      message: settings.message,
      ...(props.messageIntervalMs === undefined ? {} : { interval: props.messageIntervalMs }),
      protocol: props.protocol ?? DEFAULT_DEVICE_RUNNER_PROTOCOL,
      region: Stack.of(this).region,
      forever: props.forever ?? true,
      claim: {
        templateName: this.template.ref,
        claimCredentialPointerObjectKey: this.claimCertificate.credentialPointerObjectKey,
        thingNamePrefix: this.thingNamePrefix,
      },
    };
    this.autoScalingGroupName = `${Stack.of(this).stackName}-${Names.uniqueResourceName(this, { maxLength: 100, separator: '-' })}`;
    this.autoScalingGroup = this.createGroup(props, settings);
    this.cleanup = this.createCleanup();
    this.acknowledgeFindings(props.bucket);
  }

  /**
   * Lets `grantee` read the claim credentials (pointer and certificate
   * folder) and decrypt them through S3; the fleet's instance role has it.
   */
  grantReadClaimCredentials(grantee: iam.IGrantable): iam.Grant {
    const location = {
      thingName: this.claimCertificate.thingName,
      keyPrefix: this.claimCertificate.keyPrefix,
    };
    return this.claimCertificate.provisioner.bucket.grantReadObjects(grantee, [
      credentialPointerKey(location),
      `${certificatesFolder(location)}*`,
    ]);
  }

  private createTemplate(): { template: iot.CfnProvisioningTemplate; role: iam.Role } {
    const role = new iam.Role(this, 'ProvisioningRole', {
      assumedBy: new iam.ServicePrincipal('iot.amazonaws.com'),
      description: `thingcert fleet ${this.node.path}: registers devices through its template`,
    });
    for (const statement of provisioningRoleStatements(
      this,
      this.thingNamePrefix,
      this.thingGroup.attrArn,
    )) {
      role.addToPrincipalPolicy(statement);
    }
    // AWS IoT invokes the hook; any provisioning template of this account may,
    // since naming this one would need its name before it exists.
    const permission = new lambda.CfnPermission(this, 'HookPermission', {
      action: 'lambda:InvokeFunction',
      functionName: this.hook.function.functionArn,
      principal: 'iot.amazonaws.com',
      sourceAccount: Stack.of(this).account,
      sourceArn: Stack.of(this).formatArn({
        service: 'iot',
        resource: 'provisioningtemplate',
        resourceName: '*',
      }),
    });
    const template = new iot.CfnProvisioningTemplate(this, 'Template', {
      description: `thingcert fleet ${this.node.path}`,
      enabled: true,
      templateType: 'FLEET_PROVISIONING',
      provisioningRoleArn: role.roleArn,
      templateBody: Stack.of(this).toJsonString(
        fleetTemplateBody({
          thingGroupName: this.thingGroup.ref,
          devicePolicyName: this.devicePolicy.ref,
        }),
      ),
      preProvisioningHook: {
        targetArn: this.hook.function.functionArn,
        payloadVersion: '2020-04-01',
      },
    });
    // Registrations need the role's policy and the hook's permission from the start.
    template.node.addDependency(role, permission);
    return { template, role };
  }

  private createClaim(props: ProvisionedFleetProps): {
    certificate: DeviceCertificate;
    policy: iot.CfnPolicy;
    attachment: iot.CfnPolicyPrincipalAttachment;
  } {
    const certificate = new DeviceCertificate(this, 'ClaimCertificate', {
      provisioner: CertificateProvisioner.forBucket(props.bucket, { code: props.provisionerCode }),
      thingName: `${this.thingNamePrefix}claim`,
      keyPrefix: CLAIM_KEY_PREFIX,
    });
    const policy = new iot.CfnPolicy(this, 'ClaimPolicy', {
      policyDocument: claimPolicyDocument(this, this.thingNamePrefix, this.template.ref),
    });
    const attachment = new iot.CfnPolicyPrincipalAttachment(this, 'ClaimPolicyAttachment', {
      policyName: policy.ref,
      principal: certificate.certificateArn,
    });
    return { certificate, policy, attachment };
  }

  private createGroup(
    props: ProvisionedFleetProps,
    settings: FleetSettings,
  ): autoscaling.AutoScalingGroup {
    const instanceType = props.instanceType ?? new ec2.InstanceType('t4g.micro');
    const userData = ec2.UserData.forLinux({ shebang: '#!/bin/bash' });
    writeRunnerUserData(this, userData, this.runnerAsset, this.runnerConfig, [
      // The device id is the instance id, read through IMDSv2 (a session token first).
      "IMDS_TOKEN=$(curl -sSf -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 60')",
      'INSTANCE_ID=$(curl -sSf -H "X-aws-ec2-metadata-token: $IMDS_TOKEN" http://169.254.169.254/latest/meta-data/instance-id)',
      `printf '[Service]\\nEnvironment=${FLEET_DEVICE_ID_ENVIRONMENT_VARIABLE}=%s\\n' "$INSTANCE_ID" > /etc/systemd/system/${RUNNER_SERVICE_UNIT}.d/device-id.conf`,
    ]);
    const launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      machineImage: deviceImage(this, deviceCpuType(instanceType)),
      instanceType,
      role: this.role,
      securityGroup: this.securityGroup,
      userData,
      requireImdsv2: true,
      detailedMonitoring: props.detailedMonitoring ?? false,
      blockDevices: deviceRootVolume(settings.rootVolumeSizeGiB),
    });
    const group = new autoscaling.AutoScalingGroup(this, 'Group', {
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PUBLIC },
      launchTemplate,
      // A literal name: the deregistration role names the group, and the group
      // depends on the cleanup resource, which depends on that role.
      autoScalingGroupName: this.autoScalingGroupName,
      minCapacity: settings.desiredCapacity,
      maxCapacity: settings.desiredCapacity,
    });
    const cfnGroup = group.node.defaultChild as autoscaling.CfnAutoScalingGroup;
    cfnGroup.desiredCapacity = String(settings.desiredCapacity);
    const metadata: FleetDeviceRunnerMetadata = {
      config: this.runnerConfig,
      asset: { s3Bucket: this.runnerAsset.s3BucketName, s3Key: this.runnerAsset.s3ObjectKey },
    };
    cfnGroup.addMetadata(FLEET_DEVICE_RUNNER_METADATA_KEY, metadata);
    // Devices boot once they can claim: the claim policy attached, the template ready,
    // and the instance role's policy granting the claim credentials.
    group.node.addDependency(this.claimPolicyAttachment, this.template, this.role);
    acknowledgeDeviceHostFindings(launchTemplate, props.detailedMonitoring ?? false);
    return group;
  }

  /** ARN pattern of every thing this fleet's devices can register. */
  private fleetThingsArn(): string {
    return Stack.of(this).formatArn({
      service: 'iot',
      resource: 'thing',
      resourceName: `${this.thingNamePrefix}*`,
    });
  }

  private acknowledgeFindings(bucket: CertificateBucket): void {
    const stack = Stack.of(this);
    // cdk-nag names a finding after the ARN as rendered: pseudo parameters
    // as <AWS::X>, concrete values (a stack with an explicit env) as they are.
    const shown = (value: string, pseudo: string): string =>
      Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value;
    const arn = (service: string, resource: string): string =>
      `arn:${shown(stack.partition, 'Partition')}:${service}:${shown(stack.region, 'Region')}:${shown(stack.account, 'AccountId')}:${resource}`;
    const things = {
      id: `AwsSolutions-IAM5[Resource::${arn('iot', `thing/${this.thingNamePrefix}*`)}]`,
      reason: `Fleet things are named by their devices at registration; every name starts with the fleet's prefix ${this.thingNamePrefix}, which the hook enforces.`,
    };
    const certificates = {
      id: `AwsSolutions-IAM5[Resource::${arn('iot', 'cert/*')}]`,
      reason:
        'Certificate ids are made by AWS IoT when a device sends its CSR, so certificates can only be scoped to this account and region.',
    };
    Validations.of(this.provisioningRole).acknowledge(things, certificates);
    Validations.of(this.hook.role).acknowledge(things);
    Validations.of(this.deregistration.role).acknowledge(things, certificates, {
      id: `AwsSolutions-IAM5[Resource::${arn('autoscaling', `autoScalingGroup:*:autoScalingGroupName/${this.autoScalingGroupName}`)}]`,
      reason:
        'The group id in an Auto Scaling group ARN is made at creation; the ARN is scoped to this fleet by its literal name.',
    });
    Validations.of(this.autoScalingGroup).acknowledge({
      id: 'AwsSolutions-AS3',
      reason:
        'Terminations are handled by the lifecycle hook and its EventBridge rule (deregistration); the fleet needs no SNS notifications.',
    });
    const bucketLogicalId = stack.getLogicalId(bucket.bucket.node.defaultChild as s3.CfnBucket);
    const folder = certificatesFolder({
      thingName: this.claimCertificate.thingName,
      keyPrefix: this.claimCertificate.keyPrefix,
    });
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${bucketLogicalId}.Arn>/${folder}*]`,
      reason: `Certificate ids are made by AWS IoT: the devices read the claim pointer and the claim certificate folder under ${folder}, nothing else of the bucket.`,
    });
  }

  private createCleanup(): CustomResource {
    const group = this.autoScalingGroup;
    const stack = Stack.of(this);
    new autoscaling.CfnLifecycleHook(this, 'TerminationHook', {
      autoScalingGroupName: group.autoScalingGroupName,
      lifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
      defaultResult: 'CONTINUE',
      heartbeatTimeout: 300,
    });
    new events.Rule(this, 'TerminationRule', {
      description: 'thingcert fleet: deregister the thing of a terminating device',
      eventPattern: {
        source: ['aws.autoscaling'],
        detailType: [FLEET_TERMINATION_EVENT_DETAIL_TYPE],
        detail: { AutoScalingGroupName: [this.autoScalingGroupName] },
      },
      targets: [new targets.LambdaFunction(this.deregistration.function)],
    });
    const things = this.fleetThingsArn();
    this.deregistration.allow(
      'ListFleetThings',
      ['iot:ListThingsInThingGroup'],
      [this.thingGroup.attrArn],
    );
    this.deregistration.allow(
      'DeregisterFleetThings',
      ['iot:ListThingPrincipals', 'iot:DetachThingPrincipal', 'iot:DeleteThing'],
      [things],
    );
    // DetachThingPrincipal is evaluated on the certificate as well (the local
    // IoT does; AWS does not document which of the two).
    this.deregistration.allow(
      'RemoveFleetCertificates',
      ['iot:DetachThingPrincipal', 'iot:UpdateCertificate', 'iot:DeleteCertificate'],
      [stack.formatArn({ service: 'iot', resource: 'cert', resourceName: '*' })],
    );
    this.deregistration.allow(
      'CompleteTermination',
      ['autoscaling:CompleteLifecycleAction'],
      [
        stack.formatArn({
          service: 'autoscaling',
          resource: 'autoScalingGroup',
          resourceName: `*:autoScalingGroupName/${this.autoScalingGroupName}`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
    );
    const properties: FleetCleanupProperties = {
      ThingGroupName: this.thingGroup.ref,
      ThingNamePrefix: this.thingNamePrefix,
    };
    const cleanup = new CustomResource(this, 'Cleanup', {
      resourceType: FLEET_CLEANUP_RESOURCE_TYPE,
      serviceToken: this.deregistration.function.functionArn,
      serviceTimeout: Duration.seconds(DEREGISTRATION_TIMEOUT.toSeconds() + 300),
      properties,
    });
    // Deleted after the group (no instance left to register) and before the
    // function's permissions, the template, the device policy and the group.
    group.node.addDependency(cleanup);
    cleanup.node.addDependency(this.deregistration, this.template, this.devicePolicy);
    return cleanup;
  }
}

/** Device ids are appended to the prefix: it must leave room for the longest. */
const PREFIX_PATTERN = /^[A-Za-z0-9:_-]+$/;
const MAX_PREFIX_LENGTH = 128 - FLEET_DEVICE_ID_MAX_LENGTH;

function assertThingNamePrefix(prefix: string): void {
  if (
    Token.isUnresolved(prefix) ||
    !PREFIX_PATTERN.test(prefix) ||
    prefix.length > MAX_PREFIX_LENGTH
  ) {
    throw new InvalidConstructPropsError(
      `thingNamePrefix must be 1-${MAX_PREFIX_LENGTH} literal characters of [A-Za-z0-9:_-] (got ${JSON.stringify(prefix)})`,
    );
  }
}
