import type { IoTClient } from '@aws-sdk/client-iot';
import type { S3Client } from '@aws-sdk/client-s3';
import type { LambdaInvoker } from '@thingcert/local-cloud';
import { AUTO_SCALING_ENDPOINT_VARIABLE, AutoScalingEndpoint } from './auto-scaling-endpoint';
import type { DuplicateDelivery } from './custom-resource-call';
import { CUSTOM_RESOURCE_TYPE } from './custom-resource-type';
import type { DeviceProcess } from './device-process';
import type { LocalFunction } from './lambda-invoker';
import { EventBus } from './event-bus';
import { invokeForResult, type FunctionCallContext } from './function-calls';
import { LifecycleActions } from './lifecycle-actions';
import { AutoScalingGroupProvider } from './providers/auto-scaling-group';
import { customResourceProvider } from './providers/custom-resource';
import { eventsRuleProvider } from './providers/events-rule';
import { iotProvisioningTemplateProvider, iotThingGroupProvider } from './providers/iot-fleet';
import { lifecycleHookProvider } from './providers/lifecycle-hook';
import { Ec2InstanceProvider } from './providers/ec2-instance';
import { idsOnlyProvider } from './providers/ids-only';
import {
  iotPolicyProvider,
  iotThingProvider,
  policyPrincipalAttachmentProvider,
  thingPrincipalAttachmentProvider,
} from './providers/iot';
import { lambdaFunctionProvider, type LambdaFunctionProvider } from './providers/lambda-function';
import { s3BucketProvider } from './providers/s3-bucket';
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
   * Hands the local IoT the invoker of the stack's functions, for
   * pre-provisioning hooks (`cloud.fleetProvisioning.setLambdaInvoker`).
   */
  readonly setLambdaInvoker?: (invoker: LambdaInvoker) => void;
}

/**
 * Which provider handles which resource type, for one stack: the emulated
 * types by name, custom resources by {@link CUSTOM_RESOURCE_TYPE}, and every
 * other type ids only. Also owns what the providers share: the registered
 * functions and the endpoint custom resources answer at.
 */
export class ProviderRegistry {
  private readonly byType: ReadonlyMap<string, ResourceProvider>;
  private readonly customResources: ResourceProvider;
  private readonly idsOnly: ResourceProvider;
  private readonly instances: Ec2InstanceProvider;
  private readonly groups: AutoScalingGroupProvider;
  private readonly functions: LambdaFunctionProvider;
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
    this.functionEnvironment = { ...options.functionEnvironment };
    const calls: FunctionCallContext = {
      stack,
      functions,
      functionEnvironment: this.functionEnvironment,
      background: this.background,
    };
    const events = new EventBus(calls);
    this.lifecycle = new LifecycleActions(events, (line) => stack.log(line));
    this.autoScaling = new AutoScalingEndpoint(this.lifecycle);
    this.instances = new Ec2InstanceProvider(
      stack,
      options.devicesRunOnce,
      options.deviceEnvironment,
    );
    this.groups = new AutoScalingGroupProvider(
      stack,
      this.lifecycle,
      options.devicesRunOnce,
      options.deviceEnvironment,
    );
    this.functions = lambdaFunctionProvider(functions, stack);
    // AWS IoT invokes a template's hook synchronously and waits 5 s at most
    // (the local IoT aborts `signal` then, which stops the function).
    const useFunctions = (): void =>
      options.setLambdaInvoker?.((arn, payload, { signal }) =>
        invokeForResult(calls, arn, payload, signal),
      );
    this.byType = new Map<string, ResourceProvider>([
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
