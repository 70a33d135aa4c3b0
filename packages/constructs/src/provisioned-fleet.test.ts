import {
  FLEET_CLEANUP_RESOURCE_TYPE,
  FLEET_DEVICE_RUNNER_METADATA_KEY,
  FLEET_DEVICE_ID_ENVIRONMENT_VARIABLE,
  FLEET_FUNCTION_ENVIRONMENT,
  FLEET_TERMINATION_EVENT_DETAIL_TYPE,
  type FleetDeviceRunnerMetadata,
} from '@thingcert/contracts';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { describe, expect, it } from 'vitest';
import {
  fakeBundles,
  newStack,
  publicVpc,
  synthNagFindings,
  templateOf,
} from '../test/stack-fixture';
import {
  actionsOf,
  dependsOnOf,
  logicalIdsOf,
  onlyResource,
  resolveExpression,
  resourcesOf,
  resourcesOfStatement,
  statementsOfRole,
} from '../test/template-queries';
import { CertificateBucket } from './certificate-bucket';
import { isInvalidConstructPropsError } from './errors';
import { ProvisionedFleet, type ProvisionedFleetProps } from './provisioned-fleet';

const PSEUDO = { partition: 'aws', region: 'eu-west-1', accountId: '123456789012' };

function fleetStack(props: Partial<ProvisionedFleetProps> = {}, options: { nag?: boolean } = {}) {
  const { app, stack } = newStack(options);
  const bundles = fakeBundles();
  const vpc = publicVpc(stack);
  if (options.nag) vpc.addFlowLog('FlowLog');
  const fleet = new ProvisionedFleet(stack, 'Fleet', {
    bucket: new CertificateBucket(stack, 'Credentials'),
    vpc,
    maxDevices: 10,
    desiredCapacity: 2,
    thingNamePrefix: 'fleet-',
    functionsCode: bundles.provisionerCode,
    provisionerCode: bundles.provisionerCode,
    runnerBundleDirectory: bundles.runnerBundleDirectory,
    ...props,
  });
  return { app, stack, fleet, template: templateOf(stack) };
}

function propertiesOf(template: ReturnType<typeof templateOf>, type: string) {
  return onlyResource(template, type)[1].Properties ?? {};
}

function roleStatementsNamed(template: ReturnType<typeof templateOf>, prefix: string) {
  const roleId = logicalIdsOf(template, 'AWS::IAM::Role').find((id) => id.startsWith(prefix));
  if (roleId === undefined) throw new Error(`no role ${prefix}`);
  return statementsOfRole(template, roleId);
}

function rendered(statements: ReturnType<typeof statementsOfRole>) {
  return statements.map((statement) => ({
    actions: actionsOf(statement),
    resources: resourcesOfStatement(statement).map((arn) => resolveExpression(arn, PSEUDO)),
  }));
}

function typeCounts(template: ReturnType<typeof templateOf>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const resource of Object.values(resourcesOf(template))) {
    counts[resource.Type] = (counts[resource.Type] ?? 0) + 1;
  }
  return counts;
}

describe('Class: ProvisionedFleet', () => {
  describe('Size', () => {
    it('has the same resources for 1, 50 and 5000 devices', () => {
      const shapes = [1, 50, 5000].map((devices) =>
        typeCounts(fleetStack({ maxDevices: devices, desiredCapacity: devices }).template),
      );
      expect(shapes[1]).toEqual(shapes[0]);
      expect(shapes[2]).toEqual(shapes[0]);
      expect(Object.values(shapes[0]!).reduce((a, b) => a + b, 0)).toBeLessThan(60);
      expect(shapes[0]).toMatchObject({
        'AWS::IoT::ThingGroup': 1,
        'AWS::IoT::ProvisioningTemplate': 1,
        'AWS::IoT::Policy': 2,
        'AWS::IoT::PolicyPrincipalAttachment': 1,
        'AWS::EC2::LaunchTemplate': 1,
        'AWS::AutoScaling::AutoScalingGroup': 1,
        'AWS::AutoScaling::LifecycleHook': 1,
        'AWS::Events::Rule': 1,
        [FLEET_CLEANUP_RESOURCE_TYPE]: 1,
      });
    });
  });

  describe('Provisioning template', () => {
    const { template } = fleetStack();
    const properties = propertiesOf(template, 'AWS::IoT::ProvisioningTemplate');

    it('is an enabled fleet template whose hook AWS IoT may invoke', () => {
      expect(properties).toMatchObject({ Enabled: true, TemplateType: 'FLEET_PROVISIONING' });
      const hookId = logicalIdsOf(template, 'AWS::Lambda::Function').find((id) =>
        id.startsWith('FleetHook'),
      )!;
      expect(properties['PreProvisioningHook']).toEqual({
        TargetArn: { 'Fn::GetAtt': [hookId, 'Arn'] },
        PayloadVersion: '2020-04-01',
      });
      const permissions = Object.values(resourcesOf(template)).filter(
        (r) =>
          r.Type === 'AWS::Lambda::Permission' &&
          r.Properties?.['Principal'] === 'iot.amazonaws.com',
      );
      expect(permissions).toHaveLength(1);
      expect(permissions[0]!.Properties).toMatchObject({
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': [hookId, 'Arn'] },
      });
    });

    it('names the thing from ThingName, in the group, with the CSR certificate ACTIVE and the device policy', () => {
      const body = JSON.parse(resolveExpression(properties['TemplateBody'], PSEUDO)) as {
        Parameters: object;
        Resources: Record<string, { Type: string; Properties: object }>;
      };
      const groupId = logicalIdsOf(template, 'AWS::IoT::ThingGroup')[0]!;
      const policyId = logicalIdsOf(template, 'AWS::IoT::Policy').find((id) =>
        id.startsWith('FleetDevicePolicy'),
      )!;
      expect(Object.keys(body.Parameters)).toEqual(['ThingName', 'AWS::IoT::Certificate::Id']);
      expect(body.Resources).toEqual({
        thing: {
          Type: 'AWS::IoT::Thing',
          Properties: { ThingName: { Ref: 'ThingName' }, ThingGroups: [`<${groupId}>`] },
          OverrideSettings: { ThingGroups: 'MERGE' },
        },
        certificate: {
          Type: 'AWS::IoT::Certificate',
          Properties: { CertificateId: { Ref: 'AWS::IoT::Certificate::Id' }, Status: 'ACTIVE' },
        },
        policy: { Type: 'AWS::IoT::Policy', Properties: { PolicyName: `<${policyId}>` } },
      });
    });

    it('gives the provisioning role only what registration does', () => {
      const groupId = logicalIdsOf(template, 'AWS::IoT::ThingGroup')[0]!;
      const things = 'arn:aws:iot:eu-west-1:123456789012:thing/fleet-*';
      expect(rendered(roleStatementsNamed(template, 'FleetProvisioningRole'))).toEqual([
        {
          actions: ['iot:CreateThing', 'iot:DescribeThing', 'iot:UpdateThing'],
          resources: [things],
        },
        { actions: ['iot:AddThingToThingGroup'], resources: [`<${groupId}.Arn>`, things] },
        {
          actions: ['iot:AttachThingPrincipal'],
          resources: [things, 'arn:aws:iot:eu-west-1:123456789012:cert/*'],
        },
        {
          actions: ['iot:AttachPolicy', 'iot:UpdateCertificate'],
          resources: ['arn:aws:iot:eu-west-1:123456789012:cert/*'],
        },
      ]);
      const role =
        resourcesOf(template)[
          logicalIdsOf(template, 'AWS::IAM::Role').find((id) =>
            id.startsWith('FleetProvisioningRole'),
          )!
        ]!;
      expect(JSON.stringify(role.Properties?.['AssumeRolePolicyDocument'])).toContain(
        'iot.amazonaws.com',
      );
    });
  });

  describe('Claim', () => {
    const { template } = fleetStack();

    it('allows connect as a fleet client id and the provisioning topics of this template, nothing else', () => {
      const claim = Object.entries(resourcesOf(template)).find(
        ([id, r]) => r.Type === 'AWS::IoT::Policy' && id.startsWith('FleetClaimPolicy'),
      )![1];
      const templateId = logicalIdsOf(template, 'AWS::IoT::ProvisioningTemplate')[0]!;
      const arn = 'arn:aws:iot:eu-west-1:123456789012';
      const statements = (
        claim.Properties?.['PolicyDocument'] as { Statement: Parameters<typeof actionsOf>[0][] }
      ).Statement;
      const csr = '$aws/certificates/create-from-csr/json';
      const provision = `$aws/provisioning-templates/<${templateId}>/provision/json`;
      const replies = [csr, provision].flatMap((t) => [`${t}/accepted`, `${t}/rejected`]);
      expect(statements.every((s) => s.Effect === 'Allow' && s.Condition === undefined)).toBe(true);
      expect(rendered(statements)).toEqual([
        { actions: ['iot:Connect'], resources: [`${arn}:client/fleet-*`] },
        { actions: ['iot:Publish'], resources: [csr, provision].map((t) => `${arn}:topic/${t}`) },
        { actions: ['iot:Receive'], resources: replies.map((t) => `${arn}:topic/${t}`) },
        { actions: ['iot:Subscribe'], resources: replies.map((t) => `${arn}:topicfilter/${t}`) },
      ]);
    });

    it('lets only the instance role read the claim credentials', () => {
      const readers = logicalIdsOf(template, 'AWS::IAM::Role').filter((id) =>
        statementsOfRole(template, id).some((s) =>
          JSON.stringify(s.Resource ?? '').includes('fleet-claim/'),
        ),
      );
      expect(readers).toEqual([expect.stringMatching(/^FleetRole/) as unknown]);
      const objects = rendered(roleStatementsNamed(template, 'FleetRole').slice(0, 1))[0]!
        .resources;
      expect(objects.map((key) => key.replace(/^<[^>]+>/, ''))).toEqual([
        '/fleet-claim/fleet-claim/current.json',
        '/fleet-claim/fleet-claim/certificates/*',
      ]);
    });
  });

  describe('Devices', () => {
    const { template, fleet } = fleetStack({ desiredCapacity: 3, topic: 'fleet/telemetry' });
    const [groupId, group] = onlyResource(template, 'AWS::AutoScaling::AutoScalingGroup');

    it('runs desiredCapacity hardened instances from a launch template requiring IMDSv2', () => {
      expect(group.Properties).toMatchObject({ DesiredCapacity: '3', MinSize: '3', MaxSize: '3' });
      const data = propertiesOf(template, 'AWS::EC2::LaunchTemplate')[
        'LaunchTemplateData'
      ] as Record<string, unknown>;
      expect(data['MetadataOptions']).toEqual({ HttpTokens: 'required' });
      expect(data['KeyName']).toBeUndefined();
      expect(JSON.stringify(data['BlockDeviceMappings'])).toContain('"Encrypted":true');
      const userData = JSON.stringify(data['UserData']);
      expect(userData).toContain(`Environment=${FLEET_DEVICE_ID_ENVIRONMENT_VARIABLE}=%s`);
      expect(userData).toContain('X-aws-ec2-metadata-token');
      expect(userData).toContain('systemctl enable --now thingcert-device-runner.service');
    });

    it('carries the runner metadata the local deployer boots each instance from', () => {
      const metadata = group.Metadata?.[
        FLEET_DEVICE_RUNNER_METADATA_KEY
      ] as FleetDeviceRunnerMetadata;
      expect(metadata.config).toMatchObject({
        topic: 'fleet/telemetry',
        count: 5,
        protocol: 'mqtt3',
        forever: true,
        claim: { thingNamePrefix: 'fleet-' },
      });
      expect(metadata.config).not.toHaveProperty('thing');
      const templateId = logicalIdsOf(template, 'AWS::IoT::ProvisioningTemplate')[0]!;
      expect(metadata.config.claim.templateName).toEqual({ Ref: templateId });
      expect(Object.keys(metadata.asset)).toEqual(['s3Bucket', 's3Key']);
      expect(fleet.runnerConfig.claim.thingNamePrefix).toBe('fleet-');
    });

    it('starts after the claim policy is attached and the cleanup resource exists', () => {
      const cleanupId = logicalIdsOf(template, FLEET_CLEANUP_RESOURCE_TYPE)[0]!;
      const attachmentId = logicalIdsOf(template, 'AWS::IoT::PolicyPrincipalAttachment')[0]!;
      expect(dependsOnOf(template, groupId)).toEqual(
        expect.arrayContaining([cleanupId, attachmentId]),
      );
      expect(
        dependsOnOf(template, groupId).some((id) => id.startsWith('FleetRoleDefaultPolicy')),
      ).toBe(true);
    });
  });

  describe('Cleanup', () => {
    const { template, fleet } = fleetStack();

    it('deregisters on scale-in through a lifecycle hook and an EventBridge rule', () => {
      expect(propertiesOf(template, 'AWS::AutoScaling::LifecycleHook')).toMatchObject({
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        DefaultResult: 'CONTINUE',
      });
      const deregistrationId = logicalIdsOf(template, 'AWS::Lambda::Function').find((id) =>
        id.startsWith('FleetDeregistration'),
      )!;
      expect(propertiesOf(template, 'AWS::Events::Rule')).toMatchObject({
        EventPattern: {
          source: ['aws.autoscaling'],
          'detail-type': [FLEET_TERMINATION_EVENT_DETAIL_TYPE],
          detail: { AutoScalingGroupName: [fleet.autoScalingGroupName] },
        },
        Targets: [{ Arn: { 'Fn::GetAtt': [deregistrationId, 'Arn'] } }],
      });
    });

    it('empties the group on Delete, deleted after the group and before the template, group and policies', () => {
      const [cleanupId, cleanup] = onlyResource(template, FLEET_CLEANUP_RESOURCE_TYPE);
      const groupId = logicalIdsOf(template, 'AWS::IoT::ThingGroup')[0]!;
      expect(cleanup.Properties).toMatchObject({
        ThingGroupName: { Ref: groupId },
        ThingNamePrefix: 'fleet-',
      });
      const needs = dependsOnOf(template, cleanupId);
      const templateId = logicalIdsOf(template, 'AWS::IoT::ProvisioningTemplate')[0]!;
      const policyId = logicalIdsOf(template, 'AWS::IoT::Policy').find((id) =>
        id.startsWith('FleetDevicePolicy'),
      )!;
      expect(needs).toEqual(expect.arrayContaining([templateId, policyId]));
      expect(needs.some((id) => id.startsWith('FleetDeregistrationRoleDefaultPolicy'))).toBe(true);
    });

    it('gives both functions the fleet environment and the deregistration its scoped IoT and Auto Scaling calls', () => {
      for (const [id, fn] of Object.entries(resourcesOf(template))) {
        if (fn.Type !== 'AWS::Lambda::Function' || !id.startsWith('Fleet')) continue;
        expect(
          Object.keys((fn.Properties?.['Environment'] as { Variables: object }).Variables).sort(),
        ).toEqual(Object.values(FLEET_FUNCTION_ENVIRONMENT).sort());
      }
      const statements = rendered(roleStatementsNamed(template, 'FleetDeregistrationRole'));
      expect(statements.map((s) => s.actions)).toEqual([
        ['logs:CreateLogStream', 'logs:PutLogEvents'],
        ['iot:ListThingsInThingGroup'],
        ['iot:ListThingPrincipals', 'iot:DetachThingPrincipal', 'iot:DeleteThing'],
        ['iot:DetachThingPrincipal', 'iot:UpdateCertificate', 'iot:DeleteCertificate'],
        ['autoscaling:CompleteLifecycleAction'],
      ]);
      expect(statements[4]!.resources).toEqual([
        `arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:*:autoScalingGroupName/${fleet.autoScalingGroupName}`,
      ]);
    });
  });

  describe('Validation', () => {
    it.each([
      [{ thingNamePrefix: 'bad prefix' }, /thingNamePrefix/],
      [{ thingNamePrefix: 'p'.repeat(65) }, /thingNamePrefix/],
      [{ maxDevices: 2, desiredCapacity: 3 }, /exceeds maxDevices/],
      [{ maxDevices: 0 }, /maxDevices must be/],
      [{ desiredCapacity: 1.5 }, /desiredCapacity must be/],
      [{ topic: 'a/#' }, /MQTT wildcard/],
      [{ port: 1883 }, /port must be/],
    ])('fails early for %o', (props, message) => {
      let failure: unknown;
      try {
        fleetStack(props);
      } catch (error) {
        failure = error;
      }
      expect(isInvalidConstructPropsError(failure)).toBe(true);
      expect((failure as Error).message).toMatch(message);
    });
  });

  it('passes cdk-nag AwsSolutions with zero unacknowledged findings', () => {
    const { app } = fleetStack({ instanceType: new ec2.InstanceType('t4g.micro') }, { nag: true });
    const { findings, failure } = synthNagFindings(app, { withResources: true });
    expect(findings).toEqual([]);
    expect(failure).toBeUndefined();
  });
});
