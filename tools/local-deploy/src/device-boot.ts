import {
  DEVICE_RUNNER_METADATA_KEY,
  FLEET_DEVICE_ID_ENVIRONMENT_VARIABLE,
  FLEET_DEVICE_RUNNER_METADATA_KEY,
  type DeviceRunnerMetadata,
  type FleetDeviceRunnerMetadata,
} from '@thingcert/contracts';
import { DeviceProcess } from './device-process';
import type { StackEnvironment } from './resource-provider';

/** What booting one instance needs. */
export interface DeviceBootOptions {
  readonly logicalId: string;
  /** The instance's `Metadata`, resolved. */
  readonly metadata: Readonly<Record<string, unknown>>;
  /** What the instance's SDK finds in its default credential chain (see `WorkloadCredentials`). */
  readonly credentials: Readonly<Record<string, string>>;
  readonly stack: StackEnvironment;
  /** The device runs its messages once and exits, instead of `forever`. */
  readonly runOnce: boolean;
  /**
   * Extra `THINGCERT_*` environment for the runner, as an operator's systemd
   * drop-in (`Environment=`) would give it: e.g. `THINGCERT_INTERVAL`.
   */
  readonly environment?: Readonly<Record<string, string>>;
}

/**
 * "Boots" an EC2 instance: starts the bundled device runner (the asset its
 * metadata names) with the configuration from its
 * {@link DEVICE_RUNNER_METADATA_KEY} metadata and the local cloud's endpoints.
 *
 * @returns the running device, or `undefined` for an instance without that
 *   metadata (nothing to run; logged).
 * @throws {ResourceStepError} when the runner bundle is not in the cloud assembly.
 */
export function bootDevice(options: DeviceBootOptions): DeviceProcess | undefined {
  const { logicalId, metadata, stack } = options;
  // The template is input: a hand-written one may carry partial metadata.
  const runner = metadata[DEVICE_RUNNER_METADATA_KEY] as Partial<DeviceRunnerMetadata> | undefined;
  if (!runner?.config) {
    stack.log(
      `${logicalId}: EC2 instance without ${DEVICE_RUNNER_METADATA_KEY} metadata: not booted`,
    );
    return undefined;
  }
  const name = typeof runner.config.thing === 'string' ? runner.config.thing : logicalId;
  return startRunner(options, name, runner.config, runner.asset?.s3Key, {});
}

/**
 * "Boots" one instance of an Auto Scaling group: starts the bundled device
 * runner with the group's {@link FLEET_DEVICE_RUNNER_METADATA_KEY}
 * configuration and the instance id as its device id in
 * {@link FLEET_DEVICE_ID_ENVIRONMENT_VARIABLE}, as the fleet's user data sets it on EC2
 * (the thing name is made of it).
 *
 * @returns the running device, or `undefined` for a group without that
 *   metadata (nothing to run; logged).
 * @throws {ResourceStepError} when the runner bundle is not in the cloud assembly.
 */
export function bootFleetDevice(
  options: DeviceBootOptions & { readonly instanceId: string },
): DeviceProcess | undefined {
  const { logicalId, metadata, stack, instanceId } = options;
  const runner = metadata[FLEET_DEVICE_RUNNER_METADATA_KEY] as
    Partial<FleetDeviceRunnerMetadata> | undefined;
  if (!runner?.config) {
    stack.log(
      `${logicalId}: instance ${instanceId} without ${FLEET_DEVICE_RUNNER_METADATA_KEY} metadata on its group: not booted`,
    );
    return undefined;
  }
  return startRunner(options, instanceId, runner.config, runner.asset?.s3Key, {
    [FLEET_DEVICE_ID_ENVIRONMENT_VARIABLE]: instanceId,
  });
}

/** Starts the runner bundle of `s3Key` with `config` (run once if asked) under `name`. */
function startRunner(
  options: DeviceBootOptions,
  name: string,
  runnerConfig: object,
  s3Key: string | undefined,
  instanceEnvironment: Readonly<Record<string, string>>,
): DeviceProcess {
  const { logicalId, stack } = options;
  const bundleDir = stack.assetDir(logicalId, s3Key);
  const config = { ...runnerConfig, ...(options.runOnce ? { forever: false } : {}) };
  const device = new DeviceProcess({
    name,
    bundleDir,
    config,
    env: {
      ...stack.cloudEnv,
      ...options.credentials,
      ...options.environment,
      ...instanceEnvironment,
      AWS_REGION: stack.region,
    },
    onLine: (line) => stack.relay(`device ${name}`, line),
  });
  stack.log(`booted ${logicalId} (device runner for ${name} in ${device.directory})`);
  return device;
}
