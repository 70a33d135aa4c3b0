import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { newStack, templateOf } from '../test/stack-fixture';
import { logicalIdsOf, resourcesOf, statementsOfRole } from '../test/template-queries';
import { CertificateBucket } from './certificate-bucket';

function credentialsBucketId(template: ReturnType<typeof templateOf>): string {
  const id = logicalIdsOf(template, 'AWS::S3::Bucket').find((logicalId) =>
    logicalId.startsWith('CredentialsBucket'),
  );
  if (!id) throw new Error('no credentials bucket');
  return id;
}

// Over 150 lines on purpose: one describe per unit under test keeps every case's
// full name and its shared fixtures in one place; each `it` stays short.
describe('Class: CertificateBucket', () => {
  describe('Security properties', () => {
    const { stack } = newStack();
    new CertificateBucket(stack, 'Credentials');
    const template = templateOf(stack);
    const bucketId = credentialsBucketId(template);
    const bucket = resourcesOf(template)[bucketId]!;

    it('encrypts with SSE-KMS under its own key, with an S3 bucket key', () => {
      const keyId = logicalIdsOf(template, 'AWS::KMS::Key')[0];
      expect(bucket.Properties?.['BucketEncryption']).toEqual({
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] },
            },
          },
        ],
      });
    });

    it('rotates the key', () => {
      template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    });

    it('blocks all public access and enforces bucket-owner ownership', () => {
      expect(bucket.Properties?.['PublicAccessBlockConfiguration']).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(bucket.Properties?.['OwnershipControls']).toEqual({
        Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }],
      });
    });

    it('is versioned and expires old versions after a day', () => {
      expect(bucket.Properties?.['VersioningConfiguration']).toEqual({ Status: 'Enabled' });
      expect(bucket.Properties?.['LifecycleConfiguration']).toEqual({
        Rules: [
          expect.objectContaining({
            NoncurrentVersionExpiration: { NoncurrentDays: 1 },
            ExpiredObjectDeleteMarker: true,
            Status: 'Enabled',
          }),
        ],
      });
    });

    it('denies every request without TLS', () => {
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: bucketId },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 's3:*',
              Principal: { AWS: '*' },
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    });

    it('writes server access logs to a private log bucket via bucket policy', () => {
      const logsId = logicalIdsOf(template, 'AWS::S3::Bucket').find((id) => id !== bucketId)!;
      expect(bucket.Properties?.['LoggingConfiguration']).toEqual({
        DestinationBucketName: { Ref: logsId },
        LogFilePrefix: 'certificate-bucket/',
      });
      const logs = resourcesOf(template)[logsId]!;
      expect(logs.Properties?.['AccessControl']).toBeUndefined();
      expect(logs.Properties?.['OwnershipControls']).toEqual({
        Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }],
      });
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: logsId },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Allow',
              Action: 's3:PutObject',
              Principal: { Service: 'logging.s3.amazonaws.com' },
            }),
          ]),
        },
      });
    });

    it('retains bucket and key by default', () => {
      template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain' });
      template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain' });
      expect(resourcesOf(template)[bucketId]).toMatchObject({ DeletionPolicy: 'Retain' });
    });
  });

  describe('Props', () => {
    it('applies an explicit removal policy to bucket and key', () => {
      const { stack } = newStack();
      new CertificateBucket(stack, 'Credentials', { removalPolicy: RemovalPolicy.DESTROY });
      const template = templateOf(stack);
      expect(resourcesOf(template)[credentialsBucketId(template)]).toMatchObject({
        DeletionPolicy: 'Delete',
      });
      template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Delete' });
    });

    it('uses a given key and log bucket', () => {
      const { stack } = newStack();
      const key = new kms.Key(stack, 'MyKey', { enableKeyRotation: true });
      const logs = new s3.Bucket(stack, 'MyLogs');
      const credentials = new CertificateBucket(stack, 'Credentials', {
        encryptionKey: key,
        serverAccessLogsBucket: logs,
        serverAccessLogsPrefix: 'creds/',
      });
      expect(credentials.encryptionKey).toBe(key);
      const template = templateOf(stack);
      template.resourceCountIs('AWS::KMS::Key', 1);
      template.resourceCountIs('AWS::S3::Bucket', 2);
      template.hasResourceProperties('AWS::S3::Bucket', {
        LoggingConfiguration: { LogFilePrefix: 'creds/' },
      });
    });

    it('can turn server access logs off', () => {
      const { stack } = newStack();
      const credentials = new CertificateBucket(stack, 'Credentials', { serverAccessLogs: false });
      expect(credentials.accessLogsBucket).toBeUndefined();
      const template = templateOf(stack);
      template.resourceCountIs('AWS::S3::Bucket', 1);
      template.hasResourceProperties('AWS::S3::Bucket', {
        LoggingConfiguration: Match.absent(),
      });
    });

    it('fails if a log bucket is given while logging is off', () => {
      const { stack } = newStack();
      const logs = new s3.Bucket(stack, 'MyLogs');
      expect(
        () =>
          new CertificateBucket(stack, 'Credentials', {
            serverAccessLogs: false,
            serverAccessLogsBucket: logs,
          }),
      ).toThrow(/serverAccessLogs is false/);
    });

    it('fails if old versions would expire in less than a day', () => {
      const { stack } = newStack();
      expect(
        () =>
          new CertificateBucket(stack, 'Credentials', {
            noncurrentVersionExpiration: Duration.hours(1),
          }),
      ).toThrow(/at least one day/);
    });
  });

  describe('Method: grantReadObjects', () => {
    it('grants GetObject on exactly the keys and Decrypt through S3 only', () => {
      const { stack } = newStack();
      const credentials = new CertificateBucket(stack, 'Credentials');
      const role = new iam.Role(stack, 'Reader', {
        assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      });
      credentials.grantReadObjects(role, ['dev-1/device.pem.crt', 'dev-1/private.pem.key']);
      const template = templateOf(stack);
      const bucketId = credentialsBucketId(template);
      const keyId = logicalIdsOf(template, 'AWS::KMS::Key')[0]!;
      const roleId = logicalIdsOf(template, 'AWS::IAM::Role')[0]!;
      expect(statementsOfRole(template, roleId)).toEqual([
        {
          Effect: 'Allow',
          Action: 's3:GetObject',
          Resource: [
            { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/dev-1/device.pem.crt']] },
            { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/dev-1/private.pem.key']] },
          ],
        },
        {
          Effect: 'Allow',
          Action: 'kms:Decrypt',
          Resource: { 'Fn::GetAtt': [keyId, 'Arn'] },
          Condition: {
            StringEquals: {
              'kms:ViaService': {
                'Fn::Join': ['', ['s3.', { Ref: 'AWS::Region' }, '.amazonaws.com']],
              },
            },
          },
        },
      ]);
    });

    it('fails for an empty key list', () => {
      const { stack } = newStack();
      const credentials = new CertificateBucket(stack, 'Credentials');
      const role = new iam.Role(stack, 'Reader', {
        assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      });
      expect(() => credentials.grantReadObjects(role, [])).toThrow(/at least one object key/);
    });

    it('fails for a wildcard KMS action', () => {
      const { stack } = newStack();
      const credentials = new CertificateBucket(stack, 'Credentials');
      const role = new iam.Role(stack, 'Reader', {
        assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      });
      expect(() => credentials.grantKeyUse(role, ['kms:GenerateDataKey*'])).toThrow(
        /single KMS action/,
      );
    });
  });
});
