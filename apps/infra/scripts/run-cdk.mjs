#!/usr/bin/env node
// `pnpm nx deploy|diff|destroy infra`: the preflight first (AWS credentials
// and a region), then the build (Nx, cached), then the CDK CLI. Nx targets
// that depended on a preflight target ran it beside the builds and let them
// finish; here nothing builds until the preflight has passed, and a failed
// one exits 1 at once with its one line.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { preflight } from './preflight.mjs';

const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const workspaceRoot = join(projectRoot, '..', '..');

/**
 * @typedef {object} RunCdkSteps
 * @property {(args: readonly string[]) => Promise<{ ok: true, summary: string } | { ok: false, message: string }>} preflight
 * @property {() => number} build builds the app and what it bundles; returns the exit code
 * @property {(args: readonly string[]) => number} cdk runs the CDK CLI; returns its exit code
 * @property {{ log: (line: string) => void, error: (line: string) => void }} console
 */

/**
 * Runs `cdk <command> <args>` after the preflight and the build.
 *
 * @param {string} command `deploy`, `diff` or `destroy`
 * @param {readonly string[]} args the CDK CLI's arguments (`-c key=value`, `--force`, …)
 * @param {RunCdkSteps} steps
 * @returns {Promise<number>} the exit code: 1 when the preflight fails, else the build's or the CLI's
 */
export async function runCdk(command, args, steps) {
  const checked = await steps.preflight(args);
  if (!checked.ok) {
    steps.console.error(checked.message);
    return 1;
  }
  steps.console.log(checked.summary);
  const built = steps.build();
  if (built !== 0) return built;
  return steps.cdk([command, ...args]);
}

/** The real steps: the preflight, `nx run infra:build`, and the workspace's CDK CLI. */
function realSteps() {
  const resolve = createRequire(join(workspaceRoot, 'package.json')).resolve;
  const nx = join(dirname(resolve('nx/package.json')), 'dist', 'bin', 'nx.js');
  const run = (file, args, cwd) => spawnSync(file, args, { cwd, stdio: 'inherit' }).status ?? 1;
  return {
    preflight: (args) => preflight({ args }),
    build: () =>
      run(process.execPath, [nx, 'run', 'infra:build', '--outputStyle=static'], workspaceRoot),
    cdk: (args) => run(join(projectRoot, 'node_modules', '.bin', 'cdk'), args, projectRoot),
    console,
  };
}

const invokedDirectly = process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  const [command, ...args] = process.argv.slice(2);
  if (command !== 'deploy' && command !== 'diff' && command !== 'destroy') {
    console.error('usage: node scripts/run-cdk.mjs deploy|diff|destroy [cdk arguments]');
    process.exit(2);
  }
  process.exitCode = await runCdk(command, args, realSteps());
}
