import { iot, iotidentity, mqtt } from 'aws-iot-device-sdk-v2';
import {
  connectionError,
  connectTimeoutError,
  mqtt3ConnectFailure,
  type ConnectionTarget,
} from './connection-failure';
import type { ClaimChannel } from './claim-provisioning';

/** Options of {@link ClaimConnection.connect}. */
export interface ClaimConnectionOptions {
  /** AWS IoT data endpoint (`xxxx-ats.iot.<region>.amazonaws.com`) or a local broker host. */
  readonly endpoint: string;
  /** @default 8883 */
  readonly port?: number;
  /**
   * MQTT client id. The claim policy decides which ids may connect; the thing
   * name the device will ask for is a good one (AWS's claim policies allow
   * `client/<prefix>*`).
   */
  readonly clientId: string;
  /** The claim certificate and its key (0600). */
  readonly certPath: string;
  readonly keyPath: string;
  /** CA bundle for the broker. @default the system trust store */
  readonly caPath?: string;
  /** Give up connecting after this long. @default 30_000 */
  readonly connectTimeoutMs?: number;
  /** @default 60 */
  readonly keepAliveSeconds?: number;
}

/**
 * AWS IoT accepts one CONNECT per second per client id (the local cloud too);
 * a little more, as our clock starts after the broker's.
 */
export const CLIENT_ID_CONNECT_INTERVAL_MS = 1_100;

/** How long {@link ClaimConnection.close} waits for the DISCONNECT to go out. */
const CLOSE_WAIT_MS = 5_000;

/**
 * The short-lived MQTT 3.1.1 connection a device makes with the claim
 * certificate to provision itself, with the device SDK's identity client on
 * it ({@link provisionByClaim} takes it as its {@link ClaimChannel}). A clean
 * session: nothing of it is worth keeping once the device has its own
 * certificate. MQTT 3.1.1 because it is the protocol the local cloud's broker
 * emulates AWS IoT with; AWS IoT's provisioning API answers both.
 *
 * @example
 * ```ts
 * const claim = await ClaimConnection.connect({ endpoint, clientId, certPath, keyPath });
 * try {
 *   await provisionByClaim(claim, { templateName, thingName, dir });
 * } finally {
 *   await claim.close();
 * }
 * ```
 */
export class ClaimConnection implements ClaimChannel {
  readonly identity: iotidentity.IotIdentityClient;
  /**
   * When the broker last accepted a CONNECT of ours (epoch ms; aws-crt
   * reconnects on its own after a drop): AWS IoT allows one per second per
   * client id.
   */
  private lastConnectedAt: number;
  private readonly interruptedListeners = new Set<() => void>();
  private closing: Promise<void> | undefined;

  private constructor(private readonly connection: mqtt.MqttClientConnection) {
    this.identity = new iotidentity.IotIdentityClient(connection);
    this.lastConnectedAt = Date.now();
    connection.on('interrupt', () => {
      for (const listener of [...this.interruptedListeners]) listener();
    });
    connection.on('resume', () => {
      this.lastConnectedAt = Date.now();
    });
  }

  /**
   * Connects with the claim certificate. Rejects with a
   * `DeviceConnectionError` saying what to check (refused, TLS, timeout…);
   * the native connection is freed first.
   */
  static async connect(options: ClaimConnectionOptions): Promise<ClaimConnection> {
    const port = options.port ?? 8883;
    const target: ConnectionTarget = {
      endpoint: options.endpoint,
      port,
      clientId: options.clientId,
      protocol: 'mqtt3',
    };
    let connection: mqtt.MqttClientConnection;
    try {
      const builder = iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder_from_path(
        options.certPath,
        options.keyPath,
      );
      builder
        .with_endpoint(options.endpoint)
        .with_port(port)
        .with_client_id(options.clientId)
        .with_clean_session(true)
        .with_keep_alive_seconds(options.keepAliveSeconds ?? 60);
      if (options.caPath !== undefined) {
        builder.with_certificate_authority_from_path(undefined, options.caPath);
      }
      connection = new mqtt.MqttClient().new_connection(builder.build());
    } catch (error) {
      // The TLS context is built here: unreadable or invalid cert/key/CA files.
      throw connectionError(mqtt3ConnectFailure(error), target, { cause: error });
    }
    connection.on('error', () => {
      // operation failures also reject their promise; keep the emitter from throwing
    });
    const timeoutMs = options.connectTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        connection.connect(),
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(
            () => reject(connectTimeoutError(target, timeoutMs, undefined)),
            timeoutMs,
          );
        }),
      ]);
    } catch (error) {
      await waitAtMost(connection.disconnect(), CLOSE_WAIT_MS);
      if (error instanceof Error && error.name === 'DeviceConnectionError') throw error;
      throw connectionError(mqtt3ConnectFailure(error), target, { cause: error });
    } finally {
      clearTimeout(timer);
    }
    return new ClaimConnection(connection);
  }

  /** {@inheritDoc ClaimChannel.onInterrupted} */
  onInterrupted(listener: () => void): () => void {
    this.interruptedListeners.add(listener);
    return () => this.interruptedListeners.delete(listener);
  }

  /**
   * Disconnects and frees the native connection, and resolves no earlier
   * than {@link CLIENT_ID_CONNECT_INTERVAL_MS} after the last CONNECT: AWS IoT
   * refuses a second CONNECT of the same client id within a second, and the
   * device connects as the thing (often the same id) right after. Never
   * throws; safe to call twice.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await waitAtMost(this.connection.disconnect(), CLOSE_WAIT_MS);
      const wait = this.lastConnectedAt + CLIENT_ID_CONNECT_INTERVAL_MS - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    })();
    return this.closing;
  }
}

async function waitAtMost(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise.catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}
