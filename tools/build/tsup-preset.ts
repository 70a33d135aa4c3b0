import type { Options } from 'tsup';

/**
 * The one tsup configuration every thingcert package builds with, so that a
 * later move to another bundler (tsup is in maintenance) touches one file.
 *
 * Libraries ship ESM plus a bundled `.d.ts`; dependencies stay external
 * (tsup's default for `dependencies`/`peerDependencies`).
 */
export function libraryBuild(overrides: Options = {}): Options {
  return {
    entry: ['src/index.ts'],
    format: ['esm'],
    platform: 'node',
    target: 'node22',
    dts: true,
    sourcemap: true,
    clean: true,
    outDir: 'dist',
    ...overrides,
  };
}

/**
 * {@link libraryBuild} plus CommonJS beside the ESM: `index.js` + `index.d.ts`
 * for `import`, `index.cjs` + `index.d.cts` for `require`.
 *
 * For the libraries a CDK app loads at synth time (`@thingcert/constructs` and
 * what it imports): `cdk init app --language typescript` makes a CommonJS app
 * whose jest tests `require()` them, and jest cannot load ESM-only packages.
 * `shims` gives the CommonJS build a working `import.meta.url` (the constructs
 * find their bundled assets next to the module with it).
 */
export function dualLibraryBuild(overrides: Options = {}): Options {
  return libraryBuild({ format: ['esm', 'cjs'], shims: true, ...overrides });
}
