/** MQTT protocol the device runner speaks. */
export type DeviceRunnerProtocol = 'mqtt5' | 'mqtt3';

/**
 * The device runner's configuration file (`/etc/thingcert/device-runner.json`).
 * Values may be CloudFormation tokens until deployment.
 */
export interface DeviceRunnerConfig {
  /** Credentials bucket. */
  readonly bucket: string;
  /** Thing name, used as MQTT client id. */
  readonly thing: string;
  /** `iot:Data-ATS` endpoint. */
  readonly endpoint: string;
  /** MQTT port, when not the runner's default (8883). */
  readonly port?: number;
  /** Topic to publish to and subscribe to. */
  readonly topic: string;
  /** Messages per run. */
  readonly count: number;
  /** Message text. */
  readonly message: string;
  /** Milliseconds between messages, when not the runner's default. */
  readonly interval?: number;
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
 * CloudFormation Metadata key on each device instance: `{ config, asset }`, the
 * same configuration the user data writes, so a local deployer can "boot" the
 * instance by running the runner with it.
 */
export const DEVICE_RUNNER_METADATA_KEY = 'Thingcert::DeviceRunner';

/** Value stored under {@link DEVICE_RUNNER_METADATA_KEY}. */
export interface DeviceRunnerMetadata {
  /** The runner configuration. */
  readonly config: DeviceRunnerConfig;
  /** The runner bundle asset. */
  readonly asset: DeviceRunnerAssetLocation;
}
