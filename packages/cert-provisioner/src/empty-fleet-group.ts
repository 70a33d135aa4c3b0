import { isFleetThingName } from '@thingcert/contracts';
import {
  deregisterFleetThing,
  type FleetDeregistrationDeps,
  type FleetDeregistrationResult,
} from './deregister-fleet-thing';
import { silentLogger } from './provisioner-deps';
import { thingGroupMembers } from './thing-group-members';

/** What {@link emptyFleetGroup} did. */
export interface EmptyFleetGroupResult {
  /** The things deregistered. */
  readonly deregistered: readonly FleetDeregistrationResult[];
  /** Members whose names are not the fleet's: left alone. */
  readonly skipped: readonly string[];
}

/** Things deregistered at once: AWS IoT throttles its control plane at about 10 TPS per call. */
const CONCURRENCY = 4;

/**
 * Stack delete: deregisters every thing of the fleet's group whose name
 * {@link isFleetThingName} accepts (a thing someone else put in the group is
 * left alone), a few at a time. The group is listed first, in full, so
 * deleting things does not shift the pages being read.
 *
 * @example
 * ```ts
 * await emptyFleetGroup({ thingGroupName, thingNamePrefix }, { iot });
 * ```
 */
export async function emptyFleetGroup(
  fleet: { readonly thingGroupName: string; readonly thingNamePrefix: string },
  deps: FleetDeregistrationDeps,
): Promise<EmptyFleetGroupResult> {
  const logger = deps.logger ?? silentLogger;
  const members: string[] = [];
  for await (const member of thingGroupMembers(deps.iot, fleet.thingGroupName, deps.signal)) {
    members.push(member);
  }
  const ours = members.filter((name) => isFleetThingName(fleet.thingNamePrefix, name));
  const skipped = members.filter((name) => !ours.includes(name));
  if (skipped.length > 0) {
    logger.warn('Thing group members not of this fleet left alone', {
      thingGroupName: fleet.thingGroupName,
      things: skipped.slice(0, 20),
    });
  }
  const deregistered: FleetDeregistrationResult[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < ours.length) {
      const thingName = ours[next++]!;
      deregistered.push(await deregisterFleetThing(thingName, deps));
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, ours.length) }, worker));
  return { deregistered, skipped };
}
