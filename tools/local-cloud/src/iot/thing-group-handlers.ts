import { randomUUID } from 'node:crypto';
import { IotServiceError } from '../errors';
import { MAX_GROUP_DEPTH, sameAttributes, type ThingGroupRecord } from '../iot-registry';
import type { IotHandlers, RegistryHandlerDeps } from './handler';
import { shownValue, validationError, validThingGroupName } from './request-validation';
import { findThingGroup } from './resource-lookup';

type ThingGroupOperation = 'CreateThingGroup' | 'DescribeThingGroup' | 'DeleteThingGroup';

/**
 * Handlers of the static thing group operations
 * (https://docs.aws.amazon.com/iot/latest/developerguide/thing-groups.html): create
 * (idempotent for the same parent and properties; the parent is fixed at creation; at most 7
 * levels), describe, delete (idempotent; refused while child groups exist; the things only
 * leave the group). Membership is in `thing-group-membership-handlers.ts`.
 */
export function thingGroupHandlers(deps: RegistryHandlerDeps): IotHandlers<ThingGroupOperation> {
  const { registry, arnPrefix } = deps;
  return {
    CreateThingGroup: async ({ params, body }) => {
      const name = validThingGroupName(params[0]);
      const parentGroupName =
        body['parentGroupName'] === undefined
          ? undefined
          : validThingGroupName(stringOf(body['parentGroupName']), 'parentGroupName');
      const { description, attributes } = propertiesOf(body['thingGroupProperties']);
      const existing = registry.thingGroups.get(name);
      if (existing !== undefined) {
        const same =
          existing.parentGroupName === parentGroupName &&
          existing.description === description &&
          sameAttributes(existing.attributes, attributes);
        if (!same) {
          throw new IotServiceError(
            'ResourceAlreadyExistsException',
            409,
            `Thing Group ${name} already exists with different properties`,
          );
        }
        return answerOf(existing);
      }
      if (parentGroupName !== undefined) {
        if (!registry.thingGroups.has(parentGroupName)) {
          throw invalid(`Parent thing group ${parentGroupName} does not exist`);
        }
        if (registry.groupLineage(parentGroupName).length >= MAX_GROUP_DEPTH) {
          throw invalid(`A thing group hierarchy is at most ${MAX_GROUP_DEPTH} levels deep`);
        }
      }
      const record: ThingGroupRecord = {
        thingGroupName: name,
        thingGroupId: randomUUID(),
        thingGroupArn: `${arnPrefix}:thinggroup/${name}`,
        parentGroupName,
        description,
        attributes,
        version: 1,
        creationDate: Date.now(),
      };
      registry.thingGroups.set(name, record);
      await registry.save();
      return answerOf(record);
    },
    DescribeThingGroup: ({ params }) => {
      const record = findThingGroup(registry, params[0]);
      const ancestors = registry.groupLineage(record.thingGroupName).slice(1).reverse();
      return {
        thingGroupName: record.thingGroupName,
        thingGroupId: record.thingGroupId,
        thingGroupArn: record.thingGroupArn,
        version: record.version,
        thingGroupProperties: {
          thingGroupDescription: record.description,
          attributePayload: { attributes: record.attributes },
        },
        thingGroupMetadata: {
          parentGroupName: record.parentGroupName,
          rootToParentThingGroups: ancestors.map((group) => ({
            groupName: group.thingGroupName,
            groupArn: group.thingGroupArn,
          })),
          creationDate: record.creationDate / 1000,
        },
      };
    },
    DeleteThingGroup: async ({ params, query }) => {
      const name = validThingGroupName(params[0]);
      const record = registry.thingGroups.get(name);
      // Like DeleteThing, deleting a group that does not exist succeeds.
      if (record === undefined) return {};
      const expected = query.get('expectedVersion');
      if (expected !== null && Number(expected) !== record.version) {
        throw new IotServiceError(
          'VersionConflictException',
          409,
          `The version for thing group ${name} does not match the expected version.`,
        );
      }
      const hasChildren = [...registry.thingGroups.values()].some(
        (group) => group.parentGroupName === name,
      );
      if (hasChildren) {
        // AWS's wording, from the developer guide.
        throw invalid(
          `Cannot delete thing group : ${name} when there are still child groups attached to it.`,
        );
      }
      registry.thingGroups.delete(name);
      registry.thingGroupMembers.delete(name);
      for (const targets of registry.policyTargets.values()) targets.delete(record.thingGroupArn);
      await registry.save();
      return {};
    },
  };
}

function answerOf(record: ThingGroupRecord): Record<string, string> {
  return {
    thingGroupName: record.thingGroupName,
    thingGroupArn: record.thingGroupArn,
    thingGroupId: record.thingGroupId,
  };
}

function propertiesOf(value: unknown): {
  description?: string;
  attributes: Record<string, string>;
} {
  if (value === undefined) return { attributes: {} };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid('thingGroupProperties must be an object');
  }
  const properties = value as Record<string, unknown>;
  const description = properties['thingGroupDescription'];
  if (description !== undefined && (typeof description !== 'string' || description.length > 2028)) {
    throw validationError(
      'thingGroupDescription',
      shownValue(description).slice(0, 64),
      'Member must have length less than or equal to 2028',
    );
  }
  const payload = properties['attributePayload'] as { attributes?: unknown } | undefined;
  const attributes: Record<string, string> = {};
  for (const [key, item] of Object.entries(payload?.attributes ?? {})) {
    if (typeof item !== 'string') throw invalid(`attribute ${key} must be a string`);
    attributes[key] = item;
  }
  return { description, attributes };
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function invalid(message: string): IotServiceError {
  return new IotServiceError('InvalidRequestException', 400, message);
}
