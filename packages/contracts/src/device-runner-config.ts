import type { FleetClaimConfig } from './fleet-provisioning';

/** MQTT protocols the device runner speaks: MQTT 5 or MQTT 3.1.1. */
export const DEVICE_RUNNER_PROTOCOLS = ['mqtt5', 'mqtt3'] as const;

/** One of {@link DEVICE_RUNNER_PROTOCOLS}. */
export type DeviceRunnerProtocol = (typeof DEVICE_RUNNER_PROTOCOLS)[number];

/**
 * The one default protocol of the runner, the `DeviceInstance` construct and
 * the infra app: MQTT 3.1.1. AWS IoT speaks both; 3.1.1 is the one the local
 * cloud's broker emulates with AWS IoT's rules (registration, certificate
 * status, policies), so the default behaves the same on a laptop as on AWS.
 * MQTT 5 is one setting away everywhere.
 */
export const DEFAULT_DEVICE_RUNNER_PROTOCOL: DeviceRunnerProtocol = 'mqtt3';

/**
 * Every key the device runner's JSON configuration file (`--config`) may
 * hold; the same settings as its flags, in camelCase. Each is optional in the
 * file: flags and `THINGCERT_*` variables can give or override it. The
 * runner's parser is typed by this interface, so a key renamed here fails its
 * build.
 */
export interface DeviceRunnerConfigFile {
  /** Bucket to download the credentials from; unused when `cert` and `key` are given. */
  readonly bucket?: string;
  /** Thing name, used as MQTT client id. */
  readonly thing?: string;
  /**
   * S3 key of the thing's credential pointer, as the certificate resource
   * returned it (`CredentialPointerObjectKey`). The runner reads the pointer,
   * then the certificate and key it names, and watches it to follow rotations.
   * Takes precedence over `certificateObjectKey` / `privateKeyObjectKey`.
   *
   * @default `credentialPointerKey({ thingName: thing })` when no object keys are given
   */
  readonly credentialPointerObjectKey?: string;
  /**
   * S3 key of a fixed certificate PEM (no rotation following), as the certificate resource returned it
   * (`CertificateObjectKey`). Goes with `privateKeyObjectKey`.
   *
   * @default `credentialObjectKeys({ thingName: thing }).certificate`
   */
  readonly certificateObjectKey?: string;
  /**
   * S3 key of the private key PEM, as the certificate resource returned it
   * (`PrivateKeyObjectKey`). Goes with `certificateObjectKey`.
   *
   * @default `credentialObjectKeys({ thingName: thing }).privateKey`
   */
  readonly privateKeyObjectKey?: string;
  /** Certificate file on disk, instead of downloading one. @default none */
  readonly cert?: string;
  /** Private key file on disk (mode 0600), instead of downloading one. @default none */
  readonly key?: string;
  /** CA bundle for the broker. @default the system trust store */
  readonly ca?: string;
  /** `iot:Data-ATS` endpoint. */
  readonly endpoint?: string;
  /** MQTT port. @default 8883 */
  readonly port?: number;
  /** Topic to publish to and subscribe to. @default 'test/topic' */
  readonly topic?: string;
  /** Messages per run. @default 5 */
  readonly count?: number;
  /** Message text. @default 'Hello World!' */
  readonly message?: string;
  /** Milliseconds from the start of one publish to the start of the next. @default 0 */
  readonly interval?: number;
  /** Most QoS 1 publishes awaiting their PUBACK at once. @default 32 */
  readonly window?: number;
  /** MQTT protocol. @default DEFAULT_DEVICE_RUNNER_PROTOCOL ('mqtt3') */
  readonly protocol?: DeviceRunnerProtocol;
  /** Keep running (reconnecting) after the messages are sent. @default false */
  readonly forever?: boolean;
  /** One JSON object per output line. @default false */
  readonly json?: boolean;
  /** Region of the bucket. @default the AWS SDK's region */
  readonly region?: string;
  /** Where downloaded credentials go. @default `$STATE_DIRECTORY` or `~/.thingcert/credentials/<thing>` */
  readonly credentialsDir?: string;
  /**
   * Provision by claim (fleet provisioning): the device makes its own key,
   * gets its certificate through the template with the claim certificate,
   * and from then on connects as its own thing. With `claim`, the thing is
   * `fleetThingName(claim.thingNamePrefix, deviceId)` (so `thing` and the
   * credential object keys are not given) and `deviceId` is required.
   *
   * @default none (the thing's credentials come from `bucket` or `cert`/`key`)
   */
  readonly claim?: FleetClaimConfig;
  /**
   * This device's id, the second half of its fleet thing name (on EC2, the
   * instance id): required with `claim`, unused without it.
   *
   * @default none
   */
  readonly deviceId?: string;
}

/**
 * The configuration a device instance's user data writes to
 * `/etc/thingcert/device-runner.json`: a runner configuration file with the
 * settings a deployed device always has. Values may be CloudFormation tokens
 * until deployment.
 */
export interface DeviceRunnerConfig extends DeviceRunnerConfigFile {
  /** Credentials bucket. */
  readonly bucket: string;
  /** Thing name, used as MQTT client id. */
  readonly thing: string;
  /**
   * The certificate resource's `CredentialPointerObjectKey`: the thing's
   * pointer, the same for every certificate of the thing. A rotation changes
   * neither this configuration nor the instance that carries it; the runner
   * follows the pointer.
   */
  readonly credentialPointerObjectKey: string;
  /** `iot:Data-ATS` endpoint. */
  readonly endpoint: string;
  /** Topic to publish to and subscribe to. */
  readonly topic: string;
  /** Messages per run. */
  readonly count: number;
  /** Message text. */
  readonly message: string;
  /** MQTT protocol. */
  readonly protocol: DeviceRunnerProtocol;
  /** Region of the bucket and endpoint. */
  readonly region: string;
  /** Keep running (reconnecting) after the messages are sent. */
  readonly forever: boolean;
}

/** Where the device runner bundle is stored, as a CDK file asset. */
export interface DeviceRunnerAssetLocation {
  /** Asset bucket. */
  readonly s3Bucket: string;
  /** Object key of the zipped bundle. */
  readonly s3Key: string;
}

/**
 * CloudFormation Metadata key on each device instance: a
 * {@link DeviceRunnerMetadata}, the same configuration the user data writes,
 * so a local deployer can "boot" the instance by running the runner with it.
 *
 * @example
 * ```ts
 * const runner = resource.Metadata?.[DEVICE_RUNNER_METADATA_KEY] as DeviceRunnerMetadata;
 * ```
 */
export const DEVICE_RUNNER_METADATA_KEY = 'Thingcert::DeviceRunner';

/** Value stored under {@link DEVICE_RUNNER_METADATA_KEY}. */
export interface DeviceRunnerMetadata {
  /** The runner configuration. */
  readonly config: DeviceRunnerConfig;
  /** The runner bundle asset. */
  readonly asset: DeviceRunnerAssetLocation;
}
