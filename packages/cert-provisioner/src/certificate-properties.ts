import { InvalidPropertyError } from './errors';
import type { KeyAlgorithm } from './generate-key-and-csr';
import type { KeyMode } from './provision';

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
}

/** AWS IoT thing names: 1–128 of letters, digits, `:`, `_`, `-`. */
const THING_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;
/** S3 general-purpose bucket names. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const KEY_MODES: readonly KeyMode[] = ['server', 'csr'];
const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ['EC_P256', 'RSA_2048'];

function optionalString(raw: Record<string, unknown>, name: string): string | undefined {
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
  const thingName = optionalString(raw, 'ThingName');
  if (thingName === undefined) throw new InvalidPropertyError('ThingName', 'required');
  if (!THING_NAME.test(thingName)) {
    throw new InvalidPropertyError(
      'ThingName',
      `${show(thingName)} is not a valid thing name (1-128 characters of a-z A-Z 0-9 : _ -)`,
    );
  }
  const bucketName = optionalString(raw, 'BucketName');
  if (bucketName === undefined) throw new InvalidPropertyError('BucketName', 'required');
  if (!BUCKET_NAME.test(bucketName) || bucketName.includes('..')) {
    throw new InvalidPropertyError(
      'BucketName',
      `${show(bucketName)} is not a valid S3 bucket name`,
    );
  }
  const keyPrefix = optionalString(raw, 'KeyPrefix') ?? '';
  if (keyPrefix.startsWith('/') || keyPrefix.length > 512) {
    throw new InvalidPropertyError(
      'KeyPrefix',
      'must not start with "/" and must be at most 512 characters',
    );
  }
  const kmsKeyId = optionalString(raw, 'KmsKeyId');
  if (kmsKeyId !== undefined && kmsKeyId.length > 2048) {
    throw new InvalidPropertyError('KmsKeyId', 'must be at most 2048 characters');
  }
  const mode = optionalString(raw, 'KeyMode') ?? 'server';
  if (!KEY_MODES.includes(mode as KeyMode)) {
    throw new InvalidPropertyError(
      'KeyMode',
      `unknown mode ${show(mode)} (expected server or csr)`,
    );
  }
  const keyMode = mode as KeyMode;
  const algorithm = optionalString(raw, 'KeyAlgorithm');
  if (algorithm !== undefined && !KEY_ALGORITHMS.includes(algorithm as KeyAlgorithm)) {
    throw new InvalidPropertyError(
      'KeyAlgorithm',
      `unknown algorithm ${show(algorithm)} (expected EC_P256 or RSA_2048)`,
    );
  }
  if (keyMode === 'server' && algorithm === 'EC_P256') {
    throw new InvalidPropertyError(
      'KeyAlgorithm',
      'EC_P256 needs KeyMode csr (server mode makes RSA_2048 keys)',
    );
  }
  const keyAlgorithm: KeyAlgorithm =
    keyMode === 'server' ? 'RSA_2048' : ((algorithm as KeyAlgorithm | undefined) ?? 'EC_P256');
  const rotationToken = optionalString(raw, 'RotationToken');
  if (rotationToken !== undefined && rotationToken.length > 256) {
    throw new InvalidPropertyError('RotationToken', 'must be at most 256 characters');
  }
  return { thingName, bucketName, keyPrefix, kmsKeyId, keyMode, keyAlgorithm, rotationToken };
}

/**
 * The properties whose change needs a new certificate, in CloudFormation
 * spelling. Empty: an Update can keep the certificate. `KmsKeyId` is not among
 * them: it applies to the next certificate written.
 */
export function replacementReasons(
  before: CertificateProperties,
  after: CertificateProperties,
): string[] {
  const reasons: string[] = [];
  if (before.thingName !== after.thingName) reasons.push('ThingName');
  if (before.bucketName !== after.bucketName) reasons.push('BucketName');
  if (before.keyPrefix !== after.keyPrefix) reasons.push('KeyPrefix');
  if (before.keyMode !== after.keyMode) reasons.push('KeyMode');
  if (before.keyAlgorithm !== after.keyAlgorithm) reasons.push('KeyAlgorithm');
  if (before.rotationToken !== after.rotationToken) reasons.push('RotationToken');
  return reasons;
}
