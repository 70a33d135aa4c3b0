import {
  CREDENTIAL_SWITCH_WINDOW_RESOURCE_TYPE,
  credentialSwitchWindowSeconds,
  DEFAULT_CREDENTIAL_CHECK_INTERVAL_MS,
  DEVICE_CERTIFICATE_RESOURCE_TYPE,
} from '@thingcert/contracts';
import { Duration } from 'aws-cdk-lib';
import { evaluatePolicies, iotResourceArn } from '@thingcert/local-cloud';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { fakeBundles, newStack, templateOf } from '../test/stack-fixture';
import {
  dependsOnOf,
  onlyResource,
  resolveExpression,
  resourcesOf,
  statementsOfRole,
  type PseudoParameters,
  type TemplateStatement,
} from '../test/template-queries';
import { CertificateBucket } from './certificate-bucket';
import { CertificateProvisioner } from './certificate-provisioner';
import { IotDevice, type IotDeviceProps } from './iot-device';

function setup(props: Partial<IotDeviceProps> = {}) {
  const { stack } = newStack();
  const bucket = new CertificateBucket(stack, 'Credentials');
  const provisioner = CertificateProvisioner.forBucket(bucket, {
    code: fakeBundles().provisionerCode,
  });
  const device = new IotDevice(stack, 'Device', {
    thingName: 'dev-1',
    topics: ['test/topic'],
    provisioner,
    ...props,
  });
  return { stack, bucket, provisioner, device };
}

const joinArn = (suffix: string) => ({
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':iot:',
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      `:${suffix}`,
    ],
  ],
});

describe('Class: IotDevice', () => {
  describe('Resources', () => {
    it('creates the thing with the given name', () => {
      const { stack } = setup();
      templateOf(stack).hasResourceProperties('AWS::IoT::Thing', { ThingName: 'dev-1' });
    });

    it('holds each rotation open for the device after the new attachments: a switch window sized from its pointer checks', () => {
      const { stack, device } = setup({ credentialCheckInterval: Duration.seconds(5) });
      const template = templateOf(stack);
      const [windowId, window] = onlyResource(template, CREDENTIAL_SWITCH_WINDOW_RESOURCE_TYPE);
      const [certificateId] = onlyResource(template, DEVICE_CERTIFICATE_RESOURCE_TYPE);
      expect(window.Properties).toMatchObject({
        CertificateId: { Ref: certificateId },
        WaitSeconds: 8,
      });
      const after = dependsOnOf(template, windowId);
      expect(after).toEqual(
        expect.arrayContaining([
          stack.getLogicalId(device.policyAttachment),
          stack.getLogicalId(device.thingAttachment),
        ]),
      );
      expect(device.credentialCheckInterval.toSeconds()).toBe(5);
    });

    it('sizes the default window from the runner default check interval', () => {
      const { stack } = setup();
      const [, window] = onlyResource(templateOf(stack), CREDENTIAL_SWITCH_WINDOW_RESOURCE_TYPE);
      expect(window.Properties?.['WaitSeconds']).toBe(
        credentialSwitchWindowSeconds(DEFAULT_CREDENTIAL_CHECK_INTERVAL_MS),
      );
    });

    it('refuses a check interval whose window the provisioner could not hold', () => {
      expect(() => setup({ credentialCheckInterval: Duration.minutes(2) })).toThrow(
        /credentialCheckInterval .*check at most every/,
      );
    });

    it('writes a least-privilege IoT policy', () => {
      const { stack } = setup({ topics: ['test/topic', 'dt/dev-1/temp'] });
      const [, policy] = onlyResource(templateOf(stack), 'AWS::IoT::Policy');
      expect(policy.Properties?.['PolicyDocument']).toEqual({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'ConnectAsOwnThing',
            Effect: 'Allow',
            Action: ['iot:Connect'],
            Resource: [joinArn('client/${iot:Connection.Thing.ThingName}')],
            Condition: { Bool: { 'iot:Connection.Thing.IsAttached': 'true' } },
          },
          {
            Sid: 'PublishAndReceiveOwnTopics',
            Effect: 'Allow',
            Action: ['iot:Publish', 'iot:Receive'],
            Resource: [joinArn('topic/test/topic'), joinArn('topic/dt/dev-1/temp')],
          },
          {
            Sid: 'SubscribeOwnTopics',
            Effect: 'Allow',
            Action: ['iot:Subscribe'],
            Resource: [joinArn('topicfilter/test/topic'), joinArn('topicfilter/dt/dev-1/temp')],
          },
        ],
      });
    });

    it('attaches the certificate to the policy and to the thing', () => {
      const { stack } = setup();
      const template = templateOf(stack);
      const [certId] = onlyResource(template, DEVICE_CERTIFICATE_RESOURCE_TYPE);
      const [thingId] = onlyResource(template, 'AWS::IoT::Thing');
      const [policyId] = onlyResource(template, 'AWS::IoT::Policy');
      template.hasResourceProperties('AWS::IoT::PolicyPrincipalAttachment', {
        PolicyName: { Ref: policyId },
        Principal: { 'Fn::GetAtt': [certId, 'CertificateArn'] },
      });
      template.hasResourceProperties('AWS::IoT::ThingPrincipalAttachment', {
        ThingName: { Ref: thingId },
        Principal: { 'Fn::GetAtt': [certId, 'CertificateArn'] },
      });
    });

    it('deletes the attachments before the certificate, thing and policy', () => {
      // CloudFormation deletes in reverse dependency order: whatever an
      // attachment references (Ref/GetAtt) outlives it.
      const { stack } = setup();
      const template = templateOf(stack);
      const [certId] = onlyResource(template, DEVICE_CERTIFICATE_RESOURCE_TYPE);
      const [thingId] = onlyResource(template, 'AWS::IoT::Thing');
      const [policyId] = onlyResource(template, 'AWS::IoT::Policy');
      const [, policyAttachment] = onlyResource(template, 'AWS::IoT::PolicyPrincipalAttachment');
      const [, thingAttachment] = onlyResource(template, 'AWS::IoT::ThingPrincipalAttachment');
      const referenced = (value: unknown) => JSON.stringify(value);
      expect(referenced(policyAttachment.Properties)).toContain(`"${certId}"`);
      expect(referenced(policyAttachment.Properties)).toContain(`"${policyId}"`);
      expect(referenced(thingAttachment.Properties)).toContain(`"${certId}"`);
      expect(referenced(thingAttachment.Properties)).toContain(`"${thingId}"`);
      // ...and the certificate depends on nothing of the device, so it is not kept alive by it.
      expect(dependsOnOf(template, certId).some((id) => id === thingId || id === policyId)).toBe(
        false,
      );
    });
  });

  describe('Method: grantReadCredentials', () => {
    it("grants read of exactly the thing's pointer and certificate folders, and decrypt via S3", () => {
      const { stack, device } = setup();
      const role = new iam.Role(stack, 'Reader', {
        assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      });
      device.grantReadCredentials(role);
      const template = templateOf(stack);
      const roleId = Object.entries(resourcesOf(template)).find(
        ([id, r]) => r.Type === 'AWS::IAM::Role' && id.startsWith('Reader'),
      )![0];
      const statements = statementsOfRole(template, roleId);
      expect(statements).toHaveLength(2);
      const objects = (statements[0]!.Resource as unknown[]).map((arn) =>
        resolveExpression(arn, { partition: 'aws', region: 'r', accountId: 'a' }),
      );
      expect(statements[0]!.Action).toBe('s3:GetObject');
      // Literal keys, the same for every certificate: a rotation changes no IAM.
      expect(objects.map((arn) => arn.replace(/^<[^>]+>\//, ''))).toEqual([
        'dev-1/current.json',
        'dev-1/certificates/*',
      ]);
      expect(statements[1]).toMatchObject({ Action: 'kms:Decrypt' });
    });
  });

  describe('Validation', () => {
    it.each<[string, Partial<IotDeviceProps>, RegExp]>([
      ['fails if the thing name is invalid', { thingName: 'dev/1' }, /Invalid thing name/],
      ['fails if there are no topics', { topics: [] }, /at least one topic/],
      ['fails if a topic is empty', { topics: [''] }, /must not be empty/],
      ['fails if a topic has an MQTT wildcard', { topics: ['test/#'] }, /MQTT wildcard/],
      ['fails if a topic has a policy wildcard', { topics: ['test/*'] }, /policy wildcard/],
    ])('%s', (_label, props, message) => {
      expect(() => setup(props)).toThrow(message);
    });
  });
});

describe('IoT policy, evaluated by the local cloud', () => {
  const pseudo: PseudoParameters = {
    partition: 'aws',
    region: 'eu-west-1',
    accountId: '123456789012',
  };
  const where = { region: pseudo.region, accountId: pseudo.accountId };
  const { stack } = setup({ topics: ['test/topic', 'dt/dev-1/temp'] });
  const [, policy] = onlyResource(templateOf(stack), 'AWS::IoT::Policy');
  const raw = policy.Properties?.['PolicyDocument'] as { Statement: TemplateStatement[] };
  // What AWS IoT stores once CloudFormation has resolved the pseudo parameters.
  const document = {
    Version: '2012-10-17',
    Statement: raw.Statement.map((statement) => ({
      ...statement,
      Resource: (statement.Resource as unknown[]).map((arn) => resolveExpression(arn, pseudo)),
    })),
  };
  const asThing = { clientId: 'dev-1', thingName: 'dev-1', isAttached: true };

  it('lets the thing connect as itself', () => {
    const result = evaluatePolicies([document], {
      action: 'iot:Connect',
      resource: iotResourceArn('client', 'dev-1', where),
      ...asThing,
    });
    expect(result.allowed).toBe(true);
  });

  it.each(['test/topic', 'dt/dev-1/temp'])(
    'lets the thing publish, subscribe and receive on %s',
    (topic) => {
      for (const action of ['iot:Publish', 'iot:Receive'] as const) {
        expect(
          evaluatePolicies([document], {
            action,
            resource: iotResourceArn('topic', topic, where),
            ...asThing,
          }).allowed,
        ).toBe(true);
      }
      expect(
        evaluatePolicies([document], {
          action: 'iot:Subscribe',
          resource: iotResourceArn('topicfilter', topic, where),
          ...asThing,
        }).allowed,
      ).toBe(true);
    },
  );

  it('refuses a connection as another client id', () => {
    const result = evaluatePolicies([document], {
      action: 'iot:Connect',
      resource: iotResourceArn('client', 'dev-2', where),
      clientId: 'dev-2',
      thingName: undefined,
      isAttached: false,
    });
    expect(result).toEqual({ allowed: false, decision: 'implicit-deny' });
  });

  it('refuses a connection when the certificate is not attached to the thing', () => {
    const result = evaluatePolicies([document], {
      action: 'iot:Connect',
      resource: iotResourceArn('client', 'dev-1', where),
      clientId: 'dev-1',
      thingName: 'dev-1',
      isAttached: false,
    });
    expect(result.allowed).toBe(false);
  });

  it.each(['other/topic', 'test/topic/sub', 'test', 'dt/dev-2/temp'])(
    'refuses publishing to %s',
    (topic) => {
      const result = evaluatePolicies([document], {
        action: 'iot:Publish',
        resource: iotResourceArn('topic', topic, where),
        ...asThing,
      });
      expect(result.allowed).toBe(false);
    },
  );

  it('refuses a wildcard subscription', () => {
    const result = evaluatePolicies([document], {
      action: 'iot:Subscribe',
      resource: iotResourceArn('topicfilter', 'test/#', where),
      ...asThing,
    });
    expect(result.allowed).toBe(false);
  });

  it('refuses the same topic in another account or region', () => {
    const elsewhere = [
      iotResourceArn('topic', 'test/topic', { region: 'us-east-1', accountId: pseudo.accountId }),
      iotResourceArn('topic', 'test/topic', { region: pseudo.region, accountId: '210987654321' }),
    ];
    for (const resource of elsewhere) {
      expect(
        evaluatePolicies([document], { action: 'iot:Publish', resource, ...asThing }).allowed,
      ).toBe(false);
    }
  });
});
