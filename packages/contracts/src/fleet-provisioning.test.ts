import { describe, expect, it } from 'vitest';
import { fleetThingName, InvalidFleetThingNameError, isFleetThingName } from './fleet-provisioning';

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
