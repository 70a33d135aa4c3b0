import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';

/**
 * Stand-ins for the provisioner and runner bundles, in a temp directory: the
 * constructs only need directories to package as assets, and unit tests must
 * not depend on other packages having been built.
 */
export function fakeBundles(): { provisionerCode: lambda.Code; runnerBundleDirectory: string } {
  const root = mkdtempSync(join(tmpdir(), 'thingcert-constructs-'));
  const lambdaDir = join(root, 'lambda');
  const runnerDir = join(root, 'bundle');
  mkdirSync(lambdaDir);
  mkdirSync(runnerDir);
  writeFileSync(join(lambdaDir, 'index.mjs'), 'export const handler = async () => {};\n');
  writeFileSync(join(runnerDir, 'device-runner.mjs'), '// test stand-in\n');
  writeFileSync(join(runnerDir, 'thingcert-device-runner.service'), '[Unit]\n');
  return { provisionerCode: lambda.Code.fromAsset(lambdaDir), runnerBundleDirectory: runnerDir };
}

/** A fresh app and env-agnostic stack, optionally with cdk-nag AwsSolutions checks. */
export function newStack(options: { nag?: boolean } = {}): { app: App; stack: Stack } {
  const app = new App();
  if (options.nag) {
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  }
  const stack = new Stack(app, 'Test');
  return { app, stack };
}

/** A VPC with public subnets only (no NAT), as the device instances need. */
export function publicVpc(stack: Stack): ec2.Vpc {
  return new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 1,
    natGateways: 0,
    subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }],
  });
}

/** The stack's template. */
export function templateOf(stack: Stack): Template {
  return Template.fromStack(stack);
}
