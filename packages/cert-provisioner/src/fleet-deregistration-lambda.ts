/**
 * Lambda entry point of a fleet's deregistration function (bundled to
 * `dist/fleet/fleet-deregistration.mjs`, handler
 * `fleet-deregistration.handler`): scale-in events and the cleanup custom
 * resource. Clients are built once per container, at init.
 */
import { createFleetAwsClients } from './fleet-aws-clients';
import { createFleetDeregistrationHandler } from './fleet-deregistration-handler';
import { fleetSettingsFromEnvironment } from './fleet-settings';

/** The deregistration handler, wired to real clients. */
export const handler = createFleetDeregistrationHandler(createFleetAwsClients({ maxAttempts: 8 }), {
  thingNamePrefix: fleetSettingsFromEnvironment(process.env).thingNamePrefix,
});
