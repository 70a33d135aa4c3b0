import { describe, expect, it } from 'vitest';
import { classifyGrowth, formatValue, median, percentile, ratio, summarize } from './stats.mjs';

describe('median', () => {
  it('takes the middle value of an odd list regardless of order', () => {
    expect(median([9, 1, 5])).toBe(5);
  });

  it('averages the two middle values of an even list', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('refuses an empty list', () => {
    expect(() => median([])).toThrow(RangeError);
  });
});

describe('percentile', () => {
  it('uses the nearest rank', () => {
    const values = Array.from({ length: 20 }, (_, i) => i + 1);
    expect(percentile(values, 0.95)).toBe(19);
    expect(percentile(values, 0.5)).toBe(10);
    expect(percentile(values, 1)).toBe(20);
  });
});

describe('summarize', () => {
  it('reports median, extremes and the spread relative to the median', () => {
    expect(summarize([10, 12, 8, 11, 9])).toEqual({
      n: 5,
      median: 10,
      min: 8,
      max: 12,
      spreadPct: 40,
    });
  });
});

describe('ratio', () => {
  it('divides by the baseline', () => {
    expect(ratio(30, 10)).toBe(3);
  });

  it('is undefined without a usable baseline', () => {
    expect(ratio(30, 0)).toBeUndefined();
    expect(ratio(30, undefined)).toBeUndefined();
    expect(ratio(undefined, 10)).toBeUndefined();
  });
});

describe('classifyGrowth', () => {
  it('calls cost proportional to size linear', () => {
    const result = classifyGrowth([
      { size: 10, value: 1 },
      { size: 100, value: 10.5 },
      { size: 1000, value: 98 },
    ]);
    expect(result.growth).toBe('linear');
    expect(result.exponent).toBeCloseTo(1, 1);
  });

  it('calls quadratic cost superlinear', () => {
    const result = classifyGrowth([
      { size: 10, value: 1 },
      { size: 100, value: 100 },
      { size: 1000, value: 10_000 },
    ]);
    expect(result.growth).toBe('superlinear');
    expect(result.exponent).toBeCloseTo(2, 5);
  });

  it('calls a fixed cost plus a little per item sublinear', () => {
    const result = classifyGrowth([
      { size: 1000, value: 50 },
      { size: 100_000, value: 60 },
    ]);
    expect(result.growth).toBe('sublinear');
  });

  it('needs two distinct sizes', () => {
    expect(() => classifyGrowth([{ size: 10, value: 1 }])).toThrow(RangeError);
    expect(() =>
      classifyGrowth([
        { size: 10, value: 1 },
        { size: 10, value: 2 },
      ]),
    ).toThrow(RangeError);
  });
});

describe('formatValue', () => {
  it('switches long millisecond values to seconds and marks ratios', () => {
    expect(formatValue(12_345, 'ms')).toBe('12.3 s');
    expect(formatValue(1.234, 'x')).toBe('1.23×');
    expect(formatValue(250.4, 'ms')).toBe('250 ms');
    expect(formatValue(undefined, 'ms')).toBe('–');
  });
});
