/** Small statistics used by the congestion scenarios and the `pnpm netsim` report. */

/** Jain's fairness index (Jain, Chiu, Hawe 1984): (sum x)^2 / (n * sum x^2), 1 when all equal. */
export function jainIndex(values: readonly number[]): number {
  let sum = 0;
  let squares = 0;
  for (const v of values) {
    sum += v;
    squares += v * v;
  }
  if (values.length === 0 || squares === 0) return 1;
  return (sum * sum) / (values.length * squares);
}

/** Arithmetic mean; 0 for no values. */
export function mean(values: readonly number[]): number {
  if (values.length === 0) return 0;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/**
 * The `q` quantile (0..1) by the nearest-rank method: the smallest value with at least
 * q * n values at or below it. 0 for no values.
 */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1] as number;
}
