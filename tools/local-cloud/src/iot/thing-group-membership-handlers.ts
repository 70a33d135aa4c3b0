import { IotServiceError } from '../errors';
import { MAX_GROUPS_PER_THING, sameHierarchyGroup } from '../fleet/thing-group-rules';
import type { IotRegistry, ThingGroupRecord, ThingRecord } from '../iot-registry';
import type { IotHandlers, RegistryHandlerDeps } from './handler';
import { pageSize, paginate } from './paging';
import { findThing, findThingGroup } from './resource-lookup';

type MembershipOperation =
  | 'AddThingToThingGroup'
  | 'RemoveThingFromThingGroup'
  | 'ListThingsInThingGroup'
  | 'ListThingGroupsForThing';

/**
 * Handlers of static thing group membership: add (idempotent; at most 10 groups per thing, one
 * per hierarchy), remove (idempotent), and both listings (things of a group, `recursive` with
 * its child groups; groups of a thing).
 */
export function thingGroupMembershipHandlers(
  deps: RegistryHandlerDeps,
): IotHandlers<MembershipOperation> {
  const { registry } = deps;
  return {
    AddThingToThingGroup: async ({ body }) => {
      const { group, thing } = membershipOf(registry, body);
      const current = registry.groupsOfThing(thing.thingName);
      if (!current.includes(group.thingGroupName)) {
        if (current.length >= MAX_GROUPS_PER_THING) {
          throw invalid(
            `Thing ${thing.thingName} is already in ${MAX_GROUPS_PER_THING} thing groups`,
          );
        }
        const clash = sameHierarchyGroup(registry, group.thingGroupName, current);
        if (clash !== undefined) {
          throw invalid(
            `Thing ${thing.thingName} is already in thing group ${clash} of the same hierarchy as ${group.thingGroupName}`,
          );
        }
        const members = registry.thingGroupMembers.get(group.thingGroupName) ?? new Set<string>();
        members.add(thing.thingName);
        registry.thingGroupMembers.set(group.thingGroupName, members);
        await registry.save();
      }
      return {};
    },
    RemoveThingFromThingGroup: async ({ body }) => {
      const { group, thing } = membershipOf(registry, body);
      if (registry.thingGroupMembers.get(group.thingGroupName)?.delete(thing.thingName) === true) {
        await registry.save();
      }
      return {};
    },
    ListThingsInThingGroup: ({ params, query }) => {
      const group = findThingGroup(registry, params[0]);
      const groups = [group.thingGroupName];
      if (query.get('recursive') === 'true') {
        for (const candidate of registry.thingGroups.values()) {
          const lineage = registry.groupLineage(candidate.thingGroupName);
          if (lineage.slice(1).some((level) => level.thingGroupName === group.thingGroupName)) {
            groups.push(candidate.thingGroupName);
          }
        }
      }
      const things = new Set<string>();
      for (const name of groups) {
        for (const thing of registry.thingGroupMembers.get(name) ?? []) things.add(thing);
      }
      const all = [...things].sort((a, b) => a.localeCompare(b));
      const page = paginate(
        all,
        query.get('nextToken'),
        pageSize(query.get('maxResults'), 25, 250),
      );
      return { things: page.items, nextToken: page.next };
    },
    ListThingGroupsForThing: ({ params, query }) => {
      const thing = findThing(registry, params[0]);
      const all = registry.groupsOfThing(thing.thingName).map((name) => ({
        groupName: name,
        groupArn: registry.thingGroups.get(name)?.thingGroupArn,
      }));
      const page = paginate(
        all,
        query.get('nextToken'),
        pageSize(query.get('maxResults'), 25, 250),
      );
      return { thingGroups: page.items, nextToken: page.next };
    },
  };
}

/** The group and thing a membership call names, by name or by ARN. */
function membershipOf(
  registry: IotRegistry,
  body: Record<string, unknown>,
): { group: ThingGroupRecord; thing: ThingRecord } {
  const groupName = nameOf(body['thingGroupName'], body['thingGroupArn'], ':thinggroup/');
  const thingName = nameOf(body['thingName'], body['thingArn'], ':thing/');
  if (groupName === undefined) throw invalid('thingGroupName or thingGroupArn is required');
  if (thingName === undefined) throw invalid('thingName or thingArn is required');
  return { group: findThingGroup(registry, groupName), thing: findThing(registry, thingName) };
}

function nameOf(name: unknown, arn: unknown, marker: string): string | undefined {
  if (typeof name === 'string') return name;
  if (typeof arn !== 'string') return undefined;
  const at = arn.indexOf(marker);
  return at === -1 ? arn : arn.slice(at + marker.length);
}

function invalid(message: string): IotServiceError {
  return new IotServiceError('InvalidRequestException', 400, message);
}
