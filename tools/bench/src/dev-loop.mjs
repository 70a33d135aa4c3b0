// 5. Developer loop, in a temporary clone of the committed HEAD (never the
// working checkout): install, cold `pnpm test`, fully cached `pnpm test`, and
// `nx affected -t test` after a one-line change in each library package.
import { execFileSync } from 'node:child_process';
import { appendFileSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { timeProcess } from './measure.mjs';
import { row, section } from './rows.mjs';

const NX_ENV = { NX_DAEMON: 'false', NX_TUI: 'false', NX_NO_CLOUD: 'true', CI: 'true' };

function summaryLine(stdout) {
  return /(\d+) passed, (\d+) failed/.exec(stdout)?.[0] ?? 'no summary line';
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

  const packages = readdirSync(join(clone, 'packages')).filter((p) =>
    existsSync(join(clone, 'packages', p, 'src/index.ts')),
  );
  for (const pkg of packages) {
    const file = join(clone, 'packages', pkg, 'src/index.ts');
    const original = readFileSync(file, 'utf8');
    appendFileSync(file, '// bench: a one-line change\n');
    try {
      const projects = execFileSync(
        'pnpm',
        ['exec', 'nx', 'show', 'projects', '--affected', '--base=HEAD', '--withTarget=test'],
        {
          cwd: clone,
          env: { ...process.env, ...env },
          encoding: 'utf8',
        },
      )
        .trim()
        .split('\n')
        .filter(Boolean)
        .sort();
      ctx.log(`  nx affected -t test after a change in packages/${pkg}: ${projects.join(', ')}`);
      const affected = await timeProcess(
        'pnpm',
        ['exec', 'nx', 'affected', '-t', 'test', '--base=HEAD', '--outputStyle=static'],
        { cwd: clone, env, timeoutMs: 600_000 },
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
