import { LocalIamError } from '../errors';
import type { PolicyDocument } from './policy-documents';

/**
 * AWS's default key policy (KMS developer guide, "Default key policy"): the account root may do
 * `kms:*`, which hands the decision to identity policies.
 */
export const DEFAULT_KEY_POLICY = (accountId: string): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'Enable IAM User Permissions',
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${accountId}:root` },
      Action: 'kms:*',
      Resource: '*',
    },
  ],
});

/**
 * The key policy of the AWS managed key `aws/s3` (what SSE-KMS without a key id uses): every
 * principal of the account may use it, through S3 only.
 */
function awsManagedS3KeyPolicy(accountId: string, region: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'Allow access through S3 for all principals in the account that are authorized to use S3',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: [
          'kms:Encrypt',
          'kms:Decrypt',
          'kms:ReEncrypt*',
          'kms:GenerateDataKey*',
          'kms:DescribeKey',
        ],
        Resource: '*',
        Condition: {
          StringEquals: {
            'kms:CallerAccount': accountId,
            'kms:ViaService': `s3.${region}.amazonaws.com`,
          },
        },
      },
    ],
  };
}

/** A key the local S3 can name in SSE-KMS, with the policy KMS evaluates. */
export interface KmsKey {
  keyArn: string;
  keyPolicy: PolicyDocument;
}

const AWS_MANAGED_S3_KEY_ID = '00000000-0000-4000-8000-0000000000a3';

/**
 * KMS keys by id and alias. The local cloud has no KMS service: keys exist so that S3 can check
 * `kms:GenerateDataKey` / `kms:Decrypt` for SSE-KMS objects against the right ARN and key policy.
 * A key id or key ARN nobody registered has the default key policy; an alias must be registered.
 */
export class KmsKeyring {
  private readonly keys = new Map<string, KmsKey>();
  private readonly aliases = new Map<string, string>();

  constructor(
    private readonly accountId: string,
    private readonly region: string,
  ) {
    this.put(AWS_MANAGED_S3_KEY_ID, ['alias/aws/s3'], awsManagedS3KeyPolicy(accountId, region));
  }

  /**
   * Registers (or replaces) a key; answers its ARN. `aliases` are the key's aliases from now on:
   * an alias it had before and is not in the list no longer resolves (as after KMS DeleteAlias,
   * or UpdateAlias to another key).
   */
  put(keyId: string, aliases: readonly string[], keyPolicy: PolicyDocument): string {
    if (!/^[\w-]{1,128}$/.test(keyId)) {
      throw new LocalIamError('ValidationError', `Invalid keyId ${JSON.stringify(keyId)}`);
    }
    for (const alias of aliases) {
      if (!/^alias\/[\w/-]{1,250}$/.test(alias)) {
        throw new LocalIamError('ValidationError', `Invalid alias ${JSON.stringify(alias)}`);
      }
    }
    const keyArn = this.keyArn(keyId);
    this.keys.set(keyId, { keyArn, keyPolicy });
    for (const [alias, target] of this.aliases) {
      if (target === keyId && !aliases.includes(alias)) this.aliases.delete(alias);
    }
    for (const alias of aliases) this.aliases.set(alias, keyId);
    return keyArn;
  }

  /**
   * The key an SSE-KMS header names: a key ARN, key id, alias ARN or `alias/…`; none (undefined)
   * is the AWS managed key `aws/s3`. Undefined for an alias nobody registered.
   */
  resolve(reference: string | undefined): KmsKey | undefined {
    const ref = reference ?? 'alias/aws/s3';
    const arnPrefix = `arn:aws:kms:${this.region}:${this.accountId}:`;
    const local = ref.startsWith(arnPrefix) ? ref.slice(arnPrefix.length) : ref;
    if (local.startsWith('alias/')) {
      const keyId = this.aliases.get(local);
      return keyId === undefined ? undefined : this.keys.get(keyId);
    }
    const keyId = local.startsWith('key/') ? local.slice('key/'.length) : local;
    if (ref.startsWith('arn:') && !ref.startsWith(arnPrefix)) return undefined;
    return (
      this.keys.get(keyId) ?? {
        keyArn: this.keyArn(keyId),
        keyPolicy: DEFAULT_KEY_POLICY(this.accountId),
      }
    );
  }

  private keyArn(keyId: string): string {
    return `arn:aws:kms:${this.region}:${this.accountId}:key/${keyId}`;
  }
}
