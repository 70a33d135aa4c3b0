import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, describe, expect, it } from 'vitest';
import { fakeBundles, newApp, removeStackFixtures } from '../test/fake-bundles';
import { DEFAULT_APP_CONFIG, type AppConfig } from './app-config';
import { ThingcertStack } from './thingcert-stack';

afterAll(removeStackFixtures);

function build(
  config: Partial<AppConfig> = {},
  env?: { account?: string; region: string },
  context: Record<string, unknown> = {},
) {
  const app = newApp(context);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stack = new ThingcertStack(app, 'Thingcert', {
    config: { ...DEFAULT_APP_CONFIG, ...config },
    env,
    ...fakeBundles(),
  });
  return { app, stack };
}

function findings(app: App): string[] {
  const report = join(app.outdir, 'validation-report.json');
  if (!existsSync(report)) return [];
  const parsed = JSON.parse(readFileSync(report, 'utf8')) as {
    pluginReports: { violations: { ruleName: string }[] }[];
  };
  return parsed.pluginReports.flatMap((plugin) => plugin.violations.map((v) => v.ruleName));
}

describe('Class: ThingcertStack', () => {
  describe('Default (seed) topology', () => {
    const { app, stack } = build();
    let synthError: unknown;
    try {
      app.synth();
    } catch (error) {
      synthError = error;
    }
    const template = Template.fromStack(stack);

    it('passes cdk-nag AwsSolutions with zero unacknowledged findings', () => {
      expect(findings(app)).toEqual([]);
      expect(synthError).toBeUndefined();
    });

    it('deploys one thing with one certificate and one instance', () => {
      template.resourceCountIs('AWS::IoT::Thing', 1);
      template.hasResourceProperties('AWS::IoT::Thing', { ThingName: 'thingcert-device-1' });
      template.resourceCountIs('Custom::ThingcertDeviceCertificate', 1);
      template.resourceCountIs('AWS::EC2::Instance', 1);
      template.hasResourceProperties('AWS::EC2::Instance', { InstanceType: 't4g.micro' });
    });

    it('outputs certificate ARN, endpoint, bucket and instance id', () => {
      const outputs = template.toJSON() as { Outputs: Record<string, { Value: unknown }> };
      expect(Object.keys(outputs.Outputs).sort()).toEqual(
        ['BucketName', 'CertificateArn', 'Endpoint', 'InstanceId'].sort(),
      );
      expect(JSON.stringify(outputs.Outputs['CertificateArn']!.Value)).toContain('CertificateArn');
      expect(JSON.stringify(outputs.Outputs['Endpoint']!.Value)).toContain('IoTEndpoint');
    });

    it('logs VPC flows and creates no NAT gateway', () => {
      template.resourceCountIs('AWS::EC2::FlowLog', 1);
      template.resourceCountIs('AWS::EC2::NatGateway', 0);
    });

    it('hard-codes no account id', () => {
      expect(JSON.stringify(template.toJSON())).not.toMatch(/\b\d{12}\b/);
    });
  });

  it('deploys a fleet from context, with per-device outputs', () => {
    const { stack } = build({ thingNames: ['dev-1', 'dev-2'], topic: 'dt/fleet', messageCount: 9 });
    expect(stack.provisionedFleet).toBeUndefined();
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::IoT::Thing', 2);
    template.resourceCountIs('AWS::Lambda::Function', 1);
    const outputs = Object.keys((template.toJSON() as { Outputs: object }).Outputs).sort();
    expect(outputs).toEqual(
      [
        'BucketName',
        'Endpoint',
        'CertificateArnDev1',
        'CertificateArnDev2',
        'InstanceIdDev1',
        'InstanceIdDev2',
      ].sort(),
    );
  });

  it('passes cdk-nag in a stack with a concrete region', () => {
    const { app } = build({}, { region: 'eu-west-1' });
    app.synth();
    expect(findings(app)).toEqual([]);
  });

  describe('With the account the CLI resolves when it deploys', () => {
    const env = { account: '111111111111', region: 'eu-west-1' };
    const imageKey = `ssm:account=${env.account}:parameterName=/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64:region=${env.region}`;

    it('runs the device image recorded in cdk.context.json, so a new AMI does not replace it', () => {
      const { app, stack } = build({}, env, { [imageKey]: 'ami-0123456789abcdef0' });
      Template.fromStack(stack).hasResourceProperties('AWS::EC2::Instance', {
        ImageId: 'ami-0123456789abcdef0',
      });
      app.synth();
      expect(findings(app)).toEqual([]);
    });

    it('needs no lookup but the image: the VPC zones stay Fn::GetAZs', () => {
      const { app, stack } = build({}, env);
      const missing = app.synth().manifest.missing ?? [];
      expect(missing.map((entry) => entry.key)).toEqual([imageKey]);
      Template.fromStack(stack).hasResourceProperties('AWS::EC2::Subnet', {
        AvailabilityZone: { 'Fn::Select': [0, { 'Fn::GetAZs': '' }] },
      });
    });
  });

  describe('Claim (fleet provisioning) topology', () => {
    const sized = (things: number) => {
      const { app, stack } = build({ provisioning: 'claim', things, maxDevices: things });
      return { app, stack, template: Template.fromStack(stack) };
    };
    const { app, stack, template } = sized(20);
    let synthError: unknown;
    try {
      app.synth();
    } catch (error) {
      synthError = error;
    }

    it('passes cdk-nag AwsSolutions with zero unacknowledged findings', () => {
      expect(findings(app)).toEqual([]);
      expect(synthError).toBeUndefined();
    });

    it('runs the ProvisionedFleet instead of per-device things, sized by things', () => {
      expect(stack.fleet).toBeUndefined();
      expect(stack.provisionedFleet?.maxDevices).toBe(20);
      template.resourceCountIs('AWS::IoT::Thing', 0);
      template.resourceCountIs('AWS::EC2::Instance', 0);
      template.resourceCountIs('Custom::ThingcertDeviceCertificate', 1);
      template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
        DesiredCapacity: '20',
      });
      const outputs = Object.keys((template.toJSON() as { Outputs: object }).Outputs);
      expect(outputs).toEqual(
        expect.arrayContaining(['ThingGroupName', 'ProvisioningTemplateName', 'Endpoint']),
      );
    });

    it('keeps the same resource count whatever the size', () => {
      const count = (t: Template) =>
        Object.keys((t.toJSON() as { Resources: object }).Resources).length;
      expect(count(sized(1).template)).toBe(count(template));
      expect(count(sized(5000).template)).toBe(count(template));
    });
  });

  it('fails if the fleet is larger than the constructs allow', () => {
    const thingNames = Array.from({ length: 11 }, (_, i) => `dev-${i}`);
    expect(() => build({ thingNames })).toThrow(/maxDevices/);
  });
});
