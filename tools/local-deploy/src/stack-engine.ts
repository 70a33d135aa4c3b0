import { applyTemplate, type ApplyTemplateResult } from './apply-template';
import type { Template } from './cloud-assembly';
import { deployOrder } from './dependency-order';
import { StackStateError } from './errors';
import { templateOrGeneratedName } from './physical-names';
import type { DeployedResource, ResourceProvider } from './resource-provider';
import { runDeletes, type RunDeletesResult } from './run-deletes';
import { runRollback } from './run-rollback';
import { StackEventLog, type StackOperationResult, type StackStatus } from './stack-events';
import {
  planCleanup,
  planCreateRollback,
  planStackDelete,
  planUpdateRollback,
  type ApplyOutcome,
} from './stack-plan';
import { TemplateResolver } from './template-resolver';
import { validateUpdate } from './update-validation';

/** What a {@link StackEngine} is built from. */
export interface StackEngineOptions {
  readonly stackName: string;
  readonly stackId: string;
  readonly region: string;
  readonly accountId: string;
  /** Template parameter values. */
  readonly parameters?: Readonly<Record<string, unknown>>;
  /** The provider of each resource type. */
  providerFor(type: string): ResourceProvider;
  /** How many resource operations run at once. */
  readonly concurrency: number;
  /**
   * Prints one line of the deployer's: each stack event is one, `routine`
   * for a resource's step going as planned (see `StackEventLog`).
   */
  log(line: string, routine?: boolean): void;
}

/** A stack create that failed: how it ended, and the error of the resource that failed first. */
export interface FailedCreate extends StackOperationResult {
  readonly error: unknown;
}

/** The statuses from which CloudFormation accepts an UpdateStack. */
const UPDATABLE: ReadonlySet<StackStatus | undefined> = new Set([
  'CREATE_COMPLETE',
  'UPDATE_COMPLETE',
  'UPDATE_ROLLBACK_COMPLETE',
]);

/**
 * CloudFormation's side of one stack, independent of what carries the
 * resource operations out: the order of every create, update, cleanup,
 * rollback and delete (see CLOUDFORMATION-ORDER.md), the stack's status and
 * events, and what it holds (each resource's physical id, attributes and
 * properties). Providers (see `resource-provider.ts`) do the work.
 */
export class StackEngine {
  /** What the stack holds, by logical id. */
  readonly resources = new Map<string, DeployedResource>();
  readonly events: StackEventLog;
  readonly resolver: TemplateResolver;
  /** Resources the stack let go of with `Retain` (`DELETE_SKIPPED`): they live on. */
  readonly retained: DeployedResource[] = [];
  private deployed: Template = { Resources: {} };
  /** Physical resources the stack still tracks beyond {@link resources} (after a failed rollback). */
  private unsettled: DeployedResource[] = [];
  /** Cancelled custom-resource creates still running; awaited before an operation returns. */
  private cancelled: Promise<void>[] = [];

  constructor(private readonly options: StackEngineOptions) {
    this.events = new StackEventLog(options, (line, routine) => options.log(line, routine));
    this.resolver = new TemplateResolver({
      ...options,
      ref: (id) => this.resources.get(id)?.physicalId,
      getAtt: (id, attribute) => this.resources.get(id)?.attributes[attribute],
    });
  }

  /** The stack's status; `undefined` before it was created. */
  get status(): StackStatus | undefined {
    return this.events.status?.status;
  }

  /** The template the stack holds (after a rolled-back update: the previous one). */
  get template(): Template {
    return this.deployed;
  }

  /**
   * CreateStack: the create phase, then `CREATE_COMPLETE`; or, on the first
   * failure, `ROLLBACK_IN_PROGRESS` deleting everything created (a custom
   * resource whose Create failed included), ending `ROLLBACK_COMPLETE` or
   * `ROLLBACK_FAILED`.
   *
   * @returns `undefined` when created, else how the rollback ended and the first error.
   * @throws {TemplateError} for a template whose dependencies cannot be ordered (the stack is not created).
   */
  async create(template: Template): Promise<FailedCreate | undefined> {
    if (this.status !== undefined) throw new StackStateError('create', this.status);
    deployOrder(template); // CreateStack refuses a template it cannot order
    this.use(template);
    this.events.stackStatus('CREATE_IN_PROGRESS', 'User Initiated');
    const applied = await this.apply(template, this.included(template), new Map(), true);
    if (applied.failures.size === 0) {
      this.events.stackStatus('CREATE_COMPLETE');
      return undefined;
    }
    this.events.stackStatus(
      'ROLLBACK_IN_PROGRESS',
      `${failureSummary(applied)} Rollback requested by user.`,
    );
    const deletes = await this.runDeletes(
      planCreateRollback(template, applied.outcomes.values()),
      1,
    );
    this.keepFailed(deletes);
    this.events.stackStatus(deletes.failed.length > 0 ? 'ROLLBACK_FAILED' : 'ROLLBACK_COMPLETE');
    await this.settle();
    return { ...this.events.status!, error: applied.failures.values().next().value };
  }

  /**
   * UpdateStack: the update phase, then cleanup and `UPDATE_COMPLETE`; or, on
   * a failure, the rollback and rollback cleanup, ending
   * `UPDATE_ROLLBACK_COMPLETE` (or `UPDATE_ROLLBACK_FAILED` when an Update
   * back fails). A failed delete in either cleanup leaves that resource
   * orphaned (`DELETE_FAILED`) without failing the update.
   *
   * @throws {StackStateError} when the stack's status allows no update.
   * @throws {TemplateError} for what CloudFormation refuses up front (see `validateUpdate`).
   */
  async update(template: Template): Promise<StackOperationResult> {
    if (!UPDATABLE.has(this.status)) throw new StackStateError('update', this.status);
    validateUpdate(this.deployed, template);
    const previousTemplate = this.deployed;
    const previous = new Map(this.resources);
    this.use(template);
    this.events.stackStatus('UPDATE_IN_PROGRESS', 'User Initiated');
    const included = this.included(template);
    const applied = await this.apply(template, included, previous, false);
    const removed = [...previous.values()].filter((resource) => !included.has(resource.logicalId));
    const result =
      applied.failures.size === 0
        ? await this.cleanup(previousTemplate, template, applied, removed)
        : await this.rollback(previousTemplate, template, applied);
    await this.settle();
    return result;
  }

  /**
   * DeleteStack: every resource in reverse dependency order (`Retain` keeps
   * its resource), ending `DELETE_COMPLETE`, or `DELETE_FAILED` when a delete
   * failed (the others are still deleted).
   */
  async delete(): Promise<RunDeletesResult> {
    if (this.status === undefined) return { deleted: [], retained: [], failed: [] };
    if (this.status.endsWith('_IN_PROGRESS')) throw new StackStateError('delete', this.status);
    this.events.stackStatus('DELETE_IN_PROGRESS', 'User Initiated');
    const all = [...this.resources.values(), ...this.unsettled];
    this.unsettled = [];
    const deletes = await this.runDeletes(planStackDelete(this.deployed, all), 1);
    this.keepFailed(deletes);
    this.events.stackStatus(deletes.failed.length > 0 ? 'DELETE_FAILED' : 'DELETE_COMPLETE');
    return deletes;
  }

  private use(template: Template): void {
    this.deployed = template;
    this.resolver.use(template);
  }

  /** The template's resources whose condition holds (the resolver must be using `template`). */
  private included(template: Template): Set<string> {
    return new Set(
      Object.entries(template.Resources)
        .filter(([, resource]) => this.resolver.includes(resource))
        .map(([logicalId]) => logicalId),
    );
  }

  private apply(
    template: Template,
    included: ReadonlySet<string>,
    previous: ReadonlyMap<string, DeployedResource>,
    creating: boolean,
  ): Promise<ApplyTemplateResult> {
    return applyTemplate({
      template,
      included,
      previous,
      state: this.resources,
      resolveProperties: (logicalId) =>
        this.resolver.resolveProperties(logicalId, template.Resources[logicalId]!),
      providerFor: (type) => this.options.providerFor(type),
      events: this.events,
      concurrency: this.options.concurrency,
      cancelCustomResourcesOnFailure: creating,
      syntheticPhysicalId: (logicalId) =>
        templateOrGeneratedName(undefined, this.options.stackName, logicalId),
    }).then((result) => {
      this.cancelled.push(...result.cancelled);
      return result;
    });
  }

  /** `UPDATE_COMPLETE_CLEANUP_IN_PROGRESS`, then `UPDATE_COMPLETE`. */
  private async cleanup(
    previousTemplate: Template,
    template: Template,
    applied: ApplyTemplateResult,
    removed: readonly DeployedResource[],
  ): Promise<StackOperationResult> {
    this.events.stackStatus('UPDATE_COMPLETE_CLEANUP_IN_PROGRESS');
    for (const resource of removed) this.resources.delete(resource.logicalId);
    const plan = planCleanup(previousTemplate, template, applied.outcomes.values(), removed);
    const deletes = await this.runDeletes(plan, 3);
    this.events.stackStatus(
      'UPDATE_COMPLETE',
      deletes.failed.length > 0
        ? 'Update successful. One or more resources could not be deleted.'
        : undefined,
    );
    return this.events.status!;
  }

  /** `UPDATE_ROLLBACK_IN_PROGRESS`, rollback cleanup, then `UPDATE_ROLLBACK_COMPLETE`. */
  private async rollback(
    previousTemplate: Template,
    template: Template,
    applied: ApplyTemplateResult,
  ): Promise<StackOperationResult> {
    this.events.stackStatus('UPDATE_ROLLBACK_IN_PROGRESS', failureSummary(applied));
    this.use(previousTemplate);
    const plan = planUpdateRollback(previousTemplate, template, applied.outcomes.values());
    const failed = await runRollback(plan.steps, {
      state: this.resources,
      providerFor: (type) => this.options.providerFor(type),
      events: this.events,
      concurrency: this.options.concurrency,
    });
    if (failed.size > 0) {
      // CloudFormation still tracks every physical resource of this update.
      this.unsettled = untracked(this.resources, applied.outcomes.values());
      this.events.stackStatus(
        'UPDATE_ROLLBACK_FAILED',
        `The following resource(s) failed to update: [${[...failed.keys()].join(', ')}].`,
      );
      return this.events.status!;
    }
    this.events.stackStatus('UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS');
    for (const step of plan.cleanup) {
      if (this.resources.get(step.resource.logicalId)?.physicalId === step.resource.physicalId) {
        this.resources.delete(step.resource.logicalId);
      }
    }
    await this.runDeletes(plan.cleanup, 1);
    this.events.stackStatus('UPDATE_ROLLBACK_COMPLETE');
    return this.events.status!;
  }

  private async runDeletes(
    plan: Parameters<typeof runDeletes>[0],
    attempts: number,
  ): Promise<RunDeletesResult> {
    const result = await runDeletes(plan, {
      providerFor: (type) => this.options.providerFor(type),
      events: this.events,
      concurrency: this.options.concurrency,
      attempts,
    });
    this.retained.push(...result.retained);
    return result;
  }

  /**
   * After a create rollback or a stack delete: what was deleted or retained
   * leaves the stack; what could not be deleted stays (a retry of the delete
   * tries it again).
   */
  private keepFailed(deletes: RunDeletesResult): void {
    for (const { resource } of deletes.failed) {
      if (this.resources.get(resource.logicalId)?.physicalId !== resource.physicalId) {
        this.unsettled.push(resource);
      }
    }
    for (const resource of [...deletes.deleted, ...deletes.retained]) {
      if (this.resources.get(resource.logicalId)?.physicalId === resource.physicalId) {
        this.resources.delete(resource.logicalId);
      }
    }
  }

  /** Waits for cancelled creates still running, so that no call outlives the operation. */
  private async settle(): Promise<void> {
    const running = this.cancelled;
    this.cancelled = [];
    await Promise.all(running);
  }
}

/** CloudFormation's reason for a rollback: "The following resource(s) failed to create: [A]." and/or "…update: [B]." */
function failureSummary(applied: ApplyTemplateResult): string {
  const byVerb = new Map<string, string[]>();
  for (const logicalId of applied.failures.keys()) {
    const verb = applied.outcomes.get(logicalId)?.kind === 'create-failed' ? 'create' : 'update';
    byVerb.set(verb, [...(byVerb.get(verb) ?? []), logicalId]);
  }
  return [...byVerb]
    .map(([verb, ids]) => `The following resource(s) failed to ${verb}: [${ids.join(', ')}].`)
    .join(' ');
}

/** Every physical resource an update touched that the stack no longer records under its logical id. */
function untracked(
  resources: ReadonlyMap<string, DeployedResource>,
  outcomes: Iterable<ApplyOutcome>,
): DeployedResource[] {
  const touched = [...outcomes].flatMap((outcome): DeployedResource[] => {
    switch (outcome.kind) {
      case 'created':
        return [outcome.resource];
      case 'create-failed':
        return outcome.leftover ? [outcome.leftover] : [];
      case 'replaced':
      case 'updated':
        return [outcome.before, outcome.after];
      case 'update-failed':
      case 'replace-failed':
        return [outcome.before];
    }
  });
  const seen = new Set<string>();
  return touched.filter((resource) => {
    const key = `${resource.logicalId} ${resource.physicalId}`;
    if (resources.get(resource.logicalId)?.physicalId === resource.physicalId || seen.has(key)) {
      return false;
    }
    seen.add(key);
    return true;
  });
}
