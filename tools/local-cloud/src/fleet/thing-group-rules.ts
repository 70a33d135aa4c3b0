import type { IotRegistry } from '../iot-registry';

/** "You can add a thing to a maximum of 10 groups." (AWS IoT developer guide, thing groups) */
export const MAX_GROUPS_PER_THING = 10;

/**
 * The first of `others` in the same hierarchy as `group` (same root group), if any: "you can't
 * add a thing to more than one group in the same hierarchy" (AWS IoT developer guide,
 * https://docs.aws.amazon.com/iot/latest/developerguide/thing-groups.html).
 */
export function sameHierarchyGroup(
  registry: IotRegistry,
  group: string,
  others: readonly string[],
): string | undefined {
  const root = rootOf(registry, group);
  return others.find((other) => other !== group && rootOf(registry, other) === root);
}

function rootOf(registry: IotRegistry, group: string): string {
  return registry.groupLineage(group).at(-1)?.thingGroupName ?? group;
}
