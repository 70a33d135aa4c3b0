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
