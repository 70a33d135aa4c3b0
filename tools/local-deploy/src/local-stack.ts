import { randomUUID } from 'node:crypto';
import { IoTClient } from '@aws-sdk/client-iot';
import { S3Client } from '@aws-sdk/client-s3';
import type { LocalCloud } from '@thingcert/local-cloud';
import { assetDirectory, type StackArtifact } from './cloud-assembly';
import type { DuplicateDelivery } from './custom-resource-call';
import type { DeviceProcess } from './device-process';
import { LeftoverResourcesError } from './errors';
import { workloadEnvironment } from './iam/workload-credentials';
import { auditLeftovers } from './leftovers-audit';
import { ProviderRegistry } from './provider-registry';
import type { DeployedResource } from './resource-provider';
import type { StackEvent, StackStatus } from './stack-events';
import { StackEngine } from './stack-engine';

/**
 * The source under which {@link LocalStackOptions.log} receives the routine
 * stack events (a resource's step going as planned); stack statuses,
 * failures and skipped deletes come under `deploy`.
 */
export const STACK_EVENT_SOURCE = 'stack-event';

/** Options for {@link LocalStack}. */
export interface LocalStackOptions {
  readonly cloud: LocalCloud;
  /** Receives every line the deployer, the functions and the devices print. */
  readonly log: (source: string, line: string) => void;
  /**
   * Devices run the configured messages once and exit (instead of `forever`).
   * @default false
   */
  readonly devicesRunOnce?: boolean;
  /**
   * Extra environment for every device runner, as a systemd drop-in on the
   * instance would set it (`THINGCERT_INTERVAL=100`: 10 messages a second).
   */
  readonly deviceEnvironment?: Readonly<Record<string, string>>;
  /** Extra environment for every function invocation (tests inject faults here). */
  readonly functionEnvironment?: Readonly<Record<string, string>>;
  /** Template parameter values. */
  readonly parameters?: Readonly<Record<string, unknown>>;
  /**
   * How many resource operations run at once: CloudFormation runs
   * independent resources in parallel (1 makes every run sequential).
   * @default 8
   */
  readonly concurrency?: number;
  /**
   * Deliver every custom-resource request twice, as Lambda may; the first
   * answer counts (see `DuplicateDelivery`).
   * @default 'none'
   */
  readonly duplicateDelivery?: DuplicateDelivery;
  /**
   * Enforce the stack's IAM, as AWS does: roles, `AWS::IAM::Policy`, managed
   * policies, instance profiles, bucket policies and KMS key policies are made
   * in the local cloud's IAM, every function runs with a session of its
   * execution role and every device with one of its instance profile's role,
   * over HTTPS with the local CA trusted. `false`: those types are ids only and
   * every process uses the admin identity over HTTP (for comparison).
   * @default true
   */
  readonly enforceIam?: boolean;
}

/**
 * A CloudFormation stack deployed onto the local cloud. CloudFormation's
 * side (the order of every step, the status, the events, what the stack
 * holds) is the {@link StackEngine}; each step is carried out by the
 * provider of its type (see `provider-registry.ts`): the local cloud's S3
 * and IoT, Lambda-backed custom resources with real events, instances booted
 * as devices, and (IAM enforced, the default) roles, policies, bucket
 * policies and KMS keys in the local cloud's IAM, each function and device
 * running with its role's credentials. After a delete it audits that nothing
 * is left.
 *
 * `deploy` throws when the create rolled back; `update` returns the final
 * status, a rolled-back update included, and throws only for an update
 * CloudFormation refuses up front.
 *
 * @example
 * ```ts
 * const stack = new LocalStack('Thingcert', { cloud, log: (source, line) => lines.push(line) });
 * await stack.deploy(t1);
 * const status = await stack.update(t2); // 'UPDATE_COMPLETE' | 'UPDATE_ROLLBACK_COMPLETE' | 'UPDATE_ROLLBACK_FAILED'
 * const certificate = stack.resources.get('Certificate')?.physicalId;
 * const calls = stack.events.filter((event) => event.logicalId === 'Certificate');
 * await stack.destroy();
 * ```
 */
export class LocalStack {
  readonly stackName: string;
  readonly stackId: string;
  private readonly engine: StackEngine;
  private readonly providers: ProviderRegistry;
  /** The deployer's own IoT client on the local cloud (what an audit of the stack reads with). */
  readonly iot: IoTClient;
  /** The deployer's own S3 client on the local cloud (path-style, as the local S3 needs). */
  readonly s3: S3Client;
  /** The file assets of every template deployed so far (a rollback may need the old ones). */
  private readonly assets = new Map<string, string>();

  constructor(
    stackName: string,
    private readonly options: LocalStackOptions,
  ) {
    this.stackName = stackName;
    const { cloud } = options;
    this.stackId = `arn:aws:cloudformation:${cloud.region}:${cloud.accountId}:stack/${stackName}/${randomUUID()}`;
    const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
    this.iot = new IoTClient({ region: cloud.region, endpoint: cloud.iotEndpoint, credentials });
    this.s3 = new S3Client({
      region: cloud.region,
      endpoint: cloud.s3Endpoint,
      credentials,
      forcePathStyle: true,
    });
    const stack = {
      stackName,
      stackId: this.stackId,
      region: cloud.region,
      accountId: cloud.accountId,
    };
    const enforceIam = options.enforceIam ?? true;
    this.engine = new StackEngine({
      ...stack,
      parameters: options.parameters,
      providerFor: (type) => this.providers.providerFor(type),
      concurrency: options.concurrency ?? 8,
      log: (line, routine) => options.log(routine ? STACK_EVENT_SOURCE : 'deploy', line),
    });
    this.providers = new ProviderRegistry({
      stack: {
        ...stack,
        cloudEnv: workloadEnvironment(cloud, enforceIam),
        log: (line) => this.log(line),
        relay: (source, line) => options.log(source, line),
        assetDir: (logicalId, s3Key) => assetDirectory(this.assets, logicalId, s3Key),
        metadataOf: (logicalId) => this.engine.resolver.resolveMetadata(logicalId),
      },
      iot: this.iot,
      s3: this.s3,
      devicesRunOnce: options.devicesRunOnce ?? false,
      deviceEnvironment: options.deviceEnvironment,
      functionEnvironment: options.functionEnvironment,
      duplicateDelivery: options.duplicateDelivery,
      iam: enforceIam ? cloud.iam : undefined,
      setLambdaInvoker: (invoker) => cloud.fleetProvisioning.setLambdaInvoker(invoker),
      launchTemplateData: (reference) => this.launchTemplateData(reference),
    });
  }

  /**
   * The role a function or an instance of the stack runs as, by its logical
   * id (its execution role, or its instance profile's role; for an Auto
   * Scaling group or one of its devices, its launch template's instance
   * profile's role); `undefined` for other resources, or when IAM is not enforced.
   */
  roleOf(logicalId: string): string | undefined {
    // A fleet device is keyed `<group logical id>/<instance id>` (see `devices`).
    const resource = this.engine.resources.get(logicalId.split('/')[0]!);
    if (resource?.type === 'AWS::Lambda::Function') {
      return this.providers.credentials.roleOf({ roleArn: resource.properties.Role });
    }
    if (resource?.type === 'AWS::EC2::Instance') {
      return this.providers.credentials.roleOf({
        instanceProfile: resource.properties.IamInstanceProfile,
      });
    }
    if (resource?.type === 'AWS::AutoScaling::AutoScalingGroup') {
      return this.providers.fleetRoleOf(resource.properties.LaunchTemplate);
    }
    return undefined;
  }

  /**
   * The resolved `LaunchTemplateData` of the stack's `AWS::EC2::LaunchTemplate`
   * a group's `LaunchTemplate` names, by id (its `Ref`) or name. Launch
   * templates are ids only here: its current data stands for every version.
   */
  private launchTemplateData(
    reference: Readonly<Record<string, unknown>>,
  ): Readonly<Record<string, unknown>> | undefined {
    const template = [...this.engine.resources.values()].find(
      (resource) =>
        resource.type === 'AWS::EC2::LaunchTemplate' &&
        (resource.physicalId === reference.LaunchTemplateId ||
          (reference.LaunchTemplateName !== undefined &&
            resource.properties.LaunchTemplateName === reference.LaunchTemplateName)),
    );
    return template?.properties.LaunchTemplateData as Record<string, unknown> | undefined;
  }

  /** What the stack holds, by logical id: each resource's physical id, attributes and properties. */
  get resources(): ReadonlyMap<string, DeployedResource> {
    return this.engine.resources;
  }

  /** The stack's status (`CREATE_COMPLETE`, `UPDATE_ROLLBACK_COMPLETE`…); `undefined` before `deploy`. */
  get status(): StackStatus | undefined {
    return this.engine.status;
  }

  /** The reason CloudFormation gives with the current status, if any. */
  get statusReason(): string | undefined {
    return this.engine.events.status?.reason;
  }

  /** Every stack event so far, oldest first (`DescribeStackEvents`, in reverse). */
  get events(): readonly StackEvent[] {
    return this.engine.events.events;
  }

  /** Resources the stack let go of with `Retain` (`DELETE_SKIPPED`): they live on. */
  get retained(): readonly DeployedResource[] {
    return this.engine.retained;
  }

  /**
   * The device running on each instance the stack holds: by the instance's
   * logical id, and for the instances of an Auto Scaling group by
   * `<group logical id>/<instance id>`.
   */
  get devices(): ReadonlyMap<string, DeviceProcess> {
    const devices = new Map<string, DeviceProcess>(this.providers.fleetDevices);
    for (const resource of this.engine.resources.values()) {
      const device =
        resource.type === 'AWS::EC2::Instance'
          ? this.providers.deviceOf(resource.physicalId)
          : undefined;
      if (device) devices.set(resource.logicalId, device);
    }
    return devices;
  }

  /** The instance ids of an Auto Scaling group of the stack (by its physical id), oldest first. */
  instancesOf(groupName: string): string[] {
    return this.providers.instancesOf(groupName);
  }

  /** How many custom-resource answers arrived for a request already answered (duplicate deliveries). */
  get duplicateAnswers(): number {
    return this.providers.duplicateAnswers.length;
  }

  /**
   * CreateStack. On a failure the stack rolls back (`ROLLBACK_COMPLETE` or
   * `ROLLBACK_FAILED`, see {@link status}) and the first resource error is
   * thrown, a `ResourceStepError` naming the resource and the step.
   */
  async deploy(artifact: StackArtifact): Promise<void> {
    await this.providers.open();
    this.addAssets(artifact);
    const failed = await this.engine.create(artifact.template);
    await this.providers.settle();
    if (failed) {
      this.log(`deploy failed; ${failed.status}`);
      throw failed.error;
    }
    const skipped = [...this.engine.resources.values()]
      .filter((r) => r.skipped)
      .map((r) => `${r.logicalId} (${r.type})`);
    if (skipped.length > 0) this.log(`not emulated, ids only: ${skipped.join(', ')}`);
  }

  /**
   * UpdateStack to a new template, in CloudFormation's order (see
   * CLOUDFORMATION-ORDER.md): update phase, cleanup; on failure, rollback and
   * rollback cleanup.
   *
   * @returns the final status: `UPDATE_COMPLETE` (see {@link statusReason}
   *   for deletes that failed in cleanup), `UPDATE_ROLLBACK_COMPLETE` or
   *   `UPDATE_ROLLBACK_FAILED`.
   * @throws {StackStateError} when the stack's status allows no update.
   * @throws {TemplateError} for an update CloudFormation refuses up front
   *   (nothing changed, a resource type or a `ServiceToken` changed).
   */
  async update(artifact: StackArtifact): Promise<StackStatus> {
    this.addAssets(artifact);
    const result = await this.engine.update(artifact.template);
    await this.providers.settle();
    return result.status;
  }

  /** Resolved stack outputs. */
  outputs(): Record<string, unknown> {
    return this.engine.resolver.outputs();
  }

  /**
   * DeleteStack, then an audit of the local cloud: no certificate, no thing,
   * no provisioning template, none of the stack's thing groups and policies
   * (but those the stack retained) and no object in a retained bucket may be
   * left.
   *
   * @throws {LeftoverResourcesError} naming every failed delete and leftover.
   */
  async destroy(): Promise<void> {
    const held = [...this.engine.resources.values()];
    const deleted = await this.engine.delete();
    await this.providers.close();
    const failures = deleted.failed.map(
      ({ resource, reason }) => `${resource.logicalId} (${resource.physicalId}): ${reason}`,
    );
    const leftovers = [
      ...failures,
      ...(await auditLeftovers(this.iot, this.s3, this.retained, held)),
    ];
    if (leftovers.length > 0) throw new LeftoverResourcesError(leftovers);
    this.log('stack deleted; no certificate, thing, attachment or object left');
  }

  private log(line: string): void {
    this.options.log('deploy', line);
  }

  private addAssets(artifact: StackArtifact): void {
    for (const [key, path] of artifact.assetsByObjectKey) this.assets.set(key, path);
  }
}
