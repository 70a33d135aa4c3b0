import {
  CREDENTIAL_SWITCH_WINDOW_RESOURCE_TYPE,
  credentialSwitchWindowSeconds,
  DEVICE_CERTIFICATE_RESOURCE_TYPE,
  DEVICE_RUNNER_METADATA_KEY,
} from '@thingcert/contracts';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IoTClient, ListCertificatesCommand, ListThingsCommand } from '@aws-sdk/client-iot';
import { startLocalCloud, type LocalCloud } from '@thingcert/local-cloud';
import { findSecretLeaks, freePort } from '@thingcert/test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StackArtifact } from './cloud-assembly';
import { isResourceStepError, type ResourceStepError } from './errors';
import { LocalStack } from './local-stack';
import type { DeployedResource } from './resource-provider';
import { synthesizeInto } from '../test/lifecycle-harness';

// The real thing: the infra app synthesized here, the bundled provisioner
// Lambda from its CDK asset, the bundled device runner, the local cloud.

// Everything this file writes (cloud assemblies, the run's log) lives under
// one directory, removed at the end; the deployed devices run from the assets
// in the assemblies, so those stay until then.
let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'thingcert-local-stack-'));
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

/** The infra app synthesized with `context` (devices checking their pointer every second). */
function synth(context: Record<string, unknown> = {}): StackArtifact {
  return synthesizeInto(work, context);
}

/** A deep copy of a template whose resources of `type` are passed through `edit`. */
function withResources(
  artifact: StackArtifact,
  type: string,
  edit: (resource: {
    Properties?: Record<string, unknown>;
    Metadata?: Record<string, unknown>;
  }) => void,
): StackArtifact {
  const template = structuredClone(artifact.template);
  for (const resource of Object.values(template.Resources))
    if (resource.Type === type) edit(resource);
  return { ...artifact, template };
}

interface Harness {
  cloud: LocalCloud;
  iot: IoTClient;
  lines: string[];
  stack(options?: { functionEnvironment?: Record<string, string> }): LocalStack;
}

async function harness(): Promise<Harness> {
  const cloud = await startLocalCloud();
  const lines: string[] = [];
  const iot = new IoTClient({
    region: cloud.region,
    endpoint: cloud.iotEndpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return {
    cloud,
    iot,
    lines,
    stack: (options = {}) =>
      new LocalStack('Thingcert', {
        cloud,
        devicesRunOnce: true,
        log: (source, line) => lines.push(`[${source}] ${line}`),
        ...options,
      }),
  };
}

async function certificateIds(iot: IoTClient): Promise<string[]> {
  const listed = await iot.send(new ListCertificatesCommand({}));
  return (listed.certificates ?? []).map((certificate) => certificate.certificateId!);
}

async function thingNames(iot: IoTClient): Promise<string[]> {
  const listed = await iot.send(new ListThingsCommand({}));
  return (listed.things ?? []).map((thing) => thing.thingName!);
}

function resourceOf(stack: LocalStack, type: string): DeployedResource {
  const found = [...stack.resources.values()].find((resource) => resource.type === type);
  if (!found) throw new Error(`no ${type} deployed`);
  return found;
}

function certificateOf(stack: LocalStack): string {
  return resourceOf(stack, DEVICE_CERTIFICATE_RESOURCE_TYPE).physicalId;
}

describe('local deploy of the synthesized stack', () => {
  let seed: StackArtifact;
  let current: Harness | undefined;

  // Synthesizing runs the CDK app in a child process: seconds on an idle
  // machine, more than the 30 s default hook timeout on a loaded one.
  beforeAll(() => {
    seed = synth();
  }, 120_000);

  afterEach(async () => {
    if (current) {
      expect(findSecretLeaks(current.lines.join('\n'))).toEqual([]);
      await current.cloud.stop();
      current = undefined;
    }
  });

  it('rotates on a stack update in CloudFormation order: new certificate, old one deleted in cleanup, no device restarted', async () => {
    current = await harness();
    const stack = current.stack();
    await stack.deploy(seed);
    const [device] = [...stack.devices.values()];
    expect((await device!.exited).received).toBe(5);
    const before = certificateOf(stack);
    const instance = resourceOf(stack, 'AWS::EC2::Instance');

    const status = await stack.update(synth({ rotationToken: 'rotation-2' }));

    expect(status).toBe('UPDATE_COMPLETE');
    const after = certificateOf(stack);
    expect(after).not.toBe(before);
    expect(await certificateIds(current.iot)).toEqual([after]);
    // The old certificate's Delete comes in cleanup, after the old attachments are gone.
    const events = stack.events.map((event) => `${event.physicalId ?? ''} ${event.status}`);
    const oldCertificateDelete = events.indexOf(`${before} DELETE_IN_PROGRESS`);
    expect(events.indexOf(`${stack.stackId} UPDATE_COMPLETE_CLEANUP_IN_PROGRESS`)).toBeLessThan(
      oldCertificateDelete,
    );
    // The credential switch window holds the update phase open after the new
    // attachments, for the device to move before the cleanup detaches the old certificate.
    const windowEvents = stack.events.filter(
      (event) => event.resourceType === CREDENTIAL_SWITCH_WINDOW_RESOURCE_TYPE,
    );
    const windowStart = windowEvents.find((event) => event.status === 'UPDATE_IN_PROGRESS');
    const windowEnd = windowEvents.find((event) => event.status === 'UPDATE_COMPLETE');
    expect(
      windowEnd!.timestamp.getTime() - windowStart!.timestamp.getTime(),
    ).toBeGreaterThanOrEqual(credentialSwitchWindowSeconds(1000) * 1000);
    for (const created of stack.events.filter(
      (event) =>
        event.resourceType.endsWith('PrincipalAttachment') && event.status === 'CREATE_COMPLETE',
    )) {
      expect(stack.events.indexOf(created)).toBeLessThan(stack.events.indexOf(windowStart!));
    }
    expect(stack.events.indexOf(windowEnd!)).toBeLessThan(
      events.indexOf(`${stack.stackId} UPDATE_COMPLETE_CLEANUP_IN_PROGRESS`),
    );
    for (const attachment of stack.events.filter(
      (event) =>
        event.resourceType.endsWith('PrincipalAttachment') && event.status === 'DELETE_COMPLETE',
    )) {
      expect(attachment.physicalId).toContain(before);
      expect(stack.events.indexOf(attachment)).toBeLessThan(oldCertificateDelete);
    }
    // Nothing restarts a device: the instance is stopped and started only when
    // its UserData changed (Some interruptions), and it is never replaced.
    const updatedInstance = resourceOf(stack, 'AWS::EC2::Instance');
    expect(updatedInstance.physicalId).toBe(instance.physicalId);
    const userDataChanged = updatedInstance.properties.UserData !== instance.properties.UserData;
    const restarts = current.lines.filter((line) => line.includes('stopping and starting'));
    expect(restarts).toHaveLength(userDataChanged ? 1 : 0);
    if (!userDataChanged) expect(stack.devices.get(instance.logicalId)).toBe(device);

    await stack.destroy();
    expect(await certificateIds(current.iot)).toEqual([]);
  });

  it('rolls back when the Lambda fails on Create, leaving nothing behind', async () => {
    current = await harness();
    // S3 unreachable for the function: storing the credentials fails after the
    // certificate exists, so the provisioner must compensate and answer FAILED.
    const closedPort = await freePort();
    const stack = current.stack({
      functionEnvironment: { AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${closedPort}` },
    });

    const error = await stack.deploy(seed).then(
      () => undefined,
      (caught: unknown) => caught,
    );

    expect(isResourceStepError(error)).toBe(true);
    expect((error as ResourceStepError).logicalId).toMatch(/Certificate/);
    expect((error as ResourceStepError).step).toBe('Create');
    expect(stack.status).toBe('ROLLBACK_COMPLETE');
    expect(stack.resources.size).toBe(0);
    expect(await certificateIds(current.iot)).toEqual([]);
    expect(await thingNames(current.iot)).toEqual([]);
    await stack.destroy();
  });

  it('fails the device run with a policy message when it uses a topic the policy denies', async () => {
    current = await harness();
    const denied = withResources(seed, 'AWS::EC2::Instance', (instance) => {
      const runner = instance.Metadata?.[DEVICE_RUNNER_METADATA_KEY] as {
        config: Record<string, unknown>;
      };
      runner.config.topic = 'not/allowed';
    });
    const stack = current.stack();
    await stack.deploy(denied);
    const [device] = [...stack.devices.values()];

    const result = await device!.exited;

    expect(result.exitCode).toBe(1);
    expect(result.error).toMatch(/policy|denied|not authori[sz]ed/i);
    expect(existsSync(device!.directory)).toBe(false);
    await stack.destroy();
  });

  describe('with a Lambda that hangs', () => {
    let blackhole: Server;
    const sockets = new Set<Socket>();
    afterEach(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => blackhole.close(() => resolve()));
    });

    it('answers FAILED before the ServiceTimeout and acknowledges the rollback Delete', async () => {
      current = await harness();
      // Accepts connections and never answers: every IoT call hangs.
      blackhole = createServer((socket) => sockets.add(socket));
      const port = await freePort();
      await new Promise<void>((resolve) => blackhole.listen(port, '127.0.0.1', resolve));
      const shortTimeout = withResources(seed, 'AWS::Lambda::Function', (fn) => {
        fn.Properties!.Timeout = 15;
      });
      const stack = current.stack({
        functionEnvironment: { AWS_ENDPOINT_URL_IOT: `http://127.0.0.1:${port}` },
      });

      const error = await stack.deploy(shortTimeout).then(
        () => undefined,
        (caught: unknown) => caught,
      );

      expect(isResourceStepError(error)).toBe(true);
      expect((error as Error).message).not.toMatch(/ServiceTimeout/);
      expect((error as Error).message).toMatch(/deadline|did not finish/i);
      expect(current.lines.join('\n')).toMatch(
        /Delete .*Certificate.* SUCCESS \(physical id thingcert:CREATE_FAILED/,
      );
      expect(await certificateIds(current.iot)).toEqual([]);
      await stack.destroy();
    });
  });
});
