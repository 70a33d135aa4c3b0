import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as lambda from 'aws-cdk-lib/aws-lambda';

/**
 * Stand-ins for the provisioner and runner bundles in a temp directory, for
 * in-process stack tests that must not depend on other packages' builds (the
 * synth test uses the real ones).
 */
export function fakeBundles(): { provisionerCode: lambda.Code; runnerBundleDirectory: string } {
  const root = mkdtempSync(join(tmpdir(), 'thingcert-infra-'));
  const lambdaDir = join(root, 'lambda');
  const runnerDir = join(root, 'bundle');
  mkdirSync(lambdaDir);
  mkdirSync(runnerDir);
  writeFileSync(join(lambdaDir, 'index.mjs'), 'export const handler = async () => {};\n');
  writeFileSync(join(runnerDir, 'device-runner.mjs'), '// test stand-in\n');
  writeFileSync(join(runnerDir, 'thingcert-device-runner.service'), '[Unit]\n');
  return { provisionerCode: lambda.Code.fromAsset(lambdaDir), runnerBundleDirectory: runnerDir };
}
