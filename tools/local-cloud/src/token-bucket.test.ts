import { describe, expect, it } from 'vitest';
import { TokenBucket } from './token-bucket';

describe('Class: TokenBucket', () => {
  it('allows a burst of `rate` calls, then refills at `rate` per second', () => {
    let now = 0;
    const bucket = new TokenBucket(2, () => now);
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).toEqual([true, true, false]);
    now = 499;
    expect(bucket.tryTake()).toBe(false);
    now = 500;
    expect(bucket.tryTake()).toBe(true);
    now = 10_000;
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).toEqual([true, true, false]);
  });

  it('keeps a burst of one for rates below 1 TPS', () => {
    let now = 0;
    const bucket = new TokenBucket(0.5, () => now);
    expect([bucket.tryTake(), bucket.tryTake()]).toEqual([true, false]);
    now = 2000;
    expect(bucket.tryTake()).toBe(true);
  });
});
