import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The published packages as a CDK user gets them: packed with `pnpm pack`,
// installed with npm from the tarballs into a fresh CommonJS app made by
// `cdk init app --language typescript`, at the oldest aws-cdk-lib and
// constructs the peer ranges allow, and tested with that app's jest.

const workspaceRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const fixtures = join(workspaceRoot, 'tools', 'workspace', 'test', 'fixtures', 'cdk-app');
const packageDirs = {
  contracts: join(workspaceRoot, 'packages', 'contracts'),
  constructs: join(workspaceRoot, 'packages', 'constructs'),
};

interface PackageJson {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

/** `^2.269.0` → `2.269.0`: the floor of a caret range, the version the test installs. */
function floorOf(range: string | undefined): string {
  const match = /^\^(\d+\.\d+\.\d+)$/.exec(range ?? '');
  if (!match?.[1]) throw new Error(`expected a caret range, got ${range}`);
  return match[1];
}

const constructsPackage = readJson<PackageJson>(join(packageDirs.constructs, 'package.json'));
const floors = {
  'aws-cdk-lib': floorOf(constructsPackage.peerDependencies?.['aws-cdk-lib']),
  constructs: floorOf(constructsPackage.peerDependencies?.['constructs']),
};

/** Runs a command, failing with its output when it fails. */
function run(command: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, CDK_DISABLE_VERSION_CHECK: 'true', CDK_DISABLE_CLI_TELEMETRY: 'true' },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} exited ${result.status ?? result.signal}:\n${result.stdout}\n${result.stderr}`,
    );
  }
  return result;
}

let work: string;
let app: string;
const tarballs: Record<keyof typeof packageDirs, string> = { contracts: '', constructs: '' };

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'thingcert-cdk-app-'));
  const packed = join(work, 'tarballs');
  for (const [name, dir] of Object.entries(packageDirs) as [keyof typeof packageDirs, string][]) {
    const output = run('pnpm', ['pack', '--pack-destination', packed], dir).stdout.trim();
    tarballs[name] = output.split('\n').at(-1)!;
  }

  // Exactly the files `cdk init` writes, from the CLI the workspace uses.
  app = join(work, 'my-app');
  mkdirSync(app);
  const cdk = join(workspaceRoot, 'tools', 'workspace', 'node_modules', '.bin', 'cdk');
  run(cdk, ['init', 'app', '--language', 'typescript', '--generate-only'], app);

  // Dependencies: ours from the tarballs, the CDK at the peer floors, cdk-nag
  // for the checks the package promises, ts-jest and TypeScript 5.9 for the
  // earlier layout. The CDK CLI, tsx and TypeScript 7 are not needed to run jest.
  const manifest = readJson<PackageJson>(join(app, 'package.json'));
  manifest.dependencies = {
    'aws-cdk-lib': floors['aws-cdk-lib'],
    constructs: floors.constructs,
    '@thingcert/constructs': `file:${tarballs.constructs}`,
    '@thingcert/contracts': `file:${tarballs.contracts}`,
  };
  const {
    'aws-cdk': _cli,
    tsx: _tsx,
    typescript: _ts7,
    ...devDependencies
  } = manifest.devDependencies ?? {};
  manifest.devDependencies = {
    ...devDependencies,
    'cdk-nag': '3.0.2',
    'ts-jest': '29.4.15',
    typescript: '5.9.3',
  };
  writeFileSync(join(app, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  copyFileSync(join(fixtures, 'my-app-stack.ts'), join(app, 'lib', 'my-app-stack.ts'));
  copyFileSync(join(fixtures, 'my-app.jest.ts'), join(app, 'test', 'my-app.test.ts'));
  for (const file of ['jest.ts-jest.config.js', 'tsconfig.commonjs.json', 'esm-check.mjs']) {
    copyFileSync(join(fixtures, file), join(app, file));
  }

  // npm's own cache (~/.npm) makes a repeated install a local one.
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], app);
}, 600_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Names of every package in the app's installed tree (`npm ls --all`). */
function installedPackageNames(): string[] {
  interface Node {
    dependencies?: Record<string, Node>;
  }
  const tree = JSON.parse(run('npm', ['ls', '--all', '--json'], app).stdout) as Node;
  const names: string[] = [];
  const walk = (node: Node) => {
    for (const [name, child] of Object.entries(node.dependencies ?? {})) {
      names.push(name);
      walk(child);
    }
  };
  walk(tree);
  return names;
}

/** Runs the app's jest; its test counts come from the JSON report (coloured output or not). */
function jest(...args: string[]): { numTotalTests: number; numPassedTests: number } {
  const jestBin = 'node_modules/jest/bin/jest.js';
  const output = run(process.execPath, [jestBin, '--ci', '--json', ...args], app);
  const { numTotalTests, numPassedTests } = JSON.parse(output.stdout) as {
    numTotalTests: number;
    numPassedTests: number;
  };
  return { numTotalTests, numPassedTests };
}

// jest and tsc load all of aws-cdk-lib's types and code: minutes on 2 loaded cores.
describe(
  '@thingcert/constructs in a fresh CommonJS CDK app (cdk init app --language typescript)',
  { timeout: 300_000 },
  () => {
    it('packs the provisioner Lambda bundle and depends on nothing but contracts at runtime', () => {
      const listing = run('tar', ['-tzf', tarballs.constructs], work).stdout.split('\n');
      expect(listing).toContain('package/dist/assets/provisioner/index.mjs');
      expect(listing).toContain('package/dist/assets/device-runner/device-runner.mjs');
      const packed = JSON.parse(
        run('tar', ['-xOzf', tarballs.constructs, 'package/package.json'], work).stdout,
      ) as PackageJson;
      expect(Object.keys(packed.dependencies ?? {})).toEqual(['@thingcert/contracts']);
    });

    it('brings no AWS SDK client into the app', () => {
      const names = installedPackageNames();
      expect(names).toContain('@thingcert/constructs');
      expect(names.filter((name) => name.startsWith('@aws-sdk/'))).toEqual([]);
    });

    it('installs at the floors of its peer ranges', () => {
      const installed = (name: string) =>
        readJson<PackageJson>(join(app, 'node_modules', name, 'package.json')).version;
      expect({
        'aws-cdk-lib': installed('aws-cdk-lib'),
        constructs: installed('constructs'),
      }).toEqual(floors);
    });

    it("runs the app's jest (cdk init's @swc/jest): synthesizes, asserts the template, passes cdk-nag, pins the image", () => {
      expect(jest()).toEqual({ numTotalTests: 3, numPassedTests: 3 });
    });

    it('runs jest with ts-jest and "module": "commonjs" (the earlier cdk init layout)', () => {
      expect(jest('--config', 'jest.ts-jest.config.js')).toEqual({
        numTotalTests: 3,
        numPassedTests: 3,
      });
    });

    it("type-checks with cdk init's tsconfig (NodeNext: the types of the package's require export)", () => {
      const tsc = createRequire(join(workspaceRoot, 'package.json')).resolve('typescript/bin/tsc');
      run(process.execPath, [tsc, '-p', 'tsconfig.json'], app);
    });

    it('type-checks with the earlier tsconfig and its TypeScript 5.9 (node10: the "types" field)', () => {
      // Declaration files are parsed for what the app uses but not checked
      // themselves, as in cdk init's own tsconfig: all of aws-cdk-lib's take minutes.
      const tsc = ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.commonjs.json'];
      run(process.execPath, [...tsc, '--noEmit', '--skipLibCheck'], app);
    });

    it('imports from an ES module too (the ESM build)', () => {
      const result = JSON.parse(run(process.execPath, ['esm-check.mjs'], app).stdout) as {
        module: string;
        certificates: number;
        instances: number;
      };
      expect(result).toEqual({
        module: expect.stringMatching(/@thingcert\/constructs\/dist\/index\.js$/) as string,
        certificates: 2,
        instances: 2,
      });
    });
  },
);
