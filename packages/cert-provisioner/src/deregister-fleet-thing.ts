import {
  DeleteCertificateCommand,
  DeleteThingCommand,
  DetachThingPrincipalCommand,
  type IoTClient,
  ListThingPrincipalsCommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import type { StructuredLogger } from '@thingcert/cfn-response';
import { FleetDeregistrationError, type FleetDeregistrationStep, isAwsErrorNamed } from './errors';
import { realSleep, silentLogger, type Sleep } from './provisioner-deps';

/** What {@link deregisterFleetThing} is given. */
export interface FleetDeregistrationDeps {
  /** IoT control-plane client. */
  readonly iot: IoTClient;
  /** @default no logging */
  readonly logger?: StructuredLogger;
  /** @default a `setTimeout` based sleep */
  readonly sleep?: Sleep;
  /**
   * Longest wait for AWS IoT's asynchronous detachment before the
   * certificates can be deleted, in ms.
   * @default 30000
   */
  readonly detachTimeoutMs?: number;
  /** Stops the work (between calls and during waits). */
  readonly signal?: AbortSignal;
}

/** What {@link deregisterFleetThing} removed. */
export interface FleetDeregistrationResult {
  /** The thing. */
  readonly thingName: string;
  /** Ids of the certificates deactivated and deleted. */
  readonly certificateIds: readonly string[];
  /** False when the thing did not exist (never registered, or already deregistered). */
  readonly thingDeleted: boolean;
}

const FIRST_POLL_MS = 250;
const MAX_POLL_MS = 4000;
const CERTIFICATE_ARN = /:cert\/([0-9a-f]{64})$/;

/**
 * Removes what a fleet device registered: for each principal of the thing,
 * detach it and set the certificate INACTIVE; wait until AWS IoT has
 * finished detaching (it does so asynchronously); delete the certificates
 * (`forceDelete`, which also detaches the device policy); delete the thing.
 * Everything already gone (`ResourceNotFoundException`) counts as done, so a
 * retry or a second caller (scale-in and stack delete racing) finishes the
 * job instead of failing.
 *
 * @throws FleetDeregistrationError naming the step that failed
 * @example
 * ```ts
 * await deregisterFleetThing('fleet-i-0123456789abcdef0', { iot });
 * ```
 */
export async function deregisterFleetThing(
  thingName: string,
  deps: FleetDeregistrationDeps,
): Promise<FleetDeregistrationResult> {
  const logger = deps.logger ?? silentLogger;
  const step = async <T>(name: FleetDeregistrationStep, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw new FleetDeregistrationError({ thingName, step: name }, { cause: error });
    }
  };
  const options = { abortSignal: deps.signal };

  const principals = await step('listPrincipals', () => listPrincipals(deps.iot, thingName, deps));
  if (principals === undefined) {
    logger.info('Fleet thing already gone', { thingName });
    return { thingName, certificateIds: [], thingDeleted: false };
  }
  const certificateIds: string[] = [];
  for (const principal of principals) {
    await step('detachPrincipal', () =>
      ignoreGone(deps.iot.send(new DetachThingPrincipalCommand({ thingName, principal }), options)),
    );
    const certificateId = CERTIFICATE_ARN.exec(principal)?.[1];
    if (certificateId === undefined) continue;
    certificateIds.push(certificateId);
    await step('deactivateCertificate', () =>
      ignoreGone(
        deps.iot.send(
          new UpdateCertificateCommand({ certificateId, newStatus: 'INACTIVE' }),
          options,
        ),
      ),
    );
  }
  await step('waitForDetachment', () => waitForDetachment(thingName, deps));
  for (const certificateId of certificateIds) {
    await step('deleteCertificate', () =>
      ignoreGone(
        deps.iot.send(new DeleteCertificateCommand({ certificateId, forceDelete: true }), options),
      ),
    );
  }
  const deleted = await step('deleteThing', () =>
    ignoreGone(deps.iot.send(new DeleteThingCommand({ thingName }), options)),
  );
  logger.info('Fleet thing deregistered', { thingName, certificateIds });
  return { thingName, certificateIds, thingDeleted: deleted !== undefined };
}

/** The thing's principals, or `undefined` when there is no such thing. */
async function listPrincipals(
  iot: IoTClient,
  thingName: string,
  deps: FleetDeregistrationDeps,
): Promise<string[] | undefined> {
  const principals: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ignoreGone(
      iot.send(new ListThingPrincipalsCommand({ thingName, nextToken }), {
        abortSignal: deps.signal,
      }),
    );
    if (page === undefined) return undefined;
    principals.push(...(page.principals ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return principals;
}

/** Waits, bounded and with backoff, until the thing has no principal left. */
async function waitForDetachment(thingName: string, deps: FleetDeregistrationDeps): Promise<void> {
  const sleep = deps.sleep ?? realSleep;
  const limitMs = deps.detachTimeoutMs ?? 30_000;
  // Counts the time slept rather than the clock: exact, and deterministic in tests.
  let waited = 0;
  for (let attempt = 0; ; attempt++) {
    const left = await listPrincipals(deps.iot, thingName, deps);
    if (left === undefined || left.length === 0) return;
    if (waited >= limitMs) {
      throw new Error(
        `${left.length} principal(s) still attached after ${Math.round(waited / 1000)} s`,
      );
    }
    const delay = Math.min(MAX_POLL_MS, FIRST_POLL_MS * 2 ** attempt, limitMs - waited);
    await sleep(delay, deps.signal);
    waited += delay;
  }
}

/** The call's answer, or `undefined` when what it names is already gone. */
async function ignoreGone<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (error) {
    if (isAwsErrorNamed(error, 'ResourceNotFoundException')) return undefined;
    throw error;
  }
}
