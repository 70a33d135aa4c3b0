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
 * MQTT 3.1.1 over mTLS with aws-crt's `MqttClientConnection`. After a first
 * successful connect the native connection reconnects on its own (exponential
 * backoff between the configured bounds) and resends unacknowledged QoS 1
 * publishes. The native layer does not retry a failed *first* connect, so this
 * adapter does, with the same bounds plus full jitter, until stopped.
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
  const client = new mqtt.MqttClient();
  const connection = client.new_connection(builder.build());

  let everConnected = false;
  let stopped = false;
  let attempt = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  let reportedAttempt = -1;

  const reportFailure = (forAttempt: number, failure: FailureDetails): void => {
    if (reportedAttempt === forAttempt) return;
    reportedAttempt = forAttempt;
    events.onConnectionFailure(failure);
  };

  connection.on('error', () => {
    // operation failures also reject their promise; keep the emitter from throwing
  });
  connection.on('connection_success', (result) => {
    everConnected = true;
    events.onConnected({ sessionPresent: result.session_present });
  });
  connection.on('connection_failure', (result) => {
    reportFailure(attempt, mqtt3ConnectFailure(result.error));
    // After the first success the native layer schedules its own retry.
    if (everConnected) events.onConnecting();
  });
  connection.on('interrupt', (error) => {
    events.onDisconnected(failureOf(error));
    events.onConnecting();
  });
  connection.on('message', (topic, payload) => events.onMessage(topic, Buffer.from(payload)));

  const connectOnce = (): void => {
    const thisAttempt = ++attempt;
    events.onConnecting();
    connection.connect().catch((error: unknown) => {
      // Either this or the failure event may come first (it varies with load);
      // both classify the same way and only the first is reported.
      setImmediate(() => {
        if (stopped) return;
        reportFailure(thisAttempt, mqtt3ConnectFailure(error));
        retryTimer = setTimeout(
          connectOnce,
          backoffDelay(thisAttempt - 1, {
            minDelayMs: options.minReconnectDelayMs,
            maxDelayMs: options.maxReconnectDelayMs,
          }),
        );
      });
    });
  };

  return {
    start: connectOnce,
    async subscribe(filter: string, qos: QoS): Promise<AckResult> {
      const result = await connection.subscribe(filter, qos);
      // SUBACK return code 0x80 arrives as qos 128 (and/or error_code).
      const granted = Number(result.qos);
      if (granted >= 128 || (result.error_code ?? 0) !== 0) {
        return { ok: false, reasonCode: granted >= 128 ? granted : 128 };
      }
      return { ok: true };
    },
    async unsubscribe(filter: string): Promise<void> {
      await connection.unsubscribe(filter);
    },
    async publish(topic: string, payload: Uint8Array, qos: QoS): Promise<AckResult> {
      await connection.publish(topic, payload, qos);
      return { ok: true };
    },
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      clearTimeout(retryTimer);
      // disconnect() frees the native connection once it is closed; if it was
      // never connected there is nothing to wait for.
      await Promise.race([
        connection.disconnect().catch(() => undefined),
        new Promise<void>((resolve) => setTimeout(resolve, STOP_WAIT_MS).unref()),
      ]);
    },
  };
}

function failureOf(error: { error_name?: string } | undefined): FailureDetails {
  return error?.error_name === undefined ? {} : { nativeError: error.error_name };
}
