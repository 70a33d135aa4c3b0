import type { S3Client } from '@aws-sdk/client-s3';
import { credentialObjectKeys } from '@thingcert/contracts';
import type { DeviceConnection } from '@thingcert/device-client';
import {
  fetchCredentials,
  isOperationDeniedError,
  loadCredentialFiles,
  pubsub,
  type DeviceConnectionOptions,
  type DeviceCredentials,
} from '@thingcert/device-client';
import { IncompleteRunError } from './errors';
import type { EventLog } from './event-log';
import type { DeviceObjectKeys, RunConfig } from './run-config';

/** Real or fake collaborators of {@link runDevice}; the CLI builds the real ones. */
export interface RunDeviceDeps {
  /** Built only when credentials come from S3. */
  readonly createS3: (region: string | undefined) => S3Client;
  readonly createConnection: (options: DeviceConnectionOptions) => DeviceConnection;
}

/**
 * One run of the device: credentials (S3 or files), connect, the pubsub
 * routine, then either disconnect or (with `forever`) stay online until
 * `signal` aborts. Resolves when all messages came back or a `forever` run was
 * stopped; rejects with the reason otherwise. The connection is always stopped.
 */
export async function runDevice(
  config: RunConfig,
  deps: RunDeviceDeps,
  log: EventLog,
  signal: AbortSignal,
): Promise<void> {
  const credentials = await obtainCredentials(config, deps, log);
  const connection = deps.createConnection({
    thingName: config.thing,
    endpoint: config.endpoint,
    port: config.port,
    protocol: config.protocol,
    certPath: credentials.certPath,
    keyPath: credentials.keyPath,
    ...(credentials.caPath === undefined ? {} : { caPath: credentials.caPath }),
  });
  connection.on('connected', ({ reconnect, sessionPresent }) => {
    if (reconnect) log({ event: 'connected', reconnect, sessionPresent });
  });
  connection.on('disconnected', ({ error }) =>
    log({ event: 'interrupted', message: error.message }),
  );

  log({
    event: 'connecting',
    endpoint: config.endpoint,
    port: config.port,
    clientId: config.thing,
    protocol: config.protocol,
  });
  try {
    await abortable(connection.start(), signal);
    log({ event: 'connected', reconnect: false, sessionPresent: false });
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
      onPublishing: (index, message) =>
        log({ event: 'publishing', topic: config.topic, index, message }),
      onPublished: (index, message) =>
        log({ event: 'published', topic: config.topic, index, message }),
      onReceived: ({ topic, text }) => log({ event: 'received', topic, payload: text }),
    });
    log({ event: 'done', received: result.received, expected: result.expected });
    if (config.forever) {
      await stayOnline(config, connection, log, signal, result.expected);
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
  } finally {
    log({ event: 'disconnecting' });
    await connection.stop();
    log({ event: 'disconnected' });
  }
}

async function obtainCredentials(
  config: RunConfig,
  deps: RunDeviceDeps,
  log: EventLog,
): Promise<DeviceCredentials> {
  if (config.cert !== undefined && config.key !== undefined) {
    const credentials = await loadCredentialFiles({
      certPath: config.cert,
      keyPath: config.key,
      ...(config.ca === undefined ? {} : { caPath: config.ca }),
    });
    log({ event: 'credentials', source: 'files', location: `${config.cert}, ${config.key}` });
    return credentials;
  }
  const bucket = config.bucket ?? '';
  // The keys the certificate resource returned (a deployed device's config);
  // started by hand with only --bucket and --thing: the shared layout.
  const { certificate, privateKey } =
    config.objectKeys ?? credentialObjectKeys({ thingName: config.thing });
  const objectKeys = { certificate, privateKey };
  const s3 = deps.createS3(config.region);
  let fetched;
  try {
    fetched = await fetchCredentials({
      s3,
      bucket,
      thing: config.thing,
      dir: config.credentialsDir,
      objectKeys,
    });
  } finally {
    // S3 is needed only for this fetch; its keep-alive sockets would otherwise
    // hold the process open after the run.
    s3.destroy();
  }
  log({ event: 'credentials', source: 's3', location: s3Location(bucket, objectKeys) });
  return { ...fetched, caPath: config.ca };
}

/** The folder both objects are in, or both objects when they are apart. */
function s3Location(bucket: string, keys: DeviceObjectKeys): string {
  const folderOf = (key: string): string => key.slice(0, key.lastIndexOf('/') + 1);
  const folder = folderOf(keys.certificate);
  return folder === folderOf(keys.privateKey)
    ? `s3://${bucket}/${folder}`
    : `s3://${bucket}/${keys.certificate}, s3://${bucket}/${keys.privateKey}`;
}

/** Keeps the device online; with an interval it keeps publishing numbered messages. */
async function stayOnline(
  config: RunConfig,
  connection: DeviceConnection,
  log: EventLog,
  signal: AbortSignal,
  alreadySent: number,
): Promise<void> {
  let index = alreadySent;
  // The interval runs from the start of one publish to the start of the next,
  // so `--interval 100` is 10 messages a second whatever the round trip; a
  // publish that took longer than the interval is followed at once, without
  // a burst to catch up (after an outage, say).
  let nextAt = performance.now() + config.interval;
  while (!signal.aborted) {
    if (config.interval === 0) {
      await new Promise<void>((resolve) =>
        signal.addEventListener('abort', () => resolve(), { once: true }),
      );
      return;
    }
    await sleep(Math.max(0, nextAt - performance.now()), signal);
    if (signal.aborted) return;
    nextAt = performance.now() + config.interval;
    index++;
    const message = `${config.message} [${index}]`;
    log({ event: 'publishing', topic: config.topic, index, message });
    try {
      await connection.publish(config.topic, JSON.stringify(message));
      log({ event: 'published', topic: config.topic, index, message });
    } catch (error) {
      // A denial will not heal; anything else (offline queue full while the
      // network is down) is reported and the service keeps going.
      if (isOperationDeniedError(error) || signal.aborted) throw error;
      log({ event: 'interrupted', message: (error as Error).message });
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
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
