import type { IoTClient } from '@aws-sdk/client-iot';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DuplicateDelivery } from './custom-resource-call';
import { CUSTOM_RESOURCE_TYPE } from './custom-resource-type';
import type { DeviceProcess } from './device-process';
import type { LocalFunction } from './lambda-invoker';
import { customResourceProvider } from './providers/custom-resource';
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
  private readonly functions: LambdaFunctionProvider;
  private readonly endpoint = new ResponseEndpoint();
  /** Custom-resource invocations still running after their answer (duplicate deliveries). */
  private readonly background = new Set<Promise<unknown>>();

  constructor(options: ProviderRegistryOptions) {
    const { stack, iot, s3 } = options;
    const functions = new Map<string, LocalFunction>();
    this.instances = new Ec2InstanceProvider(
      stack,
      options.devicesRunOnce,
      options.deviceEnvironment,
    );
    this.functions = lambdaFunctionProvider(functions, stack);
    this.byType = new Map<string, ResourceProvider>([
      ['AWS::S3::Bucket', s3BucketProvider(s3, stack)],
      ['AWS::IoT::Thing', iotThingProvider(iot, stack)],
      ['AWS::IoT::Policy', iotPolicyProvider(iot, stack)],
      ['AWS::IoT::PolicyPrincipalAttachment', policyPrincipalAttachmentProvider(iot, stack)],
      ['AWS::IoT::ThingPrincipalAttachment', thingPrincipalAttachmentProvider(iot, stack)],
      ['AWS::Lambda::Function', this.functions],
      ['AWS::EC2::Instance', this.instances],
    ]);
    this.customResources = customResourceProvider({
      stack,
      functions,
      endpoint: this.endpoint,
      functionEnvironment: options.functionEnvironment,
      duplicateDelivery: options.duplicateDelivery ?? 'none',
      background: this.background,
    });
    this.idsOnly = idsOnlyProvider(stack);
  }

  /** The device of every running instance, by instance id. */
  get devices(): ReadonlyMap<string, DeviceProcess> {
    return this.instances.devices;
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
  }

  /**
   * Stops serving custom-resource answers and removes the inline function
   * code still on disk; after the last resource is deleted.
   */
  async close(): Promise<void> {
    await this.settle();
    await this.endpoint.stop();
    this.functions.dispose();
  }
}
