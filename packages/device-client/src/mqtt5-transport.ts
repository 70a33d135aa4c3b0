import { iot, mqtt5 } from 'aws-iot-device-sdk-v2';
import type { FailureDetails } from './connection-failure';
import type {
  AckResult,
  MqttTransport,
  QoS,
  TransportEvents,
  TransportOptions,
} from './mqtt-transport';

/** How long `stop()` waits for the native `stopped` event before closing anyway. */
const STOP_WAIT_MS = 5_000;

/**
 * MQTT 5 over mTLS with aws-crt's `Mqtt5Client`, configured the way the AWS
 * IoT samples do (`newDirectMqttBuilderWithMtlsFromPath`). The native client
 * reconnects on its own with exponential backoff and full jitter, keeps QoS 1
 * publishes and subscribes queued while offline, and rejoins the session.
 */
export function createMqtt5Transport(
  options: TransportOptions,
  events: TransportEvents,
): MqttTransport {
  const builder = iot.AwsIotMqtt5ClientConfigBuilder.newDirectMqttBuilderWithMtlsFromPath(
    options.endpoint,
    options.certPath,
    options.keyPath,
  );
  builder.withPort(options.port);
  if (options.caPath !== undefined)
    builder.withCertificateAuthorityFromPath(undefined, options.caPath);
  builder.withConnectProperties({
    clientId: options.clientId,
    keepAliveIntervalSeconds: options.keepAliveSeconds,
    sessionExpiryIntervalSeconds: options.sessionExpirySeconds,
  });
  // A replacement resumes the session its predecessor left (subscriptions,
  // queued QoS 1 messages); a first client starts clean, then rejoins on reconnects.
  builder.withSessionBehavior(
    options.rejoinSession
      ? mqtt5.ClientSessionBehavior.RejoinAlways
      : mqtt5.ClientSessionBehavior.RejoinPostSuccess,
  );
  builder.withRetryJitterMode(mqtt5.RetryJitterType.Full);
  builder.withMinReconnectDelayMs(options.minReconnectDelayMs);
  builder.withMaxReconnectDelayMs(options.maxReconnectDelayMs);
  // QoS 1 publishes and (un)subscribes wait for the next connection; QoS 0 is dropped.
  builder.withOfflineQueueBehavior(mqtt5.ClientOperationQueueBehavior.FailQos0PublishOnDisconnect);

  const client = new mqtt5.Mqtt5Client(builder.build());
  // Listeners first: events may fire as soon as start() is called.
  client.on('error', () => {
    // surfaced through the failure/disconnection events; an unhandled 'error' would throw
  });
  client.on('attemptingConnect', () => events.onConnecting());
  client.on('connectionSuccess', (event) =>
    events.onConnected({ sessionPresent: event.settings.rejoinedSession }),
  );
  client.on('connectionFailure', (event) =>
    events.onConnectionFailure(failureOf(event.error, event.connack?.reasonCode)),
  );
  client.on('disconnection', (event) =>
    events.onDisconnected(failureOf(event.error, event.disconnect?.reasonCode)),
  );
  client.on('messageReceived', (event) => {
    const payload = event.message.payload;
    events.onMessage(event.message.topicName, toBuffer(payload));
  });

  let closed = false;
  let started = false;
  return {
    // Its reconnects emit `connectionFailure` like the first connect.
    reportsReconnectFailures: true,
    start: () => {
      started = true;
      client.start();
    },
    async subscribe(filter: string, qos: QoS): Promise<AckResult> {
      const suback = await client.subscribe({ subscriptions: [{ topicFilter: filter, qos }] });
      const code = Number(suback.reasonCodes[0] ?? 0);
      return code >= 128 ? { ok: false, reasonCode: code } : { ok: true };
    },
    async unsubscribe(filter: string): Promise<void> {
      await client.unsubscribe({ topicFilters: [filter] });
    },
    async publish(topic: string, payload: Uint8Array, qos: QoS): Promise<AckResult> {
      const result = await client.publish({ topicName: topic, payload, qos });
      const code = Number(result?.reasonCode ?? 0);
      return code >= 128 ? { ok: false, reasonCode: code } : { ok: true };
    },
    async stop(): Promise<void> {
      if (closed) return;
      closed = true;
      if (!started) {
        // Never started (a switch cut short): no 'stopped' event would come.
        client.close();
        return;
      }
      try {
        const stopped = new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, STOP_WAIT_MS);
          client.once('stopped', () => {
            clearTimeout(timer);
            resolve();
          });
        });
        client.stop();
        await stopped;
      } catch {
        // stop() on a broken native client: closing below is all that is left
      } finally {
        // Native memory and threads are only released by close().
        client.close();
      }
    },
  };
}

function failureOf(
  error: { error_name?: string } | undefined,
  reasonCode?: number,
): FailureDetails {
  return {
    ...(error?.error_name === undefined ? {} : { nativeError: error.error_name }),
    ...(reasonCode === undefined ? {} : { reasonCode }),
  };
}

function toBuffer(payload: unknown): Buffer {
  if (payload === undefined || payload === null) return Buffer.alloc(0);
  if (typeof payload === 'string') return Buffer.from(payload, 'utf8');
  if (payload instanceof ArrayBuffer) return Buffer.from(payload);
  if (ArrayBuffer.isView(payload)) {
    return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  }
  return Buffer.from(JSON.stringify(payload), 'utf8');
}
