/**
 * The drift detectors' statistics against published reference values: scipy 1.17.1's
 * `kstwo.sf`, `ks_2samp(mode='asymp')` and `chi2_contingency` (values printed by scipy, inputs
 * below), and MMD² against the brute-force definition on small data.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import seedrandom from 'seedrandom';
import { benjaminiHochberg, chiSquareContingency, kolmogorovSf, ksTwoSample, medianHeuristicSigma, mmd2FromKernel, mmdPermutationTest, rbfKernelMatrix } from '../stack/drift-statistics.ts';

const close = (actual: number, expected: number, relative: number, what: string): void =>
  assert.ok(Math.abs(actual - expected) <= relative * Math.abs(expected), `${what}: ${actual} vs scipy ${expected} (relative tolerance ${relative})`);

test('kolmogorovSf equals scipy.stats.kstwo.sf', () => {
  const scipy: [number, number, number][] = [
    [1, 0.7, 0.6000000000000001],
    [5, 0.5, 0.112],
    [10, 0.274, 0.3715203845434957],
    [45, 0.2, 0.04707313785971945],
    [143, 0.1, 0.10691328892387364],
    [143, 0.155, 0.0018209925457651423],
    [250, 0.05, 0.5427406465653757],
    [250, 0.12, 0.0013550102442608863],
    [400, 0.09, 0.0028652847831479775],
    [1000, 0.02, 0.8108971656895577],
  ];
  // scipy uses the same Durbin matrix up to n = 140 and faster approximations (Pomeranz, Pelz-Good,
  // with 5 or more significant digits, Simard and L'Ecuyer 2011) above it
  for (const [n, d, expected] of scipy) close(kolmogorovSf(n, d), expected, n <= 140 ? 1e-9 : 1e-5, `kstwo.sf(${d}, ${n})`);
  // far in the tail the quick formula: scipy gives 5.26e-18 for (500, 0.2)
  const far = kolmogorovSf(500, 0.2);
  assert.ok(far > 1e-18 && far < 1e-16, `kstwo.sf(0.2, 500) = ${far}`);
  assert.equal(kolmogorovSf(10, 0.01), 1);
  assert.equal(kolmogorovSf(10, 1), 0);
});

test('ksTwoSample equals scipy.stats.ks_2samp(mode="asymp"), ties included', () => {
  const x = [0.61, 0.29, 0.06, 0.59, -1.73, -0.74, 0.51, -0.56, 0.39, 1.64, 0.05, -0.06, 0.64, -0.82, 0.37, 1.77, 1.09, -1.28, 2.36, 1.31, 1.05, -0.52, -0.74, -1.13, 0.34];
  const y = [1.2, 0.9, 0.61, 1.5, 0.05, 2.1, 0.7, -0.3, 1.0, 1.8, 0.61, 0.4, 1.1, 2.4, -0.2];
  let r = ksTwoSample(x, y);
  close(r.statistic, 0.4133333333333334, 1e-12, 'D');
  close(r.pValue, 0.06622214186544284, 1e-9, 'p');
  // a = ((i·37) mod 101)/101, i < 300; b = round(((i·53) mod 97)/97 + 0.1, 2), i < 120
  const a = Array.from({ length: 300 }, (_, i) => ((i * 37) % 101) / 101);
  const b = Array.from({ length: 120 }, (_, i) => Math.round((((i * 53) % 97) / 97 + 0.1) * 100) / 100);
  r = ksTwoSample(a, b);
  close(r.statistic, 0.11, 1e-9, 'D');
  close(r.pValue, 0.23148375844669403, 1e-8, 'p');
  const c = Array.from({ length: 500 }, (_, i) => ((i * 37) % 101) / 101);
  const d = Array.from({ length: 200 }, (_, i) => ((i * 29) % 89) / 89);
  r = ksTwoSample(c, d);
  close(r.statistic, 0.027000000000000024, 1e-9, 'D');
  close(r.pValue, 0.9998706228109083, 1e-9, 'p');
});

test('chiSquareContingency equals scipy.stats.chi2_contingency, with Yates for one degree of freedom', () => {
  const expand = (counts: number[]): number[] => counts.flatMap((c, category) => Array<number>(c).fill(category));
  let r = chiSquareContingency(expand([10, 20, 30]), expand([15, 15, 10]));
  close(r.statistic, 8.035714285714285, 1e-12, 'chi2');
  close(r.pValue, 0.017991476826658487, 1e-9, 'p');
  assert.equal(r.degreesOfFreedom, 2);
  r = chiSquareContingency(expand([30, 10]), expand([12, 14]));
  close(r.statistic, 4.488203983516484, 1e-12, 'chi2 (Yates)');
  close(r.pValue, 0.03412951572011009, 1e-9, 'p');
  // a category the reference never saw still counts
  assert.equal(chiSquareContingency([0, 0, 0, 1], [0, 1, 2, 2]).degreesOfFreedom, 2);
});

test('benjaminiHochberg: the largest passing q·i/n, or every q·i/n when none passes', () => {
  assert.deepEqual(benjaminiHochberg([0.01, 0.04, 0.03, 0.5], 0.05), { drift: true, threshold: 0.0125 });
  assert.deepEqual(benjaminiHochberg([0.001, 0.02, 0.03, 0.04], 0.05), { drift: true, threshold: 0.05 });
  assert.deepEqual(benjaminiHochberg([0.2, 0.9], 0.05), { drift: false, threshold: [0.025, 0.05] });
});

/** MMD² by its definition: the mean kernel over distinct pairs within each sample, minus twice the mean across. */
function bruteForceMmd2(x: number[][], y: number[][], sigma: number): number {
  const k = (a: number[], b: number[]): number => Math.exp(-a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0) / (2 * sigma * sigma));
  const within = (s: number[][]): number => {
    let sum = 0;
    for (let i = 0; i < s.length; i++) for (let j = 0; j < s.length; j++) if (i !== j) sum += k(s[i], s[j]);
    return sum / (s.length * (s.length - 1));
  };
  let across = 0;
  for (const a of x) for (const b of y) across += k(a, b);
  return within(x) + within(y) - (2 * across) / (x.length * y.length);
}

test('MMD² from the kernel matrix equals the brute-force definition', () => {
  fc.assert(
    fc.property(
      fc.array(fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 2, maxLength: 2 }), { minLength: 2, maxLength: 7 }),
      fc.array(fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 2, maxLength: 2 }), { minLength: 2, maxLength: 6 }),
      fc.double({ min: 0.2, max: 3, noNaN: true }),
      fc.integer({ min: 0, max: 1000 }),
      (x, y, sigma, seed) => {
        const rows = [...x, ...y];
        const kernel = rbfKernelMatrix(rows, sigma);
        if (Math.abs(mmd2FromKernel(kernel, rows.length, y.length) - bruteForceMmd2(x, y, sigma)) >= 1e-9) return false;
        // a permutation: the same as the definition on the permuted split
        const random = seedrandom(String(seed));
        const order = Int32Array.from({ length: rows.length }, (_, i) => i).sort(() => random() - 0.5);
        const permuted = Array.from(order, (i) => rows[i]);
        return Math.abs(mmd2FromKernel(kernel, rows.length, y.length, order) - bruteForceMmd2(permuted.slice(0, x.length), permuted.slice(x.length), sigma)) < 1e-9;
      },
    ),
  );
});

test('median heuristic: sigma = sqrt(0.5 · median off-diagonal squared distance)', () => {
  // points 0, 1, 3 on a line: off-diagonal squared distances 1, 1, 4, 4, 9, 9; alibi's index n + (9 - n) // 2 - 1 = 6 of the sort (0,0,0,1,1,4,4,9,9) is 4
  assert.equal(medianHeuristicSigma([[0], [1], [3]]), Math.sqrt(2));
});

test('MMD permutation test: a shifted window has a small p-value, a same-distribution one does not', () => {
  const random = seedrandom('mmd-test');
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const draw = (n: number, shift: number): number[][] => Array.from({ length: n }, () => [normal() + shift, normal()]);
  const reference = draw(100, 0);
  const sigma = medianHeuristicSigma(reference);
  const same = mmdPermutationTest(reference, draw(50, 0), sigma, 100, 0.05, random);
  const shifted = mmdPermutationTest(reference, draw(50, 1), sigma, 100, 0.05, random);
  assert.ok(shifted.pValue <= 0.01 && shifted.distance > shifted.distanceThreshold, `shifted: ${JSON.stringify(shifted)}`);
  assert.ok(same.pValue > 0.05 && same.distance < same.distanceThreshold, `same: ${JSON.stringify(same)}`);
});
