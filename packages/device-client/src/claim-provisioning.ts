import { FLEET_THING_NAME_PARAMETER } from '@thingcert/contracts';
import { generateKeyAndCsr } from '@thingcert/csr';
import { mqtt, type iotidentity } from 'aws-iot-device-sdk-v2';
import { backoffDelay } from './backoff';
import { certificateIdOf } from './certificate-id';
import {
  claimedCredentialFiles,
  writeClaimedCertificate,
  writeClaimedRegistration,
  writeClaimKey,
} from './claimed-credential-store';
import {
  ClaimRejectedError,
  ClaimReplyLostError,
  ClaimTimeoutError,
  type ClaimOperation,
} from './errors';
import { verifyKeyPair } from './verify-key-pair';

/**
 * The part of aws-iot-device-sdk-v2's `iotidentity.IotIdentityClient` that
 * provisioning by claim uses: CreateCertificateFromCsr and RegisterThing with
 * their reply subscriptions. The SDK's client is one; tests pass a fake.
 */
export type ClaimIdentityApi = Pick<
  iotidentity.IotIdentityClient,
  | 'subscribeToCreateCertificateFromCsrAccepted'
  | 'subscribeToCreateCertificateFromCsrRejected'
  | 'publishCreateCertificateFromCsr'
  | 'subscribeToRegisterThingAccepted'
  | 'subscribeToRegisterThingRejected'
  | 'publishRegisterThing'
>;

/** A connected claim connection, as {@link provisionByClaim} uses it. */
export interface ClaimChannel {
  /** The identity client on the claim connection. */
  readonly identity: ClaimIdentityApi;
  /**
   * Calls `listener` whenever the claim connection is interrupted (the
   * replies to requests then out are lost); returns what removes it.
   */
  onInterrupted(listener: () => void): () => void;
}

/** Progress of {@link provisionByClaim}, for logs; never key material. */
export type ClaimProvisioningEvent =
  | { readonly type: 'certificate-created'; readonly certificateId: string }
  | {
      readonly type: 'retrying';
      readonly operation: ClaimOperation;
      readonly statusCode: number | undefined;
      readonly errorCode: string | undefined;
      readonly attempt: number;
      readonly delayMs: number;
    };

/** Options of {@link provisionByClaim}. */
export interface ProvisionByClaimOptions {
  /** The provisioning template to register through. */
  readonly templateName: string;
  /** The thing to become: sent as the template's `ThingName` parameter. */
  readonly thingName: string;
  /** Where the device's own key, certificate and registration go (0700; see `claimedCredentialFiles`). */
  readonly dir: string;
  /** Longest wait for a SUBACK or a reply. @default 15_000 */
  readonly replyTimeoutMs?: number;
  /**
   * How long throttled (429) and failed (5xx) requests are retried, with the
   * same CSR and the same ownership token; well inside the token's hour.
   * @default 600_000
   */
  readonly retryForMs?: number;
  /** First retry delay (exponential, full jitter). @default 1_000 */
  readonly minRetryDelayMs?: number;
  /** Longest retry delay. @default 10_000 (see {@link DEFAULT_MAX_CLAIM_RETRY_DELAY_MS}) */
  readonly maxRetryDelayMs?: number;
  /**
   * How many times a RegisterThing refused with 403 `AccessDenied` is sent
   * again (same token) before the refusal is final: see
   * {@link DEFAULT_CLAIM_ACCESS_DENIED_RETRIES}.
   * @default 2
   */
  readonly accessDeniedRetries?: number;
  /**
   * Base of the wait before an `AccessDenied` retry: retry n waits between
   * half and all of n × this.
   * @default 3_000
   */
  readonly accessDeniedRetryDelayMs?: number;
  readonly onEvent?: (event: ClaimProvisioningEvent) => void;
  /** Stops waiting (rejects) when aborted. */
  readonly signal?: AbortSignal;
}

/** A device registered by claim: its thing and its own certificate on disk. */
export interface ClaimProvisioningResult {
  readonly thingName: string;
  readonly certificateId: string;
  readonly certPath: string;
  readonly keyPath: string;
  /** The template's `DeviceConfiguration`, as AWS IoT sent it. */
  readonly deviceConfiguration: Readonly<Record<string, string>>;
}

const QOS = mqtt.QoS.AtLeastOnce;

/**
 * The default longest wait between two attempts of a throttled request. AWS
 * IoT answers a throttled request with a bare 429 (no retry hint), and its
 * quota (RegisterThing 10/s per account) is shared by the whole fleet: when a
 * fleet that booted together is nearly registered, the last devices' sleeps
 * are what leaves the quota unused, about half the cap each with full jitter.
 * 10 s keeps that tail short (1000 devices at once: ~1.04× the N/rate floor
 * in simulation, ~1.15× with a 30 s cap) for ~13 instead of ~9 provisioning
 * publishes per device: cheap 429s, far inside the account's publish quota.
 */
export const DEFAULT_MAX_CLAIM_RETRY_DELAY_MS = 10_000;

/**
 * How many times a RegisterThing refused with 403 `AccessDenied` is asked
 * again by default. AWS IoT gives that one answer for a pre-provisioning hook
 * that denied the device and for one that threw, answered late (its 5 s
 * limit: a cold start of a function under a fleet's first boot) or was
 * throttled, and the device cannot tell them apart. The token stays good for
 * its hour, so a few spaced retries let a passing hook failure pass; a real
 * deny costs only as many more hook invocations before it is final.
 */
export const DEFAULT_CLAIM_ACCESS_DENIED_RETRIES = 2;

/**
 * Provisions this device by claim on a connected claim connection, through
 * the SDK's identity client: makes an EC P-256 key here and writes it (0600,
 * 0700 directory) before anything is sent, asks for a certificate with a CSR
 * (`CreateCertificateFromCsr`), stores it, then registers the thing through
 * the template (`RegisterThing` with `{ ThingName: thingName }`) and records
 * the registration. The private key leaves the process only to its file.
 *
 * A 429 (or 5xx) answer is retried with backoff for `retryForMs`, with the
 * same CSR or the same ownership token. A RegisterThing refused with 403
 * `AccessDenied` (the hook or the provisioning role refused the device, or
 * the hook failed) is asked again `accessDeniedRetries` times, spaced, then
 * fails with {@link ClaimRejectedError}, as other rejections do at once. No reply in time is a
 * {@link ClaimTimeoutError}; an interrupted connection a
 * {@link ClaimReplyLostError}, after which a RegisterThing may have happened
 * all the same (connect as the thing to find out).
 *
 * @example
 * ```ts
 * const claim = await ClaimConnection.connect({ endpoint, clientId: thingName, certPath, keyPath });
 * try {
 *   const own = await provisionByClaim(claim, { templateName, thingName, dir });
 *   // connect as own.thingName with own.certPath / own.keyPath
 * } finally {
 *   await claim.close();
 * }
 * ```
 */
export async function provisionByClaim(
  channel: ClaimChannel,
  options: ProvisionByClaimOptions,
): Promise<ClaimProvisioningResult> {
  const files = claimedCredentialFiles(options.dir);
  const { privateKeyPem, csrPem } = await generateKeyAndCsr(options.thingName, 'EC_P256');
  await writeClaimKey(files, privateKeyPem);
  const requests = new ClaimRequests(channel, options);
  const { identity } = channel;

  const created = await requests.send<iotidentity.model.CreateCertificateFromCsrResponse>(
    'CreateCertificateFromCsr',
    [
      (reply) => identity.subscribeToCreateCertificateFromCsrAccepted({}, QOS, reply(true)),
      (reply) => identity.subscribeToCreateCertificateFromCsrRejected({}, QOS, reply(false)),
    ],
    () => identity.publishCreateCertificateFromCsr({ certificateSigningRequest: csrPem }, QOS),
  );
  const certificatePem = created.certificatePem ?? '';
  const certificateId = certificateIdOfReply(certificatePem, created.certificateId);
  verifyKeyPair(certificatePem, privateKeyPem, {
    certificate: `the certificate CreateCertificateFromCsr returned (${certificateId})`,
    privateKey: files.keyPath,
  });
  await writeClaimedCertificate(files, certificatePem);
  options.onEvent?.({ type: 'certificate-created', certificateId });

  const { templateName, thingName } = options;
  const registered = await requests.send<iotidentity.model.RegisterThingResponse>(
    'RegisterThing',
    [
      (reply) => identity.subscribeToRegisterThingAccepted({ templateName }, QOS, reply(true)),
      (reply) => identity.subscribeToRegisterThingRejected({ templateName }, QOS, reply(false)),
    ],
    () =>
      identity.publishRegisterThing(
        {
          templateName,
          certificateOwnershipToken: created.certificateOwnershipToken ?? '',
          parameters: { [FLEET_THING_NAME_PARAMETER]: thingName },
        },
        QOS,
      ),
    certificateId,
  );
  const registeredName = registered.thingName ?? thingName;
  await writeClaimedRegistration(files, { thingName: registeredName, certificateId, templateName });
  return {
    thingName: registeredName,
    certificateId,
    certPath: files.certPath,
    keyPath: files.keyPath,
    deviceConfiguration: registered.deviceConfiguration ?? {},
  };
}

/** The id of the certificate in an accepted reply, checked against its PEM. */
function certificateIdOfReply(certificatePem: string, claimedId: string | undefined): string {
  let id: string;
  try {
    id = certificateIdOf(certificatePem);
  } catch (error) {
    throw new ClaimRejectedError(
      'CreateCertificateFromCsr was accepted without a valid certificate PEM',
      { operation: 'CreateCertificateFromCsr' },
      { cause: error },
    );
  }
  if (claimedId !== undefined && claimedId !== id) {
    throw new ClaimRejectedError(
      `CreateCertificateFromCsr answered certificate id ${claimedId} for a certificate whose id is ${id}`,
      { operation: 'CreateCertificateFromCsr' },
    );
  }
  return id;
}

/** Makes the handler for one reply topic: `accepted` or `rejected`. */
type ReplyHandler = (
  accepted: boolean,
) => (error?: iotidentity.IotIdentityError, response?: object) => void;
/** Subscribes one reply topic with the handler `reply` makes. */
type SubscribeReply = (reply: ReplyHandler) => Promise<mqtt.MqttSubscribeRequest>;

type Outcome =
  | { readonly kind: 'accepted'; readonly response: object }
  | { readonly kind: 'rejected'; readonly response: iotidentity.model.ErrorResponse }
  | { readonly kind: 'unreadable'; readonly error: Error };

/**
 * One request at a time on the claim connection: subscribe its two reply
 * topics once (SUBACK before the publish, or AWS IoT's reply would go
 * nowhere), publish, wait for the reply, retry what is worth retrying.
 */
class ClaimRequests {
  private readonly subscribed = new Set<ClaimOperation>();
  private waiting: ((outcome: Outcome) => void) | undefined;
  private readonly timeoutMs: number;

  constructor(
    private readonly channel: ClaimChannel,
    private readonly options: ProvisionByClaimOptions,
  ) {
    this.timeoutMs = options.replyTimeoutMs ?? 15_000;
  }

  /** Sends `operation` until it is accepted, a final rejection, or the retry time is over. */
  async send<T extends object>(
    operation: ClaimOperation,
    subscriptions: readonly [SubscribeReply, SubscribeReply],
    publish: () => Promise<unknown>,
    certificateId?: string,
  ): Promise<T> {
    const started = Date.now();
    const retryForMs = this.options.retryForMs ?? 600_000;
    // A clean-session claim connection that came back has no subscriptions:
    // the next request subscribes again.
    const forgetSubscriptions = this.channel.onInterrupted(() => this.subscribed.clear());
    let deniedRetries = 0;
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          await this.subscribeOnce(operation, subscriptions);
          return (await this.exchange(operation, publish, certificateId)) as T;
        } catch (error) {
          let delayMs: number;
          if (operation === 'RegisterThing' && this.mayRetryDenied(error, deniedRetries)) {
            deniedRetries++;
            const base = this.options.accessDeniedRetryDelayMs ?? 3_000;
            delayMs = Math.round(base * deniedRetries * (0.5 + Math.random() / 2));
          } else if (isRetryable(error)) {
            delayMs = backoffDelay(attempt, {
              minDelayMs: this.options.minRetryDelayMs ?? 1_000,
              maxDelayMs: this.options.maxRetryDelayMs ?? DEFAULT_MAX_CLAIM_RETRY_DELAY_MS,
            });
          } else throw error;
          if (Date.now() + delayMs - started > retryForMs) throw error;
          this.options.onEvent?.({
            type: 'retrying',
            operation,
            statusCode: error.statusCode,
            errorCode: error.errorCode,
            attempt: attempt + 1,
            delayMs,
          });
          await this.within(operation, new Promise((resolve) => setTimeout(resolve, delayMs)), {
            timeoutMs: undefined,
            interruptible: false,
          });
        }
      }
    } finally {
      forgetSubscriptions();
    }
  }

  /** A 403 `AccessDenied` that may be a passing hook failure: retried a bounded number of times. */
  private mayRetryDenied(error: unknown, retried: number): error is ClaimRejectedError {
    return (
      error instanceof ClaimRejectedError &&
      error.statusCode === 403 &&
      retried < (this.options.accessDeniedRetries ?? DEFAULT_CLAIM_ACCESS_DENIED_RETRIES)
    );
  }

  private async subscribeOnce(
    operation: ClaimOperation,
    subscriptions: readonly [SubscribeReply, SubscribeReply],
  ): Promise<void> {
    if (this.subscribed.has(operation)) return;
    const reply: ReplyHandler = (accepted) => (error, response) => {
      const settle = this.waiting;
      if (settle === undefined) return; // a late duplicate: nobody asked
      this.waiting = undefined;
      if (error !== undefined || response === undefined) {
        settle({ kind: 'unreadable', error: error ?? new Error('empty reply') });
      } else if (accepted) settle({ kind: 'accepted', response });
      else settle({ kind: 'rejected', response });
    };
    for (const subscribe of subscriptions) {
      const suback = await this.within(operation, subscribe(reply), { timeoutMs: this.timeoutMs });
      // aws-crt reports a refused SUBACK (return code 0x80) as QoS 128.
      if (Number(suback.qos) >= 128 || (suback.error_code ?? 0) !== 0) {
        throw new ClaimRejectedError(
          `The broker refused the subscription to the ${operation} replies: ` +
            `check that the claim certificate's policy allows iot:Subscribe and iot:Receive on them`,
          { operation },
        );
      }
    }
    this.subscribed.add(operation);
  }

  /** Publishes the request and waits for its reply. */
  private async exchange(
    operation: ClaimOperation,
    publish: () => Promise<unknown>,
    certificateId: string | undefined,
  ): Promise<object> {
    const reply = new Promise<Outcome>((resolve) => {
      this.waiting = resolve;
    });
    try {
      await this.within(operation, publish(), { timeoutMs: this.timeoutMs, certificateId });
      const outcome = await this.within(operation, reply, {
        timeoutMs: this.timeoutMs,
        certificateId,
      });
      switch (outcome.kind) {
        case 'accepted':
          return outcome.response;
        case 'unreadable':
          throw new ClaimRejectedError(
            `${operation}: the reply could not be read`,
            { operation },
            { cause: outcome.error },
          );
        case 'rejected':
          throw rejectedError(operation, outcome.response);
      }
    } finally {
      this.waiting = undefined;
    }
  }

  /**
   * `promise`, unless the time is up ({@link ClaimTimeoutError}), the
   * connection is interrupted ({@link ClaimReplyLostError}) or the signal
   * aborts first.
   */
  private within<T>(
    operation: ClaimOperation,
    promise: Promise<T>,
    limits: {
      timeoutMs: number | undefined;
      certificateId?: string | undefined;
      /** Whether an interruption loses what is awaited (a reply), or not (a pause). @default true */
      interruptible?: boolean;
    },
  ): Promise<T> {
    const { signal } = this.options;
    return new Promise<T>((resolve, reject) => {
      const timer =
        limits.timeoutMs === undefined
          ? undefined
          : setTimeout(
              () =>
                done(() =>
                  reject(
                    new ClaimTimeoutError(
                      `No answer to ${operation} within ${limits.timeoutMs} ms: ` +
                        'check that the claim policy allows the provisioning topics of the template',
                      { operation, timeoutMs: limits.timeoutMs ?? 0 },
                    ),
                  ),
                ),
              limits.timeoutMs,
            );
      const replyLost = (cause?: unknown): ClaimReplyLostError =>
        new ClaimReplyLostError(
          `The claim connection was interrupted during ${operation}; its reply is lost` +
            (operation === 'RegisterThing'
              ? ' (the registration may have happened: connect as the thing to find out)'
              : ''),
          { operation, certificateId: limits.certificateId },
          ...(cause === undefined ? [] : [{ cause }]),
        );
      const removeInterrupted = this.channel.onInterrupted(() => {
        if (limits.interruptible === false) return;
        done(() => reject(replyLost()));
      });
      const onAbort = (): void =>
        done(() => reject(new Error(`stopped by a signal during ${operation}`)));
      signal?.addEventListener('abort', onAbort, { once: true });
      if (signal?.aborted === true) onAbort();
      let settled = false;
      function done(settle: () => void): void {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        removeInterrupted();
        signal?.removeEventListener('abort', onAbort);
        settle();
      }
      promise.then(
        (value) => done(() => resolve(value)),
        (error: unknown) =>
          done(() =>
            // The native client may fail the request for the lost connection
            // before the interruption itself is reported: the same loss.
            reject(
              limits.interruptible !== false && isConnectionLoss(error)
                ? replyLost(error)
                : error instanceof Error
                  ? error
                  : new Error(String(error)),
            ),
          ),
      );
    });
  }
}

/** Throttling and server-side failures: the same request may succeed later. */
function isRetryable(error: unknown): error is ClaimRejectedError {
  return (
    error instanceof ClaimRejectedError &&
    error.statusCode !== undefined &&
    (error.statusCode === 429 || error.statusCode >= 500)
  );
}

function rejectedError(
  operation: ClaimOperation,
  response: iotidentity.model.ErrorResponse,
): ClaimRejectedError {
  const { statusCode, errorCode, errorMessage } = response;
  const what = [statusCode, errorCode].filter((part) => part !== undefined).join(' ');
  return new ClaimRejectedError(
    `${operation} was rejected (${what || 'no status'}): ${errorMessage ?? 'no reason given'}`,
    { operation, statusCode, errorCode, errorMessage },
  );
}

/**
 * aws-crt's errors for a request the connection's loss cancelled (a publish
 * under way when the broker went away, dropped by the clean-session
 * reconnect): what was sent may have arrived, its answer will not.
 */
const CONNECTION_LOSS =
  /AWS_ERROR_MQTT_(CANCELLED_FOR_CLEAN_SESSION|UNEXPECTED_HANGUP|NOT_CONNECTED|CONNECTION_DESTROYED|CONNECTION_DISCONNECTING)/;

function isConnectionLoss(error: unknown): boolean {
  const name = (error as { error_name?: unknown } | undefined)?.error_name;
  const text = `${typeof name === 'string' ? name : ''} ${error instanceof Error ? error.message : String(error)}`;
  return CONNECTION_LOSS.test(text);
}
