import type { Template } from './cloud-assembly';
import { dependenciesOf, deployOrder } from './dependency-order';
import { isCustomResourceType } from './custom-resource-type';
import type { DeployedResource } from './resource-provider';

/**
 * The `DeletionPolicy` values that keep a resource when it is removed from
 * the template or its stack is deleted (a local `Snapshot` is a Delete: the
 * local cloud keeps no snapshots).
 */
const RETAINING_POLICIES: ReadonlySet<string> = new Set(['Retain', 'RetainExceptOnCreate']);

/**
 * What happened to one resource in the create or update phase; the input of
 * every later phase's plan.
 */
export type ApplyOutcome =
  /** Added to the stack (or created by a stack create). */
  | { readonly kind: 'created'; readonly resource: DeployedResource }
  /**
   * Its Create failed or was cancelled. `leftover` is what CloudFormation
   * still sends a Delete for: a custom resource, with the id it answered or
   * one CloudFormation made up.
   */
  | {
      readonly kind: 'create-failed';
      readonly logicalId: string;
      readonly leftover?: DeployedResource;
    }
  /** Updated in place (same physical id). */
  | {
      readonly kind: 'updated';
      readonly before: DeployedResource;
      readonly after: DeployedResource;
    }
  /**
   * Its Update failed. `attempted` are the properties it was sent;
   * `answeredId` the physical id a custom resource answered with FAILED.
   */
  | {
      readonly kind: 'update-failed';
      readonly before: DeployedResource;
      readonly attempted: Readonly<Record<string, unknown>>;
      readonly answeredId?: string;
    }
  /** Replaced: `after` is the new physical resource, `before` lives on until cleanup. */
  | {
      readonly kind: 'replaced';
      readonly before: DeployedResource;
      readonly after: DeployedResource;
    }
  /** Creating its replacement failed; the old one is untouched. */
  | { readonly kind: 'replace-failed'; readonly before: DeployedResource };

/** One delete of a plan: a Delete call, or a retained resource (`DELETE_SKIPPED`, no call). */
export interface DeleteStep {
  /** Unique within the plan: `<logical id> <physical id>`. */
  readonly key: string;
  readonly resource: DeployedResource;
  readonly retain: boolean;
  /** Keys of the steps that must be done first (the resources that depend on this one). */
  readonly waitsFor: ReadonlySet<string>;
}

/** One step of an update rollback (`UPDATE_ROLLBACK_IN_PROGRESS`). */
export interface RollbackStep {
  /**
   * `update-back`: an Update from `current` back to `restore` (a custom
   * resource gets ResourceProperties = `restore`'s, OldResourceProperties =
   * `current`'s, PhysicalResourceId = `current`'s). `switch-back`: the stack
   * records `restore` again, with no call.
   */
  readonly kind: 'update-back' | 'switch-back';
  readonly logicalId: string;
  readonly current: DeployedResource;
  readonly restore: DeployedResource;
  /** Logical ids of the steps that must be done first (what this resource depends on). */
  readonly waitsFor: ReadonlySet<string>;
}

/** An update rollback: the rollback updates, then the deletes of rollback cleanup. */
export interface UpdateRollbackPlan {
  readonly steps: readonly RollbackStep[];
  readonly cleanup: readonly DeleteStep[];
}

/** Every resource each resource depends on, directly or not. */
function transitiveDependencies(template: Template): Map<string, Set<string>> {
  const direct = dependenciesOf(template);
  const all = new Map<string, Set<string>>();
  for (const id of deployOrder(template)) {
    const set = new Set<string>();
    for (const dep of direct.get(id) ?? []) {
      set.add(dep);
      for (const further of all.get(dep) ?? []) set.add(further);
    }
    all.set(id, set);
  }
  return all;
}

/** A resource's `DeletionPolicy` or `UpdateReplacePolicy` in `template`; CloudFormation's default is Delete. */
function policy(
  template: Template,
  logicalId: string,
  attribute: 'DeletionPolicy' | 'UpdateReplacePolicy',
): string {
  return template.Resources[logicalId]?.[attribute] ?? 'Delete';
}

/**
 * The forward plan of a create or update phase: each resource of `included`
 * (in dependency order) with the resources it waits for.
 */
export function planApply(
  template: Template,
  included: ReadonlySet<string>,
): Map<string, ReadonlySet<string>> {
  const deps = dependenciesOf(template);
  const plan = new Map<string, ReadonlySet<string>>();
  for (const id of deployOrder(template)) {
    if (!included.has(id)) continue;
    plan.set(id, new Set([...(deps.get(id) ?? [])].filter((dep) => included.has(dep))));
  }
  return plan;
}

/**
 * Deletes in reverse dependency order of `graph`: each resource after every
 * resource of the set that depends on it, directly or not. Resources the
 * graph does not know come first.
 */
export function planDeletes(
  graph: Template,
  resources: readonly DeployedResource[],
  retain: (resource: DeployedResource) => boolean,
): DeleteStep[] {
  const dependencies = transitiveDependencies(graph);
  const rank = new Map(deployOrder(graph).map((id, index) => [id, index]));
  const keyOf = (resource: DeployedResource) => `${resource.logicalId} ${resource.physicalId}`;
  const sorted = [...resources].sort(
    (a, b) => (rank.get(b.logicalId) ?? Infinity) - (rank.get(a.logicalId) ?? Infinity),
  );
  return sorted.map((resource) => ({
    key: keyOf(resource),
    resource,
    retain: retain(resource),
    waitsFor: new Set(
      sorted
        .filter((other) => dependencies.get(other.logicalId)?.has(resource.logicalId))
        .map(keyOf),
    ),
  }));
}

/**
 * `UPDATE_COMPLETE_CLEANUP_IN_PROGRESS`: the old physical ids of replaced
 * resources (kept when the new template's `UpdateReplacePolicy` is Retain)
 * and the resources removed from the template (kept when the old template's
 * `DeletionPolicy` is Retain or RetainExceptOnCreate), in reverse order of
 * the OLD template's graph.
 */
export function planCleanup(
  oldTemplate: Template,
  newTemplate: Template,
  outcomes: Iterable<ApplyOutcome>,
  removed: readonly DeployedResource[],
): DeleteStep[] {
  const replaced = [...outcomes].flatMap((outcome) =>
    outcome.kind === 'replaced' ? [outcome.before] : [],
  );
  const removedIds = new Set(removed.map((resource) => resource.logicalId));
  return planDeletes(oldTemplate, [...replaced, ...removed], (resource) =>
    removedIds.has(resource.logicalId)
      ? RETAINING_POLICIES.has(policy(oldTemplate, resource.logicalId, 'DeletionPolicy'))
      : policy(newTemplate, resource.logicalId, 'UpdateReplacePolicy') === 'Retain',
  );
}

/**
 * Whether a resource this very operation created is kept when the operation
 * rolls back: `Retain` keeps it, `RetainExceptOnCreate` does not.
 */
function retainedOnRollback(template: Template, logicalId: string): boolean {
  return policy(template, logicalId, 'DeletionPolicy') === 'Retain';
}

/**
 * `UPDATE_ROLLBACK_IN_PROGRESS` then `UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS`:
 * - resources updated in place, and a custom resource whose own Update
 *   failed (keeping its id), get an Update back, in the OLD template's order;
 * - replaced resources, and a custom resource that answered its failed Update
 *   with a new id, are switched back to the old id with no call;
 * - rollback cleanup deletes those new ids and the resources this update
 *   added (with a custom resource whose Create failed), in reverse order of
 *   the NEW template's graph.
 */
export function planUpdateRollback(
  oldTemplate: Template,
  newTemplate: Template,
  outcomes: Iterable<ApplyOutcome>,
): UpdateRollbackPlan {
  const steps = new Map<string, Omit<RollbackStep, 'waitsFor'>>();
  const created: DeployedResource[] = [];
  for (const outcome of outcomes) {
    switch (outcome.kind) {
      case 'updated':
        steps.set(outcome.before.logicalId, {
          kind: 'update-back',
          logicalId: outcome.before.logicalId,
          current: outcome.after,
          restore: outcome.before,
        });
        break;
      case 'update-failed': {
        const { before, attempted, answeredId } = outcome;
        const logicalId = before.logicalId;
        if (!isCustomResourceType(before.type)) break; // other types: a no-op rollback
        if (answeredId === undefined || answeredId === before.physicalId) {
          const current = { ...before, properties: attempted };
          steps.set(logicalId, { kind: 'update-back', logicalId, current, restore: before });
        } else {
          // A FAILED answer with a new id: a failed replacement (spec 3.5).
          const current = {
            ...before,
            physicalId: answeredId,
            properties: attempted,
            attributes: {},
          };
          steps.set(logicalId, { kind: 'switch-back', logicalId, current, restore: before });
          created.push(current);
        }
        break;
      }
      case 'replaced':
        steps.set(outcome.before.logicalId, {
          kind: 'switch-back',
          logicalId: outcome.before.logicalId,
          current: outcome.after,
          restore: outcome.before,
        });
        created.push(outcome.after);
        break;
      case 'created':
        created.push(outcome.resource);
        break;
      case 'create-failed':
        if (outcome.leftover) created.push(outcome.leftover);
        break;
      case 'replace-failed':
        break;
    }
  }
  const dependencies = transitiveDependencies(oldTemplate);
  const ordered = deployOrder(oldTemplate).flatMap((id) => {
    const step = steps.get(id);
    if (!step) return [];
    const waitsFor = new Set([...(dependencies.get(id) ?? [])].filter((dep) => steps.has(dep)));
    return [{ ...step, waitsFor }];
  });
  return {
    steps: ordered,
    cleanup: planDeletes(newTemplate, created, (resource) =>
      retainedOnRollback(newTemplate, resource.logicalId),
    ),
  };
}

/**
 * `ROLLBACK_IN_PROGRESS` after a failed stack create: everything created, and
 * each custom resource whose Create failed or was cancelled, in reverse
 * dependency order.
 */
export function planCreateRollback(
  template: Template,
  outcomes: Iterable<ApplyOutcome>,
): DeleteStep[] {
  const created = [...outcomes].flatMap((outcome) => {
    if (outcome.kind === 'created') return [outcome.resource];
    if (outcome.kind === 'create-failed' && outcome.leftover) return [outcome.leftover];
    return [];
  });
  return planDeletes(template, created, (resource) =>
    retainedOnRollback(template, resource.logicalId),
  );
}

/**
 * `DELETE_IN_PROGRESS`: every resource in reverse dependency order; `Retain`
 * and `RetainExceptOnCreate` keep theirs.
 */
export function planStackDelete(
  template: Template,
  resources: readonly DeployedResource[],
): DeleteStep[] {
  return planDeletes(template, resources, (resource) =>
    RETAINING_POLICIES.has(policy(template, resource.logicalId, 'DeletionPolicy')),
  );
}
