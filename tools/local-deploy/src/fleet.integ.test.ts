import {
  DEFAULT_CREDENTIAL_FILE_NAMES,
  FLEET_CLEANUP_RESOURCE_TYPE,
  FLEET_DEVICE_ID_ENVIRONMENT_VARIABLE,
  FLEET_DEVICE_RUNNER_METADATA_KEY,
  type FleetDeviceRunnerMetadata,
} from '@thingcert/contracts';
import {
  ListCertificatesCommand,
  ListThingsCommand,
  ListThingsInThingGroupCommand,
} from '@aws-sdk/client-iot';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import {
  OWNERSHIP_TOKEN_LIFETIME_MS,
  startLocalCloud,
  type LocalCloud,
} from '@thingcert/local-cloud';
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketTexts, directoryTexts, keyMaterialIn, type StoredText } from '../test/stored-texts';
import { readCloudAssembly, type StackArtifact } from './cloud-assembly';
import { DeviceProcess, type DeviceResult } from './device-process';
import { workloadEnvironment } from './iam/workload-credentials';
import { LocalStack } from './local-stack';
import { synthesize } from './synthesize';

// The whole fleet flow: apps/infra synthesized with -c provisioning=claim
// (ProvisionedFleet), the bundled fleet functions (hook, deregistration,
// cleanup) and the bundled runner in claim mode, on the local cloud.
const workspaceRoot = join(import.meta.dirname, '..', '..', '..');
const THINGS = 3;

let work: string;
let cloud: LocalCloud;
/** Where the local cloud keeps its state (registry, objects, CA): read whole by the key scan. */
let stateDir: string;
/** How far the local IoT's clock is ahead of ours (the ownership tokens' hour passes). */
let clockAheadMs = 0;
/** Every log line of the run: the local cloud's, the deployer's, the functions' and devices'. */
const lines: string[] = [];
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'thingcert-fleet-'));
  stateDir = join(work, 'local-cloud-state');
  cloud = await startLocalCloud({
    stateDir,
    clock: () => Date.now() + clockAheadMs,
    log: (line) => lines.push(`[local-cloud] ${line}`),
  });
});
afterAll(async () => {
  await cloud?.stop();
  rmSync(work, { recursive: true, force: true });
});

function synth(context: Record<string, unknown>): StackArtifact {
  const outdir = mkdtempSync(join(work, 'cdk.out-'));
  // The infra app's own tests validate its templates.
  synthesize({ workspaceRoot, outdir, context, validate: false });
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

/** The runner configuration of a fleet instance, as written on its disk. */
type FleetRunnerConfig = FleetDeviceRunnerMetadata['config'] & { readonly bucket: string };

/**
 * What each fleet device keeps on its instance's disk, read while it runs
 * (the deployer removes the disk when the runner exits): its own private key
 * (`<credentials-dir>/device/`, written before its CSR is sent, so there by
 * the time it reports `certificate-created`), the certificate it got, and
 * the runner configuration its instance was booted with.
 */
class DeviceDisks {
  private readonly directories = new Map<string, string>();
  /** Each device's private key PEM, by device name (its instance id). */
  readonly keys = new Map<string, string>();
  /** Each device's certificate id (`certificate-created`), by device name. */
  readonly certificates = new Map<string, string>();
  config: FleetRunnerConfig | undefined;

  /** Reads one log line of the stack (the deployer's `booted`, a device's `certificate-created`). */
  observe(source: string, line: string): void {
    const booted = /^booted \S+ \(device runner for (\S+) in (\S+)\)$/.exec(line);
    if (source === 'deploy' && booted) this.add(booted[1]!, booted[2]!);
    if (!source.startsWith('device ')) return;
    let event: { event?: string; certificateId?: string };
    try {
      event = JSON.parse(line) as typeof event;
    } catch {
      return;
    }
    if (event.event !== 'certificate-created') return;
    const name = source.slice('device '.length);
    const directory = this.directories.get(name);
    if (directory === undefined) throw new Error(`no directory logged for device ${name}`);
    const keyPath = join(
      directory,
      'credentials',
      'device',
      DEFAULT_CREDENTIAL_FILE_NAMES.privateKey,
    );
    this.keys.set(name, readFileSync(keyPath, 'utf8'));
    this.certificates.set(name, String(event.certificateId));
    this.config ??= JSON.parse(
      readFileSync(join(directory, 'device-runner.json'), 'utf8'),
    ) as FleetRunnerConfig;
  }

  /** A device's disk. */
  add(name: string, directory: string): void {
    this.directories.set(name, directory);
  }
}

/** A file of the local cloud's CA in its state: the cloud's own keys, as AWS holds its own. */
function isCloudCaFile({ where }: StoredText): boolean {
  return where.startsWith(`ca${sep}`);
}

/** The id the device the hook refuses runs with (an instance id). */
const REJECTED_DEVICE = 'i-0000000000000000a';

/**
 * Runs a device whose thing name the fleet's hook refuses: the fleet's own
 * runner bundle, configuration and instance role, but a thing-name prefix of
 * `<fleet prefix>rogue:`, which the claim policy lets connect (client ids
 * `<fleet prefix>*`) and the hook refuses (the fleet prefix is not followed
 * by 1-64 of [A-Za-z0-9_-]).
 *
 * @returns the thing name it asked for, and how its run ended.
 */
async function runRejectedDevice(
  stack: LocalStack,
  artifact: StackArtifact,
  groupId: string,
  disks: DeviceDisks,
  log: (source: string, line: string) => void,
): Promise<{ thingName: string; result: DeviceResult }> {
  const metadata = artifact.template.Resources[groupId]?.Metadata?.[
    FLEET_DEVICE_RUNNER_METADATA_KEY
  ] as FleetDeviceRunnerMetadata;
  const config = disks.config!;
  const thingNamePrefix = `${config.claim.thingNamePrefix}rogue:`;
  const session = await cloud.iam.assumeRole({
    roleName: stack.roleOf(groupId)!,
    sessionName: REJECTED_DEVICE,
  });
  const device = new DeviceProcess({
    name: REJECTED_DEVICE,
    bundleDir: artifact.assetsByObjectKey.get(metadata.asset.s3Key)!,
    config: { ...config, claim: { ...config.claim, thingNamePrefix } },
    env: {
      ...workloadEnvironment(cloud, true),
      ...session.containerEnv,
      [FLEET_DEVICE_ID_ENVIRONMENT_VARIABLE]: REJECTED_DEVICE,
      AWS_REGION: cloud.region,
    },
    onLine: (line) => log(`device ${REJECTED_DEVICE}`, line),
  });
  disks.add(device.name, device.directory);
  return { thingName: `${thingNamePrefix}${REJECTED_DEVICE}`, result: await device.exited };
}

/** The claim certificate's private key, through its credential pointer in the bucket. */
async function claimPrivateKey(stack: LocalStack, config: FleetRunnerConfig): Promise<string> {
  const read = async (Key: string) => {
    const object = await stack.s3.send(new GetObjectCommand({ Bucket: config.bucket, Key }));
    return object.Body!.transformToString();
  };
  const pointer = JSON.parse(await read(config.claim.claimCredentialPointerObjectKey)) as {
    objects: { privateKey: string };
  };
  return read(pointer.objects.privateKey);
}

describe('a fleet provisioning by claim, through the local deployer', () => {
  it('registers N devices that publish, refuses a name its hook rejects, keeps each private key on its device, deregisters on scale-in, leaves nothing after delete', async () => {
    const artifact = synth({ provisioning: 'claim', things: String(THINGS) });
    const resources = Object.values(artifact.template.Resources);
    expect(resources.filter((r) => r.Type === 'AWS::AutoScaling::AutoScalingGroup')).toHaveLength(
      1,
    );
    expect(resources.filter((r) => r.Type === FLEET_CLEANUP_RESOURCE_TYPE)).toHaveLength(1);
    const group = resources.find((r) => r.Type === 'AWS::AutoScaling::AutoScalingGroup')!;
    expect(group.Metadata?.[FLEET_DEVICE_RUNNER_METADATA_KEY]).toBeDefined();

    const disks = new DeviceDisks();
    const log = (source: string, line: string): void => {
      lines.push(`[${source}] ${line}`);
      disks.observe(source, line);
    };
    const stack = new LocalStack('ThingcertFleet', { cloud, devicesRunOnce: true, log });
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

      // A device asking for a name the hook refuses gets AccessDenied and
      // stops (the runner's exit 77); the hook's log says why.
      const rejected = await runRejectedDevice(stack, artifact, groupId, disks, log);
      expect(rejected.result.exitCode, lines.join('\n')).toBe(77); // EXIT_REGISTRATION_REJECTED
      const deviceLines = lines.filter((line) => line.startsWith(`[device ${REJECTED_DEVICE}] `));
      expect(deviceLines.join('\n')).toMatch(
        /"event":"registration-rejected","operation":"RegisterThing","statusCode":403,"errorCode":"AccessDenied"/,
      );
      expect(lines.join('\n')).toContain(
        `Provisioning refused: thing name \\"${rejected.thingName}\\" is not \\"${disks.config!.claim.thingNamePrefix}\\" followed by a device id of 1-64 [A-Za-z0-9_-]`,
      );
      const groupName = String(
        [...stack.resources.values()].find((r) => r.type === 'AWS::IoT::ThingGroup')?.physicalId,
      );
      const listed = await stack.iot.send(
        new ListThingsInThingGroupCommand({ thingGroupName: groupName }),
      );
      expect(listed.things?.sort()).toEqual(results.map((r) => r.registeredAs).sort());
      const things = await stack.iot.send(new ListThingsCommand({}));
      expect(things.things?.map((thing) => thing.thingName)).not.toContain(rejected.thingName);

      // No device's private key is anywhere but on its device: not in any
      // object of any bucket (the one private key there is the claim key),
      // nor in the local cloud's state (its registry, objects and CA, which
      // holds the cloud's own keys), nor in any log line (checked at the end).
      expect([...disks.keys.keys()].sort()).toEqual(
        [...devices.map((device) => device.name), REJECTED_DEVICE].sort(),
      );
      // The scan finds a device's key however it is written (here SEC1, not
      // the PKCS#8 on its disk), and only that device's.
      const [firstDevice, firstKey] = [...disks.keys][0]!;
      const sec1 = createPrivateKey(firstKey).export({ type: 'sec1', format: 'pem' }).toString();
      expect(keyMaterialIn([{ where: 'a copy', text: sec1 }], disks.keys, () => true)).toEqual([
        `a copy: the private key of ${firstDevice}`,
      ]);
      const claimKey = await claimPrivateKey(stack, disks.config!);
      const isClaimKey = ({ text }: StoredText) => text === claimKey;
      const objects = await bucketTexts(stack.s3);
      expect(objects.filter(isClaimKey)).toHaveLength(1);
      expect(keyMaterialIn(objects, disks.keys, isClaimKey)).toEqual([]);
      const state = directoryTexts(stateDir);
      expect(state.filter(isCloudCaFile).length).toBeGreaterThan(0);
      expect(
        keyMaterialIn(state, disks.keys, (text) => isClaimKey(text) || isCloudCaFile(text)),
      ).toEqual([]);

      // The refused device's certificate stays PENDING_ACTIVATION until its
      // ownership token's hour is over; then AWS IoT deletes it.
      clockAheadMs = OWNERSHIP_TOKEN_LIFETIME_MS;
      expect(await cloud.fleetProvisioning.expireOwnershipTokens()).toEqual([
        disks.certificates.get(REJECTED_DEVICE),
      ]);

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
    expect(keyMaterialIn([{ where: 'the log', text: lines.join('\n') }], disks.keys)).toEqual([]);
    expect(keyMaterialIn(directoryTexts(stateDir), disks.keys, isCloudCaFile)).toEqual([]);
  });
});
