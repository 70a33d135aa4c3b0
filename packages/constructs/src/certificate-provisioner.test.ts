import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { fakeBundles, newApp, newStack, templateOf } from '../test/stack-fixture';
import {
  actionsOf,
  allows,
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
          Sid: 'ManageCredentialObjects',
          Effect: 'Allow',
          Action: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'],
          Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/*']] },
        },
        {
          Sid: 'ListCredentialObjects',
          Effect: 'Allow',
          Action: 's3:ListBucket',
          Resource: { 'Fn::GetAtt': [bucketId, 'Arn'] },
        },
      ]);
    });

    it('grants the same statements whatever devices the stack has', () => {
      const statementsWith = (things: Array<[string, string?]>) => {
        const { stack, provisioner } = provisionerStack();
        for (const [thingName, keyPrefix] of things) {
          new DeviceCertificate(stack, `Cert${thingName}`, { provisioner, thingName, keyPrefix });
        }
        const template = templateOf(stack);
        return statementsOfRole(template, logicalIdsOf(template, 'AWS::IAM::Role')[0]!);
      };
      const one = statementsWith([['a']]);
      expect(statementsWith([['a'], ['b', 'fleet/']])).toEqual(one);
      expect(statementsWith([['c', 'other/']])).toEqual(one);
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

describe('IAM across stack updates', () => {
  const pseudo = { partition: 'aws', region: 'eu-west-1', accountId: '123456789012' };
  const ID = 'c'.repeat(64);

  interface Device {
    readonly id: string;
    readonly thingName: string;
    readonly keyPrefix?: string;
  }

  /** The provisioner role's statements of a stack with these devices. */
  function provisionerStatements(devices: readonly Device[]) {
    const { stack, provisioner } = provisionerStack();
    for (const { id, thingName, keyPrefix } of devices) {
      new DeviceCertificate(stack, id, { provisioner, thingName, keyPrefix });
    }
    const template = templateOf(stack);
    const bucketId = logicalIdsOf(template, 'AWS::S3::Bucket').find((id) =>
      id.startsWith('CredentialsBucket'),
    )!;
    const roleId = logicalIdsOf(template, 'AWS::IAM::Role')[0]!;
    return { statements: statementsOfRole(template, roleId), bucketArn: `<${bucketId}.Arn>` };
  }

  /** Every call the Delete of a certificate in `folder` makes, as [action, resource]. */
  function deleteCalls(folder: string, bucketArn: string): Array<[string, string]> {
    const objects = [
      `${folder}current.json`,
      `${folder}certificates/${ID}/private.pem.key`,
      `${folder}.thingcert/certificates/${ID}.json`,
      `${folder}.thingcert/requests/0123.json`,
      `${folder}device.pem.crt`,
    ];
    return [
      ['s3:ListBucket', bucketArn],
      ...objects.flatMap((key): Array<[string, string]> => [
        ['s3:GetObject', `${bucketArn}/${key}`],
        ['s3:PutObject', `${bucketArn}/${key}`],
        ['s3:DeleteObject', `${bucketArn}/${key}`],
      ]),
      ['iot:DescribeCertificate', `arn:aws:iot:eu-west-1:123456789012:cert/${ID}`],
      ['iot:UpdateCertificate', `arn:aws:iot:eu-west-1:123456789012:cert/${ID}`],
      ['iot:DeleteCertificate', `arn:aws:iot:eu-west-1:123456789012:cert/${ID}`],
      ['iot:ListPrincipalThings', '*'],
    ];
  }

  const before: Device[] = [
    { id: 'Sensor1', thingName: 'dev-1' },
    { id: 'Sensor2', thingName: 'dev-2' },
  ];
  // CloudFormation updates IAM in the update phase and deletes the old
  // certificate resource in cleanup, after it: the new template's IAM must
  // still authorise that Delete.
  it.each<[string, Device[]]>([
    ['a device is removed', [before[1]!]],
    ['a device is renamed', [{ id: 'Sensor1', thingName: 'dev-1b' }, before[1]!]],
    [
      'its keyPrefix changes',
      [{ id: 'Sensor1', thingName: 'dev-1', keyPrefix: 'fleet/' }, before[1]!],
    ],
    ['its construct id changes', [{ id: 'Sensor1b', thingName: 'dev-1' }, before[1]!]],
  ])("authorises the old resource's Delete in cleanup when %s", (_label, after) => {
    const old = provisionerStatements(before);
    const updated = provisionerStatements(after);

    expect(updated.statements).toEqual(old.statements);
    for (const [action, resource] of deleteCalls('dev-1/', updated.bucketArn)) {
      expect(allows(updated.statements, action, resource, pseudo), `${action} ${resource}`).toBe(
        true,
      );
    }
  });

  it('grants nothing outside the credentials bucket, its key and the account certificates', () => {
    const { statements, bucketArn } = provisionerStatements(before);
    expect(allows(statements, 's3:GetObject', '<OtherBucket.Arn>/dev-1/current.json', pseudo)).toBe(
      false,
    );
    expect(
      allows(
        statements,
        'iot:DeleteCertificate',
        'arn:aws:iot:eu-west-1:123456789012:thing/dev-1',
        pseudo,
      ),
    ).toBe(false);
    expect(allows(statements, 's3:DeleteBucket', bucketArn, pseudo)).toBe(false);
  });
});
