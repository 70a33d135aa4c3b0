/** Bounds of an exponential backoff. */
export interface BackoffOptions {
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
}

/**
 * Delay before retry number `attempt` (0-based): exponential growth from
 * `minDelayMs`, capped at `maxDelayMs`, with "full jitter" (uniform in
 * [min, cap]) so a fleet that lost its broker at once does not come back in
 * lockstep.
 *
 * @param random source of randomness in [0, 1); injectable for tests
 * @example
 * ```ts
 * backoffDelay(3, { minDelayMs: 1000, maxDelayMs: 60_000 }); // somewhere in 1000..8000
 * ```
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const min = Math.max(0, options.minDelayMs);
  const max = Math.max(min, options.maxDelayMs);
  // 2 ** 30 already exceeds any sane cap; avoid Infinity for huge attempts.
  const cap = Math.min(max, min * 2 ** Math.min(Math.max(0, attempt), 30));
  return Math.round(min + random() * (cap - min));
}
