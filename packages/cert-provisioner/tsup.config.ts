import { defineConfig } from 'tsup';
import { libraryBuild } from '../../tools/build/tsup-preset';

export default defineConfig([
  // The library: dist/index.js + index.d.ts, dependencies external. Its clean
  // must spare the Lambda bundle, which the second entry builds in parallel.
  // dist/lambda.d.ts types the `./lambda` export (attw wants types for every
  // entry) while keeping dist/lambda/ to the bundle alone.
  libraryBuild({
    clean: ['!lambda/**'],
    dts: { entry: { index: 'src/index.ts', lambda: 'src/lambda.ts' } },
  }),
  // The Lambda: one self-contained ESM file, AWS SDK included and pinned (see
  // README for the cold-init measurement behind that choice).
  {
    entry: { index: 'src/lambda.ts' },
    outDir: 'dist/lambda',
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
  },
]);
