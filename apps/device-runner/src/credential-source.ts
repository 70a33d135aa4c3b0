import type { S3Client } from '@aws-sdk/client-s3';
import {
  CredentialPointerWatcher,
  fetchCredentials,
  fetchPointedCredentials,
  loadCredentialFiles,
  type DeviceCredentials,
} from '@thingcert/device-client';
import type { EventLog } from './event-log';
import type { DeviceObjectKeys, RunConfig } from './run-config';

/** Where the device's credentials came from, and how to follow them. */
export interface CredentialSource {
  /** The pair to connect with now, its certificate id and the broker CA. */
  readonly credentials: DeviceCredentials;
  /**
   * Watches the credential pointer: present only when the credentials came
   * through it (`--cert/--key` files and fixed object keys are not followed).
   */
  readonly watcher: CredentialPointerWatcher | undefined;
  /** Frees the S3 client, if one is still held. */
  close(): void;
  /**
   * What these credentials are, when a broker refusing them at the first
   * connect is a `CredentialsRefusedError` (exit 75: a restart may find
   * others), e.g. "which the credential pointer names"; `undefined`: an
   * ordinary connection error.
   */
  readonly refusedMeans?: string;
  /** Called once the first connect succeeded (it confirms a claim whose reply was lost). */
  readonly connected?: () => Promise<void>;
}

/** Builds the S3 client; injected so tests need no network. */
export type CreateS3 = (region: string | undefined) => S3Client;

/**
 * Obtains the credentials as configured: files on disk, the fixed objects a
 * certificate resource named, or (the default) through the thing's credential
 * pointer, whose S3 client is kept for the watcher. Logs a `credentials`
 * event naming where they came from and the certificate id.
 */
export async function openCredentialSource(
  config: RunConfig,
  createS3: CreateS3,
  log: EventLog,
): Promise<CredentialSource> {
  if (config.cert !== undefined && config.key !== undefined) {
    const credentials = await loadCredentialFiles({
      certPath: config.cert,
      keyPath: config.key,
      ...(config.ca === undefined ? {} : { caPath: config.ca }),
    });
    log({
      event: 'credentials',
      source: 'files',
      location: `${config.cert}, ${config.key}`,
      certificateId: credentials.certificateId,
    });
    return { credentials, watcher: undefined, close: () => undefined };
  }
  const bucket = config.bucket ?? '';
  const s3 = createS3(config.region);
  if (config.pointerKey === undefined) {
    return fixedObjects(config, s3, bucket, log);
  }
  try {
    const options = {
      s3,
      bucket,
      pointerKey: config.pointerKey,
      dir: config.credentialsDir,
      ...(config.ca === undefined ? {} : { caPath: config.ca }),
    };
    const credentials = await fetchPointedCredentials(options);
    const watcher = new CredentialPointerWatcher(options, credentials);
    // Files of certificates an earlier run used are not needed any more.
    await watcher.adopt(credentials);
    log({
      event: 'credentials',
      source: 'pointer',
      location: `s3://${bucket}/${config.pointerKey}`,
      certificateId: credentials.certificateId,
    });
    return {
      credentials,
      watcher,
      close: () => s3.destroy(),
      refusedMeans: 'which the credential pointer names',
    };
  } catch (error) {
    s3.destroy();
    throw error;
  }
}

/** Fixed object keys (a certificate resource's `CertificateObjectKey`/`PrivateKeyObjectKey`). */
async function fixedObjects(
  config: RunConfig,
  s3: S3Client,
  bucket: string,
  log: EventLog,
): Promise<CredentialSource> {
  const objectKeys = config.objectKeys as DeviceObjectKeys;
  let fetched;
  try {
    fetched = await fetchCredentials({
      s3,
      bucket,
      thing: config.thing,
      dir: config.credentialsDir,
      objectKeys,
    });
  } finally {
    // Nothing is followed: S3 is needed only for this fetch, and its
    // keep-alive sockets would otherwise hold the process open after the run.
    s3.destroy();
  }
  log({
    event: 'credentials',
    source: 's3',
    location: s3Location(bucket, objectKeys),
    certificateId: fetched.certificateId,
  });
  return {
    credentials: { ...fetched, caPath: config.ca },
    watcher: undefined,
    close: () => undefined,
  };
}

/** The folder both objects are in, or both objects when they are apart. */
function s3Location(bucket: string, keys: DeviceObjectKeys): string {
  const folderOf = (key: string): string => key.slice(0, key.lastIndexOf('/') + 1);
  const folder = folderOf(keys.certificate);
  return folder === folderOf(keys.privateKey)
    ? `s3://${bucket}/${folder}`
    : `s3://${bucket}/${keys.certificate}, s3://${bucket}/${keys.privateKey}`;
}
