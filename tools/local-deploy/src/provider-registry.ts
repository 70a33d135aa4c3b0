import type { IoTClient } from '@aws-sdk/client-iot';
import type { S3Client } from '@aws-sdk/client-s3';
import type { LambdaInvoker, LocalIam } from '@thingcert/local-cloud';
import { AUTO_SCALING_ENDPOINT_VARIABLE, AutoScalingEndpoint } from './auto-scaling-endpoint';
import type { DuplicateDelivery } from './custom-resource-call';
import { CUSTOM_RESOURCE_TYPE } from './custom-resource-type';
import type { DeviceProcess } from './device-process';
import { StackIam } from './iam/stack-iam';
import {
  ADMIN_CREDENTIALS,
  roleSessionCredentials,
  type WorkloadCredentials,
} from './iam/workload-credentials';
import type { LocalFunction } from './lambda-invoker';
import { EventBus } from './event-bus';
import { invokeForResult, type FunctionCallContext } from './function-calls';
import { LifecycleActions } from './lifecycle-actions';
import {
  AutoScalingGroupProvider,
  type LaunchTemplateLookup,
} from './providers/auto-scaling-group';
import { customResourceProvider } from './providers/custom-resource';
import { eventsRuleProvider } from './providers/events-rule';
import { iotProvisioningTemplateProvider, iotThingGroupProvider } from './providers/iot-fleet';
import { lifecycleHookProvider } from './providers/lifecycle-hook';
import { Ec2InstanceProvider } from './providers/ec2-instance';
import {
  iamInstanceProfileProvider,
  iamManagedPolicyProvider,
  iamPolicyProvider,
  iamRoleProvider,
} from './providers/iam';
import { idsOnlyProvider } from './providers/ids-only';
import {
  iotPolicyProvider,
  iotThingProvider,
  policyPrincipalAttachmentProvider,
  thingPrincipalAttachmentProvider,
} from './providers/iot';
import { lambdaFunctionProvider, type LambdaFunctionProvider } from './providers/lambda-function';
import { kmsAliasProvider, kmsKeyProvider, StackKeys } from './providers/kms';
import { s3BucketProvider } from './providers/s3-bucket';
import { s3BucketPolicyProvider } from './providers/s3-bucket-policy';
import type { ResourceProvider, StackEnvironment } from './resource-provider';
import { ResponseEndpoint } from './response-endpoint';

/** What the providers of one stack are built from. */
export interface ProviderRegistryOptions {
  readonly stack: StackEnvironment;
  readonly iot: IoTClient;
  readonly s3: S3Client;
  /** Devices run their messages once and exit (instead of `forever`). */
  readonly devicesRunOnce: boolean;
  /** Extra environment for every device runner (see `LocalStackOptions.deviceEnvironment`). */
  readonly deviceEnvironment?: Readonly<Record<string, string>>;
  /** Extra environment for every function invocation (tests inject faults here). */
  readonly functionEnvironment?: Readonly<Record<string, string>>;
  /** @default 'none' */
  readonly duplicateDelivery?: DuplicateDelivery;
  /**
   * The local IAM to enforce the stack's IAM with: its roles, policies, bucket
   * policies and KMS keys are made there, and each function and device runs
   * with a session of its role.
   * @default undefined: IAM not enforced (those types are ids only, every
   *   process uses the admin's keys from `stack.cloudEnv`)
   */
  readonly iam?: LocalIam;
  /**
   * Hands the local IoT the invoker of the stack's functions, for
   * pre-provisioning hooks (`cloud.fleetProvisioning.setLambdaInvoker`).
   */
  readonly setLambdaInvoker?: (invoker: LambdaInvoker) => void;
  /**
   * The resolved `LaunchTemplateData` of the stack's launch template an Auto
   * Scaling group names (`LaunchTemplate` property): what its instances
   * launch with, their instance profile included.
   * @default none: instances launch without an instance profile
   */
  readonly launchTemplateData?: LaunchTemplateLookup;
}

/**
 * Which provider handles which resource type, for one stack: the emulated
 * types by name (IAM, bucket policies and KMS keys when IAM is enforced),
 * custom resources by {@link CUSTOM_RESOURCE_TYPE}, and every other type ids
 * only. Also owns what the providers share: the registered functions, the
 * endpoint custom resources answer at, the stack's IAM and the credentials
 * each function and device runs with.
 */
export class ProviderRegistry {
  private readonly byType: ReadonlyMap<string, ResourceProvider>;
  private readonly customResources: ResourceProvider;
  private readonly idsOnly: ResourceProvider;
  private readonly instances: Ec2InstanceProvider;
  private readonly groups: AutoScalingGroupProvider;
  private readonly functions: LambdaFunctionProvider;
  /** What each function and instance runs as. */
  readonly credentials: WorkloadCredentials;
  private readonly endpoint = new ResponseEndpoint();
  private readonly lifecycle: LifecycleActions;
  private readonly autoScaling: AutoScalingEndpoint;
  /**
   * The extra environment of every function invocation: the deployer's Auto
   * Scaling endpoint (set once it listens), then the test's own.
   */
  private readonly functionEnvironment: Record<string, string>;
  /** Custom-resource invocations still running after their answer (duplicate deliveries). */
  private readonly background = new Set<Promise<unknown>>();

  constructor(options: ProviderRegistryOptions) {
    const { stack, iot, s3 } = options;
    const functions = new Map<string, LocalFunction>();
    const { iam } = options;
    const log = (line: string) => stack.log(line);
    const stackIam = iam === undefined ? undefined : new StackIam(iam, log);
    this.credentials =
      iam === undefined || stackIam === undefined
        ? ADMIN_CREDENTIALS
        : roleSessionCredentials(iam, stackIam, log);
    this.functionEnvironment = { ...options.functionEnvironment };
    const calls: FunctionCallContext = {
      stack,
      functions,
      functionEnvironment: this.functionEnvironment,
      background: this.background,
    };
    const events = new EventBus(calls);
    this.lifecycle = new LifecycleActions(events, log);
    this.autoScaling = new AutoScalingEndpoint(this.lifecycle);
    this.instances = new Ec2InstanceProvider(
      stack,
      options.devicesRunOnce,
      this.credentials,
      options.deviceEnvironment,
    );
    this.groups = new AutoScalingGroupProvider({
      stack,
      lifecycle: this.lifecycle,
      runOnce: options.devicesRunOnce,
      credentials: this.credentials,
      launchTemplateData: options.launchTemplateData ?? (() => undefined),
      deviceEnvironment: options.deviceEnvironment,
    });
    this.functions = lambdaFunctionProvider(functions, stack, this.credentials);
    // AWS IoT invokes a template's hook synchronously and waits 5 s at most
    // (the local IoT aborts `signal` then, which stops the function).
    const useFunctions = (): void =>
      options.setLambdaInvoker?.((arn, payload, { signal }) =>
        invokeForResult(calls, arn, payload, signal),
      );
    const enforced: [string, ResourceProvider][] = [];
    if (iam !== undefined && stackIam !== undefined) {
      const keys = new StackKeys(iam);
      enforced.push(
        ['AWS::IAM::Role', iamRoleProvider(stackIam, stack)],
        ['AWS::IAM::Policy', iamPolicyProvider(stackIam, stack)],
        ['AWS::IAM::ManagedPolicy', iamManagedPolicyProvider(stackIam, stack)],
        ['AWS::IAM::InstanceProfile', iamInstanceProfileProvider(stackIam, stack)],
        ['AWS::S3::BucketPolicy', s3BucketPolicyProvider(s3, stack)],
        ['AWS::KMS::Key', kmsKeyProvider(keys, stack)],
        ['AWS::KMS::Alias', kmsAliasProvider(keys)],
      );
    }
    this.byType = new Map<string, ResourceProvider>([
      ...enforced,
      ['AWS::S3::Bucket', s3BucketProvider(s3, stack)],
      ['AWS::IoT::Thing', iotThingProvider(iot, stack)],
      ['AWS::IoT::Policy', iotPolicyProvider(iot, stack)],
      ['AWS::IoT::PolicyPrincipalAttachment', policyPrincipalAttachmentProvider(iot, stack)],
      ['AWS::IoT::ThingPrincipalAttachment', thingPrincipalAttachmentProvider(iot, stack)],
      ['AWS::Lambda::Function', this.functions],
      ['AWS::EC2::Instance', this.instances],
      ['AWS::IoT::ThingGroup', iotThingGroupProvider(iot, stack)],
      ['AWS::IoT::ProvisioningTemplate', iotProvisioningTemplateProvider(iot, stack, useFunctions)],
      ['AWS::AutoScaling::AutoScalingGroup', this.groups],
      ['AWS::AutoScaling::LifecycleHook', lifecycleHookProvider(this.lifecycle, stack)],
      ['AWS::Events::Rule', eventsRuleProvider(events, stack)],
    ]);
    this.customResources = customResourceProvider({
      stack,
      functions,
      endpoint: this.endpoint,
      functionEnvironment: this.functionEnvironment,
      duplicateDelivery: options.duplicateDelivery ?? 'none',
      background: this.background,
    });
    this.idsOnly = idsOnlyProvider(stack);
  }

  /** The device of every running instance, by instance id. */
  get devices(): ReadonlyMap<string, DeviceProcess> {
    return this.instances.devices;
  }

  /**
   * The device of every running instance of the stack's Auto Scaling
   * groups, by `<group logical id>/<instance id>`.
   */
  get fleetDevices(): ReadonlyMap<string, DeviceProcess> {
    return this.groups.devices;
  }

  /** The role the instances of an Auto Scaling group run as, by its `LaunchTemplate` property. */
  fleetRoleOf(launchTemplate: unknown): string | undefined {
    return this.groups.roleOf(launchTemplate);
  }

  /** The instance ids of an Auto Scaling group (by name), oldest first. */
  instancesOf(groupName: string): string[] {
    return this.groups.instancesOf(groupName);
  }

  /** The device running on an instance, by instance id. */
  deviceOf(instanceId: string): DeviceProcess | undefined {
    return this.instances.deviceOf(instanceId);
  }

  /** Answers that reached the response endpoint for a request already answered (by response token). */
  get duplicateAnswers(): readonly string[] {
    return this.endpoint.duplicates;
  }

  /** The provider of a resource type. */
  providerFor(type: string): ResourceProvider {
    return (
      this.byType.get(type) ??
      (CUSTOM_RESOURCE_TYPE.test(type) ? this.customResources : this.idsOnly)
    );
  }

  /** Waits for custom-resource invocations still running after their answer. */
  async settle(): Promise<void> {
    while (this.background.size > 0) await Promise.all([...this.background]);
  }

  /** Starts serving custom-resource answers; before the first resource is created. */
  async open(): Promise<void> {
    await this.endpoint.start();
    await this.autoScaling.start();
    // Before the test's own, so that a test can point functions elsewhere.
    if (!(AUTO_SCALING_ENDPOINT_VARIABLE in this.functionEnvironment))
      this.functionEnvironment[AUTO_SCALING_ENDPOINT_VARIABLE] = this.autoScaling.endpoint;
  }

  /**
   * Stops serving custom-resource answers and removes the inline function
   * code still on disk; after the last resource is deleted.
   */
  async close(): Promise<void> {
    this.lifecycle.close();
    await this.groups.dispose();
    await this.settle();
    await this.endpoint.stop();
    await this.autoScaling.stop();
    this.functions.dispose();
  }
}
