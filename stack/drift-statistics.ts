/**
 * The tests behind alibi-detect's drift detectors, with scipy's and alibi-detect's semantics:
 *
 * - two-sample Kolmogorov-Smirnov as `scipy.stats.ks_2samp(x, y, mode='asymp')` (alibi's KSDrift):
 *   D from the two empirical CDFs (ties as scipy: searchsorted `side='right'`), p-value
 *   `kstwo.sf(D, round(n·m/(n+m)))`, the exact distribution of the one-sample statistic;
 * - chi-squared on the 2×K contingency table of category counts as `scipy.stats.chi2_contingency`
 *   (alibi's ChiSquareDrift; Yates' correction when there is one degree of freedom);
 * - Benjamini-Hochberg as alibi-detect's `fdr`;
 * - MMD² (unbiased, zero diagonal) with a Gaussian RBF kernel, sigma by the median heuristic, and a
 *   permutation p-value, as alibi-detect's MMDDrift.
 *
 * No well-kept JavaScript library has the exact Kolmogorov distribution (jStat has none; @stdlib
 * keeps it private to its one-sample test), so it is written here after Marsaglia, Tsang and Wang,
 * "Evaluating Kolmogorov's distribution" (J. Stat. Softw. 8(18), 2003), and checked against scipy's
 * `kstwo` in test/drift-statistics.test.ts. The chi-squared distribution is jStat's.
 */
import jstat from 'jstat';

/** Beyond n·d² = 7.24 (P(D_n >= d) below about 1e-6) Marsaglia-Tsang-Wang's quick formula; exact before. */
const TAIL = 7.24;
const tail = (n: number, d: number): number => 2 * Math.exp(-(2.000071 + 0.331 / Math.sqrt(n) + 1.409 / n) * d * d * n);

/** P(D_n < d) for the one-sample Kolmogorov statistic of n observations (Marsaglia-Tsang-Wang). */
export function kolmogorovCdf(n: number, d: number): number {
  if (!Number.isInteger(n) || n < 1) throw new Error(`n must be a positive whole number, got ${n}`);
  if (d <= 0.5 / n) return 0;
  if (d >= 1) return 1;
  if (d * d * n > TAIL) return 1 - tail(n, d);
  const k = Math.floor(n * d) + 1;
  const m = 2 * k - 1;
  const h = k - n * d;
  const H = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) H[i * m + j] = i - j + 1 < 0 ? 0 : 1;
  for (let i = 0; i < m; i++) {
    H[i * m] -= h ** (i + 1);
    H[(m - 1) * m + i] -= h ** (m - i);
  }
  H[(m - 1) * m] += 2 * h - 1 > 0 ? (2 * h - 1) ** m : 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      if (i - j + 1 > 0) for (let g = 1; g <= i - j + 1; g++) H[i * m + j] /= g;
    }
  }
  const [Q, exponent] = matrixPower(H, m, n);
  let value = Q[(k - 1) * m + k - 1];
  let e = exponent;
  for (let i = 1; i <= n; i++) {
    value = (value * i) / n;
    if (value < 1e-140) {
      value *= 1e140;
      e -= 140;
    }
  }
  return Math.min(1, value * 10 ** e);
}

/** A^n with a decimal exponent kept apart (value = V · 10^e), as in Marsaglia-Tsang-Wang. */
function matrixPower(A: Float64Array, m: number, n: number): [Float64Array, number] {
  if (n === 1) return [A.slice(), 0];
  const [half, eHalf] = matrixPower(A, m, Math.floor(n / 2));
  const squared = multiply(half, half, m);
  let V = squared;
  let e = 2 * eHalf;
  if (n % 2 === 1) V = multiply(A, squared, m);
  const centre = Math.floor(m / 2);
  if (V[centre * m + centre] > 1e140) {
    for (let i = 0; i < V.length; i++) V[i] *= 1e-140;
    e += 140;
  }
  return [V, e];
}

function multiply(A: Float64Array, B: Float64Array, m: number): Float64Array {
  const C = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < m; k++) {
      const a = A[i * m + k];
      if (a === 0) continue;
      for (let j = 0; j < m; j++) C[i * m + j] += a * B[k * m + j];
    }
  }
  return C;
}

/** scipy's `kstwo.sf(d, n)`: P(D_n >= d). */
export const kolmogorovSf = (n: number, d: number): number => (d < 1 && d * d * n > TAIL ? tail(n, d) : Math.max(0, 1 - kolmogorovCdf(n, d)));

export interface TestResult {
  statistic: number;
  pValue: number;
}

/** Sorted copy; the count of values <= v by binary search (numpy's searchsorted side='right'). */
const sorted = (values: ArrayLike<number>): Float64Array => Float64Array.from(values).sort();
function countAtMost(values: Float64Array, v: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid] <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** `scipy.stats.ks_2samp(x, y, alternative='two-sided', mode='asymp')`. */
export function ksTwoSample(x: ArrayLike<number>, y: ArrayLike<number>): TestResult {
  if (x.length === 0 || y.length === 0) throw new Error('both samples need at least one value');
  const a = sorted(x);
  const b = sorted(y);
  let statistic = 0;
  for (const v of [a, b]) {
    for (let i = 0; i < v.length; i++) {
      const gap = Math.abs(countAtMost(a, v[i]) / a.length - countAtMost(b, v[i]) / b.length);
      if (gap > statistic) statistic = gap;
    }
  }
  const [big, small] = a.length >= b.length ? [a.length, b.length] : [b.length, a.length];
  const en = Math.round((big * small) / (big + small));
  return { statistic, pValue: Math.min(1, Math.max(0, kolmogorovSf(en, statistic))) };
}

/**
 * `scipy.stats.chi2_contingency` on the 2×K table of the reference's and the window's counts over
 * the categories either holds (alibi's ChiSquareDrift), with Yates' correction for one degree of freedom.
 */
export function chiSquareContingency(reference: ArrayLike<number>, window: ArrayLike<number>): TestResult & { degreesOfFreedom: number } {
  const count = (values: ArrayLike<number>): Map<number, number> => {
    const out = new Map<number, number>();
    for (let i = 0; i < values.length; i++) out.set(values[i], (out.get(values[i]) ?? 0) + 1);
    return out;
  };
  const ref = count(reference);
  const win = count(window);
  const categories = [...new Set([...ref.keys(), ...win.keys()])].sort((p, q) => p - q);
  const table = [categories.map((c) => ref.get(c) ?? 0), categories.map((c) => win.get(c) ?? 0)];
  const rows = table.map((r) => r.reduce((s, v) => s + v, 0));
  const total = rows[0] + rows[1];
  const degreesOfFreedom = categories.length - 1;
  if (degreesOfFreedom === 0) return { statistic: 0, pValue: 1, degreesOfFreedom };
  let statistic = 0;
  categories.forEach((_, j) => {
    const column = table[0][j] + table[1][j];
    for (let i = 0; i < 2; i++) {
      const expected = (rows[i] * column) / total;
      let gap = table[i][j] - expected;
      if (degreesOfFreedom === 1) gap = Math.sign(gap) * Math.max(0, Math.abs(gap) - Math.min(0.5, Math.abs(gap)));
      statistic += (gap * gap) / expected;
    }
  });
  return { statistic, pValue: 1 - jstat.jStat.chisquare.cdf(statistic, degreesOfFreedom), degreesOfFreedom };
}

/**
 * alibi-detect's `fdr` (Benjamini-Hochberg at level q): drift when some sorted p-value is below
 * q·i/n; the threshold is the largest such q·i/n, or every q·i/n when none passes.
 */
export function benjaminiHochberg(pValues: number[], q: number): { drift: boolean; threshold: number | number[] } {
  const n = pValues.length;
  const order = [...pValues].sort((a, b) => a - b);
  const thresholds = order.map((_, i) => (q * (i + 1)) / n);
  const passing = order.map((p, i) => p < thresholds[i]);
  const last = passing.lastIndexOf(true);
  return last < 0 ? { drift: false, threshold: thresholds } : { drift: true, threshold: thresholds[last] };
}

/** Squared Euclidean distances between the rows of x and of y, row-major. */
function squaredDistances(x: number[][], y: number[][]): Float64Array {
  const out = new Float64Array(x.length * y.length);
  for (let i = 0; i < x.length; i++) {
    for (let j = 0; j < y.length; j++) {
      let s = 0;
      for (let f = 0; f < x[i].length; f++) s += (x[i][f] - y[j][f]) ** 2;
      out[i * y.length + j] = s;
    }
  }
  return out;
}

/** alibi-detect's `sigma_median` of x against itself: sqrt(0.5 · the median squared distance, the zero diagonal left out). */
export function medianHeuristicSigma(x: number[][]): number {
  const distances = squaredDistances(x, x).sort();
  const n = x.length;
  const median = n + Math.floor((distances.length - n) / 2) - 1;
  return Math.sqrt(0.5 * distances[median]);
}

/** The Gaussian RBF kernel matrix exp(-‖a−b‖² / (2σ²)) over the rows of `rows`. */
export function rbfKernelMatrix(rows: number[][], sigma: number): Float64Array {
  const distances = squaredDistances(rows, rows);
  const scale = 1 / (2 * sigma * sigma);
  for (let i = 0; i < distances.length; i++) distances[i] = Math.exp(-scale * distances[i]);
  return distances;
}

/** Each row's kernel sum without its diagonal term, and their total: fixed for a kernel matrix, whatever the permutation. */
export function kernelRowSums(kernel: Float64Array, total: number): { rows: Float64Array; all: number } {
  const rows = new Float64Array(total);
  let all = 0;
  for (let i = 0; i < total; i++) {
    let sum = 0;
    for (let j = 0; j < total; j++) if (j !== i) sum += kernel[i * total + j];
    rows[i] = sum;
    all += sum;
  }
  return { rows, all };
}

/**
 * Unbiased MMD² of the first N−m rows (the reference) against the last m rows (the window) of a
 * kernel matrix, the diagonal left out; `order` permutes the rows first (a permutation test's draw).
 * Only the window's block is summed: with the row sums R and their total S, the cross sum is
 * Σ_{i in window} R_i − S_yy and the reference block S − S_yy − 2·cross.
 */
export function mmd2FromKernel(kernel: Float64Array, total: number, m: number, order?: Int32Array, sums = kernelRowSums(kernel, total)): number {
  const n = total - m;
  const at = order ?? Int32Array.from({ length: total }, (_, i) => i);
  let yy = 0;
  let windowRows = 0;
  for (let a = n; a < total; a++) {
    const row = at[a] * total;
    windowRows += sums.rows[at[a]];
    for (let b = n; b < total; b++) if (a !== b) yy += kernel[row + at[b]];
  }
  const xy = windowRows - yy;
  const xx = sums.all - yy - 2 * xy;
  return xx / (n * (n - 1)) + yy / (m * (m - 1)) - (2 * xy) / (n * m);
}

export interface MmdResult {
  distance: number;
  pValue: number;
  /** The permuted MMD² at index int(p_val · permutations) of the descending sort (alibi's distance_threshold). */
  distanceThreshold: number;
}

/** alibi-detect's MMDDrift score: MMD² and the fraction of `permutations` row permutations whose MMD² is at least as large. */
export function mmdPermutationTest(reference: number[][], window: number[][], sigma: number, permutations: number, alpha: number, random: () => number): MmdResult {
  if (reference.length < 2 || window.length < 2) throw new Error('MMD² needs at least two rows in the reference and in the window');
  const rows = [...reference, ...window];
  const kernel = rbfKernelMatrix(rows, sigma);
  const sums = kernelRowSums(kernel, rows.length);
  const distance = mmd2FromKernel(kernel, rows.length, window.length, undefined, sums);
  const permuted: number[] = [];
  const order = Int32Array.from({ length: rows.length }, (_, i) => i);
  for (let p = 0; p < permutations; p++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    permuted.push(mmd2FromKernel(kernel, rows.length, window.length, order, sums));
  }
  const pValue = permuted.filter((v) => distance <= v).length / permutations;
  const descending = [...permuted].sort((a, b) => b - a);
  return { distance, pValue, distanceThreshold: descending[Math.floor(alpha * permutations)] };
}
