import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { environmentWithoutAws } from '../test/environment-without-aws';

const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * `cdk synth` of the real app (dist/main.js, built by the `build` target the
 * test depends on) with the real Lambda and device-runner bundles, offline and
 * without any AWS credentials. Everything it writes (the cloud assembly, the
 * CLI's HOME and temp files) is under the returned `home`, for the caller to remove.
 */
function synth(context: string[] = []) {
  const home = mkdtempSync(join(tmpdir(), 'thingcert-synth-'));
  const outdir = join(home, 'cdk.out');
  const tmp = join(home, 'tmp');
  mkdirSync(tmp);
  const result = spawnSync(
    join(projectRoot, 'node_modules/.bin/cdk'),
    ['synth', '--quiet', '--output', outdir, ...context.flatMap((c) => ['--context', c])],
    {
      cwd: projectRoot,
      encoding: 'utf8',
      env: environmentWithoutAws(home, {
        CDK_DISABLE_VERSION_CHECK: 'true',
        // Offline: no telemetry sender (it writes its payload to the temp dir and posts it).
        CDK_DISABLE_CLI_TELEMETRY: 'true',
        TMPDIR: tmp,
      }),
    },
  );
  return { result, outdir, home };
}

describe('cdk synth (CLI, offline, no credentials)', () => {
  const { result, outdir, home } = synth(['region=eu-west-1']);
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('succeeds with zero unacknowledged cdk-nag findings', () => {
    expect(result.stderr).not.toMatch(/ERROR|Error:/);
    expect(result.status).toBe(0);
  });

  const template = JSON.parse(readFileSync(join(outdir, 'Thingcert.template.json'), 'utf8')) as {
    Resources: Record<string, { Type: string; Metadata?: Record<string, unknown> }>;
  };
  const resources = Object.values(template.Resources);

  it('packages the provisioner bundle as the Lambda asset, findable from the template', () => {
    const lambda = resources.find((r) => r.Type === 'AWS::Lambda::Function');
    const assetPath = lambda?.Metadata?.['aws:asset:path'] as string;
    expect(assetPath).toMatch(/^asset\.[0-9a-f]{64}$/);
    const bundled = readFileSync(join(outdir, assetPath, 'index.mjs'), 'utf8');
    expect(bundled).toMatch(/export\s*\{[^}]*handler/);
  });

  it('records the device runner configuration on the instance', () => {
    const instance = resources.find((r) => r.Type === 'AWS::EC2::Instance');
    expect(instance?.Metadata?.['Thingcert::DeviceRunner']).toMatchObject({
      config: { thing: 'thingcert-device-1', topic: 'test/topic', count: 5, forever: true },
    });
  });

  it('hard-codes no account id', () => {
    expect(JSON.stringify(template)).not.toMatch(/\b\d{12}\b/);
  });
});
