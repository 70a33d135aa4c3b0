import {
  DEFAULT_CREDENTIAL_FILE_NAMES,
  thingFolder,
  type CredentialFileNames,
  type CredentialLocation,
  type CredentialObjectKeys,
} from './credential-object-keys';

/**
 * Name of the pointer object in a thing's folder. It names the certificate the
 * device should use now; the provisioner writes it last, after that
 * certificate's own objects, so a device that reads it always finds a complete
 * pair.
 */
export const CREDENTIAL_POINTER_FILE_NAME = 'current.json';

/**
 * S3 key of a thing's credential pointer: `<keyPrefix><thingName>/current.json`.
 * It never changes for a thing, so a device configured with it follows every
 * rotation and rollback without a new configuration (and, on AWS, without a
 * new instance).
 *
 * @example
 * ```ts
 * credentialPointerKey({ thingName: 'sensor-1', keyPrefix: 'fleet/' }); // 'fleet/sensor-1/current.json'
 * ```
 */
export function credentialPointerKey(
  location: Pick<CredentialLocation, 'thingName' | 'keyPrefix'>,
): string {
  return `${thingFolder(location)}${CREDENTIAL_POINTER_FILE_NAME}`;
}

/**
 * Folder holding every certificate folder of a thing:
 * `<keyPrefix><thingName>/certificates/`. With the pointer it is all a device
 * reads, so a device's IAM can be scoped to `<this>*` and the pointer key.
 *
 * @example
 * ```ts
 * certificatesFolder({ thingName: 'sensor-1', keyPrefix: 'fleet/' }); // 'fleet/sensor-1/certificates/'
 * ```
 */
export function certificatesFolder(
  location: Pick<CredentialLocation, 'thingName' | 'keyPrefix'>,
): string {
  return `${thingFolder(location)}certificates/`;
}

/**
 * Folder of one certificate's objects: `<keyPrefix><thingName>/certificates/<id>/`.
 * Each certificate has its own, so writing a new one (rotation) and deleting an
 * old or rolled-back one can never touch the other's files.
 */
export function certificateFolder(
  location: Pick<CredentialLocation, 'thingName' | 'keyPrefix'>,
  certificateId: string,
): string {
  return `${certificatesFolder(location)}${certificateId}/`;
}

/**
 * The S3 object keys of one certificate's credentials:
 * `<keyPrefix><thingName>/certificates/<certificateId>/<file name>`.
 *
 * @example
 * ```ts
 * certificateObjectKeys({ thingName: 't' }, 'ab12…').privateKey; // 't/certificates/ab12…/private.pem.key'
 * ```
 */
export function certificateObjectKeys(
  location: CredentialLocation,
  certificateId: string,
): CredentialObjectKeys {
  const folder = certificateFolder(location, certificateId);
  const names: CredentialFileNames | undefined = location.fileNames;
  return {
    certificate: `${folder}${names?.certificate ?? DEFAULT_CREDENTIAL_FILE_NAMES.certificate}`,
    publicKey: `${folder}${names?.publicKey ?? DEFAULT_CREDENTIAL_FILE_NAMES.publicKey}`,
    privateKey: `${folder}${names?.privateKey ?? DEFAULT_CREDENTIAL_FILE_NAMES.privateKey}`,
  };
}

/**
 * Body of the credential pointer object (JSON): which certificate the device
 * should connect with, and where its objects are. No key material.
 */
export interface CredentialPointer {
  /** Format version; a reader refuses any other. */
  readonly version: 1;
  /** Id of the certificate to use (64 hex digits). */
  readonly certificateId: string;
  /** ARN of that certificate. */
  readonly certificateArn: string;
  /** Its object keys (see {@link certificateObjectKeys}). */
  readonly objects: CredentialObjectKeys;
  /** When the pointer was written (ISO 8601). */
  readonly updatedAt: string;
}

/** The pointer object's body is not a {@link CredentialPointer}. */
export class InvalidCredentialPointerError extends Error {
  override readonly name = 'InvalidCredentialPointerError';

  /**
   * @param reason - what is wrong, in one line (never the body: it is not ours to log).
   */
  constructor(reason: string, options?: ErrorOptions) {
    super(`Credential pointer is not valid: ${reason}`, options);
  }
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/**
 * Reads a pointer object's body.
 *
 * @throws InvalidCredentialPointerError when it is not JSON, has another
 * version, or misses a field.
 */
export function parseCredentialPointer(body: string): CredentialPointer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    throw new InvalidCredentialPointerError('not JSON', { cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null) {
    throw new InvalidCredentialPointerError('not a JSON object');
  }
  const value = parsed as Record<string, unknown>;
  if (value['version'] !== 1) {
    throw new InvalidCredentialPointerError(`version ${String(value['version'])} is not 1`);
  }
  for (const field of ['certificateId', 'certificateArn', 'updatedAt'] as const) {
    if (!isNonEmptyString(value[field])) {
      throw new InvalidCredentialPointerError(`"${field}" is missing`);
    }
  }
  const objects = value['objects'] as Record<string, unknown> | undefined;
  for (const field of ['certificate', 'publicKey', 'privateKey'] as const) {
    if (!isNonEmptyString(objects?.[field])) {
      throw new InvalidCredentialPointerError(`"objects.${field}" is missing`);
    }
  }
  return {
    version: 1,
    certificateId: value['certificateId'] as string,
    certificateArn: value['certificateArn'] as string,
    objects: {
      certificate: objects!['certificate'] as string,
      publicKey: objects!['publicKey'] as string,
      privateKey: objects!['privateKey'] as string,
    },
    updatedAt: value['updatedAt'] as string,
  };
}

/** The pointer object's body for a certificate. */
export function serializeCredentialPointer(pointer: CredentialPointer): string {
  return `${JSON.stringify(pointer, null, 2)}\n`;
}
