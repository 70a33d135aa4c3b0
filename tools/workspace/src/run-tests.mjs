#!/usr/bin/env node
// `pnpm test`: every check of every project through Nx (cached), then one
// summary line `N passed, N failed` summed from each project's vitest JSON
// report. Exits non-zero when any target failed, any test failed, or no test ran.
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureSystemPackages } from './system-packages.mjs';
import { collectReports, summarize } from './test-summary.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const projectDirs = collectReports.projectDirs(root);

// Prettier and Nx run straight from their JavaScript entry points with this
// Node.js, not through `pnpm exec` and a shell shim: fewer process starts on
// every run (a fully cached run is mostly start-up).
const resolveBin = createRequire(join(root, 'package.json')).resolve;
const PRETTIER = resolveBin('prettier/bin/prettier.cjs');
const NX = join(dirname(resolveBin('nx/package.json')), 'dist', 'bin', 'nx.js');

// vitest 5 and changesets 3 need Node.js 22: say so instead of failing deep inside a tool.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  console.error(`pnpm test needs Node.js 22.12 or newer (this is ${process.version}); see README`);
  process.exit(1);
}

const stillMissing = ensureSystemPackages();
if (stillMissing.length > 0) {
  console.error(`cannot run the tests without: ${stillMissing.join(', ')}`);
  process.exit(1);
}

// Reports are Nx outputs: delete them so a stale one can never be counted;
// Nx restores the cached ones when it replays a target.
for (const dir of projectDirs) rmSync(join(dir, 'reports'), { recursive: true, force: true });

// One formatter for the whole repository: unformatted files fail the run. It
// runs beside Nx (it only reads files, and prints only problems) instead of
// adding its seconds after it. Its cache (node_modules/.cache/prettier) skips
// files whose content it already checked with the same version and options:
// formatting every file took ~10 s of CPU on each run, the cached check ~1 s.
const format = new Promise((resolve) => {
  const prettier = spawn(
    process.execPath,
    [PRETTIER, '--check', '.', '--log-level', 'warn', '--cache', '--cache-strategy', 'content'],
    { cwd: root, stdio: 'inherit' },
  );
  prettier.on('error', () => resolve(1));
  prettier.on('close', (code) => resolve(code ?? 1));
});

const targets = process.env.THINGCERT_TEST_TARGETS ?? 'lint,typecheck,test,check-package';
const nx = spawnSync(
  process.execPath,
  [NX, 'run-many', '-t', ...targets.split(','), '--outputStyle=static', ...process.argv.slice(2)],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NX_TUI: 'false' } },
);
const formatStatus = await format;

const totals = summarize(collectReports(root));
for (const line of totals.details) console.log(line);
console.log(`${totals.passed} passed, ${totals.failed} failed`);

if (nx.status !== 0) {
  console.error(`nx run-many exited with ${nx.status ?? nx.signal}`);
  process.exit(1);
}
if (formatStatus !== 0) {
  console.error('formatting: run `pnpm format` (prettier --write .)');
  process.exit(1);
}
if (totals.failed > 0) process.exit(1);
if (totals.passed === 0) {
  console.error('no test ran');
  process.exit(1);
}
