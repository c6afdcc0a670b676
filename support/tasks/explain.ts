/**
 * The SHAP explainers (k8s/explainer): Models with `spec.explainer` (kernel_shap) whose answer is
 * one BYTES output `explanation` holding alibi's Explanation JSON, as MLServer's alibi-explain
 * runtime answers. The criteria check the explanations against the mathematics, not against the
 * explainer's own output: additivity against the probability the explained model serves, and
 * KernelSHAP against exact Shapley values enumerated from the served model's own answers.
 */
import { quantile } from 'simple-statistics';
import { z } from 'zod';
import { DEFAULT_TRAINING, marketDataFor, PREDICTOR_SPECS } from '../../fixtures/train-predictors.ts';
import { buildExplainerArtifact } from '../../fixtures/explainer-artifact.ts';
import { FEATURE_NAMES } from '../../fixtures/market-data.ts';
import { featuresRequest, type OipClient } from '../clients/oip-client.ts';
import { servedProbabilities } from '../clients/served-predictions.ts';
import { readManifests } from '../k8s/manifest-reader.ts';
import { coalitionRows, exactShapley } from '../stats/shapley.ts';
import type { UatWorld } from '../world.ts';

const READY_DEADLINE_MS = 60_000;

/** alibi's Explanation, the fields the criteria read. */
const explanationSchema = z.object({
  meta: z.looseObject({ name: z.string() }),
  data: z.looseObject({
    shap_values: z.array(z.array(z.array(z.number()))),
    expected_value: z.array(z.number()),
    feature_names: z.array(z.string()),
  }),
});
export type Explanation = z.infer<typeof explanationSchema>;

export interface ExplainedDay {
  day: number;
  row: number[];
  explanation: Explanation;
  latencyMs: number;
}

export interface ExplainState {
  explainer?: string;
  explained?: ExplainedDay[];
}

/** The explanation in an explainer's OIP answer; the error says what is missing. */
export function parseExplanation(body: unknown): Explanation {
  const output = (body as { outputs?: { name: string; datatype: string; data: unknown[] }[] } | undefined)?.outputs?.find((o) => o.name === 'explanation');
  if (!output) throw new Error(`the answer has no output 'explanation': ${JSON.stringify(body).slice(0, 200)}`);
  if (output.datatype !== 'BYTES' || typeof output.data[0] !== 'string') throw new Error(`output 'explanation' must be one BYTES string, got ${output.datatype}`);
  const parsed = explanationSchema.safeParse(JSON.parse(output.data[0]));
  if (!parsed.success) throw new Error(`the explanation is not alibi's shape: field '${parsed.error.issues[0].path.join('.')}': ${parsed.error.issues[0].message}`);
  return parsed.data;
}

/** One explanation of one row, and how long the explainer took to answer. */
export async function explainRow(oip: OipClient, explainer: string, row: number[]): Promise<{ explanation: Explanation; latencyMs: number }> {
  const answer = await oip.infer(explainer, featuresRequest([row]));
  if (answer.status !== 200) throw new Error(`${explainer} answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 300)}`);
  return { explanation: parseExplanation(answer.body), latencyMs: answer.latencyMs };
}

function explainerModelRef(world: UatWorld, explainer: string): string {
  const manifest = readManifests(world.run.config.manifests).find((r) => r.kind === 'Model' && r.name === explainer);
  const ref = (manifest?.spec as { explainer?: { modelRef?: string } } | undefined)?.explainer?.modelRef;
  if (!ref) throw new Error(`no Model ${explainer} with spec.explainer.modelRef in the deployed manifests (${world.run.config.manifests.join(', ')})`);
  return ref;
}

/** The explainer and the model it explains are Ready; the manifest's modelRef names that model. */
export async function requireExplainer(world: UatWorld, explainer: string, model: string): Promise<void> {
  const ref = explainerModelRef(world, explainer);
  if (ref !== model) throw new Error(`${explainer} explains ${ref} (spec.explainer.modelRef), not ${model}`);
  await Promise.all([world.status.waitFor('Model', model, 'Ready', 'True', READY_DEADLINE_MS), world.status.waitFor('Model', explainer, 'Ready', 'True', READY_DEADLINE_MS)]);
  world.explain.explainer = explainer;
}

function heldOutRows(world: UatWorld, count: number): number[][] {
  const { heldOut } = marketDataFor({ seed: world.target.seed, ...DEFAULT_TRAINING });
  if (count > heldOut.length) throw new Error(`only ${heldOut.length} held-out days`);
  return heldOut.slice(0, count).map((d) => d.features);
}

/** Each of `count` held-out days explained `times` times, one request at a time. */
export async function explainDays(world: UatWorld, explainer: string, count: number, times = 1): Promise<void> {
  const rows = heldOutRows(world, count);
  const explained: ExplainedDay[] = [];
  for (const [day, row] of rows.entries()) {
    for (let t = 0; t < times; t++) explained.push({ day, row, ...(await explainRow(world.oip, explainer, row)) });
  }
  world.explain.explainer = explainer;
  world.explain.explained = explained;
}

function explainedDays(world: UatWorld): ExplainedDay[] {
  const explained = world.explain.explained;
  if (!explained?.length) throw new Error('no day was explained in this scenario');
  return explained;
}

const round = (x: number, digits = 6): number => Number(x.toPrecision(digits));

/** Additivity (local accuracy): expected value + sum of SHAP values = the served probability, for both classes. */
export async function checkAdditivity(world: UatWorld, model: string, tolerance: number): Promise<void> {
  const explained = explainedDays(world);
  const served = await servedProbabilities(world.oip, model, explained.map((e) => e.row));
  const errors = explained.map((e, i) => {
    const target = [1 - served[i], served[i]];
    return Math.max(...e.explanation.data.shap_values.map((perRow, k) => Math.abs(e.explanation.data.expected_value[k] + perRow[0].reduce((a, b) => a + b, 0) - target[k])));
  });
  const worst = Math.max(...errors);
  await world.check({
    id: 'explainer-additivity',
    statement: `for every explained day, the expected value plus the SHAP values of ${world.explain.explainer} is the probability ${model} serves`,
    threshold: `largest |expected_value + sum(shap_values) - predict_proba| <= ${tolerance}, both classes`,
    measured: round(worst, 3),
    unit: 'probability',
    source: 'LIVE:oip',
    passed: explained.every((e) => e.explanation.data.shap_values.length === 2) && worst <= tolerance,
    details: { days: explained.length, meanError: round(errors.reduce((a, b) => a + b, 0) / errors.length, 3), explainer: world.explain.explainer },
  });
}

/**
 * KernelSHAP against the exact interventional Shapley values: the explained model's served
 * probabilities for every coalition of the features it uses with every background row (the
 * explainer's background: the seeded sample of the training days), enumerated.
 */
export async function checkAgainstExact(world: UatWorld, model: string, tolerance: number): Promise<void> {
  const explained = explainedDays(world);
  const explainer = world.explain.explainer!;
  const spec = PREDICTOR_SPECS.find((p) => p.name === model);
  if (!spec) throw new Error(`${model} is not one of the trained predictors (${PREDICTOR_SPECS.map((p) => p.name).join(', ')})`);
  const players = spec.features.map((f) => FEATURE_NAMES.indexOf(f));
  const { train } = marketDataFor({ seed: world.target.seed, ...DEFAULT_TRAINING });
  const { background, backgroundWeights } = buildExplainerArtifact(explainer, train, world.target.seed);
  let worst = 0;
  let worstUnused = 0;
  let largestExact = 0;
  for (const e of explained) {
    const outputs = await servedProbabilities(world.oip, model, coalitionRows(e.row, background, players));
    const exact = exactShapley(outputs, background, backgroundWeights, players, FEATURE_NAMES.length);
    largestExact = Math.max(largestExact, ...exact.phi.map(Math.abs));
    e.explanation.data.shap_values[1][0].forEach((v, j) => {
      const error = Math.abs(v - exact.phi[j]);
      worst = Math.max(worst, error);
      if (!players.includes(j)) worstUnused = Math.max(worstUnused, Math.abs(v));
    });
  }
  await world.check({
    id: 'kernel-shap-matches-exact',
    statement: `the SHAP values of ${explainer} are the exact Shapley values of ${model}, within the sampling error`,
    threshold: `largest |KernelSHAP - exact Shapley value| <= ${tolerance}, every feature of every explained day`,
    measured: round(worst, 3),
    unit: 'probability',
    source: 'LIVE:oip',
    test: `exact interventional Shapley values enumerated over the ${players.length} features ${model} uses (2^${players.length} coalitions x ${background.length} background days, its served predict_proba); the other ${FEATURE_NAMES.length - players.length} features are null players (exactly 0)`,
    passed: worst <= tolerance,
    details: { days: explained.length, largestExactValue: round(largestExact, 3), largestValueOfAnUnusedFeature: round(worstUnused, 3), features: spec.features },
  });
}

/** The top features (by |SHAP| for an up day) of each day are the same in every explanation of it. */
export async function checkTopFeaturesStable(world: UatWorld, top: number): Promise<void> {
  const explained = explainedDays(world);
  const tops = new Map<number, string[][]>();
  for (const e of explained) {
    const values = e.explanation.data.shap_values[1][0];
    const order = values.map((_, j) => j).sort((a, b) => Math.abs(values[b]) - Math.abs(values[a]));
    const names = order.slice(0, top).map((j) => e.explanation.data.feature_names[j]).sort();
    tops.set(e.day, [...(tops.get(e.day) ?? []), names]);
  }
  const unstable = [...tops.entries()].filter(([, sets]) => sets.some((s) => s.join() !== sets[0].join())).map(([day, sets]) => ({ day, sets }));
  const repeats = Math.min(...[...tops.values()].map((s) => s.length));
  await world.check({
    id: 'explainer-top-features-stable',
    statement: `repeated explanations of a day by ${world.explain.explainer} name the same top ${top} features`,
    threshold: `days whose top ${top} features differ between explanations = 0`,
    measured: unstable.length,
    unit: 'days',
    source: 'LIVE:oip',
    passed: repeats >= 2 && unstable.length === 0,
    details: { days: tops.size, explanationsPerDay: repeats, unstable, topFeatures: Object.fromEntries([...tops.entries()].map(([d, s]) => [d, s[0]])) },
  });
}

/** The 95th percentile of the time one explanation took, as the client saw it. */
export async function checkExplanationLatency(world: UatWorld, thresholdMs: number): Promise<void> {
  const latencies = explainedDays(world).map((e) => e.latencyMs);
  const p95 = quantile(latencies, 0.95);
  await world.check({
    id: 'explainer-p95-latency',
    statement: `an explanation by ${world.explain.explainer} comes back within ${thresholdMs} ms at the 95th percentile`,
    threshold: `P95 of one explanation's time < ${thresholdMs} ms`,
    measured: round(p95, 4),
    unit: 'ms',
    source: 'LIVE:oip',
    passed: p95 < thresholdMs,
    details: { explanations: latencies.length, medianMs: round(quantile(latencies, 0.5), 4), maxMs: round(Math.max(...latencies), 4) },
  });
}
