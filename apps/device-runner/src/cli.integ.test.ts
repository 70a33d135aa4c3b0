import { UpdateCertificateCommand } from '@aws-sdk/client-iot';
import { startLocalCloud, type LocalCloud } from '@thingcert/local-cloud';
import { cp, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  findSecretLeaks,
  provisionLocalDevice,
  provisionPointedDevice,
  type LocalDevice,
  type PointedDevice,
} from '@thingcert/test-support';
import packageJson from '../package.json' with { type: 'json' };
import { jsonEvents, runProcess } from '../test/run-process';

const appDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const cliPath = join(appDir, 'dist', 'cli.js');

// Over 150 lines on purpose: one describe per unit under test keeps every case's
// full name and its shared fixtures in one place; each `it` stays short.
describe('device-runner CLI against the local cloud', () => {
  let cloud: LocalCloud;
  let work: string;
  let bundleDir: string;

  beforeAll(async () => {
    cloud = await startLocalCloud();
    work = await mkdtemp(join(tmpdir(), 'device-runner-integ-'));
    // A copy outside the repository: no node_modules anywhere up the tree, so
    // the bundle must carry everything itself.
    bundleDir = join(work, 'opt', 'device-runner');
    await cp(join(appDir, 'dist', 'bundle'), bundleDir, { recursive: true });
  });
  afterAll(async () => {
    await cloud?.stop();
    await rm(work, { recursive: true, force: true });
  });

  function env(): Record<string, string | undefined> {
    return {
      PATH: process.env.PATH,
      HOME: work,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...cloud.env,
    };
  }

  function runArgs(device: LocalDevice | PointedDevice, ...extra: string[]): string[] {
    return [
      'run',
      '--bucket',
      device.bucket,
      '--thing',
      device.thing,
      '--endpoint',
      cloud.dataEndpoint,
      '--protocol',
      'mqtt3',
      '--credentials-dir',
      join(work, 'credentials', device.thing),
      ...extra,
    ];
  }

  it('runs the seed scenario from S3 credentials, 5 messages out and back, exit 0', async () => {
    const device = await provisionPointedDevice(cloud);
    const result = await runProcess(cliPath, runArgs(device, '--json'), { env: env() });

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const events = jsonEvents(result.stdout);
    expect(events.filter((e) => e.event === 'received')).toHaveLength(5);
    expect(events.at(-3)).toMatchObject({ event: 'done', received: 5, expected: 5 });
    expect(events.at(-2)).toMatchObject({
      event: 'stats',
      certificateId: device.certificateId,
      published: 5,
      acked: 5,
      received: 5,
      duplicates: 0,
    });
    expect(events.at(-1)).toMatchObject({ event: 'disconnected' });
    expect(events.find((e) => e.event === 'connecting')).toMatchObject({
      port: cloud.mqtt.port,
      clientId: device.thing,
      protocol: 'mqtt3',
    });
    expect(events[0]).toMatchObject({
      event: 'credentials',
      source: 'pointer',
      certificateId: device.certificateId,
    });
    const dir = join(work, 'credentials', device.thing);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, device.certificateId))).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, device.certificateId, 'private.pem.key'))).mode & 0o777).toBe(
      0o600,
    );
    expect(findSecretLeaks(result.stdout + result.stderr, [device.privateKeyPem])).toEqual([]);
  });

  it('prints the seed-style text log without --json', async () => {
    const device = await provisionPointedDevice(cloud);
    const result = await runProcess(cliPath, runArgs(device, '--count', '2'), { env: env() });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      `with client ID '${device.thing}' (MQTT 3.1.1)...\nConnected!\n`,
    );
    expect(result.stdout).toContain(`Received message from topic 'test/topic': "Hello World! [2]"`);
    expect(result.stdout).toMatch(
      /2 message\(s\) received\.\nDisconnecting\.\.\.\nDisconnected!\n$/,
    );
  });

  it('exits 1 saying what to check when the certificate of fixed object keys is INACTIVE', async () => {
    const device = await provisionLocalDevice(cloud);
    await device.iot.send(
      new UpdateCertificateCommand({ certificateId: device.certificateId, newStatus: 'INACTIVE' }),
    );
    const fixed = [
      '--certificate-object-key',
      `${device.thing}/device.pem.crt`,
      '--private-key-object-key',
      `${device.thing}/private.pem.key`,
    ];
    const result = await runProcess(cliPath, runArgs(device, ...fixed), { env: env() });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^error: Cannot connect to localhost:\d+ as 'thing-[\d-]+' \(MQTT 3\.1\.1\): the broker rejected the connection/,
    );
    expect(result.stderr).toContain('registered and ACTIVE');
    expect(result.stdout).toContain('Disconnected!');
  });

  it('exits 75 when the certificate the pointer names is INACTIVE at start (a restart may find another)', async () => {
    const device = await provisionPointedDevice(cloud);
    await device.iot.send(
      new UpdateCertificateCommand({ certificateId: device.certificateId, newStatus: 'INACTIVE' }),
    );
    const result = await runProcess(cliPath, runArgs(device), { env: env() });
    expect(result.code).toBe(75);
    expect(result.stderr).toMatch(
      new RegExp(
        `^error: The broker refused certificate ${device.certificateId}, which the credential pointer names`,
      ),
    );
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it.each([
    [
      'no region',
      { AWS_REGION: undefined },
      "error: Cannot read s3://{bucket}/{thing}/current.json: no AWS region is configured; set --region (or AWS_REGION) to the bucket's region\n",
    ],
    [
      'no AWS credentials',
      { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined },
      'error: Cannot read s3://{bucket}/{thing}/current.json: no AWS credentials found (Could not load credentials from any providers); on EC2 attach an instance role that allows s3:GetObject on it, elsewhere set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY\n',
    ],
  ])('exits 1 with a one-line fix when there is %s', async (_what, unset, stderr) => {
    const device = await provisionPointedDevice(cloud);
    const result = await runProcess(cliPath, runArgs(device), {
      env: {
        ...env(),
        ...unset,
        // Nowhere else to look: no config files, no instance metadata.
        AWS_CONFIG_FILE: join(work, 'no-aws-config'),
        AWS_SHARED_CREDENTIALS_FILE: join(work, 'no-aws-credentials'),
        AWS_EC2_METADATA_DISABLED: 'true',
      },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      stderr.replace('{bucket}', device.bucket).replace('{thing}', device.thing),
    );
  });

  it('stays online with --forever and stops gracefully on SIGTERM with exit 0', async () => {
    const device = await provisionPointedDevice(cloud);
    let signalled = false;
    const result = await runProcess(
      cliPath,
      runArgs(device, '--forever', '--json', '--count', '1'),
      {
        env: env(),
        onStdout: (soFar, child) => {
          if (!signalled && soFar.includes('"event":"done"')) {
            signalled = true;
            child.kill('SIGTERM');
          }
        },
      },
    );
    expect(result.code).toBe(0);
    expect(jsonEvents(result.stdout).at(-1)).toMatchObject({ event: 'disconnected' });
  });

  it('prints the package.json version on --version and exits 0', async () => {
    const result = await runProcess(cliPath, ['--version'], { env: env() });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${packageJson.version}\n`);
  });

  it('exits 2 with usage on stderr for a bad flag', async () => {
    const result = await runProcess(cliPath, ['run', '--count', 'many'], { env: env() });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('device-runner: --count must be a whole number');
    expect(result.stderr).toContain('Usage: device-runner run [options]');
    expect(result.stdout).toBe('');
  });

  describe('the EC2 bundle (dist/bundle)', () => {
    it('holds the script, the unit and only the linux glibc x64/arm64 aws-crt binaries', async () => {
      expect((await readdir(bundleDir)).sort()).toEqual([
        'bin',
        'device-runner.example.json',
        'device-runner.mjs',
        'package.json',
        'thingcert-device-runner.service',
      ]);
      expect((await readdir(join(bundleDir, 'bin'))).sort()).toEqual([
        'linux-arm64-glibc',
        'linux-x64-glibc',
      ]);
    });

    it('runs --help from a copy with no node_modules around it', async () => {
      const result = await runProcess(join(bundleDir, 'device-runner.mjs'), ['--help'], {
        env: env(),
        cwd: work,
      });
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('Usage: device-runner run [options]');
    });

    it('runs --version from that copy', async () => {
      const result = await runProcess(join(bundleDir, 'device-runner.mjs'), ['--version'], {
        env: env(),
        cwd: work,
      });
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(`${packageJson.version}\n`);
    });

    it('runs the 5-message scenario from that copy', async () => {
      const device = await provisionPointedDevice(cloud);
      const result = await runProcess(
        join(bundleDir, 'device-runner.mjs'),
        runArgs(device, '--json'),
        {
          env: env(),
          cwd: work,
        },
      );
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(jsonEvents(result.stdout).at(-3)).toMatchObject({ event: 'done', received: 5 });
    });
  });
});
