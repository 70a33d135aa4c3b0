import {
  certificatesFolder,
  credentialPointerKey,
  CREDENTIAL_SWITCH_WINDOW_RESOURCE_TYPE,
  credentialSwitchWindowSeconds,
  DEFAULT_CREDENTIAL_CHECK_INTERVAL_MS,
  type CredentialSwitchWindowProperties,
  type KeyAlgorithm,
  type KeyMode,
} from '@thingcert/contracts';
import { CustomResource, Duration } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as iot from 'aws-cdk-lib/aws-iot';
import { Construct } from 'constructs';
import type { CertificateProvisioner } from './certificate-provisioner';
import { DeviceCertificate, type DeviceCertificateProps } from './device-certificate';
import { devicePolicyDocument } from './device-policy-document';
import { InvalidConstructPropsError } from './errors';
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

  /**
   * How often the device runner checks the thing's credential pointer. The
   * stack's credential switch window is sized from it: on each rotation,
   * CloudFormation's cleanup (which detaches and deletes the old certificate)
   * waits one interval and a margin, so the device moves to the new
   * certificate first and loses no message. `DeviceInstance` writes it into
   * the runner's configuration. At most 42 seconds.
   *
   * @default Duration.millis(DEFAULT_CREDENTIAL_CHECK_INTERVAL_MS) (30 seconds)
   */
  readonly credentialCheckInterval?: Duration;
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
  /**
   * The credential switch window (`CREDENTIAL_SWITCH_WINDOW_RESOURCE_TYPE`):
   * after the new certificate's attachments, it holds each rotation's update
   * phase open for the device to switch.
   */
  readonly credentialSwitchWindow: CustomResource;
  /** How often the device checks its credential pointer (see the prop). */
  readonly credentialCheckInterval: Duration;
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

    this.credentialCheckInterval =
      props.credentialCheckInterval ?? Duration.millis(DEFAULT_CREDENTIAL_CHECK_INTERVAL_MS);
    let waitSeconds: number;
    try {
      waitSeconds = credentialSwitchWindowSeconds(this.credentialCheckInterval.toMilliseconds());
    } catch (error) {
      throw new InvalidConstructPropsError(
        `IotDevice ${props.thingName}: credentialCheckInterval ${(error as Error).message}`,
        { cause: error },
      );
    }
    const windowProperties: CredentialSwitchWindowProperties = {
      CertificateId: this.certificate.certificateId,
      WaitSeconds: waitSeconds,
    };
    this.credentialSwitchWindow = new CustomResource(this, 'CredentialSwitchWindow', {
      resourceType: CREDENTIAL_SWITCH_WINDOW_RESOURCE_TYPE,
      serviceToken: props.provisioner.serviceToken,
      properties: windowProperties,
    });
    // After the new certificate can connect (both attachments), before the
    // update phase ends: CloudFormation's cleanup waits for the window.
    this.credentialSwitchWindow.node.addDependency(this.policyAttachment, this.thingAttachment);
    this.credentialSwitchWindow.node.addDependency(props.provisioner.role);
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
