/**
 * A one-sided confidence bound for a mean from independent replicates (Student's t): the lower
 * bound `mean - t(1-alpha, n-1) s/sqrt(n)` or the upper bound `mean + ...`. Checking "lower bound >=
 * threshold" is the one-sided one-sample t-test of H0: mean < threshold at level alpha.
 */
import jstat from 'jstat';
import { mean, sampleStandardDeviation } from 'simple-statistics';

export interface TBound {
  mean: number;
  sd: number;
  n: number;
  bound: number;
  side: 'lower' | 'upper';
  alpha: number;
}

export function oneSidedTBound(values: number[], alpha: number, side: 'lower' | 'upper'): TBound {
  if (values.length < 2) throw new Error(`a t bound needs at least 2 replicates, got ${values.length}`);
  if (!(alpha > 0 && alpha < 0.5)) throw new Error(`alpha must be in (0, 0.5), got ${alpha}`);
  const m = mean(values);
  const sd = sampleStandardDeviation(values);
  const half = jstat.jStat.studentt.inv(1 - alpha, values.length - 1) * (sd / Math.sqrt(values.length));
  return { mean: m, sd, n: values.length, bound: side === 'lower' ? m - half : m + half, side, alpha };
}
