import { describe, expect, it } from 'vitest';
import { LocalIamError } from '../errors';
import { DEFAULT_KEY_POLICY, KmsKeyring } from './kms-keyring';

describe('Class: KmsKeyring', () => {
  const prefix = 'arn:aws:kms:us-east-1:000000000000';

  describe('Method: resolve', () => {
    it('finds a registered key by id, ARN, alias and alias ARN, with its key policy', () => {
      const keys = new KmsKeyring('000000000000', 'us-east-1');
      const policy = { Version: '2012-10-17', Statement: [] };
      keys.put('k-1', ['alias/creds'], policy);
      for (const ref of ['k-1', `${prefix}:key/k-1`, 'alias/creds', `${prefix}:alias/creds`]) {
        expect(keys.resolve(ref)).toEqual({ keyArn: `${prefix}:key/k-1`, keyPolicy: policy });
      }
    });

    it("gives an unregistered key id AWS's default key policy, and knows no unregistered alias or foreign ARN", () => {
      const keys = new KmsKeyring('000000000000', 'us-east-1');
      expect(keys.resolve('k-2')).toEqual({
        keyArn: `${prefix}:key/k-2`,
        keyPolicy: DEFAULT_KEY_POLICY('000000000000'),
      });
      expect(keys.resolve('alias/unknown')).toBeUndefined();
      expect(keys.resolve('arn:aws:kms:eu-west-1:111111111111:key/k-2')).toBeUndefined();
    });

    it('uses the AWS managed key aws/s3 when SSE-KMS names no key: any principal of the account, via S3 only', () => {
      const key = new KmsKeyring('000000000000', 'us-east-1').resolve(undefined);
      expect(JSON.stringify(key?.keyPolicy)).toContain(
        '"kms:ViaService":"s3.us-east-1.amazonaws.com"',
      );
    });
  });

  describe('Method: put', () => {
    it("replaces the key's aliases: one left out no longer resolves, one moved resolves to its new key", () => {
      const keys = new KmsKeyring('000000000000', 'us-east-1');
      const policy = { Version: '2012-10-17', Statement: [] };
      keys.put('k-1', ['alias/old', 'alias/moved'], policy);
      keys.put('k-2', ['alias/moved'], policy);
      keys.put('k-1', ['alias/new'], policy);

      expect(keys.resolve('alias/old')).toBeUndefined();
      expect(keys.resolve('alias/new')?.keyArn).toBe(`${prefix}:key/k-1`);
      expect(keys.resolve('alias/moved')?.keyArn).toBe(`${prefix}:key/k-2`);
    });

    it('refuses malformed key ids and aliases', () => {
      const keys = new KmsKeyring('000000000000', 'us-east-1');
      expect(() => keys.put('has space', [], {})).toThrow(LocalIamError);
      expect(() => keys.put('k', ['creds'], {})).toThrow(LocalIamError);
    });
  });
});
