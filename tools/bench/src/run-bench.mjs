#!/usr/bin/env node
// `pnpm bench [--quick] [--soak] [--only a,b]`: thingcert's performance, each
// figure next to a baseline measured in the same run (see BENCHMARKS.md).
// Reports, never asserts speed; exits non-zero only when a section could not run.
//   --quick  tiny sizes, one run each, no apt installs, no clone (a test in
//            pnpm test: keeps the harness from rotting); writes tools/bench/results/quick.json only
//   --results-dir  where the results go instead of tools/bench/results (the test's temp dir)
//   --soak   only the soak (10 min); writes tools/bench/results/soak.json
//   --only   just these sections (lambda, provisioning, claim, device,
//            local-cloud, rotation, dev-loop); prints the table, writes tools/bench/results/partial.json
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { renderMarkdown, spliceBenchmarks } from './report.mjs';
import { SECTION_IDS } from './section-ids.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
/** Results live with the harness (tools/bench/README.md); only latest.json is committed. */
const defaultResultsDir = join(here, '..', 'results');
const USAGE = `Usage: pnpm bench [--quick] [--soak] [--only ${SECTION_IDS.join(',')}] [--no-build] [--results-dir <dir>]`;
let flags;
try {
  ({ values: flags } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      soak: { type: 'boolean', default: false },
      only: { type: 'string' },
      'no-build': { type: 'boolean', default: false },
      'results-dir': { type: 'string' },
    },
  }));
} catch (error) {
  process.stderr.write(`bench: ${error.message}\n${USAGE}\n`);
  process.exit(2);
}
const resultsDir = flags['results-dir'] ?? defaultResultsDir;
const only = flags.only?.split(',').map((id) => id.trim());
const unknown = only?.filter((id) => !SECTION_IDS.includes(id)) ?? [];
if (unknown.length > 0 || (only !== undefined && flags.soak)) {
  process.stderr.write(
    `bench: ${unknown.length > 0 ? `unknown section ${unknown.join(', ')}` : '--only and --soak do not combine'}\n${USAGE}\n`,
  );
  process.exit(2);
}
// A partial run never overwrites latest.json or BENCHMARKS.md.
const mode = flags.soak ? 'soak' : flags.quick ? 'quick' : only ? 'partial' : 'full';
const log = (line) => process.stderr.write(`${line}\n`);
const started = performance.now();

if (!flags['no-build']) {
  log('building what the benchmarks run (nx, cached)');
  execFileSync(
    'pnpm',
    [
      'exec',
      'nx',
      'run-many',
      '-t',
      'build',
      '-p',
      'cert-provisioner',
      // The claim section's devices: device-client in worker processes.
      'device-client',
      'device-runner',
      'local-cloud',
      'test-support',
      // The local-cloud section runs `pnpm start --once` (IAM enforced and --no-iam), the
      // rotation section `pnpm start --rotate`: the deployer and the app it synthesizes.
      'local-deploy',
      'infra',
      '--outputStyle=static',
    ],
    {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false' },
    },
  );
}

// The sections import built workspace packages (the local cloud, fixtures), so
// they are loaded only after the build above: on a fresh clone there is no dist yet.
const { claim } = await import('./claim.mjs');
const { device } = await import('./device.mjs');
const { devLoop } = await import('./dev-loop.mjs');
const { lambdaColdInit } = await import('./lambda-cold-init.mjs');
const { localCloud } = await import('./local-cloud.mjs');
const { provisioning } = await import('./provisioning.mjs');
const { rotation } = await import('./rotation.mjs');
const { soak } = await import('./soak.mjs');

let aptUpdated = false;
const ctx = {
  root,
  here,
  resultsDir,
  quick: flags.quick,
  tmp: mkdtempSync(join(tmpdir(), 'thingcert-bench-')),
  log,
  repeat: flags.quick ? { warmup: 0, runs: 1 } : { warmup: 1, runs: 5 },
  allowApt: !flags.quick && process.getuid?.() === 0 && existsSync('/usr/bin/apt-get'),
  /** Debian packages for the baselines; failures only mean a skipped baseline. */
  aptInstall(packages) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const install = () =>
      spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], {
        stdio: 'ignore',
        env,
      }).status === 0;
    if (install()) return;
    if (!aptUpdated) {
      aptUpdated = true;
      spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
      install();
    }
  },
};

const git = (...args) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
const meta = {
  date: new Date().toISOString(),
  node: process.version,
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  platform: `${process.platform}-${process.arch}`,
  commit: git('rev-parse', '--short', 'HEAD'),
  dirty: git('status', '--porcelain').length > 0,
  mode,
};

const sectionsById = {
  lambda: lambdaColdInit,
  provisioning,
  claim,
  device,
  'local-cloud': localCloud,
  rotation,
  'dev-loop': devLoop,
};
const plan = flags.soak ? [soak] : (only ?? SECTION_IDS).map((id) => sectionsById[id]);
const sections = [];
try {
  for (const run of plan) {
    log(`\n== ${run.name}`);
    const sectionStarted = performance.now();
    try {
      sections.push(await run(ctx));
    } catch (error) {
      log(`section ${run.name} failed: ${error.stack ?? error}`);
      sections.push({
        id: run.name,
        title: run.name,
        rows: [],
        notes: [],
        skipped: [],
        scaling: [],
        error: String(error.message ?? error).slice(0, 500),
      });
    }
    log(`   (${((performance.now() - sectionStarted) / 1000).toFixed(1)} s)`);
  }
} finally {
  rmSync(ctx.tmp, { recursive: true, force: true });
}

meta.durationMs = performance.now() - started;
const results = { meta, sections };
const markdown = renderMarkdown(results);
process.stdout.write(`${markdown}\n`);

mkdirSync(resultsDir, { recursive: true });
const file = join(resultsDir, `${mode === 'full' ? 'latest' : mode}.json`);
writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
log(`wrote ${file}`);
if (mode === 'full') {
  const benchmarks = join(root, 'BENCHMARKS.md');
  const existing = existsSync(benchmarks) ? readFileSync(benchmarks, 'utf8') : undefined;
  writeFileSync(benchmarks, spliceBenchmarks(existing, markdown));
  log(`wrote ${benchmarks}`);
}
const failed = sections.filter((s) => s.error !== undefined);
if (failed.length > 0) {
  log(`${failed.length} section(s) failed: ${failed.map((s) => s.id).join(', ')}`);
  process.exitCode = 1;
}
// Stray native handles (aws-crt) must not keep a finished run alive.
setTimeout(() => process.exit(process.exitCode ?? 0), 2000).unref();
