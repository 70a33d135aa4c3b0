import { realpathSync } from 'node:fs';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { defineConfig, type Options } from 'tsup';
import { libraryBuild } from '../../tools/build/tsup-preset';

/**
 * Two outputs:
 * - `dist/cli.js`: the `device-runner` bin for this workspace (dependencies
 *   resolved from node_modules).
 * - `dist/bundle/`: the self-contained directory for EC2: every JS dependency
 *   in `device-runner.mjs`, plus only aws-crt's linux x64/arm64 glibc native
 *   binaries and the systemd unit.
 */
const CRT_TARGETS = ['linux-x64-glibc', 'linux-arm64-glibc'];
const BUNDLE_DIR = 'dist/bundle';

/** aws-crt looks for `<its dir>/../../bin/<platform>/aws-crt-nodejs.node`; point it at the bundle's `bin/`. */
const crtBinaryPlugin = {
  name: 'aws-crt-binary-location',
  setup(build: {
    onLoad: (
      o: { filter: RegExp },
      cb: (a: { path: string }) => Promise<{ contents: string; loader: 'js' }>,
    ) => void;
  }) {
    build.onLoad({ filter: /aws-crt[\\/]dist[\\/]native[\\/]binding\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const needle = "path.resolve(__dirname, '..', '..')";
      if (!source.includes(needle)) {
        throw new Error(`aws-crt binding.js changed: '${needle}' not found; update tsup.config.ts`);
      }
      return { contents: source.replace(needle, '__thingcertBundleDir'), loader: 'js' };
    });
  },
};

async function finishBundle(): Promise<void> {
  // Follow the pnpm links by path (device-client → aws-iot-device-sdk-v2 → aws-crt)
  // so the copied binaries are exactly those of the bundled aws-crt version.
  const deviceClient = realpathSync('node_modules/@thingcert/device-client');
  const iotSdk = dirname(
    createRequire(join(deviceClient, 'package.json')).resolve('aws-iot-device-sdk-v2/package.json'),
  );
  const crtRoot = dirname(
    createRequire(join(iotSdk, 'package.json')).resolve('aws-crt/package.json'),
  );
  await rm(join(BUNDLE_DIR, 'bin'), { recursive: true, force: true });
  for (const target of CRT_TARGETS) {
    await mkdir(join(BUNDLE_DIR, 'bin', target), { recursive: true });
    await cp(
      join(crtRoot, 'dist', 'bin', target, 'aws-crt-nodejs.node'),
      join(BUNDLE_DIR, 'bin', target, 'aws-crt-nodejs.node'),
    );
  }
  await cp(
    'deploy/thingcert-device-runner.service',
    join(BUNDLE_DIR, 'thingcert-device-runner.service'),
  );
  await cp('deploy/device-runner.example.json', join(BUNDLE_DIR, 'device-runner.example.json'));
  await writeFile(join(BUNDLE_DIR, 'package.json'), '{ "type": "module" }\n');
}

const cli: Options = libraryBuild({
  entry: { cli: 'src/cli.ts' },
  dts: false,
  // Keep dist/bundle, built by the second config at the same time.
  clean: ['!bundle', '!bundle/**'],
});

const bundle: Options = {
  entry: { 'device-runner': 'src/cli.ts' },
  outDir: BUNDLE_DIR,
  format: ['esm'],
  platform: 'node',
  target: 'node22',
  outExtension: () => ({ js: '.mjs' }),
  noExternal: [/.*/],
  splitting: false,
  sourcemap: false,
  minify: true,
  clean: true,
  dts: false,
  banner: {
    // CommonJS dependencies (aws-crt, the AWS SDK) call require() and use the
    // bundle's directory to find the native binary.
    js: [
      "import { createRequire as __thingcertCreateRequire } from 'node:module';",
      "import { dirname as __thingcertDirname } from 'node:path';",
      "import { fileURLToPath as __thingcertFileURLToPath } from 'node:url';",
      'const require = __thingcertCreateRequire(import.meta.url);',
      'const __thingcertBundleDir = __thingcertDirname(__thingcertFileURLToPath(import.meta.url));',
    ].join('\n'),
  },
  esbuildPlugins: [crtBinaryPlugin as never],
  onSuccess: finishBundle,
};

export default defineConfig([cli, bundle]);
