import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { CloudAssembly } from 'aws-cdk-lib/cx-api';

// One temp directory per test file for the bundle stand-ins and the apps'
// cloud assemblies, made on first use; the file removes it with
// `afterAll(removeStackFixtures)`. Files share this module in a worker
// (isolate: false) but run one after another.
let root: string | undefined;

function fixtureDirectory(name: string): string {
  root ??= mkdtempSync(join(tmpdir(), 'thingcert-infra-'));
  return mkdtempSync(join(root, `${name}-`));
}

/**
 * Stand-ins for the provisioner and runner bundles in the test file's temp
 * directory, for in-process stack tests that must not depend on other
 * packages' builds (the synth test uses the real ones).
 */
export function fakeBundles(): {
  provisionerCode: lambda.Code;
  fleetFunctionsCode: lambda.Code;
  runnerBundleDirectory: string;
} {
  const bundles = fixtureDirectory('bundles');
  const lambdaDir = join(bundles, 'lambda');
  const runnerDir = join(bundles, 'bundle');
  mkdirSync(lambdaDir);
  mkdirSync(runnerDir);
  writeFileSync(join(lambdaDir, 'index.mjs'), 'export const handler = async () => {};\n');
  writeFileSync(join(runnerDir, 'device-runner.mjs'), '// test stand-in\n');
  writeFileSync(join(runnerDir, 'thingcert-device-runner.service'), '[Unit]\n');
  return {
    provisionerCode: lambda.Code.fromAsset(lambdaDir),
    fleetFunctionsCode: lambda.Code.fromAsset(lambdaDir),
    runnerBundleDirectory: runnerDir,
  };
}

/** The `context` of the app's cdk.json (feature flags and settings), as the CDK CLI passes it. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = join(import.meta.dirname, '..', 'cdk.json');
  return (JSON.parse(readFileSync(cdkJson, 'utf8')) as { context: Record<string, unknown> })
    .context;
}

/**
 * A fresh app with cdk.json's context (so in-process tests synthesize with the
 * feature flags `cdk synth` uses) and `extraContext`, whose cloud assembly goes
 * to the test file's temp directory (without an `outdir`, CDK makes a
 * `cdk.out*` temp directory per app and removes it only on a process `exit`
 * that vitest workers never emit).
 */
export function newApp(extraContext: Record<string, unknown> = {}): App {
  return new App({
    outdir: fixtureDirectory('cdk.out'),
    context: { ...cdkJsonContext(), ...extraContext },
  });
}

/**
 * Removes everything {@link fakeBundles} and {@link newApp} wrote for the
 * current test file, and any temp cloud assembly of an app made without
 * {@link newApp}. Register it with `afterAll` in every file that uses them.
 */
export function removeStackFixtures(): void {
  if (root) rmSync(root, { recursive: true, force: true });
  root = undefined;
  CloudAssembly.cleanupTemporaryDirectories();
}
