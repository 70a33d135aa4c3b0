import type { IoTClientConfig } from '@aws-sdk/client-iot';

/** The SDK's token-based retry strategy interface, named through the client config we pass it to. */
type RetryStrategyV2 = Extract<
  NonNullable<IoTClientConfig['retryStrategy']>,
  { acquireInitialRetryToken: unknown }
>;
type RetryToken = Awaited<ReturnType<RetryStrategyV2['acquireInitialRetryToken']>>;
type RetryErrorInfo = Parameters<RetryStrategyV2['refreshRetryTokenForRetry']>[1];

/** The SDK's cap on one backoff, in ms. */
const MAX_BACKOFF_MS = 20_000;
/** First backoff for a throttled call, in ms (the SDK's standard mode uses the same). */
const THROTTLING_BASE_MS = 1_000;
/** First backoff for a transient error (timeouts, 500/502/503/504), in ms. */
const TRANSIENT_BASE_MS = 50;
/** The most a `Retry-After` hint may add to the computed backoff, in ms. */
const MAX_RETRY_AFTER_EXTRA_MS = 5_000;

/**
 * The point in time until which the current invocation's AWS calls may still
 * be retried. One Lambda container runs one invocation at a time, so the
 * container's clients share one: the handler sets it when an invocation starts
 * and clears it when it ends.
 */
export class RetryDeadline {
  private untilMs: number | undefined;

  /** Allows retries that can start before `epochMs` (milliseconds since the epoch). */
  set(epochMs: number): void {
    this.untilMs = epochMs;
  }

  /** Back to the attempt-count limit (no invocation running). */
  clear(): void {
    this.untilMs = undefined;
  }

  /** The current deadline in epoch ms, or `undefined` when none is set. */
  get epochMs(): number | undefined {
    return this.untilMs;
  }
}

class RetryAttempt implements RetryToken {
  constructor(
    private readonly count: number,
    private readonly delayMs: number,
  ) {}

  getRetryCount(): number {
    return this.count;
  }

  getRetryDelay(): number {
    return this.delayMs;
  }
}

/**
 * Retries throttling and transient errors with capped exponential backoff and
 * full jitter, like the SDK's standard mode. Throttling is bounded by time
 * instead of a fixed attempt count while a {@link RetryDeadline} is set;
 * transient errors always get `maxAttempts`.
 *
 * Why: AWS IoT throttles certificate creation per account (about 10 TPS), and
 * CloudFormation creates many custom resources at once. With a fixed 8
 * attempts a call gives up after ~30 s of backoff on average, so a large
 * fleet created together FAILED a share of its resources while the Lambda
 * still had minutes left. Now a call keeps trying while the invocation has
 * time, and stops before its deadline so the handler can still clean up and
 * answer CloudFormation.
 */
export class RetryUntilDeadline implements RetryStrategyV2 {
  /**
   * @param deadline - while set, retries go on as long as the next attempt starts before it
   * @param maxAttempts - attempts per call (the first included) for transient errors, and for
   *   throttling while no deadline is set
   * @param random - source of jitter in [0, 1); tests pass a fixed one
   */
  constructor(
    private readonly deadline: RetryDeadline,
    private readonly maxAttempts: number,
    private readonly random: () => number = Math.random,
  ) {}

  acquireInitialRetryToken(): Promise<RetryToken> {
    return Promise.resolve(new RetryAttempt(0, 0));
  }

  refreshRetryTokenForRetry(token: RetryToken, errorInfo: RetryErrorInfo): Promise<RetryToken> {
    const retryable = errorInfo.errorType === 'THROTTLING' || errorInfo.errorType === 'TRANSIENT';
    if (!retryable) return Promise.reject(new Error('not a retryable error'));
    const retries = token.getRetryCount();
    const base = errorInfo.errorType === 'THROTTLING' ? THROTTLING_BASE_MS : TRANSIENT_BASE_MS;
    let delayMs = Math.floor(this.random() * Math.min(base * 2 ** retries, MAX_BACKOFF_MS));
    const hint = errorInfo.retryAfterHint;
    if (hint instanceof Date) {
      delayMs = Math.max(
        delayMs,
        Math.min(hint.getTime() - Date.now(), delayMs + MAX_RETRY_AFTER_EXTRA_MS),
      );
    }
    // Only throttling means "wait your turn": a transient error (refused
    // connection, timeout, 5xx) keeps the attempt limit, so a wrong endpoint
    // fails in seconds instead of retrying for the rest of the invocation.
    const until = errorInfo.errorType === 'THROTTLING' ? this.deadline.epochMs : undefined;
    const allowed =
      until === undefined ? retries + 1 < this.maxAttempts : Date.now() + delayMs < until;
    // A rejection here makes the SDK throw the call's last error (e.g. ThrottlingException).
    if (!allowed) return Promise.reject(new Error('retry budget spent'));
    return Promise.resolve(new RetryAttempt(retries + 1, delayMs));
  }

  recordSuccess(): void {
    // No shared retry quota: each call is bounded by time or attempts on its own.
  }
}
