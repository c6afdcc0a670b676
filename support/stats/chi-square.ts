/**
 * Pearson's chi-square goodness-of-fit test of observed counts against expected proportions,
 * p-value from the chi-square distribution (jStat).
 */
import jstat from 'jstat';

export interface ChiSquareResult {
  statistic: number;
  degreesOfFreedom: number;
  pValue: number;
  expected: number[];
}

export function chiSquareGoodnessOfFit(observed: number[], proportions: number[]): ChiSquareResult {
  if (observed.length !== proportions.length || observed.length < 2) {
    throw new Error(`need the same number (>= 2) of observed counts and proportions, got ${observed.length} and ${proportions.length}`);
  }
  const total = observed.reduce((a, b) => a + b, 0);
  const weightSum = proportions.reduce((a, b) => a + b, 0);
  if (total <= 0 || weightSum <= 0) throw new Error('observed counts and proportions must have a positive sum');
  const expected = proportions.map((p) => (total * p) / weightSum);
  if (expected.some((e) => e < 5)) {
    throw new Error(`every expected count must be at least 5 for the chi-square approximation (expected ${expected.map((e) => e.toFixed(1)).join(', ')})`);
  }
  const statistic = observed.reduce((sum, o, i) => sum + (o - expected[i]) ** 2 / expected[i], 0);
  const degreesOfFreedom = observed.length - 1;
  const pValue = 1 - jstat.jStat.chisquare.cdf(statistic, degreesOfFreedom);
  return { statistic, degreesOfFreedom, pValue, expected };
}
