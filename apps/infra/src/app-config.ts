import {
  DEFAULT_DEVICE_RUNNER_PROTOCOL,
  MAX_CREDENTIAL_CHECK_INTERVAL_MS,
  type KeyMode,
} from '@thingcert/constructs';
import { InvalidAppConfigError } from './errors';

/**
 * How devices get their certificates: `seed`, one certificate per thing made
 * by the provisioner custom resource (the seed's flow, a handful of devices);
 * `claim`, AWS IoT fleet provisioning by claim (`ProvisionedFleet`: each
 * device makes its own key and registers itself; any fleet size).
 */
export type ProvisioningMode = 'seed' | 'claim';

/** Largest `things` for the seed flow (each device is a dozen resources; see `DeviceFleet`). */
const MAX_SEED_THINGS = 10;
/** Largest `things` / `maxDevices` for the claim flow (`MAX_FLEET_DEVICES` of the constructs). */
const MAX_CLAIM_THINGS = 100_000;

/** Settings of the thingcert infra app, read from CDK context. */
export interface AppConfig {
  /** How devices get their certificates. */
  readonly provisioning: ProvisioningMode;
  /** CloudFormation stack name. */
  readonly stackName: string;
  /** Region to deploy to; `undefined` leaves it to the CLI's profile/environment. */
  readonly region: string | undefined;
  /** One device per thing name (seed flow). */
  readonly thingNames: readonly string[];
  /** Devices the claim flow runs (the Auto Scaling group's size). */
  readonly things: number;
  /** Most devices the claim flow's hook admits. */
  readonly maxDevices: number;
  /** Topic the devices publish to and subscribe to. */
  readonly topic: string;
  /** Messages each device sends. */
  readonly messageCount: number;
  /** EC2 instance type of the devices. */
  readonly instanceType: string;
  /** Who makes the key pairs. */
  readonly keyMode: KeyMode;
  /**
   * MQTT version the device runners speak. MQTT 3.1.1 by default, as the
   * seed's SDK sample does, and as the local cloud's policy-enforcing broker
   * speaks, so `pnpm start` runs exactly what deploys.
   */
  readonly protocol: 'mqtt3' | 'mqtt5';
  /**
   * Prefix of every thing's folder in the credentials bucket: `''` (the
   * bucket's root) or path segments ending with `/`. Changing it moves the
   * credentials (a new certificate under the new prefix, the old prefix's
   * objects deleted).
   */
  readonly keyPrefix: string;
  /** Change it to rotate every device certificate; `undefined` = never rotated. */
  readonly rotationToken: string | undefined;
  /**
   * Milliseconds between the devices' checks of their credential pointer;
   * also sizes each rotation's credential switch window. `undefined` = the
   * runner's default (30 s).
   */
  readonly credentialCheckIntervalMs: number | undefined;
}

/** The seed's topology: one thing, `test/topic`, five messages. */
export const DEFAULT_APP_CONFIG: AppConfig = {
  provisioning: 'seed',
  stackName: 'Thingcert',
  region: undefined,
  thingNames: ['thingcert-device-1'],
  things: 1,
  maxDevices: 1,
  topic: 'test/topic',
  messageCount: 5,
  instanceType: 't4g.micro',
  keyMode: 'server',
  protocol: DEFAULT_DEVICE_RUNNER_PROTOCOL,
  keyPrefix: '',
  rotationToken: undefined,
  credentialCheckIntervalMs: undefined,
};

/** Context keys the app reads. */
export const CONTEXT_KEYS = [
  'provisioning',
  'stackName',
  'region',
  'thingNames',
  'things',
  'maxDevices',
  'topic',
  'messageCount',
  'instanceType',
  'keyMode',
  'protocol',
  'keyPrefix',
  'rotationToken',
  'credentialCheckIntervalMs',
] as const;

const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;
/** Empty, or segments of `A-Za-z0-9_.-` each ending with `/`, none `.` or `..` (as `DeviceCertificate` checks). */
const KEY_PREFIX = /^(?:(?!\.{1,2}\/)[A-Za-z0-9_.-]+\/)*$/;

/**
 * Reads the app settings from CDK context (`-c key=value` arrives as a string,
 * `cdk.json` may hold JSON values), falling back to {@link DEFAULT_APP_CONFIG}.
 * Thing names and topics are checked again, in depth, by the constructs.
 *
 * @param context returns the context value of a key, `undefined` when unset
 * @param environmentRegion region the CDK CLI resolved (`CDK_DEFAULT_REGION`)
 * @throws InvalidAppConfigError naming the key
 * @example
 * const config = readAppConfig((key) => app.node.tryGetContext(key), process.env.CDK_DEFAULT_REGION);
 */
export function readAppConfig(
  context: (key: string) => unknown,
  environmentRegion?: string,
): AppConfig {
  const text = (key: string, fallback: string): string => {
    const value = context(key);
    if (value === undefined || value === null || value === '') return fallback;
    if (typeof value !== 'string') {
      throw new InvalidAppConfigError(
        `Context ${key} must be a string (got ${JSON.stringify(value)})`,
      );
    }
    return value.trim();
  };

  const stackName = text('stackName', DEFAULT_APP_CONFIG.stackName);
  if (!STACK_NAME.test(stackName)) {
    throw new InvalidAppConfigError(
      `Context stackName ${JSON.stringify(stackName)} must start with a letter and hold up to 128 letters, digits and '-'`,
    );
  }

  const region = text('region', environmentRegion ?? '') || undefined;
  if (region !== undefined && !REGION.test(region)) {
    throw new InvalidAppConfigError(
      `Context region ${JSON.stringify(region)} is not an AWS region name`,
    );
  }

  const rawThingNames = context('thingNames');
  let thingNames: string[];
  if (rawThingNames === undefined || rawThingNames === null || rawThingNames === '') {
    thingNames = [...DEFAULT_APP_CONFIG.thingNames];
  } else if (typeof rawThingNames === 'string') {
    thingNames = rawThingNames.split(',').map((name) => name.trim());
  } else if (Array.isArray(rawThingNames) && rawThingNames.every((n) => typeof n === 'string')) {
    thingNames = rawThingNames.map((name) => name.trim());
  } else {
    throw new InvalidAppConfigError(
      'Context thingNames must be a comma-separated string or an array of strings',
    );
  }
  if (thingNames.some((name) => name === '')) {
    throw new InvalidAppConfigError('Context thingNames contains an empty name');
  }

  const topic = text('topic', DEFAULT_APP_CONFIG.topic);

  const rawCount = context('messageCount');
  const messageCount =
    rawCount === undefined || rawCount === null || rawCount === ''
      ? DEFAULT_APP_CONFIG.messageCount
      : Number(rawCount);
  if (!Number.isInteger(messageCount) || messageCount < 1) {
    throw new InvalidAppConfigError(
      `Context messageCount must be a positive integer (got ${JSON.stringify(rawCount)})`,
    );
  }

  const instanceType = text('instanceType', DEFAULT_APP_CONFIG.instanceType);
  if (!INSTANCE_TYPE.test(instanceType)) {
    throw new InvalidAppConfigError(
      `Context instanceType ${JSON.stringify(instanceType)} is not an EC2 instance type such as t4g.micro`,
    );
  }

  const keyMode = text('keyMode', DEFAULT_APP_CONFIG.keyMode);
  if (keyMode !== 'server' && keyMode !== 'csr') {
    throw new InvalidAppConfigError(
      `Context keyMode must be 'server' or 'csr' (got ${JSON.stringify(keyMode)})`,
    );
  }

  const protocol = text('protocol', DEFAULT_APP_CONFIG.protocol);
  if (protocol !== 'mqtt3' && protocol !== 'mqtt5') {
    throw new InvalidAppConfigError(
      `Context protocol must be 'mqtt3' or 'mqtt5' (got ${JSON.stringify(protocol)})`,
    );
  }

  const keyPrefix = text('keyPrefix', DEFAULT_APP_CONFIG.keyPrefix);
  if (!KEY_PREFIX.test(keyPrefix)) {
    throw new InvalidAppConfigError(
      `Context keyPrefix must be empty or path segments of letters, digits, '_', '.', '-' each ending with '/', such as fleet-a/ (got ${JSON.stringify(keyPrefix)})`,
    );
  }

  const rotationToken = text('rotationToken', '') || undefined;
  if (rotationToken !== undefined && !/^[\w.:-]{1,64}$/.test(rotationToken)) {
    throw new InvalidAppConfigError(
      `Context rotationToken must be 1-64 letters, digits, '.', ':', '_' or '-' (got ${JSON.stringify(rotationToken)})`,
    );
  }

  const rawInterval = context('credentialCheckIntervalMs');
  let credentialCheckIntervalMs: number | undefined;
  if (rawInterval !== undefined && rawInterval !== null && rawInterval !== '') {
    credentialCheckIntervalMs = Number(rawInterval);
    if (
      !Number.isInteger(credentialCheckIntervalMs) ||
      credentialCheckIntervalMs < 100 ||
      credentialCheckIntervalMs > MAX_CREDENTIAL_CHECK_INTERVAL_MS
    ) {
      throw new InvalidAppConfigError(
        `Context credentialCheckIntervalMs must be an integer from 100 to ${MAX_CREDENTIAL_CHECK_INTERVAL_MS} (got ${JSON.stringify(rawInterval)})`,
      );
    }
  }

  const provisioning = text('provisioning', DEFAULT_APP_CONFIG.provisioning);
  if (provisioning !== 'seed' && provisioning !== 'claim') {
    throw new InvalidAppConfigError(
      `Context provisioning must be 'seed' or 'claim' (got ${JSON.stringify(provisioning)})`,
    );
  }
  const sizes = fleetSizes(context, provisioning, thingNames);

  return {
    provisioning,
    stackName,
    region,
    thingNames: sizes.thingNames,
    things: sizes.things,
    maxDevices: sizes.maxDevices,
    topic,
    messageCount,
    instanceType,
    keyMode,
    protocol,
    keyPrefix,
    rotationToken,
    credentialCheckIntervalMs,
  };
}

/** A positive integer context value, or `undefined` when unset. */
function countOf(context: (key: string) => unknown, key: string, max: number): number | undefined {
  const raw = context(key);
  if (raw === undefined || raw === null || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new InvalidAppConfigError(
      `Context ${key} must be an integer from 1 to ${max} (got ${JSON.stringify(raw)})`,
    );
  }
  return value;
}

/**
 * The fleet's size. Seed flow: `things=N` names the devices
 * thingcert-device-1..N (and wins over `thingNames`). Claim flow: `things`
 * devices run, the hook admits up to `maxDevices` (default `things`), and
 * `thingNames` does not apply.
 */
function fleetSizes(
  context: (key: string) => unknown,
  provisioning: ProvisioningMode,
  thingNames: string[],
): { thingNames: string[]; things: number; maxDevices: number } {
  if (provisioning === 'seed') {
    const things = countOf(context, 'things', MAX_SEED_THINGS);
    if (countOf(context, 'maxDevices', MAX_CLAIM_THINGS) !== undefined) {
      throw new InvalidAppConfigError('Context maxDevices applies to provisioning=claim only');
    }
    if (things === undefined) {
      return { thingNames, things: thingNames.length, maxDevices: thingNames.length };
    }
    // things wins over thingNames, which cdk.json sets for the seed's one device.
    const names = Array.from({ length: things }, (_, i) => `thingcert-device-${i + 1}`);
    return { thingNames: names, things, maxDevices: things };
  }
  // thingNames (cdk.json sets it for the seed flow) does not apply: claim
  // devices are named from their instance ids.
  const things = countOf(context, 'things', MAX_CLAIM_THINGS) ?? DEFAULT_APP_CONFIG.things;
  const maxDevices = countOf(context, 'maxDevices', MAX_CLAIM_THINGS) ?? things;
  if (maxDevices < things) {
    throw new InvalidAppConfigError(
      `Context maxDevices (${maxDevices}) must be at least things (${things})`,
    );
  }
  return { thingNames: [], things, maxDevices };
}
