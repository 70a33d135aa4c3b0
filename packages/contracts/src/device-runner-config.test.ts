import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  DEVICE_RUNNER_METADATA_KEY,
  DEVICE_RUNNER_PROTOCOLS,
  type DeviceRunnerConfig,
  type DeviceRunnerConfigFile,
} from './device-runner-config';
import type { FleetClaimConfig, FleetDeviceRunnerConfig } from './fleet-provisioning';

describe('Contract: the device runner configuration', () => {
  it('keeps the Metadata key that deployed instances carry', () => {
    expect(DEVICE_RUNNER_METADATA_KEY).toBe('Thingcert::DeviceRunner');
  });

  it('lists the protocols the runner accepts', () => {
    expect(DEVICE_RUNNER_PROTOCOLS).toEqual(['mqtt5', 'mqtt3']);
  });

  it('makes a deployed device follow the pointer, not one certificate (checked by tsc)', () => {
    expectTypeOf<DeviceRunnerConfig['credentialPointerObjectKey']>().toEqualTypeOf<string>();
    expectTypeOf<DeviceRunnerConfig['certificateObjectKey']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<DeviceRunnerConfig['privateKeyObjectKey']>().toEqualTypeOf<string | undefined>();
  });

  it('lets a deployed configuration hold only keys the runner reads (checked by tsc)', () => {
    expectTypeOf<keyof DeviceRunnerConfig>().toEqualTypeOf<keyof DeviceRunnerConfigFile>();
    expectTypeOf<DeviceRunnerConfig>().toExtend<DeviceRunnerConfigFile>();
  });

  it('lets a runner configuration file provision by claim, with its device id (checked by tsc)', () => {
    expectTypeOf<DeviceRunnerConfigFile['claim']>().toEqualTypeOf<FleetClaimConfig | undefined>();
    expectTypeOf<DeviceRunnerConfigFile['deviceId']>().toEqualTypeOf<string | undefined>();
    // A fleet's launch template configuration is a runner configuration file.
    expectTypeOf<FleetDeviceRunnerConfig>().toExtend<DeviceRunnerConfigFile>();
  });
});
