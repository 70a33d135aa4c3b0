/**
 * Lambda entry point of a fleet's pre-provisioning hook (bundled to
 * `dist/fleet/pre-provisioning-hook.mjs`, handler
 * `pre-provisioning-hook.handler`). Clients and settings are built once per
 * container, at init.
 */
import { createFleetAwsClients } from './fleet-aws-clients';
import { fleetSettingsFromEnvironment } from './fleet-settings';
import { createPreProvisioningHookHandler } from './pre-provisioning-hook-handler';

/** The hook, wired to a real IoT client; AWS IoT waits 5 s at most, so few retries. */
export const handler = createPreProvisioningHookHandler(
  { iot: createFleetAwsClients({ maxAttempts: 2 }).iot },
  fleetSettingsFromEnvironment(process.env),
);
