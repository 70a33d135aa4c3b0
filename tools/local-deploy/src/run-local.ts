import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEVICE_CERTIFICATE_RESOURCE_TYPE } from '@thingcert/contracts';
import { startLocalCloud, type LocalCloud } from '@thingcert/local-cloud';
import { readCloudAssembly, type StackArtifact } from './cloud-assembly';
import type { DeviceResult } from './device-process';
import { workloadEnvironment } from './iam/workload-credentials';
import { keepExports, type KeptIdentity } from './keep-exports';
import { LocalStack, STACK_EVENT_SOURCE } from './local-stack';
import { runRotations } from './rotation-run';
import { DeviceEventTracker, ROTATION_LOG_SOURCE } from './rotation-stats';
import { synthesize } from './synthesize';

/** Options of one local run (what `pnpm start` parses its flags into). */
export interface RunLocalOptions {
  readonly workspaceRoot: string;
  /** CDK context for the synth (e.g. `{ thingCount: 3 }`). */
  readonly context?: Record<string, unknown>;
  /** Devices send their messages once; then the stack is deleted. */
  readonly once: boolean;
  /** Leave the stack running after the devices finished, until `untilStopped` resolves. */
  readonly keep: boolean;
  /**
   * Rotate every device certificate this many times (stack Updates with a
   * new `rotationToken`) while the devices publish 10 messages a second.
   */
  readonly rotate?: number;
  /**
   * How many devices the run must see (`--things N`): with `once`, fewer (or
   * more) fails the run, like a device that failed.
   */
  readonly expectedDevices?: number;
  readonly verbose: boolean;
  /**
   * Enforce the stack's IAM (see `LocalStackOptions.enforceIam`); `false`
   * runs every process as the admin over HTTP, for comparison.
   * @default true
   */
  readonly enforceIam?: boolean;
  /** Every raw line (deployer, functions, devices) is appended here too. */
  readonly logFile?: string;
  /** Resolves when the user asks to stop (Ctrl-C). */
  readonly untilStopped: Promise<void>;
  readonly print: (line: string) => void;
}

/** Text of a log field, whatever its JSON type. */
function text(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Per-message device events: ten a second each while rotating, on screen only with --verbose. */
const MESSAGE_EVENTS = new Set(['publishing', 'published', 'received']);

function describeLine(
  source: string,
  line: string,
  verbose: boolean,
  quietMessages: boolean,
): string | undefined {
  let parsed: Record<string, unknown> | undefined;
  try {
    const value: unknown = JSON.parse(line);
    if (typeof value === 'object' && value !== null) parsed = value as Record<string, unknown>;
  } catch {
    parsed = undefined;
  }
  // Every resource's routine event is in the log file; on screen with --verbose.
  if (source === STACK_EVENT_SOURCE) return verbose ? `[${source}] ${line}` : undefined;
  if (!parsed) return `[${source}] ${line}`;
  if (source.startsWith('device')) {
    const { event, ...rest } = parsed;
    if (quietMessages && !verbose && MESSAGE_EVENTS.has(text(event))) return undefined;
    const details = Object.entries(rest)
      .filter(([key]) => key !== 'timestamp' && key !== 'time' && key !== 'level')
      .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
      .join(' ');
    return `[${source}] ${text(event)} ${details}`.trimEnd();
  }
  if (!verbose && parsed.level !== 'ERROR' && parsed.level !== 'WARN') return undefined;
  const step = parsed.step ? ` step=${text(parsed.step)}` : '';
  const reason = parsed.reason ?? parsed.error;
  return `[${source}] ${text(parsed.level)} ${text(parsed.message)}${step}${reason ? ` (${text(reason)})` : ''}`;
}

type Log = (source: string, line: string) => void;

/** The runner environment while rotating: 10 QoS 1 messages a second. */
const ROTATION_DEVICE_ENVIRONMENT = { THINGCERT_INTERVAL: '100' };
/**
 * `--rotate`: the devices check their pointer every second, so each
 * rotation's credential switch window (the stack waits for the devices to
 * move before CloudFormation's cleanup detaches the old certificate) is 4 s
 * rather than the default 33 s. `--context` can still set it.
 */
const ROTATION_CONTEXT = { credentialCheckIntervalMs: '1000' };

/**
 * The main job: synthesize the infra app, start the local cloud, deploy the
 * template onto it, stream the devices, and delete everything at the end,
 * the synthesized cloud assembly included. Returns the process exit code.
 */
export async function runLocal(options: RunLocalOptions): Promise<number> {
  const tracker = new DeviceEventTracker();
  const rotating = options.rotate !== undefined;
  const log: Log = (source, line) => {
    if (options.logFile) appendFileSync(options.logFile, `[${source}] ${line}\n`, { mode: 0o600 });
    if (rotating && source.startsWith('device ')) tracker.record(source.slice(7), line, Date.now());
    const text = describeLine(source, line, options.verbose, rotating);
    if (text) options.print(text);
  };
  // The functions and devices run from the assets in the cloud assembly until
  // the stack is deleted: it goes only after the teardown, or after a failed synth.
  const outdir = mkdtempSync(join(tmpdir(), 'thingcert-cdk-out-'));
  const removeOutdir = (): void => rmSync(outdir, { recursive: true, force: true });
  // Also when the process exits before the teardown is over (a second Ctrl-C).
  process.once('exit', removeOutdir);
  try {
    log('start', `synthesizing apps/infra into ${outdir}`);
    const context =
      options.rotate === undefined ? options.context : { ...ROTATION_CONTEXT, ...options.context };
    synthesize({ workspaceRoot: options.workspaceRoot, context, outdir });
    const [artifact] = readCloudAssembly(outdir);
    if (!artifact) throw new Error(`no stack in ${outdir}`);
    // Each rotation's assembly lives beside the first until the end: a
    // rollback runs from the assets of the template it goes back to.
    let rotation = 0;
    const synthesizeWith = (rotationToken: string): StackArtifact => {
      const rotationOutdir = join(outdir, `rotation-${++rotation}`);
      log(ROTATION_LOG_SOURCE, `synthesizing with rotationToken=${rotationToken}`);
      synthesize({
        workspaceRoot: options.workspaceRoot,
        context: { ...context, rotationToken },
        outdir: rotationOutdir,
      });
      const [next] = readCloudAssembly(rotationOutdir);
      if (!next) throw new Error(`no stack in ${rotationOutdir}`);
      return next;
    };
    return await deployAndRun(artifact, options, log, { tracker, synthesizeWith });
  } finally {
    process.off('exit', removeOutdir);
    removeOutdir();
  }
}

/** Deploys `artifact` onto a fresh local cloud, runs it, deletes it; returns the exit code. */
async function deployAndRun(
  artifact: StackArtifact,
  options: RunLocalOptions,
  log: Log,
  rotation: { tracker: DeviceEventTracker; synthesizeWith: (token: string) => StackArtifact },
): Promise<number> {
  const { print } = options;
  let cloud: LocalCloud | undefined;
  let stack: LocalStack | undefined;
  let exitCode = 0;
  try {
    cloud = await startLocalCloud({
      verbose: options.verbose,
      log: (line) => log('local-cloud', line),
    });
    const enforceIam = options.enforceIam ?? true;
    log(
      'start',
      `local cloud up: IoT ${cloud.iotEndpoint}, S3 ${cloud.s3Endpoint}, MQTT ${cloud.mqtt.host}:${cloud.mqtt.port}`,
    );
    log(
      'start',
      enforceIam
        ? `IAM enforced: the Lambda and each device run with their role's credentials, over HTTPS (IoT ${cloud.iotHttpsEndpoint}, S3 ${cloud.s3HttpsEndpoint})`
        : 'IAM not enforced (--no-iam): the Lambda and the devices run as the admin, over HTTP',
    );
    stack = new LocalStack(artifact.stackName, {
      cloud,
      log,
      devicesRunOnce: options.rotate === undefined && (options.once || options.keep),
      // While rotating, every device publishes 10 messages a second, as a
      // systemd drop-in on the instance would set it (the app has no context
      // key for the interval).
      ...(options.rotate === undefined ? {} : { deviceEnvironment: ROTATION_DEVICE_ENVIRONMENT }),
      enforceIam,
    });
    await stack.deploy(artifact);
    for (const [name, value] of Object.entries(stack.outputs()))
      log('outputs', `${name} = ${String(value)}`);
    if (options.rotate !== undefined) {
      const result = await runRotations({
        stack,
        tracker: rotation.tracker,
        rotations: options.rotate,
        synthesizeWith: rotation.synthesizeWith,
        print: (line) => log(ROTATION_LOG_SOURCE, line),
      });
      for (const problem of result.problems) log(ROTATION_LOG_SOURCE, `problem: ${problem}`);
      log(
        ROTATION_LOG_SOURCE,
        `${result.reports.length} rotation(s), ${result.lost} message(s) lost${result.problems.length === 0 ? '; every device on the certificate CloudFormation holds' : ''}`,
      );
      if (result.problems.length > 0) exitCode = 1;
      if (!options.once) await options.untilStopped;
    } else if (options.once || options.keep) {
      const results = await Promise.all(
        [...stack.devices.values()].map((device) =>
          device.exited.then((result) => [device.name, result] as const),
        ),
      );
      for (const [name, result] of results) {
        const ok = deviceSucceeded(result);
        if (!ok) exitCode = 1;
        const registered = result.registeredAs ? `registered as ${result.registeredAs}, ` : '';
        log(
          'start',
          `${name}: ${ok ? `${registered}${result.received}/${result.expected} messages came back` : `failed (${result.error ?? `exit ${result.exitCode}`})`}`,
        );
      }
      if (results.length === 0) {
        log('start', 'no device instance in the stack');
      }
      if (options.expectedDevices !== undefined && results.length !== options.expectedDevices) {
        exitCode = 1;
        log(
          'start',
          `expected ${options.expectedDevices} device(s), the stack ran ${results.length}`,
        );
      }
    }
    if (options.rotate === undefined && (options.keep || !options.once)) {
      if (options.keep) {
        log('start', 'the stack stays up; point the AWS CLI/SDK and device-runner at it with:');
        const env = {
          ...workloadEnvironment(cloud, enforceIam),
          AWS_ACCESS_KEY_ID: cloud.env.AWS_ACCESS_KEY_ID ?? '',
          AWS_SECRET_ACCESS_KEY: cloud.env.AWS_SECRET_ACCESS_KEY ?? '',
        };
        const [firstThing] = [...stack.devices.values()].map((device) => device.name);
        const example = `aws s3api list-objects-v2 --bucket ${String(stack.outputs().BucketName)} --prefix ${firstThing ?? ''}/`;
        for (const line of keepExports(env, await keptIdentities(cloud, stack), example)) {
          print(line);
        }
        print(
          'pnpm device-runner run --bucket <bucket> --thing <thing>   # Ctrl-C here deletes the stack',
        );
      }
      await options.untilStopped;
    }
  } catch (error) {
    exitCode = 1;
    log('start', `failed: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    if (stack) {
      try {
        await stack.destroy();
      } catch (error) {
        exitCode = 1;
        log('start', `teardown: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    await cloud?.stop();
  }
  log('start', exitCode === 0 ? 'done' : 'finished with errors');
  return exitCode;
}

/**
 * Whose credentials `--keep` prints: the admin (what `AWS_ACCESS_KEY_ID` is
 * set to), and with IAM enforced a new session of the role of the
 * provisioner (the function behind the certificate resources) and of each
 * device, numbered in the order of their thing names.
 */
async function keptIdentities(cloud: LocalCloud, stack: LocalStack): Promise<KeptIdentity[]> {
  const identities: KeptIdentity[] = [
    {
      prefix: 'THINGCERT_ADMIN',
      description: 'the admin identity: allowed everything, not subject to bucket policies',
      credentials: {
        accessKeyId: cloud.env.AWS_ACCESS_KEY_ID ?? '',
        secretAccessKey: cloud.env.AWS_SECRET_ACCESS_KEY ?? '',
      },
    },
  ];
  const resources = [...stack.resources.values()];
  const tokens = new Set(
    resources
      .filter((resource) => resource.type === DEVICE_CERTIFICATE_RESOURCE_TYPE)
      .map((resource) => resource.properties.ServiceToken),
  );
  const provisioner = resources.find(
    (resource) => resource.type === 'AWS::Lambda::Function' && tokens.has(resource.attributes.Arn),
  );
  const devices = [...stack.devices]
    .map(([logicalId, device]) => ({ logicalId, thing: device.name }))
    .sort((a, b) => a.thing.localeCompare(b.thing, 'en', { numeric: true }));
  const workloads = [
    ...(provisioner
      ? [
          {
            logicalId: provisioner.logicalId,
            prefix: 'THINGCERT_PROVISIONER',
            who: 'the provisioner Lambda',
          },
        ]
      : []),
    ...devices.map(({ logicalId, thing }, index) => ({
      logicalId,
      prefix: `THINGCERT_DEVICE_${index + 1}`,
      who: `device ${thing}`,
    })),
  ];
  for (const { logicalId, prefix, who } of workloads) {
    const roleName = stack.roleOf(logicalId);
    if (roleName === undefined) continue;
    const credentials = await cloud.iam.assumeRole({ roleName, sessionName: 'pnpm-start-keep' });
    identities.push({ prefix, description: `${who} (role ${roleName})`, credentials });
  }
  return identities;
}

function deviceSucceeded(result: DeviceResult): boolean {
  return (
    result.exitCode === 0 && result.expected !== undefined && result.received === result.expected
  );
}
