import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { deviceInstanceStack } from '../test/device-instance-stack';
import { newApp } from '../test/stack-fixture';
import { LAUNCH_TEMPLATE_NAME_FLAG_ERROR } from './launch-template-name-flag';

describe('Function: requireUniqueLaunchTemplateNames', () => {
  it('fails the synth of an app without the flag, saying what to put in cdk.json', () => {
    const stack = deviceInstanceStack(newApp({}));

    Annotations.fromStack(stack).hasError(
      '/Devices/Runner',
      Match.stringLikeRegexp(
        `${LAUNCH_TEMPLATE_NAME_FLAG_ERROR}.*"@aws-cdk/aws-ec2:uniqueImdsv2TemplateName": true.*cdk.json`,
      ),
    );
  });

  it('leaves the flag to the app: the library sets no context', () => {
    const app = newApp({});
    const stack = deviceInstanceStack(app);

    expect(
      stack.node
        .findAll()
        .filter(
          (node) =>
            node.node.tryGetContext('@aws-cdk/aws-ec2:uniqueImdsv2TemplateName') !== undefined,
        ),
    ).toEqual([]);
  });

  it('adds no error when the app sets the flag', () => {
    const stack = deviceInstanceStack(newApp());

    expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
  });
});
