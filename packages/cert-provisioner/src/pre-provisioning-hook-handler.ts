import type { IoTClient } from '@aws-sdk/client-iot';
import { jsonConsoleLogger, type StructuredLogger } from '@thingcert/cfn-response';
import type { FleetSettings } from './fleet-settings';
import {
  decideProvisioning,
  type PreProvisioningHookEvent,
  type PreProvisioningHookResponse,
} from './pre-provisioning-hook';

/** The pre-provisioning hook's Lambda handler. */
export type PreProvisioningHookHandler = (event: unknown) => Promise<PreProvisioningHookResponse>;

/**
 * The Lambda handler of a fleet's pre-provisioning hook: {@link decideProvisioning}
 * with injected clients and settings. An event that is not an object is
 * refused, never thrown on.
 *
 * @example
 * ```ts
 * export const handler = createPreProvisioningHookHandler(
 *   { iot: new IoTClient({}) },
 *   fleetSettingsFromEnvironment(process.env),
 * );
 * ```
 */
export function createPreProvisioningHookHandler(
  deps: { readonly iot: IoTClient; readonly logger?: StructuredLogger },
  settings: FleetSettings,
): PreProvisioningHookHandler {
  const logger = deps.logger ?? jsonConsoleLogger();
  return async (event) => {
    const payload: PreProvisioningHookEvent =
      typeof event === 'object' && event !== null ? event : {};
    return decideProvisioning(payload, settings, { iot: deps.iot, logger });
  };
}
