import { Annotations, Stack, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';

/** Id of the warning an environment-agnostic stack gets (for `Annotations` assertions). */
export const UNPINNED_DEVICE_IMAGE_WARNING = '@thingcert/constructs:deviceImageNotPinned';

/**
 * The Amazon Linux 2023 image of a device instance, pinned where CDK can pin it.
 *
 * A new image means a new instance, so following AWS's latest AL2023 at every
 * deploy would replace every device whenever AWS publishes one. In a stack
 * with an account and region the image is looked up once (SSM parameter
 * `/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-<arch>`) and
 * recorded in the app's `cdk.context.json`; later deploys reuse it until the
 * entry is removed (`cdk context --reset <key>`). An environment-agnostic
 * stack cannot look anything up: it resolves the parameter at each deploy, as
 * before, with a warning that says how to pin it.
 */
export function deviceImage(scope: Construct, cpuType: ec2.AmazonLinuxCpuType): ec2.IMachineImage {
  const stack = Stack.of(scope);
  const pinned = !Token.isUnresolved(stack.account) && !Token.isUnresolved(stack.region);
  if (!pinned) {
    Annotations.of(scope).addWarningV2(
      UNPINNED_DEVICE_IMAGE_WARNING,
      'The device image follows the latest Amazon Linux 2023 at every deploy, so a new AMI replaces the device. Give the stack an account and region (env) to pin it in cdk.context.json.',
    );
  }
  // Not MachineImage.latestAmazonLinux2023, which always takes the kernel of
  // the aws-cdk-lib release (`CDK_LATEST`, documented to move and replace
  // instances): AWS's default kernel keeps the parameter, and with it the
  // lookup's context key, the same across aws-cdk-lib upgrades.
  const image = new ec2.AmazonLinux2023ImageSsmParameter({
    cpuType,
    kernel: ec2.AmazonLinux2023Kernel.DEFAULT,
    cachedInContext: pinned,
  });
  return pinned ? new LookedUpImage(image) : image;
}

/** What CDK puts in place of a value it has yet to look up (`StringParameter.valueFromLookup`). */
const LOOKUP_PLACEHOLDER = 'dummy-value-for-';

/**
 * A looked-up image that lets the CLI's first synth pass through.
 *
 * Before the CLI has looked the image up, CDK synthesizes a placeholder id,
 * which CloudFormation Validate (on as an error with the recommended
 * `@aws-cdk/core:validateAgainstDefaultRules`) rejects as malformed (E1152):
 * the app would exit before the CLI could do the lookup and synthesize again
 * with the real id. That pass is never deployed, so the finding is
 * acknowledged on it, and only on it.
 */
class LookedUpImage implements ec2.IMachineImage {
  constructor(private readonly image: ec2.IMachineImage) {}

  getImage(scope: Construct): ec2.MachineImageConfig {
    const config = this.image.getImage(scope);
    if (config.imageId.startsWith(LOOKUP_PLACEHOLDER)) {
      Validations.of(scope).acknowledge({
        id: 'CloudFormation-Validate::E1152',
        reason:
          'The image id is the placeholder of a lookup still to be made; the CLI looks it up and synthesizes again before deploying.',
      });
    }
    return config;
  }
}
