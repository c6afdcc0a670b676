/**
 * The explainer's KernelSHAP (stack/kernel-shap.ts) against the harness's exact Shapley values by
 * enumeration (support/stats/shapley.ts), and the enumeration against values computed by hand.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import seedrandom from 'seedrandom';
import { explainInstance, kernelCoalitions, type ModelFunction } from '../stack/kernel-shap.ts';
import { coalitionRows, exactShapley, shapleyFromValues } from '../support/stats/shapley.ts';

const close = (actual: number[], expected: number[], tolerance: number, what: string): void => {
  assert.equal(actual.length, expected.length, what);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]) <= tolerance, `${what}[${i}]: ${a} vs ${expected[i]} (tolerance ${tolerance})`));
};

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));
/** A logistic model with an interaction, answering [P(0), P(1)] like predict_proba. */
const logistic = (w: number[], bias: number, interaction = 0): ModelFunction => async (rows) =>
  rows.map((r) => {
    const p = sigmoid(bias + r.reduce((s, v, i) => s + v * (w[i] ?? 0), 0) + interaction * r[0] * r[1]);
    return [1 - p, p];
  });

test('exact Shapley values of the glove game, by hand: the left glove 2/3, each right glove 1/6', () => {
  // players: 0 holds a left glove, 1 and 2 a right glove each; a pair is worth 1
  const v = Array.from({ length: 8 }, (_, c) => ((c & 1) && (c & 6) ? 1 : 0));
  close(shapleyFromValues(v, 3), [2 / 3, 1 / 6, 1 / 6], 1e-12, 'phi');
  assert.throws(() => shapleyFromValues([0, 1, 2], 2), /needs 4 coalition values, got 3/);
});

test('exact interventional Shapley values of a linear model: w_i (x_i - mean of the background), 0 for an unused feature', () => {
  const w = [2, -1, 0.5];
  const f = (r: number[]): number => 1 + w[0] * r[0] + w[1] * r[1] + w[2] * r[2];
  const background = [[0, 1, 2, 5], [2, 3, 0, 7], [1, 2, 1, 9]];
  const x = [3, 0, 4, 100];
  const outputs = coalitionRows(x, background, [0, 1, 2]).map(f);
  const { phi, baseValue, fullValue } = exactShapley(outputs, background, [1, 1, 1], [0, 1, 2], 4);
  close(phi, [2 * (3 - 1), -1 * (0 - 2), 0.5 * (4 - 1), 0], 1e-12, 'phi');
  assert.ok(Math.abs(baseValue + phi.reduce((a, b) => a + b, 0) - fullValue) < 1e-12);
  assert.throws(() => coalitionRows(x, background, Array.from({ length: 21 }, (_, i) => i)), /enumerate at most 20/);
});

test('KernelSHAP is exact on a linear model, with sampled coalitions (10 features, 120 samples)', async () => {
  const random = seedrandom('linear');
  const w = Array.from({ length: 10 }, () => random() * 4 - 2);
  const f: ModelFunction = async (rows) => rows.map((r) => [r.reduce((s, v, i) => s + v * w[i], 0.3)]);
  const background = Array.from({ length: 6 }, () => w.map(() => random()));
  const weights = [1, 2, 1, 1, 3, 1];
  const x = w.map(() => random() * 3);
  const explained = await explainInstance(f, x, background, weights, { nsamples: 120, random: seedrandom('s') });
  const mean = w.map((_, j) => background.reduce((s, b, k) => s + b[j] * weights[k], 0) / 9);
  close(explained.shapValues[0], w.map((wi, j) => wi * (x[j] - mean[j])), 1e-9, 'phi');
  assert.ok(explained.coalitions <= 120);
});

test('KernelSHAP equals the exact Shapley values when its budget covers every coalition (5 features, an interaction)', async () => {
  const f = logistic([0.8, -1.2, 0.4, 0, 2], -0.1, 1.5);
  const random = seedrandom('small');
  const background = Array.from({ length: 8 }, () => Array.from({ length: 5 }, () => random() * 2 - 1));
  const weights = background.map(() => 1);
  const x = [0.9, 0.7, -0.5, 0.2, -0.3];
  const explained = await explainInstance(f, x, background, weights, { random: seedrandom('k') });
  assert.equal(explained.coalitions, 30, 'all 2^5 - 2 proper coalitions');
  const players = [0, 1, 2, 3, 4];
  const outputs = (await f(coalitionRows(x, background, players))).map((o) => o[1]);
  const exact = exactShapley(outputs, background, weights, players, 5);
  close(explained.shapValues[1], exact.phi, 1e-9, 'phi');
  assert.ok(Math.abs(explained.shapValues[1][3]) < 1e-9, 'the unused feature gets 0');
  close([explained.expectedValue[1]], [exact.baseValue], 1e-12, 'expected value');
});

test('KernelSHAP with sampled coalitions over 25 features stays close to the exact values of a model that uses 5', async () => {
  const used = [0, 3, 7, 12, 20];
  const w = new Array<number>(25).fill(0);
  [0.9, -0.6, 0.4, 1.1, -0.8].forEach((v, i) => (w[used[i]] = v));
  const f = logistic(w, 0.2);
  const random = seedrandom('wide');
  const background = Array.from({ length: 16 }, () => w.map(() => random() * 2 - 1));
  const weights = background.map(() => 1);
  let worst = 0;
  for (let i = 0; i < 3; i++) {
    const x = w.map(() => random() * 2 - 1);
    const explained = await explainInstance(f, x, background, weights, { random: seedrandom(`i${i}`) });
    const outputs = (await f(coalitionRows(x, background, used))).map((o) => o[1]);
    const exact = exactShapley(outputs, background, weights, used, 25);
    worst = Math.max(worst, ...explained.shapValues[1].map((v, j) => Math.abs(v - exact.phi[j])));
  }
  assert.ok(worst < 0.01, `largest difference ${worst}`);
});

test('the same seed gives the same coalitions; complete sizes come first, both ends', () => {
  const a = kernelCoalitions(25, 2098, seedrandom('x'));
  const b = kernelCoalitions(25, 2098, seedrandom('x'));
  assert.deepEqual(a, b);
  assert.equal(a.masks.length, 2098);
  // the budget completes sizes 1 and 24 (50 coalitions, 27.6 % of the kernel weight), not 2 and 23 (600)
  const sizes = a.masks.map((m) => m.reduce((s, v) => s + v, 0));
  assert.deepEqual([...new Set(sizes.slice(0, 50))].sort((p, q) => p - q), [1, 24]);
  assert.ok(sizes.slice(50).every((s) => s >= 2 && s <= 23));
  const total = a.weights.reduce((s, v) => s + v, 0);
  assert.ok(Math.abs(total - 1) < 1e-9, `kernel weights sum to ${total}`);
});

test('property: expected value plus the SHAP values is the prediction, for every output (additivity, local accuracy)', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 2, max: 9 }),
      fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      fc.constantFrom<'identity' | 'logit'>('identity', 'logit'),
      async (width, seed, link) => {
        const random = seedrandom(String(seed));
        const w = Array.from({ length: width }, () => random() * 4 - 2);
        const f = logistic(w, random() - 0.5, random());
        const background = Array.from({ length: 5 }, () => w.map(() => random() * 2 - 1));
        const x = w.map(() => random() * 2 - 1);
        const e = await explainInstance(f, x, background, background.map(() => 1), { nsamples: 40, link, random });
        const logit = (p: number): number => (link === 'identity' ? p : Math.log(p / (1 - p)));
        e.shapValues.forEach((phi, k) => {
          const sum = e.expectedValue[k] + phi.reduce((a, b) => a + b, 0);
          assert.ok(Math.abs(sum - logit(e.prediction[k])) < 1e-9, `output ${k}: ${sum} vs ${logit(e.prediction[k])}`);
        });
      },
    ),
    { numRuns: 60, seed: 42 },
  );
});

test('too few coalitions for the features: the least-squares solution, still additive, no error', async () => {
  const f = logistic([0.5, -0.3, 0.8, 0.1, -0.6, 0.2, 0.9, -0.4], 0);
  const random = seedrandom('few');
  const background = Array.from({ length: 4 }, () => Array.from({ length: 8 }, () => random() * 2 - 1));
  const x = background[0].map((v) => v + 1);
  const e = await explainInstance(f, x, background, [1, 1, 1, 1], { nsamples: 4, random });
  assert.ok(e.coalitions < 7, `${e.coalitions} coalitions for 7 unknowns`);
  const sum = e.expectedValue[1] + e.shapValues[1].reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(sum - e.prediction[1]) < 1e-9);
  assert.ok(e.shapValues[1].every(Number.isFinite));
});
