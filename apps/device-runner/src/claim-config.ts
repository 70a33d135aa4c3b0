import {
  fleetThingName,
  type DeviceRunnerConfigFile,
  type FleetClaimConfig,
} from '@thingcert/contracts';
import { UsageError } from './errors';

/** Provisioning by claim, as resolved from flags, environment and file. */
export interface ClaimRunConfig {
  /** The provisioning template to register through. */
  readonly templateName: string;
  /** S3 key (in `bucket`) of the claim certificate's credential pointer. */
  readonly claimPointerKey: string;
  readonly thingNamePrefix: string;
  /** This device's id: the thing is `thingNamePrefix` + `deviceId`. */
  readonly deviceId: string;
}

/**
 * The settings of `claim` in the config file, flattened: each has its own
 * flag and variable, like every other setting.
 */
export const CLAIM_SETTINGS = {
  templateName: { flag: 'claim-template', env: 'THINGCERT_CLAIM_TEMPLATE' },
  claimCredentialPointerObjectKey: {
    flag: 'claim-pointer-key',
    env: 'THINGCERT_CLAIM_POINTER_KEY',
  },
  thingNamePrefix: { flag: 'thing-name-prefix', env: 'THINGCERT_THING_NAME_PREFIX' },
} as const satisfies Record<keyof FleetClaimConfig, { flag: string; env: string }>;

/** A key of `claim` in the config file. */
export type ClaimSettingKey = keyof typeof CLAIM_SETTINGS;
/** How the runner's parser names a claim setting in its layers: `claim.templateName`. */
export type ClaimLayerKey = `claim.${ClaimSettingKey}`;

/** Every claim setting's layer key. */
export const CLAIM_LAYER_KEYS = Object.keys(CLAIM_SETTINGS).map(
  (key) => `claim.${key}` as ClaimLayerKey,
);

/**
 * The `claim` object of a config file as layer entries. Throws
 * {@link UsageError} unless it is an object of known string keys.
 */
export function claimFileEntries(value: unknown, path: string): Array<[ClaimLayerKey, string]> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`config file ${path}: "claim" must be an object`);
  }
  const known = Object.keys(CLAIM_SETTINGS);
  return Object.entries(value).map(([name, setting]) => {
    if (!known.includes(name)) {
      throw new UsageError(
        `config file ${path}: unknown key "claim.${name}" (known: ${known.join(', ')})`,
      );
    }
    if (typeof setting !== 'string') {
      throw new UsageError(`config file ${path}: "claim.${name}" must be a string`);
    }
    return [`claim.${name as ClaimSettingKey}`, setting];
  });
}

/** The settings besides `claim` that decide claim mode, as the parser resolved them. */
export interface ClaimModeInputs {
  /** The three claim settings (undefined where not given). */
  readonly claim: Readonly<Record<ClaimSettingKey, string | undefined>>;
  readonly deviceId: string | undefined;
  readonly thing: string | undefined;
  readonly bucket: string | undefined;
  /** Settings given that name the thing's own credentials (flag names), which claim mode makes. */
  readonly credentialSettings: readonly string[];
}

/**
 * Claim mode from its inputs: `undefined` when no claim setting is given
 * (then neither may `--device-id` be); otherwise all three claim settings,
 * the device id and the bucket are required, and nothing may name the
 * thing's credentials or another thing. Throws {@link UsageError}.
 */
export function resolveClaimMode(
  inputs: ClaimModeInputs,
): { claim: ClaimRunConfig; thing: string } | undefined {
  const flags = Object.values(CLAIM_SETTINGS).map(({ flag }) => `--${flag}`);
  const given = (Object.keys(CLAIM_SETTINGS) as ClaimSettingKey[]).filter(
    (key) => inputs.claim[key] !== undefined,
  );
  if (given.length === 0) {
    if (inputs.deviceId !== undefined) {
      throw new UsageError(`--device-id is for provisioning by claim: give ${flags.join(', ')}`);
    }
    return undefined;
  }
  const { templateName, claimCredentialPointerObjectKey, thingNamePrefix } = inputs.claim;
  if (
    templateName === undefined ||
    claimCredentialPointerObjectKey === undefined ||
    thingNamePrefix === undefined
  ) {
    throw new UsageError(`${flags.join(', ')} go together (provisioning by claim)`);
  }
  if (inputs.deviceId === undefined) {
    throw new UsageError(
      'missing --device-id (provisioning by claim: the thing is the prefix and this id; on EC2 the instance id)',
    );
  }
  if (inputs.bucket === undefined) {
    throw new UsageError("missing --bucket (the claim credentials' bucket)");
  }
  if (inputs.credentialSettings.length > 0) {
    throw new UsageError(
      `${inputs.credentialSettings.join(', ')} cannot be combined with provisioning by claim: ` +
        'the device makes its own credentials',
    );
  }
  let thing: string;
  try {
    thing = fleetThingName(thingNamePrefix, inputs.deviceId);
  } catch (error) {
    throw new UsageError((error as Error).message, { cause: error });
  }
  if (inputs.thing !== undefined && inputs.thing !== thing) {
    throw new UsageError(
      `--thing '${inputs.thing}' is not the thing provisioning by claim makes ('${thing}': --thing-name-prefix and --device-id); leave --thing out`,
    );
  }
  return {
    thing,
    claim: {
      templateName,
      claimPointerKey: claimCredentialPointerObjectKey,
      thingNamePrefix,
      deviceId: inputs.deviceId,
    },
  };
}

/** Flag names of the settings claim mode forbids, for its message. */
export const OWN_CREDENTIAL_SETTINGS = [
  'cert',
  'key',
  'credentialPointerObjectKey',
  'certificateObjectKey',
  'privateKeyObjectKey',
] as const satisfies ReadonlyArray<keyof DeviceRunnerConfigFile>;
