import { beforeEach, describe, expect, it } from 'vitest';
import { IotRegistry } from '../iot-registry';
import {
  addPendingCertificate,
  addPolicy,
  addThingGroup,
  TEST_ARN_PREFIX as PREFIX,
} from '../../test/registry-fixtures';
import type { OverrideAction } from './template-body';
import { applyProvisioningPlan, type RegistrationResult } from './registration';
import type { ProvisioningPlan, ThingPlan } from './template-evaluation';

const CERT = 'ab'.repeat(32);
const CERT_ARN = `${PREFIX}:cert/${CERT}`;

let registry: IotRegistry;
beforeEach(async () => {
  registry = await IotRegistry.open(undefined);
  addPendingCertificate(registry, CERT);
  addThingGroup(registry, 'fleet');
  addThingGroup(registry, 'eu');
  addThingGroup(registry, 'eu-west', 'eu');
});

function thing(overrides: Partial<ThingPlan> = {}): ThingPlan {
  return {
    thingName: 'sensor-1',
    attributes: { version: 'v2' },
    thingGroups: ['fleet'],
    overrides: {
      AttributePayload: 'DO_NOTHING',
      ThingTypeName: 'DO_NOTHING',
      ThingGroups: 'DO_NOTHING',
    },
    ...overrides,
  };
}

function plan(
  thingPlan: ThingPlan | undefined,
  extra: Partial<ProvisioningPlan> = {},
): ProvisioningPlan {
  return {
    thing: thingPlan,
    certificate: { certificateId: CERT, status: 'ACTIVE' },
    policies: [],
    deviceConfiguration: {},
    ...extra,
  };
}

/** Registers sensor-1 with the template's attributes (v2, group fleet) under these overrides. */
function registerWith(
  AttributePayload: OverrideAction,
  ThingGroups: OverrideAction,
  extra: Partial<ThingPlan> = {},
): RegistrationResult {
  const overrides = { AttributePayload, ThingTypeName: 'REPLACE' as const, ThingGroups };
  return applyProvisioningPlan(registry, PREFIX, plan(thing({ overrides, ...extra })), CERT);
}

/** An existing sensor-1 with attribute version v1 in group eu. */
function existingThing(): void {
  registry.things.set('sensor-1', {
    thingName: 'sensor-1',
    thingId: 'id',
    thingArn: `${PREFIX}:thing/sensor-1`,
    attributes: { version: 'v1', owner: 'ops' },
    version: 1,
  });
  registry.thingGroupMembers.set('eu', new Set(['sensor-1']));
}

describe('Function: applyProvisioningPlan', () => {
  it('creates the thing in its groups, attaches the certificate and policies, activates it', () => {
    addPolicy(registry, 'existing');
    const document = JSON.stringify({
      Statement: [{ Effect: 'Allow', Action: 'iot:Connect', Resource: '*' }],
    });
    const result = applyProvisioningPlan(
      registry,
      PREFIX,
      plan(thing(), {
        policies: [
          { policyName: 'existing' },
          { policyName: 'h'.repeat(64), policyDocument: document },
        ],
      }),
      CERT,
    );
    expect(result).toEqual({ thingName: 'sensor-1', policyNames: ['existing', 'h'.repeat(64)] });
    expect(registry.things.get('sensor-1')?.attributes).toEqual({ version: 'v2' });
    expect(registry.groupsOfThing('sensor-1')).toEqual(['fleet']);
    expect(registry.thingsFor(CERT_ARN)).toEqual(['sensor-1']);
    expect(registry.policiesFor(CERT_ARN).map((p) => p.policyName)).toEqual([
      'existing',
      'h'.repeat(64),
    ]);
    expect(registry.certificates.get(CERT)?.status).toBe('ACTIVE');
  });

  it('keeps an existing thing as it is by default (DO_NOTHING) and attaches the new certificate', () => {
    existingThing();
    applyProvisioningPlan(registry, PREFIX, plan(thing()), CERT);
    expect(registry.things.get('sensor-1')).toMatchObject({
      attributes: { version: 'v1', owner: 'ops' },
      version: 1,
    });
    expect(registry.groupsOfThing('sensor-1')).toEqual(['eu']);
    expect(registry.thingsFor(CERT_ARN)).toEqual(['sensor-1']);
  });

  it('applies MERGE and REPLACE to attributes and groups of an existing thing', () => {
    existingThing();
    registerWith('MERGE', 'MERGE', { thingTypeName: 'sensor' });
    expect(registry.things.get('sensor-1')).toMatchObject({
      attributes: { version: 'v2', owner: 'ops' },
      thingTypeName: 'sensor',
      version: 2,
    });
    expect(registry.groupsOfThing('sensor-1').sort()).toEqual(['eu', 'fleet']);
  });

  it('REPLACE of ThingGroups leaves the groups the template does not name', () => {
    existingThing();
    registerWith('REPLACE', 'REPLACE');
    expect(registry.things.get('sensor-1')?.attributes).toEqual({ version: 'v2' });
    expect(registry.groupsOfThing('sensor-1')).toEqual(['fleet']);
  });

  it('fails with ResourceConflictsException on FAIL, leaving nothing behind', () => {
    existingThing();
    expect(() => registerWith('FAIL', 'DO_NOTHING')).toThrow(
      expect.objectContaining({ statusCode: 409, errorCode: 'ResourceConflictsException' }),
    );
    expect(registry.thingsFor(CERT_ARN)).toEqual([]);
    expect(registry.certificates.get(CERT)?.status).toBe('PENDING_ACTIVATION');
  });

  it('is all or nothing: a missing policy, a missing group or a bad document changes nothing', () => {
    const failures: Array<[ProvisioningPlan, string]> = [
      [plan(thing(), { policies: [{ policyName: 'missing' }] }), 'Policy missing does not exist'],
      [plan(thing({ thingGroups: ['nope'] })), 'Thing group nope does not exist'],
      [plan(thing({ thingGroups: ['eu', 'eu-west'] })), 'in the same hierarchy'],
      [plan(thing({ thingName: 'bad name' })), 'does not satisfy'],
      [plan(thing(), { policies: [{ policyName: 'x', policyDocument: 'not json' }] }), 'malformed'],
      [
        plan(thing(), { certificate: { certificateId: 'cd'.repeat(32), status: 'ACTIVE' } }),
        'must name the certificate',
      ],
    ];
    for (const [bad, message] of failures) {
      expect(() => applyProvisioningPlan(registry, PREFIX, bad, CERT)).toThrow(message);
    }
    expect(registry.things.size).toBe(0);
    expect(registry.policies.size).toBe(0);
    expect(registry.thingGroupMembers.size).toBe(0);
    expect(registry.thingsFor(CERT_ARN)).toEqual([]);
    expect(registry.certificates.get(CERT)?.status).toBe('PENDING_ACTIVATION');
  });

  it('refuses a certificate that is no longer pending (registered already)', () => {
    applyProvisioningPlan(registry, PREFIX, plan(thing()), CERT);
    expect(() => applyProvisioningPlan(registry, PREFIX, plan(thing()), CERT)).toThrow(
      'no longer pending',
    );
  });
});
