/**
 * From posteriors to an Experiment's candidate weights. Thompson sampling sets each arm's weight to
 * the posterior probability that it is the best arm (estimated from seeded joint draws); epsilon-greedy
 * gives the arm with the highest posterior mean 1 - ε and spreads ε evenly. Either way each arm that
 * answers keeps at least the floor, an arm that does not answer gets 0, and the weights are whole
 * percents that sum to 100.
 */
import { drawMean, posteriorMean, type Posterior } from './posteriors.ts';

/** P(arm i has the highest expected reward), from `draws` joint draws of the posteriors (ties to the first). */
export function probabilityBest(posteriors: Posterior[], draws: number): number[] {
  const wins = posteriors.map(() => 0);
  for (let d = 0; d < draws; d++) {
    let best = 0;
    let bestValue = -Infinity;
    posteriors.forEach((p, i) => {
      const value = drawMean(p);
      if (value > bestValue) {
        bestValue = value;
        best = i;
      }
    });
    wins[best] += 1;
  }
  return wins.map((w) => w / draws);
}

export class WeightError extends Error {}

/**
 * Whole-percent weights summing to 100 in proportion to `shares` over the available arms, each
 * available arm at least `floorPercent` (largest-remainder rounding of what the floors leave).
 */
export function percentWeights(shares: number[], floorPercent: number, available: boolean[] = shares.map(() => true)): number[] {
  const open = available.filter(Boolean).length;
  if (open === 0) throw new WeightError('no arm answers: there is nothing to send traffic to');
  if (!Number.isInteger(floorPercent) || floorPercent < 0 || open * floorPercent > 100) throw new WeightError(`a floor of ${floorPercent} % for ${open} arms does not fit in 100 %`);
  const total = shares.reduce((sum, s, i) => sum + (available[i] ? Math.max(0, s) : 0), 0);
  const share = (i: number): number => (!available[i] ? 0 : total > 0 ? Math.max(0, shares[i]) / total : 1 / open);
  const rest = 100 - open * floorPercent;
  const raw = shares.map((_, i) => (available[i] ? rest * share(i) : 0));
  const weights = raw.map((r, i) => (available[i] ? floorPercent + Math.floor(r) : 0));
  let left = 100 - weights.reduce((a, b) => a + b, 0);
  const byRemainder = raw.map((r, i) => ({ i, remainder: r - Math.floor(r) })).filter(({ i }) => available[i]).sort((a, b) => b.remainder - a.remainder || a.i - b.i);
  for (let k = 0; left > 0; k = (k + 1) % byRemainder.length, left--) weights[byRemainder[k].i] += 1;
  return weights;
}

export function thompsonWeights(posteriors: Posterior[], options: { floorPercent: number; draws: number; available?: boolean[] }): { weights: number[]; probabilityBest: number[] } {
  const available = options.available ?? posteriors.map(() => true);
  // the draw runs over every arm, so the random stream does not depend on which arms answer
  const best = probabilityBest(posteriors, options.draws);
  return { weights: percentWeights(best, options.floorPercent, available), probabilityBest: best };
}

export function epsilonGreedyWeights(posteriors: Posterior[], options: { epsilon: number; floorPercent: number; available?: boolean[] }): { weights: number[]; greedy: number } {
  const available = options.available ?? posteriors.map(() => true);
  const means = posteriors.map(posteriorMean);
  const candidates = means.map((m, i) => ({ m, i })).filter(({ i }) => available[i]);
  if (candidates.length === 0) throw new WeightError('no arm answers: there is nothing to send traffic to');
  const greedy = candidates.reduce((a, b) => (b.m > a.m ? b : a)).i;
  const open = candidates.length;
  const shares = posteriors.map((_, i) => (!available[i] ? 0 : options.epsilon / open + (i === greedy ? 1 - options.epsilon : 0)));
  return { weights: percentWeights(shares, options.floorPercent, available), greedy };
}
