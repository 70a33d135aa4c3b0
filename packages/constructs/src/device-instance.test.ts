import { DEVICE_CERTIFICATE_RESOURCE_TYPE, DEVICE_RUNNER_METADATA_KEY } from '@thingcert/contracts';
import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { describe, expect, it } from 'vitest';
import { fakeBundles, newStack, publicVpc, templateOf } from '../test/stack-fixture';
import {
  dependsOnOf,
  logicalIdsOf,
  onlyResource,
  resolveExpression,
  resourcesOf,
  statementsOfRole,
} from '../test/template-queries';
import { CertificateBucket } from './certificate-bucket';
import { CertificateProvisioner } from './certificate-provisioner';
import { DeviceInstance, type DeviceInstanceProps } from './device-instance';
import { IotDevice } from './iot-device';

function setup(props: Partial<DeviceInstanceProps> = {}, keyPrefix?: string) {
  const { stack } = newStack();
  const bundles = fakeBundles();
  const bucket = new CertificateBucket(stack, 'Credentials');
  const provisioner = CertificateProvisioner.forBucket(bucket, { code: bundles.provisionerCode });
  const device = new IotDevice(stack, 'Device', {
    thingName: 'dev-1',
    topics: ['test/topic', 'other/topic'],
    provisioner,
    keyPrefix,
  });
  const vpc = publicVpc(stack);
  const instance = new DeviceInstance(stack, 'Runner', {
    device,
    vpc,
    runnerBundleDirectory: bundles.runnerBundleDirectory,
    ...props,
  });
  const template = templateOf(stack);
  const [instanceId, resource] = onlyResource(template, 'AWS::EC2::Instance');
  return { stack, template, instance, instanceId, resource };
}

function userDataOf(resource: { Properties?: Record<string, unknown> }): string {
  const join = (
    resource.Properties?.['UserData'] as { 'Fn::Base64': { 'Fn::Join': [string, unknown[]] } }
  )['Fn::Base64']['Fn::Join'][1];
  return join.map((part) => (typeof part === 'string' ? part : JSON.stringify(part))).join('');
}

// Over 150 lines on purpose: one describe per unit under test keeps every case's
// full name and its shared fixtures in one place; each `it` stays short.
describe('Class: DeviceInstance', () => {
  describe('Security properties', () => {
    const { template, instanceId, resource } = setup();

    it('requires IMDSv2 through its launch template', () => {
      const [templateId, launchTemplate] = onlyResource(template, 'AWS::EC2::LaunchTemplate');
      expect(launchTemplate.Properties?.['LaunchTemplateData']).toEqual({
        MetadataOptions: { HttpTokens: 'required' },
      });
      expect(resource.Properties?.['LaunchTemplate']).toMatchObject({
        Version: { 'Fn::GetAtt': [templateId, 'LatestVersionNumber'] },
      });
    });

    it('has an encrypted gp3 root volume', () => {
      expect(resource.Properties?.['BlockDeviceMappings']).toEqual([
        {
          DeviceName: '/dev/xvda',
          Ebs: { DeleteOnTermination: true, Encrypted: true, VolumeSize: 8, VolumeType: 'gp3' },
        },
      ]);
    });

    it('has no key pair and a security group without ingress', () => {
      expect(resource.Properties?.['KeyName']).toBeUndefined();
      const [, group] = onlyResource(template, 'AWS::EC2::SecurityGroup');
      expect(group.Properties?.['SecurityGroupIngress']).toBeUndefined();
      expect(logicalIdsOf(template, 'AWS::EC2::SecurityGroupIngress')).toEqual([]);
      expect(group.Properties?.['SecurityGroupEgress']).toEqual([
        expect.objectContaining({
          IpProtocol: 'tcp',
          FromPort: 443,
          ToPort: 443,
          CidrIp: '0.0.0.0/0',
        }),
        expect.objectContaining({
          IpProtocol: 'tcp',
          FromPort: 8883,
          ToPort: 8883,
          CidrIp: '0.0.0.0/0',
        }),
      ]);
    });

    it('runs Amazon Linux 2023 arm64 on t4g.micro', () => {
      expect(resource.Properties?.['InstanceType']).toBe('t4g.micro');
      const parameters = Object.keys(
        (template.toJSON() as { Parameters: Record<string, unknown> }).Parameters,
      );
      expect(parameters.some((name) => /al2023.*arm64/i.test(name))).toBe(true);
    });

    it('lets SSM Session Manager in through the AWS core policy', () => {
      const roleId = logicalIdsOf(template, 'AWS::IAM::Role').find((id) =>
        id.startsWith('Runner'),
      )!;
      expect(resourcesOf(template)[roleId]!.Properties?.['ManagedPolicyArns']).toEqual([
        {
          'Fn::Join': [
            '',
            ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AmazonSSMManagedInstanceCore'],
          ],
        },
      ]);
    });

    it('lets the role read only its own pointer and certificate folders, and the runner bundle', () => {
      const roleId = logicalIdsOf(template, 'AWS::IAM::Role').find((id) =>
        id.startsWith('Runner'),
      )!;
      const statements = statementsOfRole(template, roleId);
      expect(statements.map((s) => s.Action)).toEqual([
        's3:GetObject',
        'kms:Decrypt',
        's3:GetObject',
      ]);
      const bucketId = logicalIdsOf(template, 'AWS::S3::Bucket').find((id) =>
        id.startsWith('CredentialsBucket'),
      )!;
      const objects = (statements[0]!.Resource as unknown[]).map((arn) =>
        resolveExpression(arn, { partition: 'aws', region: 'r', accountId: 'a' }),
      );
      expect(objects).toEqual([
        `<${bucketId}.Arn>/dev-1/current.json`,
        `<${bucketId}.Arn>/dev-1/certificates/*`,
      ]);
      expect(JSON.stringify(statements[2]!.Resource)).toMatch(/cdk-hnb659fds-assets-.*\.zip/);
    });

    it('is created after, and deleted before, the attachments it needs to connect', () => {
      const attachments = [
        ...logicalIdsOf(template, 'AWS::IoT::PolicyPrincipalAttachment'),
        ...logicalIdsOf(template, 'AWS::IoT::ThingPrincipalAttachment'),
      ];
      expect(dependsOnOf(template, instanceId)).toEqual(expect.arrayContaining(attachments));
    });
  });

  describe('Device runner', () => {
    const { template, resource } = setup({ messageCount: 7, message: 'hi', topic: 'other/topic' });
    const [bucketId] = logicalIdsOf(template, 'AWS::S3::Bucket').filter((id) =>
      id.startsWith('CredentialsBucket'),
    );
    const [certId] = onlyResource(template, DEVICE_CERTIFICATE_RESOURCE_TYPE);
    const expectedConfig = {
      bucket: { Ref: bucketId },
      thing: 'dev-1',
      credentialPointerObjectKey: 'dev-1/current.json',
      endpoint: { 'Fn::GetAtt': [certId, 'IoTEndpoint'] },
      topic: 'other/topic',
      count: 7,
      message: 'hi',
      protocol: 'mqtt3', // DEFAULT_DEVICE_RUNNER_PROTOCOL
      region: { Ref: 'AWS::Region' },
      forever: true,
    };

    it('writes the device check interval its switch window is sized from, and nothing when it is the default', () => {
      expect(setup().instance.runnerConfig.credentialCheckInterval).toBeUndefined();
      const { stack } = newStack();
      const bundles = fakeBundles();
      const provisioner = CertificateProvisioner.forBucket(
        new CertificateBucket(stack, 'Credentials'),
        { code: bundles.provisionerCode },
      );
      const device = new IotDevice(stack, 'Device', {
        thingName: 'dev-1',
        topics: ['test/topic'],
        provisioner,
        credentialCheckInterval: Duration.seconds(2),
      });
      const instance = new DeviceInstance(stack, 'Runner', {
        device,
        vpc: publicVpc(stack),
        runnerBundleDirectory: bundles.runnerBundleDirectory,
      });
      expect(instance.runnerConfig.credentialCheckInterval).toBe(2000);
    });

    it('records the runner configuration and bundle in the instance metadata', () => {
      const metadata = resource.Metadata?.[DEVICE_RUNNER_METADATA_KEY] as Record<string, unknown>;
      expect(metadata['config']).toEqual(expectedConfig);
      const asset = metadata['asset'] as { s3Bucket: unknown; s3Key: string };
      expect(asset.s3Bucket).toEqual({
        'Fn::Sub': 'cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}',
      });
      expect(asset.s3Key).toMatch(/^[0-9a-f]{64}\.zip$/);
    });

    it('installs Node.js 22, fetches the bundle, writes the same config and starts the service', () => {
      const script = userDataOf(resource);
      const steps = [
        'set -euo pipefail',
        "aws s3 cp 's3://",
        'dnf install -y nodejs22 unzip',
        'alternatives --set node /usr/bin/node-22',
        'unzip -q /tmp/thingcert-device-runner.zip -d /opt/thingcert/device-runner',
        "cat > /etc/thingcert/device-runner.json <<'THINGCERT_CONFIG'",
        'install -m 0644 /opt/thingcert/device-runner/thingcert-device-runner.service /etc/systemd/system/thingcert-device-runner.service',
        "cat > /etc/systemd/system/thingcert-device-runner.service.d/restart.conf <<'THINGCERT_RESTART'",
        'systemctl daemon-reload',
        'systemctl enable --now thingcert-device-runner.service',
      ];
      let cursor = 0;
      for (const step of steps) {
        const at = script.indexOf(step, cursor);
        expect(at, step).toBeGreaterThanOrEqual(cursor);
        cursor = at;
      }
      const join = (
        resource.Properties?.['UserData'] as { 'Fn::Base64': { 'Fn::Join': [string, unknown[]] } }
      )['Fn::Base64']['Fn::Join'][1];
      expect(join).toEqual(
        expect.arrayContaining([{ Ref: bucketId }, { 'Fn::GetAtt': [certId, 'IoTEndpoint'] }]),
      );
      expect(script).toContain('"thing":"dev-1"');
      expect(script).toContain('"count":7');
      expect(script).toContain('"forever":true');
    });

    it('replaces the instance when the user data changes', () => {
      const a = setup({ message: 'one' }).instanceId;
      const b = setup({ message: 'two' }).instanceId;
      expect(a).not.toBe(b);
    });

    it('restarts a failed runner after a delay, with no start limit to give up on', () => {
      const script = userDataOf(resource);
      const dropIn = /<<'THINGCERT_RESTART'\n([\s\S]*?)\nTHINGCERT_RESTART/.exec(script)?.[1];
      expect(dropIn?.split('\n')).toEqual([
        '[Unit]',
        'StartLimitIntervalSec=0',
        '[Service]',
        'Restart=on-failure',
        'RestartSec=15',
      ]);
      // AL2023's systemd (252) does not know the backoff directives of 254+.
      expect(dropIn).not.toMatch(/RestartSteps|RestartMaxDelaySec/);
      expect(script.indexOf('restart.conf')).toBeLessThan(
        script.indexOf('systemctl daemon-reload'),
      );
    });
  });

  describe('Props', () => {
    it('picks the x86_64 image for an x86 instance type', () => {
      const { template } = setup({ instanceType: new ec2.InstanceType('t3.micro') });
      const parameters = Object.keys(
        (template.toJSON() as { Parameters: Record<string, unknown> }).Parameters,
      );
      expect(parameters.some((name) => /al2023.*x8664/i.test(name))).toBe(true);
      expect(parameters.some((name) => /arm64/i.test(name))).toBe(false);
    });

    it('writes port 443 and opens only 443 when asked', () => {
      const { template, resource } = setup({ port: 443 });
      expect(
        (resource.Metadata?.[DEVICE_RUNNER_METADATA_KEY] as { config: { port: number } }).config
          .port,
      ).toBe(443);
      const [, group] = onlyResource(template, 'AWS::EC2::SecurityGroup');
      expect(group.Properties?.['SecurityGroupEgress']).toHaveLength(1);
    });

    it.each<[string, Partial<DeviceInstanceProps>, RegExp]>([
      [
        'fails if the topic is not one of the device topics',
        { topic: 'elsewhere' },
        /not one of the device's topics/,
      ],
      ['fails if the topic is invalid', { topic: 'test/#' }, /MQTT wildcard/],
      ['fails if the message count is zero', { messageCount: 0 }, /messageCount/],
      ['fails if the message count is fractional', { messageCount: 1.5 }, /messageCount/],
      ['fails if the message is empty', { message: '' }, /128 KiB/],
      ['fails if the port is not an IoT port', { port: 1883 }, /8883 or 443/],
      ['fails if the root volume is too small', { rootVolumeSizeGiB: 4 }, /at least 8/],
      ['fails if the interval is negative', { messageIntervalMs: -1 }, /messageIntervalMs/],
      [
        'fails if the runner bundle is missing',
        { runnerBundleDirectory: '/nonexistent/thingcert/bundle' },
        /device-runner:build/,
      ],
    ])('%s', (_label, props, message) => {
      expect(() => setup(props)).toThrow(message);
    });
  });

  describe('With a key prefix', () => {
    const { template, resource } = setup({}, 'fleet/a/');
    const [certId] = onlyResource(template, DEVICE_CERTIFICATE_RESOURCE_TYPE);
    const returned = (attribute: string) => ({ 'Fn::GetAtt': [certId, attribute] });

    it("tells the runner the thing's pointer under the prefix, as a literal in its user data", () => {
      template.hasResourceProperties(DEVICE_CERTIFICATE_RESOURCE_TYPE, { KeyPrefix: 'fleet/a/' });
      template.hasResource('AWS::EC2::Instance', {
        Metadata: {
          [DEVICE_RUNNER_METADATA_KEY]: {
            config: Match.objectLike({
              thing: 'dev-1',
              credentialPointerObjectKey: 'fleet/a/dev-1/current.json',
            }),
          },
        },
      });
      expect(userDataOf(resource)).toContain(
        '"credentialPointerObjectKey":"fleet/a/dev-1/current.json"',
      );
      expect(JSON.stringify(resource.Properties?.['UserData'])).not.toContain(
        JSON.stringify(returned('CredentialPointerObjectKey')),
      );
      const metadata = JSON.stringify(resource.Metadata);
      expect(metadata).not.toContain('CertificateObjectKey');
      expect(metadata).not.toContain('PrivateKeyObjectKey');
    });

    it('is a new instance (new logical id) when the prefix changes, so it boots on the new pointer', () => {
      expect(setup({}, 'fleet/b/').instanceId).not.toBe(setup({}, 'fleet/a/').instanceId);
      expect(setup({}, 'fleet/a/').instanceId).toBe(setup({}, 'fleet/a/').instanceId);
    });

    it("lets the role read exactly that thing's pointer and certificate folders", () => {
      const roleId = logicalIdsOf(template, 'AWS::IAM::Role').find((id) =>
        id.startsWith('Runner'),
      )!;
      const [credentials] = statementsOfRole(template, roleId);
      expect(credentials!.Action).toBe('s3:GetObject');
      const objects = (credentials!.Resource as unknown[]).map((arn) =>
        resolveExpression(arn, { partition: 'aws', region: 'r', accountId: 'a' }).replace(
          /^<[^>]+>\//,
          '',
        ),
      );
      expect(objects).toEqual(['fleet/a/dev-1/current.json', 'fleet/a/dev-1/certificates/*']);
    });
  });

  describe('Rotation', () => {
    function deployed(rotationToken: string) {
      const { stack } = newStack();
      const bundles = fakeBundles();
      const bucket = new CertificateBucket(stack, 'Credentials');
      const provisioner = CertificateProvisioner.forBucket(bucket, {
        code: bundles.provisionerCode,
      });
      const device = new IotDevice(stack, 'Device', {
        thingName: 'dev-1',
        topics: ['test/topic'],
        provisioner,
        rotationToken,
      });
      new DeviceInstance(stack, 'Runner', {
        device,
        vpc: publicVpc(stack),
        runnerBundleDirectory: bundles.runnerBundleDirectory,
      });
      const template = templateOf(stack);
      const roleId = logicalIdsOf(template, 'AWS::IAM::Role').find((id) =>
        id.startsWith('Runner'),
      )!;
      return { template, instance: onlyResource(template, 'AWS::EC2::Instance'), roleId };
    }

    it('changes neither the instance, its user data and metadata, nor its role', () => {
      const before = deployed('2026-01');
      const after = deployed('2026-02');

      after.template.hasResourceProperties(DEVICE_CERTIFICATE_RESOURCE_TYPE, {
        RotationToken: '2026-02',
      });
      expect(after.instance[0]).toBe(before.instance[0]);
      expect(after.instance[1]).toEqual(before.instance[1]);
      expect(statementsOfRole(after.template, after.roleId)).toEqual(
        statementsOfRole(before.template, before.roleId),
      );
    });
  });
});
