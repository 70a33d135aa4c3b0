import {
  credentialPointerKey,
  DEFAULT_CREDENTIAL_CHECK_INTERVAL_MS,
  DEFAULT_DEVICE_RUNNER_PROTOCOL,
  DEVICE_RUNNER_PROTOCOLS,
  FLEET_DEVICE_ID_ENVIRONMENT_VARIABLE,
  type CredentialObjectKeys,
  type DeviceRunnerConfigFile,
  type DeviceRunnerProtocol,
} from '@thingcert/contracts';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  CLAIM_LAYER_KEYS,
  CLAIM_SETTINGS,
  claimFileEntries,
  OWN_CREDENTIAL_SETTINGS,
  resolveClaimMode,
  type ClaimLayerKey,
  type ClaimRunConfig,
  type ClaimSettingKey,
} from './claim-config';
import { UsageError } from './errors';

/** Everything `device-runner run` needs, after flags, environment, file and defaults. */
export interface RunConfig {
  /** S3 bucket to fetch credentials from; unused when `cert` and `key` are given. */
  readonly bucket: string | undefined;
  readonly thing: string;
  /**
   * S3 key of the thing's credential pointer: the runner reads the
   * certificate it names and follows it when it moves. `undefined` when the
   * credentials are fixed (`objectKeys`, or `cert`/`key` files).
   */
  readonly pointerKey: string | undefined;
  /**
   * S3 keys of a fixed certificate and private key (no rotation following),
   * as the certificate resource returned them; `undefined`: read through `pointerKey`.
   */
  readonly objectKeys: DeviceObjectKeys | undefined;
  readonly cert: string | undefined;
  readonly key: string | undefined;
  readonly ca: string | undefined;
  readonly endpoint: string;
  readonly port: number;
  readonly topic: string;
  readonly count: number;
  readonly message: string;
  /** Milliseconds from the start of one publish to the start of the next. */
  readonly interval: number;
  /** Most QoS 1 publishes awaiting their PUBACK at once (AWS IoT allows 100). */
  readonly window: number;
  readonly protocol: DeviceRunnerProtocol;
  readonly forever: boolean;
  readonly json: boolean;
  readonly region: string | undefined;
  readonly credentialsDir: string;
  /** Milliseconds between two conditional reads of the pointer. */
  readonly credentialCheckInterval: number;
  /**
   * Consecutive refused reconnects, the pointer naming no other certificate,
   * after which the runner exits 75 (`EXIT_CREDENTIALS_REFUSED`).
   */
  readonly refusedLimit: number;
  /**
   * Provisioning by claim (`thing` is then the fleet thing name it makes);
   * `undefined` when the thing's credentials come from `bucket` or files.
   */
  readonly claim: ClaimRunConfig | undefined;
}

/**
 * Settings only the runner reads (tuning of credential following, which the
 * constructs never write): file keys beside those of `DeviceRunnerConfigFile`.
 */
export interface RunnerTuningSettings {
  /** Refused reconnects in a row (pointer unchanged) before exiting 75. @default 5 */
  readonly refusedLimit?: number;
}

/** Where in the bucket the certificate and private key are: all a device reads. */
export type DeviceObjectKeys = Pick<CredentialObjectKeys, 'certificate' | 'privateKey'>;

/** What the command line asks for. */
export type Command =
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | { readonly kind: 'run'; readonly config: RunConfig };

/** Everything the `--config` file may hold. */
type SettingsFile = DeviceRunnerConfigFile & RunnerTuningSettings;
/**
 * A flat setting: a key of the JSON config file, in camelCase; its flag is
 * the kebab-case form. `claim` is an object: its keys are settings of their
 * own (`claim.templateName`, see `claim-config.ts`).
 */
type Key = Exclude<keyof SettingsFile, 'claim'>;
type RawValue = string | number | boolean;
type Layer = Partial<Record<Key | ClaimLayerKey, RawValue>>;
type JsonKind<T> = T extends boolean ? 'boolean' : T extends number ? 'number' : 'string';

/**
 * The JSON type of each config file key. Typed by the contract the device
 * instance writes: a key added, renamed or retyped there fails to compile here.
 */
const KINDS: { readonly [K in Key]-?: JsonKind<NonNullable<SettingsFile[K]>> } = {
  bucket: 'string',
  thing: 'string',
  credentialPointerObjectKey: 'string',
  certificateObjectKey: 'string',
  privateKeyObjectKey: 'string',
  cert: 'string',
  key: 'string',
  ca: 'string',
  endpoint: 'string',
  port: 'number',
  topic: 'string',
  count: 'number',
  message: 'string',
  interval: 'number',
  window: 'number',
  protocol: 'string',
  forever: 'boolean',
  json: 'boolean',
  region: 'string',
  credentialsDir: 'string',
  credentialCheckInterval: 'number',
  refusedLimit: 'number',
  deviceId: 'string',
};
const KEYS = Object.keys(KINDS) as Key[];

const ENV: Record<Key, string> = {
  bucket: 'THINGCERT_BUCKET',
  thing: 'THINGCERT_THING',
  credentialPointerObjectKey: 'THINGCERT_CREDENTIAL_POINTER_OBJECT_KEY',
  certificateObjectKey: 'THINGCERT_CERTIFICATE_OBJECT_KEY',
  privateKeyObjectKey: 'THINGCERT_PRIVATE_KEY_OBJECT_KEY',
  cert: 'THINGCERT_CERT',
  key: 'THINGCERT_KEY',
  ca: 'THINGCERT_CA_FILE',
  endpoint: 'THINGCERT_ENDPOINT',
  port: 'THINGCERT_MQTT_PORT',
  topic: 'THINGCERT_TOPIC',
  count: 'THINGCERT_COUNT',
  message: 'THINGCERT_MESSAGE',
  interval: 'THINGCERT_INTERVAL',
  window: 'THINGCERT_WINDOW',
  protocol: 'THINGCERT_PROTOCOL',
  forever: 'THINGCERT_FOREVER',
  json: 'THINGCERT_JSON',
  region: 'THINGCERT_REGION',
  credentialsDir: 'THINGCERT_CREDENTIALS_DIR',
  credentialCheckInterval: 'THINGCERT_CREDENTIAL_CHECK_INTERVAL',
  refusedLimit: 'THINGCERT_REFUSED_LIMIT',
  deviceId: FLEET_DEVICE_ID_ENVIRONMENT_VARIABLE,
};

/** Flag, variable and file key of every claim setting. */
const CLAIM: Record<ClaimLayerKey, { flag: string; env: string }> = Object.fromEntries(
  Object.entries(CLAIM_SETTINGS).map(([key, names]) => [`claim.${key}`, names]),
) as Record<ClaimLayerKey, { flag: string; env: string }>;

/** Every setting as a flag (`--credentials-dir`): booleans are switches, the rest take a value. */
const SETTING_FLAGS = Object.fromEntries([
  ...KEYS.map((key) => [flagName(key), { type: KINDS[key] === 'boolean' ? 'boolean' : 'string' }]),
  ...CLAIM_LAYER_KEYS.map((key) => [CLAIM[key].flag, { type: 'string' }]),
]) as Record<string, { type: 'boolean' | 'string' }>;

/** Reads the `--config` file; injected so tests need no files. */
export type ReadConfigFile = (path: string) => Promise<string>;

/**
 * Parses `argv` (without node and script), the environment and the optional
 * JSON config file into a {@link Command}. Flags beat environment variables,
 * which beat the file, which beats the defaults. Throws {@link UsageError} for
 * anything the operator must fix.
 */
export async function resolveCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  readConfigFile: ReadConfigFile,
): Promise<Command> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        ...SETTING_FLAGS,
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    });
  } catch (error) {
    // node:util's message goes on about '--' positionals; the first sentence is the point.
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(message.split('. To specify')[0] ?? message, { cause: error });
  }
  const { values, positionals } = parsed;
  if (values.help === true) return { kind: 'help' };
  if (values.version === true) return { kind: 'version' };
  if (positionals.length === 0) throw new UsageError('missing command: run');
  if (positionals[0] !== 'run') throw new UsageError(`unknown command '${positionals[0]}'`);
  if (positionals.length > 1) {
    throw new UsageError(`unexpected argument '${positionals[1]}'`);
  }

  const flags: Layer = {};
  const fromEnv: Layer = {};
  for (const key of [...KEYS, ...CLAIM_LAYER_KEYS]) {
    const flag = values[flagOf(key) as keyof typeof values];
    if (flag !== undefined) flags[key] = flag;
    const variable = env[envOf(key)];
    if (variable !== undefined && variable !== '') fromEnv[key] = variable;
  }

  const configPath = values.config ?? emptyToUndefined(env.THINGCERT_CONFIG);
  const fromFile = configPath === undefined ? {} : await readLayerFile(configPath, readConfigFile);

  const pick = (key: Key | ClaimLayerKey): { value: RawValue; source: string } | undefined => {
    if (flags[key] !== undefined) return { value: flags[key], source: `--${flagOf(key)}` };
    if (fromEnv[key] !== undefined) return { value: fromEnv[key], source: envOf(key) };
    if (fromFile[key] !== undefined)
      return { value: fromFile[key], source: `"${key}" in ${configPath}` };
    return undefined;
  };

  // Malformed values first: "--count many" deserves that message, not "missing --thing".
  const port = integer(pick('port'), 8883, 1, 65_535);
  const count = integer(pick('count'), 5, 0, 1_000_000);
  const interval = integer(pick('interval'), 0, 0, 86_400_000);
  // AWS IoT Core allows 100 unacknowledged QoS 1 messages per connection.
  const window = integer(pick('window'), 32, 1, 100);
  const forever = boolean(pick('forever'), false);
  // From 100 ms (tests); a conditional GET is cheap, but S3 bills every request.
  const credentialCheckInterval = integer(
    pick('credentialCheckInterval'),
    DEFAULT_CREDENTIAL_CHECK_INTERVAL_MS,
    100,
    86_400_000,
  );
  const refusedLimit = integer(pick('refusedLimit'), 5, 1, 100);
  const json = boolean(pick('json'), false);
  const protocol = text(pick('protocol')) ?? DEFAULT_DEVICE_RUNNER_PROTOCOL;
  if (!isProtocol(protocol)) {
    throw new UsageError(
      `--protocol must be ${DEVICE_RUNNER_PROTOCOLS.join(' or ')}, not '${protocol}'`,
    );
  }
  const topic = text(pick('topic')) ?? 'test/topic';
  const message = text(pick('message')) ?? 'Hello World!';

  const bucket = text(pick('bucket'));
  const claimMode = resolveClaimMode({
    claim: Object.fromEntries(
      (Object.keys(CLAIM_SETTINGS) as ClaimSettingKey[]).map((key) => [
        key,
        text(pick(`claim.${key}`)),
      ]),
    ) as Record<ClaimSettingKey, string | undefined>,
    deviceId: text(pick('deviceId')),
    thing: text(pick('thing')),
    bucket,
    credentialSettings: OWN_CREDENTIAL_SETTINGS.filter((key) => pick(key) !== undefined).map(
      (key) => `--${flagName(key)}`,
    ),
  });
  const thing = claimMode?.thing ?? text(pick('thing'));
  if (thing === undefined)
    throw new UsageError('missing --thing (the thing name, used as client id)');
  const endpoint = text(pick('endpoint'));
  if (endpoint === undefined) {
    throw new UsageError(
      'missing --endpoint (aws iot describe-endpoint --endpoint-type iot:Data-ATS)',
    );
  }
  const cert = text(pick('cert'));
  const key = text(pick('key'));
  if ((cert === undefined) !== (key === undefined)) {
    throw new UsageError('--cert and --key go together');
  }
  if (cert === undefined && bucket === undefined) {
    throw new UsageError('missing credentials: give --bucket, or --cert and --key');
  }
  const certificateObjectKey = text(pick('certificateObjectKey'));
  const privateKeyObjectKey = text(pick('privateKeyObjectKey'));
  if ((certificateObjectKey === undefined) !== (privateKeyObjectKey === undefined)) {
    throw new UsageError('--certificate-object-key and --private-key-object-key go together');
  }
  const credentialPointerObjectKey = text(pick('credentialPointerObjectKey'));
  // Files on disk, else the pointer (given, or the thing's default when no
  // fixed object keys are given either), else the fixed objects.
  const objectKeys =
    cert !== undefined ||
    credentialPointerObjectKey !== undefined ||
    certificateObjectKey === undefined ||
    privateKeyObjectKey === undefined
      ? undefined
      : { certificate: certificateObjectKey, privateKey: privateKeyObjectKey };
  const pointerKey =
    cert !== undefined || objectKeys !== undefined || claimMode !== undefined
      ? undefined
      : (credentialPointerObjectKey ?? credentialPointerKey({ thingName: thing }));
  const credentialsDir =
    text(pick('credentialsDir')) ??
    join(
      emptyToUndefined(env.STATE_DIRECTORY) ?? join(homedir(), '.thingcert'),
      'credentials',
      thing,
    );

  return {
    kind: 'run',
    config: {
      bucket,
      thing,
      pointerKey,
      objectKeys,
      cert,
      key,
      ca: text(pick('ca')),
      endpoint,
      port,
      topic,
      count,
      message,
      interval,
      window,
      protocol,
      forever,
      json,
      region: text(pick('region')),
      credentialsDir,
      credentialCheckInterval,
      refusedLimit,
      claim: claimMode?.claim,
    },
  };
}

async function readLayerFile(path: string, read: ReadConfigFile): Promise<Layer> {
  let content: string;
  try {
    content = await read(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new UsageError(`cannot read config file ${path} (${code})`, { cause: error });
  }
  let data: unknown;
  try {
    data = JSON.parse(content);
  } catch (error) {
    throw new UsageError(`config file ${path} is not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new UsageError(`config file ${path} must hold a JSON object`);
  }
  const layer: Layer = {};
  for (const [name, value] of Object.entries(data)) {
    if (name === 'claim') {
      for (const [key, setting] of claimFileEntries(value, path)) layer[key] = setting;
      continue;
    }
    if (!(KEYS as readonly string[]).includes(name)) {
      throw new UsageError(
        `config file ${path}: unknown key "${name}" (known: ${[...KEYS, 'claim'].join(', ')})`,
      );
    }
    const key = name as Key;
    const expected = KINDS[key];
    if (typeof value !== expected) {
      throw new UsageError(`config file ${path}: "${name}" must be a ${expected}`);
    }
    layer[key] = value as RawValue;
  }
  return layer;
}

/** `credentialsDir` → `credentials-dir`. */
function flagName(key: Key): string {
  return key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

function isClaimKey(key: Key | ClaimLayerKey): key is ClaimLayerKey {
  return key.startsWith('claim.');
}

/** The flag of a setting, without `--`. */
function flagOf(key: Key | ClaimLayerKey): string {
  return isClaimKey(key) ? CLAIM[key].flag : flagName(key);
}

/** The `THINGCERT_*` variable of a setting. */
function envOf(key: Key | ClaimLayerKey): string {
  return isClaimKey(key) ? CLAIM[key].env : ENV[key];
}

function isProtocol(value: string): value is DeviceRunnerProtocol {
  return (DEVICE_RUNNER_PROTOCOLS as readonly string[]).includes(value);
}

function emptyToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function text(picked: { value: RawValue; source: string } | undefined): string | undefined {
  if (picked === undefined) return undefined;
  const value = String(picked.value);
  if (value.trim() === '') throw new UsageError(`${picked.source} must not be empty`);
  return value;
}

function integer(
  picked: { value: RawValue; source: string } | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (picked === undefined) return fallback;
  const raw = String(picked.value).trim();
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(
      `${picked.source} must be a whole number from ${min} to ${max}, not '${raw}'`,
    );
  }
  return value;
}

function boolean(
  picked: { value: RawValue; source: string } | undefined,
  fallback: boolean,
): boolean {
  if (picked === undefined) return fallback;
  if (typeof picked.value === 'boolean') return picked.value;
  const raw = String(picked.value).trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new UsageError(`${picked.source} must be true or false, not '${raw}'`);
}
