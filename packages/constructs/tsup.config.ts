import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { defineConfig } from 'tsup';
import { dualLibraryBuild } from '../../tools/build/tsup-preset';

/**
 * Copies a workspace package's built bundle into `dist/assets/<name>`. The
 * published package ships the bundles it deploys as asset directories instead
 * of depending on their packages: the device runner is a private app, and the
 * provisioner package would bring the AWS SDK clients (which its Lambda bundle
 * already contains) into every CDK app.
 */
function copyBundle(packageName: string, bundleDirectory: string, name: string): void {
  const require = createRequire(import.meta.url);
  const source = join(dirname(require.resolve(`${packageName}/package.json`)), bundleDirectory);
  const target = join('dist', 'assets', name);
  rmSync(target, { recursive: true, force: true });
  cpSync(source, target, { recursive: true });
}

// ESM and CommonJS: `cdk init app --language typescript` makes a CommonJS app.
export default defineConfig(
  dualLibraryBuild({
    onSuccess: async () => {
      copyBundle('@thingcert/device-runner', join('dist', 'bundle'), 'device-runner');
      copyBundle('@thingcert/cert-provisioner', join('dist', 'lambda'), 'provisioner');
      copyBundle('@thingcert/cert-provisioner', join('dist', 'fleet'), 'fleet');
    },
  }),
);
