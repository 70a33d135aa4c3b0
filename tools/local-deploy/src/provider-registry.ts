import type { IoTClient } from '@aws-sdk/client-iot';
import type { S3Client } from '@aws-sdk/client-s3';
import type { LocalIam } from '@thingcert/local-cloud';
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
import { customResourceProvider } from './providers/custom-resource';
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
  private readonly functions: LambdaFunctionProvider;
  /** What each function and instance runs as. */
  readonly credentials: WorkloadCredentials;
  private readonly endpoint = new ResponseEndpoint();
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
    this.instances = new Ec2InstanceProvider(
      stack,
      options.devicesRunOnce,
      this.credentials,
      options.deviceEnvironment,
    );
    this.functions = lambdaFunctionProvider(functions, stack, this.credentials);
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
