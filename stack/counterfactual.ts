/**
 * Counterfactuals of a classifier's call, found black-box (the model is only asked for
 * probabilities, as an explainer asks seldon-mesh): the smallest change to the mutable features of
 * a day, within their plausible ranges, that flips the predicted class. The change is measured as
 * the L1 distance in median-absolute-deviation units (Wachter et al.'s distance).
 *
 * One feature first: for every mutable feature and both directions, a grid from the day's value to
 * the range's end, then bisection between the last point that keeps the call and the first that
 * flips it; the nearest wins. When no single feature flips the call, features are added greedily
 * (each time the one whose move to its range's end shifts the probability most towards the flip),
 * up to `maxFeatures`, the last one bisected.
 */
import type { CounterfactualArtifact } from '../fixtures/explainer-artifact.ts';

/** P(up) per row. */
export type ProbabilityFunction = (rows: number[][]) => Promise<number[]>;

export interface Counterfactual {
  found: boolean;
  row: number[];
  changed: { feature: string; from: number; to: number }[];
  /** Sum over the changed features of |change| / the feature's scale. */
  distance: number;
  originalProbability: number;
  probability: number;
}

const GRID = 32;
const BISECTIONS = 24;

interface Move {
  feature: number;
  /** The value that keeps the call, and the one that flips it (bisected towards each other). */
  keeps: number;
  flips: number;
}

export async function findCounterfactual(f: ProbabilityFunction, x: number[], artifact: CounterfactualArtifact, maxFeatures: number, options: { overshoot?: boolean; stopShort?: boolean } = {}): Promise<Counterfactual> {
  const [p0] = await f([x]);
  const up = p0 > 0.5;
  const flipped = (p: number): boolean => p > 0.5 !== up;
  const mutable = artifact.mutable.map((name) => artifact.featureNames.indexOf(name));
  const clamp = (j: number, v: number): number => Math.min(artifact.ranges[j][1], Math.max(artifact.ranges[j][0], v));
  const withValue = (base: number[], j: number, v: number): number[] => {
    const row = base.slice();
    row[j] = v;
    return row;
  };

  /** For each feature and direction from `base`: the first grid point that flips, bracketed by the one before it. */
  const bracket = async (base: number[], features: number[]): Promise<Move[]> => {
    const lines = features.flatMap((j) => artifact.ranges[j].map((end) => ({ j, start: clamp(j, base[j]), end })).filter((l) => l.end !== base[l.j]));
    const rows = lines.flatMap((l) => Array.from({ length: GRID + 1 }, (_, t) => withValue(base, l.j, l.start + ((l.end - l.start) * t) / GRID)));
    const p = await f(rows);
    const moves: Move[] = [];
    lines.forEach((l, i) => {
      const at = p.slice(i * (GRID + 1), (i + 1) * (GRID + 1)).findIndex(flipped);
      if (at < 0) return;
      const value = (t: number): number => l.start + ((l.end - l.start) * t) / GRID;
      moves.push({ feature: l.j, keeps: at === 0 ? base[l.j] : value(at - 1), flips: value(at) });
    });
    return moves;
  };

  /** Narrow each bracket to the nearest value that still flips. */
  const bisect = async (base: number[], moves: Move[]): Promise<Move[]> => {
    for (let i = 0; i < BISECTIONS && moves.length > 0; i++) {
      const mids = moves.map((m) => (m.keeps + m.flips) / 2);
      const p = await f(moves.map((m, k) => withValue(base, m.feature, mids[k])));
      moves = moves.map((m, k) => (flipped(p[k]) ? { ...m, flips: mids[k] } : { ...m, keeps: mids[k] }));
    }
    return moves;
  };

  const result = async (row: number[]): Promise<Counterfactual> => {
    const [p] = await f([row]);
    const changed = row.flatMap((v, j) => (v !== x[j] ? [{ feature: artifact.featureNames[j], from: x[j], to: v }] : []));
    const distance = row.reduce((s, v, j) => s + Math.abs(v - x[j]) / artifact.scale[j], 0);
    // the stop-short fault reports the point before the boundary as found
    return { found: flipped(p) || options.stopShort === true, row, changed, distance, originalProbability: p0, probability: p };
  };
  const finish = (base: number[], m: Move): number[] =>
    withValue(base, m.feature, options.overshoot ? clamp(m.feature, m.flips + (m.flips - base[m.feature])) : options.stopShort ? m.keeps : m.flips);

  // one feature
  const single = await bisect(x, await bracket(x, mutable));
  if (single.length > 0) {
    const best = single.reduce((a, b) => (Math.abs(b.flips - x[b.feature]) / artifact.scale[b.feature] < Math.abs(a.flips - x[a.feature]) / artifact.scale[a.feature] ? b : a));
    return result(finish(x, best));
  }
  // several, greedily
  let current = x.slice();
  const used = new Set<number>();
  for (let step = 1; step < maxFeatures; step++) {
    const options = mutable.filter((j) => !used.has(j)).flatMap((j) => artifact.ranges[j].map((end) => withValue(current, j, end)).map((row) => ({ j, row })));
    if (options.length === 0) break;
    const p = await f(options.map((o) => o.row));
    const towards = (q: number): number => (up ? -q : q);
    let best = 0;
    options.forEach((_, k) => {
      if (towards(p[k]) > towards(p[best])) best = k;
    });
    current = options[best].row;
    used.add(options[best].j);
    const moves = await bisect(current, await bracket(current, mutable.filter((j) => !used.has(j))));
    if (moves.length > 0) {
      const nearest = moves.reduce((a, b) => (Math.abs(b.flips - current[b.feature]) / artifact.scale[b.feature] < Math.abs(a.flips - current[a.feature]) / artifact.scale[a.feature] ? b : a));
      return result(finish(current, nearest));
    }
  }
  return { ...(await result(current)), found: false };
}
