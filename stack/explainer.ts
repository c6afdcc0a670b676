/**
 * MLServer's alibi-explain runtime for a `kernel_shap` explainer: it explains the `predict_proba`
 * of the Model its `modelRef` names over the background set of its artifact, and answers with
 * alibi's Explanation (`meta`, `data`) as JSON, which the gateway puts in one BYTES output
 * `explanation`, as the runtime does.
 *
 * Per-request options come in the request's `parameters.explain_parameters`, as alibi's
 * `explain()` keyword arguments: `nsamples` (coalitions per instance). Each explainer draws its
 * coalitions from one seeded stream (alibi's KernelShap seeds NumPy once, at load): repeated
 * calls draw on, so their values differ by the sampling error and a run repeats exactly.
 */
import type { ExplainerArtifact } from '../fixtures/explainer-artifact.ts';
import { explainInstance, type InstanceExplanation, type ModelFunction } from './kernel-shap.ts';
import { OipError } from './inference-request.ts';

export const MAX_NSAMPLES = 100_000;

/** The explain options of a request; a bad one is a 400 that names it. */
export function explainOptions(parameters: Record<string, unknown> | null | undefined, width: number): { nsamples: number } {
  const given = parameters?.explain_parameters;
  const fallback = { nsamples: 2 * width + 2048 };
  if (given === undefined || given === null) return fallback;
  if (typeof given !== 'object' || Array.isArray(given)) throw new OipError(400, "parameters.explain_parameters must be an object (alibi's explain() keyword arguments)");
  const unknown = Object.keys(given).find((k) => k !== 'nsamples');
  if (unknown !== undefined) throw new OipError(400, `parameters.explain_parameters.${unknown} is not an option of kernel_shap (options: nsamples)`);
  const { nsamples } = given as { nsamples?: unknown };
  if (nsamples === undefined) return fallback;
  if (typeof nsamples !== 'number' || !Number.isInteger(nsamples) || nsamples < 2 || nsamples > MAX_NSAMPLES) {
    throw new OipError(400, `parameters.explain_parameters.nsamples must be an integer from 2 to ${MAX_NSAMPLES}, got ${JSON.stringify(nsamples)}`);
  }
  return { nsamples };
}

/** Mean |SHAP| per feature, ranked: alibi's `importances` for one output. */
function ranked(magnitudes: number[], names: string[]): { ranked_effect: number[]; names: string[] } {
  const order = magnitudes.map((_, j) => j).sort((a, b) => magnitudes[b] - magnitudes[a]);
  return { ranked_effect: order.map((j) => magnitudes[j]), names: order.map((j) => names[j]) };
}

export async function explainRows(
  artifact: ExplainerArtifact,
  f: ModelFunction,
  rows: number[][],
  options: { nsamples: number; random: () => number; scaleShap?: number },
): Promise<Record<string, unknown>> {
  const explained: InstanceExplanation[] = [];
  for (const x of rows) explained.push(await explainInstance(f, x, artifact.background, artifact.backgroundWeights, { nsamples: options.nsamples, link: artifact.link, random: options.random }));
  const outputs = explained[0].expectedValue.length;
  // one n_instances x n_features array per output, as alibi's shap_values; the fault scales them
  const shapValues = Array.from({ length: outputs }, (_, k) => explained.map((e) => e.shapValues[k].map((v) => v * (options.scaleShap ?? 1))));
  const names = artifact.featureNames;
  const magnitude = shapValues.map((perRow) => names.map((_, j) => perRow.reduce((s, r) => s + Math.abs(r[j]), 0) / perRow.length));
  const importances: Record<string, unknown> = Object.fromEntries(magnitude.map((m, k) => [String(k), ranked(m, names)]));
  importances.aggregated = ranked(names.map((_, j) => magnitude.reduce((s, m) => s + m[j], 0)), names);
  return {
    meta: {
      name: 'KernelShap',
      type: ['blackbox'],
      task: 'classification',
      explanations: ['local', 'global'],
      params: { link: artifact.link, group_names: null, grouped: false, groups: null, weights: null, summarise_background: false, summarise_result: null, transpose: false, kwargs: { nsamples: options.nsamples } },
      version: 'financial-mlops-uat/kernel-shap@1',
    },
    data: {
      shap_values: shapValues,
      expected_value: explained[0].expectedValue,
      categorical_names: {},
      feature_names: names,
      raw: {
        raw_prediction: explained.map((e) => e.prediction),
        prediction: explained.map((e) => e.prediction.indexOf(Math.max(...e.prediction))),
        instances: rows,
        importances,
      },
    },
  };
}
