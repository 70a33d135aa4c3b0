#!/usr/bin/env node
// The `typecheck` target of every project: `tsc -p tsconfig.json --noEmit`
// with TypeScript 7, the native compiler, which checks the same programs as
// TypeScript 6 with a third to a fifth of the CPU (measured per project, see
// BENCHMARKS.md). TypeScript 6 stays the workspace's `typescript`: ESLint's
// type-aware rules, tsup's declarations and attw load its JavaScript API,
// which TypeScript 7 does not offer. TypeScript 7 is installed under an alias
// in this package only, so that its `tsc` binary never shadows TypeScript 6's.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const packageDir = dirname(createRequire(import.meta.url).resolve('typescript-7/package.json'));
// The package finds its platform binary itself (it ships one per platform as
// an optional dependency); running that binary directly saves a Node.js start.
const { default: getExePath } = await import(
  pathToFileURL(join(packageDir, 'lib', 'getExePath.js')).href
);

try {
  execFileSync(getExePath(), ['-p', 'tsconfig.json', '--noEmit', ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
} catch (error) {
  // The compiler printed its diagnostics; its status says how it ended.
  process.exitCode = typeof error.status === 'number' ? error.status : 1;
  if (typeof error.status !== 'number') console.error(error.message);
}
