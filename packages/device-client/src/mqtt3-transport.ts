import { iot, mqtt } from 'aws-iot-device-sdk-v2';
import { backoffDelay } from './backoff';
import { mqtt3ConnectFailure, type FailureDetails } from './connection-failure';
import type {
  AckResult,
  MqttTransport,
  QoS,
  TransportEvents,
  TransportOptions,
} from './mqtt-transport';

const STOP_WAIT_MS = 5_000;

/**
 * MQTT 3.1.1 over mTLS with aws-crt's `MqttClientConnection`.
 *
 * The native layer does not retry a failed *first* connect, so this adapter
 * does, with the configured bounds plus full jitter, until stopped, reporting
 * each failure. Each attempt gets a native connection of its own: one that
 * connects on a later `connect()` after a failed one reports no
 * `connection_success` and delivers no message (aws-crt 1.33, seen against a
 * broker that had refused the earlier attempt).
 *
 * After a drop the native connection would reconnect on its own, but it
 * reports a refused reconnect (CONNACK "not authorized": a deactivated
 * certificate) to no one. So this transport says so
 * (`reportsReconnectFailures: false`), and `DeviceConnection` replaces it
 * after a drop with a new one, whose attempts are reported.
 */
export function createMqtt3Transport(
  options: TransportOptions,
  events: TransportEvents,
): MqttTransport {
  const builder = iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder_from_path(
    options.certPath,
    options.keyPath,
  );
  builder
    .with_endpoint(options.endpoint)
    .with_port(options.port)
    .with_client_id(options.clientId)
    // A persistent session: QoS 1 messages for us are queued by the broker
    // while we reconnect, so none is lost.
    .with_clean_session(false)
    .with_keep_alive_seconds(options.keepAliveSeconds)
    .with_reconnect_min_sec(Math.max(1, Math.round(options.minReconnectDelayMs / 1000)))
    .with_reconnect_max_sec(Math.max(1, Math.round(options.maxReconnectDelayMs / 1000)));
  if (options.caPath !== undefined) {
    builder.with_certificate_authority_from_path(undefined, options.caPath);
  }
  // Built once: reading the files and making the TLS context happen here.
  const config = builder.build();
  const client = new mqtt.MqttClient();

  let current: mqtt.MqttClientConnection | undefined;
  let connected = false;
  let stopped = false;
  let attempting: Promise<unknown> | undefined;
  let attempt = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  let reportedAttempt = -1;

  const reportFailure = (forAttempt: number, failure: FailureDetails): void => {
    if (reportedAttempt === forAttempt) return;
    reportedAttempt = forAttempt;
    events.onConnectionFailure(failure);
  };

  /** A native connection whose events count only while it is the current one. */
  const open = (): mqtt.MqttClientConnection => {
    const connection = client.new_connection(config);
    const isCurrent = (): boolean => connection === current && !stopped;
    connection.on('error', () => {
      // operation failures also reject their promise; keep the emitter from throwing
    });
    connection.on('connection_failure', (result) => {
      if (isCurrent() && !connected) reportFailure(attempt, mqtt3ConnectFailure(result.error));
    });
    connection.on('interrupt', (error) => {
      if (!isCurrent()) return;
      connected = false;
      events.onDisconnected(failureOf(error));
      // The native layer retries on its own from here (unless replaced).
      events.onConnecting();
    });
    connection.on('resume', (_returnCode, sessionPresent) => {
      if (!isCurrent()) return;
      connected = true;
      events.onConnected({ sessionPresent });
    });
    connection.on('message', (topic, payload) => events.onMessage(topic, Buffer.from(payload)));
    return connection;
  };

  const connectOnce = (): void => {
    const thisAttempt = ++attempt;
    events.onConnecting();
    const connection = open();
    current = connection;
    const connecting = connection.connect();
    attempting = connecting.catch(() => undefined);
    connecting.then(
      (sessionPresent) => {
        if (connection !== current || stopped) return;
        connected = true;
        events.onConnected({ sessionPresent });
      },
      (error: unknown) => {
        // Either this or the failure event may come first (it varies with load);
        // both classify the same way and only the first is reported.
        setImmediate(() => {
          // Frees the failed native connection.
          connection.disconnect().catch(() => undefined);
          if (stopped || connection !== current) return;
          reportFailure(thisAttempt, mqtt3ConnectFailure(error));
          retryTimer = setTimeout(
            connectOnce,
            backoffDelay(thisAttempt - 1, {
              minDelayMs: options.minReconnectDelayMs,
              maxDelayMs: options.maxReconnectDelayMs,
            }),
          );
        });
      },
    );
  };

  const live = (): mqtt.MqttClientConnection => {
    if (current === undefined) throw new Error('AWS_ERROR_MQTT_NOT_CONNECTED: not started');
    return current;
  };

  return {
    reportsReconnectFailures: false,
    start: connectOnce,
    async subscribe(filter: string, qos: QoS): Promise<AckResult> {
      const result = await live().subscribe(filter, qos);
      // SUBACK return code 0x80 arrives as qos 128 (and/or error_code).
      const granted = Number(result.qos);
      if (granted >= 128 || (result.error_code ?? 0) !== 0) {
        return { ok: false, reasonCode: granted >= 128 ? granted : 128 };
      }
      return { ok: true };
    },
    async unsubscribe(filter: string): Promise<void> {
      await live().unsubscribe(filter);
    },
    async publish(topic: string, payload: Uint8Array, qos: QoS): Promise<AckResult> {
      await live().publish(topic, payload, qos);
      return { ok: true };
    },
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      clearTimeout(retryTimer);
      const waitAtMost = (promise: Promise<unknown>): Promise<unknown> =>
        Promise.race([
          promise,
          new Promise<void>((resolve) => setTimeout(resolve, STOP_WAIT_MS).unref()),
        ]);
      const connection = current;
      if (connection === undefined) return;
      // A connect under way could still succeed after we moved on, and take
      // the client id from our successor: let it finish first.
      if (!connected && attempting !== undefined) await waitAtMost(attempting);
      // disconnect() sends DISCONNECT (the broker keeps the session), halts any
      // retry, and frees the native connection once closed. A connection that
      // is not up has nothing to send, and its promise settles only when the
      // next retry would have run: not worth waiting for.
      const disconnecting = connection.disconnect().catch(() => undefined);
      if (connected) await waitAtMost(disconnecting);
    },
  };
}

function failureOf(error: { error_name?: string } | undefined): FailureDetails {
  return error?.error_name === undefined ? {} : { nativeError: error.error_name };
}
