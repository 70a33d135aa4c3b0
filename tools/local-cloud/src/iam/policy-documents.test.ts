import { describe, expect, it } from 'vitest';
import { MalformedPolicyDocumentError } from '../errors';
import { parseBucketPolicy, parseIdentityPolicy } from './policy-documents';

const statement = (extra: object) => JSON.stringify({ Version: '2012-10-17', Statement: [extra] });

describe('Function: parseBucketPolicy', () => {
  it('accepts a policy about this bucket and its objects', () => {
    const text = statement({
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: ['arn:aws:s3:::b', 'arn:aws:s3:::b/*'],
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
    expect(parseBucketPolicy(text, 'b')).toEqual(JSON.parse(text));
  });

  it.each([
    ['not JSON', '{', "Policies must be valid JSON and the first byte must be '{'"],
    [
      'no Principal',
      statement({ Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::b' }),
      'Missing required field Principal',
    ],
    [
      'another service',
      statement({ Effect: 'Allow', Principal: '*', Action: 'iot:*', Resource: 'arn:aws:s3:::b' }),
      'Policy has invalid action',
    ],
    [
      'another bucket',
      statement({ Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::bb/*' }),
      'Policy has invalid resource',
    ],
  ])('refuses %s', (_case, text, message) => {
    expect(() => parseBucketPolicy(text, 'b')).toThrow(new MalformedPolicyDocumentError(message));
  });
});

describe('Function: parseIdentityPolicy', () => {
  it('refuses a Principal and a missing Resource, as IAM does', () => {
    expect(() =>
      parseIdentityPolicy({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }],
      }),
    ).toThrow(/Principal is not allowed/);
    expect(() =>
      parseIdentityPolicy({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*' }] }),
    ).toThrow(MalformedPolicyDocumentError);
  });
});
