import {
  DEVICE_RUNNER_METADATA_KEY,
  type DeviceRunnerConfig,
  type DeviceRunnerMetadata,
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
  const bundleDir = stack.assetDir(logicalId, runner.asset?.s3Key);
  const config: DeviceRunnerConfig = {
    ...runner.config,
    ...(options.runOnce ? { forever: false } : {}),
  };
  const name = typeof config.thing === 'string' ? config.thing : logicalId;
  const device = new DeviceProcess({
    name,
    bundleDir,
    config,
    env: {
      ...stack.cloudEnv,
      ...options.credentials,
      ...options.environment,
      AWS_REGION: stack.region,
    },
    onLine: (line) => stack.relay(`device ${name}`, line),
  });
  stack.log(`booted ${logicalId} (device runner for ${name} in ${device.directory})`);
  return device;
}
