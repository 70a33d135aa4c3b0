import {
  certificateObjectKeys,
  serializeCredentialPointer,
  type DeviceRunnerConfigFile,
} from '@thingcert/contracts';
import { findSecretLeaks, makeKeyPair } from '@thingcert/test-support';
import { X509Certificate } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deps, stubS3 } from '../test/main-harness';
import packageJson from '../package.json' with { type: 'json' };
import { main } from './main';

let work: string;
let certPath: string;
let keyPath: string;
let keyPem: string;
let certId: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'device-runner-main-'));
  certPath = join(work, 'device.pem.crt');
  keyPath = join(work, 'private.pem.key');
  const pair = makeKeyPair('test');
  await writeFile(certPath, pair.certificatePem);
  await writeFile(keyPath, pair.privateKeyPem);
  await chmod(keyPath, 0o600);
  keyPem = await readFile(keyPath, 'utf8');
  certId = new X509Certificate(pair.certificatePem).fingerprint256.replace(/:/g, '').toLowerCase();
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Writes `settings` as a `--config` file in the work directory; returns its path. */
async function configFile(name: string, settings: DeviceRunnerConfigFile): Promise<string> {
  const file = join(work, name);
  await writeFile(file, JSON.stringify(settings));
  return file;
}

const args = () => [
  'run',
  '--thing',
  'thing-1',
  '--endpoint',
  'localhost',
  '--cert',
  certPath,
  '--key',
  keyPath,
];

// Over 150 lines on purpose: one describe per unit under test keeps every case's
// full name and its shared fixtures in one place; each `it` stays short.
describe('Function: main', () => {
  it('prints usage on --help and exits 0', async () => {
    const { deps: d, stdout, stderr } = deps();
    expect(await main(['--help'], d)).toBe(0);
    expect(stdout.join('')).toContain('Usage: device-runner run [options]');
    expect(stderr).toEqual([]);
  });

  it('prints the package.json version on --version and exits 0', async () => {
    const { deps: d, stdout, stderr } = deps();
    expect(await main(['--version'], d)).toBe(0);
    expect(stdout).toEqual([`${packageJson.version}\n`]);
    expect(stderr).toEqual([]);
  });

  it('prints the problem and usage on stderr and exits 2 for bad flags', async () => {
    const { deps: d, stdout, stderr } = deps();
    expect(await main(['run', '--colour', 'red'], d)).toBe(2);
    expect(stderr.join('')).toMatch(/^device-runner: Unknown option '--colour'\n\nUsage:/);
    expect(stdout).toEqual([]);
  });

  it('runs the 5-message scenario and exits 0, disconnecting cleanly', async () => {
    const { deps: d, stdout, made } = deps();
    expect(await main([...args(), '--json'], d)).toBe(0);
    const events = stdout.map((line) => JSON.parse(line) as { event: string });
    const names = events.map((e) => e.event);
    expect(names.slice(0, 5)).toEqual([
      'credentials',
      'connecting',
      'connected',
      'online',
      'subscribed',
    ]);
    expect(names.slice(-3)).toEqual(['done', 'stats', 'disconnected']);
    // Publishes are pipelined, so PUBACKs and echoes interleave: compare the middle as a multiset.
    expect(names.slice(5, -3).sort()).toEqual([
      ...Array<string>(5).fill('published'),
      ...Array<string>(5).fill('received'),
    ]);
    expect(events.find((e) => e.event === 'done')).toMatchObject({ received: 5, expected: 5 });
    expect(events.find((e) => e.event === 'stats')).toMatchObject({
      certificateId: certId,
      published: 5,
      acked: 5,
      received: 5,
      duplicates: 0,
    });
    expect(made).toMatchObject([
      { stopped: true, options: { clientId: 'thing-1', protocol: 'mqtt3' } },
    ]);
  });

  it.each([
    [[], 32],
    [['--window', '3'], 3],
    [['--window', '100'], 40],
  ])('with %j keeps at most %i publishes awaiting their PUBACK', async (extra, peak) => {
    const inFlight = { now: 0, peak: 0 };
    const { deps: d } = deps({ inFlight });
    expect(await main([...args(), '--json', '--count', '40', ...extra], d)).toBe(0);
    expect(inFlight).toEqual({ now: 0, peak });
  });

  it('exits 1 when a signal stops a finite run before all messages came back', async () => {
    const controller = new AbortController();
    const { deps: d, stderr } = deps({ swallow: true }, controller.signal);
    const code = await main([...args(), '--count', '1'], {
      ...d,
      stdout: {
        write: (line: string) => {
          d.stdout.write(line);
          if (line.startsWith('Publishing')) controller.abort();
        },
      },
    });
    expect(code).toBe(1);
    expect(stderr.join('')).toContain('error: stopped by a signal after 0 of 1 messages came back');
  });

  it('exits 1 with the policy to check when the broker refuses the publish', async () => {
    const { deps: d, stderr, made } = deps({ denied: ['test/topic'] });
    expect(await main(args(), d)).toBe(1);
    expect(stderr.join('')).toMatch(/^error: The broker refused .*iot:Publish/);
    expect(made[0]?.stopped).toBe(true);
  });

  it('exits 1 with the connection hint when the connect fails', async () => {
    const { deps: d, stderr } = deps({ failWith: 'AWS_IO_DNS_INVALID_NAME' });
    expect(await main(args(), d)).toBe(1);
    expect(stderr.join('')).toContain('DNS lookup failed');
    expect(stderr.join('')).toContain('[AWS_IO_DNS_INVALID_NAME]');
  });

  it('refuses a key file others can read, naming the chmod fix, without leaking the key', async () => {
    await chmod(keyPath, 0o644);
    try {
      const { deps: d, stdout, stderr } = deps();
      expect(await main(args(), d)).toBe(1);
      expect(stderr.join('')).toContain(`chmod 600 ${keyPath}`);
      expect(findSecretLeaks(stdout.join('') + stderr.join(''), [keyPem])).toEqual([]);
    } finally {
      await chmod(keyPath, 0o600);
    }
  });

  it('stops gracefully on a signal in --forever mode and exits 0', async () => {
    const controller = new AbortController();
    const { deps: d, stdout, made } = deps({}, controller.signal);
    const running = main([...args(), '--forever', '--json'], {
      ...d,
      stdout: {
        write: (line: string) => {
          d.stdout.write(line);
          if (line.includes('"event":"done"')) controller.abort();
        },
      },
    });
    expect(await running).toBe(0);
    expect(stdout.at(-1)).toContain('"event":"disconnected"');
    expect(made[0]?.stopped).toBe(true);
  });

  it('publishes every --interval in --forever mode, not an interval after each PUBACK', async () => {
    const controller = new AbortController();
    // Each PUBACK takes as long as the interval: waiting for it and then the
    // whole interval again would halve the rate.
    const { deps: d } = deps({ ackDelayMs: 100 }, controller.signal);
    const publishingAt: number[] = [];
    const acked: number[] = [];
    const running = main([...args(), '--forever', '--json', '--count', '0', '--interval', '100'], {
      ...d,
      stdout: {
        write: (line: string) => {
          const event = JSON.parse(line) as { event: string; index?: number };
          if (event.event === 'published') acked.push(event.index ?? 0);
        },
      },
      // Publishes are pipelined: when each one starts is what the interval sets.
      createConnection: (options) => {
        const connection = d.createConnection(options);
        const publish = connection.publish.bind(connection);
        connection.publish = (...publishArgs) => {
          publishingAt.push(performance.now());
          if (publishingAt.length === 6) controller.abort();
          return publish(...publishArgs);
        };
        return connection;
      },
    });
    expect(await running).toBe(0);
    const gaps = publishingAt.slice(1).map((at, i) => at - publishingAt[i]!);
    const mean = gaps.reduce((sum, gap) => sum + gap, 0) / gaps.length;
    // 100 ms apart on average and never closer; 200 ms if the pause came
    // after each acknowledgement.
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(98);
    expect(mean).toBeLessThan(170);
    // Each acknowledgement names its own message, though later ones were sent meanwhile.
    expect(acked.length).toBeGreaterThanOrEqual(4);
    expect(acked).toEqual(acked.map((_, i) => i + 1));
  });

  it('reports an unexpected failure as an internal error with exit 1', async () => {
    const { deps: d, stderr } = deps();
    const code = await main(args(), {
      ...d,
      createConnection: () => {
        throw new TypeError('wiring bug');
      },
    });
    expect(code).toBe(1);
    expect(stderr.join('')).toContain('internal error: wiring bug');
  });

  it("reads credentials through the thing's pointer by default, keeping S3 to watch it", async () => {
    const certPem = await readFile(certPath, 'utf8');
    const keys = certificateObjectKeys({ thingName: 'thing-1' }, certId);
    const pointer = serializeCredentialPointer({
      version: 1,
      certificateId: certId,
      certificateArn: `arn:aws:iot:us-east-1:000000000000:cert/${certId}`,
      objects: keys,
      updatedAt: '2030-01-01T00:00:00.000Z',
    });
    const calls: string[] = [];
    const { deps: d, stdout } = deps();
    const s3Args = ['run', '--thing', 'thing-1', '--endpoint', 'localhost', '--bucket', 'certs'];
    const dir = join(work, 's3-pointer');
    const code = await main([...s3Args, '--credentials-dir', dir, '--json'], {
      ...d,
      createS3: () => {
        calls.push('createS3');
        return stubS3(
          {
            'thing-1/current.json': pointer,
            [keys.certificate]: certPem,
            [keys.privateKey]: keyPem,
          },
          calls,
        );
      },
      createConnection: (options) => {
        calls.push(`createConnection ${options.keyPath}`);
        return d.createConnection(options);
      },
    });
    expect(code).toBe(0);
    expect(calls.slice(0, 2)).toEqual(['createS3', 'get thing-1/current.json']);
    expect(calls.filter((call) => !call.startsWith('get '))).toEqual([
      'createS3',
      `createConnection ${join(dir, certId, 'private.pem.key')}`,
      'destroy',
    ]);
    expect(JSON.parse(stdout[0]!)).toMatchObject({
      event: 'credentials',
      source: 'pointer',
      location: 's3://certs/thing-1/current.json',
      certificateId: certId,
    });
  });

  it('fetches the object keys its configuration names instead of rebuilding them', async () => {
    const certPem = await readFile(certPath, 'utf8');
    const calls: string[] = [];
    const file = await configFile('deployed.json', {
      bucket: 'certs',
      thing: 'thing-1',
      certificateObjectKey: 'fleet/a/thing-1/device.pem.crt',
      privateKeyObjectKey: 'fleet/a/thing-1/private.pem.key',
      endpoint: 'localhost',
      credentialsDir: join(work, 's3-configured'),
      json: true,
    });
    const { deps: d, stdout } = deps();
    const code = await main(['run', '--config', file], {
      ...d,
      createS3: () =>
        stubS3(
          {
            'fleet/a/thing-1/device.pem.crt': certPem,
            'fleet/a/thing-1/private.pem.key': keyPem,
          },
          calls,
        ),
    });
    expect(code).toBe(0);
    expect(calls.filter((call) => call.startsWith('get ')).sort()).toEqual([
      'get fleet/a/thing-1/device.pem.crt',
      'get fleet/a/thing-1/private.pem.key',
    ]);
    // Fixed objects are not followed: S3 is freed at once.
    expect(calls.at(-1)).toBe('destroy');
    expect(JSON.parse(stdout[0]!)).toMatchObject({
      event: 'credentials',
      location: 's3://certs/fleet/a/thing-1/',
    });
  });

  it('destroys the S3 client when fetching credentials fails', async () => {
    const calls: string[] = [];
    const { deps: d, stderr } = deps();
    const s3Args = ['run', '--thing', 'thing-1', '--endpoint', 'localhost', '--bucket', 'certs'];
    const code = await main([...s3Args, '--credentials-dir', join(work, 's3-missing')], {
      ...d,
      createS3: () => stubS3({}, calls),
    });
    expect(code).toBe(1);
    expect(stderr.join('')).toContain('s3://certs/thing-1/');
    expect(calls.filter((call) => call === 'destroy')).toEqual(['destroy']);
    expect(calls.at(-1)).toBe('destroy');
  });

  it('reads settings from a --config file', async () => {
    const file = await configFile('config.json', {
      thing: 'from-file',
      endpoint: 'localhost',
      cert: certPath,
      key: keyPath,
      count: 2,
    });
    const { deps: d, stdout, made } = deps();
    expect(await main(['run', '--config', file], d)).toBe(0);
    expect(stdout.join('')).toContain('2 message(s) received.');
    expect(made[0]?.options.clientId).toBe('from-file');
  });
});
