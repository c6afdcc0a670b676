/**
 * The alibi-detect runtime's detectors on artifacts of every kind: TabularDrift mixing a
 * categorical feature (chi-squared) with numerical ones (KS), FDR against Bonferroni, ChiSquareDrift,
 * and the artifact's refusals naming the field.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import seedrandom from 'seedrandom';
import { DRIFT_FORMAT, loadDriftArtifact, type DriftArtifact } from '../fixtures/drift-artifact.ts';
import { createDriftDetector } from '../stack/drift-detector.ts';
import { chiSquareContingency, ksTwoSample } from '../stack/drift-statistics.ts';

const random = seedrandom('drift-detector-test');
const normal = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
const category = (weights: number[]): number => {
  let u = random() * weights.reduce((a, b) => a + b, 0);
  return weights.findIndex((w) => (u -= w) < 0);
};
// rows of [x, sector, y]: x and y numerical, sector categorical (0, 1, 2)
const rows = (n: number, shiftX: number, sectors: number[]): number[][] => Array.from({ length: n }, () => [normal() + shiftX, category(sectors), normal()]);

const artifact = (over: Partial<DriftArtifact>): DriftArtifact =>
  loadDriftArtifact({
    format: DRIFT_FORMAT, name: 'test-detector', detector: 'tabular', inputFeatures: ['x', 'sector', 'y'], features: ['x', 'sector', 'y'],
    reference: rows(300, 0, [1, 1, 1]), pVal: 0.05, correction: 'bonferroni', categoricalFeatures: ['sector'], standardize: false, permutations: 100, seed: 1, ...over,
  });

const data = (outputs: { name: string; data: number[] }[], name: string): number[] => outputs.find((o) => o.name === name)!.data;

test('TabularDrift tests a categorical feature with chi-squared and the others with KS, Bonferroni over all three', () => {
  const a = artifact({});
  const detector = createDriftDetector(a, 'test-detector');
  const window = rows(150, 0, [3, 1, 1]);
  const out = detector.predict(window);
  const column = (j: number, r: number[][]): number[] => r.map((row) => row[j]);
  const expected = [ksTwoSample(column(0, a.reference), column(0, window)), chiSquareContingency(column(1, a.reference), column(1, window)), ksTwoSample(column(2, a.reference), column(2, window))];
  data(out, 'p_val').forEach((p, j) => assert.equal(p, Math.fround(expected[j].pValue)));
  data(out, 'distance').forEach((d, j) => assert.equal(d, Math.fround(expected[j].statistic)));
  assert.deepEqual(data(out, 'threshold'), [0.05 / 3]);
  assert.equal(data(out, 'is_drift')[0], expected[1].pValue < 0.05 / 3 ? 1 : 0);
  assert.ok(expected[1].pValue < 0.05 / 3, 'the sector mix moved from 1:1:1 to 3:1:1');
  assert.deepEqual(detector.meta, { name: 'TabularDrift', online: false, data_type: 'tabular', version: '0.12.0', detector_type: 'drift' });
});

test('with correction fdr the threshold is the largest passing Benjamini-Hochberg threshold, or all of them when none passes', () => {
  const detector = createDriftDetector(artifact({ correction: 'fdr' }), 'fdr-detector');
  const drifted = detector.predict(rows(150, 1, [1, 1, 1]));
  assert.equal(data(drifted, 'is_drift')[0], 1);
  assert.equal(data(drifted, 'threshold').length, 1);
  const quiet = detector.predict(rows(150, 0, [1, 1, 1]));
  assert.equal(data(quiet, 'is_drift')[0], 0, 'the seeded same-distribution window does not drift');
  const thresholds = data(quiet, 'threshold');
  assert.equal(thresholds.length, 3);
  thresholds.forEach((t, i) => assert.ok(Math.abs(t - (0.05 * (i + 1)) / 3) < 1e-15, `threshold ${i}: ${t}`));
});

test('ChiSquareDrift treats every watched feature as categorical; faults: blind never reports drift, uncorrected compares with p_val', () => {
  const chi = createDriftDetector(artifact({ detector: 'chisquare', features: ['sector'], categoricalFeatures: [], reference: rows(300, 0, [1, 1, 1]).map((r) => [r[1]]) }), 'chi');
  const window = rows(150, 0, [3, 1, 1]);
  assert.equal(chi.meta.name, 'ChiSquareDrift');
  assert.equal(data(chi.predict(window), 'is_drift')[0], 1);
  assert.equal(data(chi.predict(window, { blind: true }), 'is_drift')[0], 0);
  const tabular = createDriftDetector(artifact({}), 'tab');
  assert.deepEqual(data(tabular.predict(window, { uncorrected: true }), 'threshold'), [0.05]);
});

test('an artifact naming a feature that is not an input, or with rows of the wrong width, is refused naming the field', () => {
  assert.throws(() => artifact({ features: ['x', 'volume'] }), /field 'features': 'volume' is not an input feature/);
  assert.throws(() => artifact({ reference: [[1, 2], [3, 4]] }), /field 'reference': every row needs 3 values/);
  assert.throws(() => loadDriftArtifact({ format: DRIFT_FORMAT, name: 'x' }), /invalid drift detector artifact: field 'detector'/);
});
