import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { ContextProvider } from 'aws-cdk-lib/cloud-assembly-schema';
import { describe, expect, it } from 'vitest';
import { deviceInstanceStack } from '../test/device-instance-stack';
import { newApp, templateOf, UNIQUE_LAUNCH_TEMPLATE_NAMES } from '../test/stack-fixture';
import { onlyResource } from '../test/template-queries';
import { UNPINNED_DEVICE_IMAGE_WARNING } from './device-image';

const env = { account: '111111111111', region: 'eu-west-1' };
const IMAGE_PARAMETER = '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-';

/** The context key under which the CDK CLI records the looked-up image of `arch`. */
function imageContextKey(arch: 'arm64' | 'x86_64'): string {
  return `ssm:account=${env.account}:parameterName=${IMAGE_PARAMETER}${arch}:region=${env.region}`;
}

function imageIdOf(stack: ReturnType<typeof deviceInstanceStack>): unknown {
  const [, instance] = onlyResource(templateOf(stack), 'AWS::EC2::Instance');
  return instance.Properties?.['ImageId'];
}

describe('Function: deviceImage', () => {
  describe('In a stack with an account and region', () => {
    it('uses the image recorded in context, as a literal the next deploy keeps', () => {
      const app = newApp({
        ...UNIQUE_LAUNCH_TEMPLATE_NAMES,
        [imageContextKey('arm64')]: 'ami-0123456789abcdef0',
      });
      const stack = deviceInstanceStack(app, { env });

      expect(imageIdOf(stack)).toBe('ami-0123456789abcdef0');
      const parameters = (templateOf(stack).toJSON() as { Parameters?: object }).Parameters ?? {};
      expect(Object.keys(parameters).filter((name) => /al2023/i.test(name))).toEqual([]);
    });

    it.each([
      ['arm64', 't4g.micro'],
      ['x86_64', 't3.micro'],
    ] as const)(
      'asks the CLI to look up the %s image once when the context has none',
      (arch, type) => {
        const app = newApp();
        deviceInstanceStack(app, { env, instanceType: new ec2.InstanceType(type) });

        const missing = app.synth().manifest.missing ?? [];

        expect(
          missing
            .filter((entry) => entry.provider === ContextProvider.SSM_PARAMETER_PROVIDER)
            .map((entry) => entry.key),
        ).toEqual([imageContextKey(arch)]);
      },
    );

    describe('With CloudFormation Validate run as errors (a recommended flag)', () => {
      const strict = {
        ...UNIQUE_LAUNCH_TEMPLATE_NAMES,
        '@aws-cdk/core:validateAgainstDefaultRules': true,
      };

      it("lets the CLI's first pass, before the lookup, synthesize", () => {
        const app = newApp(strict);
        deviceInstanceStack(app, { env });

        expect(() => app.synth()).not.toThrow();
      });

      it('still fails a malformed image id', () => {
        const app = newApp({ ...strict, [imageContextKey('arm64')]: 'not-an-image-id' });
        deviceInstanceStack(app, { env });

        expect(() => app.synth()).toThrow(/E1152/);
      });
    });

    it('does not warn', () => {
      const stack = deviceInstanceStack(newApp(), { env });
      Annotations.fromStack(stack).hasNoWarning(
        '*',
        Match.stringLikeRegexp(UNPINNED_DEVICE_IMAGE_WARNING),
      );
    });
  });

  describe('In an environment-agnostic stack', () => {
    const stack = deviceInstanceStack(newApp());

    it('resolves the latest image at deploy time (nothing can be looked up)', () => {
      expect(JSON.stringify(imageIdOf(stack))).toMatch(/"Ref":".*al2023.*arm64/i);
    });

    it('warns that a new image replaces the device, and how to pin it', () => {
      Annotations.fromStack(stack).hasWarning(
        '/Devices/Runner',
        Match.stringLikeRegexp(
          `replaces the device.*account and region.*${UNPINNED_DEVICE_IMAGE_WARNING}`,
        ),
      );
    });
  });
});
