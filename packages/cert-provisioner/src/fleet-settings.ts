import { FLEET_FUNCTION_ENVIRONMENT, THING_NAME_PATTERN } from '@thingcert/contracts';
import { FleetConfigurationError } from './errors';

/** What the fleet functions know about their fleet, from their environment. */
export interface FleetSettings {
  /** Put in front of each device id to make its thing name. */
  readonly thingNamePrefix: string;
  /** The fleet's thing group. */
  readonly thingGroupName: string;
  /** Most things the group may hold. */
  readonly maxDevices: number;
}

/**
 * Reads {@link FleetSettings} from the variables the construct sets
 * ({@link FLEET_FUNCTION_ENVIRONMENT}); called once, at init, so a broken
 * deployment fails on its first invocation with the variable named.
 *
 * @throws FleetConfigurationError naming the missing or invalid variable
 * @example
 * ```ts
 * const settings = fleetSettingsFromEnvironment(process.env);
 * ```
 */
export function fleetSettingsFromEnvironment(
  environment: Readonly<Record<string, string | undefined>>,
): FleetSettings {
  const read = (name: string): string => {
    const value = environment[name];
    if (value === undefined || value === '') {
      throw new FleetConfigurationError(`Environment variable ${name} is not set`);
    }
    return value;
  };
  const thingNamePrefix = read(FLEET_FUNCTION_ENVIRONMENT.thingNamePrefix);
  const thingGroupName = read(FLEET_FUNCTION_ENVIRONMENT.thingGroupName);
  if (!THING_NAME_PATTERN.test(thingGroupName)) {
    throw new FleetConfigurationError(
      `${FLEET_FUNCTION_ENVIRONMENT.thingGroupName} ${JSON.stringify(thingGroupName)} is not a thing group name`,
    );
  }
  const rawMax = read(FLEET_FUNCTION_ENVIRONMENT.maxDevices);
  const maxDevices = Number(rawMax);
  if (!/^\d+$/.test(rawMax) || !Number.isSafeInteger(maxDevices) || maxDevices < 1) {
    throw new FleetConfigurationError(
      `${FLEET_FUNCTION_ENVIRONMENT.maxDevices} must be a positive integer (got ${JSON.stringify(rawMax)})`,
    );
  }
  return { thingNamePrefix, thingGroupName, maxDevices };
}
