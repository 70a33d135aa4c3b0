#!/usr/bin/env node
// `pnpm test`: every check of every project through Nx (cached), then one
// summary line `N passed, N failed` summed from each project's vitest JSON
// report. Exits non-zero when any target failed, any test failed, or no test ran.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureSystemPackages } from './system-packages.mjs';
import { collectReports, failedTasks, summarize } from './test-summary.mjs';

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

/**
 * The projects whose tests take minutes and wait for many builds, and that no
 * project depends on (so one Nx run starts them last): local-deploy runs the
 * whole stack (synth, local cloud, Lambda and device processes), bench its
 * quick harness, workspace a fresh CDK app with the packed packages.
 */
const LONG_POLES = ['local-deploy', 'bench', 'workspace'];

const nxEnv = {
  ...process.env,
  // Node's on-disk V8 code cache (Node 22.1+) for every task and the
  // processes they start: ESLint, vitest workers and the CDK synths load the
  // same large module graphs over and over. Changes no behaviour.
  NODE_COMPILE_CACHE:
    process.env.NODE_COMPILE_CACHE ?? join(root, 'node_modules', '.cache', 'node-compile-cache'),
  NX_TUI: 'false',
  // Nx's output reaches the terminal through a pipe (it is kept to name the
  // failed tasks at the end): keep its colours when ours is a terminal.
  ...(process.stdout.isTTY && process.env.FORCE_COLOR === undefined ? { FORCE_COLOR: '1' } : {}),
  // Nx builds its project graph in plugin worker processes unless told
  // not to; this workspace uses only Nx's built-in package.json plugin, and
  // in-process a fully cached run of Nx took ~0.8 s instead of ~2.5 s.
  NX_ISOLATE_PLUGINS: process.env.NX_ISOLATE_PLUGINS ?? 'false',
};

/**
 * `nx run-many -t <targets> <args>`. Its output (stdout and stderr, where Nx
 * prints a failed run's summary) goes to ours as it comes, or, with
 * `buffered`, is kept in arrival order until the caller prints it; either way
 * it is kept for {@link failedTasks}. Resolves to its exit status (or signal)
 * and output.
 */
function runMany(runTargets, args, options = {}) {
  const child = spawn(
    process.execPath,
    [NX, 'run-many', '-t', runTargets, '--outputStyle=static', ...args],
    { cwd: root, stdio: ['inherit', 'pipe', 'pipe'], env: nxEnv },
  );
  const output = [];
  for (const [from, to] of [
    [child.stdout, process.stdout],
    [child.stderr, process.stderr],
  ]) {
    from.on('data', (chunk) => {
      output.push(chunk);
      if (!options.buffered) to.write(chunk);
    });
  }
  return new Promise((resolve) => {
    child.on('close', (status, signal) =>
      resolve({ status: status ?? signal, output: Buffer.concat(output) }),
    );
  });
}

const userArgs = process.argv.slice(2);
const build = await runMany('build', userArgs);
// The checks run after every build, without their task dependencies
// (`--excludeTaskDependencies`): the builds are done, and without the Nx
// daemon a cache hit always copies the outputs back (rewriting `dist` in place),
// so a second Nx run replaying the builds would pull `dist` from under the
// tasks of the first (a check failed that way on CI with every test green).
const checkArgs = [...userArgs, '--excludeTaskDependencies'];
let runs = [build];
if (build.status === 0 && userArgs.length > 0) {
  runs = [build, await runMany(targets, checkArgs)];
} else if (build.status === 0) {
  // The long poles in an Nx run of their own beside the rest. Nx starts
  // ready tasks of the projects most others depend on first, so in one run
  // the long poles' tests started last, minutes after the others, and ended
  // alone with a core idle. Their output is printed once both runs are over,
  // after the rest's.
  const poles = runMany(targets, [...checkArgs, '--projects', LONG_POLES.join(',')], {
    buffered: true,
  });
  const rest = await runMany(targets, [...checkArgs, '--exclude', LONG_POLES.join(',')]);
  const longPoles = await poles;
  process.stdout.write(longPoles.output);
  runs = [build, rest, longPoles];
}
const nxStatus = runs.map((run) => run.status).find((status) => status !== 0) ?? 0;

const totals = summarize(collectReports(root));
for (const line of totals.details) console.log(line);
console.log(`${totals.passed} passed, ${totals.failed} failed`);

if (nxStatus !== 0) {
  // Nx names them in its summary, which the long poles' output can push far
  // up the log: name them again last, where a log's tail shows them.
  const failed = runs.flatMap((run) => failedTasks(run.output.toString('utf8')));
  console.error(
    `nx run-many exited with ${nxStatus}; failed: ${failed.join(', ') || 'see the Nx output above'}` +
      (failed.includes('workspace:format-check') ? ' (pnpm format fixes the formatting)' : ''),
  );
  process.exit(1);
}
if (totals.failed > 0) process.exit(1);
if (totals.passed === 0) {
  console.error('no test ran');
  process.exit(1);
}
