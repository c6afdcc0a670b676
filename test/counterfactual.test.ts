/**
 * The counterfactual search (stack/counterfactual.ts) on models whose boundary is known by hand.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { COUNTERFACTUAL_FORMAT, type CounterfactualArtifact } from '../fixtures/explainer-artifact.ts';
import { findCounterfactual } from '../stack/counterfactual.ts';

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));
const linear = (w: number[], bias: number) => async (rows: number[][]) => rows.map((r) => sigmoid(bias + r.reduce((s, v, j) => s + v * w[j], 0)));
const artifact = (range: [number, number], mutable = ['a', 'b', 'c']): CounterfactualArtifact => ({
  format: COUNTERFACTUAL_FORMAT,
  name: 'cf',
  featureNames: ['a', 'b', 'c'],
  mutable,
  ranges: [range, range, range],
  scale: [1, 1, 1],
});

test('one feature: the nearest change that reaches the boundary, in scale units', async () => {
  // 2a + b > 0 is an up call; from (1, 1, 0) the boundary is nearest along a (to -0.5), not b (to -2)
  const cf = await findCounterfactual(linear([2, 1, 0], 0), [1, 1, 0], artifact([-3, 3]), 3);
  assert.equal(cf.found, true);
  assert.deepEqual(cf.changed.map((c) => c.feature), ['a']);
  assert.ok(Math.abs(cf.row[0] + 0.5) < 1e-6, `a = ${cf.row[0]}`);
  assert.ok(cf.probability <= 0.5 && cf.originalProbability > 0.5);
  assert.ok(Math.abs(cf.distance - 1.5) < 1e-6);
});

test('no single feature can flip the call within its range: features are added greedily, up to the limit', async () => {
  // a + b + c > 0.5 is up; from (1, 1, 1) with ranges [-1, 1] one feature at its end leaves 0.5 + ... > 0.5
  const f = linear([1, 1, 1], -0.5);
  const two = await findCounterfactual(f, [1, 1, 1], artifact([-1, 1]), 3);
  assert.equal(two.found, true);
  assert.equal(two.changed.length, 2);
  assert.ok(two.row.every((v) => v >= -1 && v <= 1));
  assert.ok(two.probability <= 0.5);
  const one = await findCounterfactual(f, [1, 1, 1], artifact([-1, 1]), 1);
  assert.equal(one.found, false, 'one feature is not enough');
});

test('a feature that may not change is never changed', async () => {
  const cf = await findCounterfactual(linear([2, 1, 0], 0), [1, 1, 0], artifact([-3, 3], ['b', 'c']), 3);
  assert.equal(cf.found, true);
  assert.deepEqual(cf.changed.map((c) => c.feature), ['b']);
  assert.ok(Math.abs(cf.row[1] + 2) < 1e-6);
});
