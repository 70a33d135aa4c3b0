import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'node:https';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { findSecretLeaks } from '@thingcert/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPrintedRotations } from './rotation-stats';

// `pnpm start` as a user runs it: the built CLI, the infra app synthesized by
// it, the bundled Lambda and device runner, a local cloud of its own. (A file
// of its own so vitest runs it beside the LocalStack tests.)
let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'thingcert-pnpm-start-'));
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

interface StartRun {
  child: ChildProcess;
  /** Everything the run printed so far (stdout and stderr). */
  output(): string;
  /** Resolves when the output matches `pattern`; rejects if the run ends first. */
  printed(pattern: RegExp): Promise<void>;
  exited: Promise<number | null>;
  /** The run's own TMPDIR: whatever it leaves there, it would leave in the user's /tmp. */
  runTmp: string;
  logFile: string;
}

/** `pnpm start` (the built CLI) with its own TMPDIR and log file. */
function pnpmStart(...args: string[]): StartRun {
  const run = mkdtempSync(join(work, 'start-'));
  const logFile = join(run, 'run.log');
  const runTmp = join(run, 'tmp');
  mkdirSync(runTmp);
  const child = spawn(
    process.execPath,
    [join(import.meta.dirname, '..', 'dist', 'cli.js'), ...args, '--log-file', logFile],
    { env: { ...process.env, TMPDIR: runTmp }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const waiting = new Set<() => void>();
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      for (const check of waiting) check();
    });
  }
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const printed = (pattern: RegExp) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!pattern.test(output)) return;
        waiting.delete(check);
        resolve();
      };
      waiting.add(check);
      check();
      void exited.then(() => reject(new Error(`exited before printing ${pattern}:\n${output}`)));
    });
  return { child, output: () => output, printed, exited, runTmp, logFile };
}

/** The synthesized assembly and the device's directory, as the run logged them. */
function runDirectories(log: string): { outdir: string; deviceDirectory: string } {
  const outdir = /synthesizing apps\/infra into (\S+)/.exec(log)?.[1];
  const deviceDirectory = /device runner for thingcert-device-1 in (\S+)\)/.exec(log)?.[1];
  if (!outdir || !deviceDirectory) throw new Error(`directories not logged:\n${log}`);
  return { outdir, deviceDirectory };
}

describe('pnpm start', () => {
  it('pnpm start --once: deploys, runs the seed scenario, deletes everything, exits 0', async () => {
    const start = pnpmStart('--once');

    const exitCode = await start.exited;

    const output = start.output();
    expect(output).toContain('[device thingcert-device-1] done received=5 expected=5');
    expect(output).toContain('thingcert-device-1: 5/5 messages came back');
    expect(output).toContain('stack deleted; no certificate, thing, attachment or object left');
    // IAM is enforced: roles, policies, the bucket policy and the KMS key are
    // made in the local cloud, not ids only.
    expect(output).toContain("IAM enforced: the Lambda and each device run with their role's");
    expect(output).not.toMatch(/not emulated, ids only: .*(AWS::IAM::|AWS::KMS::|BucketPolicy)/);
    expect(exitCode).toBe(0);
    const log = readFileSync(start.logFile, 'utf8');
    expect(log).toContain('[lambda ');
    expect(log).toContain('[device thingcert-device-1]');
    expect(findSecretLeaks(log)).toEqual([]);
    expect(findSecretLeaks(output)).toEqual([]);
    // The synthesized assembly and the device's directory (its private key)
    // were in the run's temp directory, and are gone with everything else.
    const { outdir, deviceDirectory } = runDirectories(log);
    expect(outdir).toMatch(join(start.runTmp, 'thingcert-cdk-out-'));
    expect(deviceDirectory).toMatch(join(start.runTmp, 'thingcert-device-'));
    expect(existsSync(outdir)).toBe(false);
    expect(existsSync(deviceDirectory)).toBe(false);
    expect(readdirSync(start.runTmp)).toEqual([]);
  });

  it('pnpm start --once --rotate 1: one stack Update under load, the device follows, nothing lost, exits 0', async () => {
    const start = pnpmStart('--once', '--rotate', '1');

    const exitCode = await start.exited;

    const output = start.output();
    const [rotation, ...more] = readPrintedRotations(output);
    expect(more, output).toEqual([]);
    expect(rotation, output).toMatchObject({ rotation: 1, of: 1, status: 'UPDATE_COMPLETE' });
    const [device] = rotation?.devices ?? [];
    // One reconnect when the device saw the pointer move first; two when the
    // cleanup's deactivation dropped it before (refused, then re-read).
    expect(device, output).toMatchObject({
      device: 'thingcert-device-1',
      stillOffline: false,
      lost: 0,
    });
    expect([1, 2]).toContain(device?.reconnects);
    expect(device?.certificatePrefix).toMatch(/^[0-9a-f]{12}$/);
    // Publishing 10 a second through a multi-second Update.
    expect(device?.published).toBeGreaterThan(10);
    expect(output).toContain(
      '[rotate] 1 rotation(s), 0 message(s) lost; every device on the certificate CloudFormation holds',
    );
    // The device moved by itself to the certificate the Update made.
    expect(output).toMatch(
      new RegExp(
        `credentials-changed from=[0-9a-f]{64} to=${device?.certificatePrefix}[0-9a-f]{52}`,
      ),
    );
    // Booted once: the deployer never restarts a device.
    expect(output.match(/\] booted FleetInstance/g)).toHaveLength(1);
    expect(output).toContain('stack deleted; no certificate, thing, attachment or object left');
    expect(exitCode).toBe(0);
    expect(findSecretLeaks(readFileSync(start.logFile, 'utf8'))).toEqual([]);
    expect(readdirSync(start.runTmp)).toEqual([]);
  });

  it('pnpm start --once --provisioning claim --things 3: each device registers itself and gets its messages back, nothing is left, exits 0', async () => {
    const start = pnpmStart('--once', '--provisioning', 'claim', '--things', '3');

    const exitCode = await start.exited;

    const output = start.output();
    const registered = [
      ...output.matchAll(
        /\[start\] (i-[0-9a-f]{17}): registered as (\S+), 5\/5 messages came back/g,
      ),
    ].map(([, instance, thing]) => ({ instance: instance!, thing: thing! }));
    expect(registered, output).toHaveLength(3);
    // Each device registered as the thing named from its own instance id.
    for (const { instance, thing } of registered)
      expect(thing).toMatch(new RegExp(`-${instance}$`));
    expect(new Set(registered.map(({ thing }) => thing)).size).toBe(3);
    expect(output).toContain('stack deleted; no certificate, thing, attachment or object left');
    expect(exitCode).toBe(0);
    // Each device's key was made on it and stayed there; the claim key stayed in its bucket.
    const log = readFileSync(start.logFile, 'utf8');
    expect(log.match(/"event":"registered"/g)).toHaveLength(3);
    expect(findSecretLeaks(output)).toEqual([]);
    expect(findSecretLeaks(log)).toEqual([]);
    expect(readdirSync(start.runTmp)).toEqual([]);
  });

  it("pnpm start --keep prints export lines to act as the admin, the provisioner's role or a device's role", async () => {
    const start = pnpmStart('--keep');
    await start.printed(/# act as one of them.*\n/);
    const exportLines = start
      .output()
      .split('\n')
      .filter((line) => line.startsWith('export '));
    // What a user's shell makes of them.
    const shell = spawnSync(
      'sh',
      ['-c', `${exportLines.join('\n')}\nnode -e 'console.log(JSON.stringify(process.env))'`],
      { encoding: 'utf8', env: { PATH: process.env.PATH } },
    );
    const env = JSON.parse(shell.stdout) as Record<string, string>;
    const bucket = /\[outputs\] BucketName = (\S+)/.exec(start.output())?.[1];
    const list = async (as: string, Prefix?: string) => {
      const s3 = new S3Client({
        endpoint: env.AWS_ENDPOINT_URL_S3,
        region: env.AWS_REGION,
        forcePathStyle: true,
        maxAttempts: 1,
        credentials: {
          accessKeyId: env[`${as}_AWS_ACCESS_KEY_ID`]!,
          secretAccessKey: env[`${as}_AWS_SECRET_ACCESS_KEY`]!,
          sessionToken: env[`${as}_AWS_SESSION_TOKEN`],
        },
        requestHandler: { httpsAgent: new Agent({ ca: readFileSync(env.NODE_EXTRA_CA_CERTS!) }) },
      });
      try {
        const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix }));
        return `${listed.KeyCount ?? 0} objects`;
      } catch (error) {
        return (error as Error).name;
      } finally {
        s3.destroy();
      }
    };

    expect(env.AWS_ENDPOINT_URL_S3).toMatch(/^https:/);
    expect(env.AWS_ACCESS_KEY_ID).toBe(env.THINGCERT_ADMIN_AWS_ACCESS_KEY_ID);
    expect(await list('THINGCERT_ADMIN')).toMatch(/^[1-9]\d* objects$/);
    expect(await list('THINGCERT_PROVISIONER', 'thingcert-device-1/')).toMatch(
      /^[1-9]\d* objects$/,
    );
    // Bucket-scoped since issue 13 defect 4 was fixed: its grant never changes with the devices.
    expect(await list('THINGCERT_PROVISIONER')).toMatch(/^[1-9]\d* objects$/);
    expect(await list('THINGCERT_DEVICE_1', 'thingcert-device-1/')).toBe('AccessDenied');
    start.child.kill('SIGINT');
    expect(await start.exited).toBe(0);
    expect(start.output()).toContain(
      'stack deleted; no certificate, thing, attachment or object left',
    );
    // The credentials went to the terminal only, never to the log file.
    const log = readFileSync(start.logFile, 'utf8');
    expect(findSecretLeaks(log)).toEqual([]);
    for (const name of [
      'THINGCERT_DEVICE_1_AWS_SECRET_ACCESS_KEY',
      'THINGCERT_PROVISIONER_AWS_SESSION_TOKEN',
    ]) {
      expect(log).not.toContain(env[name]);
    }
  });

  it('pnpm start stopped by a second signal mid-teardown still removes the device directory and the assembly', async () => {
    const start = pnpmStart();
    await start.printed(/\[device thingcert-device-1\] connected/);
    const { outdir, deviceDirectory } = runDirectories(readFileSync(start.logFile, 'utf8'));
    expect(existsSync(join(deviceDirectory, 'credentials'))).toBe(true);

    // Two different signals (the same one twice may arrive as one): the first
    // starts the teardown, the second ends the run before the teardown can.
    // Pending signals are not delivered in the order they were sent, so
    // either may be the second one.
    // SIGHUP is what closing the terminal sends.
    start.child.kill('SIGINT');
    start.child.kill('SIGHUP');
    const exitCode = await start.exited;

    const second = /(SIGINT|SIGHUP) again: exiting without deleting the stack/.exec(
      start.output(),
    )?.[1];
    expect(second, start.output()).toBeDefined();
    expect(exitCode).toBe(second === 'SIGINT' ? 130 : 129);
    expect(existsSync(outdir)).toBe(false);
    expect(existsSync(deviceDirectory)).toBe(false);
  });
});
