import { defineConfig, type Options } from 'tsup';
import { libraryBuild } from '../../tools/build/tsup-preset';

/**
 * A Lambda bundle: self-contained ESM files (`.mjs`), AWS SDK included and
 * pinned (see README for the cold-init measurement behind that choice).
 */
function lambdaBundle(entry: Record<string, string>, outDir: string): Options {
  return {
    entry,
    outDir,
    format: ['esm'],
    outExtension: () => ({ js: '.mjs' }),
    platform: 'node',
    target: 'node22',
    noExternal: [/.*/],
    // The SDK's CommonJS parts call require(); ESM has none without this.
    banner: {
      js: "import { createRequire as __thingcertCreateRequire } from 'node:module'; const require = __thingcertCreateRequire(import.meta.url);",
    },
    minify: true,
    dts: false,
    sourcemap: false,
    splitting: false,
    clean: true,
  };
}

export default defineConfig([
  // The library: dist/index.js + index.d.ts, dependencies external. Its clean
  // must spare the Lambda bundles, which the other entries build in parallel.
  // dist/lambda.d.ts types the `./lambda` export (attw wants types for every
  // entry) while keeping dist/lambda/ to the bundle alone.
  libraryBuild({
    clean: ['!lambda/**', '!fleet/**'],
    dts: { entry: { index: 'src/index.ts', lambda: 'src/lambda.ts' } },
  }),
  // The certificate provisioner Lambda: dist/lambda/index.mjs.
  lambdaBundle({ index: 'src/lambda.ts' }, 'dist/lambda'),
  // The fleet functions, one directory (one CDK asset) for both:
  // dist/fleet/pre-provisioning-hook.mjs and dist/fleet/fleet-deregistration.mjs.
  lambdaBundle(
    {
      'pre-provisioning-hook': 'src/fleet-hook-lambda.ts',
      'fleet-deregistration': 'src/fleet-deregistration-lambda.ts',
    },
    'dist/fleet',
  ),
]);
