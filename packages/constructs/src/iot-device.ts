import {
  certificatesFolder,
  credentialPointerKey,
  type KeyAlgorithm,
  type KeyMode,
} from '@thingcert/contracts';
import type { Duration } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as iot from 'aws-cdk-lib/aws-iot';
import { Construct } from 'constructs';
import type { CertificateProvisioner } from './certificate-provisioner';
import { DeviceCertificate, type DeviceCertificateProps } from './device-certificate';
import { devicePolicyDocument } from './device-policy-document';
import { assertValidThingName, assertValidTopics } from './iot-names';

/** Props of {@link IotDevice}. */
export interface IotDeviceProps {
  /** Name of the thing, also the MQTT client id the device must use. */
  readonly thingName: string;

  /**
   * Topics the device may publish to, subscribe to and receive from. Literal
   * topics only: no MQTT or policy wildcards.
   */
  readonly topics: readonly string[];

  /** Provisioner that makes the certificate. */
  readonly provisioner: CertificateProvisioner;

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
   * Prefix of the thing's folder in the credentials bucket.
   *
   * @default ''
   */
  readonly keyPrefix?: string;

  /**
   * Change to rotate the certificate.
   *
   * @default no rotation token
   */
  readonly rotationToken?: string;

  /**
   * `ServiceTimeout` of the certificate custom resource.
   *
   * @default twice the provisioner's Lambda timeout
   */
  readonly certificateServiceTimeout?: Duration;
}

/**
 * One AWS IoT device: the thing, a least-privilege IoT policy, a
 * {@link DeviceCertificate}, and the attachments of the certificate to both.
 *
 * The attachments reference the certificate, the thing and the policy, so
 * CloudFormation creates them last and deletes them first: the certificate is
 * only deleted once nothing is attached to it.
 *
 * @example
 * const device = new IotDevice(stack, 'Sensor1', {
 *   thingName: 'sensor-1',
 *   topics: ['sensors/sensor-1/telemetry'],
 *   provisioner,
 * });
 * device.grantReadCredentials(instanceRole);
 */
export class IotDevice extends Construct {
  /** The thing. */
  readonly thing: iot.CfnThing;
  /** The device's IoT policy. */
  readonly policy: iot.CfnPolicy;
  /** The device certificate. */
  readonly certificate: DeviceCertificate;
  /** Attachment of the policy to the certificate. */
  readonly policyAttachment: iot.CfnPolicyPrincipalAttachment;
  /** Attachment of the certificate to the thing. */
  readonly thingAttachment: iot.CfnThingPrincipalAttachment;
  /** Name of the thing. */
  readonly thingName: string;
  /** Topics the policy allows. */
  readonly topics: readonly string[];

  constructor(scope: Construct, id: string, props: IotDeviceProps) {
    super(scope, id);
    assertValidThingName(props.thingName);
    this.thingName = props.thingName;
    this.topics = assertValidTopics(props.topics);

    this.thing = new iot.CfnThing(this, 'Thing', { thingName: props.thingName });
    this.policy = new iot.CfnPolicy(this, 'Policy', {
      policyDocument: devicePolicyDocument(this, this.topics),
    });
    const certificateProps: DeviceCertificateProps = {
      provisioner: props.provisioner,
      thingName: props.thingName,
      keyMode: props.keyMode,
      keyAlgorithm: props.keyAlgorithm,
      keyPrefix: props.keyPrefix,
      rotationToken: props.rotationToken,
      serviceTimeout: props.certificateServiceTimeout,
    };
    this.certificate = new DeviceCertificate(this, 'Certificate', certificateProps);

    this.policyAttachment = new iot.CfnPolicyPrincipalAttachment(this, 'PolicyAttachment', {
      policyName: this.policy.ref,
      principal: this.certificate.certificateArn,
    });
    this.thingAttachment = new iot.CfnThingPrincipalAttachment(this, 'ThingAttachment', {
      thingName: this.thing.ref,
      principal: this.certificate.certificateArn,
    });
  }

  /** The device certificate's ARN. */
  get certificateArn(): string {
    return this.certificate.certificateArn;
  }

  /** The account's `iot:Data-ATS` endpoint. */
  get endpoint(): string {
    return this.certificate.endpoint;
  }

  /**
   * Lets `grantee` read this thing's credentials and nothing else: its
   * pointer and the objects under its `certificates/` folder (`s3:GetObject`,
   * no listing), decrypted with the bucket key through S3. The keys are fixed
   * per thing, so the grant stays the same across rotations and rollbacks.
   */
  grantReadCredentials(grantee: iam.IGrantable): iam.Grant {
    const location = { thingName: this.thingName, keyPrefix: this.certificate.keyPrefix };
    return this.certificate.provisioner.bucket.grantReadObjects(grantee, [
      credentialPointerKey(location),
      `${certificatesFolder(location)}*`,
    ]);
  }
}
