import { describe, expect, it } from 'vitest';
import { isResourceStepError } from '../errors';
import type { DeployedResource } from '../resource-provider';
import { RecordingIam } from '../../test/recording-iam';
import { testStackEnvironment } from '../../test/stack-environment';
import { kmsAliasProvider, kmsKeyProvider, StackKeys } from './kms';

const KEY_POLICY = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { AWS: 'arn:aws:iam::000000000000:root' },
      Action: 'kms:*',
      Resource: '*',
    },
  ],
};

function providers() {
  const iam = new RecordingIam();
  const stack = testStackEnvironment([], {
    assetDir: () => '',
    metadataOf: () => ({}),
  });
  const keys = new StackKeys(iam);
  return { iam, key: kmsKeyProvider(keys, stack), alias: kmsAliasProvider(keys) };
}

async function createKey(
  provider: ReturnType<typeof providers>['key'],
  properties: Record<string, unknown>,
): Promise<DeployedResource> {
  const made = await provider.create({ logicalId: 'Key', type: 'AWS::KMS::Key', properties });
  return { ...made, logicalId: 'Key', type: 'AWS::KMS::Key', properties, skipped: false };
}

describe('Function: kmsKeyProvider', () => {
  it('registers the key policy under a UUID key id, with the ARN as attribute', async () => {
    const { iam, key } = providers();

    const made = await createKey(key, { KeyPolicy: KEY_POLICY });

    expect(made.physicalId).toMatch(/^[0-9a-f-]{36}$/);
    expect(made.attributes.Arn).toBe(`arn:aws:kms:eu-west-1:000000000000:key/${made.physicalId}`);
    expect(iam.kmsKeys.get(made.physicalId)?.keyPolicy).toEqual(KEY_POLICY);
  });

  it('fails an update of KeySpec, as CloudFormation does, and keeps the key policy', async () => {
    const { iam, key } = providers();
    const made = await createKey(key, { KeyPolicy: KEY_POLICY });

    const error = await key.update!(
      {
        logicalId: 'Key',
        type: 'AWS::KMS::Key',
        properties: { KeyPolicy: {}, KeySpec: 'RSA_2048' },
      },
      made,
    ).catch((caught: unknown) => caught);

    expect(isResourceStepError(error)).toBe(true);
    expect((error as Error).message).toContain('KeySpec of an existing KMS key cannot change');
    expect(iam.kmsKeys.get(made.physicalId)?.keyPolicy).toEqual(KEY_POLICY);
  });

  it('makes a disabled or deleted key unusable: a key policy that allows nothing', async () => {
    const { iam, key } = providers();
    const disabled = await createKey(key, { KeyPolicy: KEY_POLICY, Enabled: false });
    const deleted = await createKey(key, { KeyPolicy: KEY_POLICY });

    await key.delete(deleted);

    for (const { physicalId } of [disabled, deleted]) {
      expect(iam.kmsKeys.get(physicalId)?.keyPolicy).toEqual({
        Version: '2012-10-17',
        Statement: [],
      });
    }
  });
});

describe('Function: kmsAliasProvider', () => {
  it('points the alias at its target, moves it to a new target and removes it on delete', async () => {
    const { iam, key, alias } = providers();
    const first = await createKey(key, { KeyPolicy: KEY_POLICY });
    const second = await createKey(key, { KeyPolicy: KEY_POLICY });
    const request = (target: string) => ({
      logicalId: 'Alias',
      type: 'AWS::KMS::Alias',
      properties: { AliasName: 'alias/creds', TargetKeyId: target },
    });

    const made = await alias.create(request(String(first.attributes.Arn)));
    expect(iam.kmsKeys.get(first.physicalId)?.aliases).toEqual(['alias/creds']);
    const current = { ...made, ...request(''), skipped: false };
    await alias.update!(request(second.physicalId), current);
    expect(iam.kmsKeys.get(first.physicalId)?.aliases).toEqual([]);
    expect(iam.kmsKeys.get(second.physicalId)?.aliases).toEqual(['alias/creds']);
    await alias.delete(current);
    expect(iam.kmsKeys.get(second.physicalId)?.aliases).toEqual([]);
    // The key policy stays what the key declares.
    expect(iam.kmsKeys.get(second.physicalId)?.keyPolicy).toEqual(KEY_POLICY);
  });
});
