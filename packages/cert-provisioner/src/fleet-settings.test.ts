import { FLEET_FUNCTION_ENVIRONMENT as ENV } from '@thingcert/contracts';
import { describe, expect, it } from 'vitest';
import { isFleetConfigurationError } from './errors';
import { fleetSettingsFromEnvironment } from './fleet-settings';

const complete = {
  [ENV.thingNamePrefix]: 'fleet-',
  [ENV.thingGroupName]: 'fleet-group',
  [ENV.maxDevices]: '50',
};

describe('Function: fleetSettingsFromEnvironment', () => {
  it('reads the three variables the construct sets', () => {
    expect(fleetSettingsFromEnvironment(complete)).toEqual({
      thingNamePrefix: 'fleet-',
      thingGroupName: 'fleet-group',
      maxDevices: 50,
    });
  });

  it.each([
    [{ ...complete, [ENV.thingNamePrefix]: '' }, ENV.thingNamePrefix],
    [{ ...complete, [ENV.thingGroupName]: undefined }, ENV.thingGroupName],
    [{ ...complete, [ENV.thingGroupName]: 'a group' }, ENV.thingGroupName],
    [{ ...complete, [ENV.maxDevices]: '0' }, ENV.maxDevices],
    [{ ...complete, [ENV.maxDevices]: '1e3' }, ENV.maxDevices],
  ])('fails naming the variable when one is missing or invalid (%#)', (environment, name) => {
    let thrown: unknown;
    try {
      fleetSettingsFromEnvironment(environment);
    } catch (error) {
      thrown = error;
    }
    expect(isFleetConfigurationError(thrown)).toBe(true);
    expect((thrown as Error).message).toContain(name);
  });
});
