import { randomUUID } from 'node:crypto';
import { IotServiceError } from '../errors';
import { sameAttributes, type ThingRecord } from '../iot-registry';
import type { IotHandlers, RegistryHandlerDeps } from './handler';
import { pageSize, paginate } from './paging';
import { validThingName } from './request-validation';
import { findThing } from './resource-lookup';

type ThingOperation = 'CreateThing' | 'DescribeThing' | 'DeleteThing' | 'ListThings';

/** Handlers of the thing operations: create (idempotent), describe, delete, list. */
export function thingHandlers(deps: RegistryHandlerDeps): IotHandlers<ThingOperation> {
  const { registry, arnPrefix } = deps;
  return {
    CreateThing: async ({ params, body }) => {
      const name = validThingName(params[0]);
      const payload = body['attributePayload'] as
        { attributes?: Record<string, string> } | undefined;
      const attributes = payload?.attributes ?? {};
      const thingTypeName =
        typeof body['thingTypeName'] === 'string' ? body['thingTypeName'] : undefined;
      const existing = registry.things.get(name);
      if (existing !== undefined) {
        const same =
          existing.thingTypeName === thingTypeName &&
          sameAttributes(existing.attributes, attributes);
        if (!same) {
          throw new IotServiceError(
            'ResourceAlreadyExistsException',
            409,
            `Thing ${name} already exists in account with different attributes`,
          );
        }
        return { thingName: name, thingArn: existing.thingArn, thingId: existing.thingId };
      }
      const record: ThingRecord = {
        thingName: name,
        thingId: randomUUID(),
        thingArn: `${arnPrefix}:thing/${name}`,
        thingTypeName,
        attributes,
        version: 1,
      };
      registry.things.set(name, record);
      await registry.save();
      return { thingName: name, thingArn: record.thingArn, thingId: record.thingId };
    },
    DescribeThing: ({ params }) => {
      const record = findThing(registry, params[0]);
      return {
        defaultClientId: record.thingName,
        thingName: record.thingName,
        thingId: record.thingId,
        thingArn: record.thingArn,
        thingTypeName: record.thingTypeName,
        attributes: record.attributes,
        version: record.version,
      };
    },
    DeleteThing: async ({ params, query }) => {
      const name = validThingName(params[0]);
      const record = registry.things.get(name);
      // AWS answers success for a thing that does not exist (DeleteThing is idempotent).
      if (record === undefined) return undefined;
      const expected = query.get('expectedVersion');
      if (expected !== null && Number(expected) !== record.version) {
        throw new IotServiceError(
          'VersionConflictException',
          409,
          `The version for thing ${name} does not match the expected version.`,
        );
      }
      if ((registry.thingPrincipals.get(name)?.size ?? 0) > 0) {
        throw new IotServiceError(
          'InvalidRequestException',
          400,
          `Cannot delete thing ${name}: principals are still attached. Detach them first (DetachThingPrincipal).`,
        );
      }
      registry.things.delete(name);
      registry.thingPrincipals.delete(name);
      // A deleted thing leaves its thing groups.
      for (const members of registry.thingGroupMembers.values()) members.delete(name);
      await registry.save();
      return undefined;
    },
    ListThings: ({ query }) => {
      const attributeName = query.get('attributeName');
      const attributeValue = query.get('attributeValue');
      const typeName = query.get('thingTypeName');
      const all = [...registry.things.values()]
        .filter((t) => typeName === null || t.thingTypeName === typeName)
        .filter(
          (t) =>
            attributeName === null ||
            (attributeValue === null
              ? attributeName in t.attributes
              : t.attributes[attributeName] === attributeValue),
        )
        .sort((a, b) => a.thingName.localeCompare(b.thingName));
      const page = paginate(
        all,
        query.get('nextToken'),
        pageSize(query.get('maxResults'), 50, 250),
      );
      return {
        things: page.items.map((t) => ({
          thingName: t.thingName,
          thingTypeName: t.thingTypeName,
          thingArn: t.thingArn,
          attributes: t.attributes,
          version: t.version,
        })),
        nextToken: page.next,
      };
    },
  };
}
