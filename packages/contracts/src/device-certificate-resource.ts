import type { KeyAlgorithm, KeyMode } from './key-mode';

/**
 * CloudFormation type of the device certificate custom resource. Changing it
 * replaces every such resource in a deployed stack.
 *
 * @example
 * ```ts
 * new CustomResource(scope, 'Cert', { resourceType: DEVICE_CERTIFICATE_RESOURCE_TYPE, ... });
 * ```
 */
export const DEVICE_CERTIFICATE_RESOURCE_TYPE = 'Custom::ThingcertDeviceCertificate';

/**
 * The credential layout of this version: each certificate's objects in a
 * folder of their own, `<keyPrefix><thing>/certificates/<id>/`, and the
 * thing's pointer `<keyPrefix><thing>/current.json` naming the one to use
 * (see `certificateObjectKeys` and `credentialPointerKey`). Before it, the
 * objects were fixed per thing (`credentialObjectKeys`).
 */
export const CREDENTIAL_LAYOUT = 'pointer-v1';

/**
 * The resource's properties as the template spells them. CloudFormation
 * delivers every value as a string and adds `ServiceToken` (and
 * `ServiceTimeout`), which are not listed here.
 */
export interface DeviceCertificateProperties {
  /** AWS IoT thing name (see `THING_NAME_PATTERN`); also its folder in the bucket. */
  readonly ThingName: string;
  /** Bucket the credentials are written to. */
  readonly BucketName: string;
  /**
   * Put in front of the thing's folder: empty, or ending with `/`.
   *
   * @default ''
   */
  readonly KeyPrefix?: string;
  /**
   * KMS key id or ARN for SSE-KMS on every object written.
   *
   * @default the bucket's default encryption
   */
  readonly KmsKeyId?: string;
  /**
   * Who makes the key pair.
   *
   * @default 'server'
   */
  readonly KeyMode?: KeyMode;
  /**
   * Key algorithm; `server` mode makes `RSA_2048` only.
   *
   * @default defaultKeyAlgorithm(KeyMode)
   */
  readonly KeyAlgorithm?: KeyAlgorithm;
  /**
   * Changing it makes a new certificate (rotation).
   *
   * @default none
   */
  readonly RotationToken?: string;
  /**
   * The credential layout the template expects: {@link CREDENTIAL_LAYOUT}.
   * Changes no certificate. It is there so that a template made by a
   * construct that reads `CredentialPointerObjectKey` differs from one made
   * before: CloudFormation then sends an Update to every certificate created
   * before the pointer existed, and the provisioner answers the new attribute
   * (and writes that certificate's pointer) instead of `Fn::GetAtt` failing.
   *
   * @default none (a template made before the layout was versioned)
   */
  readonly CredentialLayout?: typeof CREDENTIAL_LAYOUT;
}

/**
 * Each property's name in the template, by the name code uses for it. Read
 * raw properties through it (`raw[DEVICE_CERTIFICATE_PROPERTY.thingName]`) so
 * that renaming a property here breaks the build of every package that uses it.
 *
 * @example
 * ```ts
 * const thingName = event.ResourceProperties[DEVICE_CERTIFICATE_PROPERTY.thingName];
 * ```
 */
export const DEVICE_CERTIFICATE_PROPERTY = {
  thingName: 'ThingName',
  bucketName: 'BucketName',
  keyPrefix: 'KeyPrefix',
  kmsKeyId: 'KmsKeyId',
  keyMode: 'KeyMode',
  keyAlgorithm: 'KeyAlgorithm',
  rotationToken: 'RotationToken',
  credentialLayout: 'CredentialLayout',
} as const satisfies Record<string, keyof DeviceCertificateProperties>;

/**
 * The resource's `Data`: what `Fn::GetAtt` can read. ARNs, ids, the endpoint
 * and object keys only: `Data` is readable by anyone who can read the stack's
 * events, so no key material ever goes here.
 */
export interface DeviceCertificateData {
  /** ARN of the certificate. */
  readonly CertificateArn: string;
  /** Id of the certificate (64 hex digits); also the resource's physical id. */
  readonly CertificateId: string;
  /** The account's `iot:Data-ATS` endpoint. */
  readonly IoTEndpoint: string;
  /** Object key of this certificate's PEM (in its own folder, `certificateObjectKeys`). */
  readonly CertificateObjectKey: string;
  /** Object key of this certificate's private key PEM. */
  readonly PrivateKeyObjectKey: string;
  /** Object key of the public key PEM. */
  readonly PublicKeyObjectKey: string;
  /**
   * Object key of the thing's credential pointer (`credentialPointerKey`).
   * The same for every certificate of the thing, so a device configured with
   * it follows rotations and rollbacks without a new configuration.
   */
  readonly CredentialPointerObjectKey: string;
}

/**
 * Each `Data` attribute's name, by the name code uses for it; for
 * `getAttString` and `Fn::GetAtt`.
 *
 * @example
 * ```ts
 * resource.getAttString(DEVICE_CERTIFICATE_ATTRIBUTE.certificateArn);
 * ```
 */
export const DEVICE_CERTIFICATE_ATTRIBUTE = {
  certificateArn: 'CertificateArn',
  certificateId: 'CertificateId',
  iotEndpoint: 'IoTEndpoint',
  certificateObjectKey: 'CertificateObjectKey',
  privateKeyObjectKey: 'PrivateKeyObjectKey',
  publicKeyObjectKey: 'PublicKeyObjectKey',
  credentialPointerObjectKey: 'CredentialPointerObjectKey',
} as const satisfies Record<string, keyof DeviceCertificateData>;
