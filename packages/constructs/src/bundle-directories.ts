import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MissingBundleError } from './errors';

/**
 * Directory of a workspace package's built bundle, found through the package's
 * `package.json` (resolved from this module, so it works from `dist` and from a
 * consumer's `node_modules` alike). The bundles are deployed as assets, never
 * imported as code.
 */
function bundleDirectory(packageName: string, subdirectory: string, buildHint: string): string {
  const require = createRequire(import.meta.url);
  let packageJson: string;
  try {
    packageJson = require.resolve(`${packageName}/package.json`);
  } catch (error) {
    throw new MissingBundleError(`Cannot find package ${packageName}; is it installed?`, {
      cause: error,
    });
  }
  const directory = join(dirname(packageJson), subdirectory);
  assertBundleDirectory(directory, `${packageName} bundle`, buildHint);
  return directory;
}

/**
 * Throws a {@link MissingBundleError} naming the build command when `directory`
 * does not exist, instead of CDK's bare "Cannot find asset".
 */
export function assertBundleDirectory(directory: string, what: string, buildHint: string): void {
  if (!existsSync(directory)) {
    throw new MissingBundleError(`${what} not found at ${directory}; build it first: ${buildHint}`);
  }
}

/**
 * Directory holding the provisioner Lambda bundle (`index.mjs`, handler
 * `index.handler`) of `@thingcert/cert-provisioner`.
 *
 * @throws MissingBundleError when the package has not been built
 */
export function provisionerBundleDirectory(): string {
  return bundleDirectory(
    '@thingcert/cert-provisioner',
    'dist/lambda',
    'pnpm exec nx run cert-provisioner:build',
  );
}

/**
 * Directory holding the self-contained device runner bundle (script, native
 * aws-crt binaries and the systemd unit): shipped in this package's
 * `dist/assets/device-runner`, or `@thingcert/device-runner`'s build output
 * when running from source in the workspace.
 *
 * @throws MissingBundleError when the package has not been built
 */
export function deviceRunnerBundleDirectory(): string {
  // Published package: the bundle ships in dist/assets (see tsup.config.ts).
  const shipped = fileURLToPath(new URL('./assets/device-runner', import.meta.url));
  if (existsSync(shipped)) return shipped;
  // In the workspace, running from source: the app's own build output.
  return bundleDirectory(
    '@thingcert/device-runner',
    'dist/bundle',
    'pnpm exec nx run device-runner:build',
  );
}
