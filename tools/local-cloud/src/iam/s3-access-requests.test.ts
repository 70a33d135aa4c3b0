import { describe, expect, it } from 'vitest';
import { AccessEvaluator } from './access-evaluator';
import { roleSessionPrincipal } from '../../test/helpers';
import { KmsKeyring } from './kms-keyring';
import { kmsAccessRequest, s3AccessRequests } from './s3-access-requests';

const facts = (operation: string, query = '', headers: Record<string, string> = {}) => ({
  operation,
  bucket: 'b',
  key: 'dir/k',
  query: new URLSearchParams(query),
  headers,
  style: 'header' as const,
  signatureAgeMs: 5,
  tlsProtocol: 'TLSv1.3',
  accountId: '000000000000',
});

describe('Function: s3AccessRequests', () => {
  it.each([
    ['ListBuckets', 's3:ListAllMyBuckets', '*'],
    ['CreateBucket', 's3:CreateBucket', 'arn:aws:s3:::b'],
    ['HeadBucket', 's3:ListBucket', 'arn:aws:s3:::b'],
    ['DeleteBucket', 's3:DeleteBucket', 'arn:aws:s3:::b'],
    ['ListObjectsV2', 's3:ListBucket', 'arn:aws:s3:::b'],
    ['PutObject', 's3:PutObject', 'arn:aws:s3:::b/dir/k'],
    ['GetObject', 's3:GetObject', 'arn:aws:s3:::b/dir/k'],
    ['HeadObject', 's3:GetObject', 'arn:aws:s3:::b/dir/k'],
    ['DeleteObject', 's3:DeleteObject', 'arn:aws:s3:::b/dir/k'],
    ['PutBucketPolicy', 's3:PutBucketPolicy', 'arn:aws:s3:::b'],
    ['GetBucketPolicy', 's3:GetBucketPolicy', 'arn:aws:s3:::b'],
    ['DeleteBucketPolicy', 's3:DeleteBucketPolicy', 'arn:aws:s3:::b'],
  ])(
    'maps %s to %s on %s, which the IAM simulator accepts',
    async (operation, action, resource) => {
      const [request] = s3AccessRequests(facts(operation));
      expect(request).toMatchObject({ action, resource });
      const evaluator = new AccessEvaluator('000000000000', 'us-east-1');
      const allowed = await roleSessionPrincipal([
        { Effect: 'Allow', Action: action, Resource: resource },
      ]);
      expect(
        (await evaluator.decide(allowed, request!, { secure: true, sourceIp: '127.0.0.1' }))
          .allowed,
      ).toBe(true);
    },
  );

  it('carries the condition keys of the request: s3:prefix, SSE headers, TLS version, auth type', () => {
    const [list] = s3AccessRequests(
      facts('ListObjectsV2', 'list-type=2&prefix=a%2F&delimiter=%2F'),
    );
    expect(list?.context).toMatchObject({
      's3:prefix': 'a/',
      's3:delimiter': '/',
      's3:authType': 'REST-HEADER',
      's3:TlsVersion': '1.3',
    });
    const [put] = s3AccessRequests(
      facts('PutObject', '', {
        'x-amz-server-side-encryption': 'aws:kms',
        'x-amz-server-side-encryption-aws-kms-key-id': 'k',
      }),
    );
    expect(put?.context).toMatchObject({
      's3:x-amz-server-side-encryption': 'aws:kms',
      's3:x-amz-server-side-encryption-aws-kms-key-id': 'k',
    });
    expect(s3AccessRequests(facts('DeleteObjects'))).toEqual([]);
  });
});

describe('Function: kmsAccessRequest', () => {
  it("sets S3's encryption context: the bucket with a Bucket Key, the object without", () => {
    const key = new KmsKeyring('000000000000', 'us-east-1').resolve('k')!;
    const where = { region: 'us-east-1', accountId: '000000000000' };
    const withBucketKey = kmsAccessRequest(
      'kms:Decrypt',
      key,
      { bucket: 'b', key: 'o', bucketKeyEnabled: true },
      where,
    );
    expect(withBucketKey.context).toMatchObject({
      'kms:ViaService': 's3.us-east-1.amazonaws.com',
      'kms:EncryptionContext:aws:s3:arn': 'arn:aws:s3:::b',
    });
    const perObject = kmsAccessRequest(
      'kms:Decrypt',
      key,
      { bucket: 'b', key: 'o', bucketKeyEnabled: false },
      where,
    );
    expect(perObject.context?.['kms:EncryptionContext:aws:s3:arn']).toBe('arn:aws:s3:::b/o');
  });
});
