import type { IotRegistry } from '../iot-registry';
import type { DelayedTasks } from './delayed-tasks';
import type { IotHandlers } from './handler';
import { pageSize, paginate } from './paging';
import { requirePrincipal } from './request-validation';
import { findThing, requireCertificatePrincipal } from './resource-lookup';

/** What the thing-principal operations need. */
export interface ThingPrincipalHandlerDeps {
  registry: IotRegistry;
  /** DetachThingPrincipal takes effect after this many milliseconds (0: at once). */
  detachDelayMs: number;
  /** Where delayed detaches wait. */
  delayedDetaches: DelayedTasks;
}

type ThingPrincipalOperation =
  'AttachThingPrincipal' | 'DetachThingPrincipal' | 'ListThingPrincipals' | 'ListPrincipalThings';

/** Handlers of the operations that attach certificates (principals) to things and list them. */
export function thingPrincipalHandlers(
  deps: ThingPrincipalHandlerDeps,
): IotHandlers<ThingPrincipalOperation> {
  const { registry } = deps;
  return {
    AttachThingPrincipal: async (call) => {
      const record = findThing(registry, call.params[0]);
      const principal = requirePrincipal(call.headers);
      requireCertificatePrincipal(registry, principal);
      const principals = registry.thingPrincipals.get(record.thingName) ?? new Set<string>();
      principals.add(principal);
      registry.thingPrincipals.set(record.thingName, principals);
      await registry.save();
      return {};
    },
    DetachThingPrincipal: (call) => {
      const record = findThing(registry, call.params[0]);
      const principal = requirePrincipal(call.headers);
      const detach = async () => {
        registry.thingPrincipals.get(record.thingName)?.delete(principal);
        await registry.save();
      };
      if (deps.detachDelayMs <= 0) return detach().then(() => ({}));
      // AWS applies the detach asynchronously: it is visible only after a delay.
      deps.delayedDetaches.schedule(deps.detachDelayMs, detach);
      return {};
    },
    ListThingPrincipals: ({ params, query }) => {
      const record = findThing(registry, params[0]);
      const all = [...(registry.thingPrincipals.get(record.thingName) ?? [])];
      const page = paginate(
        all,
        query.get('nextToken'),
        pageSize(query.get('maxResults'), 25, 250),
      );
      return { principals: page.items, nextToken: page.next };
    },
    ListPrincipalThings: (call) => {
      const principal = requirePrincipal(call.headers);
      requireCertificatePrincipal(registry, principal);
      const all = registry.thingsFor(principal);
      const page = paginate(
        all,
        call.query.get('nextToken'),
        pageSize(call.query.get('maxResults'), 25, 250),
      );
      return { things: page.items, nextToken: page.next };
    },
  };
}
