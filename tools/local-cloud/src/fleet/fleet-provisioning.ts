import {
  FLEET_PROVISIONING_RATES,
  FleetProvisioningApi,
  type FleetOperation,
  type FleetProvisioningApiOptions,
} from './fleet-provisioning-api';
import type { LambdaInvoker } from './pre-provisioning-hook';

/** Fleet provisioning controls of a running local cloud (`cloud.fleetProvisioning`). */
export interface LocalFleetProvisioning {
  /**
   * Sets (or, with undefined, removes) what runs pre-provisioning hooks: the local deployer
   * sets it once its Lambda runtime knows the functions.
   */
  setLambdaInvoker(invoker: LambdaInvoker | undefined): void;
  /**
   * Drops the ownership tokens whose hour is over and deletes their certificates that are still
   * PENDING_ACTIVATION and attached to nothing. It also runs before every provisioning request
   * and once a minute; tests with an injected `clock` call it after moving the clock.
   * @returns the ids of the certificates deleted.
   */
  expireOwnershipTokens(): Promise<string[]>;
}

/** Prefix of the `throttle` option's keys for the device provisioning MQTT API. */
export const FLEET_THROTTLE_PREFIX = 'fleet:';

/** What {@link createFleetProvisioning} needs: the API's options, with the cloud's throttle and invoker. */
export interface FleetProvisioningOptions extends Omit<
  FleetProvisioningApiOptions,
  'rates' | 'lambdaInvoker'
> {
  /** The cloud's `throttle` option: `fleet:<Operation>` keys override the published rates. */
  throttle: Partial<Record<string, number>>;
  lambdaInvoker: LambdaInvoker | undefined;
}

/** The running fleet provisioning service: the API the broker calls, its controls, its timer. */
export interface FleetProvisioning {
  api: FleetProvisioningApi;
  controls: LocalFleetProvisioning;
  /** Stops the once-a-minute expiry sweep. */
  close(): void;
}

/** How often ownership tokens are swept without a request to trigger it. */
const SWEEP_INTERVAL_MS = 60_000;

/** Creates the fleet provisioning service of a local cloud. */
export function createFleetProvisioning(options: FleetProvisioningOptions): FleetProvisioning {
  const { throttle, lambdaInvoker, ...apiOptions } = options;
  let invoker = lambdaInvoker;
  const api = new FleetProvisioningApi({
    ...apiOptions,
    rates: fleetRates(throttle),
    lambdaInvoker: () => invoker,
  });
  const timer = setInterval(() => void api.expireOwnershipTokens(), SWEEP_INTERVAL_MS);
  timer.unref();
  return {
    api,
    controls: {
      setLambdaInvoker: (next) => {
        invoker = next;
      },
      expireOwnershipTokens: () => api.expireOwnershipTokens(),
    },
    close: () => clearInterval(timer),
  };
}

/** AWS's published rates, overridden by `fleet:<Operation>` entries of the `throttle` option. */
export function fleetRates(
  throttle: Partial<Record<string, number>>,
): Record<FleetOperation, number> {
  const rates = { ...FLEET_PROVISIONING_RATES };
  for (const operation of Object.keys(rates) as FleetOperation[]) {
    const rate = throttle[`${FLEET_THROTTLE_PREFIX}${operation}`];
    if (rate !== undefined) rates[operation] = rate;
  }
  return rates;
}
