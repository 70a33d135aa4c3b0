import type { S3Client } from '@aws-sdk/client-s3';
import {
  CredentialFollower,
  CredentialsRefusedError,
  isDeviceConnectionError,
  pubsub,
  type CredentialFollowerEvent,
  type DeviceConnection,
  type DeviceConnectionOptions,
} from '@thingcert/device-client';
import { openClaimedCredentials, type ConnectClaim } from './claim-source';
import { openCredentialSource, type CredentialSource } from './credential-source';
import { IncompleteRunError } from './errors';
import type { EventLog } from './event-log';
import { MessageCounters } from './message-counters';
import { publishForever } from './publish-forever';
import type { RunConfig } from './run-config';

/** Real or fake collaborators of {@link runDevice}; the CLI builds the real ones. */
export interface RunDeviceDeps {
  /** Built only when credentials come from S3. */
  readonly createS3: (region: string | undefined) => S3Client;
  readonly createConnection: (options: DeviceConnectionOptions) => DeviceConnection;
  /** Opens the claim connection (claim mode only). */
  readonly connectClaim: ConnectClaim;
}

/**
 * One run of the device: credentials (through the pointer, fixed S3 objects,
 * files, or made by provisioning by claim), connect, the pubsub routine, then either disconnect or (with
 * `forever`) stay online until `signal` aborts. Credentials read through the
 * pointer are followed: a rotation moves the connection to the new
 * certificate without a restart. Resolves when all messages came back or a
 * `forever` run was stopped; rejects with the reason otherwise
 * ({@link CredentialsRefusedError} when the broker keeps refusing the
 * certificate the pointer names). The connection is always stopped.
 */
export async function runDevice(
  config: RunConfig,
  deps: RunDeviceDeps,
  log: EventLog,
  signal: AbortSignal,
): Promise<void> {
  const { claim } = config;
  const source =
    claim === undefined
      ? await openCredentialSource(config, deps.createS3, log)
      : await openClaimedCredentials({ ...config, claim }, deps, log, signal);
  try {
    await runConnected(config, deps, log, signal, source);
  } finally {
    source.close();
  }
}

async function runConnected(
  config: RunConfig,
  deps: RunDeviceDeps,
  log: EventLog,
  signal: AbortSignal,
  source: CredentialSource,
): Promise<void> {
  const { credentials, watcher } = source;
  const counters = new MessageCounters(config.message);
  let certificateId = credentials.certificateId;
  let online = false;
  const connection = deps.createConnection({
    thingName: config.thing,
    endpoint: config.endpoint,
    port: config.port,
    protocol: config.protocol,
    certPath: credentials.certPath,
    keyPath: credentials.keyPath,
    ...(credentials.caPath === undefined ? {} : { caPath: credentials.caPath }),
  });
  const wentOffline = (cause: 'dropped' | 'switching'): void => {
    if (!online) return;
    online = false;
    log({ event: 'offline', certificateId, cause, ...counters.snapshot() });
  };
  connection.on('connected', ({ reconnect, sessionPresent }) => {
    if (!reconnect) return; // the first one is logged once start() resolved
    online = true;
    log({ event: 'connected', reconnect, sessionPresent });
    log({ event: 'online', certificateId, reconnect, sessionPresent, ...counters.snapshot() });
  });
  connection.on('disconnected', ({ error }) => {
    log({ event: 'interrupted', message: error.message });
    wentOffline('dropped');
  });
  connection.on('switching', () => wentOffline('switching'));

  // Stops the routine on a signal, or when the follower gives up.
  const run = new AbortController();
  const stopRun = (): void => run.abort();
  signal.addEventListener('abort', stopRun, { once: true });
  let gaveUp: Error | undefined;
  const follower =
    watcher === undefined
      ? undefined
      : new CredentialFollower({
          connection,
          watcher,
          checkIntervalMs: config.credentialCheckInterval,
          refusedLimit: config.refusedLimit,
          onEvent: (event) => {
            if (event.type === 'credentials-changed') certificateId = event.current.certificateId;
            log(followerLine(event));
          },
        });
  follower?.failed.catch((error: unknown) => {
    gaveUp = error as Error;
    stopRun();
  });

  log({
    event: 'connecting',
    endpoint: config.endpoint,
    port: config.port,
    clientId: config.thing,
    protocol: config.protocol,
  });
  try {
    await firstConnect(connection, signal, source);
    await source.connected?.();
    online = true;
    log({ event: 'connected', reconnect: false, sessionPresent: false });
    log({
      event: 'online',
      certificateId,
      reconnect: false,
      sessionPresent: false,
      ...counters.snapshot(),
    });
    follower?.start();
    await routine(config, connection, log, counters, run.signal);
    if (gaveUp !== undefined) throw gaveUp;
  } finally {
    follower?.stop();
    signal.removeEventListener('abort', stopRun);
    log({ event: 'stats', certificateId, ...counters.snapshot() });
    log({ event: 'disconnecting' });
    await connection.stop();
    log({ event: 'disconnected' });
  }
}

/**
 * The seed's pubsub routine, then with `forever` publishing on (or just
 * staying online) until `signal` aborts. Throws {@link IncompleteRunError}
 * when a finite run did not get every message back.
 */
async function routine(
  config: RunConfig,
  connection: DeviceConnection,
  log: EventLog,
  counters: MessageCounters,
  signal: AbortSignal,
): Promise<void> {
  const result = await pubsub(connection, {
    topic: config.topic,
    count: config.count,
    message: config.message,
    intervalMs: config.interval,
    window: config.window,
    // 30 s to connect and settle, plus 10 ms a message at least: AWS IoT allows
    // 100 publishes/s per connection, so large counts need time in proportion.
    timeoutMs: 30_000 + config.count * Math.max(config.interval, 10),
    keepSubscribed: config.forever,
    signal,
    onSubscribed: (topic) => log({ event: 'subscribed', topic }),
    onPublishing: (index, message) => {
      counters.published++;
      log({ event: 'publishing', topic: config.topic, index, message });
    },
    onPublished: (index, message) => {
      counters.acked++;
      log({ event: 'published', topic: config.topic, index, message });
    },
    onReceived: ({ topic, text }) => {
      counters.received(text);
      log({ event: 'received', topic, payload: text });
    },
  });
  log({ event: 'done', received: result.received, expected: result.expected });
  if (config.forever) {
    await publishForever(config, connection, log, counters, result.expected, signal);
    return;
  }
  if (!result.complete) {
    throw new IncompleteRunError(
      result.aborted
        ? `stopped by a signal after ${result.received} of ${result.expected} messages came back`
        : `only ${result.received} of ${result.expected} messages came back on '${config.topic}'; ` +
            'check that the policy allows iot:Receive on the topic and that nothing else consumes it',
      { received: result.received, expected: result.expected },
    );
  }
}

/**
 * The time-limited first connect, which a signal interrupts. With credentials
 * that say what a refusal means (read through the pointer, made by claim), a
 * broker that refuses them is a {@link CredentialsRefusedError}: a restart
 * (which reads the pointer again, or provisions again) is what may help, not
 * a retry here.
 */
async function firstConnect(
  connection: DeviceConnection,
  signal: AbortSignal,
  source: CredentialSource,
): Promise<void> {
  try {
    await abortable(connection.start(), signal);
  } catch (error) {
    const { refusedMeans } = source;
    if (
      refusedMeans !== undefined &&
      isDeviceConnectionError(error) &&
      (error.reason === 'rejected' || error.reason === 'tls')
    ) {
      const { certificateId } = source.credentials;
      throw new CredentialsRefusedError(
        `The broker refused certificate ${certificateId}, ${refusedMeans}: ${error.message}`,
        { certificateId, refusals: 1 },
        { cause: error },
      );
    }
    throw error;
  }
}

/** The follower's report as an event-log line. */
function followerLine(event: CredentialFollowerEvent): Parameters<EventLog>[0] {
  switch (event.type) {
    case 'credentials-changed':
      return {
        event: 'credentials-changed',
        from: event.previous.certificateId,
        to: event.current.certificateId,
        trigger: event.trigger,
      };
    case 'check-failed':
      return {
        event: 'credentials-check-failed',
        trigger: event.trigger,
        message: event.error.message,
      };
    case 'refused':
      return {
        event: 'refused',
        certificateId: event.certificateId,
        refusals: event.refusals,
        limit: event.limit,
        message: event.error.message,
      };
  }
}

/** Lets a signal interrupt the (time-limited) first connect. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error('stopped by a signal before connecting'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new Error('stopped by a signal before connecting'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
