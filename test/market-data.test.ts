import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluationDays, FEATURE_NAMES, generateMarketData, REGIMES, splitChronologically } from '../fixtures/market-data.ts';
import { classificationMetrics } from '../fixtures/train-predictors.ts';

test('the same seed gives the same market data, another seed different data', () => {
  const a = generateMarketData({ seed: 7, days: 400 });
  const b = generateMarketData({ seed: 7, days: 400 });
  const c = generateMarketData({ seed: 8, days: 400 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a[10].features, c[10].features);
});

test('every row has the 25 named features, finite, a regime and a 0/1 label matching the next return', () => {
  const rows = generateMarketData({ seed: 42, days: 1600 });
  assert.equal(FEATURE_NAMES.length, 25);
  assert.equal(new Set(FEATURE_NAMES).size, 25);
  for (const row of rows) {
    assert.equal(row.features.length, 25);
    assert.ok(row.features.every(Number.isFinite), `non-finite feature on day ${row.day}`);
    assert.equal(row.label, row.nextReturn > 0 ? 1 : 0);
  }
  assert.deepEqual(new Set(rows.map((r) => r.regime)), new Set(REGIMES));
  const upShare = rows.filter((r) => r.label === 1).length / rows.length;
  assert.ok(upShare > 0.4 && upShare < 0.6, `share of up days ${upShare}`);
});

test('the chronological split holds out the last days', () => {
  const rows = generateMarketData({ seed: 1, days: 200 });
  const { train, heldOut } = splitChronologically(rows, 0.25);
  assert.equal(train.length + heldOut.length, rows.length);
  assert.ok(train[train.length - 1].day < heldOut[0].day);
  assert.throws(() => splitChronologically(rows, 1), /heldOutFraction/);
});

test('classification metrics count correctly', () => {
  const m = classificationMetrics([1, 1, 0, 0], [1, 0, 0, 1]);
  assert.equal(m.accuracy, 0.5);
  assert.equal(m.precision, 0.5);
  assert.equal(m.recall, 0.5);
  assert.throws(() => classificationMetrics([1], [1, 0]), /cannot score/);
});

test('evaluation days: as many of a regime as asked, the same for a seed, from a history no training split holds', () => {
  const volatile = evaluationDays(42, 1200, 'volatile');
  assert.equal(volatile.length, 1200);
  assert.ok(volatile.every((r) => r.regime === 'volatile'));
  assert.deepEqual(evaluationDays(42, 1200, 'volatile').map((r) => r.features), volatile.map((r) => r.features));
  assert.deepEqual(evaluationDays(42, 100).map((r) => r.day), Array.from({ length: 100 }, (_, i) => i + 60));
  const training = new Set(generateMarketData({ seed: 42, days: 1600 }).map((r) => r.features.join()));
  assert.ok(volatile.every((r) => !training.has(r.features.join())));
  assert.throws(() => evaluationDays(42, 0), /count must be a positive whole number/);
});
