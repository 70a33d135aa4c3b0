import { setTimeout as sleep } from 'node:timers/promises';
import { DEVICE_CERTIFICATE_RESOURCE_TYPE } from '@thingcert/contracts';
import type { StackArtifact } from './cloud-assembly';
import type { LocalStack } from './local-stack';
import type { DeployedResource } from './resource-provider';
import { formatRotation, type DeviceEventTracker, type RotationReport } from './rotation-stats';

/** What {@link runRotations} needs. */
export interface RotationRunOptions {
  readonly stack: LocalStack;
  /** Fed with every device line by the caller. */
  readonly tracker: DeviceEventTracker;
  /** How many rotations (1..20). */
  readonly rotations: number;
  /** The app synthesized with `rotationToken` set to `token`. */
  readonly synthesizeWith: (token: string) => StackArtifact;
  readonly print: (line: string) => void;
  /**
   * How long to wait after every device is back online before counting, so
   * the messages acknowledged just before come back.
   * @default 3000
   */
  readonly settleMs?: number;
  /** @default 60_000 */
  readonly timeoutMs?: number;
}

/** The outcome of {@link runRotations}. */
export interface RotationRunResult {
  readonly reports: readonly RotationReport[];
  /** Acknowledged messages that never came back, over the whole run. */
  readonly lost: number;
  /** What went wrong (an update that did not complete, a device not on the certificate CloudFormation holds). */
  readonly problems: readonly string[];
}

/**
 * The certificate CloudFormation holds for each thing: the physical id of
 * its certificate resource, by the resource's `ThingName`.
 */
export function heldCertificates(
  resources: Iterable<DeployedResource>,
): ReadonlyMap<string, string> {
  const held = new Map<string, string>();
  for (const resource of resources) {
    const thing = resource.properties.ThingName;
    if (resource.type === DEVICE_CERTIFICATE_RESOURCE_TYPE && typeof thing === 'string')
      held.set(thing, resource.physicalId);
  }
  return held;
}

async function waitUntil(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > until) return false;
    await sleep(100);
  }
  return true;
}

/**
 * `pnpm start --rotate N`: once every device is online and publishing,
 * performs N rotations, each a real stack Update of the app synthesized with
 * a new `rotationToken`, and prints for each the update time and what each
 * device did (see {@link formatRotation}). Ends with every device checked
 * against the certificate CloudFormation holds.
 */
export async function runRotations(options: RotationRunOptions): Promise<RotationRunResult> {
  const { stack, tracker, print } = options;
  const settleMs = options.settleMs ?? 3000;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const names = [...stack.devices.values()].map((device) => device.name);
  const problems: string[] = [];
  if (names.length === 0) return { reports: [], lost: 0, problems: ['no device in the stack'] };
  const onHeld = (): string[] => {
    const held = heldCertificates(stack.resources.values());
    return names.filter((name) => tracker.onlineWith(name) !== held.get(name));
  };
  // Every rotation's template is synthesized first: synthesis is a blocking
  // child process, and the local cloud shares this process, so a synthesis
  // between rotations would stall the broker and drop the devices (a
  // keep-alive timeout AWS IoT would never cause), counted against the rotation.
  const artifacts = Array.from({ length: options.rotations }, (_, index) =>
    options.synthesizeWith(`rotate-${index + 1}-${Date.now().toString(36)}`),
  );
  // Online, on CloudFormation's certificate, and publishing on (past the first messages).
  const publishing = await waitUntil(
    () => onHeld().length === 0 && names.every((name) => tracker.ackedCount(name) >= 20),
    timeoutMs,
  );
  if (!publishing) return { reports: [], lost: 0, problems: ['devices did not start publishing'] };
  const runStart = Date.now();
  let runEnd = runStart;
  const reports: RotationReport[] = [];
  for (let rotation = 1; rotation <= options.rotations; rotation++) {
    const artifact = artifacts[rotation - 1]!;
    const start = Date.now();
    const status = await stack.update(artifact);
    const updateMs = Date.now() - start;
    if (status !== 'UPDATE_COMPLETE') problems.push(`rotation ${rotation}: ${status}`);
    if (!(await waitUntil(() => onHeld().length === 0, timeoutMs)))
      problems.push(
        `rotation ${rotation}: ${onHeld().join(', ')} not back online on the new certificate`,
      );
    runEnd = Date.now();
    await sleep(settleMs);
    const devices = tracker.window(start, runEnd).filter((stats) => names.includes(stats.device));
    const report = { rotation, of: options.rotations, status, updateMs, devices };
    reports.push(report);
    for (const line of formatRotation(report)) print(line);
    if (status !== 'UPDATE_COMPLETE') break;
  }
  const lost = tracker
    .window(runStart, runEnd)
    .filter((stats) => names.includes(stats.device))
    .reduce((sum, stats) => sum + stats.lost, 0);
  if (lost > 0) problems.push(`${lost} acknowledged message(s) never came back`);
  const offHeld = onHeld();
  if (offHeld.length > 0)
    problems.push(`not on the certificate CloudFormation holds: ${offHeld.join(', ')}`);
  return { reports, lost, problems };
}
