import { randomUUID } from 'node:crypto';
import { IoTClient } from '@aws-sdk/client-iot';
import { S3Client } from '@aws-sdk/client-s3';
import type { LocalCloud } from '@thingcert/local-cloud';
import { assetDirectory, type StackArtifact, type TemplateResource } from './cloud-assembly';
import { deployOrder } from './dependency-order';
import type { DeviceProcess } from './device-process';
import { isResourceStepError, LeftoverResourcesError } from './errors';
import { auditLeftovers } from './leftovers-audit';
import { ProviderRegistry } from './provider-registry';
import type { DeployedResource, ProvisionedResource } from './resource-provider';
import { TemplateResolver } from './template-resolver';

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
  /** Extra environment for every function invocation (tests inject faults here). */
  readonly functionEnvironment?: Readonly<Record<string, string>>;
  /** Template parameter values. */
  readonly parameters?: Readonly<Record<string, unknown>>;
}

/**
 * A CloudFormation stack deployed onto the local cloud: the engine that
 * decides the order of every create, update and delete, and keeps the
 * stack's state (each resource's physical id, attributes and properties).
 *
 * It walks resources in dependency order, resolves intrinsics against that
 * state, and hands each step to the provider of the resource's type (a
 * `ResourceProvider`, see `provider-registry.ts`): the local cloud's S3 and
 * IoT, Lambda-backed custom resources with real events, instances booted as
 * devices. It deletes in reverse order and audits that nothing is left.
 *
 * @example
 * ```ts
 * const stack = new LocalStack(artifact.stackName, {
 *   cloud,
 *   log: (source, line) => console.log(`[${source}] ${line}`),
 * });
 * await stack.deploy(artifact);
 * await stack.destroy();
 * ```
 */
export class LocalStack {
  readonly stackName: string;
  readonly stackId: string;
  /** The deployed resources by logical id. */
  readonly resources = new Map<string, DeployedResource>();
  private readonly template: TemplateResolver;
  private readonly providers: ProviderRegistry;
  private readonly iot: IoTClient;
  private readonly s3: S3Client;
  private assets: ReadonlyMap<string, string> = new Map();

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
    this.template = new TemplateResolver({
      ...stack,
      parameters: options.parameters,
      ref: (id) => this.resources.get(id)?.physicalId,
      getAtt: (id, attribute) => this.resources.get(id)?.attributes[attribute],
    });
    this.providers = new ProviderRegistry({
      stack: {
        ...stack,
        cloudEnv: cloud.env,
        log: (line) => this.log(line),
        relay: (source, line) => options.log(source, line),
        assetDir: (logicalId, s3Key) => assetDirectory(this.assets, logicalId, s3Key),
        metadataOf: (logicalId) => this.template.resolveMetadata(logicalId),
      },
      iot: this.iot,
      s3: this.s3,
      devicesRunOnce: options.devicesRunOnce ?? false,
      functionEnvironment: options.functionEnvironment,
    });
  }

  /** The running device of each booted instance, by logical id. */
  get devices(): ReadonlyMap<string, DeviceProcess> {
    return this.providers.devices;
  }

  /** Deploys a synthesized stack; on failure rolls back what it created and throws. */
  async deploy(artifact: StackArtifact): Promise<void> {
    await this.providers.open();
    this.use(artifact);
    const order = deployOrder(this.template.current);
    try {
      for (const logicalId of order) {
        const resource = this.template.current.Resources[logicalId]!;
        if (!this.template.includes(resource)) continue;
        await this.create(logicalId, resource);
      }
    } catch (error) {
      this.log(
        `deploy failed: ${error instanceof Error ? error.message : String(error)}; rolling back`,
      );
      // Everything recorded, including a failed custom resource with the id
      // it answered: CloudFormation sends that one a Delete too.
      await this.deleteResources(order.filter((id) => this.resources.has(id)).reverse());
      throw error;
    }
    const skipped = [...this.resources.values()]
      .filter((r) => r.skipped)
      .map((r) => `${r.logicalId} (${r.type})`);
    if (skipped.length > 0) this.log(`not emulated, ids only: ${skipped.join(', ')}`);
  }

  /** Resolved stack outputs. */
  outputs(): Record<string, unknown> {
    return this.template.outputs();
  }

  /**
   * Updates the stack to a new template: a changed resource goes to its
   * provider's update (a new physical id is a replacement: dependents are
   * replaced and the old id is deleted at cleanup), or, for a provider
   * without one, is replaced. After a replacement by update (a rotated
   * certificate) every provider gets to react (devices are restarted).
   */
  async update(artifact: StackArtifact): Promise<void> {
    const previous = this.template.current;
    this.use(artifact);
    const cleanup: DeployedResource[] = [];
    let replacedByUpdate = false;
    for (const logicalId of deployOrder(this.template.current)) {
      const resource = this.template.current.Resources[logicalId]!;
      const before = this.resources.get(logicalId);
      if (!this.template.includes(resource)) continue;
      if (!before) {
        await this.create(logicalId, resource);
        continue;
      }
      // Properties are resolved against current state, so a replaced
      // dependency (new certificate ARN) shows up as a property change here.
      const properties = this.template.resolveProperties(logicalId, resource);
      const provider = this.providers.providerFor(resource.Type);
      const sameProperties = JSON.stringify(properties) === JSON.stringify(before.properties);
      const metadataChanged = provider.metadataChanged?.(logicalId) ?? false;
      if (sameProperties && !metadataChanged) continue;
      if (provider.update) {
        const request = { logicalId, type: resource.Type, properties };
        const updated = await provider.update(request, before);
        if (!updated) continue;
        this.record(logicalId, resource.Type, updated, properties);
        if (updated.physicalId !== before.physicalId) {
          cleanup.push(before);
          replacedByUpdate = true;
        }
        continue;
      }
      // Replacement: create the new one first, delete the old one at cleanup.
      this.resources.delete(logicalId);
      await this.create(logicalId, resource);
      cleanup.push(before);
    }
    for (const logicalId of Object.keys(previous.Resources)) {
      const gone = this.resources.get(logicalId);
      if (gone && !(logicalId in this.template.current.Resources)) {
        cleanup.push(gone);
        this.resources.delete(logicalId);
      }
    }
    for (const old of cleanup.reverse()) {
      this.log(`cleanup: deleting replaced ${old.logicalId} (${old.physicalId})`);
      await this.deleteOne(old);
    }
    if (replacedByUpdate) {
      for (const provider of this.providers.all()) await provider.afterUpdateReplacement?.();
    }
  }

  /** Deletes the whole stack in reverse dependency order and checks nothing is left. */
  async destroy(): Promise<void> {
    const order = deployOrder(this.template.current)
      .filter((id) => this.resources.has(id))
      .reverse();
    const failures = await this.deleteResources(order);
    await this.providers.close();
    const leftovers = [...failures, ...(await auditLeftovers(this.iot))];
    if (leftovers.length > 0) throw new LeftoverResourcesError(leftovers);
    this.log('stack deleted; no certificate, thing, attachment or object left');
  }

  private log(line: string): void {
    this.options.log('deploy', line);
  }

  private use(artifact: StackArtifact): void {
    this.assets = artifact.assetsByObjectKey;
    this.template.use(artifact.template);
  }

  private record(
    logicalId: string,
    type: string,
    provisioned: ProvisionedResource,
    properties: Readonly<Record<string, unknown>>,
  ): void {
    const { physicalId, attributes, skipped = false } = provisioned;
    this.resources.set(logicalId, { logicalId, type, physicalId, attributes, properties, skipped });
  }

  private async create(logicalId: string, resource: TemplateResource): Promise<void> {
    const properties = this.template.resolveProperties(logicalId, resource);
    const provider = this.providers.providerFor(resource.Type);
    try {
      const created = await provider.create({ logicalId, type: resource.Type, properties });
      this.record(logicalId, resource.Type, created, properties);
    } catch (error) {
      // CloudFormation records the id a failed Create answered (a custom
      // resource's FAILED answer), and sends it a Delete on rollback.
      if (isResourceStepError(error) && error.physicalId !== undefined) {
        this.record(
          logicalId,
          resource.Type,
          { physicalId: error.physicalId, attributes: {} },
          properties,
        );
      }
      throw error;
    }
  }

  /** Deletes resources in the given order; returns the failures, having tried every one. */
  private async deleteResources(logicalIds: string[]): Promise<string[]> {
    const failures: string[] = [];
    for (const logicalId of logicalIds) {
      const resource = this.resources.get(logicalId);
      if (!resource) continue;
      try {
        await this.deleteOne(resource);
      } catch (error) {
        failures.push(error instanceof Error ? error.message : String(error));
        this.log(`delete failed: ${failures.at(-1)}`);
      }
      this.resources.delete(logicalId);
    }
    return failures;
  }

  private async deleteOne(resource: DeployedResource): Promise<void> {
    await this.providers.providerFor(resource.type).delete(resource);
  }
}
