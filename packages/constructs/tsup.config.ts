import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { defineConfig } from 'tsup';
import { libraryBuild } from '../../tools/build/tsup-preset';

/**
 * The device runner is a private app, so the published constructs package
 * ships its built bundle (script, aws-crt binaries, systemd unit) as an asset
 * directory instead of depending on it.
 */
function copyDeviceRunnerBundle(): void {
  const require = createRequire(import.meta.url);
  const source = join(
    dirname(require.resolve('@thingcert/device-runner/package.json')),
    'dist',
    'bundle',
  );
  const target = join('dist', 'assets', 'device-runner');
  rmSync(target, { recursive: true, force: true });
  cpSync(source, target, { recursive: true });
}

export default defineConfig(
  libraryBuild({
    onSuccess: async () => copyDeviceRunnerBundle(),
  }),
);
