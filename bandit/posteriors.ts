/**
 * Per-arm posteriors of the bandit, kept as sufficient statistics (so the state is a few numbers per
 * arm, stored and restored as they are):
 * - `bernoulli`: a reward is a success when it is positive; Beta(α0 + successes, β0 + failures).
 * - `normal`: a continuous reward (business value) with unknown mean and variance; the conjugate
 *   Normal-Inverse-Gamma posterior (μn, κn, αn, βn) from the prior (μ0, κ0, α0, β0) and the arm's
 *   count, sum and sum of squares.
 * Draws use jStat's samplers on the seeded random source given to `drawMean`.
 */
import jstat from 'jstat';

const { jStat } = jstat;

export type RewardModel = 'bernoulli' | 'normal';

export type Prior =
  | { model: 'bernoulli'; alpha: number; beta: number }
  | { model: 'normal'; mu: number; kappa: number; alpha: number; beta: number };

/** What an arm has been told: how many rewards, their sum and their sum of squares (successes: rewards > 0). */
export interface ArmStats {
  n: number;
  sum: number;
  sumSq: number;
  successes: number;
}

export const emptyStats = (): ArmStats => ({ n: 0, sum: 0, sumSq: 0, successes: 0 });

export function addReward(stats: ArmStats, reward: number): ArmStats {
  return { n: stats.n + 1, sum: stats.sum + reward, sumSq: stats.sumSq + reward * reward, successes: stats.successes + (reward > 0 ? 1 : 0) };
}

/** A posterior has the prior's form (conjugacy). */
export type Posterior = Prior;

/** The conjugate update of `prior` by `stats`. */
export function posterior(prior: Prior, stats: ArmStats): Posterior {
  if (prior.model === 'bernoulli') return { model: 'bernoulli', alpha: prior.alpha + stats.successes, beta: prior.beta + (stats.n - stats.successes) };
  const { n } = stats;
  if (n === 0) return { ...prior };
  const mean = stats.sum / n;
  const squares = Math.max(0, stats.sumSq - n * mean * mean); // Σ(x - x̄)²
  const kappa = prior.kappa + n;
  return {
    model: 'normal',
    mu: (prior.kappa * prior.mu + n * mean) / kappa,
    kappa,
    alpha: prior.alpha + n / 2,
    beta: prior.beta + squares / 2 + (prior.kappa * n * (mean - prior.mu) ** 2) / (2 * kappa),
  };
}

/** The posterior mean of the arm's expected reward (success probability, or mean business value). */
export function posteriorMean(p: Posterior): number {
  return p.model === 'bernoulli' ? p.alpha / (p.alpha + p.beta) : p.mu;
}

/** Use `random` (seeded) for every draw from here on. */
export function useRandom(random: () => number): void {
  jStat.setRandom(random);
}

/** One draw of the arm's expected reward from its posterior (Thompson sampling's draw). */
export function drawMean(p: Posterior): number {
  if (p.model === 'bernoulli') return jStat.beta.sample(p.alpha, p.beta);
  // precision τ ~ Gamma(αn, rate βn), then μ ~ N(μn, 1/(κn τ))
  const precision = jStat.gamma.sample(p.alpha, 1 / p.beta);
  return jStat.normal.sample(p.mu, 1 / Math.sqrt(p.kappa * precision));
}
