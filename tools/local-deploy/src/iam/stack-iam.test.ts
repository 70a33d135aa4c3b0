import { describe, expect, it } from 'vitest';
import { RecordingIam } from '../../test/recording-iam';
import { StackIam, type RoleDeclaration } from './stack-iam';

const LAMBDA_TRUST = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
  ],
};

function allow(action: string, resource = '*') {
  return {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: action, Resource: resource }],
  };
}

function role(overrides: Partial<RoleDeclaration> = {}): RoleDeclaration {
  return {
    path: '/',
    inline: new Map(),
    managedPolicyArns: [],
    trustPolicy: LAMBDA_TRUST,
    ...overrides,
  };
}

function fixture() {
  const iam = new RecordingIam();
  const lines: string[] = [];
  return { iam, lines, stackIam: new StackIam(iam, (line) => lines.push(line)) };
}

describe('Class: StackIam', () => {
  describe('Method: putRole', () => {
    it('gives a role its inline policies, its AWS::IAM::Policy resources and its managed policies', async () => {
      const { iam, stackIam } = fixture();
      const managedArn = 'arn:aws:iam::000000000000:policy/Stack-Managed-ABC';
      await stackIam.putRole('r', role({ inline: new Map([['Own', allow('s3:ListBucket')]]) }));
      await stackIam.putAttachment(managedArn, {
        kind: 'managed',
        name: 'Stack-Managed-ABC',
        document: allow('iot:DescribeThing'),
        roles: [],
      });

      await stackIam.putRole(
        'r',
        role({
          inline: new Map([['Own', allow('s3:ListBucket')]]),
          managedPolicyArns: [
            managedArn,
            'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
          ],
        }),
      );
      await stackIam.putAttachment('policy-1', {
        kind: 'inline',
        name: 'DefaultPolicy',
        document: allow('s3:GetObject'),
        roles: ['r'],
      });

      expect(Object.keys(iam.roles.get('r')!.policies).sort()).toEqual([
        'DefaultPolicy',
        'Own',
        'managed@AWSLambdaBasicExecutionRole',
        'managed@Stack-Managed-ABC',
      ]);
      expect(iam.roles.get('r')!.policies['managed@Stack-Managed-ABC']).toEqual(
        allow('iot:DescribeThing'),
      );
    });

    it('grants nothing for a managed policy it does not know, and says so once', async () => {
      const { iam, lines, stackIam } = fixture();
      const unknown = 'arn:aws:iam::aws:policy/AmazonS3FullAccess';

      await stackIam.putRole('a', role({ managedPolicyArns: [unknown] }));
      await stackIam.putRole('b', role({ managedPolicyArns: [unknown] }));

      expect(iam.roles.get('a')!.policies).toEqual({});
      expect(lines).toEqual([
        `managed policy ${unknown} is not known locally: it grants nothing here`,
      ]);
    });
  });

  describe('Method: putAttachment', () => {
    it('takes a policy off the roles it no longer names, and puts its new document on the others', async () => {
      const { iam, stackIam } = fixture();
      await stackIam.putRole('a', role());
      await stackIam.putRole('b', role());
      await stackIam.putAttachment('p', {
        kind: 'inline',
        name: 'Shared',
        document: allow('s3:GetObject', 'arn:aws:s3:::bucket/a/*'),
        roles: ['a', 'b'],
      });

      await stackIam.putAttachment('p', {
        kind: 'inline',
        name: 'Shared',
        document: allow('s3:GetObject', 'arn:aws:s3:::bucket/b/*'),
        roles: ['b'],
      });

      expect(iam.roles.get('a')!.policies).toEqual({});
      expect(iam.roles.get('b')!.policies).toEqual({
        Shared: allow('s3:GetObject', 'arn:aws:s3:::bucket/b/*'),
      });
    });

    it('refuses a role the stack does not hold (NoSuchEntity) and changes nothing', async () => {
      const { iam, stackIam } = fixture();
      await stackIam.putRole('a', role());

      await expect(
        stackIam.putAttachment('p', {
          kind: 'inline',
          name: 'P',
          document: allow('s3:GetObject'),
          roles: ['a', 'missing'],
        }),
      ).rejects.toThrow('NoSuchEntity: The role with name missing cannot be found.');
      expect(iam.roles.get('a')!.policies).toEqual({});
    });
  });

  describe('Method: deleteAttachment', () => {
    it('takes the policy off every role, those naming it in ManagedPolicyArns included', async () => {
      const { iam, stackIam } = fixture();
      const arn = 'arn:aws:iam::000000000000:policy/M';
      await stackIam.putAttachment(arn, {
        kind: 'managed',
        name: 'M',
        document: allow('s3:GetObject'),
        roles: [],
      });
      await stackIam.putRole('a', role({ managedPolicyArns: [arn] }));

      await stackIam.deleteAttachment(arn);

      expect(iam.roles.get('a')!.policies).toEqual({});
    });
  });

  describe('Method: trusts', () => {
    it('answers whether the trust policy lets a service assume the role', async () => {
      const { stackIam } = fixture();
      await stackIam.putRole('fn', role());

      expect(stackIam.trusts('fn', 'lambda.amazonaws.com')).toBe(true);
      expect(stackIam.trusts('fn', 'ec2.amazonaws.com')).toBe(false);
      expect(stackIam.trusts('unknown', 'lambda.amazonaws.com')).toBe(false);
    });
  });

  describe('Method: putInstanceProfile', () => {
    it('holds one role, as AWS allows one per instance profile', async () => {
      const { stackIam } = fixture();
      await stackIam.putRole('a', role());
      await stackIam.putRole('b', role());

      expect(() => stackIam.putInstanceProfile('profile', ['a', 'b'])).toThrow(/LimitExceeded/);
      stackIam.putInstanceProfile('profile', ['a']);

      expect(stackIam.roleOfInstanceProfile('profile')).toBe('a');
    });
  });
});
