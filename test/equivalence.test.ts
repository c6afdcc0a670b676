import assert from 'node:assert/strict';
import { test } from 'node:test';
import { equivalenceSampleSize, shareEquivalence } from '../support/stats/equivalence.ts';

const weights = { baseline: 70, enhanced: 30 };

test('a 73/27 split of 2,000 requests is not equivalent to 70/30 within 3 points; 70.5/29.5 is (TOST, alpha 0.05)', () => {
  const off = shareEquivalence({ baseline: 1460, enhanced: 540 }, weights, 0.03, 0.05);
  assert.equal(off.equivalent, false);
  // 0.73 ± 1.645·sqrt(0.73·0.27/2000) = [0.7137, 0.7463]: the upper bound is past 0.73.
  assert.ok(Math.abs(off.shares[0].upper - 0.7463) < 1e-4, String(off.shares[0].upper));
  assert.ok(off.distance > 0.03);
  const near = shareEquivalence({ baseline: 1410, enhanced: 590 }, weights, 0.03, 0.05);
  assert.equal(near.equivalent, true);
  assert.ok(near.distance < 0.03 && near.shares.every((s) => s.pValue < 0.05), JSON.stringify(near.shares));
});

test('the same data: chi-square fails to reject 73/27 at alpha 0.001, equivalence does not accept it', async () => {
  const { chiSquareGoodnessOfFit } = await import('../support/stats/chi-square.ts');
  assert.ok(chiSquareGoodnessOfFit([1460, 540], [70, 30]).pValue > 0.001, 'failure to reject is not evidence of a match');
  assert.equal(shareEquivalence({ baseline: 1460, enhanced: 540 }, weights, 0.03, 0.05).equivalent, false);
});

test('a split that ignores the weights is far outside the margin', () => {
  const r = shareEquivalence({ baseline: 1000, enhanced: 1000 }, weights, 0.03, 0.05);
  assert.equal(r.equivalent, false);
  assert.ok(r.distance > 0.2);
});

test('the sample size for margin 3 points, alpha 0.05, power 90 % at 70/30 is 2,526', () => {
  // (1.6449 + 1.6449)^2 · 0.21 / 0.0009 = 2525.5
  assert.equal(equivalenceSampleSize(weights, 0.03, 0.05, 0.9), 2526);
  // Three predictors: alpha split in three; the widest share (0.5) sets the size.
  assert.ok(equivalenceSampleSize({ a: 50, b: 30, c: 20 }, 0.03, 0.05, 0.9) > equivalenceSampleSize({ a: 50, b: 50 }, 0.03, 0.05, 0.9));
});

test('the computed sample size gives the stated power (seeded simulation of a split exactly at the weights)', async () => {
  const seedrandom = (await import('seedrandom')).default;
  const random = seedrandom('power');
  const n = equivalenceSampleSize(weights, 0.03, 0.05, 0.9);
  let shown = 0;
  const runs = 2000;
  for (let r = 0; r < runs; r++) {
    let baseline = 0;
    for (let i = 0; i < n; i++) if (random() < 0.7) baseline++;
    if (shareEquivalence({ baseline, enhanced: n - baseline }, weights, 0.03, 0.05).equivalent) shown++;
  }
  // Power 0.9 ± 3 standard errors of a 2,000-run estimate (0.0067 each).
  assert.ok(Math.abs(shown / runs - 0.9) < 0.02, `power ${shown / runs}`);
});

test('bad arguments are refused with a message', () => {
  assert.throws(() => shareEquivalence({ a: 1, b: 1 }, { a: 1, b: 1 }, 0, 0.05), /margin/);
  assert.throws(() => shareEquivalence({ a: 1, b: 1 }, { a: 1, b: 1 }, 0.03, 0.7), /alpha/);
  assert.throws(() => shareEquivalence({}, { a: 1, b: 1 }, 0.03, 0.05), /no requests/);
  assert.throws(() => equivalenceSampleSize(weights, 0.03, 0.05, 1), /power/);
});
