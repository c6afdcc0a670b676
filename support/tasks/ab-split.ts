/**
 * The A/B split: declared weights, checked against the deployed Experiment, and the observed
 * split tested against them.
 */
import { chiSquareGoodnessOfFit } from '../stats/chi-square.ts';
import { equivalenceSampleSize, shareEquivalence } from '../stats/equivalence.ts';
import { experimentWeights } from '../k8s/manifest-reader.ts';
import type { UatWorld } from '../world.ts';
import { stepInputError } from '../feature-input.ts';
import { routeCounts, sendSnapshots } from './traffic.ts';

/** The weights a stakeholder wrote in the feature (read from its table) must be the ones the Experiment manifest deploys. */
export function declareWeights(world: UatWorld, experiment: string, rows: { predictor: string; weight: number }[]): void {
  const declared = Object.fromEntries(rows.map((r) => [r.predictor, r.weight]));
  const deployed = experimentWeights(world.run.config.manifests, experiment);
  const same = Object.keys(declared).length === Object.keys(deployed).length && Object.entries(declared).every(([k, v]) => deployed[k] === v);
  if (!same) {
    throw stepInputError(world.step, `the feature declares weights ${JSON.stringify(declared)} for ${experiment}, but its manifest deploys ${JSON.stringify(deployed)}; change one of them`);
  }
  world.split.declaredWeights = declared;
}

/** The practical margin a stakeholder accepts between a predictor's share and its weight. */
export function declareMargin(world: UatWorld, percentagePoints: number): void {
  if (!(percentagePoints > 0 && percentagePoints < 50)) throw new Error(`the margin must be between 0 and 50 percentage points, got ${percentagePoints}`);
  world.split.plan = { margin: percentagePoints / 100 };
}

/** Send as many snapshots as the margin, alpha and power need (computed), and record the plan. */
export async function sendPlannedSnapshots(world: UatWorld, target: string, powerPercent: number, alpha: number): Promise<void> {
  const weights = world.split.declaredWeights;
  const margin = world.split.plan?.margin;
  if (!weights || margin === undefined) throw new Error('declare the weights and the margin before sending the planned traffic');
  const power = powerPercent / 100;
  const requests = equivalenceSampleSize(weights, margin, alpha, power);
  world.split.plan = { margin, alpha, power, requests, target };
  await world.attach(
    JSON.stringify({ ...world.split.plan, weights, formula: 'n = (z(1-alpha) + z(1-beta/2))^2 p(1-p) / margin^2, largest p(1-p) over the predictors, alpha split between shares when more than two' }, null, 2),
    { mediaType: 'application/json', fileName: 'split-sample-size.json' },
  );
  await sendSnapshots(world, target, requests);
}

export async function checkSplitEquivalent(world: UatWorld): Promise<void> {
  const weights = world.split.declaredWeights;
  const plan = world.split.plan;
  if (!weights || plan?.alpha === undefined || plan.requests === undefined) throw new Error('no planned split traffic was sent in this scenario');
  // the planned traffic only: any other request of the scenario (another model, a probe) is no evidence of the split
  const responses = world.traffic.sent.filter((t) => t.target === plan.target).flatMap((t) => t.responses).filter((r) => r.status === 200);
  const counts = routeCounts(responses);
  const candidates = Object.keys(weights);
  const strays = Object.keys(counts).filter((m) => !candidates.includes(m));
  const result = shareEquivalence(counts, weights, plan.margin, plan.alpha);
  const chi = chiSquareGoodnessOfFit(candidates.map((c) => counts[c] ?? 0), candidates.map((c) => weights[c]));
  const pp = (x: number): number => Math.round(x * 1e4) / 100;
  await world.check({
    id: 'ab-split-matches-weights',
    statement: `each predictor's share of the traffic is within ${pp(plan.margin)} percentage points of its weight`,
    threshold: `every ${pp(result.confidence)} % confidence interval inside weight ± ${pp(plan.margin)} pp (largest distance < ${pp(plan.margin)} pp)`,
    measured: pp(result.distance),
    unit: 'percentage points',
    source: 'LIVE:oip',
    test: `two one-sided tests (TOST) per share, Wald interval, alpha ${plan.alpha}${result.alphaPerShare !== plan.alpha ? ` (${result.alphaPerShare} per share, Bonferroni)` : ''}, margin ${pp(plan.margin)} pp, n = ${plan.requests} computed for ${pp(plan.power ?? 0)} % power; supporting: Pearson chi-square p = ${chi.pValue.toPrecision(3)}`,
    passed: strays.length === 0 && result.total === plan.requests && result.equivalent,
    details: {
      requestsPlanned: plan.requests,
      answeredByCandidates: result.total,
      shares: Object.fromEntries(result.shares.map((s) => [s.name, { observed: s.observed, share: s.share, weight: s.weightShare, interval: [s.lower, s.upper], tostPValue: s.pValue }])),
      chiSquare: { statistic: chi.statistic, degreesOfFreedom: chi.degreesOfFreedom, pValue: chi.pValue },
      answersFromOutsideTheExperiment: Object.fromEntries(strays.map((s) => [s, counts[s]])),
    },
  });
}
