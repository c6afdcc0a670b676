import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chiSquareGoodnessOfFit } from '../support/stats/chi-square.ts';

test('chi-square goodness of fit matches the textbook value', () => {
  // 60/40 against 50/50: X2 = 4, 1 dof, p = 0.0455 (tables: P(X2_1 > 3.841) = 0.05)
  const r = chiSquareGoodnessOfFit([60, 40], [50, 50]);
  assert.equal(r.statistic, 4);
  assert.equal(r.degreesOfFreedom, 1);
  assert.ok(Math.abs(r.pValue - 0.0455) < 1e-4, `p = ${r.pValue}`);
});

test('weights are normalised and a perfect fit has p = 1', () => {
  const r = chiSquareGoodnessOfFit([700, 300], [70, 30]);
  assert.equal(r.statistic, 0);
  assert.equal(r.pValue, 1);
  assert.deepEqual(r.expected, [700, 300]);
});

test('a split that ignores 70/30 weights is rejected at alpha 0.001 with 2000 requests', () => {
  const r = chiSquareGoodnessOfFit([1000, 1000], [70, 30]);
  assert.ok(r.pValue < 0.001, `p = ${r.pValue}`);
});

test('too few expected counts are refused rather than tested', () => {
  assert.throws(() => chiSquareGoodnessOfFit([3, 1], [50, 50]), /at least 5/);
  assert.throws(() => chiSquareGoodnessOfFit([3], [1]), /same number/);
});
