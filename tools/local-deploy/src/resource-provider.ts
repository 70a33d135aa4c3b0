import { ResourceStepError } from './errors';

/** A resource as it exists in the local deployment. */
export interface DeployedResource {
  readonly logicalId: string;
  readonly type: string;
  readonly physicalId: string;
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly properties: Readonly<Record<string, unknown>>;
  /** True for types the deployer does not emulate (VPC, IAM, KMS…): ids only. */
  readonly skipped: boolean;
}

/** One resource of the template, as the engine hands it to its provider. */
export interface ResourceRequest {
  readonly logicalId: string;
  readonly type: string;
  /** The resource's properties with every intrinsic resolved against the stack as it is now. */
  readonly properties: Readonly<Record<string, unknown>>;
}

/** What a provider made: what `Ref` and `Fn::GetAtt` give from now on. */
export interface ProvisionedResource {
  readonly physicalId: string;
  readonly attributes: Readonly<Record<string, unknown>>;
  /**
   * The type is not emulated: the ids and attributes are placeholders.
   * @default false
   */
  readonly skipped?: boolean;
}

/**
 * How one resource type is created, updated and deleted on the local cloud.
 *
 * The engine (`StackEngine`) decides the order of every step and keeps
 * the stack's state (physical ids, attributes, properties); a provider only
 * carries a step out and reports what it made. A failed step throws a
 * {@link ResourceStepError} (see {@link runStep}).
 */
export interface ResourceProvider {
  /** Creates the resource. */
  create(request: ResourceRequest): Promise<ProvisionedResource>;
  /**
   * Applies changed properties in place. The engine calls it only for an
   * in-place change (`updateBehaviour` is not `replacement`; for a replacement
   * it calls {@link create} and later deletes the old resource), and for
   * every change of a custom resource, whose provider alone decides: an
   * answer with a new physical id is a replacement, and the engine deletes
   * the old id in cleanup. Other types answer their current physical id.
   *
   * Also used for the Update back of a rollback: `request` then carries the
   * old properties and `current` the resource as the failed update left it.
   *
   * Without `update`, an in-place change has nothing to do locally (ids-only
   * types): the resource keeps its id and attributes.
   */
  update?(request: ResourceRequest, current: DeployedResource): Promise<ProvisionedResource>;
  /** Deletes the resource. */
  delete(resource: DeployedResource): Promise<void>;
}

/** What every provider may ask of the stack it deploys into. */
export interface StackEnvironment {
  readonly stackName: string;
  readonly stackId: string;
  readonly region: string;
  readonly accountId: string;
  /**
   * The environment every process the stack starts shares: the local cloud's
   * endpoints and region (HTTPS and the local CA with IAM enforced; HTTP and
   * the admin's keys without). Each process adds its own credentials.
   */
  readonly cloudEnv: Readonly<Record<string, string>>;
  /** Prints one of the deployer's own lines. */
  log(line: string): void;
  /** Passes on a line printed by a process the stack runs (a function, a device) under `source`. */
  relay(source: string, line: string): void;
  /** The directory of a file asset of the cloud assembly being deployed. */
  assetDir(logicalId: string, s3Key: unknown): string;
  /** A resource's `Metadata`, resolved against the stack as it is now. */
  metadataOf(logicalId: string): Record<string, unknown>;
}

/**
 * Runs one step of a provider: any failure becomes a {@link ResourceStepError}
 * naming the resource, the step and the reason (one that already is passes
 * through unchanged).
 */
export async function runStep<T>(
  logicalId: string,
  step: string,
  action: () => Promise<T>,
): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof ResourceStepError) throw error;
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new ResourceStepError(logicalId, step, reason, { cause: error });
  }
}
