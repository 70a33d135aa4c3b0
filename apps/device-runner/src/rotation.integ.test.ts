import { UpdateCertificateCommand } from '@aws-sdk/client-iot';
import {
  startLocalCloud,
  startMosquitto,
  type LocalCloud,
  type MosquittoInstance,
} from '@thingcert/local-cloud';
import {
  findSecretLeaks,
  provisionPointedDevice,
  rotatePointedDevice,
  type PointedDevice,
  type RotateOptions,
} from '@thingcert/test-support';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProcess, type ProcessResult } from '../test/run-process';

const cliPath = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli.js');

type Event = Record<string, unknown> & { event: string; time: string };

/** A `device-runner run --forever --json` process whose events a test watches as they come. */
interface RunningDevice {
  readonly events: Event[];
  /** Resolves with the first event (from now on or already seen) that matches. */
  waitFor(match: (event: Event) => boolean, what: string, timeoutMs?: number): Promise<Event>;
  stop(): void;
  readonly exited: Promise<ProcessResult>;
}

/** Indexes in `"Hello World! [i]"` payloads or `published` events. */
function indexesOf(events: Event[], kind: 'published' | 'received'): number[] {
  return events
    .filter((e) => e.event === kind)
    .map((e) =>
      kind === 'published'
        ? Number(e['index'])
        : Number(/\[(\d+)\]"$/.exec(String(e['payload']))?.[1]),
    );
}

/**
 * The loss audit: every acknowledged publish came back at least once (QoS 1
 * is at least once; a publish resent across the switch may arrive twice), and
 * acknowledged publishes have no hole (a publish lost in the switch would be one).
 */
function expectNothingLost(events: Event[]): void {
  const acked = indexesOf(events, 'published');
  const received = new Set(indexesOf(events, 'received'));
  expect(acked.length).toBeGreaterThan(30);
  const highest = Math.max(...acked);
  expect([...new Set(acked)].sort((a, b) => a - b)).toEqual(
    Array.from({ length: highest }, (_, i) => i + 1),
  );
  expect(acked.filter((index) => !received.has(index))).toEqual([]);
  expect(
    events.filter((e) => e.event === 'interrupted' && /queue/i.test(String(e['message']))),
  ).toEqual([]);
}

// Over 150 lines on purpose: one describe per unit under test keeps every case's
// full name and its shared fixtures in one place; each `it` stays short.
describe('device-runner follows credential rotations (local cloud, real SDK clients, real TLS)', () => {
  // MQTT 3.1.1 goes to the local cloud's broker; MQTT 5 to mosquitto, behind
  // local-cloud's gate that treats certificates as AWS IoT does.
  let work: string;
  let cloud: LocalCloud;
  let mosquitto: MosquittoInstance;

  beforeAll(async () => {
    [work, cloud] = await Promise.all([
      mkdtemp(join(tmpdir(), 'device-runner-rotation-')),
      startLocalCloud(),
    ]);
    mosquitto = await startMosquitto(cloud);
  });
  afterAll(async () => {
    await mosquitto?.stop();
    await cloud?.stop();
    await rm(work, { recursive: true, force: true });
  });

  function start(
    device: PointedDevice,
    protocol: 'mqtt3' | 'mqtt5',
    extra: string[] = [],
  ): RunningDevice {
    const events: Event[] = [];
    const waiters = new Set<() => void>();
    let consumed = 0;
    let child: ChildProcess | undefined;
    const broker =
      protocol === 'mqtt3'
        ? ['--endpoint', cloud.dataEndpoint]
        : ['--endpoint', 'localhost', '--port', String(mosquitto.port), '--ca', cloud.mqtt.caPath];
    const exited = runProcess(
      cliPath,
      [
        'run',
        '--bucket',
        device.bucket,
        '--thing',
        device.thing,
        ...broker,
        '--protocol',
        protocol,
        '--credentials-dir',
        join(work, device.thing),
        '--json',
        '--forever',
        '--count',
        '0',
        '--interval',
        '100',
        ...extra,
      ],
      {
        env: {
          PATH: process.env.PATH,
          HOME: work,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          ...cloud.env,
        },
        onStdout: (soFar, running) => {
          child = running;
          const end = soFar.lastIndexOf('\n');
          if (end < consumed) return;
          for (const line of soFar.slice(consumed, end).split('\n')) {
            if (line.trim() !== '') events.push(JSON.parse(line) as Event);
          }
          consumed = end + 1;
          for (const wake of [...waiters]) wake();
        },
      },
    );
    const waitFor = (match: (event: Event) => boolean, what: string, timeoutMs = 30_000) =>
      new Promise<Event>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `no ${what} within ${timeoutMs} ms; events: ${JSON.stringify(events.slice(-15))}`,
            ),
          );
        }, timeoutMs);
        const check = (): void => {
          const found = events.find(match);
          if (found === undefined) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(found);
        };
        waiters.add(check);
        check();
        void exited.then(() => {
          check();
        });
      });
    return { events, waitFor, stop: () => child?.kill('SIGTERM'), exited };
  }

  /** Starts a device, lets it publish, rotates, and stops it once it has published a while on the new certificate. */
  async function rotateWhilePublishing(
    protocol: 'mqtt3' | 'mqtt5',
    options: RotateOptions,
    extra: string[],
  ) {
    const device = await provisionPointedDevice(cloud);
    const running = start(device, protocol, extra);
    await running.waitFor((e) => e.event === 'online', 'first online');
    await running.waitFor(
      (e) => e.event === 'published' && Number(e['index']) >= 10,
      '10 publishes',
    );
    const rotated = await rotatePointedDevice(device, device.certificateId, options);
    const online = await running.waitFor(
      (e) => e.event === 'online' && e['certificateId'] === rotated.certificateId,
      'online with the new certificate',
    );
    // Messages up to `published` were sent before the switch was over; 20 more after it.
    const target = Number(online['published']) + 20;
    await running.waitFor(
      (e) => e.event === 'received' && indexesOf([e], 'received')[0]! >= target,
      '20 more messages after the switch',
    );
    running.stop();
    const result = await running.exited;
    return { device, rotated, result, events: running.events };
  }

  describe.each(['mqtt3', 'mqtt5'] as const)('over %s', (protocol) => {
    it('moves to the new certificate without a restart when the pointer moves first, losing no QoS 1 message', async () => {
      const { device, rotated, result, events } = await rotateWhilePublishing(
        protocol,
        { order: 'pointer-first' },
        ['--credential-check-interval', '500'],
      );
      expect(result.code).toBe(0);
      // One process from start to end: one credentials read, one first connect.
      expect(events.filter((e) => e.event === 'credentials')).toHaveLength(1);
      expect(events.filter((e) => e.event === 'online' && e['reconnect'] === false)).toHaveLength(
        1,
      );
      const story = events.filter((e) =>
        ['online', 'offline', 'credentials-changed'].includes(e.event),
      );
      // One reconnect. Which comes first, the pointer check moving it
      // ('switching') or the broker dropping the deactivated certificate
      // ('dropped'), depends on timing; the local broker drops at once, AWS IoT
      // within minutes, and mosquitto not at all.
      expect(story).toMatchObject([
        { event: 'online', certificateId: device.certificateId },
        { event: 'offline', certificateId: device.certificateId },
        { event: 'credentials-changed', from: device.certificateId, to: rotated.certificateId },
        { event: 'online', certificateId: rotated.certificateId, sessionPresent: true },
      ]);
      expect(['switching', 'dropped']).toContain(story[1]!['cause']);
      expect(events.find((e) => e.event === 'stats')).toMatchObject({
        certificateId: rotated.certificateId,
      });
      expectNothingLost(events);
      expect(
        findSecretLeaks(result.stdout + result.stderr, [
          device.privateKeyPem,
          rotated.privateKeyPem,
        ]),
      ).toEqual([]);
    });

    it('recovers when the old certificate is deactivated before the pointer moves: dropped, refused, re-reads, back online', async () => {
      const { device, rotated, result, events } = await rotateWhilePublishing(
        protocol,
        { order: 'deactivate-first', gapMs: 1_500 },
        // No timer to help: only the drop and the refusals make it look.
        ['--credential-check-interval', '600000'],
      );
      expect(result.code).toBe(0);
      const story = events.filter((e) =>
        ['online', 'offline', 'credentials-changed'].includes(e.event),
      );
      expect(story).toMatchObject([
        { event: 'online', certificateId: device.certificateId },
        { event: 'offline', certificateId: device.certificateId, cause: 'dropped' },
        { event: 'credentials-changed', to: rotated.certificateId },
        { event: 'online', certificateId: rotated.certificateId },
      ]);
      expect(['refused', 'dropped']).toContain(story[2]!['trigger']);
      expect(events.some((e) => e.event === 'refused')).toBe(true);
      expectNothingLost(events);
    });

    it('exits 75 within the bound when its certificate is revoked and the pointer does not move', async () => {
      const device = await provisionPointedDevice(cloud);
      const running = start(device, protocol, ['--refused-limit', '2']);
      await running.waitFor((e) => e.event === 'published', 'a publish');
      const revokedAt = Date.now();
      await device.iot.send(
        new UpdateCertificateCommand({ certificateId: device.certificateId, newStatus: 'REVOKED' }),
      );
      const result = await running.exited;
      // Two refused reconnects: 1 s, then up to 2 s of aws-crt's backoff, plus the looks.
      expect(Date.now() - revokedAt).toBeLessThan(20_000);
      expect(result.code).toBe(75);
      expect(running.events.filter((e) => e.event === 'refused')).toHaveLength(2);
      const error = running.events.find((e) => e.event === 'error');
      expect(error).toMatchObject({ kind: 'user' });
      expect(String(error!['message'])).toContain(
        `The broker refused certificate ${device.certificateId} 2 times in a row`,
      );
      expect(running.events.at(-1)).toMatchObject({ event: 'error' });
    });
  });
});
