import {
  FLEET_CLEANUP_RESOURCE_TYPE,
  FLEET_DEVICE_RUNNER_METADATA_KEY,
} from '@thingcert/contracts';
import { ListCertificatesCommand, ListThingsInThingGroupCommand } from '@aws-sdk/client-iot';
import { startLocalCloud, type LocalCloud } from '@thingcert/local-cloud';
import { findSecretLeaks } from '@thingcert/test-support';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCloudAssembly, type StackArtifact } from './cloud-assembly';
import type { DeviceResult } from './device-process';
import { LocalStack } from './local-stack';
import { synthesize } from './synthesize';

// The whole fleet flow: apps/infra synthesized with -c provisioning=claim
// (ProvisionedFleet), the bundled fleet functions (hook, deregistration,
// cleanup) and the bundled runner in claim mode, on the local cloud.
const workspaceRoot = join(import.meta.dirname, '..', '..', '..');
const THINGS = 3;

let work: string;
let cloud: LocalCloud;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'thingcert-fleet-'));
  cloud = await startLocalCloud();
});
afterAll(async () => {
  await cloud?.stop();
  rmSync(work, { recursive: true, force: true });
});

function synth(context: Record<string, unknown>): StackArtifact {
  const outdir = mkdtempSync(join(work, 'cdk.out-'));
  synthesize({ workspaceRoot, outdir, context });
  const [artifact] = readCloudAssembly(outdir);
  if (!artifact) throw new Error('no stack synthesized');
  return artifact;
}

/** The template with the fleet's group resized to `size` (min = max = desired, as the construct sets them). */
function resized(artifact: StackArtifact, size: number): StackArtifact {
  const template = structuredClone(artifact.template);
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== 'AWS::AutoScaling::AutoScalingGroup') continue;
    Object.assign(resource.Properties ?? {}, {
      MinSize: String(size),
      MaxSize: String(size),
      DesiredCapacity: String(size),
    });
  }
  return { ...artifact, template };
}

describe('a fleet provisioning by claim, through the local deployer', () => {
  it('registers N devices that publish, deregisters on scale-in, and leaves nothing after delete', async () => {
    const artifact = synth({ provisioning: 'claim', things: String(THINGS) });
    const resources = Object.values(artifact.template.Resources);
    expect(resources.filter((r) => r.Type === 'AWS::AutoScaling::AutoScalingGroup')).toHaveLength(
      1,
    );
    expect(resources.filter((r) => r.Type === FLEET_CLEANUP_RESOURCE_TYPE)).toHaveLength(1);
    const group = resources.find((r) => r.Type === 'AWS::AutoScaling::AutoScalingGroup')!;
    expect(group.Metadata?.[FLEET_DEVICE_RUNNER_METADATA_KEY]).toBeDefined();

    const lines: string[] = [];
    const stack = new LocalStack('ThingcertFleet', {
      cloud,
      devicesRunOnce: true,
      log: (source, line) => lines.push(`[${source}] ${line}`),
    });
    try {
      await stack.deploy(artifact);
      // IAM is enforced: the devices run as the launch template's instance profile role.
      const [groupId] = Object.entries(artifact.template.Resources).find(
        ([, resource]) => resource.Type === 'AWS::AutoScaling::AutoScalingGroup',
      )!;
      expect(stack.roleOf(groupId)).toMatch(/Role/);
      const devices = [...stack.devices.values()];
      expect(devices).toHaveLength(THINGS);
      const results: DeviceResult[] = await Promise.all(devices.map((device) => device.exited));
      for (const [index, result] of results.entries()) {
        expect(result, lines.join('\n')).toMatchObject({ exitCode: 0, received: 5, expected: 5 });
        // The thing is named from the device's own instance id.
        expect(result.registeredAs).toMatch(new RegExp(`${devices[index]!.name}$`));
      }
      const groupName = String(
        [...stack.resources.values()].find((r) => r.type === 'AWS::IoT::ThingGroup')?.physicalId,
      );
      const listed = await stack.iot.send(
        new ListThingsInThingGroupCommand({ thingGroupName: groupName }),
      );
      expect(listed.things?.sort()).toEqual(results.map((r) => r.registeredAs).sort());

      // Scale in to 1: two lifecycle actions, each completed by the deregistration function.
      const fleetName = String(
        [...stack.resources.values()].find((r) => r.type === 'AWS::AutoScaling::AutoScalingGroup')
          ?.physicalId,
      );
      const before = stack.instancesOf(fleetName);
      expect(await stack.update(resized(artifact, 1))).toBe('UPDATE_COMPLETE');
      const kept = stack.instancesOf(fleetName);
      expect(kept).toHaveLength(1);
      const left = await stack.iot.send(
        new ListThingsInThingGroupCommand({ thingGroupName: groupName }),
      );
      expect(left.things).toHaveLength(1);
      expect(left.things![0]).toMatch(new RegExp(`${kept[0]}$`));
      expect(before).toContain(kept[0]);
      // The claim certificate and the one device's own certificate remain.
      const certificates = await stack.iot.send(new ListCertificatesCommand({}));
      expect(certificates.certificates).toHaveLength(2);
    } finally {
      // Throws LeftoverResourcesError if any thing, certificate, template,
      // thing group or policy of the stack is left.
      await stack.destroy();
    }
    expect(findSecretLeaks(lines.join('\n'))).toEqual([]);
  });
});
