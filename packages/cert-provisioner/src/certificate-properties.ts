import {
  CREDENTIAL_LAYOUT,
  defaultKeyAlgorithm,
  DEVICE_CERTIFICATE_PROPERTY as PROPERTY,
  isKeyAlgorithm,
  isKeyMode,
  THING_NAME_PATTERN,
  type DeviceCertificateProperties,
  type KeyAlgorithm,
  type KeyMode,
} from '@thingcert/contracts';
import { InvalidPropertyError } from './errors';

/** The custom resource's properties, validated and with defaults applied. */
export interface CertificateProperties {
  readonly thingName: string;
  readonly bucketName: string;
  /** @default '' */
  readonly keyPrefix: string;
  /** @default bucket default encryption */
  readonly kmsKeyId: string | undefined;
  /** @default 'server' */
  readonly keyMode: KeyMode;
  /** Effective key type: always `RSA_2048` in `server` mode. @default 'EC_P256' in `csr` mode */
  readonly keyAlgorithm: KeyAlgorithm;
  /** Changing it makes a new certificate. @default none */
  readonly rotationToken: string | undefined;
  /**
   * The layout the template expects (`CREDENTIAL_LAYOUT`); changes no
   * certificate: its first appearance only makes CloudFormation send an
   * Update to certificates created before it. @default none
   */
  readonly credentialLayout: typeof CREDENTIAL_LAYOUT | undefined;
}

/** S3 general-purpose bucket names. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** A property's name in the template. */
type PropertyName = keyof DeviceCertificateProperties;

function optionalString(raw: Record<string, unknown>, name: PropertyName): string | undefined {
  const value = raw[name];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string')
    throw new InvalidPropertyError(name, `expected a string, got ${typeof value}`);
  return value;
}

function show(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
}

/**
 * Validates the custom resource's `ResourceProperties` (CloudFormation sends
 * every value as a string) and applies defaults. Unknown properties are
 * ignored (CloudFormation adds `ServiceToken` and `ServiceTimeout`).
 *
 * @throws {InvalidPropertyError} naming the first bad property, in one line.
 * @example
 * ```ts
 * const props = parseCertificateProperties({ ThingName: 'sensor-1', BucketName: 'creds' });
 * props.keyMode; // 'server'
 * ```
 */
export function parseCertificateProperties(raw: Record<string, unknown>): CertificateProperties {
  const thingName = optionalString(raw, PROPERTY.thingName);
  if (thingName === undefined) throw new InvalidPropertyError(PROPERTY.thingName, 'required');
  if (!THING_NAME_PATTERN.test(thingName)) {
    throw new InvalidPropertyError(
      PROPERTY.thingName,
      `${show(thingName)} is not a valid thing name (1-128 characters of a-z A-Z 0-9 : _ -)`,
    );
  }
  const bucketName = optionalString(raw, PROPERTY.bucketName);
  if (bucketName === undefined) throw new InvalidPropertyError(PROPERTY.bucketName, 'required');
  if (!BUCKET_NAME.test(bucketName) || bucketName.includes('..')) {
    throw new InvalidPropertyError(
      PROPERTY.bucketName,
      `${show(bucketName)} is not a valid S3 bucket name`,
    );
  }
  const keyPrefix = optionalString(raw, PROPERTY.keyPrefix) ?? '';
  if (keyPrefix.startsWith('/') || keyPrefix.length > 512) {
    throw new InvalidPropertyError(
      PROPERTY.keyPrefix,
      'must not start with "/" and must be at most 512 characters',
    );
  }
  const kmsKeyId = optionalString(raw, PROPERTY.kmsKeyId);
  if (kmsKeyId !== undefined && kmsKeyId.length > 2048) {
    throw new InvalidPropertyError(PROPERTY.kmsKeyId, 'must be at most 2048 characters');
  }
  const keyMode = optionalString(raw, PROPERTY.keyMode) ?? 'server';
  if (!isKeyMode(keyMode)) {
    throw new InvalidPropertyError(
      PROPERTY.keyMode,
      `unknown mode ${show(keyMode)} (expected server or csr)`,
    );
  }
  const algorithm = optionalString(raw, PROPERTY.keyAlgorithm);
  if (algorithm !== undefined && !isKeyAlgorithm(algorithm)) {
    throw new InvalidPropertyError(
      PROPERTY.keyAlgorithm,
      `unknown algorithm ${show(algorithm)} (expected EC_P256 or RSA_2048)`,
    );
  }
  if (keyMode === 'server' && algorithm !== undefined && algorithm !== 'RSA_2048') {
    throw new InvalidPropertyError(
      PROPERTY.keyAlgorithm,
      `${algorithm} needs KeyMode csr (server mode makes RSA_2048 keys)`,
    );
  }
  // Server mode has only its default left after the check above.
  const keyAlgorithm: KeyAlgorithm = algorithm ?? defaultKeyAlgorithm(keyMode);
  const rotationToken = optionalString(raw, PROPERTY.rotationToken);
  if (rotationToken !== undefined && rotationToken.length > 256) {
    throw new InvalidPropertyError(PROPERTY.rotationToken, 'must be at most 256 characters');
  }
  const layout = optionalString(raw, PROPERTY.credentialLayout);
  if (layout !== undefined && layout !== CREDENTIAL_LAYOUT) {
    throw new InvalidPropertyError(
      PROPERTY.credentialLayout,
      `unknown layout ${show(layout)} (this provisioner writes ${CREDENTIAL_LAYOUT})`,
    );
  }
  const credentialLayout: typeof CREDENTIAL_LAYOUT | undefined =
    layout === undefined ? undefined : CREDENTIAL_LAYOUT;
  // One field per template property: a property added to the contract fails
  // here until it is parsed.
  return {
    thingName,
    bucketName,
    keyPrefix,
    kmsKeyId,
    keyMode,
    keyAlgorithm,
    rotationToken,
    credentialLayout,
  } satisfies Record<keyof typeof PROPERTY, unknown>;
}

/**
 * The properties whose change needs a new certificate, in CloudFormation
 * spelling. Empty: an Update can keep the certificate. `KmsKeyId` is not among
 * them (it applies to the next certificate written), nor `CredentialLayout`.
 */
export function replacementReasons(
  before: CertificateProperties,
  after: CertificateProperties,
): string[] {
  const reasons: PropertyName[] = [];
  if (before.thingName !== after.thingName) reasons.push(PROPERTY.thingName);
  if (before.bucketName !== after.bucketName) reasons.push(PROPERTY.bucketName);
  if (before.keyPrefix !== after.keyPrefix) reasons.push(PROPERTY.keyPrefix);
  if (before.keyMode !== after.keyMode) reasons.push(PROPERTY.keyMode);
  if (before.keyAlgorithm !== after.keyAlgorithm) reasons.push(PROPERTY.keyAlgorithm);
  if (before.rotationToken !== after.rotationToken) reasons.push(PROPERTY.rotationToken);
  return reasons;
}
