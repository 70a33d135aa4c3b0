import { failureReason } from './apply-template';
import { runInDependencyOrder } from './graph-scheduler';
import type { DeployedResource, ResourceProvider } from './resource-provider';
import type { StackEventLog } from './stack-events';
import type { DeleteStep } from './stack-plan';

/** What running a delete plan needs. */
export interface RunDeletesContext {
  providerFor(type: string): ResourceProvider;
  readonly events: StackEventLog;
  readonly concurrency: number;
  /**
   * How many times a failing Delete is sent before the resource is given up
   * on: 3 in update cleanup ("CloudFormation attempts to delete the old
   * resource three times"), 1 elsewhere.
   */
  readonly attempts: number;
}

/** A delete that failed, with the reason of its last attempt. */
export interface FailedDelete {
  readonly resource: DeployedResource;
  readonly reason: string;
}

/** How a delete plan ended. */
export interface RunDeletesResult {
  readonly deleted: readonly DeployedResource[];
  /** Retained (`DELETE_SKIPPED`): they live on outside the stack. */
  readonly retained: readonly DeployedResource[];
  readonly failed: readonly FailedDelete[];
}

/**
 * Runs a delete plan (cleanup, rollback cleanup, create rollback, stack
 * delete): each resource after those that depend on it, independent ones in
 * parallel. A failed delete does not stop the others, those it waited for
 * included (CLOUDFORMATION-ORDER.md 6.3).
 */
export async function runDeletes(
  steps: readonly DeleteStep[],
  context: RunDeletesContext,
): Promise<RunDeletesResult> {
  const byKey = new Map(steps.map((step) => [step.key, step]));
  const deleted: DeployedResource[] = [];
  const retained: DeployedResource[] = [];
  const failed: FailedDelete[] = [];
  await runInDependencyOrder({
    waitsFor: new Map(steps.map((step) => [step.key, step.waitsFor])),
    concurrency: context.concurrency,
    onFailure: 'continue',
    run: async (key) => {
      const { resource, retain } = byKey.get(key)!;
      if (retain) {
        context.events.resource(resource, 'DELETE_SKIPPED');
        retained.push(resource);
        return;
      }
      context.events.resource(resource, 'DELETE_IN_PROGRESS');
      const provider = context.providerFor(resource.type);
      let reason = '';
      for (let attempt = 1; attempt <= Math.max(1, context.attempts); attempt++) {
        try {
          await provider.delete(resource);
          context.events.resource(resource, 'DELETE_COMPLETE');
          deleted.push(resource);
          return;
        } catch (error) {
          reason = failureReason(error);
        }
      }
      context.events.resource(resource, 'DELETE_FAILED', reason);
      failed.push({ resource, reason });
      throw new Error(reason);
    },
  });
  return { deleted, retained, failed };
}
