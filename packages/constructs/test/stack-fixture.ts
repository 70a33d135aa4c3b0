import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';

// One temp directory per test file for everything the fixtures write (bundle
// stand-ins, every app's cloud assembly), made on first use and removed by
// removeStackFixtures after the file (test/remove-stack-fixtures.ts). Files
// share this module in a worker (isolate: false) but run one after another.
let root: string | undefined;
let bundles: { lambdaDir: string; runnerDir: string } | undefined;

function fixtureRoot(): string {
  root ??= mkdtempSync(join(tmpdir(), 'thingcert-constructs-'));
  return root;
}

/**
 * Stand-ins for the provisioner and runner bundles, in the test file's temp
 * directory: the constructs only need directories to package as assets, and
 * unit tests must not depend on other packages having been built.
 */
export function fakeBundles(): { provisionerCode: lambda.Code; runnerBundleDirectory: string } {
  if (!bundles) {
    const lambdaDir = join(fixtureRoot(), 'lambda');
    const runnerDir = join(fixtureRoot(), 'bundle');
    mkdirSync(lambdaDir);
    mkdirSync(runnerDir);
    writeFileSync(join(lambdaDir, 'index.mjs'), 'export const handler = async () => {};\n');
    writeFileSync(join(runnerDir, 'device-runner.mjs'), '// test stand-in\n');
    writeFileSync(join(runnerDir, 'thingcert-device-runner.service'), '[Unit]\n');
    bundles = { lambdaDir, runnerDir };
  }
  return {
    provisionerCode: lambda.Code.fromAsset(bundles.lambdaDir),
    runnerBundleDirectory: bundles.runnerDir,
  };
}

/**
 * The feature flag every app with device instances sets in `cdk.json` (fresh
 * `cdk init` apps do), so the tests' apps set it too.
 */
export const UNIQUE_LAUNCH_TEMPLATE_NAMES = { '@aws-cdk/aws-ec2:uniqueImdsv2TemplateName': true };

/**
 * A fresh app whose cloud assembly goes to the test file's temp directory
 * (without an `outdir`, CDK makes a `cdk.out*` temp directory per app and
 * removes it only on a process `exit` that vitest workers never emit). Its
 * context is {@link UNIQUE_LAUNCH_TEMPLATE_NAMES} unless `context` is given.
 */
export function newApp(context: Record<string, unknown> = UNIQUE_LAUNCH_TEMPLATE_NAMES): App {
  return new App({ outdir: mkdtempSync(join(fixtureRoot(), 'cdk.out-')), context });
}

/** A fresh app and env-agnostic stack, optionally with cdk-nag AwsSolutions checks. */
export function newStack(options: { nag?: boolean } = {}): { app: App; stack: Stack } {
  const app = newApp();
  if (options.nag) {
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  }
  const stack = new Stack(app, 'Test');
  return { app, stack };
}

/**
 * Removes everything the fixtures wrote for the current test file, and any
 * temp cloud assembly of an app made without {@link newApp}.
 */
export function removeStackFixtures(): void {
  if (root) rmSync(root, { recursive: true, force: true });
  root = undefined;
  bundles = undefined;
  CloudAssembly.cleanupTemporaryDirectories();
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

/**
 * Synthesizes `app` (made with `newStack({ nag: true })`) and answers the
 * cdk-nag findings of its validation report (`rule` or `rule resources`) and
 * what the synth threw, if anything.
 */
export function synthNagFindings(
  app: App,
  options: { withResources?: boolean } = {},
): { findings: string[]; failure: unknown } {
  let failure: unknown;
  try {
    app.synth();
  } catch (error) {
    failure = error;
  }
  const report = join(app.outdir, 'validation-report.json');
  const findings = existsSync(report)
    ? (
        JSON.parse(readFileSync(report, 'utf8')) as {
          pluginReports: { violations: { ruleName: string; violatingResources: unknown[] }[] }[];
        }
      ).pluginReports.flatMap((plugin) =>
        plugin.violations.map((v) =>
          options.withResources
            ? `${v.ruleName} ${JSON.stringify(v.violatingResources)}`
            : v.ruleName,
        ),
      )
    : [];
  return { findings, failure };
}
