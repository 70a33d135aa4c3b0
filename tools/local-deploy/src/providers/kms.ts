import { randomUUID } from 'node:crypto';
import type { LocalIam, PolicyDocument } from '@thingcert/local-cloud';
import { ResourceStepError } from '../errors';
import { regionalArn } from '../physical-names';
import { runStep, type ResourceProvider, type StackEnvironment } from '../resource-provider';
import { changedProperties } from '../update-behaviour';

/**
 * Properties of `AWS::KMS::Key` that cannot change: "If you change the value of the KeySpec,
 * KeyUsage, Origin, or MultiRegion properties of an existing KMS key, the update request fails"
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-kms-key.html).
 */
const IMMUTABLE_KEY_PROPERTIES = ['KeySpec', 'KeyUsage', 'Origin', 'MultiRegion'];

/**
 * The key policy of a key that may not be used: disabled (`Enabled: false`) or deleted (pending
 * deletion). It allows nothing, so S3 refuses every SSE-KMS use of the key, as KMS would.
 */
const UNUSABLE_KEY_POLICY: PolicyDocument = { Version: '2012-10-17', Statement: [] };

/** One key of the stack: its key policy and its aliases. */
interface StackKey {
  keyPolicy: PolicyDocument | undefined;
  readonly aliases: Set<string>;
}

/**
 * The stack's KMS keys as the local S3 needs them for SSE-KMS: each key's policy and aliases,
 * written to the local IAM's keyring whenever a key or an alias changes. The local cloud has no
 * KMS API; a key exists for S3's `kms:GenerateDataKey` / `kms:Decrypt` checks.
 */
export class StackKeys {
  private readonly keys = new Map<string, StackKey>();

  constructor(private readonly iam: LocalIam) {}

  async putKey(keyId: string, keyPolicy: PolicyDocument | undefined): Promise<void> {
    const key = this.keys.get(keyId) ?? { keyPolicy, aliases: new Set<string>() };
    key.keyPolicy = keyPolicy;
    this.keys.set(keyId, key);
    await this.write(keyId);
  }

  /** Points `alias` at `keyId` (taking it off the key it named before, if any). */
  async putAlias(alias: string, keyId: string): Promise<void> {
    const previous = this.keyOfAlias(alias);
    if (previous !== undefined && previous !== keyId) await this.deleteAlias(alias);
    const key = this.keys.get(keyId) ?? { keyPolicy: undefined, aliases: new Set<string>() };
    key.aliases.add(alias);
    this.keys.set(keyId, key);
    await this.write(keyId);
  }

  async deleteAlias(alias: string): Promise<void> {
    const keyId = this.keyOfAlias(alias);
    if (keyId === undefined) return;
    this.keys.get(keyId)!.aliases.delete(alias);
    await this.write(keyId);
  }

  private keyOfAlias(alias: string): string | undefined {
    return [...this.keys].find(([, key]) => key.aliases.has(alias))?.[0];
  }

  private async write(keyId: string): Promise<void> {
    const key = this.keys.get(keyId)!;
    await this.iam.putKmsKey({ keyId, aliases: [...key.aliases], keyPolicy: key.keyPolicy });
  }
}

function keyPolicyOf(properties: Readonly<Record<string, unknown>>): PolicyDocument | undefined {
  if (properties.Enabled === false || properties.Enabled === 'false') return UNUSABLE_KEY_POLICY;
  const policy = properties.KeyPolicy;
  if (policy === undefined) return undefined;
  return (typeof policy === 'string' ? JSON.parse(policy) : policy) as PolicyDocument;
}

/**
 * `AWS::KMS::Key`: a key id (a UUID, what `Ref` gives) and its key policy (AWS's default when the
 * template has none), so that S3 evaluates SSE-KMS uses of it against that policy. A new
 * `KeyPolicy` is in force at once; a change of `KeySpec`, `KeyUsage`, `Origin` or `MultiRegion`
 * fails, as on AWS. Deleting it schedules its deletion on AWS: here it becomes unusable at once.
 */
export function kmsKeyProvider(keys: StackKeys, stack: StackEnvironment): ResourceProvider {
  return {
    async create({ logicalId, properties }) {
      const keyId = randomUUID();
      await runStep(logicalId, 'CreateKey', () => keys.putKey(keyId, keyPolicyOf(properties)));
      stack.log(`created ${logicalId} (KMS key ${keyId})`);
      return {
        physicalId: keyId,
        attributes: { Arn: regionalArn(stack, 'kms', `key/${keyId}`), KeyId: keyId },
      };
    },
    async update({ logicalId, properties }, current) {
      const immutable = changedProperties(current.properties, properties).filter((name) =>
        IMMUTABLE_KEY_PROPERTIES.includes(name),
      );
      if (immutable.length > 0) {
        throw new ResourceStepError(
          logicalId,
          'UpdateKey',
          `${immutable.join(', ')} of an existing KMS key cannot change`,
        );
      }
      await runStep(logicalId, 'PutKeyPolicy', () =>
        keys.putKey(current.physicalId, keyPolicyOf(properties)),
      );
      return { physicalId: current.physicalId, attributes: current.attributes };
    },
    async delete({ logicalId, physicalId }) {
      await runStep(logicalId, 'ScheduleKeyDeletion', () =>
        keys.putKey(physicalId, UNUSABLE_KEY_POLICY),
      );
    },
  };
}

/** The key id of a `TargetKeyId`: a key id or a key ARN. */
function keyIdOf(target: unknown): string {
  const text = String(target);
  return text.includes(':key/') ? text.slice(text.indexOf(':key/') + ':key/'.length) : text;
}

/**
 * `AWS::KMS::Alias`: `AliasName` resolves to `TargetKeyId` in SSE-KMS headers; a new target moves
 * it (UpdateAlias), delete removes it. `Ref` gives the alias name.
 */
export function kmsAliasProvider(keys: StackKeys): ResourceProvider {
  const put = async (logicalId: string, properties: Readonly<Record<string, unknown>>) => {
    const alias = String(properties.AliasName);
    await runStep(logicalId, 'CreateAlias', () =>
      keys.putAlias(alias, keyIdOf(properties.TargetKeyId)),
    );
    return { physicalId: alias, attributes: {} };
  };
  return {
    create: ({ logicalId, properties }) => put(logicalId, properties),
    update: ({ logicalId, properties }) => put(logicalId, properties),
    async delete({ logicalId, physicalId }) {
      await runStep(logicalId, 'DeleteAlias', () => keys.deleteAlias(physicalId));
    },
  };
}
