/**
 * The business case (support/report/roi.ts): the plan's published example reproduced from its
 * inputs, the assumptions file validated field by field, and the formulas' consistency.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { businessCase, readRoiAssumptions, type RoiAssumptions } from '../support/report/roi.ts';
import { tempDir } from './helpers.ts';

test("the plan's example: 78.2 % -> 81.8 % on 47,892 requests a day gives 672,450 a year, ROI 1,194 % and payback in 28 days", () => {
  // The plan publishes the outputs, not the value of a correct call or the cost: these are the ones
  // its outputs imply (672,450 / (47,892 x 0.036 x 365) = 1.0686 a call; 1,194 % and 28 days both
  // give a cost near 51,950 a year).
  const plan: RoiAssumptions = {
    currency: 'USD',
    value_per_correct_prediction: 1.0686,
    projected_daily_requests: 47_892,
    infrastructure_cost_per_year: 36_000,
    engineering_cost: 15_950,
    period_days: 365,
    extra_cost_per_1000_requests: 0,
  };
  const result = businessCase(0.782, 0.818, 1, plan);
  assert.ok(Math.abs(result.revenueIncrease - 672_450) / 672_450 < 1e-4, `annual revenue increase ${result.revenueIncrease}`);
  assert.equal(Math.round(result.roiPercent), 1194);
  assert.equal(Math.round(result.paybackDays!), 28);
  assert.ok(Math.abs(result.upliftPoints - 3.6) < 1e-9);
  assert.ok(Math.abs(result.upliftRelative - 0.036 / 0.782) < 1e-12);
  assert.equal(result.cost, 51_950);
});

test('the project\'s assumptions file is valid', () => {
  const a = readRoiAssumptions();
  assert.equal(a.currency, 'USD');
  assert.ok(a.projected_daily_requests > 0);
});

test('a broken assumptions file names the field', () => {
  const dir = tempDir('roi');
  const file = path.join(dir, 'roi.yaml');
  const valid = 'currency: USD\nvalue_per_correct_prediction: 1\nprojected_daily_requests: 1000\ninfrastructure_cost_per_year: 100\nengineering_cost: 50\nperiod_days: 365\nextra_cost_per_1000_requests: 0.3\n';
  const write = (text: string): string => (fs.writeFileSync(file, text), file);
  assert.equal(readRoiAssumptions(write(valid)).engineering_cost, 50);
  assert.throws(() => readRoiAssumptions(write(valid.replace('value_per_correct_prediction: 1', 'value_per_correct_prediction: -1'))), /roi\.yaml: field value_per_correct_prediction: Too small/i);
  assert.throws(() => readRoiAssumptions(write(valid.replace('projected_daily_requests: 1000\n', ''))), /field projected_daily_requests: .*(required|undefined)/i);
  assert.throws(() => readRoiAssumptions(write(valid.replace('period_days: 365', 'period_days: a year'))), /field period_days: .*number/i);
  assert.throws(() => readRoiAssumptions(write(`${valid}value_per_call: 2\n`)), /field value_per_call: .*unrecognized/i);
  assert.throws(() => readRoiAssumptions(write(valid.replace('infrastructure_cost_per_year: 100', 'infrastructure_cost_per_year: 0').replace('engineering_cost: 50', 'engineering_cost: 0'))), /field engineering_cost: the cost .* must be above 0/);
  assert.throws(() => readRoiAssumptions(write('currency: [USD\n')), /roi\.yaml: /);
});

test('no uplift: no revenue, ROI -100 %, never paid back', () => {
  const a = readRoiAssumptions();
  const same = businessCase(0.6, 0.6, 1, a);
  assert.equal(same.revenueIncrease, 0);
  assert.equal(same.roiPercent, -100);
  assert.equal(same.paybackDays, null);
  assert.equal(businessCase(0.6, 0.55, 1, a).paybackDays, null);
});

test('the ROI is positive exactly when the cost is paid back within the period, and revenue scales with the answered share', () => {
  fc.assert(
    fc.property(
      fc.double({ min: 0.3, max: 0.7, noNaN: true }),
      fc.double({ min: 0.001, max: 0.2, noNaN: true }),
      fc.double({ min: 0.5, max: 1, noNaN: true }),
      fc.integer({ min: 1, max: 1_000_000 }),
      fc.double({ min: 1, max: 1e6, noNaN: true }),
      (base, gain, share, daily, infra) => {
        const a: RoiAssumptions = { currency: 'USD', value_per_correct_prediction: 1, projected_daily_requests: daily, infrastructure_cost_per_year: infra, engineering_cost: 0, period_days: 365, extra_cost_per_1000_requests: 0 };
        const full = businessCase(base, base + gain, 1, a);
        const part = businessCase(base, base + gain, share, a);
        assert.equal(full.roiPercent >= 0, full.paybackDays! <= 365 + 1e-9);
        assert.ok(Math.abs(part.revenueIncrease - full.revenueIncrease * share) <= 1e-6 * full.revenueIncrease);
      },
    ),
  );
});
