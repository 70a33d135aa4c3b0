import { credentialPointerKey } from '@thingcert/contracts';
import { findSecretLeaks, makeKeyPair } from '@thingcert/test-support';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { deps, idOf, provisioned, stubS3 } from '../test/main-harness';
import { EXIT_CREDENTIALS_REFUSED, EXIT_SUCCESS } from './exit-codes';
import { main } from './main';

const first = makeKeyPair('first');
const second = makeKeyPair('second');

const POINTER = credentialPointerKey({ thingName: 'thing-1' });
type Event = Record<string, unknown> & { event: string };

describe('Function: runDevice (through main), following the credential pointer', () => {
  /**
   * Runs `main --forever --json` over the echo broker and a stub bucket holding
   * `first` and `second` with the pointer on `first`; `onEvent` sees each
   * event with the bucket (to rotate) and the transports (to drop or refuse).
   */
  async function follow(
    extra: string[],
    onEvent: (
      event: Event,
      context: { objects: Record<string, string>; made: ReturnType<typeof deps>['made'] },
      stop: () => void,
    ) => void,
    broker: { failWith?: string } = {},
  ) {
    const work = await mkdtemp(join(tmpdir(), 'device-runner-follow-'));
    onTestFinished(() => rm(work, { recursive: true, force: true }));
    const controller = new AbortController();
    const harness = deps(broker, controller.signal);
    const objects: Record<string, string> = {
      ...provisioned(first).objects,
      ...provisioned(second).objects,
      [POINTER]: provisioned(first).pointer,
    };
    const events: Event[] = [];
    const argv = ['run', '--thing', 'thing-1', '--endpoint', 'localhost', '--bucket', 'certs'];
    const code = await main(
      [...argv, '--credentials-dir', work, '--json', '--forever', '--count', '0', ...extra],
      {
        ...harness.deps,
        createS3: () => stubS3(objects, []),
        stdout: {
          write: (line: string) => {
            harness.stdout.push(line);
            const event = JSON.parse(line) as Event;
            events.push(event);
            onEvent(event, { objects, made: harness.made }, () => controller.abort());
          },
        },
      },
    );
    return { code, events, made: harness.made, stdout: harness.stdout.join(''), work };
  }

  it('moves to the certificate a rotated pointer names, logging offline, credentials-changed, online', async () => {
    const { code, events, made, work } = await follow(
      ['--credential-check-interval', '100'],
      (event, { objects }, stop) => {
        if (event.event === 'online' && event['reconnect'] === false) {
          Object.assign(objects, { [POINTER]: provisioned(second).pointer });
        }
        if (event.event === 'online' && event['reconnect'] === true) stop();
      },
    );
    expect(code).toBe(EXIT_SUCCESS);
    const story = events.filter((e) =>
      ['online', 'offline', 'credentials-changed'].includes(e.event),
    );
    expect(story).toMatchObject([
      { event: 'online', certificateId: idOf(first), reconnect: false },
      { event: 'offline', certificateId: idOf(first), cause: 'switching' },
      { event: 'credentials-changed', from: idOf(first), to: idOf(second), trigger: 'interval' },
      { event: 'online', certificateId: idOf(second), reconnect: true },
    ]);
    expect(made.map((m) => m.options.certPath)).toEqual([
      join(work, idOf(first), 'device.pem.crt'),
      join(work, idOf(second), 'device.pem.crt'),
    ]);
    expect(made.map((m) => m.options.clientId)).toEqual(['thing-1', 'thing-1']);
    // The replaced certificate's key does not stay on the device.
    await expect.poll(() => readdir(work)).toEqual([idOf(second)]);
  });

  it('keeps the current certificate and logs a one-line reason when the pointer turns invalid', async () => {
    let checks = 0;
    const { code, events, made, stdout } = await follow(
      ['--credential-check-interval', '100'],
      (event, { objects }, stop) => {
        if (event.event === 'online') objects[POINTER] = '{"version":1,"certificateId":"x"}';
        if (event.event === 'credentials-check-failed' && ++checks === 1) {
          setTimeout(stop, 300); // a few more looks: reported once, not each time
        }
      },
    );
    expect(code).toBe(EXIT_SUCCESS);
    const failures = events.filter((e) => e.event === 'credentials-check-failed');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      trigger: 'interval',
      message: expect.stringMatching(
        /^s3:\/\/certs\/thing-1\/current\.json: .*is missing/,
      ) as unknown,
    });
    expect(String(failures[0]!['message'])).not.toContain('\n');
    expect(made).toHaveLength(1);
    expect(events.find((e) => e.event === 'stats')).toMatchObject({ certificateId: idOf(first) });
    expect(findSecretLeaks(stdout, [first.privateKeyPem, second.privateKeyPem])).toEqual([]);
  });

  it('exits 75 when reconnects keep being refused and the pointer names no other certificate', async () => {
    const { code, events } = await follow(
      ['--refused-limit', '2', '--credential-check-interval', '60000'],
      (event, { made }) => {
        if (event.event === 'online') {
          setImmediate(() =>
            made[0]!.events.onDisconnected({ nativeError: 'AWS_IO_SOCKET_CLOSED' }),
          );
        }
        if (event.event === 'offline' || event.event === 'refused') {
          setImmediate(() =>
            made[0]!.events.onConnectionFailure({
              nativeError: 'AWS_ERROR_MQTT_PROTOCOL_ERROR',
              text: 'connection rejected by the broker',
            }),
          );
        }
      },
    );
    expect(code).toBe(EXIT_CREDENTIALS_REFUSED);
    expect(events.filter((e) => e.event === 'refused')).toMatchObject([
      { certificateId: idOf(first), refusals: 1, limit: 2 },
      { certificateId: idOf(first), refusals: 2, limit: 2 },
    ]);
    const error = events.find((e) => e.event === 'error');
    expect(error).toMatchObject({ kind: 'user' });
    expect(String(error!['message'])).toContain(
      `The broker refused certificate ${idOf(first)} 2 times in a row and s3://certs/thing-1/current.json still names it`,
    );
    expect(String(error!['message'])).not.toContain('\n');
    // The connection was closed cleanly before the error was reported.
    expect(events.slice(-2).map((e) => e.event)).toEqual(['disconnected', 'error']);
  });

  it('exits 75 when the first connect is refused with the certificate the pointer names', async () => {
    const { code, events } = await follow([], () => undefined, {
      failWith: 'AWS_ERROR_MQTT5_CONNACK_CONNECTION_REFUSED',
    });
    expect(code).toBe(EXIT_CREDENTIALS_REFUSED);
    expect(events.find((e) => e.event === 'error')).toMatchObject({
      message: expect.stringContaining(
        `The broker refused certificate ${idOf(first)}, which the credential pointer names`,
      ) as unknown,
    });
  });
});
