/**
 * An offline replay of a bandit policy over measured rewards (the "replay method" of bandit
 * evaluation): `values[arm][day]` is the business value each arm's prediction earned on each
 * held-out day, measured by asking every arm; a seeded replay draws `steps` days at random, routes
 * each to an arm by the current weights, learns from the reward the chosen arm earned that day, and
 * updates the weights every `updateEvery` rewards, exactly as the controller does live. Regret is
 * the pseudo-regret against the best arm: the sum over steps of the best arm's mean value minus the
 * chosen arm's mean value (means over all the days), so the days' own noise does not blur it.
 */
import seedrandom from 'seedrandom';
import { addReward, emptyStats, posterior, useRandom, type ArmStats } from './posteriors.ts';
import type { BanditSettings } from './settings.ts';
import { epsilonGreedyWeights, thompsonWeights } from './thompson-sampling.ts';

export type Policy = 'thompson-sampling' | 'epsilon-greedy' | 'static';

export interface ReplayResult {
  policy: Policy;
  seed: number;
  regret: number;
  /** The weights after the last update. */
  finalWeights: number[];
  /** Share of the last `window` steps each arm received. */
  finalWindowShare: number[];
  rewards: number;
}

/** The next weights of `policy` from the arms' statistics (static: the initial weights), and, for Thompson sampling, each arm's P(best). */
export function nextWeights(policy: Policy, settings: BanditSettings, stats: ArmStats[], initial: number[], available?: boolean[]): { weights: number[]; probabilityBest?: number[] } {
  const posteriors = stats.map((s) => posterior(settings.prior, s));
  if (policy === 'static') return { weights: initial };
  if (policy === 'epsilon-greedy') return { weights: epsilonGreedyWeights(posteriors, { epsilon: settings.epsilon, floorPercent: settings.floorPercent, available }).weights };
  return thompsonWeights(posteriors, { floorPercent: settings.floorPercent, draws: settings.draws, available });
}

/** Pseudo-regret of a routed sequence of arm indices: the best arm's mean value minus the routed arm's, summed. */
export function pseudoRegret(means: number[], routed: number[]): number {
  const best = Math.max(...means);
  return routed.reduce((sum, arm) => sum + (best - means[arm]), 0);
}

/**
 * The cumulative regret the rewards themselves show: per arm, its rewards times how far its mean
 * reward lies below the best arm's mean (arms without a reward count nothing). It estimates the
 * pseudo-regret from the observed means; null before any reward.
 */
export function empiricalRegret(arms: { n: number; sum: number }[]): number | null {
  const seen = arms.filter((a) => a.n > 0);
  if (seen.length === 0) return null;
  const best = Math.max(...seen.map((a) => a.sum / a.n));
  return seen.reduce((total, a) => total + a.n * (best - a.sum / a.n), 0);
}

/** Index of the arm the weights send a request to, for a uniform draw `u` in [0, 1). */
export function routeByWeights(weights: number[], u: number): number {
  const total = weights.reduce((a, b) => a + b, 0);
  let at = u * total;
  for (let i = 0; i < weights.length; i++) {
    if (at < weights[i]) return i;
    at -= weights[i];
  }
  return weights.length - 1;
}

export function replay(options: { policy: Policy; settings: BanditSettings; values: number[][]; initial: number[]; steps: number; seed: number; window: number }): ReplayResult {
  const { policy, settings, values, initial, steps, seed } = options;
  const days = values[0].length;
  const means = values.map((v) => v.reduce((a, b) => a + b, 0) / days);
  const random = seedrandom(`replay-${policy}-${seed}`);
  useRandom(seedrandom(`posterior-${policy}-${seed}`));
  let stats = values.map(() => emptyStats());
  let weights = initial;
  const routed: number[] = [];
  const windowCounts = values.map(() => 0);
  for (let t = 0; t < steps; t++) {
    const day = Math.floor(random() * days);
    const arm = routeByWeights(weights, random());
    const reward = values[arm][day];
    routed.push(arm);
    stats = stats.map((s, i) => (i === arm ? addReward(s, reward) : s));
    if (t >= steps - options.window) windowCounts[arm] += 1;
    if ((t + 1) % settings.updateEvery === 0) weights = nextWeights(policy, settings, stats, initial).weights;
  }
  return { policy, seed, regret: pseudoRegret(means, routed), finalWeights: weights, finalWindowShare: windowCounts.map((c) => c / options.window), rewards: steps };
}
