/**
 * The least-squares trend and its one-sided bound (support/stats/trend.ts): a hand-computed case,
 * the coverage of the bound on seeded series with a known slope, and the block means.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import seedrandom from 'seedrandom';
import { blockMeans, linearTrend } from '../support/stats/trend.ts';

test('a hand-computed case: five points', () => {
  // x 0..4, y 2, 3, 5, 4, 6: Sxx = 10, Sxy = 9, slope 0.9, intercept 4 - 0.9 * 2 = 2.2
  const t = linearTrend([0, 1, 2, 3, 4], [2, 3, 5, 4, 6], 0.05);
  assert.ok(Math.abs(t.slope - 0.9) < 1e-12);
  assert.ok(Math.abs(t.start - 2.2) < 1e-12);
  assert.equal(t.span, 4);
  assert.ok(Math.abs(t.rise - 3.6) < 1e-12);
  // residuals -0.2, -0.1, 1.0, -0.9, 0.2: SSE 1.9; se = sqrt(1.9 / 3 / 10); t(0.95; 3) = 2.353363
  const se = Math.sqrt(1.9 / 3 / 10);
  assert.ok(Math.abs(t.slopeSe - se) < 1e-12);
  assert.ok(Math.abs(t.riseUpper - (0.9 + 2.3533634348 * se) * 4) < 1e-6);
  assert.ok(Math.abs(t.relativeRise - 3.6 / 2.2) < 1e-12);
  assert.throws(() => linearTrend([0, 1, 2], [1, 2, 3], 0.05), /at least 5 points/);
  assert.throws(() => linearTrend([1, 1, 1, 1, 1], [1, 2, 3, 4, 5], 0.05), /more than one time/);
  assert.throws(() => linearTrend([0, 1, 2, 3, 4], [1, 2, 3, 4, 5], 0.7), /alpha/);
});

test('the one-sided 99 % upper bound of the rise lies above the true rise in about 99 % of seeded series', () => {
  const random = seedrandom('trend-coverage');
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const xs = Array.from({ length: 50 }, (_, i) => i * 10);
  const trueSlope = 0.02;
  let covered = 0;
  const samples = 2000;
  for (let s = 0; s < samples; s++) {
    const ys = xs.map((x) => 5 + trueSlope * x + normal());
    if (linearTrend(xs, ys, 0.01).riseUpper >= trueSlope * 490) covered++;
  }
  // binomial(2000, 0.99): 3 standard deviations are 0.0067
  assert.ok(Math.abs(covered / samples - 0.99) < 0.0067, `coverage ${covered / samples}`);
});

test('block means: each block of the width averaged, at its middle', () => {
  const points = [0, 1, 2, 3, 4, 5, 6].map((x) => ({ x, y: x * 2 }));
  assert.deepEqual(blockMeans(points, 3), [{ x: 1.5, y: 2 }, { x: 4.5, y: 8 }, { x: 7.5, y: 12 }]);
  assert.deepEqual(blockMeans([], 3), []);
});
