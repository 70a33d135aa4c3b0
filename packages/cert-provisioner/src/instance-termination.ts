import {
  type AutoScalingClient,
  CompleteLifecycleActionCommand,
} from '@aws-sdk/client-auto-scaling';
import type { IoTClient } from '@aws-sdk/client-iot';
import type { StructuredLogger } from '@thingcert/cfn-response';
import { FLEET_TERMINATION_EVENT_DETAIL_TYPE, fleetThingName } from '@thingcert/contracts';
import { deregisterFleetThing, type FleetDeregistrationResult } from './deregister-fleet-thing';
import { UnrecognizedFleetEventError } from './errors';
import type { Sleep } from './provisioner-deps';

/** The `detail` of an "EC2 Instance-terminate Lifecycle Action" event, the fields used. */
export interface TerminationLifecycleAction {
  /** The terminating instance: its id is the device id. */
  readonly EC2InstanceId: string;
  /** The group. */
  readonly AutoScalingGroupName: string;
  /** The lifecycle hook holding the instance. */
  readonly LifecycleHookName: string;
  /** Token of this lifecycle action. */
  readonly LifecycleActionToken: string;
}

const REQUIRED_FIELDS = [
  'EC2InstanceId',
  'AutoScalingGroupName',
  'LifecycleHookName',
  'LifecycleActionToken',
] as const satisfies readonly (keyof TerminationLifecycleAction)[];

/** Whether `event` looks like an EventBridge event of {@link FLEET_TERMINATION_EVENT_DETAIL_TYPE}. */
export function isTerminationEvent(event: unknown): boolean {
  return (
    typeof event === 'object' &&
    event !== null &&
    (event as Record<string, unknown>)['detail-type'] === FLEET_TERMINATION_EVENT_DETAIL_TYPE
  );
}

/**
 * The lifecycle action of a termination event.
 *
 * @throws UnrecognizedFleetEventError naming the missing field
 */
export function parseTerminationEvent(event: unknown): TerminationLifecycleAction {
  if (!isTerminationEvent(event)) {
    throw new UnrecognizedFleetEventError(`Not an "${FLEET_TERMINATION_EVENT_DETAIL_TYPE}" event`);
  }
  const detail = (event as { detail?: unknown }).detail;
  if (typeof detail !== 'object' || detail === null) {
    throw new UnrecognizedFleetEventError('The termination event has no detail');
  }
  const record = detail as Record<string, unknown>;
  for (const field of REQUIRED_FIELDS) {
    if (typeof record[field] !== 'string' || record[field] === '') {
      throw new UnrecognizedFleetEventError(`The termination event's detail has no ${field}`);
    }
  }
  return record as unknown as TerminationLifecycleAction;
}

/** What {@link deregisterTerminatingInstance} is given. */
export interface InstanceTerminationDeps {
  /** IoT control-plane client. */
  readonly iot: IoTClient;
  /** Auto Scaling client, for CompleteLifecycleAction. */
  readonly autoScaling: AutoScalingClient;
  /** Structured logger. */
  readonly logger: StructuredLogger;
  /** @default a `setTimeout` based sleep */
  readonly sleep?: Sleep;
  /** Stops the work. */
  readonly signal?: AbortSignal;
}

/**
 * Scale-in: deregisters the thing the terminating instance registered
 * (`fleetThingName(prefix, instance id)`; nothing to do when it never did),
 * then lets the termination go on (`CompleteLifecycleAction` CONTINUE).
 * When the deregistration fails the error is thrown without completing the
 * action: the Lambda's asynchronous retry deregisters again, and the hook's
 * timeout (DefaultResult CONTINUE) ends the wait in any case.
 */
export async function deregisterTerminatingInstance(
  action: TerminationLifecycleAction,
  thingNamePrefix: string,
  deps: InstanceTerminationDeps,
): Promise<FleetDeregistrationResult> {
  const thingName = fleetThingName(thingNamePrefix, action.EC2InstanceId);
  const result = await deregisterFleetThing(thingName, deps);
  await deps.autoScaling.send(
    new CompleteLifecycleActionCommand({
      AutoScalingGroupName: action.AutoScalingGroupName,
      LifecycleHookName: action.LifecycleHookName,
      LifecycleActionToken: action.LifecycleActionToken,
      InstanceId: action.EC2InstanceId,
      LifecycleActionResult: 'CONTINUE',
    }),
    { abortSignal: deps.signal },
  );
  deps.logger.info('Lifecycle action completed', {
    instanceId: action.EC2InstanceId,
    thingName,
    thingDeleted: result.thingDeleted,
  });
  return result;
}
