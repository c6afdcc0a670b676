/**
 * Equivalence of observed traffic shares with their weights: two one-sided tests (TOST) per
 * predictor, decided by whether the (1 - 2·alpha) Wald confidence interval of the share lies inside
 * [weight - margin, weight + margin]. With more than two predictors alpha is split between them
 * (Bonferroni), so the statement holds for all shares at once. The sample size a stakeholder's
 * margin and power need is computed, never guessed:
 *
 *   n = (z(1 - alpha') + z(1 - beta/2))^2 · p(1 - p) / margin^2     (true share = weight)
 *
 * (Chow, Shao & Wang, Sample Size Calculations in Clinical Research, equivalence of a proportion).
 * Normal quantiles and probabilities from jStat.
 */
import jstat from 'jstat';

const z = (p: number): number => jstat.jStat.normal.inv(p, 0, 1);
const phi = (x: number): number => jstat.jStat.normal.cdf(x, 0, 1);

export interface ShareEquivalence {
  name: string;
  weightShare: number;
  observed: number;
  share: number;
  lower: number;
  upper: number;
  /** TOST p-value: the larger of the two one-sided p-values. */
  pValue: number;
  /** How far the farther interval bound lies from the weight, in share units. */
  distance: number;
  equivalent: boolean;
}

export interface EquivalenceResult {
  total: number;
  margin: number;
  alpha: number;
  /** Alpha per predictor after the Bonferroni split (equal to alpha with two predictors). */
  alphaPerShare: number;
  confidence: number;
  shares: ShareEquivalence[];
  /** The largest distance over all predictors: the figure compared with the margin. */
  distance: number;
  equivalent: boolean;
}

/** Shares tested: with two predictors one share determines the other, so one test suffices. */
const testedShares = (k: number): number => (k === 2 ? 1 : k);

export function shareEquivalence(counts: Record<string, number>, weights: Record<string, number>, margin: number, alpha: number): EquivalenceResult {
  if (!(margin > 0 && margin < 1)) throw new Error(`the margin must be a share between 0 and 1, got ${margin}`);
  if (!(alpha > 0 && alpha < 0.5)) throw new Error(`alpha must be between 0 and 0.5, got ${alpha}`);
  const names = Object.keys(weights);
  if (names.length < 2) throw new Error('need at least two predictors');
  const weightSum = names.reduce((s, n) => s + weights[n], 0);
  const total = names.reduce((s, n) => s + (counts[n] ?? 0), 0);
  if (total <= 0) throw new Error('no requests were answered by the predictors');
  const alphaPerShare = alpha / testedShares(names.length);
  const zCrit = z(1 - alphaPerShare);
  const shares = names.map((name): ShareEquivalence => {
    const weightShare = weights[name] / weightSum;
    const observed = counts[name] ?? 0;
    const share = observed / total;
    const se = Math.sqrt((share * (1 - share)) / total);
    const lower = share - zCrit * se;
    const upper = share + zCrit * se;
    // H01: share <= weight - margin; H02: share >= weight + margin. se 0 (all or none) gives 0 or 1.
    const pLow = se > 0 ? 1 - phi((share - (weightShare - margin)) / se) : share > weightShare - margin ? 0 : 1;
    const pHigh = se > 0 ? phi((share - (weightShare + margin)) / se) : share < weightShare + margin ? 0 : 1;
    const distance = Math.max(Math.abs(lower - weightShare), Math.abs(upper - weightShare));
    return { name, weightShare, observed, share, lower, upper, pValue: Math.max(pLow, pHigh), distance, equivalent: lower > weightShare - margin && upper < weightShare + margin };
  });
  return {
    total,
    margin,
    alpha,
    alphaPerShare,
    confidence: 1 - 2 * alphaPerShare,
    shares,
    distance: Math.max(...shares.map((s) => s.distance)),
    equivalent: shares.every((s) => s.equivalent),
  };
}

/** Requests needed so that a split exactly at the weights is shown equivalent with the given power. */
export function equivalenceSampleSize(weights: Record<string, number>, margin: number, alpha: number, power: number): number {
  if (!(power > 0 && power < 1)) throw new Error(`power must be between 0 and 1, got ${power}`);
  if (!(margin > 0 && margin < 1)) throw new Error(`the margin must be a share between 0 and 1, got ${margin}`);
  const names = Object.keys(weights);
  const weightSum = names.reduce((s, n) => s + weights[n], 0);
  const alphaPerShare = alpha / testedShares(names.length);
  const factor = (z(1 - alphaPerShare) + z(1 - (1 - power) / 2)) ** 2 / margin ** 2;
  return Math.ceil(Math.max(...names.map((n) => (weights[n] / weightSum) * (1 - weights[n] / weightSum))) * factor);
}
