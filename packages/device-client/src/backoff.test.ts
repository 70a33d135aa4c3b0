import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff';

const bounds = { minDelayMs: 100, maxDelayMs: 5_000 };

describe('Function: backoffDelay', () => {
  it('grows exponentially from the minimum (upper edge of the jitter)', () => {
    const top = (attempt: number) => backoffDelay(attempt, bounds, () => 0.999999);
    expect([0, 1, 2, 3].map(top)).toEqual([100, 200, 400, 800]);
  });

  it('never exceeds the maximum, even for huge attempt numbers', () => {
    expect(backoffDelay(10, bounds, () => 0.999999)).toBe(5_000);
    expect(backoffDelay(10_000, bounds, () => 0.999999)).toBe(5_000);
  });

  it('spreads retries uniformly between the minimum and the cap (full jitter)', () => {
    expect(backoffDelay(3, bounds, () => 0)).toBe(100);
    expect(backoffDelay(3, bounds, () => 0.5)).toBe(450);
  });
});
