import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// Proves the module-boundary rules in eslint.config.mjs bite: each probe is
// linted as if it were a source file of the named project, with the real
// workspace config and project graph.
const root = join(import.meta.dirname, '..', '..', '..');

// Only the boundary rule runs, without type information: building a
// TypeScript program per probe cost ~10 s and tested nothing here.
const eslint = new ESLint({
  cwd: root,
  overrideConfig: { languageOptions: { parserOptions: { projectService: false, project: null } } },
  ruleFilter: ({ ruleId }) => ruleId === '@nx/enforce-module-boundaries',
});

async function boundaryErrors(projectFile: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, projectFile) });
  const fatal = result?.messages.find((message) => message.fatal);
  if (fatal) throw new Error(`${projectFile}: ${fatal.message}`);
  return (result?.messages ?? [])
    .filter((message) => message.ruleId === '@nx/enforce-module-boundaries')
    .map((message) => message.message);
}

describe('module boundaries', () => {
  it.each([
    ['Lambda code', 'packages/cert-provisioner/src/index.ts', 'aws-cdk-lib'],
    ['Lambda code', 'packages/cert-provisioner/src/index.ts', 'constructs'],
    ['Lambda code', 'packages/cert-provisioner/src/index.ts', 'aws-iot-device-sdk-v2'],
    ['shared code', 'packages/cfn-response/src/index.ts', 'aws-cdk-lib/aws-s3'],
    ['device code', 'packages/device-client/src/index.ts', 'aws-cdk-lib'],
    ['device app code', 'apps/device-runner/src/cli.ts', 'aws-cdk-lib'],
  ])('%s (%s) may not import %s', async (_what, file, banned) => {
    const errors = await boundaryErrors(
      file,
      `import * as banned from '${banned}';\nexport { banned };\n`,
    );
    expect(errors.join('\n')).toContain(`is not allowed to import "${banned}"`);
  });

  it('device code may use the device SDK', async () => {
    const errors = await boundaryErrors(
      'packages/device-client/src/index.ts',
      `import { mqtt } from 'aws-iot-device-sdk-v2';\nexport { mqtt };\n`,
    );
    expect(errors).toEqual([]);
  });

  it('Lambda code may not depend on a device library', async () => {
    const errors = await boundaryErrors(
      'packages/cert-provisioner/src/index.ts',
      `export { fetchCredentials } from '@thingcert/device-client';\n`,
    );
    expect(errors.join('\n')).toMatch(/runtime:lambda.*can only depend on libs tagged with/);
  });

  it('production Lambda code may not import the local cloud, but its tests may', async () => {
    const source = `export { startLocalCloud } from '@thingcert/local-cloud';\n`;
    expect(await boundaryErrors('packages/cert-provisioner/src/index.ts', source)).not.toEqual([]);
    expect(
      await boundaryErrors('packages/cert-provisioner/src/provision.integ.test.ts', source),
    ).toEqual([]);
  });
});
