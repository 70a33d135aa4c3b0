import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCdk, type RunCdkSteps } from '../scripts/run-cdk.mjs';
import { environmentWithoutAws } from '../test/environment-without-aws';

const workspaceRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Steps that record what ran, with the given preflight outcome and build exit code. */
function recordingSteps(passes: boolean, buildStatus = 0) {
  const ran: string[] = [];
  const lines: string[] = [];
  const steps: RunCdkSteps = {
    preflight: (args) => {
      ran.push(`preflight ${args.join(' ')}`);
      return Promise.resolve(
        passes
          ? { ok: true, summary: 'credentials and region found' }
          : { ok: false, message: 'no AWS credentials found; configure them first' },
      );
    },
    build: () => {
      ran.push('build');
      return buildStatus;
    },
    cdk: (args) => {
      ran.push(`cdk ${args.join(' ')}`);
      return 0;
    },
    console: { log: (line) => lines.push(line), error: (line) => lines.push(`error: ${line}`) },
  };
  return { steps, ran, lines };
}

describe('Function: runCdk', () => {
  it('builds nothing and returns 1 with the one line when the preflight fails', async () => {
    const { steps, ran, lines } = recordingSteps(false);

    const status = await runCdk('deploy', ['-c', 'topic=a/b'], steps);

    expect(status).toBe(1);
    expect(ran).toEqual(['preflight -c topic=a/b']);
    expect(lines).toEqual(['error: no AWS credentials found; configure them first']);
  });

  it('runs the preflight, the build, then the CLI with the arguments', async () => {
    const { steps, ran } = recordingSteps(true);

    const status = await runCdk('destroy', ['--force'], steps);

    expect(status).toBe(0);
    expect(ran).toEqual(['preflight --force', 'build', 'cdk destroy --force']);
  });

  it('stops with the exit code of a failed build', async () => {
    const { steps, ran } = recordingSteps(true, 3);

    expect(await runCdk('diff', [], steps)).toBe(3);
    expect(ran).toEqual(['preflight ', 'build']);
  });
});

describe('Target: infra:deploy without AWS credentials', () => {
  it('exits 1 at once with the one line, and Nx starts no build', () => {
    const home = mkdtempSync(join(tmpdir(), 'thingcert-deploy-'));
    try {
      const nx = join(
        dirname(createRequire(join(workspaceRoot, 'package.json')).resolve('nx/package.json')),
        'dist',
        'bin',
        'nx.js',
      );
      const result = spawnSync(
        process.execPath,
        [nx, 'run', 'infra:deploy', '--outputStyle=static'],
        {
          cwd: workspaceRoot,
          encoding: 'utf8',
          env: environmentWithoutAws(home, {
            CI: 'true',
            NX_DAEMON: 'false',
            NX_TUI: 'false',
            NX_NO_CLOUD: 'true',
          }),
        },
      );
      const output = result.stdout + result.stderr;

      expect(result.status).toBe(1);
      expect(output).toMatch(/no AWS credentials found .*AWS_PROFILE=<profile>/);
      expect(output).not.toMatch(/nx run \S+:build|tsup/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
