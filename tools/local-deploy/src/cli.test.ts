import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const cli = join(import.meta.dirname, '..', 'dist', 'cli.js');
const run = (...args: string[]) =>
  spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

describe('pnpm start flags', () => {
  it.each([
    [['--bogus'], /Unknown option '--bogus'/],
    [['--things', '0'], /--things expects an integer from 1 to 10, got "0"/],
    [['--things', 'many'], /--things expects an integer/],
    [['--things', '11'], /--things expects an integer from 1 to 10, got "11"/],
    [['--context', 'novalue'], /--context expects KEY=VALUE/],
    [['--once', '--keep'], /--once and --keep exclude each other/],
    [['--rotate', '0'], /--rotate expects an integer from 1 to 20, got "0"/],
    [['--rotate', '21'], /--rotate expects an integer from 1 to 20, got "21"/],
    [['--rotate', '1.5'], /--rotate expects an integer from 1 to 20, got "1.5"/],
    [['--rotate', 'x'], /--rotate expects an integer/],
    [['--rotate', '2', '--keep'], /--rotate and --keep exclude each other/],
    [['--provisioning', 'jitp'], /--provisioning expects seed or claim, got "jitp"/],
    [
      ['--provisioning', 'claim', '--things', '0'],
      /--things expects an integer from 1 to 50, got "0"/,
    ],
    [
      ['--provisioning', 'claim', '--things', '51'],
      /--things expects an integer from 1 to 50, got "51"/,
    ],
    [['--provisioning', 'claim', '--things', '2.5'], /--things expects an integer from 1 to 50/],
    [
      ['--provisioning', 'claim', '--rotate', '1'],
      /--rotate and --provisioning claim exclude each other/,
    ],
    [['--things', '20'], /--things expects an integer from 1 to 10, got "20"/],
  ])('%j exits 2 with the reason and the usage', (args, reason) => {
    const result = run(...args);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(reason);
    expect(result.stderr).toContain('usage: pnpm start');
  });

  it('--help prints the usage and exits 0', () => {
    const result = run('--help');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('--things N');
    expect(result.stdout).toContain('--rotate N');
    expect(result.stdout).toContain('--no-iam');
    expect(result.stdout).toContain('--provisioning M');
  });

  // pnpm answers `pnpm start --help` with its own help before any script runs;
  // after `--` the flag reaches the root start script, which must skip the build.
  it.each(['--help', '-h'])(
    '`pnpm start -- %s` in the repo root prints our usage without building',
    (flag) => {
      const result = spawnSync('pnpm', ['start', '--', flag], {
        cwd: join(import.meta.dirname, '..', '..', '..'),
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(result.status).toBe(0);
      for (const option of ['--once', '--things', '--keep'])
        expect(result.stdout).toContain(option);
      expect(result.stdout).not.toContain('run-many');
      expect(result.stdout).not.toMatch(/nx run|Running target/);
    },
  );
});
