/**
 * A straight-line trend over time (ordinary least squares) and how far a series rose over its
 * span, with a one-sided upper confidence bound from Student's t on n - 2 degrees of freedom:
 *   slope b = Sxy / Sxx,  se(b) = sqrt(SSE / (n - 2) / Sxx),  upper = b + t(1 - alpha; n - 2) se(b).
 * The rise over the span is the slope times the span; relative to the fitted value at the start.
 * Checking "upper bound of the rise < tolerance" is the one-sided t test of
 * H0: rise >= tolerance at level alpha (the series is shown not to drift by that much).
 *
 * The bound assumes independent residuals. Series sampled densely in time are positively
 * autocorrelated, which makes the bound too narrow; the callers average into blocks (10 s) first.
 */
import jstat from 'jstat';
import { linearRegression, mean } from 'simple-statistics';

export interface Trend {
  n: number;
  alpha: number;
  /** Per unit of x. */
  slope: number;
  slopeSe: number;
  /** The fitted value at the first x. */
  start: number;
  /** x's span (last - first). */
  span: number;
  /** slope x span, and its one-sided upper bound at 1 - alpha. */
  rise: number;
  riseUpper: number;
  /** The same relative to `start` (0.1 = 10 %); NaN when the start is not positive. */
  relativeRise: number;
  relativeRiseUpper: number;
}

export function linearTrend(xs: number[], ys: number[], alpha: number): Trend {
  if (xs.length !== ys.length) throw new Error(`a trend needs as many times as values: ${xs.length} and ${ys.length}`);
  if (xs.length < 5) throw new Error(`a trend needs at least 5 points, got ${xs.length}`);
  if (!(alpha > 0 && alpha < 0.5)) throw new Error(`alpha must be in (0, 0.5), got ${alpha}`);
  const n = xs.length;
  const mx = mean(xs);
  const sxx = xs.reduce((s, x) => s + (x - mx) ** 2, 0);
  if (sxx === 0) throw new Error('a trend needs points at more than one time');
  const { m: slope, b: intercept } = linearRegression(xs.map((x, i) => [x, ys[i]]));
  const sse = xs.reduce((s, x, i) => s + (ys[i] - (intercept + slope * x)) ** 2, 0);
  const slopeSe = Math.sqrt(sse / (n - 2) / sxx);
  const t = jstat.jStat.studentt.inv(1 - alpha, n - 2);
  const first = Math.min(...xs);
  const span = Math.max(...xs) - first;
  const start = intercept + slope * first;
  const rise = slope * span;
  const riseUpper = (slope + t * slopeSe) * span;
  return {
    n,
    alpha,
    slope,
    slopeSe,
    start,
    span,
    rise,
    riseUpper,
    relativeRise: start > 0 ? rise / start : NaN,
    relativeRiseUpper: start > 0 ? riseUpper / start : NaN,
  };
}

/** Means of consecutive blocks of `width` in x (points with x in [x0 + k·width, x0 + (k+1)·width)); the block's x is its middle. */
export function blockMeans(points: { x: number; y: number }[], width: number): { x: number; y: number }[] {
  if (points.length === 0) return [];
  const x0 = Math.min(...points.map((p) => p.x));
  const blocks = new Map<number, number[]>();
  for (const p of points) {
    const k = Math.floor((p.x - x0) / width);
    blocks.set(k, [...(blocks.get(k) ?? []), p.y]);
  }
  return [...blocks.entries()].sort((a, b) => a[0] - b[0]).map(([k, ys]) => ({ x: x0 + (k + 0.5) * width, y: mean(ys) }));
}
