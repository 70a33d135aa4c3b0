// Statistics of the harness: pure functions, unit-tested in stats.test.ts.

/**
 * Median of a non-empty list (mean of the two middle values for even lengths).
 * @param {number[]} values
 * @returns {number}
 */
export function median(values) {
  if (values.length === 0) throw new RangeError('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Nearest-rank percentile (p in 0..1) of a non-empty list.
 * @param {number[]} values
 * @param {number} p
 * @returns {number}
 */
export function percentile(values, p) {
  if (values.length === 0) throw new RangeError('percentile of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil(p * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/**
 * Median and spread of repeated runs. `spreadPct` is (max - min) / median, in
 * percent: how far apart the fastest and slowest run were.
 * @param {number[]} samples
 * @returns {{ n: number, median: number, min: number, max: number, spreadPct: number }}
 */
export function summarize(samples) {
  const mid = median(samples);
  const min = Math.min(...samples);
  const max = Math.max(...samples);
  return {
    n: samples.length,
    median: mid,
    min,
    max,
    spreadPct: mid === 0 ? 0 : ((max - min) / mid) * 100,
  };
}

/**
 * `value / baseline`, or undefined when either is missing or the baseline is 0.
 * @param {number | undefined} value
 * @param {number | undefined} baseline
 * @returns {number | undefined}
 */
export function ratio(value, baseline) {
  if (value === undefined || baseline === undefined || !Number.isFinite(value)) return undefined;
  if (!Number.isFinite(baseline) || baseline === 0) return undefined;
  return value / baseline;
}

/**
 * How a cost grows with size: the exponent k of cost ≈ c·size^k from a least
 * squares fit on log-log scale, classified with a tolerance (0.15 by default)
 * because a handful of noisy points cannot tell 1.05 from 1.
 * @param {Array<{ size: number, value: number }>} points at least two, positive
 * @returns {{ exponent: number, growth: 'sublinear' | 'linear' | 'superlinear' }}
 */
export function classifyGrowth(points, tolerance = 0.15) {
  const usable = points.filter((p) => p.size > 0 && p.value > 0);
  if (usable.length < 2) throw new RangeError('growth needs two points with positive values');
  const xs = usable.map((p) => Math.log(p.size));
  const ys = usable.map((p) => Math.log(p.value));
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  if (den === 0) throw new RangeError('growth needs two different sizes');
  const exponent = num / den;
  const growth =
    exponent > 1 + tolerance ? 'superlinear' : exponent < 1 - tolerance ? 'sublinear' : 'linear';
  return { exponent, growth };
}

/**
 * Formats a number for the report with a unit, e.g. `12.3 ms`, `1.2 s`, `40 MiB`.
 * @param {number | undefined} value
 * @param {string} unit one of ms, s, KiB, MiB, msg/s, ops/s, x, %, or anything else
 * @returns {string}
 */
export function formatValue(value, unit) {
  if (value === undefined || !Number.isFinite(value)) return '–';
  if (unit === 'ms' && value >= 10_000) return `${(value / 1000).toFixed(1)} s`;
  if (unit === 'x') return `${value.toFixed(2)}×`;
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${unit}`;
}
