import { IotServiceError, isMalformedPolicyError } from '../errors';
import { IotRegistry } from '../iot-registry';
import { validatePolicyDocument } from '../policy-evaluator';
import type { IotHandlers, RegistryHandlerDeps } from './handler';
import { pageSize, paginate } from './paging';
import { requireTarget, validationError, validPolicyName } from './request-validation';
import { findPolicy, findThingGroup, requireCertificatePrincipal } from './resource-lookup';

type PolicyOperation =
  | 'CreatePolicy'
  | 'GetPolicy'
  | 'DeletePolicy'
  | 'AttachPolicy'
  | 'DetachPolicy'
  | 'ListAttachedPolicies'
  | 'ListTargetsForPolicy';

/** Handlers of the policy operations: create, get, delete, attach, detach and both listings. */
export function policyHandlers({
  registry,
  arnPrefix,
}: RegistryHandlerDeps): IotHandlers<PolicyOperation> {
  return {
    CreatePolicy: async ({ params, body }) => {
      const name = validPolicyName(params[0]);
      const document = body['policyDocument'];
      if (typeof document !== 'string' || document.length === 0) {
        throw validationError('policyDocument', String(document), 'Member must not be null');
      }
      if (registry.policies.has(name)) {
        throw new IotServiceError(
          'ResourceAlreadyExistsException',
          409,
          `Policy cannot be created - name already exists (name=${name})`,
        );
      }
      requireWellFormed(document);
      const now = Date.now();
      const record = {
        policyName: name,
        policyArn: `${arnPrefix}:policy/${name}`,
        policyDocument: document,
        creationDate: now,
        lastModifiedDate: now,
        generationId: IotRegistry.generationId(),
      };
      registry.policies.set(name, record);
      await registry.save();
      return {
        policyName: name,
        policyArn: record.policyArn,
        policyDocument: document,
        policyVersionId: '1',
      };
    },
    GetPolicy: ({ params }) => {
      const record = findPolicy(registry, params[0]);
      return {
        policyName: record.policyName,
        policyArn: record.policyArn,
        policyDocument: record.policyDocument,
        defaultVersionId: '1',
        creationDate: record.creationDate / 1000,
        lastModifiedDate: record.lastModifiedDate / 1000,
        generationId: record.generationId,
      };
    },
    DeletePolicy: async ({ params }) => {
      const record = findPolicy(registry, params[0]);
      if ((registry.policyTargets.get(record.policyName)?.size ?? 0) > 0) {
        throw new IotServiceError(
          'DeleteConflictException',
          409,
          `The policy cannot be deleted as the policy is attached to one or more principals (name=${record.policyName})`,
        );
      }
      registry.policies.delete(record.policyName);
      registry.policyTargets.delete(record.policyName);
      await registry.save();
      return undefined;
    },
    AttachPolicy: async ({ params, body }) => {
      const record = findPolicy(registry, params[0]);
      const target = requireTarget(body);
      if (target.includes(':cert/')) requireCertificatePrincipal(registry, target);
      if (target.includes(':thinggroup/')) {
        findThingGroup(registry, target.slice(target.indexOf(':thinggroup/') + 12));
      }
      const targets = registry.policyTargets.get(record.policyName) ?? new Set<string>();
      targets.add(target);
      registry.policyTargets.set(record.policyName, targets);
      await registry.save();
      return undefined;
    },
    DetachPolicy: async ({ params, body }) => {
      const record = findPolicy(registry, params[0]);
      const target = requireTarget(body);
      registry.policyTargets.get(record.policyName)?.delete(target);
      await registry.save();
      return undefined;
    },
    ListAttachedPolicies: ({ params, query }) => {
      const target = params[0] ?? '';
      if (target.includes(':cert/')) requireCertificatePrincipal(registry, target);
      const all = registry.policiesFor(target);
      const page = paginate(all, query.get('marker'), pageSize(query.get('pageSize'), 25, 250));
      return {
        policies: page.items.map((p) => ({ policyName: p.policyName, policyArn: p.policyArn })),
        nextMarker: page.next,
      };
    },
    ListTargetsForPolicy: ({ params, query }) => {
      const record = findPolicy(registry, params[0]);
      const all = [...(registry.policyTargets.get(record.policyName) ?? [])];
      const page = paginate(all, query.get('marker'), pageSize(query.get('pageSize'), 25, 250));
      return { targets: page.items, nextMarker: page.next };
    },
  };
}

/** AWS refuses a policy document it cannot parse with `MalformedPolicyException`. */
function requireWellFormed(document: string): void {
  try {
    validatePolicyDocument(document);
  } catch (error) {
    if (isMalformedPolicyError(error)) {
      throw new IotServiceError(
        'MalformedPolicyException',
        400,
        `Policy document is malformed: ${error.message}`,
      );
    }
    throw error;
  }
}
