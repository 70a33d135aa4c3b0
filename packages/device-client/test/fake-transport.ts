import type { FailureDetails } from '../src/connection-failure';
import type {
  AckResult,
  MqttTransport,
  QoS,
  TransportEvents,
  TransportFactory,
  TransportOptions,
} from '../src/mqtt-transport';

interface Deferred<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

/** A scriptable transport: the test plays the broker by calling the event methods. */
export class FakeTransport implements MqttTransport {
  readonly subscribes: string[] = [];
  readonly publishes: Array<{
    topic: string;
    payload: string;
    qos: QoS;
    ack: Deferred<AckResult>;
  }> = [];
  started = 0;
  stopped = 0;
  /** Set to false to play aws-crt's MQTT 3.1.1 client, which hides refused reconnects. */
  reportsReconnectFailures = true;
  /** Acknowledge every subscribe at once with this result. */
  subackResult: AckResult = { ok: true };
  /** When true, subscribes wait in `heldSubacks` until the test settles them. */
  holdSubacks = false;
  readonly heldSubacks: Array<{ filter: string; ack: Deferred<AckResult> }> = [];
  onStart: (() => void) | undefined;

  constructor(
    readonly options: TransportOptions,
    readonly events: TransportEvents,
  ) {}

  start(): void {
    this.started++;
    this.onStart?.();
  }
  subscribe(filter: string): Promise<AckResult> {
    this.subscribes.push(filter);
    if (!this.holdSubacks) return Promise.resolve(this.subackResult);
    return new Promise((resolve, reject) => {
      this.heldSubacks.push({ filter, ack: { resolve, reject } });
    });
  }
  unsubscribe(): Promise<void> {
    return Promise.resolve();
  }
  publish(topic: string, payload: Uint8Array, qos: QoS): Promise<AckResult> {
    return new Promise((resolve, reject) => {
      this.publishes.push({
        topic,
        payload: Buffer.from(payload).toString('utf8'),
        qos,
        ack: { resolve, reject },
      });
    });
  }
  stop(): Promise<void> {
    this.stopped++;
    return Promise.resolve();
  }

  connect(sessionPresent = false): void {
    this.events.onConnected({ sessionPresent });
  }
  fail(failure: FailureDetails): void {
    this.events.onConnectionFailure(failure);
  }
  drop(failure: FailureDetails = { nativeError: 'AWS_ERROR_MQTT_UNEXPECTED_HANGUP' }): void {
    this.events.onDisconnected(failure);
  }
}

/** A factory that records the transports it made. */
export function fakeFactory(setup?: (transport: FakeTransport) => void): {
  factory: TransportFactory;
  transports: FakeTransport[];
} {
  const transports: FakeTransport[] = [];
  return {
    transports,
    factory: (options, events) => {
      const transport = new FakeTransport(options, events);
      setup?.(transport);
      transports.push(transport);
      return transport;
    },
  };
}
