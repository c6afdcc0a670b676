/**
 * KernelSHAP (Lundberg and Lee, 2017) as the `shap` package's KernelExplainer computes it and as
 * alibi's KernelShap (MLServer's `kernel_shap` runtime) serves it: coalitions of the features
 * that vary between the instance and the background, complete subset sizes first (from both ends)
 * while the sample budget allows, the rest drawn by the Shapley kernel's size weights with their
 * complements; each coalition's value is the model's mean output with the coalition's features
 * taken from the instance and the others from each background row (weighted); the Shapley values
 * solve the kernel-weighted least squares with the efficiency constraint
 * `sum(phi) = link(f(x)) - link(E[f])` eliminated through the last varying feature.
 *
 * Left out: the L1 feature selection shap applies by default when few coalitions are sampled
 * (`l1_reg='auto'`); every varying feature keeps its own value.
 */
import { Matrix, solve } from 'ml-matrix';

export type Link = 'identity' | 'logit';

/** The model: rows in, one output vector per row (e.g. predict_proba's two columns). */
export type ModelFunction = (rows: number[][]) => Promise<number[][]>;

export interface KernelShapOptions {
  /** Coalitions evaluated per instance (shap's default: 2 M + 2048). */
  nsamples?: number;
  link?: Link;
  /** Uniform [0, 1) source for the sampled coalitions (seed it: the same seed gives the same values). */
  random: () => number;
}

export interface InstanceExplanation {
  /** One array per model output, one value per feature (0 for a feature that does not vary). */
  shapValues: number[][];
  /** link(E[f(background)]) per output. */
  expectedValue: number[];
  /** f(x) per output, as the model answered. */
  prediction: number[];
  /** Coalitions evaluated. */
  coalitions: number;
}

const linkFn = (link: Link) => (link === 'identity' ? (p: number) => p : (p: number) => Math.log(p / (1 - p)));

/** The model's mean output over the background (weighted), per output: rows `from` to `from + weights.length` of `outputs`. */
export function backgroundMean(outputs: number[][], weights: number[], from = 0): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  const mean = new Array<number>(outputs[from].length).fill(0);
  weights.forEach((w, b) => outputs[from + b].forEach((v, k) => (mean[k] += (v * w) / total)));
  return mean;
}

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return Math.round(r);
}

function* combinations(n: number, k: number): Generator<number[]> {
  const index = Array.from({ length: k }, (_, i) => i);
  for (;;) {
    yield index.slice();
    let i = k - 1;
    while (i >= 0 && index[i] === n - k + i) i--;
    if (i < 0) return;
    index[i]++;
    for (let j = i + 1; j < k; j++) index[j] = index[j - 1] + 1;
  }
}

/**
 * The coalitions KernelSHAP evaluates for `m` varying features, each with its kernel weight (the
 * weights of the sampled part sum to the kernel weight of the sizes not enumerated).
 */
export function kernelCoalitions(m: number, nsamples: number, random: () => number): { masks: Uint8Array[]; weights: number[] } {
  const masks: Uint8Array[] = [];
  const weights: number[] = [];
  const seen = new Map<string, number>();
  const add = (mask: Uint8Array, weight: number): void => {
    const key = mask.join('');
    const at = seen.get(key);
    if (at !== undefined) {
      weights[at] += weight;
      return;
    }
    seen.set(key, masks.length);
    masks.push(mask);
    weights.push(weight);
  };
  const sizes = Math.ceil((m - 1) / 2);
  const paired = Math.floor((m - 1) / 2);
  const weightVector = Array.from({ length: sizes }, (_, i) => ((m - 1) / ((i + 1) * (m - i - 1))) * (i < paired ? 2 : 1));
  const sum = weightVector.reduce((a, b) => a + b, 0);
  for (let i = 0; i < sizes; i++) weightVector[i] /= sum;

  // complete subset sizes (and their complements) while the budget covers them
  let full = 0;
  let left = nsamples;
  const remaining = weightVector.slice();
  for (let size = 1; size <= sizes; size++) {
    let count = binomial(m, size);
    if (size <= paired) count *= 2;
    if ((left * remaining[size - 1]) / count < 1 - 1e-8) break;
    full++;
    left -= count;
    if (remaining[size - 1] < 1) {
      const scale = 1 - remaining[size - 1];
      for (let i = 0; i < remaining.length; i++) remaining[i] /= scale;
    }
    const weight = weightVector[size - 1] / binomial(m, size) / (size <= paired ? 2 : 1);
    for (const combo of combinations(m, size)) {
      const mask = new Uint8Array(m);
      for (const j of combo) mask[j] = 1;
      add(mask, weight);
      if (size <= paired) add(mask.map((v) => 1 - v), weight);
    }
  }
  const fixed = masks.length;
  let samplesLeft = nsamples - fixed;
  if (full !== sizes && samplesLeft > 0) {
    // the other sizes, drawn by their kernel weight (each draw also adds its complement)
    const draw = weightVector.map((w, i) => (i < paired ? w / 2 : w)).slice(full);
    const drawSum = draw.reduce((a, b) => a + b, 0);
    const cumulative: number[] = [];
    draw.reduce((acc, w, i) => (cumulative[i] = acc + w / drawSum), 0);
    const order = Array.from({ length: m }, (_, i) => i);
    for (let attempts = 0; samplesLeft > 0 && attempts < 4 * nsamples; attempts++) {
      const u = random();
      const drawn = cumulative.findIndex((c) => u < c);
      const size = (drawn < 0 ? cumulative.length - 1 : drawn) + full + 1;
      for (let i = m - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
      const mask = new Uint8Array(m);
      for (let i = 0; i < size; i++) mask[order[i]] = 1;
      const before = masks.length;
      add(mask, 1);
      if (masks.length > before) samplesLeft--;
      if (samplesLeft > 0 && size <= paired) {
        const complement = mask.map((v) => 1 - v);
        const count = masks.length;
        add(complement, 1);
        if (masks.length > count) samplesLeft--;
      }
    }
    const weightLeft = weightVector.slice(full).reduce((a, b) => a + b, 0);
    const sampled = weights.slice(fixed).reduce((a, b) => a + b, 0);
    for (let i = fixed; i < weights.length; i++) weights[i] *= weightLeft / sampled;
  }
  return { masks, weights };
}

/** Explain one instance. */
export async function explainInstance(
  f: ModelFunction,
  x: number[],
  background: number[][],
  backgroundWeights: number[],
  options: KernelShapOptions,
): Promise<InstanceExplanation> {
  const link = linkFn(options.link ?? 'identity');
  const [fx] = await f([x]);
  const fnull = backgroundMean(await f(background), backgroundWeights);
  const outputs = fx.length;
  const width = x.length;
  const varying = x.map((_, j) => j).filter((j) => background.some((row) => row[j] !== x[j]));
  const shapValues = Array.from({ length: outputs }, () => new Array<number>(width).fill(0));
  const expectedValue = fnull.map(link);
  if (varying.length === 0) return { shapValues, expectedValue, prediction: fx, coalitions: 0 };
  if (varying.length === 1) {
    for (let k = 0; k < outputs; k++) shapValues[k][varying[0]] = link(fx[k]) - link(fnull[k]);
    return { shapValues, expectedValue, prediction: fx, coalitions: 0 };
  }
  const m = varying.length;
  const { masks, weights } = kernelCoalitions(m, options.nsamples ?? 2 * width + 2048, options.random);
  // every coalition with every background row: one batch for the model, as alibi sends it
  const rows: number[][] = new Array(masks.length * background.length);
  masks.forEach((mask, s) => {
    background.forEach((b, r) => {
      const row = b.slice();
      for (let i = 0; i < m; i++) if (mask[i]) row[varying[i]] = x[varying[i]];
      rows[s * background.length + r] = row;
    });
  });
  const answers = await f(rows);
  const ey = masks.map((_, s) => backgroundMean(answers, backgroundWeights, s * background.length));
  const last = m - 1;
  const design = new Matrix(masks.map((mask) => Array.from({ length: last }, (_, i) => mask[i] - mask[last])));
  const weighted = new Matrix(masks.map((mask, r) => Array.from({ length: last }, (_, i) => (mask[i] - mask[last]) * weights[r])));
  const normal = weighted.transpose().mmul(design);
  for (let k = 0; k < outputs; k++) {
    const total = link(fx[k]) - link(fnull[k]);
    const target = Matrix.columnVector(masks.map((mask, s) => link(ey[s][k]) - link(fnull[k]) - mask[last] * total));
    const rhs = weighted.transpose().mmul(target);
    // a singular system (few coalitions) gets the least-squares solution, as shap falls back to lstsq
    let phi: number[];
    try {
      phi = solve(normal, rhs).to1DArray();
    } catch {
      phi = solve(normal, rhs, true).to1DArray();
    }
    phi.forEach((v, i) => (shapValues[k][varying[i]] = v));
    shapValues[k][varying[last]] = total - phi.reduce((a, b) => a + b, 0);
  }
  return { shapValues, expectedValue, prediction: fx, coalitions: masks.length };
}
