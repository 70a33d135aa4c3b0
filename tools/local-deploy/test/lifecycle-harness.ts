import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import type { IoTClient } from '@aws-sdk/client-iot';
import type { S3Client } from '@aws-sdk/client-s3';
import { DEVICE_CERTIFICATE_RESOURCE_TYPE } from '@thingcert/contracts';
import { startLocalCloud, type LocalCloud } from '@thingcert/local-cloud';
import { readCloudAssembly, type StackArtifact } from '../src/cloud-assembly';
import type { DuplicateDelivery } from '../src/custom-resource-call';
import { DeviceConnectionLog } from '../src/device-connection-log';
import type { DeviceProcess } from '../src/device-process';
import { LocalStack } from '../src/local-stack';
import type { DeployedResource } from '../src/resource-provider';
import { auditStack } from '../src/stack-audit';
import { synthesize } from '../src/synthesize';

const workspaceRoot = join(import.meta.dirname, '..', '..', '..');

/** Synthesizes the infra app with `context` into a fresh directory under `work`. */
export function synthesizeInto(work: string, context: Record<string, unknown>): StackArtifact {
  const outdir = mkdtempSync(join(work, 'cdk.out-'));
  // Devices checking their pointer every second: each rotation's switch
  // window is 4 s instead of the default 33 s.
  synthesize({
    workspaceRoot,
    outdir,
    context: { credentialCheckIntervalMs: 1000, ...context },
    // Six variants of one app: the infra app's own tests validate its templates.
    validate: false,
  });
  const [artifact] = readCloudAssembly(outdir);
  if (!artifact) throw new Error('no stack synthesized');
  return artifact;
}

/**
 * The template with a resource the local IoT refuses (an invalid thing name)
 * that depends on every device certificate: it fails after the certificates
 * were created or updated, as a real late failure would.
 */
export function withLateFailure(artifact: StackArtifact): StackArtifact {
  const template = structuredClone(artifact.template);
  const certificates = Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === DEVICE_CERTIFICATE_RESOURCE_TYPE)
    .map(([logicalId]) => logicalId);
  template.Resources.RefusedThing = {
    Type: 'AWS::IoT::Thing',
    DependsOn: certificates,
    Properties: { ThingName: 'not a valid name' },
  };
  return { ...artifact, template };
}

/** One sequence's world: a local cloud, a stack on it, and what its devices report. */
export class LifecycleRun {
  readonly lines: string[] = [];
  readonly devices = new DeviceConnectionLog();
  readonly stack: LocalStack;
  readonly iot: IoTClient;
  readonly s3: S3Client;
  /** Every device process the stack ever ran, by instance logical id (the first one seen). */
  private readonly firstDevice = new Map<string, DeviceProcess>();
  /** Actions waiting for a line (see {@link whenLogged}). */
  private readonly watchers = new Set<{ pattern: RegExp; action: () => void }>();

  private constructor(
    readonly cloud: LocalCloud,
    options: { duplicateDelivery?: DuplicateDelivery },
  ) {
    // Devices run forever: the audit needs them online after every step.
    this.stack = new LocalStack('Thingcert', {
      cloud,
      devicesRunOnce: false,
      log: (source, line) => {
        this.lines.push(`[${source}] ${line}`);
        this.devices.observeSource(source, line);
        for (const watcher of this.watchers) {
          if (!watcher.pattern.test(`[${source}] ${line}`)) continue;
          this.watchers.delete(watcher);
          watcher.action();
        }
      },
      ...options,
    });
    this.iot = this.stack.iot;
    this.s3 = this.stack.s3;
  }

  static async start(
    options: { duplicateDelivery?: DuplicateDelivery } = {},
  ): Promise<LifecycleRun> {
    return new LifecycleRun(await startLocalCloud(), options);
  }

  /**
   * Runs `action` once, synchronously, when the first line matching `pattern`
   * is logged (`[source] line`, as in {@link lines}): what a test does "at the
   * right moment" of a stack operation, e.g. lifting a fault when the
   * rollback starts.
   */
  whenLogged(pattern: RegExp, action: () => void): void {
    this.watchers.add({ pattern, action });
  }

  /** The physical ids of the certificate custom resources the stack holds, by thing. */
  certificates(): Map<string, string> {
    return new Map(
      [...this.stack.resources.values()]
        .filter((resource) => resource.type === DEVICE_CERTIFICATE_RESOURCE_TYPE)
        .map((resource) => [String(resource.properties.ThingName), resource.physicalId]),
    );
  }

  /**
   * The functions and instances of the stack that run with no role of their
   * own: empty when IAM is enforced (the default), as every sequence runs.
   */
  workloadsWithoutRole(): string[] {
    return [...this.stack.resources.values()]
      .filter((resource) => ['AWS::Lambda::Function', 'AWS::EC2::Instance'].includes(resource.type))
      .filter((resource) => this.stack.roleOf(resource.logicalId) === undefined)
      .map((resource) => resource.logicalId);
  }

  /** The certificate custom resource the stack holds for `thing`. */
  certificateResource(thing: string): DeployedResource {
    const found = [...this.stack.resources.values()].find(
      (resource) =>
        resource.type === DEVICE_CERTIFICATE_RESOURCE_TYPE &&
        resource.properties.ThingName === thing,
    );
    if (!found) throw new Error(`the stack holds no certificate for ${thing}`);
    return found;
  }

  /**
   * The audit every sequence ends with (see `auditStack`), retried until it
   * holds or `timeoutMs` passed: a device follows its pointer by itself, a
   * moment after the stack operation ended. Also: every instance the stack
   * still holds runs the same device process as when it first booted (the
   * deployer restarted none).
   *
   * @returns the findings of the last attempt (empty when the audit holds).
   */
  async audit(timeoutMs = 90_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const findings = [
        ...(await auditStack({
          iot: this.iot,
          s3: this.s3,
          // A bucket the stack retained (a create rolled back) is still audited.
          resources: [...this.stack.resources.values(), ...this.stack.retained],
          online: this.devices.online(),
        })),
        ...this.restartedDevices(),
      ];
      if (findings.length === 0 || Date.now() > deadline) return findings;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  private restartedDevices(): string[] {
    const findings: string[] = [];
    for (const [logicalId, device] of this.stack.devices) {
      const first = this.firstDevice.get(logicalId) ?? device;
      this.firstDevice.set(logicalId, first);
      if (first !== device) findings.push(`${logicalId}: its device process was replaced`);
    }
    for (const line of this.lines)
      if (line.includes('stopping and starting')) findings.push(`restart: ${line}`);
    return findings;
  }

  /** Deletes the stack (the leftovers audit included), stops any device left, stops the cloud. */
  async end(): Promise<void> {
    const devices = [...this.stack.devices.values()];
    try {
      await this.stack.destroy();
    } finally {
      await Promise.all(devices.map((device) => device.stop()));
      await this.cloud.stop();
    }
  }
}
