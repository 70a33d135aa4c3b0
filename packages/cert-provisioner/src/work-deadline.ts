import type { LambdaContextLike } from '@thingcert/cfn-response';
import { DeadlineError } from './errors';
import type { RetryDeadline } from './retry-until-deadline';

/** Time budget used when the context has no `getRemainingTimeInMillis` (Lambda's maximum). */
const FALLBACK_REMAINING_MS = 900_000;

/** How {@link withinWorkDeadline} divides the time an invocation has left. */
export interface WorkDeadline {
  /** How long before the Lambda deadline the response guard answers FAILED, in ms. */
  readonly timeoutMarginMs: number;
  /** Time before the guard kept for cleanup after the work is aborted, in ms. */
  readonly cleanupReserveMs: number;
  /**
   * The deadline the AWS clients' retries honour: set to the abort point for
   * the work and cleared after it.
   * @default none
   */
  readonly retryDeadline?: RetryDeadline;
}

/**
 * Runs `work` with a signal that aborts with a {@link DeadlineError}
 * `timeoutMarginMs + cleanupReserveMs` before the Lambda deadline, so a
 * half-made certificate can still be removed and the FAILED answer (sent by
 * the response guard `timeoutMarginMs` before the deadline at the latest) says
 * why. Throttled AWS calls wait their turn until that abort point, and no
 * longer: a step that must not be abandoned then fails cleanly.
 *
 * @example
 * ```ts
 * await withinWorkDeadline(context, { timeoutMarginMs: 5000, cleanupReserveMs: 5000 }, (signal) =>
 *   provision({ ...location, signal }, deps),
 * );
 * ```
 */
export async function withinWorkDeadline<T>(
  context: LambdaContextLike,
  deadline: WorkDeadline,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const remaining = context.getRemainingTimeInMillis?.() ?? FALLBACK_REMAINING_MS;
  const workMs = Math.max(0, remaining - deadline.timeoutMarginMs - deadline.cleanupReserveMs);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DeadlineError()), workMs);
  deadline.retryDeadline?.set(Date.now() + workMs);
  try {
    return await work(controller.signal);
  } finally {
    clearTimeout(timer);
    deadline.retryDeadline?.clear();
  }
}
