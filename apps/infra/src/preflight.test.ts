import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCredentials, findRegion, type IniSections } from '../scripts/preflight.mjs';
import { environmentWithoutAws } from '../test/environment-without-aws';

const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

// An empty HOME shared by the runs of this file: nothing writes to it.
let home: string;
beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'thingcert-preflight-'));
});
afterAll(() => {
  rmSync(home, { recursive: true, force: true });
});

/** An environment with no way to find AWS credentials or a region, and this file's empty HOME. */
function environmentWithoutCredentials(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return environmentWithoutAws(home, extra);
}

const exampleCredentials = {
  AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEEXAMPLE42',
  AWS_SECRET_ACCESS_KEY: 'example-secret-not-real',
};

function runPreflight(env: NodeJS.ProcessEnv, args: string[] = []) {
  return spawnSync(process.execPath, ['scripts/preflight.mjs', ...args], {
    cwd: projectRoot,
    env,
    encoding: 'utf8',
  });
}

/** Shared config files as `loadSharedConfigFiles` returns them. */
function files(configFile: IniSections = {}, credentialsFile: IniSections = {}) {
  return () => Promise.resolve({ configFile, credentialsFile });
}

describe('Script: preflight', () => {
  it('fails with one line naming the fix when there are no credentials', () => {
    const result = runPreflight(environmentWithoutCredentials());
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/no AWS credentials found .*AWS_PROFILE=<profile>/) as string,
    ]);
  });

  it('fails with one line naming the fix when there is no region', () => {
    const result = runPreflight(environmentWithoutCredentials(exampleCredentials));
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/no AWS region .*AWS_REGION=<region>.*-c region=<region>/) as string,
    ]);
    expect(result.stderr).not.toContain(exampleCredentials.AWS_ACCESS_KEY_ID);
  });

  it('passes with credentials and a region, showing only the last four characters of the key', () => {
    const result = runPreflight(
      environmentWithoutCredentials({ ...exampleCredentials, AWS_REGION: 'eu-west-1' }),
    );
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('…LE42');
    expect(result.stdout).toContain('region eu-west-1');
    expect(result.stdout + result.stderr).not.toContain(exampleCredentials.AWS_ACCESS_KEY_ID);
    expect(result.stdout + result.stderr).not.toContain(exampleCredentials.AWS_SECRET_ACCESS_KEY);
  });

  it("takes the app's -c region=<region> as the region", () => {
    const result = runPreflight(environmentWithoutCredentials(exampleCredentials), [
      '-c',
      'region=ap-south-1',
    ]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('region ap-south-1');
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

  describe('Function: findRegion', () => {
    it.each<[string, Parameters<typeof findRegion>[0], string | undefined]>([
      [
        '-c region= first, the last one winning',
        {
          args: ['-c', 'region=eu-west-1', '--context=region=eu-north-1'],
          env: { AWS_REGION: 'us-west-2' },
          loadFiles: files(),
        },
        'eu-north-1',
      ],
      [
        'AWS_REGION before AWS_DEFAULT_REGION',
        { env: { AWS_DEFAULT_REGION: 'us-west-1', AWS_REGION: 'us-west-2' }, loadFiles: files() },
        'us-west-2',
      ],
      [
        'the profile in the credentials file before the config file',
        {
          env: { AWS_PROFILE: 'dev' },
          loadFiles: files(
            { dev: { region: 'eu-central-1' }, default: { region: 'us-east-2' } },
            { dev: { region: 'eu-south-1' } },
          ),
        },
        'eu-south-1',
      ],
      [
        "the default profile's when the profile has none",
        {
          env: { AWS_PROFILE: 'dev' },
          loadFiles: files({ dev: {}, default: { region: 'us-east-2' } }),
        },
        'us-east-2',
      ],
      [
        'nothing (where the CDK CLI says nothing and takes us-east-1)',
        { env: {}, loadFiles: files() },
        undefined,
      ],
    ])('finds %s', async (_label, options, expected) => {
      expect(await findRegion(options)).toBe(expected);
    });
  });
});
