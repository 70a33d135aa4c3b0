import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DeviceProcess } from './device-process';

// A stand-in runner bundle: same command line as the real one, writes a key
// pair into its credentials directory, reports what it saw, no network.
const bundleDir = join(import.meta.dirname, '..', 'test', 'fixtures', 'stand-in-runner');

type Behaviour = 'done' | 'fail' | 'wait';
type RunnerEvent = Record<string, unknown> & { event: string };

function startDevice(behaviour: Behaviour): {
  device: DeviceProcess;
  events: RunnerEvent[];
  nextEvent: (name: string) => Promise<RunnerEvent>;
} {
  const events: RunnerEvent[] = [];
  const waiting = new Map<string, (event: RunnerEvent) => void>();
  const device = new DeviceProcess({
    name: 'stand-in',
    bundleDir,
    config: { behaviour, count: 2 },
    env: {},
    onLine: (line) => {
      const event = JSON.parse(line) as RunnerEvent;
      events.push(event);
      waiting.get(event.event)?.(event);
    },
  });
  const nextEvent = (name: string) =>
    new Promise<RunnerEvent>((resolve) => waiting.set(name, resolve));
  return { device, events, nextEvent };
}

describe('Class: DeviceProcess', () => {
  it('gives the runner a private 0700 directory with its 0600 configuration, HOME and credentials', async () => {
    const { device, events } = startDevice('done');

    const result = await device.exited;

    expect(result).toEqual({ exitCode: 0, received: 2, expected: 2, error: undefined });
    expect(events.find((event) => event.event === 'credentials')).toEqual({
      event: 'credentials',
      directory: device.directory,
      directoryMode: '700',
      configMode: '600',
      credentialsMode: '700',
      keyMode: '600',
      home: device.directory,
    });
  });

  it('removes the directory, private key included, once a finished runner has exited', async () => {
    const { device, events } = startDevice('done');

    await device.exited;

    // The runner did write its key there: the directory existed while it ran.
    expect(events.map((event) => event.event)).toEqual(['credentials', 'done']);
    expect(existsSync(device.directory)).toBe(false);
  });

  it('removes the directory when the runner fails', async () => {
    const { device } = startDevice('fail');

    const result = await device.exited;

    expect(result).toMatchObject({ exitCode: 1, error: 'stand-in failure' });
    expect(existsSync(device.directory)).toBe(false);
  });

  it('removes the directory of a running device once stop() has it exit', async () => {
    const { device, nextEvent } = startDevice('wait');
    await nextEvent('waiting');
    expect(existsSync(join(device.directory, 'credentials', 'private.pem.key'))).toBe(true);

    const result = await device.stop();

    expect(result.exitCode).toBe(0);
    expect(existsSync(device.directory)).toBe(false);
  });

  it('removes the directories of devices still running when the deployer exits', async () => {
    // A deployer process (the built package) that exits while its device runs.
    const entry = pathToFileURL(join(import.meta.dirname, '..', 'dist', 'index.js')).href;
    const script = `
      import { DeviceProcess } from ${JSON.stringify(entry)};
      const device = new DeviceProcess({
        name: 'stand-in',
        bundleDir: ${JSON.stringify(bundleDir)},
        config: { behaviour: 'wait' },
        env: {},
        onLine: (line) => {
          if (JSON.parse(line).event !== 'waiting') return;
          console.log(device.directory);
          process.exit(0);
        },
      });`;
    const deployer = spawn(process.execPath, ['--input-type=module', '--eval', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    deployer.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exitCode = await new Promise<number | null>((resolve) => deployer.on('close', resolve));

    expect(exitCode).toBe(0);
    const directory = output.trim();
    expect(directory).toMatch(/thingcert-device-/);
    expect(existsSync(directory)).toBe(false);
  });
});
