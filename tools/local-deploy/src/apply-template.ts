import type { Template } from './cloud-assembly';
import { isCustomResourceType } from './custom-resource-type';
import { isResourceStepError } from './errors';
import { runInDependencyOrder, type OperationToken } from './graph-scheduler';
import type {
  DeployedResource,
  ProvisionedResource,
  ResourceProvider,
  ResourceRequest,
} from './resource-provider';
import type { StackEventLog } from './stack-events';
import { planApply, type ApplyOutcome } from './stack-plan';
import { updateBehaviour } from './update-behaviour';

/** What the create or update phase works with. */
export interface ApplyTemplateContext {
  /** The template being applied. */
  readonly template: Template;
  /** Its resources whose condition holds. */
  readonly included: ReadonlySet<string>;
  /** What the stack held before the operation (empty for a stack create). */
  readonly previous: ReadonlyMap<string, DeployedResource>;
  /**
   * What the stack holds, updated as each resource is done: dependents
   * resolve `Ref` and `Fn::GetAtt` against it (a replacement's new values).
   */
  readonly state: Map<string, DeployedResource>;
  /** A resource's properties resolved against {@link state}; throws a `ResourceStepError`. */
  resolveProperties(logicalId: string): Record<string, unknown>;
  providerFor(type: string): ResourceProvider;
  readonly events: StackEventLog;
  readonly concurrency: number;
  /**
   * Stack create: when a resource fails, custom resources still being created
   * are cancelled (not awaited) and get a Delete with an id CloudFormation
   * makes up, as {@link syntheticPhysicalId} gives (CLOUDFORMATION-ORDER.md 5.3).
   * An update waits for every running operation instead (3.9).
   */
  readonly cancelCustomResourcesOnFailure: boolean;
  /** The id CloudFormation makes up for a custom resource that answered none. */
  syntheticPhysicalId(logicalId: string): string;
}

/** How the phase ended. */
export interface ApplyTemplateResult {
  /** What happened to each resource that changed, in the order it happened. */
  readonly outcomes: ReadonlyMap<string, ApplyOutcome>;
  /** The failed resources and their errors; empty when the phase succeeded. */
  readonly failures: ReadonlyMap<string, unknown>;
  /** Cancelled custom-resource creates still running (their answers are ignored). */
  readonly cancelled: readonly Promise<void>[];
}

/** The reason a failed step gives in its event. */
export function failureReason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The create phase of a stack create, or the update phase of a stack update
 * (`UPDATE_IN_PROGRESS`): walks the template forward in dependency order,
 * independent resources in parallel. An added resource is created; a changed
 * one is updated in place, or replaced (a new physical resource created now,
 * the old one kept for cleanup) as its type's update rules say; a custom
 * resource gets an Update and is replaced if it answers a new id. Nothing is
 * deleted here. After the first failure nothing new starts.
 */
export async function applyTemplate(context: ApplyTemplateContext): Promise<ApplyTemplateResult> {
  const outcomes = new Map<string, ApplyOutcome>();
  const started = new Map<string, Record<string, unknown>>();
  const run = async (logicalId: string, token: OperationToken): Promise<void> => {
    const step = await applyOne(logicalId, context, token, started);
    if (token.abandoned) return;
    if (step.outcome) outcomes.set(logicalId, step.outcome);
    if (step.failure) throw step.failure.error;
  };
  const result = await runInDependencyOrder({
    waitsFor: planApply(context.template, context.included),
    concurrency: context.concurrency,
    onFailure: 'stop',
    run,
    abandonOnFailure: (logicalId) =>
      context.cancelCustomResourcesOnFailure &&
      !context.previous.has(logicalId) &&
      isCustomResourceType(context.template.Resources[logicalId]!.Type),
  });
  for (const logicalId of result.abandoned.keys()) {
    const type = context.template.Resources[logicalId]!.Type;
    const leftover: DeployedResource = {
      logicalId,
      type,
      physicalId: context.syntheticPhysicalId(logicalId),
      properties: started.get(logicalId) ?? {},
      attributes: {},
      skipped: false,
    };
    context.events.resource(leftover, 'CREATE_FAILED', 'Resource creation cancelled');
    outcomes.set(logicalId, { kind: 'create-failed', logicalId, leftover });
  }
  return { outcomes, failures: result.failed, cancelled: [...result.abandoned.values()] };
}

/** What one resource's step came to: its outcome (none when unchanged) and its error if it failed. */
interface StepResult {
  readonly outcome?: ApplyOutcome;
  readonly failure?: { readonly error: unknown };
}

async function applyOne(
  logicalId: string,
  context: ApplyTemplateContext,
  token: OperationToken,
  started: Map<string, Record<string, unknown>>,
): Promise<StepResult> {
  const { events } = context;
  const type = context.template.Resources[logicalId]!.Type;
  const before = context.previous.get(logicalId);
  const provider = context.providerFor(type);
  if (!before) {
    events.resource({ logicalId, type }, 'CREATE_IN_PROGRESS');
    try {
      const properties = context.resolveProperties(logicalId);
      started.set(logicalId, properties);
      const created = await provider.create({ logicalId, type, properties });
      if (token.abandoned) return {};
      const resource = recorded({ logicalId, type, properties }, created);
      context.state.set(logicalId, resource);
      events.resource(resource, 'CREATE_COMPLETE');
      return { outcome: { kind: 'created', resource } };
    } catch (error) {
      if (token.abandoned) return {};
      events.resource({ logicalId, type }, 'CREATE_FAILED', failureReason(error));
      const leftover = leftoverOf(logicalId, type, error, started, context);
      return { outcome: { kind: 'create-failed', logicalId, leftover }, failure: { error } };
    }
  }
  let properties: Record<string, unknown>;
  try {
    properties = context.resolveProperties(logicalId);
  } catch (error) {
    // No request was sent: nothing to roll back for this resource.
    events.resource(before, 'UPDATE_FAILED', failureReason(error));
    return { failure: { error } };
  }
  const behaviour = updateBehaviour(type, before.properties, properties);
  if (behaviour === 'none') return {};
  const request = { logicalId, type, properties };
  if (behaviour === 'replacement') {
    events.resource(
      before,
      'UPDATE_IN_PROGRESS',
      'Requested update requires the creation of a new physical resource; hence creating one.',
    );
    try {
      const after = recorded(request, await provider.create(request));
      context.state.set(logicalId, after);
      events.resource(after, 'UPDATE_COMPLETE');
      return { outcome: { kind: 'replaced', before, after } };
    } catch (error) {
      events.resource(before, 'UPDATE_FAILED', failureReason(error));
      return { outcome: { kind: 'replace-failed', before }, failure: { error } };
    }
  }
  events.resource(before, 'UPDATE_IN_PROGRESS');
  try {
    const after = recorded(request, await updateInPlace(provider, request, before));
    context.state.set(logicalId, after);
    events.resource(after, 'UPDATE_COMPLETE');
    return {
      outcome:
        after.physicalId === before.physicalId
          ? { kind: 'updated', before, after }
          : { kind: 'replaced', before, after },
    };
  } catch (error) {
    const answeredId = isResourceStepError(error) ? error.physicalId : undefined;
    events.resource(
      { ...before, physicalId: answeredId ?? before.physicalId },
      'UPDATE_FAILED',
      failureReason(error),
    );
    return {
      outcome: { kind: 'update-failed', before, attempted: properties, answeredId },
      failure: { error },
    };
  }
}

/**
 * A provider's in-place update; a type without one (ids only, or nothing to
 * change locally) keeps its physical id and attributes.
 */
export function updateInPlace(
  provider: ResourceProvider,
  request: ResourceRequest,
  current: DeployedResource,
): Promise<ProvisionedResource> {
  return provider.update
    ? provider.update(request, current)
    : Promise.resolve({
        physicalId: current.physicalId,
        attributes: current.attributes,
        skipped: current.skipped,
      });
}

/** What the stack records for a resource a provider made or updated. */
export function recorded(request: ResourceRequest, made: ProvisionedResource): DeployedResource {
  return {
    logicalId: request.logicalId,
    type: request.type,
    physicalId: made.physicalId,
    attributes: made.attributes,
    properties: request.properties,
    skipped: made.skipped ?? false,
  };
}

/**
 * A custom resource whose Create failed still gets a Delete: with the id its
 * FAILED answer carried, or one CloudFormation makes up when it answered none
 * (CLOUDFORMATION-ORDER.md 5.2). Other types made nothing.
 */
function leftoverOf(
  logicalId: string,
  type: string,
  error: unknown,
  started: ReadonlyMap<string, Record<string, unknown>>,
  context: ApplyTemplateContext,
): DeployedResource | undefined {
  const properties = started.get(logicalId);
  if (!isCustomResourceType(type) || properties === undefined) return undefined;
  const answered = isResourceStepError(error) ? error.physicalId : undefined;
  return {
    logicalId,
    type,
    physicalId: answered || context.syntheticPhysicalId(logicalId),
    properties,
    attributes: {},
    skipped: false,
  };
}
