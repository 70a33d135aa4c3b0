import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MissingBundleError } from './errors';

/**
 * Directory of a workspace package's built bundle, found through the package's
 * `package.json` resolved from this module (a devDependency: the workspace
 * runs the constructs from source before they are built). The bundles are
 * deployed as assets, never imported as code.
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
 * A bundle this package ships in `dist/assets/<name>` (copied there at build
 * time, see tsup.config.ts), or, in the workspace when running from source,
 * the build output of the package that makes it.
 */
function shippedOrWorkspaceBundle(
  name: string,
  packageName: string,
  subdirectory: string,
  buildHint: string,
): string {
  // Resolved next to this module: dist/assets in the published package, for
  // its ESM and CommonJS builds alike.
  const shipped = fileURLToPath(new URL(`./assets/${name}`, import.meta.url));
  if (existsSync(shipped)) return shipped;
  return bundleDirectory(packageName, subdirectory, buildHint);
}

/**
 * Directory holding the provisioner Lambda bundle (`index.mjs`, handler
 * `index.handler`, the AWS SDK clients inside): shipped in this package's
 * `dist/assets/provisioner`, or `@thingcert/cert-provisioner`'s build output
 * (`dist/lambda`) when running from source in the workspace.
 *
 * @throws MissingBundleError when the package has not been built
 */
export function provisionerBundleDirectory(): string {
  return shippedOrWorkspaceBundle(
    'provisioner',
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
  return shippedOrWorkspaceBundle(
    'device-runner',
    '@thingcert/device-runner',
    'dist/bundle',
    'pnpm exec nx run device-runner:build',
  );
}

/**
 * Directory holding the fleet functions (`pre-provisioning-hook.mjs` and
 * `fleet-deregistration.mjs`, each exporting `handler`, the AWS SDK clients
 * inside): shipped in this package's `dist/assets/fleet`, or
 * `@thingcert/cert-provisioner`'s build output (`dist/fleet`) when running
 * from source in the workspace.
 *
 * @throws MissingBundleError when the package has not been built
 */
export function fleetFunctionsBundleDirectory(): string {
  return shippedOrWorkspaceBundle(
    'fleet',
    '@thingcert/cert-provisioner',
    'dist/fleet',
    'pnpm exec nx run cert-provisioner:build',
  );
}
