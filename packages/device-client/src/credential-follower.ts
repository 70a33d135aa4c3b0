import type { CredentialPointerWatcher } from './credential-pointer-watcher';
import type { DeviceConnection } from './device-connection';
import {
  CredentialsRefusedError,
  type ConnectionFailureReason,
  type DeviceConnectionError,
} from './errors';
import type { PointedCredentials } from './fetch-pointed-credentials';

/** The part of {@link DeviceConnection} a {@link CredentialFollower} uses. */
export type FollowedConnection = Pick<DeviceConnection, 'on' | 'switchCredentials'>;

/** The part of {@link CredentialPointerWatcher} a {@link CredentialFollower} uses. */
export type FollowedWatcher = Pick<
  CredentialPointerWatcher,
  'check' | 'adopt' | 'current' | 'pointerLocation'
>;

/** Why the pointer was looked at: the timer, a lost connection, or a refused reconnect. */
export type CredentialCheckTrigger = 'interval' | 'dropped' | 'refused';

/** What a {@link CredentialFollower} reports (for logs and metrics). */
export type CredentialFollowerEvent =
  /** The connection moved to another certificate (the new one is connecting). */
  | {
      readonly type: 'credentials-changed';
      readonly previous: PointedCredentials;
      readonly current: PointedCredentials;
      readonly trigger: CredentialCheckTrigger;
    }
  /**
   * The pointer or what it names could not be used; the current credentials
   * stay. Reported once per distinct reason, not on every look.
   */
  | {
      readonly type: 'check-failed';
      readonly trigger: CredentialCheckTrigger;
      readonly error: Error;
    }
  /** The broker refused a reconnect with the current certificate. */
  | {
      readonly type: 'refused';
      readonly certificateId: string;
      /** Consecutive refusals, this one included. */
      readonly refusals: number;
      readonly limit: number;
      readonly error: DeviceConnectionError;
    };

/** Options for {@link CredentialFollower}. */
export interface CredentialFollowerOptions {
  readonly connection: FollowedConnection;
  readonly watcher: FollowedWatcher;
  /** Milliseconds between two conditional reads of the pointer. @default 30_000 */
  readonly checkIntervalMs?: number;
  /**
   * Consecutive refused reconnects, each followed by a look at the pointer
   * that found no other certificate, after which {@link CredentialFollower.failed}
   * rejects. Reconnects back off exponentially (1 s, 2 s, 4 s, … by default),
   * so 5 takes about half a minute. @default 5
   */
  readonly refusedLimit?: number;
  /** @default no reporting */
  readonly onEvent?: (event: CredentialFollowerEvent) => void;
}

/**
 * Failure reasons that mean "the broker will not take this certificate"
 * (AWS IoT refuses a certificate that is not ACTIVE), unlike a network
 * outage, which reconnecting outlasts.
 */
const REFUSED: ReadonlySet<ConnectionFailureReason> = new Set(['rejected', 'tls']);

/**
 * Keeps a connection on the certificate the thing's credential pointer names:
 * looks at the pointer on an interval (a conditional GET, 304 while nothing
 * changed), when the connection drops, and when a reconnect is refused; when
 * it names another certificate, moves the connection to it
 * ({@link DeviceConnection.switchCredentials}: same client id, same session).
 * A rotation that moves the pointer before deactivating the old certificate
 * costs one reconnect; one that deactivates first costs the refused attempts
 * until the pointer moves.
 *
 * Bounded: when reconnects keep being refused `refusedLimit` times in a row
 * and the pointer still names the refused certificate, it stops and
 * {@link failed} rejects with a {@link CredentialsRefusedError}, so a service
 * can exit and be restarted with backoff instead of retrying forever.
 *
 * @example
 * ```ts
 * const follower = new CredentialFollower({ connection, watcher, onEvent: console.log });
 * await connection.start();
 * follower.start();
 * await Promise.race([work, follower.failed]); // rejects with CredentialsRefusedError
 * ```
 */
export class CredentialFollower {
  /** Rejects with {@link CredentialsRefusedError} when the bound is reached; never resolves. */
  readonly failed: Promise<never>;
  private readonly connection: FollowedConnection;
  private readonly watcher: FollowedWatcher;
  private readonly intervalMs: number;
  private readonly limit: number;
  private readonly onEvent: (event: CredentialFollowerEvent) => void;
  private reject: (error: CredentialsRefusedError) => void = () => undefined;
  private readonly removers: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private refusals = 0;
  private checking: Promise<'unchanged' | 'changed' | 'failed'> | undefined;
  private lastReported: string | undefined;

  constructor(options: CredentialFollowerOptions) {
    this.connection = options.connection;
    this.watcher = options.watcher;
    this.intervalMs = options.checkIntervalMs ?? 30_000;
    this.limit = options.refusedLimit ?? 5;
    this.onEvent = options.onEvent ?? (() => undefined);
    this.failed = new Promise<never>((_, reject) => {
      this.reject = reject;
    });
    // Whoever races it sees the rejection; nobody awaiting it is not a crash.
    this.failed.catch(() => undefined);
  }

  /** Starts following: attach after the first connect succeeded. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.removers.push(
      this.connection.on('connected', () => {
        this.refusals = 0;
      }),
      this.connection.on('disconnected', () => {
        void this.follow('dropped');
      }),
      this.connection.on('connectionFailure', ({ error }) => {
        void this.onFailure(error);
      }),
    );
    this.schedule();
  }

  /** Stops the timer and the listeners; a look in progress is ignored. */
  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    for (const remove of this.removers.splice(0)) remove();
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      void this.follow('interval').finally(() => {
        if (this.running) this.schedule();
      });
    }, this.intervalMs);
    // The connection keeps a service alive; the timer alone should not.
    this.timer.unref();
  }

  private async onFailure(error: DeviceConnectionError): Promise<void> {
    if (!REFUSED.has(error.reason)) return;
    this.refusals++;
    const certificateId = this.watcher.current.certificateId;
    this.onEvent({
      type: 'refused',
      certificateId,
      refusals: this.refusals,
      limit: this.limit,
      error,
    });
    const outcome = await this.follow('refused');
    // `refusals` is reset by a connect or a switch meanwhile.
    if (!this.running || outcome === 'changed' || this.refusals < this.limit) return;
    this.stop();
    this.reject(
      new CredentialsRefusedError(
        `The broker refused certificate ${certificateId} ${this.refusals} times in a row and ` +
          `${this.watcher.pointerLocation} still names it: giving up so the service manager can restart the device; ` +
          `check the certificate (aws iot describe-certificate --certificate-id ${certificateId}) and the provisioner ` +
          `[${error.nativeError ?? error.reason}]`,
        { certificateId, refusals: this.refusals },
        { cause: error },
      ),
    );
  }

  /** One look at a time: triggers arriving meanwhile share its outcome. */
  private follow(trigger: CredentialCheckTrigger): Promise<'unchanged' | 'changed' | 'failed'> {
    this.checking ??= this.checkAndSwitch(trigger).finally(() => {
      this.checking = undefined;
    });
    return this.checking;
  }

  private async checkAndSwitch(
    trigger: CredentialCheckTrigger,
  ): Promise<'unchanged' | 'changed' | 'failed'> {
    const result = await this.watcher.check();
    if (!this.running) return 'unchanged';
    if (result.outcome === 'unchanged') {
      this.lastReported = undefined;
      return 'unchanged';
    }
    if (result.outcome === 'failed') {
      this.report(trigger, result.error);
      return 'failed';
    }
    const previous = this.watcher.current;
    try {
      await this.connection.switchCredentials(result.credentials);
    } catch (error) {
      if (this.running) this.report(trigger, asError(error));
      return 'failed';
    }
    // Reported before anything else awaits: the new connection's events come later.
    this.refusals = 0;
    this.lastReported = undefined;
    this.onEvent({ type: 'credentials-changed', previous, current: result.credentials, trigger });
    try {
      await this.watcher.adopt(result.credentials);
    } catch (error) {
      // The switch happened; only the old files could not be removed.
      this.report(trigger, asError(error));
    }
    return 'changed';
  }

  /** Reports a failed look once per distinct reason. */
  private report(trigger: CredentialCheckTrigger, error: Error): void {
    if (error.message === this.lastReported) return;
    this.lastReported = error.message;
    this.onEvent({ type: 'check-failed', trigger, error });
  }
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
