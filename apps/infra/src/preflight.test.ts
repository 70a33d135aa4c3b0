import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCredentials } from '../scripts/preflight.mjs';

const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

// An empty HOME shared by the runs of this file: nothing writes to it.
let home: string;
beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'thingcert-preflight-'));
});
afterAll(() => {
  rmSync(home, { recursive: true, force: true });
});

/** An environment with no way to find AWS credentials (no env keys, no profiles, no IMDS). */
function environmentWithoutCredentials(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env['PATH'],
    HOME: home,
    AWS_CONFIG_FILE: join(home, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    ...extra,
  };
}

function runPreflight(env: NodeJS.ProcessEnv) {
  return spawnSync(process.execPath, ['scripts/preflight.mjs'], {
    cwd: projectRoot,
    env,
    encoding: 'utf8',
  });
}

describe('Script: preflight', () => {
  it('fails with a clear message when there are no credentials', () => {
    const result = runPreflight(environmentWithoutCredentials());
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('no AWS credentials found');
    expect(result.stderr).toContain('AWS_PROFILE');
  });

  it('passes with credentials in the environment, showing only the last four characters of the key', () => {
    const accessKeyId = 'AKIAEXAMPLEEXAMPLE42';
    const result = runPreflight(
      environmentWithoutCredentials({
        AWS_ACCESS_KEY_ID: accessKeyId,
        AWS_SECRET_ACCESS_KEY: 'example-secret-not-real',
      }),
    );
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('…LE42');
    expect(result.stdout + result.stderr).not.toContain(accessKeyId);
    expect(result.stdout + result.stderr).not.toContain('example-secret-not-real');
  });

  describe('Function: checkCredentials', () => {
    it('reports the provider error', async () => {
      const result = await checkCredentials({
        provider: () => Promise.reject(new Error('Could not load credentials from any providers')),
      });
      expect(result).toEqual({
        ok: false,
        message: expect.stringContaining('Could not load credentials from any providers') as string,
      });
    });

    it('gives up on a provider that never answers', async () => {
      const result = await checkCredentials({
        provider: () => new Promise<never>(() => undefined),
        timeoutMs: 20,
      });
      expect(result.ok).toBe(false);
      expect(result.ok === false && result.message).toContain('no answer within 20 ms');
    });

    it('refuses credentials without an access key', async () => {
      const result = await checkCredentials({
        provider: () => Promise.resolve({ accessKeyId: '' }),
      });
      expect(result.ok).toBe(false);
    });
  });
});
