import type { FailureDetails } from './connection-failure';

/** MQTT protocol version: MQTT 5 (default) or MQTT 3.1.1. */
export type MqttProtocol = 'mqtt5' | 'mqtt3';

/** Quality of service the device client supports (AWS IoT has no QoS 2). */
export type QoS = 0 | 1;

/** Everything a transport needs to open an mTLS MQTT connection. */
export interface TransportOptions {
  readonly protocol: MqttProtocol;
  readonly endpoint: string;
  readonly port: number;
  readonly clientId: string;
  readonly certPath: string;
  readonly keyPath: string;
  /** `undefined`: the system trust store. */
  readonly caPath: string | undefined;
  readonly keepAliveSeconds: number;
  readonly minReconnectDelayMs: number;
  readonly maxReconnectDelayMs: number;
  /** Session kept by the broker across reconnects (MQTT 5 session expiry). */
  readonly sessionExpirySeconds: number;
  /**
   * Resume the broker's session from the very first CONNECT: this transport
   * replaces another of the same client id (a credentials switch). MQTT 3.1.1
   * always asks for its session (clean session off); MQTT 5 otherwise starts
   * clean and rejoins only on reconnects.
   */
  readonly rejoinSession: boolean;
}

/** What a transport reports; the connection core turns these into typed events. */
export interface TransportEvents {
  onConnecting(): void;
  onConnected(info: { sessionPresent: boolean }): void;
  onConnectionFailure(failure: FailureDetails): void;
  onDisconnected(failure: FailureDetails): void;
  onMessage(topic: string, payload: Buffer): void;
}

/** Result of a PUBACK or SUBACK the broker sent back. */
export interface AckResult {
  /** `true` when the broker accepted the operation. */
  readonly ok: boolean;
  /** MQTT 5 reason code (or 3.1.1 SUBACK return code) when the broker refused. */
  readonly reasonCode?: number;
}

/**
 * The thin adapter over one aws-crt client (MQTT 5 or 3.1.1). It reconnects on
 * its own once started; {@link DeviceConnection} holds all the logic above it.
 */
export interface MqttTransport {
  /**
   * Whether failed *re*connects (after a drop) reach `onConnectionFailure`.
   * aws-crt's MQTT 3.1.1 client retries a dropped connection on its own and
   * reports a refused attempt to no one; such a transport is replaced after
   * a drop by one whose first-connect loop reports every attempt.
   */
  readonly reportsReconnectFailures: boolean;
  /** Begins connecting; progress arrives through {@link TransportEvents}. */
  start(): void;
  subscribe(filter: string, qos: QoS): Promise<AckResult>;
  unsubscribe(filter: string): Promise<void>;
  /** Resolves on PUBACK (QoS 1) or once written (QoS 0). */
  publish(topic: string, payload: Uint8Array, qos: QoS): Promise<AckResult>;
  /**
   * Disconnects, waits until the native client stopped (a connected one: its
   * DISCONNECT is sent, the session kept), and frees it. Never throws.
   */
  stop(): Promise<void>;
}

/** Creates a transport; replaced in tests, the aws-crt one by default. */
export type TransportFactory = (
  options: TransportOptions,
  events: TransportEvents,
) => MqttTransport;
