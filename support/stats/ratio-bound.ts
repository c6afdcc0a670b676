/**
 * The ratio of two accuracies measured on the same days (paired 0/1 outcomes: a = the routed
 * system's, b = the baseline's), with a confidence interval by the delta method:
 *   Var(R) ~ [Var(a)/mb^2 + ma^2 Var(b)/mb^4 - 2 ma Cov(a,b)/mb^3] / n,  R = ma/mb,
 * and a normal quantile. Checking "lower bound >= 1 + uplift" is the one-sided z test of
 * H0: ratio < 1 + uplift at level alpha.
 */
import jstat from 'jstat';
import { mean, sampleCovariance, sampleVariance } from 'simple-statistics';

export interface RatioBound {
  ratio: number;
  /** Standard error of the ratio (delta method). */
  se: number;
  n: number;
  alpha: number;
  /** One-sided lower bound at 1 - alpha. */
  lower: number;
  /** Two-sided interval at 1 - alpha. */
  interval: [number, number];
  meanA: number;
  meanB: number;
}

export function pairedRatioBound(a: number[], b: number[], alpha: number): RatioBound {
  if (a.length !== b.length) throw new Error(`paired outcomes differ in length: ${a.length} and ${b.length}`);
  if (a.length < 30) throw new Error(`a delta-method bound needs at least 30 paired days, got ${a.length}`);
  if (!(alpha > 0 && alpha < 0.5)) throw new Error(`alpha must be in (0, 0.5), got ${alpha}`);
  const ma = mean(a);
  const mb = mean(b);
  if (mb === 0) throw new Error('the baseline accuracy is 0: the ratio is undefined');
  const variance = (sampleVariance(a) / mb ** 2 + (ma ** 2 * sampleVariance(b)) / mb ** 4 - (2 * ma * sampleCovariance(a, b)) / mb ** 3) / a.length;
  const se = Math.sqrt(Math.max(variance, 0));
  const ratio = ma / mb;
  const z1 = jstat.jStat.normal.inv(1 - alpha, 0, 1);
  const z2 = jstat.jStat.normal.inv(1 - alpha / 2, 0, 1);
  return { ratio, se, n: a.length, alpha, lower: ratio - z1 * se, interval: [ratio - z2 * se, ratio + z2 * se], meanA: ma, meanB: mb };
}
