import { failureReason, updateInPlace } from './apply-template';
import { isCustomResourceType } from './custom-resource-type';
import { runInDependencyOrder } from './graph-scheduler';
import type { DeployedResource, ResourceProvider } from './resource-provider';
import type { StackEventLog } from './stack-events';
import type { RollbackStep } from './stack-plan';

/** What the rollback updates need. */
export interface RunRollbackContext {
  /** What the stack holds; each step puts the resource's old record back. */
  readonly state: Map<string, DeployedResource>;
  providerFor(type: string): ResourceProvider;
  readonly events: StackEventLog;
  readonly concurrency: number;
}

/**
 * `UPDATE_ROLLBACK_IN_PROGRESS`: runs the rollback steps in the old
 * template's order. A switch-back only records the old resource again. An
 * update-back calls the provider; a custom resource's attributes become the
 * `Data` of its answer, or stay those of the snapshot when it answered none
 * (CLOUDFORMATION-ORDER.md 8.4). After a failure nothing new starts.
 *
 * @returns the failed steps by logical id, with their errors (empty when the rollback succeeded).
 */
export async function runRollback(
  steps: readonly RollbackStep[],
  context: RunRollbackContext,
): Promise<ReadonlyMap<string, unknown>> {
  const byId = new Map(steps.map((step) => [step.logicalId, step]));
  const result = await runInDependencyOrder({
    waitsFor: new Map(steps.map((step) => [step.logicalId, step.waitsFor])),
    concurrency: context.concurrency,
    onFailure: 'stop',
    run: async (logicalId) => {
      const { kind, current, restore } = byId.get(logicalId)!;
      if (kind === 'switch-back') {
        context.state.set(logicalId, restore);
        context.events.resource(
          restore,
          'UPDATE_COMPLETE',
          `switched back from ${current.physicalId} to the previous physical resource, with no call`,
        );
        return;
      }
      context.events.resource(current, 'UPDATE_IN_PROGRESS');
      try {
        const request = { logicalId, type: restore.type, properties: restore.properties };
        const answer = await updateInPlace(context.providerFor(restore.type), request, current);
        const answeredData = Object.keys(answer.attributes).length > 0;
        const attributes =
          isCustomResourceType(restore.type) && !answeredData
            ? restore.attributes
            : answer.attributes;
        const rolledBack = { ...restore, physicalId: answer.physicalId, attributes };
        context.state.set(logicalId, rolledBack);
        context.events.resource(rolledBack, 'UPDATE_COMPLETE');
      } catch (error) {
        context.events.resource(current, 'UPDATE_FAILED', failureReason(error));
        throw error;
      }
    },
  });
  return result.failed;
}
