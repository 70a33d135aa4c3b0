import { DEVICE_RUNNER_METADATA_KEY } from '@thingcert/contracts';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeviceProcess } from '../device-process';
import { testStackEnvironment } from '../../test/stack-environment';
import type { DeployedResource } from '../resource-provider';
import { Ec2InstanceProvider } from './ec2-instance';

// The stand-in runner bundle (no network): with `behaviour: 'wait'` it runs
// until SIGTERM, as a `forever` device does.
const bundleDir = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'stand-in-runner');
const TYPE = 'AWS::EC2::Instance';

function instances(): {
  provider: Ec2InstanceProvider;
  setMetadata: (version: string) => void;
  lines: string[];
} {
  let version = 'v1';
  const lines: string[] = [];
  const stack = testStackEnvironment(lines, {
    assetDir: () => bundleDir,
    metadataOf: () => ({
      [DEVICE_RUNNER_METADATA_KEY]: {
        config: { behaviour: 'wait', version },
        asset: { s3Key: 'runner.zip' },
      },
    }),
  });
  return {
    provider: new Ec2InstanceProvider(stack, false),
    setMetadata: (next) => (version = next),
    lines,
  };
}

/** The configuration file the device was started with. */
function configOf(device: DeviceProcess): Record<string, unknown> {
  return JSON.parse(readFileSync(join(device.directory, 'device-runner.json'), 'utf8')) as Record<
    string,
    unknown
  >;
}

describe('Class: Ec2InstanceProvider', () => {
  let running: Ec2InstanceProvider | undefined;
  let deployed: DeployedResource | undefined;
  afterEach(async () => {
    if (running && deployed) await running.delete(deployed);
    running = undefined;
  });

  async function launch(properties: Record<string, unknown>) {
    const fixture = instances();
    running = fixture.provider;
    const made = await fixture.provider.create({ logicalId: 'Instance', type: TYPE, properties });
    deployed = {
      logicalId: 'Instance',
      type: TYPE,
      physicalId: made.physicalId,
      attributes: made.attributes,
      properties,
      skipped: false,
    };
    return { ...fixture, instance: deployed, device: fixture.provider.deviceOf(made.physicalId)! };
  }

  describe('Method: update', () => {
    it('leaves the device running through a No interruption change and a metadata change', async () => {
      const { provider, instance, device, setMetadata } = await launch({ Tags: [], UserData: 'a' });
      setMetadata('v2');

      const updated = await provider.update(
        {
          logicalId: 'Instance',
          type: TYPE,
          properties: { Tags: [{ Key: 'k', Value: 'v' }], UserData: 'a' },
        },
        instance,
      );

      expect(updated.physicalId).toBe(instance.physicalId);
      expect(provider.deviceOf(instance.physicalId)).toBe(device);
      expect(configOf(device).version).toBe('v1');
    });

    it('stops and starts the device on a UserData change, with the configuration it first booted with', async () => {
      const { provider, instance, device, setMetadata, lines } = await launch({ UserData: 'a' });
      setMetadata('v2');

      const updated = await provider.update(
        { logicalId: 'Instance', type: TYPE, properties: { UserData: 'b' } },
        instance,
      );

      const restarted = provider.deviceOf(instance.physicalId)!;
      expect(updated.physicalId).toBe(instance.physicalId);
      // The old process was stopped: its directory is gone once it has exited.
      await device.exited;
      expect(existsSync(device.directory)).toBe(false);
      expect(restarted).not.toBe(device);
      expect(configOf(restarted).version).toBe('v1');
      expect(lines).toContain(`Instance: stopping and starting ${instance.physicalId}`);
    });
  });

  describe('Method: create', () => {
    it('boots a replacement beside the old instance, with the metadata as it is now', async () => {
      const { provider, instance, device, setMetadata } = await launch({ ImageId: 'ami-1' });
      setMetadata('v2');

      const replacement = await provider.create({
        logicalId: 'Instance',
        type: TYPE,
        properties: { ImageId: 'ami-2' },
      });

      const booted = provider.deviceOf(replacement.physicalId)!;
      expect(replacement.physicalId).not.toBe(instance.physicalId);
      expect(configOf(booted).version).toBe('v2');
      expect(provider.deviceOf(instance.physicalId)).toBe(device);
      await provider.delete({ ...instance, physicalId: replacement.physicalId });
      expect(provider.deviceOf(replacement.physicalId)).toBeUndefined();
    });
  });
});
