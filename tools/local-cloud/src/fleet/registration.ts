import { randomUUID } from 'node:crypto';
import { FleetProvisioningError, isMalformedPolicyError } from '../errors';
import { IotRegistry, sameAttributes, type ThingRecord } from '../iot-registry';
import { validatePolicyDocument } from '../policy-evaluator';
import { MAX_GROUPS_PER_THING, sameHierarchyGroup } from './thing-group-rules';
import type { OverrideAction } from './template-body';
import type { ProvisioningPlan, ThingPlan } from './template-evaluation';

const THING_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;

/** What a registration changed, for the reply and the log. */
export interface RegistrationResult {
  thingName: string | undefined;
  /** Names of the policies attached to the certificate. */
  policyNames: string[];
}

/** The thing as it will be after the registration, and whether it is new or changed. */
interface ThingChange {
  record: ThingRecord;
  groups: string[];
}

/**
 * Applies an evaluated template to the registry for the certificate of an ownership token, all
 * or nothing: every check (the certificate still pending, thing name, OverrideSettings
 * conflicts, thing groups, policies) runs before the first change, and the changes themselves
 * cannot fail. Creates or updates the thing, sets its groups, attaches the certificate to it,
 * creates and attaches the policies, and sets the certificate's status.
 * @throws FleetProvisioningError `ResourceRegistrationFailureException` (400) or
 *   `ResourceConflictsException` (409, an OverrideSettings FAIL) with nothing changed.
 */
export function applyProvisioningPlan(
  registry: IotRegistry,
  arnPrefix: string,
  plan: ProvisioningPlan,
  certificateId: string,
): RegistrationResult {
  const certificate = registry.certificates.get(certificateId);
  if (certificate?.status !== 'PENDING_ACTIVATION') {
    throw failure(`Certificate ${certificateId} is no longer pending activation`);
  }
  if (plan.certificate !== undefined && plan.certificate.certificateId !== certificateId) {
    throw failure(
      'The template must name the certificate of the ownership token (CertificateId: {"Ref": "AWS::IoT::Certificate::Id"})',
    );
  }
  const thing = plan.thing === undefined ? undefined : thingChange(registry, arnPrefix, plan.thing);
  const newPolicies = plan.policies.filter((policy) => {
    const existing = registry.policies.get(policy.policyName);
    if (policy.policyDocument === undefined) {
      if (existing === undefined) throw failure(`Policy ${policy.policyName} does not exist`);
      return false;
    }
    if (existing !== undefined) return false;
    try {
      validatePolicyDocument(policy.policyDocument);
    } catch (error) {
      if (isMalformedPolicyError(error)) {
        throw failure(`The policy document is malformed: ${error.message}`, error);
      }
      throw error;
    }
    return true;
  });

  // Every check passed: from here on nothing throws.
  const now = Date.now();
  if (thing !== undefined) {
    registry.things.set(thing.record.thingName, thing.record);
    for (const [group, members] of registry.thingGroupMembers) {
      if (!thing.groups.includes(group)) members.delete(thing.record.thingName);
    }
    for (const group of thing.groups) {
      const members = registry.thingGroupMembers.get(group) ?? new Set<string>();
      members.add(thing.record.thingName);
      registry.thingGroupMembers.set(group, members);
    }
    const principals = registry.thingPrincipals.get(thing.record.thingName) ?? new Set<string>();
    principals.add(certificate.certificateArn);
    registry.thingPrincipals.set(thing.record.thingName, principals);
  }
  for (const policy of newPolicies) {
    registry.policies.set(policy.policyName, {
      policyName: policy.policyName,
      policyArn: `${arnPrefix}:policy/${policy.policyName}`,
      policyDocument: policy.policyDocument as string,
      creationDate: now,
      lastModifiedDate: now,
      generationId: IotRegistry.generationId(),
    });
  }
  for (const policy of plan.policies) {
    const targets = registry.policyTargets.get(policy.policyName) ?? new Set<string>();
    targets.add(certificate.certificateArn);
    registry.policyTargets.set(policy.policyName, targets);
  }
  certificate.status = plan.certificate?.status ?? certificate.status;
  certificate.lastModifiedDate = now;
  return {
    thingName: thing?.record.thingName,
    policyNames: plan.policies.map((policy) => policy.policyName),
  };
}

/**
 * The thing after the registration: a new one from the template, or the existing one with each
 * property handled as its OverrideSettings say (DO_NOTHING where the template says nothing).
 */
function thingChange(registry: IotRegistry, arnPrefix: string, plan: ThingPlan): ThingChange {
  if (!THING_NAME.test(plan.thingName)) {
    throw failure(`Thing name ${plan.thingName} does not satisfy [a-zA-Z0-9:_-]{1,128}`);
  }
  const existing = registry.things.get(plan.thingName);
  const currentGroups = registry.groupsOfThing(plan.thingName);
  const groups =
    existing === undefined
      ? (plan.thingGroups ?? [])
      : overridden('ThingGroups', plan.overrides.ThingGroups, currentGroups, plan.thingGroups, {
          merge: (current, wanted) => [...new Set([...current, ...wanted])],
          same: (a, b) => a.length === b.length && a.every((group) => b.includes(group)),
        });
  checkGroups(registry, groups);
  if (existing === undefined) {
    return {
      groups,
      record: {
        thingName: plan.thingName,
        thingId: randomUUID(),
        thingArn: `${arnPrefix}:thing/${plan.thingName}`,
        thingTypeName: plan.thingTypeName,
        attributes: plan.attributes ?? {},
        version: 1,
      },
    };
  }
  const attributes = overridden(
    'AttributePayload',
    plan.overrides.AttributePayload,
    existing.attributes,
    plan.attributes,
    {
      merge: (current, wanted) => ({ ...current, ...wanted }),
      same: sameAttributes,
    },
  );
  const thingTypeName = overridden(
    'ThingTypeName',
    plan.overrides.ThingTypeName,
    existing.thingTypeName,
    plan.thingTypeName,
    { merge: (_current, wanted) => wanted, same: (a, b) => a === b },
  );
  const changed =
    !sameAttributes(attributes, existing.attributes) || thingTypeName !== existing.thingTypeName;
  return {
    groups,
    record: changed
      ? { ...existing, attributes, thingTypeName, version: existing.version + 1 }
      : existing,
  };
}

/** One property of an existing thing under its override action. */
function overridden<T>(
  property: string,
  action: OverrideAction,
  current: T,
  wanted: T | undefined,
  how: { merge: (current: T, wanted: T) => T; same: (a: T, b: T) => boolean },
): T {
  if (wanted === undefined || action === 'DO_NOTHING') return current;
  if (action === 'REPLACE') return wanted;
  if (action === 'MERGE') return how.merge(current, wanted);
  if (current !== undefined && !how.same(current, wanted)) {
    throw new FleetProvisioningError(
      409,
      'ResourceConflictsException',
      `The thing already exists with a different ${property} and OverrideSettings say FAIL`,
    );
  }
  return current ?? wanted;
}

/** The groups must exist, be at most 10, and be in different hierarchies. */
function checkGroups(registry: IotRegistry, groups: string[]): void {
  for (const group of groups) {
    if (!registry.thingGroups.has(group)) throw failure(`Thing group ${group} does not exist`);
  }
  if (groups.length > MAX_GROUPS_PER_THING) {
    throw failure(`A thing can be in at most ${MAX_GROUPS_PER_THING} thing groups`);
  }
  for (const group of groups) {
    const clash = sameHierarchyGroup(
      registry,
      group,
      groups.filter((other) => other !== group),
    );
    if (clash !== undefined) {
      throw failure(`Thing groups ${group} and ${clash} are in the same hierarchy`);
    }
  }
}

function failure(message: string, cause?: unknown): FleetProvisioningError {
  return new FleetProvisioningError(400, 'ResourceRegistrationFailureException', message, {
    cause,
  });
}
