import { describe, expect, it } from 'vitest';
import { createEventLog, type RunEvent } from './event-log';

function capture(json: boolean) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const log = createEventLog(
    { json, now: () => new Date('2030-01-01T00:00:00.000Z') },
    {
      stdout: { write: (l: string) => stdout.push(l) },
      stderr: { write: (l: string) => stderr.push(l) },
    },
  );
  return { log, stdout, stderr };
}

const run: RunEvent[] = [
  { event: 'connecting', endpoint: 'e', port: 8883, clientId: 'thing-1', protocol: 'mqtt5' },
  { event: 'connected', reconnect: false, sessionPresent: false },
  { event: 'subscribed', topic: 'test/topic' },
  { event: 'publishing', topic: 'test/topic', index: 1, message: 'Hello World! [1]' },
  { event: 'published', topic: 'test/topic', index: 1, message: 'Hello World! [1]' },
  { event: 'received', topic: 'test/topic', payload: '"Hello World! [1]"' },
  { event: 'done', received: 1, expected: 1 },
  { event: 'disconnecting' },
  { event: 'disconnected' },
];

describe('Function: createEventLog', () => {
  it('writes the seed-style log in text mode', () => {
    const { log, stdout } = capture(false);
    run.forEach(log);
    expect(stdout.join('')).toBe(
      [
        "Connecting to e:8883 with client ID 'thing-1' (MQTT 5)...",
        'Connected!',
        "Subscribed to topic 'test/topic'",
        "Publishing message to topic 'test/topic': Hello World! [1]",
        `Received message from topic 'test/topic': "Hello World! [1]"`,
        '1 message(s) received.',
        'Disconnecting...',
        'Disconnected!',
        '',
      ].join('\n'),
    );
  });

  it('writes one JSON object per line with event and time in JSON mode', () => {
    const { log, stdout } = capture(true);
    run.forEach(log);
    const events = stdout.map((line) => JSON.parse(line) as { event: string; time: string });
    expect(events.map((e) => e.event)).toEqual([
      'connecting',
      'connected',
      'subscribed',
      'published',
      'received',
      'done',
      'disconnected',
    ]);
    expect(events[5]).toEqual({
      time: '2030-01-01T00:00:00.000Z',
      event: 'done',
      received: 1,
      expected: 1,
    });
    expect(stdout.every((line) => line.endsWith('}\n'))).toBe(true);
  });

  it('logs a rotation: measurements in JSON only, the change and warnings in text too', () => {
    const A = 'a'.repeat(64);
    const B = 'b'.repeat(64);
    const counters = { published: 3, acked: 2, received: 2, duplicates: 0 };
    const rotation: RunEvent[] = [
      {
        event: 'credentials',
        source: 'pointer',
        location: 's3://b/t/current.json',
        certificateId: A,
      },
      { event: 'offline', certificateId: A, cause: 'switching', ...counters },
      { event: 'credentials-changed', from: A, to: B, trigger: 'interval' },
      { event: 'online', certificateId: B, reconnect: true, sessionPresent: true, ...counters },
      { event: 'credentials-check-failed', trigger: 'interval', message: 'not JSON' },
      { event: 'refused', certificateId: B, refusals: 1, limit: 5, message: 'rejected' },
      { event: 'stats', certificateId: B, ...counters },
    ];
    const text = capture(false);
    rotation.forEach(text.log);
    expect(text.stdout).toEqual([
      'Downloaded certificate aaaaaaaaaaaa… and its key through s3://b/t/current.json\n',
      'Credentials changed: certificate aaaaaaaaaaaa… -> bbbbbbbbbbbb… (interval); reconnecting with the same client ID and session\n',
    ]);
    expect(text.stderr).toEqual([
      'warning: credential check (interval) failed, keeping the current certificate: not JSON\n',
      'warning: the broker refused certificate bbbbbbbbbbbb… (1 of 5): rejected\n',
    ]);
    const json = capture(true);
    rotation.forEach(json.log);
    expect(json.stdout.map((line) => JSON.parse(line) as object)).toEqual(
      rotation.map((event) => ({ time: '2030-01-01T00:00:00.000Z', ...event })),
    );
  });

  it('sends text errors to stderr and JSON errors to stdout', () => {
    const text = capture(false);
    text.log({ event: 'error', kind: 'user', message: 'bad cert' });
    expect(text.stderr).toEqual(['error: bad cert\n']);
    expect(text.stdout).toEqual([]);
    const json = capture(true);
    json.log({ event: 'error', kind: 'fault', message: 'boom' });
    expect(JSON.parse(json.stdout[0]!)).toMatchObject({
      event: 'error',
      kind: 'fault',
      message: 'boom',
    });
  });

  it('tells the story of a provisioning by claim in text mode, problems on stderr, the rejection once', () => {
    const { log, stdout, stderr } = capture(false);
    const id = 'ab'.repeat(32);
    const claim: RunEvent[] = [
      {
        event: 'credentials',
        source: 'claim',
        location: 's3://b/claim/current.json',
        certificateId: id,
      },
      { event: 'claim-connected', clientId: 'fleet-i-1', certificateId: id },
      { event: 'certificate-created', certificateId: id },
      {
        event: 'registration-retrying',
        operation: 'RegisterThing',
        statusCode: 429,
        errorCode: 'ThrottlingException',
        attempt: 1,
        delayMs: 1000,
      },
      { event: 'registered', thingName: 'fleet-i-1', certificateId: id, confirmedBy: 'reply' },
      { event: 'claim-removed', certificateId: id },
      { event: 'registration-unconfirmed', certificateId: id, message: 'reply lost' },
      {
        event: 'registration-rejected',
        operation: 'RegisterThing',
        statusCode: 403,
        errorCode: 'AccessDenied',
        errorMessage: 'denied',
      },
    ];
    claim.forEach(log);
    expect(stdout.join('')).toBe(
      [
        'Downloaded claim certificate abababababab… and its key through s3://b/claim/current.json',
        "Connected with the claim certificate as 'fleet-i-1'; provisioning by claim...",
        'Got certificate abababababab… for a key made on this device',
        'RegisterThing answered 429 ThrottlingException; retry 1 in 1000 ms',
        "Registered as thing 'fleet-i-1' with certificate abababababab…",
        'Deleted the claim certificate abababababab… and its key from this device',
        '',
      ].join('\n'),
    );
    expect(stderr).toEqual([
      'warning: reply lost; connecting with certificate abababababab… to find out\n',
    ]);
  });
});
