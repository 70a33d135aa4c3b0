#!/usr/bin/env node
// `pnpm test`: every check of every project through Nx (cached), then one
// summary line `N passed, N failed` summed from each project's vitest JSON
// report. Exits non-zero when any target failed, any test failed, or no test ran.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureSystemPackages } from './system-packages.mjs';
import { collectReports, summarize } from './test-summary.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const projectDirs = collectReports.projectDirs(root);

// Nx runs straight from its JavaScript entry point with this Node.js, not
// through `pnpm exec` and a shell shim: fewer process starts on every run (a
// fully cached run is mostly start-up).
const resolveBin = createRequire(join(root, 'package.json')).resolve;
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

// One formatter for the whole repository: unformatted files fail the run.
// Prettier is the Nx target workspace:format-check, whose inputs are every
// file of the repository: Nx hashes them anyway, so when nothing changed it
// replays the cached check instead of starting Prettier (~1.3 s of CPU even
// with Prettier's own cache).
const targets =
  process.env.THINGCERT_TEST_TARGETS ?? 'format-check,lint,typecheck,test,check-package';

/** `nx run-many -t <targets>` with this script's arguments (e.g. `--exclude`); its exit status or signal. */
function runMany(runTargets) {
  const result = spawnSync(
    process.execPath,
    [NX, 'run-many', '-t', runTargets, '--outputStyle=static', ...process.argv.slice(2)],
    {
      cwd: root,
      stdio: 'inherit',
      env: {
        ...process.env,
        NX_TUI: 'false',
        // Nx builds its project graph in plugin worker processes unless told
        // not to; this workspace uses only Nx's built-in package.json plugin, and
        // in-process a fully cached run of Nx took ~0.8 s instead of ~2.5 s.
        NX_ISOLATE_PLUGINS: process.env.NX_ISOLATE_PLUGINS ?? 'false',
      },
    },
  );
  return result.status ?? result.signal;
}

// Every build first, then the checks. In one run, Nx hands its few slots to
// whichever tasks are ready: the tests of the bottom packages took them while
// the builds that local-deploy's tests wait for (the longest task, at the end
// of the chain) queued behind, and those tests started minutes late. With the
// builds done, Nx starts the tasks of the projects with the most dependencies
// first: local-deploy's.
const built = runMany('build');
const nxStatus = built === 0 ? runMany(targets) : built;

const totals = summarize(collectReports(root));
for (const line of totals.details) console.log(line);
console.log(`${totals.passed} passed, ${totals.failed} failed`);

if (nxStatus !== 0) {
  console.error(
    `nx run-many exited with ${nxStatus} (if workspace:format-check failed: pnpm format)`,
  );
  process.exit(1);
}
if (totals.failed > 0) process.exit(1);
if (totals.passed === 0) {
  console.error('no test ran');
  process.exit(1);
}
