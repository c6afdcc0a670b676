/**
 * The bandit's settings, read from the Experiment's annotations (Seldon keeps a resource's
 * annotations and ignores ones it does not know), under the prefix `bandit.financial-mlops-uat/`:
 *
 *   strategy         thompson-sampling | epsilon-greedy
 *   reward-metric    business_value (the value the feedback carries)
 *   reward-model     normal (continuous reward, unknown variance) | bernoulli (success = reward > 0)
 *   update-every     rewards between two weight updates (a count, so a seeded replay repeats)
 *   floor-percent    the least weight an answering arm keeps, whole percent
 *   prior            normal-gamma(mu, kappa, alpha, beta) | beta(alpha, beta)
 *   epsilon          the share epsilon-greedy spreads evenly (epsilon-greedy only)
 *   draws            joint posterior draws per update for P(best) (thompson-sampling only)
 *   probe-seconds    how often every arm's readiness is probed between updates; a change updates at once
 *
 * A bad value fails naming the annotation.
 */
import { z } from 'zod';
import type { Prior, RewardModel } from './posteriors.ts';

export const ANNOTATION_PREFIX = 'bandit.financial-mlops-uat/';

export type Strategy = 'thompson-sampling' | 'epsilon-greedy';

export interface BanditSettings {
  strategy: Strategy;
  rewardMetric: 'business_value';
  rewardModel: RewardModel;
  updateEvery: number;
  floorPercent: number;
  prior: Prior;
  epsilon: number;
  draws: number;
  probeSeconds: number;
}

export class BanditSettingsError extends Error {}

const count = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const schema = z.object({
  strategy: z.enum(['thompson-sampling', 'epsilon-greedy']).default('thompson-sampling'),
  'reward-metric': z.literal('business_value').default('business_value'),
  'reward-model': z.enum(['normal', 'bernoulli']).default('normal'),
  'update-every': count(1, 1_000_000).default(100),
  'floor-percent': count(0, 50).default(2),
  prior: z.string().optional(),
  epsilon: z.coerce.number().min(0).max(1).default(0.1),
  draws: count(100, 100_000).default(2000),
  'probe-seconds': z.coerce.number().min(0.1).max(3600).default(2),
});

const NUMBER = String.raw`\s*(-?\d+(?:\.\d+)?(?:e-?\d+)?)\s*`;

function parsePrior(text: string | undefined, model: RewardModel): Prior {
  if (text === undefined) return model === 'bernoulli' ? { model, alpha: 1, beta: 1 } : { model, mu: 0, kappa: 1, alpha: 1, beta: 1 };
  const normal = new RegExp(`^normal-gamma\\(${NUMBER},${NUMBER},${NUMBER},${NUMBER}\\)$`).exec(text);
  const beta = new RegExp(`^beta\\(${NUMBER},${NUMBER}\\)$`).exec(text);
  const field = `${ANNOTATION_PREFIX}prior`;
  if (model === 'normal') {
    if (!normal) throw new BanditSettingsError(`annotation ${field}: must be normal-gamma(mu, kappa, alpha, beta) for reward-model normal, got '${text}'`);
    const [mu, kappa, alpha, b] = normal.slice(1).map(Number);
    if (!(kappa > 0 && alpha > 0 && b > 0)) throw new BanditSettingsError(`annotation ${field}: kappa, alpha and beta must be positive, got '${text}'`);
    return { model, mu, kappa, alpha, beta: b };
  }
  if (!beta) throw new BanditSettingsError(`annotation ${field}: must be beta(alpha, beta) for reward-model bernoulli, got '${text}'`);
  const [alpha, b] = beta.slice(1).map(Number);
  if (!(alpha > 0 && b > 0)) throw new BanditSettingsError(`annotation ${field}: alpha and beta must be positive, got '${text}'`);
  return { model, alpha, beta: b };
}

/** The settings in `annotations` (others are ignored); `arms` checks that the floor fits. */
export function banditSettings(annotations: Record<string, string> | undefined, arms: number): BanditSettings {
  const own = Object.fromEntries(Object.entries(annotations ?? {}).filter(([k]) => k.startsWith(ANNOTATION_PREFIX)).map(([k, v]) => [k.slice(ANNOTATION_PREFIX.length), v]));
  const unknown = Object.keys(own).filter((k) => !(k in schema.shape));
  if (unknown.length > 0) throw new BanditSettingsError(`annotation ${ANNOTATION_PREFIX}${unknown[0]}: not a bandit setting (known: ${Object.keys(schema.shape).join(', ')})`);
  const parsed = schema.safeParse(own);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new BanditSettingsError(`annotation ${ANNOTATION_PREFIX}${issue.path.join('.')}: ${issue.message}, got '${own[String(issue.path[0])]}'`);
  }
  const s = parsed.data;
  if (s['floor-percent'] * arms > 100) throw new BanditSettingsError(`annotation ${ANNOTATION_PREFIX}floor-percent: ${s['floor-percent']} % for each of ${arms} arms exceeds 100 %`);
  return {
    strategy: s.strategy,
    rewardMetric: s['reward-metric'],
    rewardModel: s['reward-model'],
    updateEvery: s['update-every'],
    floorPercent: s['floor-percent'],
    prior: parsePrior(s.prior, s['reward-model']),
    epsilon: s.epsilon,
    draws: s.draws,
    probeSeconds: s['probe-seconds'],
  };
}
