// The shape every section reports: rows with a median, spread and a ratio to a
// baseline row measured in the same run.
import { ratio } from './stats.mjs';

/**
 * One reported measurement. `summary` is a `summarize()` result or a bare number
 * (measured once). `baseline` is the row it is compared with.
 */
export function row(name, summary, unit, baseline) {
  const s =
    typeof summary === 'number' || summary === undefined ? { median: summary, n: 1 } : summary;
  return {
    name,
    unit,
    median: s.median,
    spreadPct: s.spreadPct,
    n: s.n,
    min: s.min,
    max: s.max,
    vs: baseline?.name,
    ratio: baseline === undefined ? undefined : ratio(s.median, baseline.median),
  };
}

/** A new section result. */
export function section(id, title) {
  return { id, title, rows: [], notes: [], skipped: [], scaling: [] };
}
