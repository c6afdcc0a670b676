/**
 * The A/B split: declared weights, checked against the deployed Experiment, and the observed
 * split tested against them.
 */
import { chiSquareGoodnessOfFit } from '../stats/chi-square.ts';
import { experimentWeights } from '../k8s/manifest-reader.ts';
import type { UatWorld } from '../world.ts';
import { allResponses, routeCounts } from './traffic.ts';

/** The weights a stakeholder wrote in the feature must be the ones the Experiment manifest deploys. */
export function declareWeights(world: UatWorld, experiment: string, rows: { predictor: string; weight: string }[]): void {
  const declared = Object.fromEntries(rows.map((r) => [r.predictor, Number(r.weight)]));
  const deployed = experimentWeights(world.run.config.manifests, experiment);
  const same = Object.keys(declared).length === Object.keys(deployed).length && Object.entries(declared).every(([k, v]) => deployed[k] === v);
  if (!same) {
    throw new Error(`the feature declares weights ${JSON.stringify(declared)} for ${experiment}, but its manifest deploys ${JSON.stringify(deployed)}; change one of them`);
  }
  world.declaredWeights = declared;
}

export async function checkSplitMatchesWeights(world: UatWorld, alpha: number): Promise<void> {
  const weights = world.declaredWeights;
  if (!weights) throw new Error('no weights declared in this scenario');
  if (!(alpha > 0 && alpha < 1)) throw new Error(`alpha must be between 0 and 1, got ${alpha}`);
  const responses = allResponses(world).filter((r) => r.status === 200);
  const counts = routeCounts(responses);
  const candidates = Object.keys(weights);
  const strays = Object.keys(counts).filter((m) => !candidates.includes(m));
  const observed = candidates.map((c) => counts[c] ?? 0);
  const result = chiSquareGoodnessOfFit(observed, candidates.map((c) => weights[c]));
  const total = responses.length;
  await world.check({
    id: 'ab-split-matches-weights',
    statement: 'the share of traffic each predictor receives matches the experiment weights',
    threshold: `p-value >= ${alpha}`,
    measured: result.pValue,
    unit: 'p-value',
    source: 'LIVE:oip',
    test: `Pearson chi-square goodness of fit, ${result.degreesOfFreedom} degree(s) of freedom, alpha ${alpha}`,
    passed: strays.length === 0 && result.pValue >= alpha,
    details: {
      requests: total,
      observed: Object.fromEntries(candidates.map((c, i) => [c, observed[i]])),
      observedShare: Object.fromEntries(candidates.map((c, i) => [c, observed[i] / total])),
      expected: Object.fromEntries(candidates.map((c, i) => [c, result.expected[i]])),
      weights,
      chiSquare: result.statistic,
      answersFromOutsideTheExperiment: Object.fromEntries(strays.map((s) => [s, counts[s]])),
    },
  });
}
