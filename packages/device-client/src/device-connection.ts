import {
  connectionError,
  connectionLostError,
  connectTimeoutError,
  isPermanentFailure,
  type ConnectionTarget,
  type FailureDetails,
} from './connection-failure';
import { createTransport } from './create-transport';
import {
  ConnectionClosedError,
  DeviceConnectionError,
  OfflineQueueFullError,
  OperationDeniedError,
} from './errors';
import type {
  AckResult,
  MqttProtocol,
  MqttTransport,
  QoS,
  TransportEvents,
  TransportFactory,
} from './mqtt-transport';
import { topicMatches } from './topic-matches';

/** Options for {@link DeviceConnection}. */
export interface DeviceConnectionOptions {
  /** Thing name, used as the MQTT client id (AWS IoT policy variables need that). */
  readonly thingName: string;
  /** AWS IoT data endpoint (`xxxx-ats.iot.<region>.amazonaws.com`) or a local broker host. */
  readonly endpoint: string;
  readonly certPath: string;
  readonly keyPath: string;
  /** CA bundle for the broker; the system trust store when absent. @default undefined */
  readonly caPath?: string;
  /** @default 8883 */
  readonly port?: number;
  /** @default 'mqtt5' */
  readonly protocol?: MqttProtocol;
  /** AWS IoT accepts 30–1200 s. @default 60 */
  readonly keepAliveSeconds?: number;
  /** Give up on the first connect after this long. @default 30_000 */
  readonly connectTimeoutMs?: number;
  /** First reconnect delay. @default 1_000 */
  readonly minReconnectDelayMs?: number;
  /** Upper bound of the exponential reconnect backoff. @default 60_000 */
  readonly maxReconnectDelayMs?: number;
  /** How long the broker keeps our session while we are away (MQTT 5). @default 3_600 */
  readonly sessionExpirySeconds?: number;
  /** Most publishes/subscribes that may wait while disconnected. @default 1_000 */
  readonly maxOfflineQueue?: number;
  /**
   * An operation still unacknowledged after this many connection drops fails
   * with {@link OperationDeniedError}: AWS IoT answers a denied MQTT 3.1.1
   * publish or subscribe by closing the connection, so the same operation
   * dropping it again and again is how a policy denial shows. @default 2
   */
  readonly deniedAfterDisconnects?: number;
  /** Transport factory; tests pass a fake. @default aws-crt (MQTT 5 or 3.1.1) */
  readonly transportFactory?: TransportFactory;
}

/** Typed lifecycle events of a {@link DeviceConnection}. */
export interface DeviceConnectionEventMap {
  /** An attempt to connect begins (first connect or reconnect). */
  connecting: { readonly attempt: number };
  /** CONNACK accepted. `reconnect` is false for the first connection. */
  connected: { readonly sessionPresent: boolean; readonly reconnect: boolean };
  /** One attempt failed; the error says what to check. */
  connectionFailure: { readonly error: DeviceConnectionError };
  /** An established connection was lost; the client reconnects on its own. */
  disconnected: { readonly error: DeviceConnectionError };
  /**
   * {@link DeviceConnection.switchCredentials} began: the current connection is
   * being closed (its session kept) and one with the new certificate, the same
   * client id and the same session will follow.
   */
  switching: Record<string, never>;
  /** Subscriptions were sent again because the broker had no session for us. */
  resubscribed: { readonly filters: readonly string[] };
  /** A background failure (resubscribe, a message handler that threw). */
  error: { readonly error: Error };
  /** The connection is stopped and its native resources freed. */
  stopped: Record<string, never>;
}

/** Name of a {@link DeviceConnectionEventMap} event. */
export type DeviceConnectionEvent = keyof DeviceConnectionEventMap;

/** One message delivered to a subscription handler. */
export interface ReceivedMessage {
  readonly topic: string;
  readonly payload: Buffer;
}

/** Called for each message whose topic matches the subscription's filter. */
export type MessageHandler = (message: ReceivedMessage) => void;

/** A live subscription; `unsubscribe()` removes the handler (and the broker subscription if last). */
export interface Subscription {
  readonly filter: string;
  unsubscribe(): Promise<void>;
}

/** Options of {@link DeviceConnection.publish}. */
export interface PublishOptions {
  /** @default 1 */
  readonly qos?: QoS;
}

/** Lifecycle state of a {@link DeviceConnection}. */
export type ConnectionState =
  'idle' | 'connecting' | 'connected' | 'reconnecting' | 'stopping' | 'stopped';

interface SubscriptionEntry {
  readonly qos: QoS;
  readonly handlers: Set<MessageHandler>;
  /**
   * The first SUBACK for this filter. Later subscribers of the same filter
   * await it: until it settles, nothing is known to be subscribed on the broker.
   */
  readonly ready: Promise<void>;
}

/** A certificate and private key file, what {@link DeviceConnection.switchCredentials} moves to. */
export interface ConnectionCredentialFiles {
  readonly certPath: string;
  readonly keyPath: string;
}

/** The files a transport is built from: the device's pair and the broker's CA. */
interface TransportFiles extends ConnectionCredentialFiles {
  readonly caPath: string | undefined;
}

interface PendingOperation {
  readonly kind: 'publish' | 'subscribe';
  readonly topic: string;
  /** Sends it on a transport; called again on the next one after a credentials switch. */
  readonly send: (transport: MqttTransport) => Promise<AckResult>;
  /** The transport it was last sent on; `undefined` while held for the next connection. */
  sentOn: MqttTransport | undefined;
  drops: number;
  succeed(): void;
  fail(error: Error): void;
}

type Listener<K extends DeviceConnectionEvent> = (event: DeviceConnectionEventMap[K]) => void;

/**
 * An mTLS MQTT connection of one thing to AWS IoT (or a local broker), with
 * the lifecycle the AWS samples recommend and the resilience a service needs:
 * listeners attached before `start()`, a time-limited first connect that fails
 * with a {@link DeviceConnectionError} saying what to check, automatic
 * reconnect (exponential backoff with jitter, done by aws-crt), resubscribe when
 * the broker lost our session, a bounded offline queue, and `stop()` that always
 * frees the native client.
 *
 * @example
 * ```ts
 * const connection = new DeviceConnection({ thingName: 'thing-1', endpoint, certPath, keyPath });
 * connection.on('disconnected', ({ error }) => console.warn(error.message));
 * try {
 *   await connection.start();
 *   await connection.subscribe('test/topic', ({ payload }) => console.log(payload.toString()));
 *   await connection.publish('test/topic', 'hello'); // resolves on PUBACK
 * } finally {
 *   await connection.stop();
 * }
 * ```
 */
export class DeviceConnection {
  private readonly options: DeviceConnectionOptions;
  private readonly target: ConnectionTarget;
  private readonly listeners = new Map<DeviceConnectionEvent, Set<(event: never) => void>>();
  private readonly subscriptions = new Map<string, SubscriptionEntry>();
  private readonly pending = new Set<PendingOperation>();
  private transport: MqttTransport | undefined;
  /** Transports a credentials switch replaced: their failures are not the operations' fate. */
  private readonly retired = new WeakSet<MqttTransport>();
  /** Counts transports made; events of any but the newest are ignored. */
  private generation = 0;
  private files: TransportFiles;
  /** The switch in progress (switches run one after another). */
  private switched: Promise<void> = Promise.resolve();
  /**
   * From a switch until the new transport connects, operations wait instead of
   * being sent: not every native client queues them before its first connect.
   */
  private holding = false;
  private currentState: ConnectionState = 'idle';
  private attempts = 0;
  private everConnected = false;
  private lastFailure: DeviceConnectionError | undefined;
  private initial: { resolve(): void; reject(error: Error): void } | undefined;
  private stopping: Promise<void> | undefined;

  constructor(options: DeviceConnectionOptions) {
    this.options = options;
    this.files = { certPath: options.certPath, keyPath: options.keyPath, caPath: options.caPath };
    this.target = {
      endpoint: options.endpoint,
      port: options.port ?? 8883,
      clientId: options.thingName,
      protocol: options.protocol ?? 'mqtt5',
    };
  }

  /** Current lifecycle state. */
  get state(): ConnectionState {
    return this.currentState;
  }

  /** Where this connection goes (for logs). */
  get connectionTarget(): ConnectionTarget {
    return this.target;
  }

  /** Adds a typed listener; returns a function that removes it. */
  on<K extends DeviceConnectionEvent>(event: K, listener: Listener<K>): () => void {
    let set = this.listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  /**
   * Connects and resolves once the broker accepted the first CONNECT. Rejects
   * with a {@link DeviceConnectionError} on a failure that retrying will not
   * fix, or when `connectTimeoutMs` passes; the native client is freed before
   * the promise rejects. Call once.
   */
  async start(): Promise<void> {
    if (this.currentState !== 'idle') {
      throw new ConnectionClosedError(`start() called in state '${this.currentState}'`);
    }
    this.currentState = 'connecting';
    const timeoutMs = this.options.connectTimeoutMs ?? 30_000;
    const outcome = new Promise<void>((resolve, reject) => {
      this.initial = { resolve, reject };
    });
    // If building the transport throws, `outcome` is rejected by stop() below
    // without anyone awaiting it: mark it handled so Node does not crash.
    outcome.catch(() => undefined);
    const timer = setTimeout(() => {
      this.initial?.reject(connectTimeoutError(this.target, timeoutMs, this.lastFailure));
    }, timeoutMs);
    try {
      this.transport = this.createTransport(false);
      this.transport.start();
      await outcome;
    } catch (error) {
      await this.stop();
      throw error;
    } finally {
      clearTimeout(timer);
      this.initial = undefined;
    }
  }

  /**
   * Subscribes `handler` to `filter` (QoS 1 by default) and resolves on SUBACK.
   * The subscription is restored automatically after a reconnect without session.
   * Rejects with {@link OperationDeniedError} when the broker refuses it.
   */
  async subscribe(
    filter: string,
    handler: MessageHandler,
    options: PublishOptions = {},
  ): Promise<Subscription> {
    this.assertUsable();
    const qos = options.qos ?? 1;
    const existing = this.subscriptions.get(filter);
    if (existing !== undefined) {
      // The first subscribe of this filter may still wait for its SUBACK: succeed
      // only when the broker accepted it, and share its refusal otherwise.
      existing.handlers.add(handler);
      try {
        await existing.ready;
      } catch (error) {
        existing.handlers.delete(handler);
        throw error;
      }
    } else {
      const ready = this.track('subscribe', filter, (transport) =>
        transport.subscribe(filter, qos),
      );
      const entry: SubscriptionEntry = { qos, handlers: new Set([handler]), ready };
      this.subscriptions.set(filter, entry);
      try {
        await ready;
      } catch (error) {
        // Nothing is subscribed on the broker: drop the whole entry, including
        // the handlers of callers awaiting `ready` (they reject as well).
        entry.handlers.clear();
        if (this.subscriptions.get(filter) === entry) this.subscriptions.delete(filter);
        throw error;
      }
    }
    return {
      filter,
      unsubscribe: async () => {
        const entry = this.subscriptions.get(filter);
        if (entry === undefined || !entry.handlers.delete(handler)) return;
        if (entry.handlers.size > 0) return;
        this.subscriptions.delete(filter);
        if (this.currentState === 'connected' || this.currentState === 'reconnecting') {
          await this.transport?.unsubscribe(filter);
        }
      },
    };
  }

  /**
   * Publishes and resolves when the broker acknowledged it (PUBACK for QoS 1,
   * the default). While reconnecting, up to `maxOfflineQueue` operations wait;
   * beyond that it rejects with {@link OfflineQueueFullError} at once.
   */
  async publish(
    topic: string,
    payload: string | Uint8Array,
    options: PublishOptions = {},
  ): Promise<void> {
    this.assertUsable();
    const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
    const qos = options.qos ?? 1;
    await this.track('publish', topic, (transport) => transport.publish(topic, bytes, qos));
  }

  /**
   * Disconnects, waits for the native client to stop, then frees it, even if
   * something failed on the way. Operations still waiting are rejected with
   * {@link ConnectionClosedError}. Safe to call more than once.
   */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  /**
   * Moves the connection to other credentials (a rotated certificate) with
   * the same client id and the same broker session: the new files are loaded
   * first (invalid ones reject here and change nothing), then the current
   * connection is closed with a DISCONNECT that keeps the session (MQTT 5
   * session expiry, MQTT 3.1.1 clean session off), then the new one connects
   * and resumes it. Subscriptions and the QoS 1 messages the broker queued
   * for us survive; publishes and subscribes not yet acknowledged, and those
   * made meanwhile, are sent on the new connection. One reconnect per switch.
   * AWS IoT allows one connection per client id, so the old one is closed
   * before the new one connects rather than after.
   *
   * Resolves once the new connection is started (its `connected` event says
   * when it is up). Calls are queued one after another.
   */
  async switchCredentials(files: ConnectionCredentialFiles): Promise<void> {
    this.assertUsable();
    await this.replaceTransport(files);
  }

  /**
   * Replaces the transport, one replacement at a time: with `files` for a
   * credentials switch, with the same files (`undefined`) to restart one whose
   * native client would reconnect without reporting refused attempts.
   */
  private replaceTransport(files: ConnectionCredentialFiles | undefined): Promise<void> {
    const replacing = this.switched.then(() => this.doReplace(files));
    this.switched = replacing.catch(() => undefined);
    return replacing;
  }

  private async doReplace(files: ConnectionCredentialFiles | undefined): Promise<void> {
    if (this.isStopping()) {
      throw new ConnectionClosedError('the connection was stopped before it could switch');
    }
    const previousFiles = this.files;
    // The broker's CA stays: only the device's own pair changes.
    if (files !== undefined) {
      this.files = { ...previousFiles, certPath: files.certPath, keyPath: files.keyPath };
    }
    let next: MqttTransport;
    try {
      next = this.createTransport(true);
    } catch (error) {
      this.files = previousFiles;
      throw error;
    }
    const old = this.transport;
    this.transport = next;
    this.holding = true;
    this.currentState = 'reconnecting';
    if (files !== undefined) this.emit('switching', {});
    if (old !== undefined) {
      this.retired.add(old);
      await old.stop();
    }
    // stop() during the switch stops `next` (never started); nothing more to do.
    if (this.isStopping()) return;
    next.start();
  }

  private async doStop(): Promise<void> {
    this.currentState = 'stopping';
    // A start() still waiting must not wait out its timeout (nor keep the process alive).
    this.initial?.reject(
      new ConnectionClosedError('stopped before the connection was established'),
    );
    try {
      await this.transport?.stop();
    } finally {
      this.currentState = 'stopped';
      const closed = new ConnectionClosedError('the connection was stopped');
      for (const operation of [...this.pending]) operation.fail(closed);
      this.pending.clear();
      this.emit('stopped', {});
    }
  }

  /** A method, not an inline check: TypeScript would narrow the state across an `await`. */
  private isStopping(): boolean {
    return this.currentState === 'stopping' || this.currentState === 'stopped';
  }

  private assertUsable(): void {
    const state = this.currentState;
    if (this.transport === undefined || state === 'stopping' || state === 'stopped') {
      throw new ConnectionClosedError(
        state === 'idle'
          ? 'not started: call start() first'
          : `the connection is ${state}: create a new DeviceConnection`,
      );
    }
  }

  /**
   * Runs one acknowledged operation with offline-queue and denial bookkeeping.
   * It is sent at once, or, while a credentials switch waits for the old
   * transport to stop, when the new one connects.
   */
  private track(
    kind: 'publish' | 'subscribe',
    topic: string,
    send: (transport: MqttTransport) => Promise<AckResult>,
  ): Promise<void> {
    const limit = this.options.maxOfflineQueue ?? 1_000;
    if (this.currentState !== 'connected' && this.pending.size >= limit) {
      return Promise.reject(
        new OfflineQueueFullError(
          `${limit} operations are already waiting for the connection to come back; ` +
            'slow down or raise maxOfflineQueue',
          { limit },
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const operation: PendingOperation = {
        kind,
        topic,
        send,
        sentOn: undefined,
        drops: 0,
        succeed: () => {
          this.pending.delete(operation);
          resolve();
        },
        fail: (error) => {
          this.pending.delete(operation);
          reject(error);
        },
      };
      this.pending.add(operation);
      if (!this.holding && this.transport !== undefined) this.dispatch(operation, this.transport);
    });
  }

  /**
   * Sends `operation` on `transport`. A PUBACK/SUBACK from any transport
   * settles it (the broker has it); a failure only from the transport it was
   * last sent on, and never from one a switch retired: those are sent again on
   * the next transport instead (so a QoS 1 publish may arrive twice, never
   * zero times).
   */
  private dispatch(operation: PendingOperation, transport: MqttTransport): void {
    operation.sentOn = transport;
    const current = (): boolean =>
      this.pending.has(operation) && operation.sentOn === transport && !this.retired.has(transport);
    operation.send(transport).then(
      (result) => {
        if (!this.pending.has(operation)) return;
        if (result.ok) operation.succeed();
        else if (current()) {
          operation.fail(
            deniedError(operation.kind, operation.topic, `reason code ${result.reasonCode ?? 128}`),
          );
        }
      },
      (error: unknown) => {
        if (current()) operation.fail(this.operationError(operation.kind, operation.topic, error));
      },
    );
  }

  private operationError(kind: 'publish' | 'subscribe', topic: string, error: unknown): Error {
    const name = (error as { error_name?: string } | undefined)?.error_name;
    if (this.currentState === 'stopping' || this.currentState === 'stopped') {
      return new ConnectionClosedError(
        `${kind} to '${topic}' cancelled: the connection was stopped`,
        {
          cause: error,
        },
      );
    }
    const text = name ?? (error instanceof Error ? error.message : String(error));
    return new DeviceConnectionError(`${kind} to '${topic}' failed: ${text}`, {
      reason: 'unknown',
      hint: 'check the connection state and the topic',
      ...(name === undefined ? {} : { nativeError: name }),
    });
  }

  /**
   * Builds a transport for the current files. Only the newest transport's
   * events count: one a switch replaced reports its own shutdown as a
   * disconnection, which is not the connection's.
   *
   * @param rejoinSession resume the broker's session from the first CONNECT (a replacement)
   */
  private createTransport(rejoinSession: boolean): MqttTransport {
    const factory = this.options.transportFactory ?? createTransport;
    const generation = this.generation + 1;
    const live = (): boolean => generation === this.generation;
    const events: TransportEvents = {
      onConnecting: () => {
        if (live()) this.onConnecting();
      },
      onConnected: (info) => {
        if (live()) this.onConnected(info.sessionPresent);
      },
      onConnectionFailure: (failure) => {
        if (live()) this.onConnectionFailure(failure);
      },
      onDisconnected: (failure) => {
        if (live()) this.onDisconnected(failure);
      },
      // Messages still arriving on a closing connection are ours all the same.
      onMessage: (topic, payload) => this.onMessage(topic, payload),
    };
    try {
      const transport = factory(
        {
          protocol: this.target.protocol,
          endpoint: this.target.endpoint,
          port: this.target.port,
          clientId: this.target.clientId,
          certPath: this.files.certPath,
          keyPath: this.files.keyPath,
          caPath: this.files.caPath,
          keepAliveSeconds: this.options.keepAliveSeconds ?? 60,
          minReconnectDelayMs: this.options.minReconnectDelayMs ?? 1_000,
          maxReconnectDelayMs: this.options.maxReconnectDelayMs ?? 60_000,
          sessionExpirySeconds: this.options.sessionExpirySeconds ?? 3_600,
          rejoinSession,
        },
        events,
      );
      this.generation = generation;
      return transport;
    } catch (error) {
      // The TLS context is built here: unreadable or invalid cert/key/CA files.
      const name = (error as { error_name?: string } | undefined)?.error_name;
      throw connectionError(
        name === undefined
          ? { nativeError: 'AWS_IO_FILE_VALIDATION_FAILURE' }
          : { nativeError: name },
        this.target,
        { cause: error },
      );
    }
  }

  private onConnecting(): void {
    if (this.currentState === 'stopping' || this.currentState === 'stopped') return;
    this.emit('connecting', { attempt: ++this.attempts });
  }

  private onConnected(sessionPresent: boolean): void {
    if (this.currentState === 'stopping' || this.currentState === 'stopped') return;
    const reconnect = this.everConnected;
    this.everConnected = true;
    this.currentState = 'connected';
    this.lastFailure = undefined;
    this.emit('connected', { sessionPresent, reconnect });
    this.initial?.resolve();
    this.holding = false;
    // Operations held during a credentials switch, or sent on the transport it
    // replaced and not acknowledged there, go out on this connection.
    const transport = this.transport;
    if (transport !== undefined) {
      for (const operation of [...this.pending]) {
        if (operation.sentOn !== transport) this.dispatch(operation, transport);
      }
    }
    if (reconnect && !sessionPresent && this.subscriptions.size > 0) {
      void this.resubscribe();
    }
  }

  private onConnectionFailure(failure: FailureDetails): void {
    if (this.currentState === 'stopping' || this.currentState === 'stopped') return;
    const error = connectionError(failure, this.target);
    this.lastFailure = error;
    this.emit('connectionFailure', { error });
    if (this.initial !== undefined && isPermanentFailure(error.reason)) this.initial.reject(error);
  }

  private onDisconnected(failure: FailureDetails): void {
    if (this.currentState === 'stopping' || this.currentState === 'stopped') return;
    this.currentState = 'reconnecting';
    const error = connectionLostError(failure, this.target);
    this.emit('disconnected', { error });
    const limit = this.options.deniedAfterDisconnects ?? 2;
    for (const operation of [...this.pending]) {
      operation.drops++;
      if (operation.drops >= limit) {
        operation.fail(
          deniedError(
            operation.kind,
            operation.topic,
            `the broker closed the connection ${operation.drops} times while it was unacknowledged`,
          ),
        );
      }
    }
    // A native client that would reconnect without reporting refused attempts
    // (aws-crt's MQTT 3.1.1) is replaced by one connecting through the
    // transport's own loop, which reports each: the difference between a
    // network outage and a deactivated certificate is in those reports.
    if (this.transport?.reportsReconnectFailures === false) {
      this.replaceTransport(undefined).catch((error: unknown) => {
        if (!this.isStopping()) this.emit('error', { error: asError(error) });
      });
    }
  }

  private onMessage(topic: string, payload: Buffer): void {
    for (const [filter, entry] of this.subscriptions) {
      if (!topicMatches(filter, topic)) continue;
      for (const handler of entry.handlers) {
        try {
          handler({ topic, payload });
        } catch (error) {
          this.emit('error', { error: asError(error) });
        }
      }
    }
  }

  private async resubscribe(): Promise<void> {
    if (this.transport === undefined) return;
    const filters = [...this.subscriptions.keys()];
    const results = await Promise.allSettled(
      filters.map((filter) =>
        this.track('subscribe', filter, (transport) =>
          transport.subscribe(filter, this.subscriptions.get(filter)?.qos ?? 1),
        ),
      ),
    );
    for (const result of results) {
      if (result.status === 'rejected') this.emit('error', { error: asError(result.reason) });
    }
    this.emit('resubscribed', { filters });
  }

  private emit<K extends DeviceConnectionEvent>(
    event: K,
    payload: DeviceConnectionEventMap[K],
  ): void {
    for (const listener of this.listeners.get(event) ?? []) {
      try {
        (listener as Listener<K>)(payload);
      } catch {
        // a throwing listener must not break the connection's own bookkeeping
      }
    }
  }
}

function deniedError(
  kind: 'publish' | 'subscribe',
  topic: string,
  why: string,
): OperationDeniedError {
  const action = kind === 'publish' ? 'iot:Publish' : 'iot:Subscribe';
  const resource = kind === 'publish' ? `topic/${topic}` : `topicfilter/${topic}`;
  return new OperationDeniedError(
    `The broker refused the ${kind} ${kind === 'publish' ? 'to' : 'of'} '${topic}' (${why}); ` +
      `check that the certificate's IoT policy allows ${action} on arn:aws:iot:<region>:<account>:${resource}`,
    { operation: kind, topic },
  );
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
