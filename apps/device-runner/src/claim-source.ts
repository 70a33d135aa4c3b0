import {
  claimedCredentialFiles,
  CredentialsError,
  fetchPointedCredentials,
  isCredentialsError,
  isClaimRejectedError,
  isClaimReplyLostError,
  isClaimTimeoutError,
  provisionByClaim,
  readClaimedCredentials,
  writeClaimedRegistration,
  type ClaimChannel,
  type ClaimConnectionOptions,
  type ClaimProvisioningEvent,
  type PointedCredentials,
} from '@thingcert/device-client';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClaimRunConfig } from './claim-config';
import type { CreateS3, CredentialSource } from './credential-source';
import type { EventLog } from './event-log';
import type { RunConfig } from './run-config';

/** A connected claim connection that can be closed (the device-client `ClaimConnection`). */
export interface ClaimSession extends ClaimChannel {
  close(): Promise<void>;
}

/** Opens the claim connection; the CLI passes `ClaimConnection.connect`, tests a fake. */
export type ConnectClaim = (options: ClaimConnectionOptions) => Promise<ClaimSession>;

/** A run configuration in claim mode. */
export type ClaimModeConfig = RunConfig & { readonly claim: ClaimRunConfig };

/**
 * The device's own credentials in claim mode. `<credentialsDir>/device/`
 * holds them once made (key, certificate, `registration.json`): a restart
 * connects with them. Otherwise the claim certificate is read through its
 * pointer into `<credentialsDir>/claim/`, the device provisions itself on a
 * claim connection whose client id is its thing name, the claim connection
 * is closed, and the claim certificate and key are deleted from the device.
 *
 * A rejected registration rejects with the `ClaimRejectedError` (logged as
 * `registration-rejected`). A RegisterThing whose reply was lost (or never
 * came) may have registered the thing: the own certificate is returned
 * unconfirmed, and connecting as the thing decides (`connected` confirms it;
 * a refusal is a `CredentialsRefusedError`, and the next start provisions
 * again).
 */
export async function openClaimedCredentials(
  config: ClaimModeConfig,
  deps: { readonly createS3: CreateS3; readonly connectClaim: ConnectClaim },
  log: EventLog,
  signal: AbortSignal,
): Promise<CredentialSource> {
  const files = claimedCredentialFiles(join(config.credentialsDir, 'device'));
  const claimDir = join(config.credentialsDir, 'claim');
  const removeClaim = async (certificateId: string): Promise<void> => {
    await rm(claimDir, { recursive: true, force: true });
    log({ event: 'claim-removed', certificateId });
  };
  const own = (certificateId: string, rest: Partial<CredentialSource> = {}): CredentialSource => ({
    credentials: {
      certPath: files.certPath,
      keyPath: files.keyPath,
      caPath: config.ca,
      certificateId,
    },
    watcher: undefined,
    close: () => undefined,
    refusedMeans: `this device's own, registered by claim (remove ${files.dir} to provision again)`,
    ...rest,
  });

  const existing = await readClaimedCredentials(files, config.thing);
  if (existing !== undefined) {
    // A run that stopped between registering and deleting the claim leaves it.
    await rm(claimDir, { recursive: true, force: true });
    log({
      event: 'credentials',
      source: 'claimed',
      location: files.dir,
      certificateId: existing.certificateId,
    });
    return own(existing.certificateId);
  }

  const claim = await fetchClaim(config, deps.createS3, claimDir, log);
  let created: string | undefined;
  const session = await deps.connectClaim({
    endpoint: config.endpoint,
    port: config.port,
    clientId: config.thing,
    certPath: claim.certPath,
    keyPath: claim.keyPath,
    ...(config.ca === undefined ? {} : { caPath: config.ca }),
  });
  try {
    log({ event: 'claim-connected', clientId: config.thing, certificateId: claim.certificateId });
    const result = await provisionByClaim(session, {
      templateName: config.claim.templateName,
      thingName: config.thing,
      dir: files.dir,
      signal,
      onEvent: (event) => {
        if (event.type === 'certificate-created') created = event.certificateId;
        log(claimLine(event));
      },
    });
    log({
      event: 'registered',
      thingName: result.thingName,
      certificateId: result.certificateId,
      confirmedBy: 'reply',
    });
    // Disconnect the claim connection first, then the claim key goes.
    await session.close();
    await removeClaim(claim.certificateId);
    return own(result.certificateId);
  } catch (error) {
    if (isClaimRejectedError(error)) {
      const { operation, statusCode, errorCode, errorMessage } = error;
      log({ event: 'registration-rejected', operation, statusCode, errorCode, errorMessage });
      throw error;
    }
    const certificateId = created;
    const lost =
      (isClaimReplyLostError(error) || isClaimTimeoutError(error)) &&
      error.operation === 'RegisterThing';
    if (!lost || certificateId === undefined) throw error;
    log({ event: 'registration-unconfirmed', certificateId, message: error.message });
    return own(certificateId, {
      refusedMeans:
        "this device's own, whose RegisterThing reply was lost: the thing was not registered with it; a restart provisions again",
      connected: async () => {
        await writeClaimedRegistration(files, {
          thingName: config.thing,
          certificateId,
          templateName: config.claim.templateName,
        });
        log({
          event: 'registered',
          thingName: config.thing,
          certificateId,
          confirmedBy: 'connect',
        });
        await removeClaim(claim.certificateId);
      },
    });
  } finally {
    await session.close();
  }
}

/** The claim certificate and key, through the claim pointer, into `dir`. */
async function fetchClaim(
  config: ClaimModeConfig,
  createS3: CreateS3,
  dir: string,
  log: EventLog,
): Promise<PointedCredentials> {
  const bucket = config.bucket ?? '';
  const s3 = createS3(config.region);
  let claim: PointedCredentials;
  try {
    claim = await fetchPointedCredentials({
      s3,
      bucket,
      pointerKey: config.claim.claimPointerKey,
      dir,
      ...(config.ca === undefined ? {} : { caPath: config.ca }),
    });
  } catch (error) {
    // S3's own fix ("check the thing name") does not fit a claim: its pointer is a flag.
    if (isCredentialsError(error) && error.reason === 'not-found') {
      throw new CredentialsError(
        `The claim credentials ${error.location} do not exist: check --claim-pointer-key and --bucket ` +
          "(the fleet's launch template writes both) and that the fleet's stack is deployed",
        { reason: error.reason, location: error.location },
        { cause: error },
      );
    }
    throw error;
  } finally {
    // Needed once: the claim is not followed, and keep-alive sockets would hold the process.
    s3.destroy();
  }
  log({
    event: 'credentials',
    source: 'claim',
    location: `s3://${bucket}/${config.claim.claimPointerKey}`,
    certificateId: claim.certificateId,
  });
  return claim;
}

/** A provisioning progress report as an event-log line. */
function claimLine(event: ClaimProvisioningEvent): Parameters<EventLog>[0] {
  switch (event.type) {
    case 'certificate-created':
      return { event: 'certificate-created', certificateId: event.certificateId };
    case 'retrying':
      return {
        event: 'registration-retrying',
        operation: event.operation,
        statusCode: event.statusCode,
        errorCode: event.errorCode,
        attempt: event.attempt,
        delayMs: event.delayMs,
      };
  }
}
