#!/usr/bin/env node
// `pnpm start`: builds what the local deploy needs (Nx, cached), then runs its
// CLI with the arguments given. `pnpm start -- --help` (pnpm answers a bare
// `--help` itself) only prints the usage, so it builds nothing but the CLI,
// and that only on a fresh checkout where it is missing.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const cli = join(root, 'tools', 'local-deploy', 'dist', 'cli.js');
const args = process.argv.slice(2);
const wantsHelp = args.includes('--help') || args.includes('-h');

/** Runs a command in the repository root; its exit status, or 1 when it was killed. */
function run(command, commandArgs) {
  const result = spawnSync(command, commandArgs, { cwd: root, stdio: 'inherit' });
  return result.status ?? 1;
}

const projects = wantsHelp ? ['local-deploy'] : ['local-deploy', 'infra'];
if (!(wantsHelp && existsSync(cli))) {
  const built = run('pnpm', [
    'exec',
    'nx',
    'run-many',
    '-t',
    'build',
    '-p',
    ...projects,
    '--outputStyle=static',
  ]);
  if (built !== 0) process.exit(built);
}

// The CLI handles its own signals (Ctrl-C tears the stack down), so it gets the
// terminal's process group and we only pass its exit status on.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => {});
process.exit(run(process.execPath, [cli, ...args]));
