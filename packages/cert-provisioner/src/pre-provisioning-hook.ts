import { DescribeThingCommand, type IoTClient } from '@aws-sdk/client-iot';
import type { StructuredLogger } from '@thingcert/cfn-response';
import { FLEET_THING_NAME_PARAMETER, isFleetThingName } from '@thingcert/contracts';
import { isAwsErrorNamed } from './errors';
import type { FleetSettings } from './fleet-settings';
import { thingGroupMembers } from './thing-group-members';

/**
 * What AWS IoT sends a pre-provisioning hook (payload version 2020-04-01).
 * Every field is optional here: the hook refuses what it cannot read rather
 * than trusting the shape.
 */
export interface PreProvisioningHookEvent {
  /** Id of the claim certificate the device connected with. */
  readonly claimCertificateId?: string;
  /** Id of the certificate being registered. */
  readonly certificateId?: string;
  /** PEM of the certificate being registered (public; never logged all the same). */
  readonly certificatePem?: string;
  /** ARN of the provisioning template. */
  readonly templateArn?: string;
  /** MQTT client id of the claim connection. */
  readonly clientId?: string;
  /** The parameters the device sent in RegisterThing. */
  readonly parameters?: Readonly<Record<string, unknown>>;
}

/** A pre-provisioning hook's answer, as AWS IoT reads it. */
export interface PreProvisioningHookResponse {
  /** Whether the registration may go on. */
  readonly allowProvisioning: boolean;
  /** Parameters that replace the device's (none: the device's name is checked, not changed). */
  readonly parameterOverrides?: Readonly<Record<string, string>>;
}

/** What {@link decideProvisioning} is given. */
export interface PreProvisioningHookDeps {
  /** IoT control-plane client, to count the fleet's thing group. */
  readonly iot: IoTClient;
  /** Where the one-line decision goes (the device only ever sees `AccessDenied`). */
  readonly logger: StructuredLogger;
}

/** Why a registration was refused; the hook's one log line says it. */
export type ProvisioningRefusal =
  | { readonly kind: 'missing-thing-name' }
  | { readonly kind: 'foreign-thing-name'; readonly thingName: string }
  | { readonly kind: 'already-registered'; readonly thingName: string }
  | { readonly kind: 'fleet-full'; readonly thingName: string; readonly members: number };

/**
 * The fleet's registration rule: the device's `ThingName` parameter must be a
 * name {@link isFleetThingName} accepts for this fleet's prefix, no thing of
 * that name may exist yet (a second registration would add its certificate
 * beside the first device's: whoever holds the shared claim certificate could
 * then act as that device), and the fleet's thing group must hold fewer than
 * `maxDevices` things. Counting stops once it reaches `maxDevices`.
 *
 * Refusals are logged as one `warn` line naming the reason; AWS IoT gives the
 * device only `AccessDenied`. A failing IoT call is thrown (AWS IoT then
 * refuses the device too, as "hook failed").
 *
 * @example
 * ```ts
 * const answer = await decideProvisioning(event, settings, { iot, logger });
 * ```
 */
export async function decideProvisioning(
  event: PreProvisioningHookEvent,
  settings: FleetSettings,
  deps: PreProvisioningHookDeps,
): Promise<PreProvisioningHookResponse> {
  const refusal = await refusalOf(event, settings, deps.iot);
  const fields = {
    certificateId: typeof event.certificateId === 'string' ? event.certificateId : undefined,
    clientId: typeof event.clientId === 'string' ? event.clientId.slice(0, 128) : undefined,
  };
  if (refusal === undefined) {
    deps.logger.info('Provisioning allowed', {
      ...fields,
      thingName: event.parameters?.[FLEET_THING_NAME_PARAMETER],
    });
    return { allowProvisioning: true };
  }
  deps.logger.warn(`Provisioning refused: ${describeRefusal(refusal, settings)}`, {
    ...fields,
    reason: refusal.kind,
  });
  return { allowProvisioning: false };
}

async function refusalOf(
  event: PreProvisioningHookEvent,
  settings: FleetSettings,
  iot: IoTClient,
): Promise<ProvisioningRefusal | undefined> {
  const parameters = event.parameters;
  const thingName =
    typeof parameters === 'object' && parameters !== null
      ? parameters[FLEET_THING_NAME_PARAMETER]
      : undefined;
  if (typeof thingName !== 'string' || thingName === '') return { kind: 'missing-thing-name' };
  if (!isFleetThingName(settings.thingNamePrefix, thingName)) {
    return { kind: 'foreign-thing-name', thingName };
  }
  if (await thingExists(iot, thingName)) return { kind: 'already-registered', thingName };
  let members = 0;
  for await (const _member of thingGroupMembers(iot, settings.thingGroupName)) {
    members++;
    if (members >= settings.maxDevices) return { kind: 'fleet-full', thingName, members };
  }
  return undefined;
}

async function thingExists(iot: IoTClient, thingName: string): Promise<boolean> {
  try {
    await iot.send(new DescribeThingCommand({ thingName }));
    return true;
  } catch (error) {
    if (isAwsErrorNamed(error, 'ResourceNotFoundException')) return false;
    throw error;
  }
}

/** The refusal as the sentence an operator reads in the log. */
export function describeRefusal(refusal: ProvisioningRefusal, settings: FleetSettings): string {
  switch (refusal.kind) {
    case 'missing-thing-name':
      return `the RegisterThing parameters carry no ${FLEET_THING_NAME_PARAMETER}`;
    case 'foreign-thing-name':
      return `thing name ${JSON.stringify(refusal.thingName.slice(0, 200))} is not ${JSON.stringify(settings.thingNamePrefix)} followed by a device id of 1-64 [A-Za-z0-9_-]`;
    case 'already-registered':
      return `thing ${refusal.thingName} already exists; a device registers once (deregister the thing to let it register again)`;
    case 'fleet-full':
      return `thing group ${settings.thingGroupName} already holds ${refusal.members} things (maxDevices ${settings.maxDevices}); ${refusal.thingName} may not join`;
  }
}
