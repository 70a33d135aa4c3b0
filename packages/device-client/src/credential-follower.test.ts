import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  CredentialFollower,
  type CredentialFollowerEvent,
  type FollowedConnection,
  type FollowedWatcher,
} from './credential-follower';
import type { PointerCheck } from './credential-pointer-watcher';
import type { DeviceConnectionEventMap } from './device-connection';
import { CredentialsError, DeviceConnectionError, type ConnectionFailureReason } from './errors';
import type { PointedCredentials } from './fetch-pointed-credentials';

function credentials(id: string): PointedCredentials {
  return {
    certificateId: id.repeat(64),
    certificateArn: `arn:aws:iot:us-east-1:000000000000:cert/${id.repeat(64)}`,
    certPath: `/d/${id}/device.pem.crt`,
    keyPath: `/d/${id}/private.pem.key`,
    caPath: undefined,
    pointerEtag: `"${id}"`,
  };
}

/** A connection whose events the test fires, and a watcher whose answers it queues. */
function setup(options: { refusedLimit?: number; checkIntervalMs?: number } = {}) {
  type Listener = (event: never) => void;
  const listeners = new Map<string, Set<Listener>>();
  const switched: string[] = [];
  const connection: FollowedConnection = {
    on: (event: string, listener: Listener) => {
      const set = listeners.get(event) ?? new Set<Listener>();
      listeners.set(event, set);
      set.add(listener);
      return () => set.delete(listener);
    },
    switchCredentials: vi.fn((files: { certPath: string }) => {
      switched.push(files.certPath);
      return Promise.resolve();
    }),
  };
  const fire = <K extends keyof DeviceConnectionEventMap>(
    event: K,
    payload: DeviceConnectionEventMap[K],
  ): void => {
    for (const listener of listeners.get(event) ?? [])
      (listener as (e: typeof payload) => void)(payload);
  };
  const answers: PointerCheck[] = [];
  let current = credentials('a');
  const watcher: FollowedWatcher & { checks: number } = {
    checks: 0,
    get current() {
      return current;
    },
    pointerLocation: 's3://devices/thing-1/current.json',
    check: () => {
      watcher.checks++;
      return Promise.resolve(answers.shift() ?? { outcome: 'unchanged' });
    },
    adopt: (next: PointedCredentials) => {
      current = next;
      return Promise.resolve();
    },
  };
  const events: CredentialFollowerEvent[] = [];
  const follower = new CredentialFollower({
    connection,
    watcher,
    checkIntervalMs: options.checkIntervalMs ?? 1_000,
    refusedLimit: options.refusedLimit ?? 3,
    onEvent: (event) => events.push(event),
  });
  return { follower, fire, answers, watcher, events, switched, listeners };
}

function refusal(reason: ConnectionFailureReason = 'rejected'): {
  error: DeviceConnectionError;
} {
  return {
    error: new DeviceConnectionError('refused', {
      reason,
      hint: 'h',
      nativeError: 'AWS_ERROR_MQTT_PROTOCOL_ERROR',
    }),
  };
}

/** Lets the follower's promise chains run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

describe('Class: CredentialFollower', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('looks at the pointer every interval and does nothing while it is unchanged', async () => {
    const { follower, watcher, switched, events } = setup();
    follower.start();
    await vi.advanceTimersByTimeAsync(3_500);
    expect(watcher.checks).toBe(3);
    expect(switched).toEqual([]);
    expect(events).toEqual([]);
    follower.stop();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(watcher.checks).toBe(3);
  });

  it('moves the connection to the certificate a changed pointer names, then adopts it', async () => {
    const { follower, watcher, answers, switched, events } = setup();
    answers.push({ outcome: 'changed', credentials: credentials('b') });
    follower.start();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(switched).toEqual(['/d/b/device.pem.crt']);
    expect(watcher.current.certificateId).toBe('b'.repeat(64));
    expect(events).toMatchObject([
      {
        type: 'credentials-changed',
        trigger: 'interval',
        previous: { certificateId: 'a'.repeat(64) },
        current: { certificateId: 'b'.repeat(64) },
      },
    ]);
    follower.stop();
  });

  it('looks at once when the connection drops', async () => {
    const { follower, fire, answers, switched, events } = setup({ checkIntervalMs: 60_000 });
    answers.push({ outcome: 'changed', credentials: credentials('b') });
    follower.start();
    fire('disconnected', refusal());
    await settle();
    expect(switched).toEqual(['/d/b/device.pem.crt']);
    expect(events[0]).toMatchObject({ type: 'credentials-changed', trigger: 'dropped' });
    follower.stop();
  });

  it('reports an invalid pointer once per reason and keeps the current credentials', async () => {
    const { follower, answers, watcher, switched, events } = setup();
    const invalid = new CredentialsError('s3://devices/thing-1/current.json: not JSON', {
      reason: 'invalid-pointer',
      location: 'x',
    });
    answers.push(
      { outcome: 'failed', error: invalid },
      { outcome: 'failed', error: invalid },
      { outcome: 'failed', error: new Error('other') },
    );
    follower.start();
    await vi.advanceTimersByTimeAsync(3_000);
    expect(events).toEqual([
      { type: 'check-failed', trigger: 'interval', error: invalid },
      { type: 'check-failed', trigger: 'interval', error: new Error('other') },
    ]);
    expect(switched).toEqual([]);
    expect(watcher.current.certificateId).toBe('a'.repeat(64));
    follower.stop();
  });

  it('gives up with CredentialsRefusedError after refusedLimit refusals with the pointer unchanged', async () => {
    const { follower, fire, events, watcher } = setup({ refusedLimit: 3, checkIntervalMs: 60_000 });
    let failure: unknown;
    follower.failed.catch((error: unknown) => {
      failure = error;
    });
    follower.start();
    fire('connectionFailure', refusal());
    fire('connectionFailure', refusal('tls'));
    await settle();
    expect(failure).toBeUndefined();
    fire('connectionFailure', refusal());
    await settle();
    // The first two came together and shared one look.
    expect(watcher.checks).toBe(2);
    expect(events.map((e) => e.type)).toEqual(['refused', 'refused', 'refused']);
    expect(failure).toMatchObject({
      name: 'CredentialsRefusedError',
      certificateId: 'a'.repeat(64),
      refusals: 3,
    });
    expect((failure as Error).message).toContain(
      's3://devices/thing-1/current.json still names it',
    );
    expect((failure as Error).message).not.toContain('\n');
  });

  it('does not count failures a reconnect outlasts, nor refusals before a successful connect', async () => {
    const { follower, fire } = setup({ refusedLimit: 2, checkIntervalMs: 60_000 });
    let failure: unknown;
    follower.failed.catch((error: unknown) => {
      failure = error;
    });
    follower.start();
    fire('connectionFailure', refusal('timeout'));
    fire('connectionFailure', refusal('dns'));
    fire('connectionFailure', refusal());
    await settle();
    fire('connected', { sessionPresent: true, reconnect: true });
    fire('connectionFailure', refusal());
    await settle();
    expect(failure).toBeUndefined();
    follower.stop();
  });

  it('follows a pointer that moves while reconnects are refused instead of giving up', async () => {
    const { follower, fire, answers, switched } = setup({
      refusedLimit: 2,
      checkIntervalMs: 60_000,
    });
    let failure: unknown;
    follower.failed.catch((error: unknown) => {
      failure = error;
    });
    follower.start();
    fire('connectionFailure', refusal());
    await settle();
    answers.push({ outcome: 'changed', credentials: credentials('b') });
    fire('connectionFailure', refusal());
    await settle();
    expect(switched).toEqual(['/d/b/device.pem.crt']);
    expect(failure).toBeUndefined();
    follower.stop();
  });

  it('stops listening to the connection on stop()', () => {
    const { follower, listeners } = setup();
    follower.start();
    expect([...listeners.values()].reduce((n, set) => n + set.size, 0)).toBe(3);
    follower.stop();
    expect([...listeners.values()].reduce((n, set) => n + set.size, 0)).toBe(0);
  });
});
