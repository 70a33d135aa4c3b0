import { describe, expect, it } from 'vitest';
import {
  FLEET_THING_NAME_PARAMETER,
  fleetTemplateBody,
  fleetThingName,
  InvalidFleetThingNameError,
  isFleetThingName,
} from './fleet-provisioning';

describe('fleetThingName', () => {
  it('puts the prefix in front of the device id', () => {
    expect(fleetThingName('fleet-', 'i-0123456789abcdef0')).toBe('fleet-i-0123456789abcdef0');
  });

  it('refuses a device id that could reach outside the prefix', () => {
    expect(() => fleetThingName('fleet-', 'a/b')).toThrow(InvalidFleetThingNameError);
    expect(() => fleetThingName('fleet-', '')).toThrow(/device id "" is not/);
    expect(() => fleetThingName('fleet-', 'x'.repeat(65))).toThrow(InvalidFleetThingNameError);
  });

  it('refuses a prefix that makes an invalid thing name', () => {
    expect(() => fleetThingName('fleet one ', 'i-1')).toThrow(/check the thing name prefix/);
    expect(() => fleetThingName('p'.repeat(120), 'i-0123456789')).toThrow(
      InvalidFleetThingNameError,
    );
  });
});

describe('isFleetThingName', () => {
  it('accepts what fleetThingName makes', () => {
    expect(isFleetThingName('fleet-', fleetThingName('fleet-', 'i-0abc'))).toBe(true);
  });

  it('refuses another prefix, an empty id, and characters a device id cannot hold', () => {
    expect(isFleetThingName('fleet-', 'other-i-0abc')).toBe(false);
    expect(isFleetThingName('fleet-', 'fleet-')).toBe(false);
    expect(isFleetThingName('fleet-', 'fleet-a:b')).toBe(false);
  });
});

describe('fleetTemplateBody', () => {
  it('names the thing from the parameter, activates the CSR certificate and attaches the policy', () => {
    const body = fleetTemplateBody({ devicePolicyName: 'device-policy' }) as {
      Parameters: Record<string, unknown>;
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    expect(Object.keys(body.Parameters)).toEqual([
      FLEET_THING_NAME_PARAMETER,
      'AWS::IoT::Certificate::Id',
    ]);
    expect(body.Resources.thing?.Properties).toEqual({
      ThingName: { Ref: FLEET_THING_NAME_PARAMETER },
    });
    expect(body.Resources.certificate?.Properties).toEqual({
      CertificateId: { Ref: 'AWS::IoT::Certificate::Id' },
      Status: 'ACTIVE',
    });
    expect(body.Resources.policy?.Properties).toEqual({ PolicyName: 'device-policy' });
  });

  it("adds the thing to the fleet's group, an existing thing too", () => {
    const body = fleetTemplateBody({ devicePolicyName: 'p', thingGroupName: 'fleet-group' });
    expect(body.Resources).toMatchObject({
      thing: {
        Properties: { ThingGroups: ['fleet-group'] },
        OverrideSettings: { ThingGroups: 'MERGE' },
      },
    });
  });
});
