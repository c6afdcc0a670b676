/**
 * The bandit's arithmetic: conjugate posterior updates against hand-computed values, Thompson
 * sampling's draws and P(best), the weights (property tests: whole percents summing to 100, every
 * answering arm at or above the floor, an arm that does not answer at 0), the settings read from
 * annotations with errors naming the annotation, and a seeded offline replay.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '../support/config.ts';
import { oneSidedTBound } from '../support/stats/t-bound.ts';
import { businessValueBp, replayDays } from '../fixtures/market-replay.ts';
import seedrandom from 'seedrandom';
import { addReward, drawMean, emptyStats, posterior, posteriorMean, useRandom, type ArmStats } from '../bandit/posteriors.ts';
import { empiricalRegret, replay, routeByWeights } from '../bandit/replay.ts';
import { banditSettings, BanditSettingsError } from '../bandit/settings.ts';
import { applyCandidates, type ExperimentAccess, type ExperimentObject } from '../bandit/experiment-access.ts';
import { epsilonGreedyWeights, percentWeights, probabilityBest, thompsonWeights } from '../bandit/thompson-sampling.ts';

const statsOf = (rewards: number[]): ArmStats => rewards.reduce(addReward, emptyStats());
const close = (a: number, b: number, eps = 1e-12) => assert.ok(Math.abs(a - b) < eps, `${a} != ${b}`);

test('Normal-Inverse-Gamma update: prior (0, 1, 1, 1) and rewards 1, 3 give (4/3, 3, 2, 10/3)', () => {
  const p = posterior({ model: 'normal', mu: 0, kappa: 1, alpha: 1, beta: 1 }, statsOf([1, 3]));
  assert.equal(p.model, 'normal');
  if (p.model !== 'normal') return;
  // n = 2, mean 2, Σ(x - mean)² = 2: κ = 1 + 2; μ = (1·0 + 2·2)/3; α = 1 + 2/2; β = 1 + 2/2 + 1·2·(2 - 0)²/(2·3)
  close(p.kappa, 3);
  close(p.mu, 4 / 3);
  close(p.alpha, 2);
  close(p.beta, 10 / 3);
  // no rewards: the prior itself
  assert.deepEqual(posterior({ model: 'normal', mu: 5, kappa: 2, alpha: 3, beta: 4 }, emptyStats()), { model: 'normal', mu: 5, kappa: 2, alpha: 3, beta: 4 });
});

test('Beta update: rewards 5, -2, 0, 3 are two successes (reward > 0) and two failures: Beta(1, 1) becomes Beta(3, 3)', () => {
  assert.deepEqual(posterior({ model: 'bernoulli', alpha: 1, beta: 1 }, statsOf([5, -2, 0, 3])), { model: 'bernoulli', alpha: 3, beta: 3 });
  assert.equal(posteriorMean({ model: 'bernoulli', alpha: 3, beta: 7 }), 0.3);
});

test('posterior draws centre on the posterior mean (seeded, 20 000 draws)', () => {
  useRandom(seedrandom('draws'));
  const mean = (draw: () => number) => Array.from({ length: 20_000 }, draw).reduce((a, b) => a + b, 0) / 20_000;
  close(mean(() => drawMean({ model: 'bernoulli', alpha: 3, beta: 7 })), 0.3, 0.01);
  // μ | data ~ Student-t around μn: the draws' mean is μn
  close(mean(() => drawMean({ model: 'normal', mu: 12, kappa: 50, alpha: 26, beta: 25 * 100 })), 12, 0.1);
});

test('P(best) follows the evidence: a clearly better arm is best in nearly every draw, two equal arms split', () => {
  useRandom(seedrandom('p-best'));
  const prior = { model: 'normal' as const, mu: 0, kappa: 1, alpha: 1, beta: 1 };
  const separated = probabilityBest([posterior(prior, statsOf(Array(200).fill(1))), posterior(prior, statsOf(Array(200).fill(3)))], 2000);
  assert.ok(separated[1] > 0.99, String(separated));
  const equal = probabilityBest([{ model: 'bernoulli', alpha: 50, beta: 50 }, { model: 'bernoulli', alpha: 50, beta: 50 }], 4000);
  assert.ok(Math.abs(equal[0] - 0.5) < 0.05, String(equal));
});

test('weights are whole percents summing to 100, every answering arm at least the floor, a silent arm 0 (property, 500 cases)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 8 }).chain((shares) =>
        fc.record({
          shares: fc.constant(shares),
          available: fc.array(fc.boolean(), { minLength: shares.length, maxLength: shares.length }).filter((a) => a.some(Boolean)),
          floor: fc.integer({ min: 0, max: Math.floor(100 / shares.length) }),
        }),
      ),
      ({ shares, available, floor }) => {
        const weights = percentWeights(shares, floor, available);
        assert.equal(weights.reduce((a, b) => a + b, 0), 100);
        weights.forEach((w, i) => {
          assert.ok(Number.isInteger(w));
          if (available[i]) assert.ok(w >= floor, `arm ${i}: ${w} < floor ${floor}`);
          else assert.equal(w, 0);
        });
      },
    ),
    { seed: 42, numRuns: 500 },
  );
  // 92 % after the floors: 64.4, 18.4, 9.2, 0 -> 64, 18, 9, 0 and the last percent to the largest remainder (0.4, the first)
  assert.deepEqual(percentWeights([0.7, 0.2, 0.1, 0], 2), [67, 20, 11, 2]);
  assert.throws(() => percentWeights([1, 1], 2, [false, false]), /no arm answers/);
  assert.throws(() => percentWeights([1, 1, 1], 40), /a floor of 40 % for 3 arms does not fit in 100 %/);
});

test('Thompson weights and epsilon-greedy weights from the same posteriors', () => {
  useRandom(seedrandom('weights'));
  const prior = { model: 'normal' as const, mu: 0, kappa: 1, alpha: 1, beta: 1 };
  const posteriors = [statsOf(Array(100).fill(1)), statsOf(Array(100).fill(5)), statsOf(Array(100).fill(2))].map((s) => posterior(prior, s));
  const ts = thompsonWeights(posteriors, { floorPercent: 5, draws: 1000 });
  assert.deepEqual(ts.weights, [5, 90, 5]);
  // the best arm stops answering: its traffic goes to the others
  const silent = thompsonWeights(posteriors, { floorPercent: 5, draws: 1000, available: [true, false, true] });
  assert.equal(silent.weights[1], 0);
  assert.equal(silent.weights[0] + silent.weights[2], 100);
  const eg = epsilonGreedyWeights(posteriors, { epsilon: 0.3, floorPercent: 0 });
  assert.deepEqual([eg.greedy, eg.weights], [1, [10, 80, 10]]);
});

test('settings come from the Experiment\'s annotations; a bad one is named', () => {
  const s = banditSettings({ 'bandit.financial-mlops-uat/strategy': 'epsilon-greedy', 'bandit.financial-mlops-uat/prior': 'normal-gamma(0, 1, 1, 10000)', 'other/annotation': 'x' }, 4);
  assert.deepEqual([s.strategy, s.rewardModel, s.updateEvery, s.floorPercent, s.prior], ['epsilon-greedy', 'normal', 100, 2, { model: 'normal', mu: 0, kappa: 1, alpha: 1, beta: 10000 }]);
  assert.deepEqual(banditSettings({ 'bandit.financial-mlops-uat/reward-model': 'bernoulli' }, 4).prior, { model: 'bernoulli', alpha: 1, beta: 1 });
  const named = (annotations: Record<string, string>, pattern: RegExp) => assert.throws(() => banditSettings(annotations, 4), pattern);
  assert.throws(() => banditSettings({ 'bandit.financial-mlops-uat/strategy': 'ucb' }, 4), (e: Error) => e instanceof BanditSettingsError && /^annotation bandit\.financial-mlops-uat\/strategy: .*got 'ucb'/.test(e.message));
  named({ 'bandit.financial-mlops-uat/floor-percent': '30' }, /annotation bandit\.financial-mlops-uat\/floor-percent: 30 % for each of 4 arms exceeds 100 %/);
  named({ 'bandit.financial-mlops-uat/update-every': 'often' }, /annotation bandit\.financial-mlops-uat\/update-every: /);
  named({ 'bandit.financial-mlops-uat/prior': 'beta(1,1)' }, /annotation bandit\.financial-mlops-uat\/prior: must be normal-gamma\(mu, kappa, alpha, beta\) for reward-model normal, got 'beta\(1,1\)'/);
  named({ 'bandit.financial-mlops-uat/prior': 'normal-gamma(0, 0, 1, 1)' }, /kappa, alpha and beta must be positive/);
  named({ 'bandit.financial-mlops-uat/explore': '1' }, /annotation bandit\.financial-mlops-uat\/explore: not a bandit setting/);
});

test('k8s/mab: the Experiment over the four predictors at 40/30/20/10 carries valid bandit settings', () => {
  const experiment = parse(fs.readFileSync(path.join(PROJECT_ROOT, 'k8s', 'mab', 'experiment.yaml'), 'utf8')) as { metadata: { name: string; annotations: Record<string, string> }; spec: { candidates: { name: string; weight: number }[] } };
  assert.equal(experiment.metadata.name, 'financial-mab-experiment');
  assert.deepEqual(experiment.spec.candidates.map((c) => `${c.name}=${c.weight}`), ['baseline-predictor=40', 'enhanced-predictor=30', 'ensemble-predictor=20', 'decision-tree-predictor=10']);
  const settings = banditSettings(experiment.metadata.annotations, experiment.spec.candidates.length);
  assert.deepEqual([settings.strategy, settings.rewardMetric, settings.rewardModel, settings.updateEvery, settings.floorPercent], ['thompson-sampling', 'business_value', 'normal', 50, 2]);
});

test('routing by weights: each arm gets the share of [0, 1) its weight says', () => {
  assert.deepEqual([0, 0.39, 0.4, 0.69, 0.7, 0.89, 0.9, 0.999].map((u) => routeByWeights([40, 30, 20, 10], u)), [0, 0, 1, 1, 2, 2, 3, 3]);
  assert.equal(routeByWeights([0, 100], 0), 1);
});

test('a seeded replay repeats, and learning beats the static split when one arm is clearly better', () => {
  const settings = banditSettings({ 'bandit.financial-mlops-uat/update-every': '50', 'bandit.financial-mlops-uat/draws': '500', 'bandit.financial-mlops-uat/prior': 'normal-gamma(0, 1, 1, 100)' }, 3);
  const random = seedrandom('values');
  const values = [0, 3, 1].map((mean) => Array.from({ length: 300 }, () => mean + 10 * (random() - 0.5)));
  const run = (policy: 'thompson-sampling' | 'static', seed: number) => replay({ policy, settings, values, initial: [60, 20, 20], steps: 1500, seed, window: 300 });
  assert.deepEqual(run('thompson-sampling', 1), run('thompson-sampling', 1));
  const learned = run('thompson-sampling', 2);
  assert.ok(learned.regret < 0.5 * run('static', 2).regret, `${learned.regret} vs static ${run('static', 2).regret}`);
  assert.ok(learned.finalWindowShare[1] > 0.8, String(learned.finalWindowShare));
});

test('one-sided t bounds: 1..5 at alpha 0.05 give 3 -/+ 2.1318 * 1.5811 / sqrt(5)', () => {
  const lower = oneSidedTBound([1, 2, 3, 4, 5], 0.05, 'lower');
  close(lower.mean, 3);
  close(lower.sd, Math.sqrt(2.5));
  close(lower.bound, 3 - 2.131846786 * Math.sqrt(2.5) / Math.sqrt(5), 1e-6);
  close(oneSidedTBound([1, 2, 3, 4, 5], 0.05, 'upper').bound, 3 + 2.131846786 * Math.sqrt(2.5) / Math.sqrt(5), 1e-6);
  assert.throws(() => oneSidedTBound([1], 0.05, 'lower'), /at least 2 replicates/);
});

test('the market replay: a call earns the next day\'s move in basis points net of the cost, and the seeded order repeats', () => {
  close(businessValueBp(1, 0.012, 5), 115, 1e-9);
  close(businessValueBp(0, 0.012, 5), -125, 1e-9);
  assert.deepEqual(replayDays(385, 20, 3), replayDays(385, 20, 3));
  assert.notDeepEqual(replayDays(385, 20, 3), replayDays(385, 20, 4));
  assert.ok(replayDays(10, 1000, 1).every((d) => Number.isInteger(d) && d >= 0 && d < 10));
});

/** An Experiment whose status observes a patch after `lag` reads (never with Infinity; no observedGeneration with null). */
function lagging(lag: number | null): ExperimentAccess & { reads: number } {
  let generation = 1;
  let observed = 1;
  let readsSincePatch = 0;
  const access = {
    where: 'a test',
    reads: 0,
    async read(name: string): Promise<ExperimentObject> {
      access.reads += 1;
      readsSincePatch += 1;
      if (lag !== null && readsSincePatch > lag) observed = generation;
      return { metadata: { name, generation }, spec: { candidates: [] }, status: lag === null ? {} : { observedGeneration: observed } };
    },
    async patchCandidates() {
      generation += 1;
      readsSincePatch = 0;
      return { generation };
    },
    modelReady: async () => true,
  };
  return access;
}

test('a weight write is confirmed once the Experiment\'s status has observed its generation; without one, or past the deadline, it is reported unconfirmed', async () => {
  const three = lagging(3);
  const applied = await applyCandidates(three, 'e', [], 2000);
  assert.ok('observedAfterMs' in applied, JSON.stringify(applied));
  assert.equal(three.reads, 4, 'read until the fourth read showed the new generation');
  assert.match(JSON.stringify(await applyCandidates(lagging(null), 'e', [], 2000)), /carries no observedGeneration/);
  const never = await applyCandidates(lagging(Infinity), 'e', [], 100);
  assert.match('unconfirmed' in never ? never.unconfirmed : '', /had not observed generation 2 after 100 ms \(observed 1\)/);
});

test('empirical regret: rewards 10, 20 on arm A (mean 15) and 5 on arm B, none on C: best mean 15, so 1 x (15 - 5) = 10', () => {
  assert.equal(empiricalRegret([{ n: 2, sum: 30 }, { n: 1, sum: 5 }, { n: 0, sum: 0 }]), 10);
  // means 4 and -2 with 3 and 5 rewards: 5 x (4 - (-2)) = 30
  assert.equal(empiricalRegret([{ n: 3, sum: 12 }, { n: 5, sum: -10 }]), 30);
  assert.equal(empiricalRegret([{ n: 0, sum: 0 }]), null);
});

test('probe-seconds: every 2 s unless the Experiment says otherwise; a value out of range is named', () => {
  assert.equal(banditSettings({}, 4).probeSeconds, 2);
  assert.equal(banditSettings({ 'bandit.financial-mlops-uat/probe-seconds': '0.5' }, 4).probeSeconds, 0.5);
  assert.throws(() => banditSettings({ 'bandit.financial-mlops-uat/probe-seconds': '0' }, 4), /annotation bandit\.financial-mlops-uat\/probe-seconds: .*got '0'/);
});
