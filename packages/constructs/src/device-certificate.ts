import {
  CREDENTIAL_LAYOUT,
  defaultKeyAlgorithm,
  DEVICE_CERTIFICATE_ATTRIBUTE as ATTRIBUTE,
  DEVICE_CERTIFICATE_RESOURCE_TYPE,
  type DeviceCertificateProperties,
  type KeyAlgorithm,
  type KeyMode,
} from '@thingcert/contracts';
import { CustomResource, Duration, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { CertificateProvisioner } from './certificate-provisioner';
import { InvalidConstructPropsError } from './errors';
import { assertValidThingName } from './iot-names';

/** Props of {@link DeviceCertificate}. */
export interface DeviceCertificateProps {
  /** The provisioner Lambda (and, through it, the credentials bucket). */
  readonly provisioner: CertificateProvisioner;

  /**
   * Thing the certificate is for; its files go under
   * `<keyPrefix><thingName>/certificates/<certificate id>/`, and the thing's
   * pointer to `<keyPrefix><thingName>/current.json`.
   */
  readonly thingName: string;

  /**
   * Prefix of the thing's folder in the bucket: empty, or ending with `/`.
   *
   * @default ''
   */
  readonly keyPrefix?: string;

  /**
   * Who makes the key pair.
   *
   * @default 'server'
   */
  readonly keyMode?: KeyMode;

  /**
   * Key algorithm.
   *
   * @default 'RSA_2048' in `server` mode, 'EC_P256' in `csr` mode
   */
  readonly keyAlgorithm?: KeyAlgorithm;

  /**
   * Change this value to rotate the certificate: CloudFormation sends an
   * Update, the provisioner issues a new certificate (new physical id) and the
   * old one is deleted afterwards.
   *
   * @default no rotation token
   */
  readonly rotationToken?: string;

  /**
   * How long CloudFormation waits for the provisioner to answer before the
   * resource fails (instead of the default hour). Must exceed the Lambda
   * timeout so the Lambda's own FAILED answer arrives first.
   *
   * @default twice the provisioner's Lambda timeout (10 minutes by default)
   */
  readonly serviceTimeout?: Duration;
}

/** CloudFormation's upper bound for `ServiceTimeout`. */
const MAX_SERVICE_TIMEOUT_SECONDS = 3600;
/**
 * Safe folder names: no `*` or `?` (they would widen the IAM resources built
 * from the prefix) and no `.` or `..` segments.
 */
const KEY_PREFIX_PATTERN = /^(?:(?!\.{1,2}\/)[A-Za-z0-9_.-]+\/)*$/;

/**
 * An AWS IoT client certificate made by the provisioner Lambda through a
 * custom resource. Private key material stays in the KMS-encrypted bucket: the
 * resource's attributes carry only ARNs, ids, the endpoint and object keys.
 *
 * @example
 * const cert = new DeviceCertificate(stack, 'Cert', { provisioner, thingName: 'sensor-1' });
 * new CfnOutput(stack, 'CertificateArn', { value: cert.certificateArn });
 */
export class DeviceCertificate extends Construct {
  /** The custom resource. */
  readonly resource: CustomResource;
  /** Thing the certificate belongs to. */
  readonly thingName: string;
  /** Prefix of the thing's folder in the bucket. */
  readonly keyPrefix: string;
  /** Who makes the key pair. */
  readonly keyMode: KeyMode;
  /** Key algorithm. */
  readonly keyAlgorithm: KeyAlgorithm;
  /** The provisioner behind the resource. */
  readonly provisioner: CertificateProvisioner;
  /** ARN of the certificate. */
  readonly certificateArn: string;
  /** Id of the certificate (the resource's physical id). */
  readonly certificateId: string;
  /** The account's `iot:Data-ATS` endpoint. */
  readonly endpoint: string;
  /**
   * Object key of this certificate's PEM, in its own folder: changes with
   * every rotation. Devices should read {@link credentialPointerObjectKey}.
   */
  readonly certificateObjectKey: string;
  /** Object key of this certificate's private key PEM (encrypted with the bucket key). */
  readonly privateKeyObjectKey: string;
  /** Object key of this certificate's public key PEM. */
  readonly publicKeyObjectKey: string;
  /**
   * Object key of the thing's credential pointer (`<keyPrefix><thing>/current.json`),
   * which names the certificate to use: the same across rotations and rollbacks.
   */
  readonly credentialPointerObjectKey: string;

  constructor(scope: Construct, id: string, props: DeviceCertificateProps) {
    super(scope, id);
    assertValidThingName(props.thingName);
    const keyPrefix = props.keyPrefix ?? '';
    if (Token.isUnresolved(keyPrefix) || !KEY_PREFIX_PATTERN.test(keyPrefix)) {
      throw new InvalidConstructPropsError(
        `keyPrefix must be empty or literal path segments ending with '/' (got ${JSON.stringify(keyPrefix)})`,
      );
    }
    const keyMode = props.keyMode ?? 'server';
    const keyAlgorithm = props.keyAlgorithm ?? defaultKeyAlgorithm(keyMode);
    if (keyMode === 'server' && keyAlgorithm !== 'RSA_2048') {
      throw new InvalidConstructPropsError(
        "keyMode 'server' makes RSA-2048 keys only (CreateKeysAndCertificate); use keyMode 'csr' for EC_P256",
      );
    }
    const lambdaTimeout = props.provisioner.timeout.toSeconds();
    const serviceTimeout = props.serviceTimeout ?? Duration.seconds(lambdaTimeout * 2);
    const serviceSeconds = serviceTimeout.toSeconds();
    if (serviceSeconds <= lambdaTimeout || serviceSeconds > MAX_SERVICE_TIMEOUT_SECONDS) {
      throw new InvalidConstructPropsError(
        `serviceTimeout must be longer than the provisioner timeout (${lambdaTimeout} s) and at most ${MAX_SERVICE_TIMEOUT_SECONDS} s (got ${serviceSeconds} s)`,
      );
    }

    this.thingName = props.thingName;
    this.keyPrefix = keyPrefix;
    this.keyMode = keyMode;
    this.keyAlgorithm = keyAlgorithm;
    this.provisioner = props.provisioner;

    const bucket = props.provisioner.bucket;
    // Typed by the contract the provisioner parses: a renamed property fails here.
    const properties: DeviceCertificateProperties = {
      ThingName: props.thingName,
      BucketName: bucket.bucketName,
      KeyPrefix: keyPrefix,
      KmsKeyId: bucket.encryptionKey.keyArn,
      KeyMode: keyMode,
      KeyAlgorithm: keyAlgorithm,
      RotationToken: props.rotationToken,
      // Also makes CloudFormation send an Update to certificates created
      // before the pointer layout, so they answer CredentialPointerObjectKey.
      CredentialLayout: CREDENTIAL_LAYOUT,
    };
    this.resource = new CustomResource(this, 'Resource', {
      resourceType: DEVICE_CERTIFICATE_RESOURCE_TYPE,
      serviceToken: props.provisioner.serviceToken,
      serviceTimeout,
      properties,
    });
    // The Lambda needs its S3, KMS and IoT permissions for Create and, above
    // all, for Delete: make CloudFormation delete this resource before them.
    // They do not depend on this resource's thing or prefix, so a rename or
    // removal cannot take them away before the old resource's Delete.
    this.resource.node.addDependency(props.provisioner.role);

    this.certificateArn = this.resource.getAttString(ATTRIBUTE.certificateArn);
    this.certificateId = this.resource.ref;
    this.endpoint = this.resource.getAttString(ATTRIBUTE.iotEndpoint);
    this.certificateObjectKey = this.resource.getAttString(ATTRIBUTE.certificateObjectKey);
    this.privateKeyObjectKey = this.resource.getAttString(ATTRIBUTE.privateKeyObjectKey);
    this.publicKeyObjectKey = this.resource.getAttString(ATTRIBUTE.publicKeyObjectKey);
    this.credentialPointerObjectKey = this.resource.getAttString(
      ATTRIBUTE.credentialPointerObjectKey,
    );
  }
}
