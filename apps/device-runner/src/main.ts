import {
  isClaimRejectedError,
  isCredentialsRefusedError,
  isDeviceUserError,
  type DeviceConnectionOptions,
} from '@thingcert/device-client';
import type { S3Client } from '@aws-sdk/client-s3';
import { isIncompleteRunError, isUsageError } from './errors';
import { createEventLog, type OutputStreams } from './event-log';
import {
  EXIT_CREDENTIALS_REFUSED,
  EXIT_FAILURE,
  EXIT_REGISTRATION_REJECTED,
  EXIT_SUCCESS,
  EXIT_USAGE,
} from './exit-codes';
import { resolveCommand, type ReadConfigFile } from './run-config';
import { runDevice, type RunDeviceDeps } from './run-device';
import { USAGE } from './usage';
import { VERSION } from './version';

/** What `main` needs from the outside world; `cli.ts` passes the real ones. */
export interface MainDeps extends OutputStreams, RunDeviceDeps {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly readConfigFile: ReadConfigFile;
  /** Aborted on SIGTERM/SIGINT: stop gracefully. */
  readonly signal: AbortSignal;
}

export type { DeviceConnectionOptions, S3Client };

/**
 * The whole CLI as a function: returns the exit status (see `exit-codes.ts`:
 * 0 success, 1 runtime failure with its reason, 2 bad usage, 75 the broker
 * keeps refusing the certificate the credential pointer names, 77 provisioning
 * by claim refused for good). User errors
 * get a one-line message with the fix; anything else is reported as an
 * internal error.
 */
export async function main(argv: readonly string[], deps: MainDeps): Promise<number> {
  let command;
  try {
    command = await resolveCommand(argv, deps.env, deps.readConfigFile);
  } catch (error) {
    if (!isUsageError(error)) throw error;
    deps.stderr.write(`device-runner: ${error.message}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (command.kind === 'help') {
    deps.stdout.write(USAGE);
    return EXIT_SUCCESS;
  }
  if (command.kind === 'version') {
    deps.stdout.write(`${VERSION}\n`);
    return EXIT_SUCCESS;
  }
  const { config } = command;
  const log = createEventLog({ json: config.json }, deps);
  try {
    await runDevice(config, deps, log, deps.signal);
    return EXIT_SUCCESS;
  } catch (error) {
    if (config.forever && deps.signal.aborted) return EXIT_SUCCESS;
    const message = error instanceof Error ? error.message : String(error);
    if (isCredentialsRefusedError(error)) {
      log({ event: 'error', kind: 'user', message });
      return EXIT_CREDENTIALS_REFUSED;
    }
    if (isClaimRejectedError(error) && !isTemporary(error.statusCode)) {
      log({ event: 'error', kind: 'user', message });
      return EXIT_REGISTRATION_REJECTED;
    }
    if (isDeviceUserError(error) || isIncompleteRunError(error) || deps.signal.aborted) {
      log({ event: 'error', kind: 'user', message });
    } else {
      log({ event: 'error', kind: 'fault', message });
      if (!config.json && error instanceof Error && error.stack !== undefined) {
        deps.stderr.write(`${error.stack}\n`);
      }
    }
    return EXIT_FAILURE;
  }
}

/** Throttling and server faults: a later attempt may be accepted. */
function isTemporary(statusCode: number | undefined): boolean {
  return statusCode === 429 || (statusCode !== undefined && statusCode >= 500);
}
