import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { fakeBundles, newApp, newStack, templateOf } from '../test/stack-fixture';
import {
  actionsOf,
  identityStatements,
  logicalIdsOf,
  onlyResource,
  statementsOfRole,
} from '../test/template-queries';
import { assertBundleDirectory } from './bundle-directories';
import { CertificateBucket } from './certificate-bucket';
import { CertificateProvisioner } from './certificate-provisioner';
import { DeviceCertificate } from './device-certificate';
import { isMissingBundleError } from './errors';

function provisionerStack() {
  const { app, stack } = newStack();
  const bucket = new CertificateBucket(stack, 'Credentials');
  const provisioner = CertificateProvisioner.forBucket(bucket, {
    code: fakeBundles().provisionerCode,
  });
  return { app, stack, bucket, provisioner };
}

const certificateArns = {
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':iot:',
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      ':cert/*',
    ],
  ],
};

// Over 150 lines on purpose: one describe per unit under test keeps every case's
// full name and its shared fixtures in one place; each `it` stays short.
describe('Class: CertificateProvisioner', () => {
  describe('Lambda', () => {
    it('runs index.handler on nodejs22.x, arm64, with a timeout for the deprovision wait', () => {
      const { stack } = provisionerStack();
      const template = templateOf(stack);
      template.hasResourceProperties('AWS::Lambda::Function', {
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        Timeout: 300,
        MemorySize: 512,
      });
    });

    it('logs to its own log group with a retention', () => {
      const { stack } = provisionerStack();
      const template = templateOf(stack);
      const [logGroupId] = onlyResource(template, 'AWS::Logs::LogGroup');
      template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
      template.hasResourceProperties('AWS::Lambda::Function', {
        LoggingConfig: { LogGroup: { Ref: logGroupId }, LogFormat: 'JSON' },
      });
    });

    it('is shared: forBucket returns the same provisioner for the same bucket', () => {
      const { stack, bucket, provisioner } = provisionerStack();
      expect(CertificateProvisioner.forBucket(bucket)).toBe(provisioner);
      new DeviceCertificate(stack, 'A', { provisioner, thingName: 'a' });
      new DeviceCertificate(stack, 'B', { provisioner, thingName: 'b' });
      templateOf(stack).resourceCountIs('AWS::Lambda::Function', 1);
    });

    it('fails if the timeout is outside 1 to 15 minutes', () => {
      const { stack } = newStack();
      const bucket = new CertificateBucket(stack, 'Credentials');
      const code = fakeBundles().provisionerCode;
      expect(
        () =>
          new CertificateProvisioner(stack, 'P1', { bucket, code, timeout: Duration.seconds(30) }),
      ).toThrow(/between 1 and 15 minutes/);
      expect(
        () =>
          new CertificateProvisioner(stack, 'P2', { bucket, code, timeout: Duration.minutes(16) }),
      ).toThrow(/between 1 and 15 minutes/);
    });
  });

  describe('IAM', () => {
    it('grants exactly the scoped statements, with * only for IoT calls that allow nothing else', () => {
      const { stack, provisioner } = provisionerStack();
      new DeviceCertificate(stack, 'Cert', { provisioner, thingName: 'dev-1' });
      const template = templateOf(stack);
      const roleId = logicalIdsOf(template, 'AWS::IAM::Role')[0]!;
      const [logGroupId] = onlyResource(template, 'AWS::Logs::LogGroup');
      const [keyId] = onlyResource(template, 'AWS::KMS::Key');
      const bucketId = logicalIdsOf(template, 'AWS::S3::Bucket').find((id) =>
        id.startsWith('CredentialsBucket'),
      )!;
      expect(statementsOfRole(template, roleId)).toEqual([
        {
          Sid: 'WriteOwnLogs',
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] },
        },
        {
          Sid: 'IotCallsWithoutResourceLevelPermissions',
          Effect: 'Allow',
          Action: [
            'iot:CreateKeysAndCertificate',
            'iot:CreateCertificateFromCsr',
            'iot:DescribeEndpoint',
            'iot:ListPrincipalThings',
            'iot:ListAttachedPolicies',
          ],
          Resource: '*',
        },
        {
          Sid: 'ManageCertificates',
          Effect: 'Allow',
          Action: [
            'iot:DescribeCertificate',
            'iot:UpdateCertificate',
            'iot:DeleteCertificate',
            'iot:DetachPolicy',
          ],
          Resource: certificateArns,
        },
        {
          Effect: 'Allow',
          Action: ['kms:Encrypt', 'kms:GenerateDataKey', 'kms:Decrypt'],
          Resource: { 'Fn::GetAtt': [keyId, 'Arn'] },
          Condition: {
            StringEquals: {
              'kms:ViaService': {
                'Fn::Join': ['', ['s3.', { Ref: 'AWS::Region' }, '.amazonaws.com']],
              },
            },
          },
        },
        {
          Effect: 'Allow',
          Action: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'],
          Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/dev-1/*']] },
        },
        {
          Effect: 'Allow',
          Action: 's3:ListBucket',
          Resource: { 'Fn::GetAtt': [bucketId, 'Arn'] },
          Condition: { StringLike: { 's3:prefix': ['dev-1/', 'dev-1/*'] } },
        },
      ]);
    });

    it('adds S3 access per thing prefix, once per prefix', () => {
      const { stack, provisioner } = provisionerStack();
      new DeviceCertificate(stack, 'A', { provisioner, thingName: 'a' });
      new DeviceCertificate(stack, 'B', { provisioner, thingName: 'b', keyPrefix: 'fleet/' });
      provisioner.allowThingPrefix('a/');
      const template = templateOf(stack);
      const roleId = logicalIdsOf(template, 'AWS::IAM::Role')[0]!;
      const listPrefixes = statementsOfRole(template, roleId)
        .filter((statement) => actionsOf(statement).includes('s3:ListBucket'))
        .map((statement) => statement.Condition?.['StringLike']?.['s3:prefix']);
      expect(listPrefixes).toEqual([
        ['a/', 'a/*'],
        ['fleet/b/', 'fleet/b/*'],
      ]);
    });

    it('has no wildcard action in any identity policy', () => {
      const { stack, provisioner } = provisionerStack();
      new DeviceCertificate(stack, 'Cert', { provisioner, thingName: 'dev-1' });
      const actions = identityStatements(templateOf(stack)).flatMap(actionsOf);
      expect(actions.length).toBeGreaterThan(0);
      expect(actions.filter((action) => action.includes('*'))).toEqual([]);
    });

    it('uses no managed policy', () => {
      const { stack } = provisionerStack();
      templateOf(stack).hasResourceProperties('AWS::IAM::Role', {
        ManagedPolicyArns: Match.absent(),
      });
    });

    it('fails for a prefix that is not a folder', () => {
      const { provisioner } = provisionerStack();
      expect(() => provisioner.allowThingPrefix('dev-1')).toThrow(/Not a thing prefix/);
      expect(() => provisioner.allowThingPrefix('/dev-1/')).toThrow(/Not a thing prefix/);
    });
  });

  describe('Bundle', () => {
    it('fails with the build command when a bundle directory is missing', () => {
      let thrown: unknown;
      try {
        assertBundleDirectory('/nonexistent/thingcert/lambda', 'Provisioner bundle', 'build it');
      } catch (error) {
        thrown = error;
      }
      expect(isMissingBundleError(thrown)).toBe(true);
      expect(String(thrown)).toContain('/nonexistent/thingcert/lambda');
      expect(String(thrown)).toContain('build it');
    });
  });
});

describe('cdk-nag', () => {
  it.each([
    ['an environment-agnostic stack', undefined],
    [
      'a stack with an explicit region and account',
      { region: 'eu-west-1', account: '123456789012' },
    ],
  ])('acknowledges exactly its scoped wildcards in %s', (_label, env) => {
    const app = newApp();
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const stack = new Stack(app, 'Test', { env });
    const bucket = new CertificateBucket(stack, 'Credentials');
    const provisioner = CertificateProvisioner.forBucket(bucket, {
      code: fakeBundles().provisionerCode,
    });
    new DeviceCertificate(stack, 'Cert', { provisioner, thingName: 'dev-1' });
    expect(() => app.synth()).not.toThrow();
  });
});
