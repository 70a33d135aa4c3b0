import { DEVICE_RUNNER_METADATA_KEY } from '@thingcert/contracts';
import { IoTClient } from '@aws-sdk/client-iot';
import { S3Client } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assetDirectory } from './cloud-assembly';
import { isResourceStepError } from './errors';
import { ProviderRegistry } from './provider-registry';
import { RecordingIam } from '../test/recording-iam';
import { testStackEnvironment } from '../test/stack-environment';

// No network: the clients are never used by the steps these tests take.
function registry(
  metadata: Record<string, Record<string, unknown>> = {},
  iam?: RecordingIam,
): {
  registry: ProviderRegistry;
  lines: string[];
} {
  const lines: string[] = [];
  const stack = testStackEnvironment(lines, {
    assetDir: (logicalId, s3Key) => assetDirectory(new Map(), logicalId, s3Key),
    metadataOf: (logicalId) => metadata[logicalId] ?? {},
  });
  const region = 'eu-west-1';
  return {
    registry: new ProviderRegistry({
      stack,
      iot: new IoTClient({ region }),
      s3: new S3Client({ region }),
      devicesRunOnce: true,
      iam,
    }),
    lines,
  };
}

async function failure(action: () => Promise<unknown>): Promise<unknown> {
  return action().then(
    () => undefined,
    (caught: unknown) => caught,
  );
}

describe('Class: ProviderRegistry', () => {
  describe('Method: providerFor', () => {
    it('sends Custom::* and AWS::CloudFormation::CustomResource to the custom-resource provider', () => {
      const { registry: providers } = registry();

      const custom = providers.providerFor('Custom::ThingcertDeviceCertificate');

      expect(providers.providerFor('AWS::CloudFormation::CustomResource')).toBe(custom);
      expect('update' in custom).toBe(true);
      expect(providers.providerFor('AWS::CloudFormation::CustomResourceX')).not.toBe(custom);
      expect(providers.providerFor('AWS::S3::Bucket')).not.toBe(custom);
    });

    it('gives a type it does not emulate ids and AWS-shaped attributes only', async () => {
      const { registry: providers } = registry();

      const role = await providers
        .providerFor('AWS::IAM::Role')
        .create({ logicalId: 'Role', type: 'AWS::IAM::Role', properties: {} });

      expect(role.skipped).toBe(true);
      expect(role.physicalId).toMatch(/^Thingcert-Role-[0-9A-F]{12}$/);
      // IAM is global: no region in its ARNs (what a provisioning template's role must look like).
      expect(role.attributes.Arn).toBe(`arn:aws:iam::000000000000:role/${role.physicalId}`);
      expect(role.attributes.RoleId).toBe(`${role.physicalId}-RoleId`);
    });
  });

  describe('with IAM enforced', () => {
    it('makes roles, policies, instance profiles, bucket policies and KMS keys, and gives instances their role', async () => {
      const iam = new RecordingIam();
      const { registry: providers } = registry({}, iam);

      for (const type of [
        'AWS::IAM::Role',
        'AWS::IAM::Policy',
        'AWS::IAM::ManagedPolicy',
        'AWS::IAM::InstanceProfile',
        'AWS::S3::BucketPolicy',
        'AWS::KMS::Key',
        'AWS::KMS::Alias',
      ]) {
        expect(providers.providerFor(type), type).not.toBe(providers.providerFor('AWS::EC2::VPC'));
      }
      const role = await providers.providerFor('AWS::IAM::Role').create({
        logicalId: 'Role',
        type: 'AWS::IAM::Role',
        properties: {
          AssumeRolePolicyDocument: {
            Statement: [
              {
                Effect: 'Allow',
                Principal: { Service: 'ec2.amazonaws.com' },
                Action: 'sts:AssumeRole',
              },
            ],
          },
        },
      });
      await providers.providerFor('AWS::IAM::InstanceProfile').create({
        logicalId: 'Profile',
        type: 'AWS::IAM::InstanceProfile',
        properties: { InstanceProfileName: 'profile', Roles: [role.physicalId] },
      });

      expect(role.skipped).toBeFalsy();
      expect(role.attributes.Arn).toBe(`arn:aws:iam::000000000000:role/${role.physicalId}`);
      expect(iam.roles.has(role.physicalId)).toBe(true);
      expect(providers.credentials.roleOf({ instanceProfile: 'profile' })).toBe(role.physicalId);
    });
  });

  describe('functions', () => {
    it('write inline ZipFile code to index.js, and remove it when deleted', async () => {
      const { registry: providers } = registry();
      const functions = providers.providerFor('AWS::Lambda::Function');
      const code = `exports.handler = async () => '${randomUUID()}';`;
      const properties = { Code: { ZipFile: code } };
      const inlineDirectories = () =>
        readdirSync(tmpdir())
          .filter((name) => name.startsWith('thingcert-inline-function-'))
          .map((name) => join(tmpdir(), name, 'index.js'))
          .filter((file) => existsSync(file) && readFileSync(file, 'utf8') === code);

      const made = await functions.create({
        logicalId: 'Inline',
        type: 'AWS::Lambda::Function',
        properties,
      });
      const written = inlineDirectories();
      await functions.delete({
        logicalId: 'Inline',
        type: 'AWS::Lambda::Function',
        physicalId: made.physicalId,
        attributes: made.attributes,
        properties,
        skipped: false,
      });

      expect(made.attributes.Arn).toBe(
        `arn:aws:lambda:eu-west-1:000000000000:function:${made.physicalId}`,
      );
      expect(written).toHaveLength(1);
      expect(inlineDirectories()).toEqual([]);
    });
  });

  describe('custom resources', () => {
    it('fail the step when the ServiceToken names no deployed function', async () => {
      const { registry: providers } = registry();
      const token = 'arn:aws:lambda:eu-west-1:000000000000:function:missing';

      const error = await failure(() =>
        providers.providerFor('Custom::X').create({
          logicalId: 'Certificate',
          type: 'Custom::X',
          properties: { ServiceToken: token },
        }),
      );

      expect(isResourceStepError(error)).toBe(true);
      expect(error).toMatchObject({ logicalId: 'Certificate', step: 'Create' });
      expect((error as Error).message).toContain(
        `ServiceToken ${token} is not a deployed function`,
      );
    });
  });

  describe('EC2 instances', () => {
    it('are created without a device when the metadata names no device runner', async () => {
      const { registry: providers, lines } = registry();

      const instance = await providers
        .providerFor('AWS::EC2::Instance')
        .create({ logicalId: 'Instance', type: 'AWS::EC2::Instance', properties: {} });

      expect(instance.physicalId).toMatch(/^i-[0-9a-f]{17}$/);
      expect(instance.attributes).toEqual({
        PrivateIp: '10.0.0.10',
        AvailabilityZone: 'eu-west-1a',
      });
      expect(providers.devices.size).toBe(0);
      expect(lines).toContain(
        `Instance: EC2 instance without ${DEVICE_RUNNER_METADATA_KEY} metadata: not booted`,
      );
    });

    it('fail the boot, naming the instance, when the runner bundle is not in the assembly', async () => {
      const { registry: providers } = registry({
        Instance: { [DEVICE_RUNNER_METADATA_KEY]: { config: {}, asset: { s3Key: 'gone.zip' } } },
      });

      const error = await failure(() =>
        providers
          .providerFor('AWS::EC2::Instance')
          .create({ logicalId: 'Instance', type: 'AWS::EC2::Instance', properties: {} }),
      );

      expect(isResourceStepError(error)).toBe(true);
      expect(error).toMatchObject({ logicalId: 'Instance', step: 'find asset' });
      expect(providers.devices.size).toBe(0);
    });
  });
});
