import { Annotations, FeatureFlags } from 'aws-cdk-lib';
import * as cxapi from 'aws-cdk-lib/cx-api';
import type { Construct } from 'constructs';

/** Id of the error an app without the flag gets (for `Annotations` assertions). */
export const LAUNCH_TEMPLATE_NAME_FLAG_ERROR = '@thingcert/constructs:uniqueImdsv2TemplateName';

/**
 * Feature flags are the app's choice, so the constructs do not set them; but
 * an IMDSv2-only instance needs `@aws-cdk/aws-ec2:uniqueImdsv2TemplateName`:
 * without it every device's launch template is named `InstanceLaunchTemplate`,
 * and launch template names are unique per account and region, so a second
 * device (or stack) fails to deploy. Fresh `cdk init` apps set the flag in
 * `cdk.json`; an app that lacks it gets a synth error that says so.
 */
export function requireUniqueLaunchTemplateNames(scope: Construct): void {
  if (FeatureFlags.of(scope).isEnabled(cxapi.EC2_UNIQUE_IMDSV2_LAUNCH_TEMPLATE_NAME)) return;
  Annotations.of(scope).addError(
    `[${LAUNCH_TEMPLATE_NAME_FLAG_ERROR}] Set "${cxapi.EC2_UNIQUE_IMDSV2_LAUNCH_TEMPLATE_NAME}": true in the "context" of cdk.json (fresh cdk init apps have it): without it every device's IMDSv2 launch template is named InstanceLaunchTemplate, and those names collide in a region.`,
  );
}
