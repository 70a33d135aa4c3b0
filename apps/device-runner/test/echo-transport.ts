import type {
  AckResult,
  MqttTransport,
  QoS,
  TransportEvents,
  TransportFactory,
  TransportOptions,
} from '@thingcert/device-client';

/** Behaviour of the in-memory broker behind {@link echoTransportFactory}. */
export interface EchoBroker {
  /** Topics whose publishes the broker refuses (like a policy denial in MQTT 5). */
  readonly denied?: readonly string[];
  /** Fail the connect with this native error instead of accepting it. */
  readonly failWith?: string;
  /** Acknowledge publishes but never deliver them back. */
  readonly swallow?: boolean;
  /**
   * Transports made so far, with the events each reports, so a test can play
   * the broker dropping or refusing it.
   */
  readonly made?: Array<{ options: TransportOptions; stopped: boolean; events: TransportEvents }>;
  /**
   * Filled in as publishes run: the most awaiting their acknowledgement at
   * once (each is acknowledged on a later turn of the event loop).
   */
  readonly inFlight?: { now: number; peak: number };
  /** Acknowledge each publish this long after it was sent (default: on the next turn). */
  readonly ackDelayMs?: number;
}

/** A transport backed by an in-memory broker that echoes publishes to subscribers. */
export function echoTransportFactory(broker: EchoBroker = {}): TransportFactory {
  return (options: TransportOptions, events: TransportEvents): MqttTransport => {
    const filters = new Set<string>();
    const record = { options, stopped: false, events };
    broker.made?.push(record);
    return {
      reportsReconnectFailures: true,
      start() {
        setImmediate(() => {
          events.onConnecting();
          if (broker.failWith !== undefined)
            events.onConnectionFailure({ nativeError: broker.failWith });
          else events.onConnected({ sessionPresent: false });
        });
      },
      subscribe(filter: string): Promise<AckResult> {
        filters.add(filter);
        return Promise.resolve({ ok: true });
      },
      unsubscribe(filter: string): Promise<void> {
        filters.delete(filter);
        return Promise.resolve();
      },
      publish(topic: string, payload: Uint8Array, _qos: QoS): Promise<AckResult> {
        if (broker.denied?.includes(topic)) return Promise.resolve({ ok: false, reasonCode: 135 });
        if (!broker.swallow && filters.has(topic)) {
          const copy = Buffer.from(payload);
          setImmediate(() => events.onMessage(topic, copy));
        }
        const counter = broker.inFlight;
        if (counter === undefined && broker.ackDelayMs === undefined) {
          return Promise.resolve({ ok: true });
        }
        if (counter !== undefined) {
          counter.now += 1;
          counter.peak = Math.max(counter.peak, counter.now);
        }
        return new Promise((resolve) => {
          const acknowledge = () => {
            if (counter !== undefined) counter.now -= 1;
            resolve({ ok: true });
          };
          if (broker.ackDelayMs === undefined) setImmediate(acknowledge);
          else setTimeout(acknowledge, broker.ackDelayMs);
        });
      },
      stop(): Promise<void> {
        record.stopped = true;
        return Promise.resolve();
      },
    };
  };
}
