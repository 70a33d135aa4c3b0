// 5. Developer loop, in a temporary clone of the committed HEAD (never the
// working checkout): install, cold `pnpm test`, fully cached `pnpm test`, and
// `nx affected -t test` after a one-line change in each library package.
import { execFileSync } from 'node:child_process';
import { appendFileSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { timeProcess } from './measure.mjs';
import { row, section } from './rows.mjs';

const NX_ENV = { NX_DAEMON: 'false', NX_TUI: 'false', NX_NO_CLOUD: 'true', CI: 'true' };

/** The run's total: the last `N passed, N failed` line (earlier ones are per project). */
function summaryLine(stdout) {
  const lines = stdout.split('\n').filter((line) => /^\d+ passed, \d+ failed$/.test(line.trim()));
  return lines.at(-1)?.trim() ?? 'no summary line';
}

/** Task names Nx listed under "Failed tasks:", so a failed run says what failed. */
function failedTasks(stdout) {
  const block = stdout.split('Failed tasks:')[1] ?? '';
  return [...block.matchAll(/^\s*- (\S+)$/gm)].map((match) => match[1]);
}

/** Packages with no workspace dependency: a change there ripples furthest. */
function leafPackages(clone) {
  return readdirSync(join(clone, 'packages')).filter((name) => {
    const manifest = join(clone, 'packages', name, 'package.json');
    if (!existsSync(manifest) || !existsSync(join(clone, 'packages', name, 'src/index.ts'))) {
      return false;
    }
    const { dependencies = {} } = JSON.parse(readFileSync(manifest, 'utf8'));
    return !Object.keys(dependencies).some((dep) => dep.startsWith('@thingcert/'));
  });
}

export async function devLoop(ctx) {
  const result = section('dev-loop', 'Developer loop (temporary clone of HEAD)');
  if (ctx.quick) {
    result.skipped.push('developer loop: needs a fresh clone and full test runs (full run only)');
    return result;
  }
  const clone = join(ctx.tmp, 'clone');
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
    cwd: ctx.root,
    encoding: 'utf8',
  }).trim();
  ctx.log(`  git clone ${ctx.root} (HEAD ${commit})`);
  execFileSync('git', ['clone', '-q', ctx.root, clone]);
  const env = { ...NX_ENV };
  const install = await timeProcess('pnpm', ['install', '--frozen-lockfile', '--prefer-offline'], {
    cwd: clone,
    env,
    timeoutMs: 300_000,
  });
  result.rows.push(row('pnpm install --frozen-lockfile (store warm)', install.wallMs, 'ms'));
  ctx.log('  cold pnpm test');
  const cold = await timeProcess('pnpm', ['test'], { cwd: clone, env, timeoutMs: 600_000 });
  ctx.log('  cached pnpm test');
  const cached = await timeProcess('pnpm', ['test'], { cwd: clone, env, timeoutMs: 300_000 });
  const coldRow = row(
    `cold pnpm test (exit ${cold.code}; ${summaryLine(cold.stdout)})`,
    cold.wallMs,
    'ms',
  );
  result.rows.push(
    coldRow,
    row(
      `fully cached pnpm test (exit ${cached.code}; ${summaryLine(cached.stdout)})`,
      cached.wallMs,
      'ms',
      coldRow,
    ),
  );

  /** A failed run says which tasks failed, and its output is kept to read why. */
  const keepFailure = (run, what, logName) => {
    if (run.code === 0) return;
    writeFileSync(join(ctx.resultsDir, logName), `${run.stdout}\n${run.stderr}`);
    result.notes.push(
      `${what} failed tasks: ${failedTasks(run.stdout).join(', ') || 'unknown'} (output kept in tools/bench/results/${logName}).`,
    );
  };
  keepFailure(cold, 'Cold pnpm test', 'cold-pnpm-test.log');
  const packages = leafPackages(clone);
  for (const pkg of packages) {
    const file = join(clone, 'packages', pkg, 'src/index.ts');
    const original = readFileSync(file, 'utf8');
    appendFileSync(file, '// bench: a one-line change\n');
    try {
      const affected = await timeProcess(
        'pnpm',
        ['exec', 'nx', 'affected', '-t', 'test', '--base=HEAD', '--outputStyle=static'],
        { cwd: clone, env, timeoutMs: 600_000, keepChars: 20_000_000 },
      );
      // Which projects' tests ran, from the run's own task lines.
      const plain = stripVTControlCharacters(affected.stdout);
      const projects = [
        ...new Set([...plain.matchAll(/> nx run ([\w@/.-]+):test\b/g)].map((m) => m[1])),
      ].sort();
      ctx.log(`  nx affected -t test after a change in packages/${pkg}: ${projects.join(', ')}`);
      keepFailure(
        affected,
        `nx affected after a change in packages/${pkg}:`,
        `affected-${pkg}.log`,
      );
      result.rows.push(
        row(
          `change in packages/${pkg}: nx affected -t test (exit ${affected.code}) ran ${projects.join(', ')}`,
          affected.wallMs,
          'ms',
          coldRow,
        ),
      );
    } finally {
      writeFileSync(file, original);
    }
  }
  result.notes.push(
    `Clone of committed HEAD ${commit}: uncommitted work in the checkout is not in it.`,
  );
  return result;
}
