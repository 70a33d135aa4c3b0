/**
 * The documents ProvisionedFleet synthesizes, given to the local cloud, which
 * applies AWS's rules for provisioning templates and IoT policies: the
 * template body (only what AWS allows in a fleet template) and the claim and
 * device policies are accepted as they are, CloudFormation references
 * replaced by the names CloudFormation would give.
 */
import {
  CreatePolicyCommand,
  CreateProvisioningTemplateCommand,
  CreateThingGroupCommand,
  DescribeProvisioningTemplateCommand,
  IoTClient,
} from '@aws-sdk/client-iot';
import { startLocalCloud, type LocalCloud } from '@thingcert/local-cloud';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeBundles, newStack, publicVpc, templateOf } from '../test/stack-fixture';
import { logicalIdsOf, onlyResource, resourcesOf } from '../test/template-queries';
import { CertificateBucket } from './certificate-bucket';
import { ProvisionedFleet } from './provisioned-fleet';

let cloud: LocalCloud;
let iot: IoTClient;

beforeAll(async () => {
  cloud = await startLocalCloud();
  iot = new IoTClient({
    region: cloud.region,
    endpoint: cloud.iotEndpoint,
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  });
}, 60_000);

afterAll(async () => {
  iot?.destroy();
  await cloud?.stop();
});

/** Resolves pseudo parameters and `Fn::Join`; `Ref`/`Fn::GetAtt` of a resource through `names`. */
function resolved(value: unknown, names: Record<string, string>): string {
  if (typeof value === 'string') return value;
  const record = value as Record<string, unknown>;
  if ('Fn::Join' in record) {
    const [separator, parts] = record['Fn::Join'] as [string, unknown[]];
    return parts.map((part) => resolved(part, names)).join(separator);
  }
  const pseudo: Record<string, string> = {
    'AWS::Partition': 'aws',
    'AWS::Region': cloud.region,
    'AWS::AccountId': cloud.accountId,
  };
  const ref = record['Ref'] as string | undefined;
  if (ref !== undefined) {
    const name = pseudo[ref] ?? names[ref];
    if (name !== undefined) return name;
  }
  throw new Error(`Cannot resolve ${JSON.stringify(value)}`);
}

describe('Class: ProvisionedFleet (against the local cloud)', () => {
  it('synthesizes a template body and policies AWS IoT accepts', async () => {
    const { stack } = newStack();
    const bundles = fakeBundles();
    new ProvisionedFleet(stack, 'Fleet', {
      bucket: new CertificateBucket(stack, 'Credentials'),
      vpc: publicVpc(stack),
      maxDevices: 5,
      thingNamePrefix: 'fleet-',
      functionsCode: bundles.provisionerCode,
      provisionerCode: bundles.provisionerCode,
      runnerBundleDirectory: bundles.runnerBundleDirectory,
    });
    const template = templateOf(stack);
    const groupId = logicalIdsOf(template, 'AWS::IoT::ThingGroup')[0]!;
    const [templateId, provisioning] = onlyResource(template, 'AWS::IoT::ProvisioningTemplate');
    const policies = Object.entries(resourcesOf(template)).filter(
      ([, resource]) => resource.Type === 'AWS::IoT::Policy',
    );
    const names: Record<string, string> = {
      [groupId]: 'fleet-group',
      [templateId]: 'fleet-template',
      ...Object.fromEntries(policies.map(([id]) => [id, `policy-${id}`.slice(0, 120)])),
    };

    await iot.send(new CreateThingGroupCommand({ thingGroupName: 'fleet-group' }));
    for (const [id, policy] of policies) {
      const document = JSON.stringify(policy.Properties?.['PolicyDocument'], (_key, value) =>
        typeof value === 'object' &&
        value !== null &&
        !Array.isArray(value) &&
        ('Fn::Join' in value || 'Ref' in value)
          ? resolved(value, names)
          : (value as unknown),
      );
      await iot.send(new CreatePolicyCommand({ policyName: names[id], policyDocument: document }));
    }
    await iot.send(
      new CreateProvisioningTemplateCommand({
        templateName: 'fleet-template',
        templateBody: resolved(provisioning.Properties?.['TemplateBody'], names),
        provisioningRoleArn: `arn:aws:iam::${cloud.accountId}:role/fleet-provisioning`,
        enabled: true,
        type: 'FLEET_PROVISIONING',
        preProvisioningHook: {
          targetArn: `arn:aws:lambda:${cloud.region}:${cloud.accountId}:function:fleet-hook`,
          payloadVersion: '2020-04-01',
        },
      }),
    );

    const described = await iot.send(
      new DescribeProvisioningTemplateCommand({ templateName: 'fleet-template' }),
    );
    expect(described).toMatchObject({ enabled: true, type: 'FLEET_PROVISIONING' });
    expect(policies).toHaveLength(2);
  });
});
