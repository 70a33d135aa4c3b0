/**
 * File names of a thing's credentials inside its folder in the bucket. Each
 * one left out takes its name from {@link DEFAULT_CREDENTIAL_FILE_NAMES}.
 */
export interface CredentialFileNames {
  /** @default 'device.pem.crt' */
  readonly certificate?: string;
  /** @default 'public.pem.key' */
  readonly publicKey?: string;
  /** @default 'private.pem.key' */
  readonly privateKey?: string;
}

/**
 * The file names the provisioner writes and the device reads when nothing else
 * is configured: the names of the seed project, so its docs still apply.
 */
export const DEFAULT_CREDENTIAL_FILE_NAMES = {
  certificate: 'device.pem.crt',
  publicKey: 'public.pem.key',
  privateKey: 'private.pem.key',
} as const satisfies Required<CredentialFileNames>;

/** The S3 object keys of one thing's credentials. */
export interface CredentialObjectKeys {
  /** The certificate PEM. */
  readonly certificate: string;
  /** The public key PEM. */
  readonly publicKey: string;
  /** The private key PEM: secret, readable only by the thing's own instance role. */
  readonly privateKey: string;
}

/** Where in a bucket a thing's credentials live. */
export interface CredentialLocation {
  /** AWS IoT thing name; also the name of its folder. */
  readonly thingName: string;
  /**
   * Put in front of the thing's folder: empty, or ending with `/`, e.g. `devices/`.
   *
   * @default ''
   */
  readonly keyPrefix?: string;
  /**
   * File names inside the folder.
   *
   * @default DEFAULT_CREDENTIAL_FILE_NAMES
   */
  readonly fileNames?: CredentialFileNames;
}

/**
 * `<keyPrefix><thingName>/`: the thing's folder. Everything written for a
 * thing lives below it, so IAM scoped to `<folder>*` covers all of it.
 *
 * @example
 * ```ts
 * thingFolder({ thingName: 'sensor-1', keyPrefix: 'fleet/' }); // 'fleet/sensor-1/'
 * ```
 */
export function thingFolder(location: Pick<CredentialLocation, 'thingName' | 'keyPrefix'>): string {
  return `${location.keyPrefix ?? ''}${location.thingName}/`;
}

/**
 * The S3 object keys of a thing's credentials:
 * `<keyPrefix><thingName>/<file name>`. The provisioner writes there, and a
 * device that was not told the keys the certificate resource returned reads
 * from there.
 *
 * @example
 * ```ts
 * credentialObjectKeys({ thingName: 'sensor-1' }).privateKey; // 'sensor-1/private.pem.key'
 * ```
 */
export function credentialObjectKeys(location: CredentialLocation): CredentialObjectKeys {
  const folder = thingFolder(location);
  const names = location.fileNames;
  return {
    certificate: `${folder}${names?.certificate ?? DEFAULT_CREDENTIAL_FILE_NAMES.certificate}`,
    publicKey: `${folder}${names?.publicKey ?? DEFAULT_CREDENTIAL_FILE_NAMES.publicKey}`,
    privateKey: `${folder}${names?.privateKey ?? DEFAULT_CREDENTIAL_FILE_NAMES.privateKey}`,
  };
}
