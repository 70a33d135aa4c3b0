import { DEVICE_CERTIFICATE_RESOURCE_TYPE } from '@thingcert/contracts';
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
  everyString,
  identityStatements,
  logicalIdsOf,
  resourcesOfStatement,
} from '../test/template-queries';
import { DeviceFleet, MAX_DEVICES_PER_STACK, type DeviceFleetProps } from './device-fleet';

function fleetStack(props: Partial<DeviceFleetProps> = {}, options: { nag?: boolean } = {}) {
  const { app, stack } = newStack(options);
  const vpc = publicVpc(stack);
  vpc.addFlowLog('FlowLog');
  const fleet = new DeviceFleet(stack, 'Fleet', {
    vpc,
    thingNames: ['dev-1', 'dev-2', 'dev-3'],
    ...fakeBundles(),
    ...props,
  });
  return { app, stack, fleet };
}

describe('Class: DeviceFleet', () => {
  it('gives every device its own thing, certificate and instance, sharing bucket and provisioner', () => {
    const { stack, fleet } = fleetStack();
    const template = templateOf(stack);
    expect(fleet.devices.map((device) => device.thingName)).toEqual(['dev-1', 'dev-2', 'dev-3']);
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.resourceCountIs('AWS::IoT::Thing', 3);
    template.resourceCountIs(DEVICE_CERTIFICATE_RESOURCE_TYPE, 3);
    template.resourceCountIs('AWS::EC2::Instance', 3);
    const [functionId] = logicalIdsOf(template, 'AWS::Lambda::Function');
    for (const name of ['dev-1', 'dev-2', 'dev-3']) {
      template.hasResourceProperties(DEVICE_CERTIFICATE_RESOURCE_TYPE, {
        ThingName: name,
        ServiceToken: { 'Fn::GetAtt': [functionId, 'Arn'] },
      });
    }
  });

  it('gives launch templates distinct names', () => {
    const { stack } = fleetStack();
    const names = Object.values(
      (
        templateOf(stack).toJSON() as {
          Resources: Record<string, { Type: string; Properties: { LaunchTemplateName: string } }>;
        }
      ).Resources,
    )
      .filter((r) => r.Type === 'AWS::EC2::LaunchTemplate')
      .map((r) => r.Properties.LaunchTemplateName);
    expect(new Set(names).size).toBe(3);
  });

  it('passes cdk-nag AwsSolutions with zero unacknowledged findings', () => {
    const { app } = fleetStack({}, { nag: true });
    const { findings, failure } = synthNagFindings(app);
    expect(findings).toEqual([]);
    expect(failure).toBeUndefined();
  });

  it('has no wildcard action and no * resource outside the IoT calls that need it', () => {
    const { stack } = fleetStack();
    const statements = identityStatements(templateOf(stack));
    expect(statements.flatMap(actionsOf).filter((action) => action.includes('*'))).toEqual([]);
    const starActions = statements
      .filter((statement) => resourcesOfStatement(statement).includes('*'))
      .flatMap(actionsOf);
    expect(new Set(starActions)).toEqual(
      new Set([
        'iot:CreateKeysAndCertificate',
        'iot:CreateCertificateFromCsr',
        'iot:DescribeEndpoint',
        'iot:ListPrincipalThings',
        'iot:ListAttachedPolicies',
      ]),
    );
  });

  it('puts no key material into the template', () => {
    const { stack } = fleetStack();
    const strings = everyString(templateOf(stack).toJSON());
    expect(strings.filter((s) => /BEGIN [A-Z ]*PRIVATE KEY/.test(s))).toEqual([]);
  });

  describe('Validation', () => {
    it.each<[string, Partial<DeviceFleetProps>, RegExp]>([
      ['fails if there are no things', { thingNames: [] }, /at least one thing/],
      [
        'fails if there are more devices than maxDevices',
        { thingNames: ['a', 'b', 'c'], maxDevices: 2 },
        /exceed maxDevices \(2\)/,
      ],
      [
        'fails if there are more devices than the default limit',
        { thingNames: Array.from({ length: 11 }, (_, i) => `dev-${i}`) },
        /exceed maxDevices \(10\)/,
      ],
      [
        'fails if maxDevices exceeds what one stack can hold',
        { maxDevices: MAX_DEVICES_PER_STACK + 1 },
        /maxDevices must be/,
      ],
      ['fails if a thing name is invalid', { thingNames: ['ok', 'not ok'] }, /Invalid thing name/],
      ['fails if thing names repeat', { thingNames: ['a', 'b', 'a'] }, /Duplicate thing names: a/],
      ['fails if the topic is empty', { topic: '' }, /must not be empty/],
    ])('%s', (_label, props, message) => {
      expect(() => fleetStack(props)).toThrow(message);
    });
  });
});
